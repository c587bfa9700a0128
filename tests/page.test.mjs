// The page people open: it loads clean, runs the blog's four experiments, and its charts show
// exactly the engine's records.

import { before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { KEYS, ROOT, horizontalOverflow, useBrowser } from "./helpers/browser.mjs";

/** The blog's five charts: the loss, then conv1's and conv2's mean and variance. */
const CHART_KEYS = KEYS.slice(0, 5);

const SHOTS = join(ROOT, "test-results");
const ctx = useBrowser();

before(() => mkdir(SHOTS, { recursive: true }));

/** The page at `query`, ready: `{page, problems, readyMs}`. */
const openPage = (query = "", viewport) => ctx.open(query, { viewport });

test("loads with no console error and no request off its origin", async () => {
  const { page, problems, readyMs } = await openPage();
  console.log(`ready after ${readyMs} ms`);
  assert.deepEqual(problems.console, []);
  assert.deepEqual(problems.offOrigin, []);
  assert.equal(await page.locator("#app").getAttribute("aria-busy"), "false");
  await page.close();
});

test("runAll reproduces the blog's shapes, and the charts hold the engine's records", async () => {
  const { page, problems } = await openPage();
  const start = Date.now();
  const data = await page.evaluate(() => window.initlab.runAll());
  console.log(`runAll took ${Date.now() - start} ms`);
  assert.deepEqual(Object.keys(data).sort(), ["constant5", "kaiming", "single_conv_zeros", "zeros"]);
  for (const run of Object.values(data)) for (const key of KEYS) assert.equal(run[key].length, 40);

  // Zero init: ln 3 within 1e-5 at every epoch, weights exactly 0.
  for (const loss of data.zeros.loss) assert.ok(Math.abs(loss - Math.log(3)) < 1e-5, `loss ${loss}`);
  for (const key of KEYS.filter((k) => k !== "loss")) {
    assert.ok(data.zeros[key].every((v) => v === 0), `zeros ${key} is exactly 0`);
  }
  // Single conv learns: the loss leaves ln 3 (slowly), conv2's weights spread out.
  assert.ok(data.single_conv_zeros.loss[39] < data.single_conv_zeros.loss[0] - 1e-4);
  assert.ok(data.single_conv_zeros.conv2_var[39] > 1e-5);
  assert.ok(data.single_conv_zeros.conv2_grad_norm.every((g) => g > 0));
  // Constant 5 trains around 5: its loss falls, its means stay near 5.
  assert.ok(data.constant5.loss[39] < data.constant5.loss[0]);
  for (const m of [...data.constant5.conv1_mean, ...data.constant5.conv2_mean]) assert.ok(Math.abs(m - 5) < 0.5, `mean ${m}`);
  // Kaiming ends lower, under the script's accumulated gradients (with zero_grad it does not:
  // tests/explain.test.mjs).
  assert.ok(data.kaiming.loss[39] < data.constant5.loss[39]);

  // The charts were handed exactly these arrays.
  const charts = await page.evaluate(() => window.initlab.chartData());
  for (const key of CHART_KEYS) {
    for (const run of Object.keys(data)) assert.deepEqual(charts[`all/${key}`][run], data[run][key], `${key}/${run}`);
  }
  // uPlot drew them: its data arrays hold the same values.
  const drawn = await page.evaluate(() => {
    const plots = [...document.querySelectorAll(".chart-loss .uplot")];
    return plots.length;
  });
  assert.equal(drawn, 1);
  assert.deepEqual(problems.console, []);
  assert.deepEqual(problems.offOrigin, []);
  await page.close();
});

test("an invalid setting shows a message beside its field and the page keeps working", async () => {
  const { page, problems } = await openPage();
  for (const [field, value, expect] of [
    ["lr", "-1", /lr: must be a number > 0/],
    ["momentum", "1.5", /momentum: /],
    ["epochs", "abc", /epochs: /],
    ["height", "1e9", /height: /],
  ]) {
    await page.fill(`#field-${field}`, value);
    await page.locator(`#field-${field}`).dispatchEvent("change");
    await page.waitForFunction((id) => document.getElementById(id).textContent !== "", `field-${field}-error`);
    assert.match(await page.textContent(`#field-${field}-error`), expect);
    assert.equal(await page.getAttribute(`#field-${field}`, "aria-invalid"), "true");
  }
  // Nothing was applied: the settings are still the defaults, and a run works.
  const settings = await page.evaluate(() => window.initlab.settings);
  assert.equal(settings.lr, 0.01);
  assert.equal(settings.epochs, 40);
  const data = await page.evaluate(() => window.initlab.runAll());
  assert.equal(data.kaiming.loss.length, 40);
  assert.deepEqual(problems.console, []);
  await page.close();
});

test("a flat series gets a real axis, and reset brings the same numbers back", async () => {
  const { page } = await openPage("?experiments=zeros&height=32&width=32");
  const first = await page.evaluate(() => window.initlab.runAll());
  const axis = await page.evaluate(() => {
    const plot = document.querySelector(".chart-conv1_var .uplot");
    return [...plot.querySelectorAll(".u-axis")].map((a) => a.textContent).join("|");
  });
  assert.ok(!/NaN/.test(axis), axis);
  await page.click("#reset");
  await page.click("#play");
  await page.waitForFunction(() => window.initlab.runs.every((r) => r.status === "finished"));
  const again = await page.evaluate(() => window.initlab.trajectory("zeros"));
  assert.deepEqual(again, first.zeros);
  await page.close();
});

for (const [name, viewport] of [["desktop", { width: 1400, height: 1000 }], ["phone", { width: 390, height: 844 }]]) {
  test(`no horizontal overflow on ${name} (${viewport.width}×${viewport.height})`, async () => {
    const { page } = await openPage("", viewport);
    await page.evaluate(() => window.initlab.runAll());
    await page.waitForTimeout(100);
    const overflow = await horizontalOverflow(page);
    await page.screenshot({ path: join(SHOTS, `page-${name}.png`), fullPage: true });
    assert.equal(overflow.scrollWidth, overflow.clientWidth, `too wide: ${overflow.wide.join(", ")}`);
    await page.close();
  });
}

test("the status line follows the language: ready, a finished run, back to English", async () => {
  // It kept the words of the language it was written in until the next run event.
  const { page, problems } = await openPage("?epochs=3&height=16&width=16&experiments=kaiming");
  assert.match(await page.textContent("#status"), /^Ready\./);
  await page.click("#lang-toggle");
  assert.match(await page.textContent("#status"), /^[^A-Za-z]*[\u4e00-\u9fff]/, "ready, in Chinese");
  await page.evaluate(() => window.initlab.runAll());
  const zh = await page.textContent("#status");
  assert.match(zh, /[\u4e00-\u9fff]/, zh);
  await page.click("#lang-toggle");
  assert.match(await page.textContent("#status"), /^Kaiming normal: finished 3 epochs, last loss /);
  assert.deepEqual(problems.console, []);
  await page.close();
});
