// The relaxed-SIMD flex module and the probe that picks it (www/relaxed-simd.js), in Node's own
// V8 with relaxed SIMD switched off and on: the probe tells the two apart, and
// initlab_flex_relaxed really holds relaxed-SIMD code (a browser without it cannot compile it,
// so the worker must not try), while initlab_flex compiles either way. That the two give the
// same numbers is checked in Chromium (module.test.mjs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ROOT } from "./helpers/browser.mjs";

/** What `WebAssembly.validate` says of the probe and of each flex module, in a V8 with `flag`. */
function validates(flag) {
  const script = `
    import { readFileSync } from "node:fs";
    import { PROBE } from "./www/relaxed-simd.js";
    const module = (name) => readFileSync("www/pkg/" + name + "_bg.wasm");
    console.log(JSON.stringify({
      probe: WebAssembly.validate(PROBE),
      initlab_flex: WebAssembly.validate(module("initlab_flex")),
      initlab_flex_relaxed: WebAssembly.validate(module("initlab_flex_relaxed")),
    }));`;
  const child = spawnSync(process.execPath, [flag, "--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8" });
  assert.equal(child.status, 0, `node ${flag}: ${child.stderr}`);
  return JSON.parse(child.stdout);
}

test("without relaxed SIMD the probe fails and only the plain flex module compiles", () => {
  assert.deepEqual(validates("--no-experimental-wasm-relaxed-simd"), { probe: false, initlab_flex: true, initlab_flex_relaxed: false });
});

test("with relaxed SIMD the probe passes and both flex modules compile", () => {
  assert.deepEqual(validates("--experimental-wasm-relaxed-simd"), { probe: true, initlab_flex: true, initlab_flex_relaxed: true });
});
