// The depth lab's speed in the browser: median ms per step of each benchmark workload
// (crate/src/seed.rs WORKLOADS) on both flex modules, in headless Chromium: initlab_flex and
// initlab_flex_relaxed (relaxed SIMD, what the page runs in Chromium; the same numbers). The
// two take turns in blocks of 10 steps, so both see the same state of the machine. Prints JSON.
//
//   node bench/stack.mjs [--steps 30]

import { launch, serve } from "../tests/helpers/browser.mjs";

const args = process.argv.slice(2);
const steps = Number(args.includes("--steps") ? args[args.indexOf("--steps") + 1] : "30");

// The same configs as `initlab bench --workload …` (crate/src/seed.rs).
const WORKLOADS = {
  seed: {},
  deep: { arch: "stack", depth: 12, channels: 8, norm: "none", height: 32, width: 32 },
  deep_bn: { arch: "stack", depth: 8, channels: 16, norm: "batch", height: 64, width: 64 },
};

const server = await serve();
const browser = await launch();
const page = await browser.newPage();
await page.goto(`${server.url}tests/helpers/blank.html`);
const result = await page.evaluate(async ({ workloads, steps }) => {
  // Output key → module.
  const modules = {};
  for (const [key, name] of [["browser_flex", "initlab_flex"], ["browser_flex_relaxed", "initlab_flex_relaxed"]]) {
    modules[key] = await import(`/www/pkg/${name}.js`);
    await modules[key].default();
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const out = Object.fromEntries(Object.keys(modules).map((key) => [key, {}]));
  for (const [workload, config] of Object.entries(workloads)) {
    const runs = {};
    for (const [key, m] of Object.entries(modules)) {
      runs[key] = { e: await m.Experiment.create({ ...config, epochs: steps + 30 }, "flex"), times: [] };
      for (let i = 0; i < 30; i++) await runs[key].e.step(); // warm-up: let V8 tier the module up
    }
    for (let block = 0; block < steps / 10; block++) {
      for (const run of Object.values(runs)) {
        for (let i = 0; i < 10; i++) {
          const t = performance.now();
          await run.e.step();
          run.times.push(performance.now() - t);
        }
      }
    }
    for (const [key, run] of Object.entries(runs)) {
      run.e.free();
      out[key][workload] = { median_ms: median(run.times), min_ms: Math.min(...run.times), steps: run.times.length };
    }
  }
  return out;
}, { workloads: WORKLOADS, steps });
console.log(JSON.stringify(result));
await browser.close();
await server.close();
