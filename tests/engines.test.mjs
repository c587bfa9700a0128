// Every engine: the page in Chromium, Firefox and WebKit (one browser launch each), with the
// machine's own locale. The site over http and dist/initlab.html over file:// load and run the
// four experiments with no error, to the same numbers as Chromium; a chart library that throws
// is reported on the page, the numbers stay, and runAll() rejects; where WebGPU is absent or
// navigator.gpu is null, a run asked for on WebGPU runs on the CPU.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ENGINES, KEYS, PRESET_KEYS, ROOT, useBrowser } from "./helpers/browser.mjs";
import { PROBE as RELAXED_PROBE } from "../www/relaxed.js";

const SHOTS = join(ROOT, "test-results");
const QUERY = "?epochs=12&height=32&width=32&workers=2";
const PRESETS = PRESET_KEYS;
/** `INITLAB_ENGINES=webkit` runs Chromium (the reference) and WebKit only. */
const engines = ENGINES.filter((e) => e === "chromium" || (process.env.INITLAB_ENGINES?.split(",") ?? ENGINES).includes(e));

/** Chromium's series over http: what the other engines and dist/ must reproduce. */
let reference;

/** Makes the chart library fail as it loads, and keeps what the page downloads. */
function breakCharts() {
  Object.defineProperty(window, "uPlot", {
    configurable: false,
    get: () => undefined,
    set() {
      throw new Error("test: the chart library failed as it loaded");
    },
  });
  const blobs = new Map();
  const createObjectURL = URL.createObjectURL;
  URL.createObjectURL = (blob) => {
    const url = createObjectURL.call(URL, blob);
    blobs.set(url, blob);
    return url;
  };
  window.__downloads = [];
  const click = HTMLAnchorElement.prototype.click;
  HTMLAnchorElement.prototype.click = function () {
    if (!this.download || !blobs.has(this.href)) return click.call(this);
    window.__downloads.push(blobs.get(this.href).text().then((text) => ({ name: this.download, text })));
  };
}

/** How far apart two runAll() results are: the largest absolute difference, NaN if shapes differ. */
function maxDifference(a, b) {
  let worst = 0;
  for (const run of PRESETS) {
    for (const key of KEYS) {
      const x = a[run]?.[key];
      const y = b[run]?.[key];
      if (!x || !y || x.length !== y.length) return NaN;
      x.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - y[i]))));
    }
  }
  return worst;
}

for (const engine of engines) {
  describe(engine, () => {
    const ctx = useBrowser({ engine });

    test(`${engine}: the site over http and dist/initlab.html over file:// run the four experiments, as in Chromium`, async () => {
      console.log(`${engine}: launched in ${ctx.launchMs} ms`);
      await mkdir(SHOTS, { recursive: true });
      const file = pathToFileURL(join(ROOT, "dist/initlab.html")).href;
      for (const [where, url] of [["http", `${ctx.url}${QUERY}`], ["file", `${file}${QUERY}`]]) {
        const start = Date.now();
        const tab = await ctx.tab(url);
        await tab.evaluate(() => window.initlab.ready);
        const readyMs = Date.now() - start;
        const facts = await tab.evaluate(() => ({
          language: navigator.language,
          gpu: navigator.gpu === undefined ? "absent" : navigator.gpu === null ? "null" : "present",
          sharedArrayBuffer: typeof SharedArrayBuffer !== "undefined",
        }));
        // Two workers (QUERY): the second one instantiates the module the first one compiled:
        // over http the fused build where the engine validates relaxed SIMD (www/relaxed.js),
        // else, and in the single file, the plain one.
        const relaxed = await tab.evaluate((probe) => WebAssembly.validate(new Uint8Array(probe)), [...RELAXED_PROBE]);
        const modules = await tab.evaluate(async () => {
          await window.initlab.__engine.openAll();
          return (await window.initlab.__engine.memory()).map((m) => `${m.module}${m.shared ? " (shared)" : ""}`);
        });
        const flex = relaxed && where === "http" ? "initlab_flex_fma" : "initlab_flex";
        assert.deepEqual(modules, [flex, `${flex} (shared)`], `${engine} ${where}: the flex module of each worker`);
        if (engine === "chromium") assert.ok(relaxed, "Chromium has relaxed SIMD: the fused build is tested");
        const runStart = Date.now();
        const data = await tab.evaluate(() => window.initlab.runAll());
        const runMs = Date.now() - runStart;
        assert.deepEqual(Object.keys(data).sort(), [...PRESETS].sort());
        for (const run of PRESETS) for (const key of KEYS) assert.equal(data[run][key].length, 12, `${run} ${key}`);
        for (const loss of data.zeros.loss) assert.ok(Math.abs(loss - Math.log(3)) < 1e-5, `zeros loss ${loss}`);
        assert.ok(data.kaiming.loss[11] < data.kaiming.loss[0], "kaiming's loss falls");

        // Drawn: five uPlot charts with ink on their canvases, no failure on the page.
        const drawn = await tab.evaluate(() => ({
          alert: document.getElementById("alert").hidden ? "" : document.getElementById("alert").textContent,
          status: document.getElementById("status").dataset.kind,
          charts: [...document.querySelectorAll("#charts .uplot canvas")].map((canvas) => {
            const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let ink = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) ink += 1;
            return ink;
          }),
          language: (() => {
            try {
              return Intl.getCanonicalLocales(navigator.language)[0];
            } catch (error) {
              return String(error);
            }
          })(),
        }));
        assert.equal(drawn.alert, "");
        assert.notEqual(drawn.status, "error");
        assert.equal(drawn.charts.length, 5, "five charts");
        for (const ink of drawn.charts) assert.ok(ink > 1000, `a chart drew ${ink} pixels`);
        await tab.screenshot(join(SHOTS, `engine-${engine}-${where}.png`));
        assert.deepEqual(await tab.errors(), [], `${engine} ${where}: errors`);

        if (engine === "chromium" && where === "http") reference = data;
        assert.ok(reference, "Chromium's reference run");
        const difference = maxDifference(data, reference);
        console.log(`${engine} ${where}: ready ${readyMs} ms, runAll ${runMs} ms, max |Δ| vs Chromium ${difference}; navigator.language ${JSON.stringify(facts.language)} (${drawn.language}), WebGPU ${facts.gpu}, SharedArrayBuffer ${facts.sharedArrayBuffer}, modules ${modules.join(", ")}, relaxed SIMD ${relaxed}`);
        assert.ok(difference <= 1e-6, `${engine} ${where} differs from Chromium by ${difference}`);
        await tab.close();
      }
    });

    test(`${engine}: a chart library that throws is reported, the numbers stay, runAll() rejects`, async () => {
      await mkdir(SHOTS, { recursive: true });
      const langs = engine === "chromium" ? ["en", "zh"] : ["en"];
      for (const lang of langs) {
        const tab = await ctx.tab(`${ctx.url}?epochs=5&height=16&width=16&lang=${lang}`, { initScript: breakCharts });
        await tab.evaluate(() => window.initlab.ready);
        const outcome = await tab.evaluate(() =>
          window.initlab.runAll().then(
            () => ({ resolved: true }),
            (error) => ({ isError: error instanceof Error, message: error.message }),
          ),
        );
        assert.equal(outcome.isError, true, `runAll: ${JSON.stringify(outcome)}`);
        const alert = await tab.evaluate(() => {
          const el = document.getElementById("alert");
          const box = el.getBoundingClientRect();
          return { text: el.textContent, role: el.getAttribute("role"), shown: !el.hidden && box.height > 0 && box.width > 0 };
        });
        assert.equal(alert.shown, true, "the message is on screen");
        assert.equal(alert.role, "alert");
        assert.equal(outcome.message, alert.text);
        const words = lang === "zh" ? /无法绘制图表.*图表库未能启动/ : /The charts cannot be drawn: the chart library did not start/;
        assert.match(alert.text, words);
        assert.match(alert.text, /test: the chart library failed as it loaded/);

        // The results are kept: every run finished, the tables show them, CSV and JSON export them.
        const kept = await tab.evaluate(async () => {
          const runs = window.initlab.runs.map((r) => [r.key, r.status, r.steps]);
          const data = Object.fromEntries(window.initlab.runs.map((r) => [r.key, window.initlab.trajectory(r.key)]));
          for (let i = 0; i < 50 && !document.querySelector("#tables table"); i++) await new Promise((r) => setTimeout(r, 20));
          const table = document.querySelector("#tables table");
          const cells = [...table.querySelectorAll("tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent));
          const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
          document.getElementById("export-csv").click();
          document.getElementById("export-json").click();
          const files = await Promise.all(window.__downloads);
          return { runs, data, heads, cells, files, charts: document.querySelectorAll("#charts .uplot").length };
        });
        assert.deepEqual([...kept.runs].sort(), PRESETS.map((key) => [key, "finished", 5]).sort());
        const order = kept.runs.map(([key]) => key); // the tables' columns: the page's runs
        assert.equal(kept.charts, 0);
        // The first table is the loss: a column per run, a row per epoch, the exact values.
        assert.equal(kept.cells.length, 5);
        assert.equal(kept.heads.length, 1 + PRESETS.length);
        kept.cells.forEach((row, step) => {
          assert.equal(row[0], String(step));
          order.forEach((run, k) => assert.equal(Number(row[k + 1]), kept.data[run].loss[step], `table ${run} ${step}`));
        });
        const csv = kept.files.find((f) => f.name.endsWith(".csv")).text.trim().split("\n");
        assert.equal(csv[0], ["run", "step", ...KEYS].join(","));
        assert.equal(csv.length, 1 + 4 * 5);
        for (const line of csv.slice(1)) {
          const [run, step, ...values] = line.split(",");
          KEYS.forEach((key, k) => assert.equal(Number(values[k]), kept.data[run][key][Number(step)], `csv ${run} ${step} ${key}`));
        }
        const json = JSON.parse(kept.files.find((f) => f.name.endsWith(".json")).text);
        for (const run of PRESETS) assert.deepEqual(json[run].trajectory, kept.data[run], `json ${run}`);
        await tab.screenshot(join(SHOTS, `engine-${engine}-no-charts-${lang}.png`));
        await tab.close();
      }
    });

    if (engine !== "chromium") {
      test(`${engine}: a run asked for on WebGPU runs on the CPU where navigator.gpu is absent or null`, async () => {
        const gpuNull = () => Object.defineProperty(Navigator.prototype, "gpu", { configurable: true, get: () => null });
        for (const [gpu, initScript] of [["absent", undefined], ["null", gpuNull]]) {
          const tab = await ctx.tab(`${ctx.url}?backend=webgpu&epochs=3&height=16&width=16&experiments=zeros,kaiming`, { initScript });
          await tab.evaluate(() => window.initlab.ready);
          assert.equal(await tab.evaluate(() => (navigator.gpu === undefined ? "absent" : String(navigator.gpu))), gpu);
          const data = await tab.evaluate(() => window.initlab.runAll());
          assert.equal(data.kaiming.loss.length, 3);
          const page = await tab.evaluate(() => ({
            backends: window.initlab.runs.map((r) => r.backend),
            offered: [...document.querySelectorAll("#field-backend option")].map((o) => o.value),
          }));
          assert.deepEqual(page.backends, ["flex", "flex"]);
          assert.ok(!page.offered.includes("webgpu"), `offered: ${page.offered}`);
          assert.deepEqual(await tab.errors(), [], `${engine} gpu ${gpu}: errors`);
          await tab.close();
        }
      });
    }
  });
}
