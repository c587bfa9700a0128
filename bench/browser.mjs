// The browser half of `cargo xtask bench`: headless Chromium runs the wasm module's
// Experiment.step() for each backend, and the page's runAll(), and prints JSON.
//
//   node bench/browser.mjs [--sizes 224,64] [--steps 30] [--webgpu]
//
// Every figure is a median over timed steps after a warm-up long enough for V8 to have
// optimised the module (its first steps run in the baseline compiler).

import { launch, serve } from "../tests/helpers/browser.mjs";
import { FACTS } from "../www/pkg/facts.js";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const sizes = option("sizes", "224").split(",").map(Number);
const steps = Number(option("steps", "30"));
const webgpu = args.includes("--webgpu");
// The blog's seed run: its four experiments (the engine's presets), 40 steps each at 224².
const seedRun = FACTS.seedPresets.map((preset) => preset.config);

const server = await serve();
const browser = await launch({ webgpu });
const page = await browser.newPage();
await page.goto(`${server.url}tests/helpers/blank.html`);

const result = await page.evaluate(async ({ sizes, steps, webgpu, seedRun }) => {
  const t0 = performance.now();
  // The flex build the page's worker picks (www/relaxed.js): the fused one in Chromium.
  const flex = await import("/www/pkg/initlab_flex.js");
  await flex.default({ module_or_path: `/www/pkg/${(await import("/www/relaxed.js")).flexModuleName()}_bg.wasm` });
  const initMs = performance.now() - t0;
  const full = await import("/www/pkg/initlab.js");
  await full.default();
  const backends = await full.availableBackends();
  const out = { module_init_ms: initMs, backends: {} };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const backend of backends) {
    if (backend === "webgpu" && !webgpu) continue;
    const module = backend === "flex" ? flex : full;
    const perSize = {};
    for (const size of sizes) {
      const gpuSteps = backend === "webgpu" ? Math.min(steps, 6) : steps;
      const e = await module.Experiment.create({ height: size, width: size, epochs: gpuSteps + 20 }, backend);
      for (let i = 0; i < 20; i++) await e.step(); // warm-up: let V8 tier the module up
      const times = [];
      for (let i = 0; i < gpuSteps; i++) {
        const t = performance.now();
        await e.step();
        times.push(performance.now() - t);
      }
      e.free();
      perSize[size] = { median_ms: median(times), min_ms: Math.min(...times), steps: gpuSteps };
    }
    let seedMs = null;
    if (backend !== "webgpu") {
      const start = performance.now();
      for (const config of seedRun) {
        const e = await module.Experiment.create(config, backend);
        for (let i = 0; i < 40; i++) await e.step();
        e.free();
      }
      seedMs = performance.now() - start;
    }
    out.backends[backend] = { sizes: perSize, seed_run_ms: seedMs };
  }
  return out;
}, { sizes, steps, webgpu, seedRun });

// The page as a reader sees it: load, then runAll() of the four experiments, in five fresh
// tabs (one run swings by ±20% on this machine: the median is the figure); with the worker
// pool sized from the machine (engine.js poolSize), clicked at once when the page is ready and
// clicked a second later (a reader's first click: by then V8 has optimised the kernels that
// the worker warmed up as soon as its module loaded, see worker.js warmUpSoon), then with two workers (?workers=2), tab
// by tab in turn.
const timeTab = async (query, clickAfterMs = 0) => {
  const reader = await browser.newPage();
  await reader.goto(`${server.url}${query}`);
  const times = await reader.evaluate(async (clickAfterMs) => {
    await window.initlab.ready;
    await new Promise((resolve) => setTimeout(resolve, clickAfterMs));
    const nav = performance.getEntriesByType("navigation")[0];
    const ready = performance.getEntriesByName("initlab:ready")[0].startTime;
    const start = performance.now();
    await window.initlab.runAll();
    const runAllMs = performance.now() - start;
    const memory = await window.initlab.__engine.memory();
    return { ready_after_load_ms: ready - nav.loadEventEnd, ready_after_navigation_ms: ready, run_all_ms: runAllMs, workers: memory.length, wasm_bytes_per_worker: memory.map((m) => m.wasm) };
  }, clickAfterMs);
  await reader.close();
  return times;
};
// The bare module as the page's worker meets it: a fresh tab, the flex module the worker
// loads (initlab_flex_fma here, see www/relaxed.js), warmed up as the worker warms it on load
// (`warmUp()`: every round of the engine's WarmUp at once, untimed), the four seed runs stepped in turn
// (one step each, as the worker's pump does), timed from the first step to the last. The
// seed_run_ms above is the same work sequentially, in a module long since optimised.
const timeBareTab = async () => {
  const tab = await browser.newPage();
  await tab.goto(`${server.url}tests/helpers/blank.html`);
  const ms = await tab.evaluate(async (seedRun) => {
    const m = await import("/www/pkg/initlab_flex.js");
    await m.default({ module_or_path: `/www/pkg/${(await import("/www/relaxed.js")).flexModuleName()}_bg.wasm` });
    m.warmUp();
    const runs = [];
    for (const config of seedRun) runs.push(await m.Experiment.create(config, "flex"));
    const start = performance.now();
    for (let i = 0; i < 40; i++) for (const e of runs) await e.step();
    return performance.now() - start;
  }, seedRun);
  await tab.close();
  return ms;
};
const CLICK_AFTER_MS = 1000;
const pool = [];
const later = [];
const two = [];
const twoLater = [];
const bare = [];
for (let i = 0; i < 5; i++) {
  pool.push(await timeTab(""));
  later.push(await timeTab("", CLICK_AFTER_MS));
  two.push(await timeTab("?workers=2"));
  twoLater.push(await timeTab("?workers=2", CLICK_AFTER_MS));
  bare.push(await timeBareTab());
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (pages) => {
  const medianOf = (key) => median(pages.map((p) => p[key]));
  const out = Object.fromEntries(["ready_after_load_ms", "ready_after_navigation_ms", "run_all_ms"].map((key) => [key, medianOf(key)]));
  out.run_all_each_ms = pages.map((p) => Math.round(p.run_all_ms));
  out.workers = pages[0].workers;
  out.wasm_bytes_per_worker = pages[0].wasm_bytes_per_worker;
  return out;
};
result.page = summary(pool);
result.page_clicked_after_1s = summary(later);
result.page_two_workers = summary(two);
result.page_two_workers_clicked_after_1s = summary(twoLater);
result.bare_fresh_tab = {
  seed_run_ms: median(bare),
  seed_run_each_ms: bare.map(Math.round),
};

console.log(JSON.stringify(result, null, 2));
await browser.close();
await server.close();
