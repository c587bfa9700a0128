// The depth lab's claims (www/lab/presets.js) on hand-made runs: each holds where its words
// are true and fails where they are not, so a ✓ on the page can only come from the numbers.
// (The browser tests check the same claims on the engine's real runs.)

import { test } from "node:test";
import assert from "node:assert/strict";
import { LAB_PRESETS, hiddenFilterSpread, judge, perLayerRatio, presetConfigs } from "../www/lab/presets.js";

const preset = (id) => LAB_PRESETS.find((p) => p.id === id);
/** A finished run: `records` by key, per-layer keys as [epoch][layer], one snapshot. */
const run = (config, records, params = []) => ({ config, records, snapshots: new Map([[0, { params }]]) });

test("every preset's runs are stack configs over the lab's settings, the variants on top", () => {
  const settings = { depth: 5, channels: 7, init: "zeros" };
  for (const p of LAB_PRESETS) {
    const configs = presetConfigs(p, { ...settings, ...p.base });
    assert.equal(configs.length, p.variants.length, p.id);
    for (const [i, c] of configs.entries()) {
      assert.equal(c.arch, "stack");
      for (const [k, v] of Object.entries(p.variants[i])) assert.equal(c[k], v, `${p.id}.${k}`);
    }
  }
  assert.equal(presetConfigs(preset("he2015"), { depth: 20 })[1].depth, 20, "the reader's depth is kept");
});

test("zeros: holds only when every weight gradient is exactly 0", () => {
  const config = { depth: 2 };
  const ok = preset("zeros").claim([run(config, { loss: [1.1, 1.1], conv_grad_norm: [[0, 0], [0, 0]] })]);
  assert.deepEqual([ok.holds, ok.values.max, ok.values.layers, ok.values.epochs], [true, 0, 2, 2]);
  const tiny = preset("zeros").claim([run(config, { loss: [1.1, 1.1], conv_grad_norm: [[0, 0], [0, 1e-30]] })]);
  assert.equal(tiny.holds, false, "1e-30 is not exactly 0");
});

test("sigmoid: the top layer's gradient at epoch 0, none below, and copied filters", () => {
  const config = { depth: 2, channels: 2 };
  // conv1.weight: 2 filters of 3·9 values; copies, then one value off
  const same = Array.from({ length: 54 }, (_, i) => (i % 27) / 27);
  const off = same.map((v, i) => (i === 30 ? v + 0.01 : v));
  const records = { conv_grad_norm: [[0, 0.5], [0.1, 0.4]] };
  assert.equal(preset("sigmoid").claim([run(config, records, [{ name: "conv1.weight", value: same }])]).holds, true);
  assert.equal(preset("sigmoid").claim([run(config, records, [{ name: "conv1.weight", value: off }])]).holds, false);
  assert.equal(preset("sigmoid").claim([run(config, { conv_grad_norm: [[1e-9, 0.5]] }, [{ name: "conv1.weight", value: same }])]).holds, false);
  assert.equal(preset("sigmoid").claim([run({ depth: 1, channels: 2 }, { conv_grad_norm: [[0.5]] })]).holds, null);
  assert.ok(Math.abs(hiddenFilterSpread({ params: [{ name: "conv1.weight", value: off }] }, config).max - 0.01) < 1e-12);
});

test("tanh_bias: only the last bias, the loss falls; no biases: not in this model", () => {
  const config = { depth: 3 };
  const base = { loss: [1.1, 0.5], conv_grad_norm: [[0, 0, 0], [0, 0, 0]], bias_grad_norm: [[0, 0, 0.8], [0, 0, 0.6]] };
  assert.equal(preset("tanh_bias").claim([run(config, base)]).holds, true);
  assert.equal(preset("tanh_bias").claim([run(config, { ...base, bias_grad_norm: [[0, 1e-8, 0.8], [0, 0, 0.6]] })]).holds, false);
  assert.equal(preset("tanh_bias").claim([run(config, { ...base, loss: [1.1, 1.2] })]).holds, false);
  const absent = preset("tanh_bias").claim([run(config, { loss: [1], conv_grad_norm: [[0, 0, 0]] })]);
  assert.deepEqual([absent.holds, absent.values.absent], [null, "bias"]);
});

test("no_head: the loss falls while the convs stay exactly 0", () => {
  const zero2 = [[0, 0], [0, 0]];
  const records = { loss: [1.1, 0.01], conv_grad_norm: zero2, conv_mean: zero2, conv_var: zero2 };
  assert.equal(preset("no_head").claim([run({}, records)]).holds, true);
  assert.equal(preset("no_head").claim([run({}, { ...records, conv_var: [[0, 0], [0, 1e-12]] })]).holds, false);
});

test("bn_fits: BN alone within 1% of the full model", () => {
  const full = run({}, { loss: [1.1, 0.5] });
  assert.equal(preset("bn_fits").claim([full, run({}, { loss: [1.1, 0.504] })]).holds, true);
  assert.equal(preset("bn_fits").claim([full, run({}, { loss: [1.1, 0.52] })]).holds, false);
});

test("he2015: Xavier's std shrinks faster and Kaiming ends lower, else it fails", () => {
  const config = { depth: 4 };
  const records = (std, loss) => ({ act_std: [std], loss: [1.1, loss] });
  const xavier = run(config, records([0.4, 0.2, 0.1, 0.3], 1.09));
  const kaiming = run(config, records([0.8, 0.7, 0.6, 0.5], 0.8));
  assert.ok(Math.abs(perLayerRatio(xavier) - 0.5) < 1e-12, "the head (3 channels) is left out");
  assert.equal(preset("he2015").claim([xavier, kaiming]).holds, true);
  assert.equal(preset("he2015").claim([kaiming, xavier]).holds, false);
  assert.equal(preset("he2015").claim([run({ depth: 2 }, {}), run({ depth: 2 }, {})]).holds, null);
});

test("glorot2010: saturation, uneven gradients and a worse loss for N(0, 1)", () => {
  const config = { depth: 3, activation: "tanh" };
  const normal = run(config, { act_std: [[0.95, 0.95, 0.9]], conv_grad_norm: [[10, 1, 0.1]], loss: [1.3, 1.2] });
  const xavier = run(config, { act_std: [[0.5, 0.4, 0.3]], conv_grad_norm: [[0.1, 0.12, 0.1]], loss: [1.1, 0.7] });
  assert.equal(preset("glorot2010").claim([normal, xavier]).holds, true);
  assert.equal(preset("glorot2010").claim([xavier, normal]).holds, false);
});

test("a lesson run again over other settings says its sentence only where the settings it names hold", () => {
  // "Run the lesson again with these settings" with tanh gave "✓ … through 12 ReLU layers …".
  for (const p of LAB_PRESETS) {
    for (const config of presetConfigs(p, p.base)) {
      for (const [field, allowed] of Object.entries(p.premise ?? {})) assert.ok(allowed.includes(config[field]), `${p.id}: its own runs meet ${field}`);
    }
  }
  const he = preset("he2015");
  const tanh = presetConfigs(he, { ...he.base, activation: "tanh" }).map((c) => run(c, {}));
  assert.deepEqual(judge(he, tanh), { holds: null, values: { absent: "premise", field: "activation", allowed: ["relu"], value: "tanh" } });
  const glorot = preset("glorot2010");
  assert.equal(judge(glorot, presetConfigs(glorot, { ...glorot.base, activation: "relu" }).map((c) => run(c, {}))).values.field, "activation");
  const bn = preset("bn_fits");
  const half = presetConfigs(bn, { ...bn.base, init_value: 0.5 }).map((c) => run(c, { loss: [1.1, 0.5] }));
  assert.equal(judge(bn, half).values.value, 0.5, "bn_fits says the runs' constant");
  // Unmet settings the sentence does not name leave the claim to the numbers.
  const deeper = presetConfigs(he, { ...he.base, depth: 4 });
  assert.equal(judge(he, deeper.map((c) => run(c, { act_std: [[1, 0.5, 0.25, 0.2]], loss: [1, 1] }))).values.absent, undefined);
});
