// Two builds of the flex module, A and B, timed in one page, interleaved in blocks of 10 steps
// (224², Kaiming): on this noisy machine only a side-by-side ratio tells a 5% change.
//
//   cargo xtask build && cp -r www/pkg www/pkgA   # then change the code, and:
//   cargo xtask build && node bench/ab.mjs pkgA pkg
// (`cargo xtask build --only initlab_flex_fma` rebuilds just the module timed, in seconds.)
//   node bench/ab.mjs pkgA pkg '{"arch":"stack","depth":8,"channels":16,"norm":"batch","height":64,"width":64}'
// The optional third argument is the config to time (default: the seed's two_conv), the
// fourth the module: initlab_flex, initlab_flex_fma (both bound by initlab_flex.js) or initlab;
// by default the flex build the page's worker picks (www/relaxed.js: here the fused one, initlab_flex_fma). AB_ROUNDS sets the rounds of
// 10 steps each build (default 20).
import { launch, serve } from "../tests/helpers/browser.mjs";
const [a, b, configJson, module] = process.argv.slice(2);
const config = { arch: "two_conv", init: "kaiming_normal", ...JSON.parse(configJson ?? "{}"), epochs: 100000 };
const server = await serve();
const browser = await launch({});
const page = await browser.newPage();
await page.goto(`${server.url}tests/helpers/blank.html`);
const rounds = Number(process.env.AB_ROUNDS ?? 20);
const r = await page.evaluate(async ([a, b, config, module, rounds]) => {
  const mods = {};
  for (const dir of [a, b]) {
    const build = module ?? (await import("/www/relaxed.js")).flexModuleName();
    const m = await import(`/www/${dir}/${build === "initlab" ? build : "initlab_flex"}.js`);
    await m.default({ module_or_path: `/www/${dir}/${build}_bg.wasm` });
    mods[dir] = m;
  }
  const exps = {};
  for (const dir of [a, b]) {
    exps[dir] = await mods[dir].Experiment.create(config, "flex");
    for (let i = 0; i < 40; i++) await exps[dir].step();
  }
  const times = { [a]: [], [b]: [] };
  for (let round = 0; round < rounds; round++) {
    for (const dir of round % 2 ? [a, b] : [b, a]) {
      // A block of 10 steps timed whole: performance.now() ticks in 0.1 ms steps here (no
      // cross-origin isolation), 0.9% of a deep_bn step, too coarse for a median of single steps.
      const t = performance.now();
      for (let i = 0; i < 10; i++) await exps[dir].step();
      times[dir].push((performance.now() - t) / 10);
    }
  }
  const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(median(v) * 1000) / 1000]));
}, [a, b, config, module, rounds]);
console.log(JSON.stringify(r), "ratio b/a", (r[b] / r[a]).toFixed(3));
await browser.close();
await server.close();
