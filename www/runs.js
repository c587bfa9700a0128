// The runs on screen and their records: plain data, no DOM. The charts, the tables, the export
// and `window.initlab.runAll()` all read the same arrays, so what is drawn is what the engine
// returned. The store alone changes a run: its status (through the fixed set of STATUSES),
// whether it is shown, its backend and its records.

import { t } from "./i18n.js";
import { FACTS } from "./pkg/facts.js";
import { PRESET_KEYS } from "./state.js";

/** The seed's seven series, the reference fixtures' keys (the blog's five charts come first). */
export const SERIES_KEYS = FACTS.seedKeys;

// Okabe–Ito colours (distinguishable with every common colour-vision deficiency), each run also
// with its own dash pattern so colour is never the only cue.
const STYLES = [
  { color: "#D55E00", dash: [] },
  { color: "#0072B2", dash: [10, 5] },
  { color: "#009E73", dash: [2, 4] },
  { color: "#E69F00", dash: [12, 4, 3, 4] },
  { color: "#CC79A7", dash: [6, 3] },
  { color: "#56B4E9", dash: [1, 3] },
  { color: "#000000", dash: [16, 6] },
  { color: "#999933", dash: [4, 2, 4, 8] },
];
/** The four presets always wear the first four styles, in the order the post shows them. */
export function presetStyle(preset) {
  return STYLES[PRESET_KEYS.indexOf(preset)];
}

/**
 * Where a run is. starting: made in the store, not yet in the worker; ready: created, no step
 * yet; running: records arriving; paused: epochs left, not stepping (Pause, or the end of a
 * Step); then finished (every epoch), diverged (the loss or a weight is no longer finite) or
 * error (the GPU failed, the worker crashed, the step was refused).
 */
export const STATUSES = ["starting", "ready", "running", "paused", "finished", "diverged", "error"];
/** The status of a run that stopped, per kind of outcome (see outcome.js). */
const STOPPED_STATUS = { finished: "finished", diverged: "diverged", device: "error", crashed: "error", invalid: "error" };

/** The status a run that stopped with this outcome kind ends in. */
export function stoppedStatus(kind) {
  return STOPPED_STATUS[kind] ?? "error";
}

/** Whether a run can take no more steps. */
export function isDone(run) {
  return run.status === "finished" || run.status === "diverged" || run.status === "error" || run.steps >= run.config.epochs;
}

/** A run's name in the current language (the depth lab names its own runs). */
export function labelOf(run) {
  const { preset, custom, file, i18n } = run.name ?? {};
  if (preset) return t(`preset.${preset}`);
  if (file) return t("importRun", { file });
  if (i18n) return t(i18n, run.name.values);
  return t("customRun", { n: custom });
}

export class RunStore {
  constructor() {
    /** @type {Run[]} */
    this.runs = [];
    this.customCount = 0;
    this.listeners = new Set();
  }

  /**
   * Adds a run (or returns the existing one with that key, emptied), status "starting".
   * `name` is what labelOf reads; `tensors` the imported file's bytes, kept for a reset.
   */
  upsert(key, { preset = null, config, name, tensors, backend = null }) {
    let run = this.get(key);
    if (!run) {
      const used = new Set(this.runs.map((r) => r.styleIndex));
      const styleIndex = PRESET_KEYS.includes(preset)
        ? PRESET_KEYS.indexOf(preset)
        : [4, 5, 6, 7, 0, 1, 2, 3].find((i) => !used.has(i)) ?? this.runs.length % STYLES.length;
      run = { key, preset, styleIndex, show: true, ...STYLES[styleIndex] };
      this.runs.push(run);
    }
    Object.assign(run, {
      config,
      name,
      tensors,
      backend,
      status: "starting",
      message: "",
      // A stack's keys arrive with its first record; the seed's seven exist from the start.
      records: config.arch === "stack" ? {} : emptySeries(),
      /** step → every parameter and gradient at that step (see worker.js). */
      snapshots: new Map(),
      steps: 0,
    });
    this.changed();
    return run;
  }

  /** A fresh key for a run that is not a preset: `custom1`, `import2`, … */
  nextCustomKey(prefix = "custom") {
    this.customCount += 1;
    return { key: `${prefix}${this.customCount}`, n: this.customCount };
  }

  get(key) {
    return this.runs.find((r) => r.key === key);
  }

  /** Moves a run to one of the STATUSES; `message` says why it stopped (the engine's words). */
  setStatus(key, status, message = "") {
    if (!STATUSES.includes(status)) throw new Error(`runs: unknown status "${status}"`);
    const run = this.get(key);
    if (!run) return;
    Object.assign(run, { status, message });
    this.changed();
  }

  /** Shows or hides a run's lines in the charts. */
  toggle(key) {
    const run = this.get(key);
    if (!run) return;
    run.show = !run.show;
    this.changed();
  }

  /** The backend a run now runs on (WebGPU failed over to the CPU). */
  setBackend(key, backend) {
    const run = this.get(key);
    if (!run) return;
    run.backend = backend;
    this.changed();
  }

  remove(key) {
    this.runs = this.runs.filter((r) => r.key !== key);
    this.changed();
  }

  append(key, records) {
    const run = this.get(key);
    if (!run) return;
    for (const record of records) {
      // Every key the engine recorded: the seed's seven, or a stack's scalars and per-layer arrays.
      for (const [k, v] of Object.entries(record)) {
        if (k !== "step" && k !== "snapshot") (run.records[k] ??= []).push(v);
      }
      if (record.snapshot) run.snapshots.set(record.step, record.snapshot);
    }
    run.steps = run.records.loss.length;
    if (run.status === "starting" || run.status === "ready" || run.status === "paused") run.status = "running";
    this.changed();
  }

  /** The engine stopped stepping a running run before its last epoch (see STATUSES). */
  idle(key) {
    if (this.get(key)?.status === "running") this.setStatus(key, "paused");
  }

  /** Every series of a run (the seed's seven, or a stack's keys), as copies (safe to hand out). */
  trajectory(key) {
    const run = this.get(key);
    return run ? Object.fromEntries(Object.entries(run.records).map(([k, v]) => [k, structuredClone(v)])) : null;
  }

  onChange(listener) {
    this.listeners.add(listener);
  }

  changed() {
    for (const listener of this.listeners) listener(this);
  }
}

export function emptySeries() {
  return Object.fromEntries(SERIES_KEYS.map((k) => [k, []]));
}
