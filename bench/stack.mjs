// The depth lab's speed in the browser: median ms per step of each benchmark workload
// (crate/src/seed.rs WORKLOADS) on the flex module the page runs (initlab_flex_fma where relaxed SIMD validates: www/relaxed.js), in headless
// Chromium. Prints JSON: `{"browser_flex": {workload: {median_ms, min_ms, steps}}}`.
//
//   node bench/stack.mjs [--steps 30]

import { launch, serve } from "../tests/helpers/browser.mjs";
import { WORKLOADS } from "./workloads.mjs";

const args = process.argv.slice(2);
const steps = Number(args.includes("--steps") ? args[args.indexOf("--steps") + 1] : "30");

const server = await serve();
const browser = await launch();
const page = await browser.newPage();
await page.goto(`${server.url}tests/helpers/blank.html`);
const result = await page.evaluate(async ({ workloads, steps }) => {
  const m = await import("/www/pkg/initlab_flex.js");
  await m.default({ module_or_path: `/www/pkg/${(await import("/www/relaxed.js")).flexModuleName()}_bg.wasm` });
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const out = { browser_flex: {} };
  for (const [workload, config] of Object.entries(workloads)) {
    const e = await m.Experiment.create({ ...config, epochs: steps + 30 }, "flex");
    for (let i = 0; i < 30; i++) await e.step(); // warm-up: let V8 tier the module up
    const times = [];
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      await e.step();
      times.push(performance.now() - t);
    }
    e.free();
    out.browser_flex[workload] = { median_ms: median(times), min_ms: Math.min(...times), steps: times.length };
  }
  return out;
}, { workloads: WORKLOADS, steps });
console.log(JSON.stringify(result));
await browser.close();
await server.close();
