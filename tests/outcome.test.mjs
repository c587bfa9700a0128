// How a run stopped: the engine's words (StepError's Display in crate/src/train.rs, a wasm
// trap, a refused request) read once into a kind, and the status the store gives the run.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ERROR_NAMES, KINDS, errorOf, outcomeOf } from "../www/outcome.js";
import { RunStore, STATUSES, isDone, stoppedStatus } from "../www/runs.js";

test("each engine message has its kind", () => {
  const cases = [
    ["finished", "finished"],
    ["finished: all 40 epochs are done", "finished"],
    ["diverged at step 7: the loss or a weight is no longer a finite number", "diverged"],
    ["device error: Buffer mapping failed", "device"],
    ["unreachable", "crashed"],
    ["RuntimeError: unreachable executed", "crashed"],
    ["memory access out of bounds", "crashed"],
    ["Aborted(OOM)", "crashed"],
    ["epochs: an integer from 1 to 100000", "invalid"],
    ["step: the previous step of this experiment has not finished; await it first", "invalid"],
    ["worker: no run \"x\"", "invalid"],
  ];
  for (const [message, kind] of cases) assert.equal(outcomeOf(message), kind, message);
  // An Error the engine already named wins over its text.
  assert.equal(outcomeOf("anything", "DivergedError"), "diverged");
  assert.equal(outcomeOf("anything", "device"), "device");
  assert.equal(outcomeOf("anything", "RuntimeError"), "crashed");
});

test("a rejected request's Error is named after its kind", () => {
  for (const kind of KINDS) {
    const error = errorOf(kind, "why");
    assert.ok(error instanceof Error);
    assert.equal(error.name, ERROR_NAMES[kind]);
    assert.equal(error.kind, kind);
    assert.equal(error.message, "why");
  }
  assert.equal(errorOf(undefined, "why").name, "InvalidError");
});

test("a stopped run ends finished, diverged or error, and takes no more steps", () => {
  assert.deepEqual(KINDS.map(stoppedStatus), ["finished", "diverged", "error", "error", "error"]);
  const store = new RunStore();
  let changes = 0;
  store.onChange(() => changes++);
  const run = store.upsert("zeros", { preset: "zeros", config: { arch: "two_conv", epochs: 3 }, name: { preset: "zeros" } });
  assert.equal(run.status, "starting");
  store.setStatus("zeros", "ready");
  store.append("zeros", [{ step: 0, loss: 1 }]);
  assert.equal(run.status, "running");
  assert.equal(isDone(run), false);
  store.idle("zeros");
  assert.equal(run.status, "paused", "stopped stepping with epochs left");
  assert.equal(isDone(run), false);
  store.append("zeros", [{ step: 1, loss: 1 }]);
  assert.equal(run.status, "running", "stepping again");
  store.setStatus("zeros", stoppedStatus(outcomeOf("device error: lost")), "device error: lost");
  assert.deepEqual([run.status, run.message, isDone(run)], ["error", "device error: lost", true]);
  assert.throws(() => store.setStatus("zeros", "stopped"), /unknown status/);
  assert.ok(STATUSES.includes(run.status));
  store.toggle("zeros");
  assert.equal(run.show, false);
  store.idle("zeros");
  assert.equal(run.status, "error", "a stopped run is not paused");
  assert.equal(changes, 7, "upsert, ready, records, pause, records, error, toggle: each tells the view");
});
