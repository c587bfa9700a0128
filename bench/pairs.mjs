// The browser/PyTorch ratios from back-to-back pairs: PyTorch (1 thread) and the flex module in
// headless Chromium take turns, round after round, so both see the same state of this noisy
// machine (a single pair swung from 0.39 to 0.69 between runs of `cargo xtask bench`, minutes
// apart). Each round: PyTorch's median of 30 224² seed steps and its four-experiment seed run
// (bench/pytorch_seed.py), then the same in the browser (the median of 30 steps of an
// experiment warmed up by 40, and the four experiments of 40 steps); then the depth lab's deep
// and deep_bn workloads, in blocks of 10 steps that alternate between one PyTorch process
// (bench/pytorch_stack.py --serve) and the browser, 10 blocks each, a side's time the median of
// its blocks. Taken a whole side at a time, seconds apart, a slow spell could fall on one side
// only: deep_bn's rounds ranged from 0.83 to 1.58 in one run that way. Prints JSON.
//
//   node bench/pairs.mjs --python /path/to/python-with-torch [--rounds 5]
//
// PAIRS_BLOCKS and PAIRS_BLOCK_STEPS set the stack workloads' blocks (default 10 of 10 steps).

import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
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
// PyTorch's stack workloads, stepped on request, made and warmed up once.
const torchStacks = spawn(python, ["bench/pytorch_stack.py", "--serve"], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
const torchLines = createInterface({ input: torchStacks.stdout })[Symbol.asyncIterator]();
const torchBlock = async (name, steps) => {
  torchStacks.stdin.write(`${name} ${steps}\n`);
  const { value, done } = await torchLines.next();
  if (done) throw new Error("pytorch_stack.py --serve stopped");
  return JSON.parse(value).block_ms / steps;
};
// A block of steps timed whole (performance.now() ticks in 0.1 ms steps here).
const browserBlock = (name, steps) => page.evaluate(async ([name, steps]) => {
  const t = performance.now();
  for (let i = 0; i < steps; i++) await window.runs[name].step();
  return (performance.now() - t) / steps;
}, [name, steps]);
for (const name of Object.keys(STACKS)) await torchBlock(name, 20);
const BLOCKS = Number(process.env.PAIRS_BLOCKS ?? 10);
const BLOCK_STEPS = Number(process.env.PAIRS_BLOCK_STEPS ?? 10);
// Each side's median ms per step over BLOCKS blocks, the sides taking turns (each first in
// every other block).
const stackRound = async (name) => {
  const times = { pytorch: [], browser: [] };
  for (let k = 0; k < BLOCKS; k++) {
    for (const side of k % 2 ? ["browser", "pytorch"] : ["pytorch", "browser"]) {
      times[side].push(await (side === "pytorch" ? torchBlock : browserBlock)(name, BLOCK_STEPS));
    }
  }
  return { pytorch: median(times.pytorch), browser: median(times.browser) };
};

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
  return { step_ms, seed_run_ms };
}, seedRun);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round3 = (x) => Math.round(x * 1000) / 1000;
const out = [];
for (let i = 0; i < rounds; i++) {
  const torch = spawnSync(python, ["bench/pytorch_seed.py", "--size", "224"], { cwd: ROOT, encoding: "utf8" });
  if (torch.status !== 0) throw new Error(`pytorch_seed.py failed: ${torch.stderr}`);
  const pytorch = JSON.parse(torch.stdout);
  const ours = await browserRound();
  const stacks = {};
  for (const name of Object.keys(STACKS)) stacks[name] = await stackRound(name);
  out.push({
    pytorch_step_ms: round3(pytorch.median_ms),
    browser_step_ms: round3(ours.step_ms),
    step_ratio: round3(ours.step_ms / pytorch.median_ms),
    pytorch_seed_run_ms: Math.round(pytorch.seed_run_ms),
    browser_seed_run_ms: Math.round(ours.seed_run_ms),
    seed_run_ratio: round3(ours.seed_run_ms / pytorch.seed_run_ms),
    ...Object.fromEntries(Object.keys(STACKS).flatMap((name) => [
      [`pytorch_${name}_ms`, round3(stacks[name].pytorch)],
      [`browser_${name}_ms`, round3(stacks[name].browser)],
      [`${name}_ratio`, round3(stacks[name].browser / stacks[name].pytorch)],
    ])),
  });
}
console.log(JSON.stringify({
  rounds: out,
  median_step_ratio: median(out.map((r) => r.step_ratio)),
  median_seed_run_ratio: median(out.map((r) => r.seed_run_ratio)),
  ...Object.fromEntries(Object.keys(STACKS).map((name) => [`median_${name}_ratio`, median(out.map((r) => r[`${name}_ratio`]))])),
}, null, 1));
torchStacks.stdin.end();
await browser.close();
await server.close();
