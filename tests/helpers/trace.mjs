// Tasks from a Chromium trace (playwright's `browser.startTracing` with TRACE_CATEGORIES):
// each top-level task's CPU time and wall time, per thread (`threadTasks`) or for the page's
// main thread between marks (`mainThreadTasks`). The responsiveness tests bound the CPU time,
// the page's own work: the wall time (the Long Tasks API's measure) also counts the time the
// OS gave the core to someone else, which on a loaded 2-core runner stretched 30 ms tasks
// past 60 ms.

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
  const thread = threadTasks(events).get(`${main.pid}:${main.tid}`) ?? { tasks: [], untimed: 0 };
  const tasks = thread.tasks;
  assert.ok(thread.untimed <= tasks.length / 100, `the main thread's tasks have thread times: ${thread.untimed} of ${tasks.length + thread.untimed} have none`);
  const within = (i) => tasks.filter((t) => t.ts >= at[i] && t.end <= at[i + 1]);
  const round = (t) => `${Math.round((t.ts - at[0]) / 1000)}: ${t.cpu.toFixed(0)}/${t.wall.toFixed(0)}`;
  return {
    tasks,
    within,
    spans: at.slice(1).map((t, i) => Math.round((t - at[i]) / 1000)),
    list: (i) => `[${within(i).filter((t) => t.cpu > 20 || t.wall > 50).map(round).join(", ")}]`,
  };
}

/**
 * Every thread's top-level tasks (RunTask), keyed by "pid:tid": `{name, tasks, untimed}`, each
 * task as {ts, end} (trace µs) and {cpu, wall} (ms). Chromium now and then leaves out a task's
 * thread time (`tdur`; once in a 2,000-step soak on a loaded runner, 0 of ~3,400 tasks in three
 * runs here): such tasks are counted in `untimed`, not listed, and `mainThreadTasks` refuses a
 * main thread with more than 1% of them.
 */
export function threadTasks(events) {
  const threads = new Map();
  const thread = (key, name = key) => {
    if (!threads.has(key)) threads.set(key, { name, tasks: [], untimed: 0 });
    return threads.get(key);
  };
  for (const e of events) {
    if (e.name === "thread_name") thread(`${e.pid}:${e.tid}`, e.args.name).name = e.args.name;
  }
  for (const e of events) {
    if (e.ph !== "X" || e.name !== "RunTask") continue;
    const t = thread(`${e.pid}:${e.tid}`);
    if (e.tdur === undefined) t.untimed++;
    else t.tasks.push({ ts: e.ts, end: e.ts + e.dur, cpu: e.tdur / 1000, wall: e.dur / 1000 });
  }
  return threads;
}
