// The depth lab's module API in the browser: stack configs, per-layer records, the backward
// maps, and the engine's messages for bad stack settings. (Parity of every stack fixture on
// flex and ndarray is in module.test.mjs, on WebGPU in webgpu.test.mjs.)

import { test } from "node:test";
import assert from "node:assert/strict";
import { useBrowser, useModule } from "./helpers/browser.mjs";

const ctx = useBrowser();
/** blank.html with the full module as `window.m`. */
const module = useModule(ctx);

test("configFields comes from the engine's table, stack keys included", async () => {
  const fields = await module.page.evaluate(() => window.m.configFields());
  const byKey = Object.fromEntries(fields.map((f) => [f.key, f]));
  for (const key of ["depth", "channels", "norm", "activation", "bias", "head_activation", "target", "init_noise", "trainable"]) {
    assert.equal(byKey[key]?.stack_only, true, key);
  }
  assert.deepEqual([byKey.depth.min, byKey.depth.max], [1, 32]);
  assert.deepEqual(byKey.activation.choices, ["relu", "tanh", "sigmoid", "linear"]);
  assert.ok(byKey.init.choices.includes("orthogonal"));
  assert.equal(byKey.arch.default, "two_conv");
  assert.equal(byKey.lr.stack_only, false);
});

test("a stack step records every layer as an array, and zero init freezes it exactly", async () => {
  const result = await module.page.evaluate(async () => {
    const e = await window.m.Experiment.create({ arch: "stack", depth: 5, channels: 6, init: "zeros", height: 12, width: 10, epochs: 3 });
    const records = [];
    for (let i = 0; i < 3; i++) records.push(await e.step());
    const snapshot = e.snapshot();
    const maps = await e.blockMaps(snapshot.params.map(({ name, value }) => ({ name, value })));
    e.free();
    return {
      records,
      names: snapshot.params.map((p) => p.name),
      convGrads: snapshot.params.filter((p) => p.name.endsWith(".weight") && p.name.startsWith("conv")).map((p) => p.grad.every((g) => g === 0)),
      maps: { height: maps.height, width: maps.width, blocks: maps.blocks.map((b) => ({ channels: b.channels, len: b.conv.length, convGradZero: b.conv_grad.every((g) => g === 0), outputGradZero: b.output_grad.every((g) => g === 0) })) },
    };
  });
  const r = result.records[2];
  for (const key of ["conv_mean", "conv_var", "conv_grad_norm", "act_mean", "act_std", "act_grad_norm"]) {
    assert.ok(Array.isArray(r[key]) && r[key].length === 5, key);
  }
  assert.equal(r.bias_grad_norm, undefined, "no biases, no bias key");
  assert.ok(Math.abs(r.loss - Math.log(3)) < 1e-6);
  assert.deepEqual(r.conv_grad_norm, [0, 0, 0, 0, 0]);
  assert.deepEqual(result.convGrads, [true, true, true, true, true]);
  assert.equal(result.names[0], "conv1.weight");
  assert.equal(result.names.length, 5 * 3);
  assert.equal(result.maps.blocks.length, 5);
  assert.deepEqual(result.maps.blocks.map((b) => b.channels), [6, 6, 6, 6, 3]);
  assert.equal(result.maps.blocks[0].len, 6 * 12 * 10);
  assert.ok(result.maps.blocks.every((b) => b.convGradZero), "∂L/∂f is exactly 0 at every conv");
  assert.deepEqual(result.maps.blocks.map((b) => b.outputGradZero), [true, true, true, true, false]);
  assert.deepEqual(module.problems.console, []);
});

test("bad stack settings reject with the engine's message", async () => {
  const cases = [
    [{ arch: "stack", depth: 0 }, "depth: "],
    [{ arch: "stack", depth: 33 }, "depth: "],
    [{ arch: "stack", channels: 33 }, "channels: "],
    [{ arch: "stack", activation: "gelu" }, "activation: "],
    [{ arch: "stack", norm: "none", trainable: "norm_only" }, "trainable: "],
    [{ arch: "stack", init_noise: -1 }, "init_noise: "],
    [{ depth: 4 }, "depth: only for arch"],
    [{ arch: "stack", depth: 32, channels: 32 }, "depth: batch × height × width"],
  ];
  for (const [config, expect] of cases) {
    const message = await module.page.evaluate(async (config) => {
      try {
        await window.m.Experiment.create(config);
        return "accepted";
      } catch (error) {
        return error.message;
      }
    }, config);
    assert.ok(message.startsWith(expect), `${JSON.stringify(config)}: ${message}`);
  }
  assert.deepEqual(module.problems.console, []);
});
