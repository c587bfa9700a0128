// The depth lab's lessons: each preset is a base config, the runs it compares (variants of
// that config) and a claim computed from those runs alone. Pure data and arithmetic, no DOM,
// so the claims are tested in Node against hand-made runs as well as live in the browser.
//
// A claim returns `{holds, values}`: `holds` true or false from the numbers, or null when the
// model on screen lacks what the claim is about (then `values.absent` says what); `values` fill
// the sentence (lab.claim.<id> in strings.js), so every number said is one of the run's. A
// lesson can be run again over the reader's settings: its `premise` lists the settings its
// sentence names in words ("ReLU layers without BatchNorm"), and where the runs have others
// the sentence is not said of them (see judge).
//
// The configs were checked in PyTorch 2.15 over several seeds before they were written here
// (bench/lab_presets.py); the thresholds are the claims' own words, not tuned to one seed.

/** The lab's defaults: a deep plain ReLU net on a per-pixel task, small enough to run live. */
export const LAB_DEFAULTS = {
  depth: 8,
  channels: 8,
  norm: "none",
  activation: "relu",
  bias: false,
  head_activation: true,
  target: "input_argmax",
  init: "kaiming_normal",
  init_value: null,
  init_noise: 0,
  trainable: "all",
  batch: 1,
  height: 32,
  width: 32,
  label: 2,
  lr: 0.05,
  momentum: 0.9,
  epochs: 30,
  zero_grad: true,
  seed: 0,
};

/** The seed's net written as a stack (two_conv == depth 2, 3 channels, BN, ReLU). */
const SEED_NET = {
  depth: 2, channels: 3, norm: "batch", activation: "relu", bias: false, head_activation: true,
  target: "constant", init_noise: 0, trainable: "all", batch: 1, height: 224, width: 224, label: 2,
  lr: 0.01, momentum: 0.1, epochs: 40, zero_grad: false, seed: 0,
};

export const LAB_PRESETS = [
  {
    id: "zeros",
    base: { ...LAB_DEFAULTS, depth: 6, norm: "batch", init: "zeros", target: "constant", lr: 0.01, momentum: 0.1, zero_grad: false, epochs: 20 },
    variants: [{}],
    claim: ([run]) => {
      const grads = run.records.conv_grad_norm;
      const max = maxOf(grads.flat());
      return { holds: max === 0, values: { layers: run.config.depth, epochs: grads.length, max, loss: run.records.loss.at(-1) } };
    },
  },
  {
    id: "sigmoid",
    premise: { activation: ["sigmoid"], init: ["zeros"] },
    base: { ...LAB_DEFAULTS, depth: 3, channels: 4, activation: "sigmoid", init: "zeros", target: "constant", height: 24, width: 32, lr: 0.5, epochs: 40 },
    variants: [{}],
    claim: ([run]) => {
      const depth = run.config.depth;
      if (depth < 2) return { holds: null, values: { absent: "hidden" } };
      const first = run.records.conv_grad_norm[0];
      const top = first[depth - 1];
      const below = maxOf(first.slice(0, -1));
      const spread = hiddenFilterSpread(lastSnapshot(run), run.config);
      return {
        holds: top > 0 && below === 0 && spread.relative <= SAME_TO_ROUNDING,
        values: { top, depth, below, spread: spread.max, channels: run.config.channels },
      };
    },
  },
  {
    id: "tanh_bias",
    base: { ...LAB_DEFAULTS, depth: 4, channels: 4, activation: "tanh", bias: true, init: "zeros", target: "constant", height: 24, width: 24, lr: 0.1, momentum: 0.1, zero_grad: false, epochs: 40 },
    variants: [{}],
    claim: ([run]) => {
      const bias = run.records.bias_grad_norm;
      if (!bias) return { holds: null, values: { absent: "bias" } };
      const depth = run.config.depth;
      const weights = maxOf(run.records.conv_grad_norm.flat());
      const lower = maxOf(bias.flatMap((layers) => layers.slice(0, -1)));
      const last = bias[0][depth - 1];
      const [from, to] = [run.records.loss[0], run.records.loss.at(-1)];
      return { holds: weights === 0 && lower === 0 && last > 0 && to < from, values: { weights, lower, last, depth, from, to } };
    },
  },
  {
    id: "no_head",
    premise: { head_activation: [false], norm: ["batch"] },
    base: { ...SEED_NET, head_activation: false, init: "zeros", init_value: null },
    variants: [{}],
    claim: ([run]) => {
      const [from, to] = [run.records.loss[0], run.records.loss.at(-1)];
      const grads = maxOf(run.records.conv_grad_norm.flat());
      const moved = maxOf([...run.records.conv_mean.flat(), ...run.records.conv_var.flat()].map(Math.abs));
      return { holds: to < from && grads === 0 && moved === 0, values: { from, to, grads, moved } };
    },
  },
  {
    id: "bn_fits",
    premise: { init: ["constant"], norm: ["batch"] },
    base: { ...SEED_NET, init: "constant", init_value: 5 },
    variants: [{ trainable: "all" }, { trainable: "norm_only" }],
    claim: ([full, normOnly]) => {
      const [a, b] = [full.records.loss.at(-1), normOnly.records.loss.at(-1)];
      const start = full.records.loss[0];
      // "Reaches the full model's loss": within 1% of it, and both well below where they began.
      return { holds: Math.abs(a - b) <= 0.01 * a && b < start, values: { full: a, normOnly: b, start, gap: Math.abs(a - b), value: full.config.init_value } };
    },
  },
  {
    id: "symmetry",
    premise: { init: ["constant"] },
    base: { ...LAB_DEFAULTS, depth: 2, channels: 3, norm: "batch", init: "constant", init_value: 0.5, lr: 0.5, epochs: 100 },
    variants: [{ init_noise: 0 }, { init_noise: 0.01 }],
    claim: ([exact, noisy]) => {
      if (exact.config.depth < 2) return { holds: null, values: { absent: "hidden" } };
      const spread = hiddenFilterSpread(lastSnapshot(exact), exact.config);
      const [a, b] = [exact.records.accuracy.at(-1), noisy.records.accuracy.at(-1)];
      return {
        holds: spread.relative <= SAME_TO_ROUNDING && b > a,
        values: { spread: spread.max, value: exact.config.init_value, noise: noisy.config.init_noise, exact: a, noisy: b },
      };
    },
  },
  {
    id: "he2015",
    premise: { activation: ["relu"], norm: ["none"] },
    base: { ...LAB_DEFAULTS, depth: 12, lr: 0.1, epochs: 40 },
    variants: [{ init: "xavier_normal" }, { init: "kaiming_normal" }],
    claim: ([xavier, kaiming]) => {
      if (xavier.config.depth < 3) return { holds: null, values: { absent: "depth3" } };
      const [rx, rk] = [perLayerRatio(xavier), perLayerRatio(kaiming)];
      const [lx, lk] = [xavier.records.loss.at(-1), kaiming.records.loss.at(-1)];
      const std = (run) => run.records.act_std[0];
      return {
        holds: rx < rk && lk < lx,
        values: { rx, rk, lx, lk, depth: xavier.config.depth, x1: std(xavier)[0], xn: std(xavier).at(-2), k1: std(kaiming)[0], kn: std(kaiming).at(-2) },
      };
    },
  },
  {
    id: "glorot2010",
    premise: { activation: ["tanh", "sigmoid"], norm: ["none"] },
    base: { ...LAB_DEFAULTS, activation: "tanh" },
    variants: [{ init: "normal", init_value: 1 }, { init: "xavier_normal", init_value: null }],
    claim: ([normal, xavier]) => {
      const hiddenStd = (run) => mean(run.records.act_std[0].slice(0, -1));
      const gradSpan = (run) => span(run.records.conv_grad_norm[0]);
      const [sn, sx, gn, gx] = [hiddenStd(normal), hiddenStd(xavier), gradSpan(normal), gradSpan(xavier)];
      const [ln, lx] = [normal.records.loss.at(-1), xavier.records.loss.at(-1)];
      return { holds: sn > sx && gn > gx && lx < ln, values: { sn, sx, gn, gx, ln, lx, activation: normal.config.activation } };
    },
  },
];

export const LAB_PRESET_IDS = LAB_PRESETS.map((p) => p.id);

/**
 * A lesson's verdict on its runs: its claim, unless the runs lack a setting its sentence names
 * (its `premise`); then `holds` is null and `values` say which setting, what the sentence
 * assumes and what the runs have.
 */
export function judge(preset, runs) {
  for (const [field, allowed] of Object.entries(preset.premise ?? {})) {
    const value = runs[0].config[field];
    if (!allowed.includes(value)) return { holds: null, values: { absent: "premise", field, allowed, value } };
  }
  return preset.claim(runs);
}

/** Filters that are copies up to rounding: their largest difference, relative to their size. */
const SAME_TO_ROUNDING = 1e-4;

/** The configs a preset runs over the lab's current settings. */
export function presetConfigs(preset, settings) {
  return preset.variants.map((variant) => ({ ...settings, ...variant, arch: "stack" }));
}

/**
 * The largest difference between two filters (output channels) of the same hidden layer, over
 * layers 1..depth−1 (each `channels` wide), from a snapshot's parameters; `relative` divides by the largest |weight|.
 */
export function hiddenFilterSpread(snapshot, { depth, channels }) {
  if (!snapshot) return { max: NaN, relative: NaN }; // no parameters seen: no claim can hold
  let max = 0;
  let scale = 0;
  for (let layer = 1; layer < depth; layer++) {
    const param = snapshot?.params.find((p) => p.name === `conv${layer}.weight`);
    if (!param) continue;
    const values = param.value;
    const size = values.length / channels; // one filter: [in, 3, 3]
    for (let i = 0; i < values.length; i++) {
      scale = Math.max(scale, Math.abs(values[i]));
      max = Math.max(max, Math.abs(values[i] - values[i % size]));
    }
  }
  return { max, relative: scale > 0 ? max / scale : max };
}

/** Geometric mean of the step in activation std from one hidden layer to the next, at epoch 0. */
export function perLayerRatio(run) {
  const std = run.records.act_std[0].slice(0, -1); // the head has 3 channels: leave it out
  return (std.at(-1) / std[0]) ** (1 / (std.length - 1));
}

function lastSnapshot(run) {
  const steps = [...run.snapshots.keys()];
  return steps.length ? run.snapshots.get(Math.max(...steps)) : null;
}

function maxOf(values) {
  let max = 0;
  for (const v of values) max = Math.max(max, v);
  return max;
}

function mean(values) {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Largest over smallest (how many times the values vary across layers). */
function span(values) {
  return Math.max(...values) / Math.min(...values);
}
