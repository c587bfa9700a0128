// Share, embed, offline: URL round trips, embed mode, the single file over file://, dist/ under
// a sub-path, export and import.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { KEYS, ROOT, horizontalOverflow, serve, tolerance, useBrowser } from "./helpers/browser.mjs";

const ctx = useBrowser();
const open = (url, viewport) => ctx.open(url, { viewport });

test("a URL round trip gives identical settings and identical series", async () => {
  const query = "?init=normal&init_value=0.2&lr=0.05&momentum=0.5&epochs=12&height=20&width=24&batch=2&label=1&seed=9&zero_grad=1&experiments=zeros,kaiming&logloss=1&view=blog&lang=zh";
  const first = await open(`${ctx.url}${query}`);
  const settings = await first.page.evaluate(() => window.initlab.settings);
  assert.equal(settings.init, "normal");
  assert.equal(settings.init_value, 0.2);
  assert.equal(settings.zero_grad, true);
  assert.deepEqual(settings.experiments, ["zeros", "kaiming"]);
  const series = await first.page.evaluate(() => window.initlab.runAll());
  assert.deepEqual(Object.keys(series), ["zeros", "kaiming"]);
  assert.equal(series.kaiming.loss.length, 12);
  // The link the page shares carries every setting; opening it gives the same numbers.
  const link = await first.page.evaluate(() => {
    document.getElementById("copy-link").click();
    return new Promise((resolve) => setTimeout(() => resolve(document.getElementById("share-message").textContent), 200));
  });
  const shared = await first.page.evaluate(() => location.href);
  await first.page.close();
  const second = await open(shared);
  assert.deepEqual(await second.page.evaluate(() => window.initlab.settings), settings);
  assert.deepEqual(await second.page.evaluate(() => window.initlab.runAll()), series);
  assert.equal(await second.page.evaluate(() => document.documentElement.lang), "zh-CN");
  assert.ok(link.length > 0);
  await second.page.close();
});

test("bad URL values fall back to defaults, with a message naming them", async () => {
  const { page, problems } = await open(`${ctx.url}?lr=NaN&epochs=-3&arch=<b>x</b>&experiments=zeros,nope&height=abc`);
  const settings = await page.evaluate(() => window.initlab.settings);
  assert.equal(settings.lr, 0.01);
  assert.equal(settings.epochs, 40);
  assert.equal(settings.arch, "two_conv");
  assert.equal(settings.height, 224);
  const status = await page.textContent("#status");
  for (const field of ["lr", "epochs", "arch", "experiments", "height"]) assert.match(status, new RegExp(field));
  assert.equal(await page.locator("b").count(), 0, "no markup from the URL reaches the DOM");
  assert.deepEqual(problems.console, []);
  await page.close();
});

for (const width of [360, 800]) {
  test(`embed mode at ${width} px: no overflow, the controls follow the parameters`, async () => {
    const base = `${ctx.url}?embed=1&experiments=zeros,constant5&epochs=8&height=32&width=32&lang=en`;
    const { page, problems } = await open(base, { width, height: 900 });
    assert.equal(await page.isVisible("#embed-bar"), true);
    assert.equal(await page.isVisible("#settings"), false);
    assert.equal(await page.isVisible("#embed-bar #run-all"), true);
    const data = await page.evaluate(() => window.initlab.runAll());
    assert.deepEqual(Object.keys(data), ["zeros", "constant5"]);
    const overflow = await horizontalOverflow(page);
    assert.equal(overflow.scrollWidth, overflow.clientWidth, `too wide: ${overflow.wide.join(", ")}`);
    await page.screenshot({ path: join(ROOT, "test-results", `embed-${width}.png`), fullPage: true });
    await page.close();

    const hidden = await open(`${base}&controls=0&autoplay=1&lang=zh`, { width, height: 900 });
    assert.equal(await hidden.page.isVisible("#embed-bar"), false);
    await hidden.page.waitForFunction(() => window.initlab.runs.length === 2 && window.initlab.runs.every((r) => r.status === "finished"));
    assert.equal(await hidden.page.evaluate(() => document.documentElement.lang), "zh-CN");
    assert.deepEqual(problems.console, []);
    await hidden.page.close();
  });
}

test("the Embed control gives an iframe snippet of the current state", async () => {
  const { page } = await open(`${ctx.url}?lr=0.02&experiments=kaiming`);
  await page.click("#embed");
  const code = await page.inputValue("#embed-code");
  assert.match(code, /^<iframe src="[^"]*embed=1[^"]*" /);
  assert.match(code, /lr=0\.02/);
  assert.match(code, /experiments=kaiming/);
  await page.close();
});

test("a lesson's embed shows the lesson, with no seed buttons; the seed's embed shows no empty explanation", async () => {
  // The snippet made after a lesson had no section=lab: it showed the seed's charts and played
  // the seed's runs. A lab embed's bar drove the seed's hidden runs, and a seed embed showed
  // the explanation, long and never filled in.
  const { page, problems } = await open(`${ctx.url}?lang=en`);
  await page.click('[data-lab-preset="tanh_bias"]');
  await page.waitForFunction(() => window.initlab.lab.data().claim, null, { timeout: 60_000 });
  await page.click("#embed");
  const code = await page.inputValue("#embed-code");
  const src = new URL(code.match(/src="([^"]+)"/)[1].replaceAll("&amp;", "&"));
  assert.equal(src.searchParams.get("section"), "lab");
  assert.equal(src.searchParams.get("lab.preset"), "tanh_bias");
  const embed = await open(src.href, { width: 700, height: 760 });
  await embed.page.waitForFunction(() => window.initlab.lab.data().claim, null, { timeout: 60_000 });
  assert.match(await embed.page.textContent(".lab-claim"), /^✓ /);
  assert.equal(await embed.page.evaluate(() => window.initlab.runs.length), 0, "no seed run");
  assert.equal(await embed.page.isVisible("#embed-bar #run-all"), false);
  assert.equal(await embed.page.isVisible("#charts"), false);
  // A seed run moves the section back: its link shows the seed's charts.
  await page.click("#run-all");
  await page.waitForFunction(() => !new URL(location.href).searchParams.has("section"));
  const seed = await open(`${ctx.url}?embed=1&experiments=zeros&epochs=3&height=16&width=16&autoplay=1`, { width: 700, height: 760 });
  await seed.page.waitForFunction(() => window.initlab.runs[0]?.status === "finished");
  assert.equal(await seed.page.isVisible("#explain"), false);
  assert.deepEqual([...problems.console, ...embed.problems.console, ...seed.problems.console], []);
  await Promise.all([page, embed.page, seed.page].map((p) => p.close()));
});

test("two Run alls at once: both resolve, with the runs' trajectories", async () => {
  // The second one's waiters replaced the first's, which never resolved.
  const { page, problems } = await open(`${ctx.url}?experiments=kaiming&epochs=200&height=32&width=32`);
  const both = await page.evaluate(async () => {
    const first = window.initlab.runAll();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = window.initlab.runAll();
    const late = new Promise((resolve) => setTimeout(resolve, 30_000, "late"));
    return Promise.race([Promise.all([first, second]).then((r) => r.map((t) => t.kaiming.loss.length)), late]);
  });
  assert.deepEqual(both, [200, 200]);
  assert.deepEqual(problems.console, []);
  await page.close();
});

test("dist/initlab.html runs runAll over file:// with no request off file:, data: and blob:", async () => {
  const file = join(ROOT, "dist/initlab.html");
  const size = (await stat(file)).size;
  console.log(`dist/initlab.html: ${(size / 1e6).toFixed(2)} MB`);
  const { page, problems } = await open(pathToFileURL(file).href + "?epochs=6&height=32&width=32");
  const data = await page.evaluate(() => window.initlab.runAll());
  assert.deepEqual(Object.keys(data).sort(), ["constant5", "kaiming", "single_conv_zeros", "zeros"]);
  for (const loss of data.zeros.loss) assert.ok(Math.abs(loss - Math.log(3)) < 1e-5);
  assert.deepEqual(problems.offOrigin, []);
  assert.deepEqual(problems.console, []);
  await page.close();
});

test("dist/ works under a sub-path of a static host", async () => {
  const sub = await serve(join(ROOT, "dist"), "/blog/posts/initlab/");
  try {
    const { page, problems } = await open(`${sub.url}?epochs=5&height=24&width=24`);
    const data = await page.evaluate(() => window.initlab.runAll());
    assert.equal(data.kaiming.loss.length, 5);
    assert.deepEqual(problems.console, []);
    assert.deepEqual(problems.offOrigin, []);
    await page.close();
  } finally {
    await sub.close();
  }
});

test("the exported CSV and JSON equal the records", async () => {
  const { page } = await open(`${ctx.url}?epochs=7&height=20&width=20`);
  const data = await page.evaluate(() => window.initlab.runAll());
  const save = async (button) => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
    return readFile(await download.path(), "utf8");
  };
  const json = JSON.parse(await save("#export-json"));
  for (const [key, trajectory] of Object.entries(data)) {
    assert.deepEqual(json[key].trajectory, trajectory, key);
    assert.equal(json[key].config.epochs, 7);
  }
  // Each run's label is the one the legend shows (it used to be undefined, and dropped).
  const legend = await page.textContent("#legend");
  for (const key of Object.keys(data)) {
    assert.equal(typeof json[key].label, "string", key);
    assert.ok(json[key].label.length > 0 && legend.includes(json[key].label), `${key}: ${json[key].label}`);
  }
  assert.ok(["Kaiming normal", "Kaiming 正态"].includes(json.kaiming.label), json.kaiming.label);
  const csv = (await save("#export-csv")).trim().split("\n");
  assert.equal(csv[0], ["run", "step", ...KEYS].join(","));
  const rows = csv.slice(1).map((line) => line.split(","));
  assert.equal(rows.length, 4 * 7);
  for (const row of rows) {
    const [run, step, ...values] = row;
    KEYS.forEach((key, k) => assert.equal(Number(values[k]), data[run][key][Number(step)], `${run} ${step} ${key}`));
  }
  const [png] = await Promise.all([page.waitForEvent("download"), page.click("#export-png")]);
  const bytes = await readFile(await png.path());
  assert.deepEqual([...bytes.subarray(1, 4)], [...Buffer.from("PNG")]);
  await page.close();
});

test("importing a fixture's safetensors with its config reproduces the fixture", async () => {
  const fixture = JSON.parse(await readFile(join(ROOT, "tests/fixtures/extra_batch3_momentum09.json"), "utf8"));
  const c = fixture.config;
  const query = new URLSearchParams({ ...c, zero_grad: c.zero_grad ? "1" : "0", init_value: c.init_value ?? "" });
  const { page, problems } = await open(`${ctx.url}?${query}`);
  await page.setInputFiles("#import", join(ROOT, "tests/fixtures", fixture.tensors));
  await page.waitForFunction(() => window.initlab.runs.some((r) => r.key.startsWith("import") && r.status === "finished"));
  const key = await page.evaluate(() => window.initlab.runs.find((r) => r.key.startsWith("import")).key);
  const ours = await page.evaluate((key) => window.initlab.trajectory(key), key);
  for (const k of KEYS) {
    fixture.trajectory[k].forEach((ref, step) => {
      assert.ok(Math.abs(ours[k][step] - ref) <= tolerance(fixture, k, ref), `${k} step ${step}: ${ours[k][step]} vs ${ref}`);
    });
  }
  assert.deepEqual(problems.console, []);
  await page.close();
});

test("a bad file is rejected cleanly and changes nothing", async () => {
  const { page, problems } = await open(`${ctx.url}?epochs=3&height=16&width=16`);
  await page.evaluate(() => window.initlab.runAll());
  const before = await page.evaluate(() => window.initlab.chartData());
  for (const [name, bytes, expect] of [
    ["empty.safetensors", Buffer.alloc(0), /not a readable safetensors file/],
    ["notes.safetensors", Buffer.from("hello, world"), /not a readable safetensors file/],
    ["kaiming.safetensors", await readFile(join(ROOT, "tests/fixtures/seed_kaiming.safetensors")), /shape \[1, 3, 224, 224\]; expected \[1, 3, 16, 16\]/],
  ]) {
    await page.setInputFiles("#import", { name, mimeType: "application/octet-stream", buffer: bytes });
    await page.waitForFunction((n) => {
      const message = document.getElementById("share-message");
      return message.dataset.kind === "error" && message.textContent.includes(n);
    }, name);
    assert.match(await page.textContent("#share-message"), expect);
  }
  assert.deepEqual(await page.evaluate(() => window.initlab.chartData()), before);
  assert.equal(await page.evaluate(() => window.initlab.runs.length), 4);
  assert.deepEqual(problems.console, []);
  await page.close();
});
