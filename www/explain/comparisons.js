// The explanation's own runs: what each of its buttons trains, with the page's current
// settings (image size, lr, epochs, seed, ...) for everything the comparison does not fix.
// Each entry maps the settings to [run key, engine config] pairs; the run's name is the
// i18n key `run.<key>`.

import { configOf, presetConfig } from "../state.js";

/** The seed's two_conv written as a stack (shared/reference: "The generalised network"). */
function stack(settings, overrides) {
  return {
    ...configOf(settings),
    arch: "stack",
    depth: 2,
    channels: 3,
    norm: "batch",
    activation: "relu",
    bias: false,
    head_activation: true,
    target: "constant",
    init_noise: 0,
    trainable: "all",
    ...overrides,
  };
}

/**
 * With accumulated gradients the update after t steps is lr · Σ g, so with a steady gradient
 * the displacement after T steps grows like lr·T²/2 instead of lr·T: the bug acts like a
 * learning rate about T/2 times larger. `lrFactor` is that factor for these settings.
 */
export const lrFactor = (epochs) => Math.max(1, Math.round(epochs / 2));

export const COMPARISONS = {
  /** The fair 2×2 ({constant 5, Kaiming} × zero_grad {off, on}), and the fix at lr × T/2. */
  zero_grad: (settings) => {
    const c5 = presetConfig(settings, "constant5");
    const kaiming = presetConfig(settings, "kaiming");
    return [
      ["c5_bug", { ...c5, zero_grad: false }],
      ["c5_fix", { ...c5, zero_grad: true }],
      ["kai_bug", { ...kaiming, zero_grad: false }],
      ["kai_fix", { ...kaiming, zero_grad: true }],
      ["kai_fix_lr", { ...kaiming, zero_grad: true, lr: kaiming.lr * lrFactor(kaiming.epochs) }],
    ];
  },
  /** The same constant init at two sizes: BatchNorm's forward pass cannot tell them apart. */
  bn_scale: (settings) => {
    const base = presetConfig(settings, "constant5");
    return [["bn_c05", { ...base, init_value: 0.5 }], ["bn_c5", { ...base, init_value: 5 }]];
  },
  /** Constant 5 with only BatchNorm's weights and biases trained, against all parameters. */
  norm_only: (settings) => [
    ["bn_only", stack(settings, { init: "constant", init_value: 5, trainable: "norm_only" })],
    ["bn_all", stack(settings, { init: "constant", init_value: 5 })],
  ],
  /** Zero init without the ReLU on the logits: bn2's bias alone can fit the constant target. */
  no_head_act: (settings) => [["no_head", stack(settings, { init: "zeros", init_value: null, head_activation: false })]],
  /** One zero-init conv→BN→ReLU block: the control the seed's single_conv should have been. */
  single_block: (settings) => [["one_block", stack(settings, { depth: 1, init: "zeros", init_value: null })]],
};
