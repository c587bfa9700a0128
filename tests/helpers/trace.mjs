// Main-thread tasks from a Chromium trace (playwright's `browser.startTracing` with
// TRACE_CATEGORIES): each top-level task's CPU time and wall time. The responsiveness tests
// bound the CPU time, the page's own work: the wall time (the Long Tasks API's measure) also
// counts the time the OS gave the core to someone else, which on a loaded 2-core runner
// stretched 30 ms tasks past 60 ms.

import assert from "node:assert/strict";

/** The tasks (RunTask, with thread times) and the page's `performance.mark`s. */
export const TRACE_CATEGORIES = ["disabled-by-default-devtools.timeline", "blink.user_timing"];

/**
 * The renderer main thread's top-level tasks in a Chromium trace, as {ts, end} (trace µs) and
 * {cpu, wall} (ms), and the spans (ms) between the named `performance.mark`s, which the page
 * sets in this order: `within(i)` are the tasks wholly between mark i and mark i + 1; `list(i)`
 * prints those over 20 ms of CPU or 50 ms of wall time as `at: cpu/wall`.
 */
export function mainThreadTasks(events, marks) {
  const main = events.find((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain" &&
    events.some((m) => m.name === marks[0] && m.pid === e.pid));
  const at = marks.map((name) => events.find((e) => e.name === name && e.pid === main.pid).ts);
  const tasks = events
    .filter((e) => e.ph === "X" && e.name === "RunTask" && e.pid === main.pid && e.tid === main.tid)
    .map((e) => {
      assert.ok(e.tdur !== undefined, "the trace gives each task's thread time");
      return { ts: e.ts, end: e.ts + e.dur, cpu: e.tdur / 1000, wall: e.dur / 1000 };
    });
  const within = (i) => tasks.filter((t) => t.ts >= at[i] && t.end <= at[i + 1]);
  const round = (t) => `${Math.round((t.ts - at[0]) / 1000)}: ${t.cpu.toFixed(0)}/${t.wall.toFixed(0)}`;
  return {
    tasks,
    within,
    spans: at.slice(1).map((t, i) => Math.round((t - at[i]) / 1000)),
    list: (i) => `[${within(i).filter((t) => t.cpu > 20 || t.wall > 50).map(round).join(", ")}]`,
  };
}
