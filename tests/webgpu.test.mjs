// WebGPU: the module's "webgpu" backend (burn-wgpu) in headless Chromium with
// --enable-unsafe-webgpu (SwiftShader here: slow but real). Fixtures replay within 10× the CPU
// tolerance, including 224² (above the 32,768-pixel line where burn's wgpu conv weight
// gradient went wrong natively); zero init stays exactly zero; without WebGPU the page runs
// on the CPU with no console error.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT, useBrowser, useModule } from "./helpers/browser.mjs";
import { compareTrajectory } from "./helpers/parity.mjs";

const ctx = useBrowser({ webgpu: true });
/** blank.html with the module as `window.m`: `{page, problems, backends}`. */
const module = useModule(ctx);

/** Replays `steps` steps of a fixture on WebGPU; returns the records. */
function replay(fixture, steps) {
  return module.page.evaluate(async ({ tensors, config, steps }) => {
    const bytes = new Uint8Array(await (await fetch(`/tests/fixtures/${tensors}`)).arrayBuffer());
    const e = await window.m.Experiment.fromSafetensors({ ...config, epochs: steps }, bytes, "webgpu");
    const records = [];
    for (let i = 0; i < steps; i++) records.push(await e.step());
    const snapshot = e.snapshot();
    const backend = e.backend;
    e.free();
    return { records, snapshot, backend };
  }, { tensors: fixture.tensors, config: fixture.config, steps });
}

function compare(fixture, records, failures) {
  failures.push(...compareTrajectory(fixture, records, 10));
}

test("Chromium offers WebGPU here", () => {
  assert.ok(module.backends.includes("webgpu"), `availableBackends: ${module.backends}`);
});

test("small fixtures replay on webgpu at every step within 10x the CPU tolerance", async () => {
  const names = (await readdir(join(ROOT, "tests/fixtures"))).filter((f) => f.endsWith(".json"));
  const failures = [];
  let replayed = 0;
  for (const name of names) {
    const fixture = JSON.parse(await readFile(join(ROOT, "tests/fixtures", name), "utf8"));
    const c = fixture.config;
    if (c.batch * c.height * c.width > 10_000) continue; // the 224² seed is the next test
    if (c.arch === "stack") continue; // three of them below
    const { records, backend } = await replay(fixture, c.epochs);
    assert.equal(backend, "webgpu");
    compare(fixture, records, failures);
    replayed += 1;
  }
  assert.ok(replayed >= 3, `${replayed} small fixtures`);
  assert.deepEqual(failures, []);
});

test("three small stack fixtures replay on webgpu at every step within 10x the CPU tolerance", async () => {
  const failures = [];
  for (const name of ["stack_zeros_sigmoid", "stack_zeros_tanh_bias", "stack_constant_noise_argmax"]) {
    const fixture = JSON.parse(await readFile(join(ROOT, `tests/fixtures/${name}.json`), "utf8"));
    const { records, backend } = await replay(fixture, fixture.config.epochs);
    assert.equal(backend, "webgpu");
    compare(fixture, records, failures);
  }
  assert.deepEqual(failures, []);
});

test("the 224² seed (50,176 pixels) replays its first steps on webgpu, conv gradients included", async () => {
  const failures = [];
  for (const name of ["seed_kaiming", "seed_constant5"]) {
    const fixture = JSON.parse(await readFile(join(ROOT, `tests/fixtures/${name}.json`), "utf8"));
    const { records } = await replay(fixture, 3);
    compare(fixture, records, failures);
  }
  assert.deepEqual(failures, []);
});

test("zero init on webgpu: every gradient exactly 0, a flat loss", async () => {
  const fixture = JSON.parse(await readFile(join(ROOT, "tests/fixtures/seed_zeros.json"), "utf8"));
  const small = { ...fixture.config, height: 32, width: 32 };
  const result = await module.page.evaluate(async (config) => {
    const e = await window.m.Experiment.create({ ...config, epochs: 4 }, "webgpu");
    const records = [];
    for (let i = 0; i < 4; i++) records.push(await e.step());
    const snapshot = e.snapshot();
    e.free();
    return { records, snapshot };
  }, small);
  const losses = result.records.map((r) => r.loss);
  assert.ok(losses.every((l) => l === losses[0]), `loss moved: ${losses}`);
  assert.ok(Math.abs(losses[0] - Math.log(3)) < 1e-5);
  for (const p of result.snapshot.params) assert.ok(p.grad.every((g) => g === 0), `${p.name} grad`);
  for (const r of result.records) assert.equal(r.conv1_grad_norm + r.conv2_grad_norm + r.conv1_var + r.conv2_var, 0);
  assert.deepEqual(module.problems.console, []);
});

test("the page without WebGPU (requestAdapter fails) runs everything on the CPU, no console error", async () => {
  // The page asks for the adapter (and tells the worker): make that request fail.
  const { page: p, problems: pp } = await ctx.open("?backend=webgpu&epochs=3&height=16&width=16", {
    initScript: () => {
      Object.defineProperty(Navigator.prototype, "gpu", { get: () => ({ requestAdapter: async () => null }) });
    },
  });
  const data = await p.evaluate(() => window.initlab.runAll());
  assert.equal(data.kaiming.loss.length, 3);
  const backends = await p.evaluate(() => window.initlab.runs.map((r) => r.backend));
  assert.ok(backends.every((b) => b === "flex"), backends.join());
  assert.deepEqual(pp.console, []);
  await p.close();
});
