// Random use: a seeded stream of clicks, choices and entries, valid and not, over whatever
// controls the page shows at each moment (the seed's form and charts, the explanation, the
// depth lab and its backward view), with no waiting for runs to finish. The page must throw
// nothing and log no error, and afterwards still train: the four presets and one lesson run to
// their end. A random click found a crash that no written test had (a stack run picked before
// its first record, 77b19fa); this keeps looking.
//
// More seeds or longer walks by hand: MONKEY_SEEDS=1,2,3,4,5 MONKEY_ACTIONS=300 node --test tests/monkey.test.mjs

import { test } from "node:test";
import assert from "node:assert/strict";
import { useBrowser } from "./helpers/browser.mjs";

const ctx = useBrowser();
const SEEDS = (process.env.MONKEY_SEEDS ?? "1,2").split(",").map(Number);
const ACTIONS = Number(process.env.MONKEY_ACTIONS ?? 120);

/** What the monkey types into a field: in range, out of range, and not numbers at all. */
const ENTRIES = ["", "0", "1", "2", "3", "-1", "0.5", "0.01", "7", "16", "33", "1e9", "NaN", "Infinity", "abc", " 4 ", "1e-3", "2.5"];

/**
 * One action in the page, chosen by `r` and `s` (two uniform numbers in [0, 1)): a visible,
 * enabled control is picked, then clicked, set to one of its options, filled or slid.
 * Returns what it did, for the log. Links and the file picker are left alone (they leave the
 * page or open a dialog), and so is the backend picker: on ndarray every run moves to the full
 * module, where a lesson takes minutes (3 s a step for glorot2010's on 2026-12-07), and the
 * walk would time the wait, not look for faults.
 */
function act([r, s, entries]) {
  const skipped = ["field-backend"];
  const shown = (el) => el.getClientRects().length > 0 && !el.closest("[hidden]") && !el.disabled;
  const controls = [...document.querySelectorAll("button, select, input, summary")].filter(
    (el) => shown(el) && el.type !== "file" && !el.readOnly && !skipped.includes(el.id),
  );
  if (controls.length === 0) return "no control";
  const el = controls[Math.floor(r * controls.length)];
  const name = `${el.tagName.toLowerCase()}#${el.id || el.dataset.i18n || el.dataset.comparison || el.name || "?"}`;
  const fire = (...types) => types.forEach((type) => el.dispatchEvent(new Event(type, { bubbles: true })));
  if (el.tagName === "SELECT") {
    const options = [...el.options].filter((o) => !o.disabled);
    if (options.length === 0) return `${name}: no option`;
    el.value = options[Math.floor(s * options.length)].value;
    fire("input", "change");
    return `${name} = ${el.value}`;
  }
  if (el.tagName === "INPUT" && el.type === "range") {
    const [min, max] = [Number(el.min || 0), Number(el.max || 100)];
    el.value = String(Math.round(min + s * (max - min)));
    fire("input", "change");
    return `${name} = ${el.value}`;
  }
  if (el.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(el.type)) {
    el.value = entries[Math.floor(s * entries.length)];
    fire("input", "change");
    return `${name} = ${JSON.stringify(el.value)}`;
  }
  el.click();
  return `click ${name}`;
}

/**
 * `action` evaluated in `page`, or, if it takes over `ms`, a failure that says what every run
 * of the page and of the lab was doing then.
 */
async function within(page, ms, what, last, action) {
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, ms, "late")));
  const result = await Promise.race([page.evaluate(action), late]);
  clearTimeout(timer);
  if (result !== "late") return result;
  const doing = await page.evaluate(() => {
    const engine = window.initlab.__engine;
    const where = (key) => `worker ${engine.home.get(key)}, ${window.initlab.runs.find((r) => r.key === key)?.backend ?? "a lab or explanation run"}`;
    return [...window.initlab.runs, ...window.initlab.lab.data().runs].map(
      (r) => `${r.key}: ${r.status} at step ${r.steps} of ${r.config.epochs} (${where(r.key)}; ${JSON.stringify(r.config)})`,
    );
  });
  assert.fail(`${what} took over ${ms / 1000} s; the runs:\n  ${doing.join("\n  ")}\n${last}`);
}

/** Mulberry32: a small seeded generator, so a failing walk can be walked again. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const seed of SEEDS) {
  test(`a random walk of ${ACTIONS} actions (seed ${seed}): no error, and the page still trains`, async () => {
    // Small runs, so that many start and stop within the walk.
    const { page, problems } = await ctx.open("?epochs=8&height=16&width=16", {
      initScript: () => {
        window.alert = window.confirm = window.prompt = () => {};
      },
    });
    const random = generator(seed);
    const log = [];
    for (let i = 0; i < ACTIONS && problems.console.length === 0; i++) {
      log.push(await page.evaluate(act, [random(), random(), ENTRIES]));
      await page.waitForTimeout(Math.floor(random() * 120));
    }
    const last = `the last actions:\n  ${log.slice(-12).join("\n  ")}`;
    assert.deepEqual(problems.console, [], last);

    // Still alive: the presets run to their end (an entry the form refused left the settings
    // as they were; the explanation's comparison runs may still be going, or wait for Play after
    // a Reset), and a lesson of the lab runs to its claim.
    const runs = await within(page, 60_000, "Run all", last, async () => {
      const presets = Object.keys(await window.initlab.runAll());
      return window.initlab.runs.filter((run) => presets.includes(run.key)).map((run) => [run.key, run.status, run.steps, run.config.epochs]);
    });
    assert.ok(runs.length > 0, last);
    for (const [key, status, steps, epochs] of runs) {
      assert.equal(status, "finished", `${key}: ${status}\n${last}`);
      assert.equal(steps, epochs, key);
    }
    const lesson = await within(page, 60_000, "the zeros lesson", last, async () => {
      await window.initlab.lab.runPreset("zeros");
      return window.initlab.lab.data();
    });
    assert.ok(lesson.runs.length > 0 && lesson.runs.every((run) => run.status === "finished"), last);
    assert.deepEqual([lesson.claim?.id, lesson.claim?.holds], ["zeros", true], `${lesson.claimText}\n${last}`);
    assert.deepEqual(problems.console, [], last);
    console.log(`seed ${seed}: ${log.length} actions, ${log.filter((a) => a.startsWith("click")).length} clicks; then ${runs.length} runs and a lesson`);
    await page.close();
  });
}
