// The wasm module in the browser: its API, and parity with the PyTorch fixtures on every CPU
// backend (the same tolerance as the engine's Rust tests).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT, useBrowser, useModule } from "./helpers/browser.mjs";
import { compareTrajectory } from "./helpers/parity.mjs";

const ctx = useBrowser();
/** blank.html with the module as `window.m`: `{page, problems, backends}`. */
const module = useModule(ctx);

test("availableBackends lists the CPU backends", async () => {
  const backends = await module.page.evaluate(() => window.m.availableBackends());
  assert.deepEqual(backends.slice(0, 2), ["flex", "ndarray"]);
});

test("the seeded inputs are the same bits as natively", async () => {
  // Pinned in crate/src/inputs.rs (seed_zero_stream_is_pinned): same seed, same numbers in wasm.
  const first = await module.page.evaluate(async () => {
    const e = await window.m.Experiment.create({ height: 4, width: 5, epochs: 1 });
    await e.step();
    const conv1 = e.snapshot().params[0].value.slice(0, 2);
    e.free();
    return conv1;
  });
  const native = (await readFile(join(ROOT, "crate/src/inputs.rs"), "utf8")).match(/PINNED_CONV1_HEAD: &str = "([^"]+)"/)[1];
  assert.deepEqual(first.map((x) => Math.fround(x)), native.split(" ").map(Number).map(Math.fround));
});

test("no export runs the modules' constructors (each runs them once, at start)", async () => {
  // A module that never calls __wasm_call_ctors is linked "command-style": the linker wraps
  // every export (`name_command_export`) to run every constructor first. The full module has
  // 4,892 (inventory's, in cubecl's WebGPU compiler), and serde_wasm_bindgen calls an export
  // for every number it hands to JavaScript: a stack's snapshot took seconds. web.rs's `start`
  // calls them once instead.
  for (const name of ["initlab_bg.wasm", "initlab_flex_bg.wasm", "initlab_flex_fma_bg.wasm"]) {
    // Compiled in Chromium: Node 20 does not take the fused build's relaxed SIMD.
    const exports = await module.page.evaluate(async (name) => {
      const compiled = await WebAssembly.compileStreaming(fetch(`/www/pkg/${name}`));
      return WebAssembly.Module.exports(compiled).map((e) => e.name);
    }, name);
    assert.ok(exports.includes("__wbindgen_start"), `${name}: has a start`);
    assert.deepEqual(exports.filter((e) => e.endsWith("command_export")), [], name);
  }
});

/** Every fixture in tests/fixtures, parsed, with its file name. */
async function fixtures() {
  const names = (await readdir(join(ROOT, "tests/fixtures"))).filter((f) => f.endsWith(".json"));
  return Promise.all(names.map(async (name) => ({ name, ...JSON.parse(await readFile(join(ROOT, "tests/fixtures", name), "utf8")) })));
}

/** `fixture` replayed on `backend` by the module at `window[global]` of `page`: `{backend, records}`. */
function replay(page, global, fixture, backend) {
  return page.evaluate(
    async ({ global, tensors, config, backend }) => {
      const bytes = new Uint8Array(await (await fetch(`/tests/fixtures/${tensors}`)).arrayBuffer());
      const e = await window[global].Experiment.fromSafetensors(config, bytes, backend);
      const out = { backend: e.backend, records: [] };
      for (let i = 0; i < config.epochs; i++) out.records.push(await e.step());
      e.free();
      return out;
    },
    { global, tensors: fixture.tensors, config: fixture.config, backend },
  );
}

test("every fixture replays within tolerance on every CPU backend", async () => {
  const all = await fixtures();
  assert.ok(all.length >= 14, "the seed and stack fixtures");
  const failures = [];
  for (const fixture of all) {
    for (const backend of ["flex", "ndarray"]) {
      const ours = await replay(module.page, "m", fixture, backend);
      assert.equal(ours.backend, backend);
      assert.equal(ours.records.length, fixture.trajectory.loss.length);
      failures.push(...compareTrajectory(fixture, ours.records).map((f) => `${backend}: ${f}`));
    }
  }
  assert.deepEqual(failures, []);
  assert.deepEqual(module.problems.console, []);
});

test("every fixture replays within tolerance on the fused flex build, which Chromium runs", async () => {
  // The page's flex module where the browser has relaxed SIMD (www/relaxed.js): the stack's
  // kernels fuse their multiply-adds, so its numbers are not the full module's bits.
  const { page, problems } = await ctx.open("tests/helpers/blank.html", { ready: false });
  const relaxed = await page.evaluate(async () => {
    const { flexModuleName } = await import("/www/relaxed.js");
    window.flex = await import("/www/pkg/initlab_flex.js");
    await window.flex.default({ module_or_path: "/www/pkg/initlab_flex_fma_bg.wasm" });
    return flexModuleName();
  });
  assert.equal(relaxed, "initlab_flex_fma", "Chromium validates relaxed SIMD");
  const failures = [];
  for (const fixture of await fixtures()) {
    const { name } = fixture;
    const { records } = await replay(page, "flex", fixture, "flex");
    failures.push(...compareTrajectory(fixture, records).map((f) => `${name}: ${f}`));
    // Fused or not, a gradient that is exactly 0 in PyTorch is exactly 0 here.
    for (const key of ["conv_grad_norm", "bias_grad_norm", "act_grad_norm"]) {
      (fixture.trajectory[key] ?? []).forEach((layers, step) =>
        layers.forEach((expected, layer) => {
          const got = records[step][key][layer];
          if (expected === 0 && got !== 0) failures.push(`${name}: ${key} step ${step} layer ${layer} is ${got}, not exactly 0`);
        }),
      );
    }
  }
  assert.deepEqual(failures, []);
  assert.deepEqual(problems.console, []);
  await page.close();
});

test("bad configs reject with an Error that names the field", async () => {
  const cases = [
    [{ lr: NaN }, "lr: "],
    [{ lr: -1 }, "lr: "],
    [{ momentum: Infinity }, "momentum: "],
    [{ epochs: 0 }, "epochs: "],
    [{ label: 7 }, "label: "],
    [{ arch: "<img src=x onerror=alert(1)>" }, "arch: "],
    [{ height: 1e9 }, "height: "],
    [{ seed: 1.5 }, "seed: "],
    [{ zero_grad: "perhaps" }, "zero_grad: "],
    [{ nope: 1 }, "nope: unknown field"],
    [[1, 2], "config: "],
    ["lr=1", "config: "],
  ];
  for (const [config, expect] of cases) {
    const result = await module.page.evaluate(async (config) => {
      try {
        await window.m.Experiment.create(config);
        return { ok: true };
      } catch (error) {
        return { ok: false, isError: error instanceof Error, message: error.message };
      }
    }, config);
    assert.equal(result.ok, false, `${JSON.stringify(config)} was accepted`);
    assert.ok(result.isError, "rejects with an Error");
    assert.ok(result.message.startsWith(expect), `${result.message} should start with ${expect}`);
  }
  const bad = await module.page.evaluate(async () => {
    try {
      await window.m.Experiment.create({}, "cuda");
    } catch (error) {
      return error.message;
    }
  });
  assert.match(bad, /^backend: /);
  assert.deepEqual(module.problems.console, [], "no panic reached the console");
});

test("a second step while one is in flight is refused, the first completes", async () => {
  const result = await module.page.evaluate(async () => {
    const e = await window.m.Experiment.create({ height: 32, width: 32 });
    const first = e.step();
    let second;
    try {
      await e.step();
      second = "accepted";
    } catch (error) {
      second = error.message;
    }
    const record = await first;
    const third = await e.step();
    e.free();
    return { second, first: record.step, third: third.step };
  });
  assert.match(result.second, /not finished/);
  assert.equal(result.first, 0);
  assert.equal(result.third, 1);
});
