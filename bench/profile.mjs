// Where a wasm step's time goes: V8's sampling profiler over 300 steps of a workload (by default
// the seed's, 224², Kaiming) in headless Chromium, self time per function.
//
//   INITLAB_KEEP_NAMES=1 cargo xtask build --only initlab_flex_fma && node bench/profile.mjs [pkg-dir-under-www] [config-json] [steps]
//
// The config defaults to the seed's two_conv; e.g. deep_bn:
// '{"arch":"stack","depth":8,"channels":16,"norm":"batch","height":64,"width":64}' 60
//
// INITLAB_KEEP_NAMES keeps the wasm name section (the normal build drops it: 7 MB in the full
// module), so the profile names Rust functions instead of wasm-function[136].
import { launch, serve } from "../tests/helpers/browser.mjs";
const dir = process.argv[2] ?? "pkg";
const config = { arch: "two_conv", init: "kaiming_normal", ...JSON.parse(process.argv[3] ?? "{}"), epochs: 100000 };
const steps = Number(process.argv[4] ?? 300);
const server = await serve();
const browser = await launch({});
const page = await browser.newPage();
await page.goto(`${server.url}tests/helpers/blank.html`);
await page.evaluate(async ([dir, config]) => {
  const m = await import(`/www/${dir}/initlab_flex.js`);
  await m.default({ module_or_path: `/www/${dir}/${(await import("/www/relaxed.js")).flexModuleName()}_bg.wasm` });
  window.e = await m.Experiment.create(config, "flex");
  for (let i = 0; i < 60; i++) await window.e.step();
}, [dir, config]);
const cdp = await page.context().newCDPSession(page);
await cdp.send("Profiler.enable");
await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
await cdp.send("Profiler.start");
await page.evaluate(async (steps) => { for (let i = 0; i < steps; i++) await window.e.step(); }, steps);
const { profile } = await cdp.send("Profiler.stop");
const self = new Map();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const dt = profile.timeDeltas;
const counts = new Map();
for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
let total = 0;
for (const [id, c] of counts) {
  const n = byId.get(id);
  const name = n.callFrame.functionName || `(${n.callFrame.url.split("/").pop()})`;
  self.set(name, (self.get(name) ?? 0) + c);
  total += c;
}
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30);
for (const [name, c] of rows) console.log((100 * c / total).toFixed(1).padStart(5) + "%  " + name.slice(0, 120));
await browser.close();
await server.close();
