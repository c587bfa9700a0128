// The depth lab's lessons in the page, against the seed's run (issue 15: each lesson to its
// last epoch, charts drawn, at most 3× the page's runAll() of the four seed experiments).
//
//   node bench/lab.mjs [--tabs 3]
//
// In each fresh tab: runAll() first (the seed's four experiments, charts drawn), then every
// lesson, one after another, each timed from its click to its claim being checked. Medians
// over the tabs; the ratios are taken within the same tabs.

import { launch, serve } from "../tests/helpers/browser.mjs";

const args = process.argv.slice(2);
const tabs = Number(args[args.indexOf("--tabs") + 1] || 3);

const server = await serve();
const browser = await launch();
const samples = [];
for (let i = 0; i < tabs; i++) {
  const page = await browser.newPage();
  await page.goto(server.url);
  samples.push(await page.evaluate(async () => {
    await window.initlab.ready;
    let start = performance.now();
    await window.initlab.runAll();
    const out = { run_all_ms: performance.now() - start, lessons: {} };
    for (const button of document.querySelectorAll("[data-lab-preset]")) {
      const id = button.dataset.labPreset;
      start = performance.now();
      await window.initlab.lab.runPreset(id);
      out.lessons[id] = { ms: performance.now() - start, holds: window.initlab.lab.data().claim?.holds ?? null };
    }
    return out;
  }));
  await page.close();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runAll = median(samples.map((s) => s.run_all_ms));
const lessons = Object.fromEntries(Object.keys(samples[0].lessons).map((id) => {
  const ms = median(samples.map((s) => s.lessons[id].ms));
  return [id, { ms: Math.round(ms), ratio_to_run_all: Number((ms / runAll).toFixed(2)), holds: samples.map((s) => s.lessons[id].holds) }];
}));
console.log(JSON.stringify({ tabs, run_all_ms: Math.round(runAll), run_all_each_ms: samples.map((s) => Math.round(s.run_all_ms)), lessons }, null, 2));
await browser.close();
await server.close();
