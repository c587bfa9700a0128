// The worker pool (www/engine.js): independent runs train in parallel, each in one worker for
// good, with exactly the numbers of a single worker; a worker that dies takes only its own
// runs through recovery.

import { test } from "node:test";
import assert from "node:assert/strict";
import { useBrowser, watchedPage } from "./helpers/browser.mjs";

const ctx = useBrowser();
const QUERY = "epochs=8&height=24&width=20";
/** Each download of the flex module (either build: www/relaxed.js) by a watched page, by file name. */
const flexDownloads = (problems) => problems.requests.filter((url) => /initlab_flex(_fma)?_bg\.wasm$/.test(url)).map((url) => url.split("/").pop());

test("two workers share the four runs and one compiled module, and give the numbers of one", async () => {
  const one = await ctx.open(`?${QUERY}&workers=1`);
  const single = await one.page.evaluate(() => window.initlab.runAll());
  assert.equal((await one.page.evaluate(() => window.initlab.__engine.memory())).length, 1);
  await one.page.close();

  const two = await ctx.open(`?${QUERY}&workers=2`);
  const pooled = await two.page.evaluate(() => window.initlab.runAll());
  const homes = await two.page.evaluate(() => [...window.initlab.__engine.home.values()]);
  assert.deepEqual(homes.sort(), [0, 0, 1, 1], "two runs per worker");
  assert.deepEqual(pooled, single, "bit-identical to one worker");
  const memory = await two.page.evaluate(() => window.initlab.__engine.memory());
  console.log(`wasm memory per worker: ${memory.map((m) => m.wasm).join(", ")} bytes`);
  assert.equal(memory.length, 2);
  // The second worker instantiates the first one's compiled module (worker.js hello).
  const modules = flexDownloads(two.problems);
  assert.equal(modules.length, 1, `one flex module downloaded for two workers: ${modules}`);
  assert.deepEqual(two.problems.console, []);
  await two.page.close();
});

test("where a WebAssembly.Module cannot be posted, the second worker loads its own, same numbers", async () => {
  // As a browser without Module cloning would: postMessage throws DataCloneError.
  const noModuleCloning = () => {
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (message, ...rest) {
      if (message?.module?.module instanceof WebAssembly.Module) throw new DOMException("no Module cloning", "DataCloneError");
      return post.call(this, message, ...rest);
    };
  };
  const { page, problems } = await ctx.open(`?${QUERY}&workers=2`, { initScript: noModuleCloning });
  const pooled = await page.evaluate(() => window.initlab.runAll());
  const modules = await page.evaluate(async () => {
    await window.initlab.__engine.openAll();
    return (await window.initlab.__engine.memory()).map((m) => m.shared);
  });
  assert.deepEqual(modules, [false, false], "neither worker runs a shared module");
  assert.equal(flexDownloads(problems).length, 2, "each worker downloads its own");
  const one = await ctx.open(`?${QUERY}&workers=1`);
  assert.deepEqual(pooled, await one.page.evaluate(() => window.initlab.runAll()), "bit-identical to one worker");
  assert.deepEqual(problems.console, []);
  await one.page.close();
  await page.close();
});

test("where the host lacks the fused build, the worker runs the plain one", async () => {
  // A copy of the site made before initlab_flex_fma_bg.wasm existed: it answers 404.
  const { page, problems } = await watchedPage(ctx.browser, ctx.url);
  await page.context().route("**/initlab_flex_fma_bg.wasm", (route) => route.fulfill({ status: 404, body: "not found" }));
  await page.goto(`${ctx.url}?${QUERY}&workers=1`);
  await page.evaluate(() => window.initlab.ready);
  const data = await page.evaluate(() => window.initlab.runAll());
  assert.equal(data.kaiming.loss.length, 8);
  assert.deepEqual((await page.evaluate(() => window.initlab.__engine.memory())).map((m) => m.module), ["initlab_flex"]);
  assert.deepEqual(flexDownloads(problems), ["initlab_flex_fma_bg.wasm", "initlab_flex_bg.wasm"]);
  assert.deepEqual(problems.console.filter((e) => !/404/.test(e)), []);
  await page.close();
});

test("a worker that traps is replaced alone (one crash counted), and every run's numbers come back", async () => {
  const { page } = await ctx.open(`?${QUERY}&workers=2`);
  const first = await page.evaluate(() => window.initlab.runAll());
  const homes = await page.evaluate(() => Object.fromEntries(window.initlab.__engine.home));
  const victim = Object.keys(homes).find((run) => homes[run] === 1);
  await page.evaluate((run) => window.initlab.__engine.request("crash", { run }).catch(() => {}), victim);
  await page.waitForFunction(() => window.initlab.__engine.crashes === 1 && !window.initlab.__engine.recovering);
  assert.match(await page.textContent("#status"), /crashed|崩溃/);
  await page.click("#reset");
  await page.click("#play");
  await page.waitForFunction(() => window.initlab.runs.every((r) => r.status === "finished"));
  for (const key of Object.keys(first)) assert.deepEqual(await page.evaluate((k) => window.initlab.trajectory(k), key), first[key], key);
  await page.close();
});

test("a bad workers value is reported and the pool sized from the machine", async () => {
  const { page } = await ctx.open("?workers=99");
  assert.match(await page.textContent("#status"), /workers: must be an integer from 0 to 8/);
  await page.close();
});
