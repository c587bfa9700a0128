// What a run's network is made of, read from its config and its snapshot: which convs and
// BatchNorms are in the graph (a parameter outside it has no gradient, as PyTorch's `.grad` is
// None), and which activation follows them. A claim about a part the model lacks says so.

/** @returns {{convs: string[], top: string, below: string|null, norms: string[], activation: string|null, headActivation: boolean, label: number}} */
export function modelOf(run, snapshot) {
  const params = snapshot?.params ?? [];
  const inGraph = (pattern) => params.filter((p) => pattern.test(p.name) && p.grad).map((p) => p.name.split(".")[0]);
  const convs = inGraph(/^conv\d+\.weight$/);
  const c = run.config;
  const stack = c.arch === "stack";
  return {
    convs,
    top: convs.at(-1),
    below: convs.at(-2) ?? null,
    norms: inGraph(/^bn\d+\.bias$/),
    // single_conv: conv2 gives the logits directly, no BN and no activation.
    activation: stack ? c.activation : c.arch === "two_conv" ? "relu" : null,
    headActivation: stack ? c.head_activation : c.arch === "two_conv",
    // single_conv is conv2 alone, whose f is the logits: the maps are about blocks of
    // conv → BN → act, so that arch has none (its claims use its weights and their gradient).
    hasMaps: c.arch !== "single_conv",
    label: c.label,
  };
}

/** A parameter of a snapshot by name (undefined when the model has none). */
export const param = (snapshot, name) => snapshot?.params.find((p) => p.name === name);

/** The activation as a function, to check what BatchNorm's output became. */
export const ACTIVATIONS = {
  relu: (x) => Math.max(0, x),
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  linear: (x) => x,
};
