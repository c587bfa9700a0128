// The charts' axis labels (www/chart.js, drawn by uPlot on its canvas): adjacent ticks never
// read the same, however little a series moves around a large value (constant 5's weight mean).

import { test } from "node:test";
import assert from "node:assert/strict";
import { tickLabels } from "../www/chart.js";

test("ticks 1e-7 apart around 5 get the decimals that tell them apart", () => {
  const ticks = [4.9999998, 4.9999999, 5, 5.0000001, 5.0000002];
  const labels = tickLabels(ticks);
  assert.deepEqual(labels, ["4.9999998", "4.9999999", "5.0000000", "5.0000001", "5.0000002"]);
  assert.deepEqual(tickLabels([0, 0.5, 1, 1.5]), ["0", "0.5", "1", "1.5"], "ordinary ranges keep short labels");
  assert.deepEqual(tickLabels([1e-5, 2e-5]), ["1.0e-5", "2.0e-5"]);
});
