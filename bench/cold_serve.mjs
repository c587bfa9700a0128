// How long a fresh clone takes from `cargo xtask serve` to the first page that has run
// runAll(): clones HEAD into a temporary folder (no target/, node_modules/ or www/pkg/),
// starts `cargo xtask serve` there, waits for its "Init Lab: http://..." line, opens the page in
// headless Chromium, awaits `initlab.ready` and `runAll()`, and prints the times as JSON.
//
//   node bench/cold_serve.mjs [--port 8137] [--full] [--keep]
//
// It also records whether the page said "ndarray and WebGPU are still being built" meanwhile;
// with --full it waits for the full module too, and for the page to offer ndarray. Cargo's
// download cache (~/.cargo/registry) is not cleared: crates are not downloaded again. --keep
// leaves the clone (and its target/) in place and prints where. Never run in CI (a cold build
// of burn: many minutes).

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { launch } from "../tests/helpers/browser.mjs";

const args = process.argv.slice(2);
const port = Number(args.includes("--port") ? args[args.indexOf("--port") + 1] : 8137);
const waitFull = args.includes("--full");
const keep = args.includes("--keep");
const repo = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "initlab-cold-"));
execFileSync("git", ["clone", "--quiet", "--no-hardlinks", repo, dir]);
execFileSync("git", ["-C", dir, "checkout", "--quiet", execFileSync("git", ["-C", repo, "rev-parse", "HEAD"]).toString().trim()]);

const t0 = performance.now();
const seconds = () => Math.round((performance.now() - t0) / 100) / 10;
const result = { commit: execFileSync("git", ["-C", dir, "rev-parse", "--short", "HEAD"]).toString().trim(), cores: cpus().length, load_at_start: loadavg()[0] };
const serve = spawn("cargo", ["xtask", "serve", "--port", String(port)], { cwd: dir, detached: true, stdio: ["ignore", "pipe", "pipe"] });
const lines = [];
const waiters = [];
const onLine = (line) => {
  lines.push(line);
  for (const w of waiters) if (w.pattern.test(line)) w.resolve(seconds());
};
for (const stream of [serve.stdout, serve.stderr]) {
  let rest = "";
  stream.on("data", (chunk) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop();
    parts.forEach(onLine);
  });
}
const waitFor = (pattern) => new Promise((resolve) => waiters.push({ pattern, resolve }));
const serving = waitFor(/^Init Lab: http/);
const fullBuilt = waitFor(/^ndarray and WebGPU are ready/);
serve.on("exit", (code) => {
  if (code !== null && code !== 0) {
    console.error(lines.slice(-30).join("\n"));
    console.error(`cargo xtask serve exited with ${code}`);
    process.exit(1);
  }
});

let browser;
try {
  result.serving_s = await serving;
  browser = await launch();
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`, { timeout: 120_000 });
  await page.evaluate(() => window.initlab.ready);
  result.ready_s = seconds();
  result.building_note = await page.evaluate(() => document.getElementById("backends-building")?.textContent ?? null);
  result.backends_offered = await page.evaluate(() => [...document.querySelectorAll("#field-backend option")].map((o) => o.value));
  const runs = await page.evaluate(() => window.initlab.runAll().then((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.loss.at(-1)]))));
  result.run_all_s = seconds();
  result.last_loss = runs;
  if (waitFull) {
    result.full_module_s = await fullBuilt;
    await page.waitForFunction(() => !document.getElementById("backends-building"), null, { timeout: 30_000 });
    result.page_offers_s = seconds();
    result.backends_offered_after = await page.evaluate(() => [...document.querySelectorAll("#field-backend option")].map((o) => o.value));
  }
  result.load_at_end = loadavg()[0];
  console.log(JSON.stringify(result, null, 2));
} finally {
  await browser?.close();
  try {
    process.kill(-serve.pid, "SIGTERM");
  } catch {}
  if (keep) console.error(`kept the clone in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
