// The charts' axes (www/chart.js, drawn by uPlot on its canvas): adjacent ticks never read the
// same, however little a series moves around a large value (constant 5's weight mean), and no
// series, however flat or small, leaves uPlot without an axis it can draw.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { briefAbove, logTicks, tickLabels } from "../www/chart.js";
import { useBrowser } from "./helpers/browser.mjs";

test("a bound in three digits is never below the value it bounds", () => {
  // The backward view's "≤ 2.91" sat below its map's max, 2.91063.
  const cases = [[2.91063, "2.92"], [0.72114, "0.722"], [0.25021, "0.251"], [0.25, "0.25"], [9.996, "10"], [1.23e-5, "1.23e-5"], [1.2341e-5, "1.24e-5"], [123456, "1.24e+5"], [0, "0"]];
  for (const [v, text] of cases) {
    assert.equal(briefAbove(v), text, String(v));
    assert.ok(Number(briefAbove(v)) >= v, `${briefAbove(v)} ≥ ${v}`);
  }
  for (let i = 0; i < 2000; i++) {
    const v = Math.exp(40 * Math.random() - 20);
    assert.ok(Number(briefAbove(v)) >= v, `${briefAbove(v)} ≥ ${v}`);
  }
});

test("ticks 1e-7 apart around 5 get the decimals that tell them apart", () => {
  const ticks = [4.9999998, 4.9999999, 5, 5.0000001, 5.0000002];
  const labels = tickLabels(ticks);
  assert.deepEqual(labels, ["4.9999998", "4.9999999", "5.0000000", "5.0000001", "5.0000002"]);
  assert.deepEqual(tickLabels([0, 0.5, 1, 1.5]), ["0", "0.5", "1", "1.5"], "ordinary ranges keep short labels");
  assert.deepEqual(tickLabels([1e-5, 2e-5]), ["1.0e-5", "2.0e-5"]);
  // Beyond toFixed: ticks 1e11 apart near 1e20 (it threw, and the chart was lost) and 2e-30
  // apart near 1e-20 (every label read "0.000000000000000").
  for (const ticks of [[1e20, 1.000000001e20, 1.000000002e20], [1e-20, 1e-20 + 2e-30, 1e-20 + 4e-30], [-3e-9, -3e-9 + 1e-17]]) {
    const labels = tickLabels(ticks);
    assert.equal(new Set(labels).size, ticks.length, `${labels}`);
    labels.forEach((label, i) => assert.ok(Math.abs(Number(label) - ticks[i]) < (ticks[1] - ticks[0]) / 2, `${label} for ${ticks[i]}`));
  }
});

test("log ticks: digits within a decade, 1-2-5 over two, powers of ten over many, always a few and in range", () => {
  assert.deepEqual(logTicks(0.27, 1.4), [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
  assert.deepEqual(logTicks(0.4, 60), [0.5, 1, 2, 5, 10, 20, 50]);
  assert.deepEqual(logTicks(0.9, 1.1), [0.9, 1]);
  for (const [min, max] of [[1e-25 / 1.2, 1.2], [1e-300, 2], [1e-30, 1e-25], [3e-7, 4e12]]) {
    const ticks = logTicks(min, max);
    assert.ok(ticks.length >= 3 && ticks.length <= 10, `${min}..${max}: ${ticks}`);
    assert.ok(ticks.every((t, i) => t >= min && t <= max && (i === 0 || t > ticks[i - 1])), `${ticks}`);
    assert.ok(ticks.every((t) => Number.isInteger(Math.log10(t)) || String(t).startsWith("1e")), `powers of ten: ${ticks}`);
  }
  assert.deepEqual(logTicks(0, 1), [], "no log axis without a positive minimum");
});

describe("drawn by uPlot", () => {
  const ctx = useBrowser();

  // Each of these hung uPlot's tick loop until its array of ticks overflowed ("Invalid array
  // length"), and the chart was lost: one moved by an ulp (an f64 run's mean), the others fell
  // below about 1e-22 on the log axis. A random walk through the page found the first.
  test("series that move by one ulp, or fall to 1e-300 on a log axis, draw without an error", async () => {
    const { page, problems } = await ctx.open("tests/helpers/blank.html", { ready: false });
    const cases = [
      [[1, 1 + 2 ** -52], false],
      [[5, 5 + 2 ** -50, 5], false],
      [[-2, -2 - 2 ** -51], false],
      // uPlot's tick steps stop far below 1e300: this axis gets no ticks, and no error.
      [[1e300, -1e300], false, false],
      [[1.1, 1e-25], true],
      [[1e-30, 1e-25, 1e-28], true],
      [[1, 1e-300], true],
      [[1e20, 1.000000001e20], false],
    ];
    const drawn = await page.evaluate(async (cases) => {
      await new Promise((loaded, failed) => {
        const script = Object.assign(document.createElement("script"), { src: "/www/vendor/uPlot.iife.min.js", onload: loaded, onerror: failed });
        document.head.append(script);
      });
      const { LineChart } = await import("/www/chart.js");
      const scales = [];
      for (const [values, log] of cases) {
        const holder = document.body.appendChild(Object.assign(document.createElement("div"), { style: "width: 400px" }));
        const chart = new LineChart(holder, { title: "t" });
        chart.update([{ id: "a", label: "a", color: "#000", dash: [], values, show: true }], { log });
        await new Promise((frame) => requestAnimationFrame(() => setTimeout(frame)));
        const { min, max } = chart.plot.scales.y;
        // `_splits` is uPlot's own record of the ticks it drew (the vendored v1.6.32 keeps the
        // name), null where it found no tick step.
        scales.push([min, max, chart.plot.axes[1]._splits?.length ?? 0]);
      }
      return scales;
    }, cases);
    assert.deepEqual(problems.console, []);
    drawn.forEach(([min, max, ticks], i) => {
      const [values, , ticked = true] = cases[i];
      assert.ok(min <= Math.min(...values) && max >= Math.max(...values) && min < max, `case ${i}: [${min}, ${max}]`);
      assert.ok(ticked ? ticks > 0 && ticks < 50 : ticks === 0, `case ${i}: ${ticks} ticks`);
    });
  });
});
