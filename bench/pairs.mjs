// The browser/PyTorch ratios from back-to-back pairs: PyTorch (1 thread) and the flex module in
// headless Chromium take turns, round after round, so both see the same state of this noisy
// machine (a single pair swung from 0.39 to 0.69 between runs of `cargo xtask bench`, minutes
// apart). Each round: PyTorch's median of 30 224² seed steps and its four-experiment seed run
// (bench/pytorch_seed.py) and its medians of 30 steps of the depth lab's deep and deep_bn
// workloads (bench/pytorch_stack.py), then the same in the browser (medians of 30 steps of
// experiments warmed up by 40, and the four experiments of 40 steps). Prints JSON.
//
//   node bench/pairs.mjs --python /path/to/python-with-torch [--rounds 5]

import { spawnSync } from "node:child_process";
import { launch, serve, ROOT } from "../tests/helpers/browser.mjs";
import { FACTS } from "../www/pkg/facts.js";
import { WORKLOADS } from "./workloads.mjs";

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const python = option("--python", "python3");
const rounds = Number(option("--rounds", "5"));
// The blog's seed run: its four experiments (the engine's presets), 40 steps each.
const seedRun = FACTS.seedPresets.map((preset) => preset.config);
// The depth lab's workloads.
const STACKS = { deep: WORKLOADS.deep, deep_bn: WORKLOADS.deep_bn };

const server = await serve();
const browser = await launch({});
const page = await browser.newPage();
await page.goto(`${server.url}tests/helpers/blank.html`);
await page.evaluate(async (stacks) => {
  // The flex build the page's worker picks (www/relaxed.js): the fused one in Chromium.
  const flex = await import("/www/pkg/initlab_flex.js");
  await flex.default({ module_or_path: `/www/pkg/${(await import("/www/relaxed.js")).flexModuleName()}_bg.wasm` });
  window.flex = flex;
  window.runs = {};
  for (const [name, config] of Object.entries(stacks)) {
    window.runs[name] = await flex.Experiment.create({ ...config, epochs: 100000 }, "flex");
  }
  window.runs.seed = await flex.Experiment.create({ epochs: 100000 }, "flex");
  for (const e of Object.values(window.runs)) for (let i = 0; i < 40; i++) await e.step();
}, STACKS);
const browserRound = () => page.evaluate(async (seedRun) => {
  const median30 = async (e) => {
    const times = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      await e.step();
      times.push(performance.now() - t);
    }
    return [...times].sort((a, b) => a - b)[15];
  };
  const step_ms = await median30(window.runs.seed);
  const start = performance.now();
  for (const config of seedRun) {
    const e = await window.flex.Experiment.create(config, "flex");
    for (let i = 0; i < 40; i++) await e.step();
    e.free();
  }
  const seed_run_ms = performance.now() - start;
  return { step_ms, seed_run_ms, deep_ms: await median30(window.runs.deep), deep_bn_ms: await median30(window.runs.deep_bn) };
}, seedRun);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round3 = (x) => Math.round(x * 1000) / 1000;
const out = [];
for (let i = 0; i < rounds; i++) {
  const torch = spawnSync(python, ["bench/pytorch_seed.py", "--size", "224"], { cwd: ROOT, encoding: "utf8" });
  if (torch.status !== 0) throw new Error(`pytorch_seed.py failed: ${torch.stderr}`);
  const pytorch = JSON.parse(torch.stdout);
  const stack = spawnSync(python, ["bench/pytorch_stack.py", "--workloads", Object.keys(STACKS).join(",")], { cwd: ROOT, encoding: "utf8" });
  if (stack.status !== 0) throw new Error(`pytorch_stack.py failed: ${stack.stderr}`);
  const pytorchStack = JSON.parse(stack.stdout);
  const ours = await browserRound();
  out.push({
    pytorch_step_ms: round3(pytorch.median_ms),
    browser_step_ms: round3(ours.step_ms),
    step_ratio: round3(ours.step_ms / pytorch.median_ms),
    pytorch_seed_run_ms: Math.round(pytorch.seed_run_ms),
    browser_seed_run_ms: Math.round(ours.seed_run_ms),
    seed_run_ratio: round3(ours.seed_run_ms / pytorch.seed_run_ms),
    ...Object.fromEntries(Object.keys(STACKS).flatMap((name) => [
      [`pytorch_${name}_ms`, round3(pytorchStack[name].median_ms)],
      [`browser_${name}_ms`, round3(ours[`${name}_ms`])],
      [`${name}_ratio`, round3(ours[`${name}_ms`] / pytorchStack[name].median_ms)],
    ])),
  });
}
console.log(JSON.stringify({
  rounds: out,
  median_step_ratio: median(out.map((r) => r.step_ratio)),
  median_seed_run_ratio: median(out.map((r) => r.seed_run_ratio)),
  ...Object.fromEntries(Object.keys(STACKS).map((name) => [`median_${name}_ratio`, median(out.map((r) => r[`${name}_ratio`]))])),
}, null, 1));
await browser.close();
await server.close();
