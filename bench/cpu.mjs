// Where the CPU goes while the page runs the seed: Chromium's trace of `initlab.runAll()` in
// fresh tabs, default pool and two workers alternately, summed per thread (each top-level
// task's thread time and wall time) plus V8's wasm compilation in the same window. On a
// 2-core machine the sum of the threads' CPU over 2 is a floor under runAll's wall time.
//
//   node bench/cpu.mjs [tabs per setting, default 2]
import { launch, serve } from "../tests/helpers/browser.mjs";
import { threadTasks } from "../tests/helpers/trace.mjs";

const tabs = Number(process.argv[2] ?? 2);
const server = await serve();
const browser = await launch({});
const CATEGORIES = ["disabled-by-default-devtools.timeline", "blink.user_timing", "v8.wasm"];
const out = [];
for (let i = 0; i < tabs; i++) {
  for (const query of ["", "?workers=2"]) {
    const page = await browser.newPage();
    await page.goto(`${server.url}${query}`);
    await page.evaluate(() => window.initlab.ready);
    await browser.startTracing(page, { categories: CATEGORIES });
    const runAllMs = await page.evaluate(async () => {
      performance.mark("cpu-start");
      const start = performance.now();
      await window.initlab.runAll();
      performance.mark("cpu-end");
      return performance.now() - start;
    });
    const { traceEvents } = JSON.parse((await browser.stopTracing()).toString());
    const [start, end] = ["cpu-start", "cpu-end"].map((name) => traceEvents.find((e) => e.name === name).ts);
    const inWindow = (e) => e.ph === "X" && e.ts >= start && e.ts <= end;
    const threads = [...threadTasks(traceEvents).values()].map(({ name, tasks }) => {
      const mine = tasks.filter((t) => t.ts >= start && t.ts <= end);
      return { thread: name, cpu_ms: mine.reduce((ms, t) => ms + t.cpu, 0), wall_ms: mine.reduce((ms, t) => ms + t.wall, 0) };
    });
    const topTier = traceEvents.filter((e) => inWindow(e) && e.name === "wasm.TopTierCompilation").reduce((ms, e) => ms + e.dur / 1000, 0);
    const round = (t) => ({ thread: t.thread, cpu_ms: Math.round(t.cpu_ms), wall_ms: Math.round(t.wall_ms) });
    out.push({
      workers: query ? 2 : "default",
      run_all_ms: Math.round(runAllMs),
      threads: threads.sort((a, b) => b.cpu_ms - a.cpu_ms).slice(0, 6).map(round),
      wasm_top_tier_compilation_ms: Math.round(topTier),
    });
    await page.close();
  }
}
console.log(JSON.stringify(out, null, 1));
await browser.close();
await server.close();
