// Init Lab's page: settings from the URL, the training worker, and the actions behind every
// button. The DOM is built and redrawn by view.js; this file decides what happens.

import { embeddingApi } from "./api.js";
import { Engine, poolSize } from "./engine.js";
import { COMPARISONS } from "./explain/comparisons.js";
import { initialLang, setLang, t } from "./i18n.js";
import { DepthLab, LAB_PREFIX } from "./lab/lab.js";
import { RunStore, isDone, labelOf, stoppedStatus } from "./runs.js";
import { BACKENDS } from "./backends.js";
import { FACTS } from "./pkg/facts.js";
import { PRESET_KEYS, configOf, defaultBackend, defaults, fromQuery, isDefault, labConfigOf, presetConfig, toQuery } from "./state.js";
import { View } from "./view.js";

const store = new RunStore();
/**
 * The explanation's own runs (its 2×2, the BatchNorm pair, the stack variants): drawn in the
 * explanation only. The main charts, their tables and the CSV/JSON export show the runs the
 * reader started, with the seed's seven keys; a stack run has other keys.
 */
const extra = new RunStore();
const { settings, problems } = fromQuery(location.search);
let engine;
let view;
/** The backends the worker offers, and the one new runs use when the settings name none. */
const backends = {
  // Until the worker answers: what it offers without a GPU.
  offered: BACKENDS.all.filter((b) => b !== "webgpu"),
  fallback: BACKENDS.cpu,
  /** `cargo xtask serve` is still building the ndarray and WebGPU module. */
  building: false,
};
/** The backend new runs use: the chosen one, else the default for this browser. */
const backendOf = () => settings.backend || backends.fallback;
/** The depth lab (www/lab/): its runs share the worker, with keys starting "lab:". */
let lab;
const isLab = (run) => run.startsWith(LAB_PREFIX);
/** The store a run's records go to: the lab's, the explanation's, or the main one. */
const storeOf = (key) => (isLab(key) ? lab.store : extra.get(key) ? extra : store);
/** Resolvers waiting for runs to stop, keyed by run. */
const stopWaiters = new Map();

/** How the page starts its worker: boot.js (already started) or the single-file build. */
const boot = window.__initlabBoot ?? {
  makeWorker: () => new Worker(new URL("./worker.js", import.meta.url), { type: "module" }),
  wasmBytes: undefined,
};

async function start() {
  performance.mark("initlab:start");
  setLang(initialLang(settings.lang));
  view = new View({ store, extra, settings, actions, backends: () => backends.offered, backend: backendOf,
    building: () => backends.building });
  view.status(() => t("loading"));
  engine = new Engine(boot, {
    onRecords: (run, records) => {
      if (isLab(run)) return lab?.records(run, records);
      storeOf(run).append(run, records);
      view.announce(storeOf(run).get(run));
    },
    onStopped: (run, outcome) => (isLab(run) ? lab?.stopped(run, outcome) : stopped(run, outcome)),
    onIdle: (run, step, { afterCrash = false } = {}) => {
      // The lab's runs go to their last epoch: one stops short only when its worker crashed
      // again while it trained (see Engine.crash), and the lesson must not wait for it.
      if (isLab(run)) return afterCrash && lab?.stopped(run, { kind: "crashed", message: t("stoppedByCrash", { step }) });
      storeOf(run).idle(run);
      view.announce(storeOf(run).get(run));
      if (afterCrash && !store.runs.some((r) => r.status === "running")) view.setPlaying(false);
    },
    onCrash: (reason) => view.status(() => t("crashed", { message: reason }), "error"),
    onFellBack: (run, backend, message) => {
      const r = storeOf(run).get(run);
      storeOf(run).setBackend(run, backend);
      view.status(() => t("fellBack", { run: r ? labelOf(r) : run, message }), "error");
    },
  }, { workers: settings.workers || poolSize() });
  try {
    const info = await engine.start();
    performance.mark("initlab:engine");
    const backendProblem = offerBackends(info);
    if (info.building) watchBackends();
    const urlProblems = await sanitizeSettings();
    if (backendProblem) urlProblems.push(backendProblem);
    view.render();
    lab = new DepthLab(document.getElementById("lab"), {
      settings,
      fields: FACTS.fields,
      engine: {
        // The lab's deep runs keep their snapshots in the worker (see worker.js create).
        create: (key, config) => engine.create(key, config, backendOf(), undefined, { keepSnapshots: true }),
        snapshotAt: (key, step) => engine.request("snapshotAt", { run: key, step }),
        advance: (key, steps) => engine.advance(key, steps),
        free: (key) => engine.free(key),
        validate: (config) => engine.validate(config),
        blockMaps: (key, params) => actions.blockMaps(key, params),
      },
      syncUrl,
      showSection,
      onError: (error) => view.fail("lab", error),
    });
    document.body.classList.toggle("section-lab", settings.section === "lab");
    if (settings.section === "lab" && !settings.embed) document.getElementById("lab").scrollIntoView();
    if (urlProblems.length) view.status(() => `${readyWords()} ${urlProblems.map((m) => `URL: ${m}`).join("; ")}`, "error");
    else view.status(readyWords);
    document.getElementById("app").setAttribute("aria-busy", "false");
    performance.mark("initlab:ready");
    if (settings.autoplay && settings.section === "lab") lab.guard(lab.replayLink());
    else if (settings.autoplay) actions.runAll();
  } catch (error) {
    view.status(t("loadFailed", { message: error.message }), "error");
    throw error;
  }
}

/**
 * URL values are only parsed in state.js; their ranges are the engine's to judge. Each config
 * value the engine rejects falls back to its default, and the page says which and why.
 */
async function sanitizeSettings() {
  const messages = problems.map((p) => `${p.key}: ${p.message}`);
  // The seed's settings, then the depth lab's (`lab.<key>` in the page, `<key>` to the engine).
  const fresh = defaults();
  for (const [configFor, prefix] of [[configOf, ""], [labConfigOf, "lab."]]) {
    for (let attempt = 0; attempt < 24; attempt++) {
      try {
        await engine.validate(configFor(settings));
        break;
      } catch (error) {
        const named = `${prefix}${error.message.split(":")[0]}`;
        if (!(named in settings)) break;
        // The field the engine names falls back to its default. If it holds its default
        // already, the value at fault is another one (init "constant" without init_value names
        // init_value): the changed field the message mentions, else the section's first changed one.
        const changed = Object.keys(configFor(settings)).map((k) => `${prefix}${k}`).filter((k) => k in settings && !isDefault(settings, k));
        const mentioned = (k) => new RegExp(`\\b${k.slice(prefix.length)}\\b`).test(error.message.slice(error.message.indexOf(":") + 1));
        const field = !isDefault(settings, named) ? named : changed.find(mentioned) ?? changed[0];
        if (!field) break;
        messages.push(field === named ? `${prefix}${error.message}` : `${prefix}${error.message} ${t("urlReset", { field, value: String(fresh[field]) })}`);
        settings[field] = fresh[field];
      }
    }
  }
  if (messages.length) {
    view.form.build();
    syncUrl();
  }
  return messages;
}

/**
 * Takes the worker's backends; a backend the URL asks for that this browser lacks gives way
 * to the default, and the page says so (the message is returned).
 */
function offerBackends({ backends: offered, gpu, building = false }) {
  Object.assign(backends, { offered, fallback: defaultBackend(offered, gpu), building });
  let problem = null;
  if (settings.backend && !offered.includes(settings.backend)) {
    problem = t("backendUnavailable", { backend: settings.backend, fallback: backends.fallback });
    settings.backend = "";
  }
  view.form.build();
  return problem;
}

/** While `cargo xtask serve` still builds the ndarray and WebGPU module, ask every 5 s. */
function watchBackends() {
  const timer = setInterval(async () => {
    const info = await engine.request("backends").catch(() => null);
    if (!info || info.building) return;
    clearInterval(timer);
    offerBackends(info);
  }, 5000);
}

const actions = {
  /** Checks one changed setting with the engine; applies it only if the whole config passes. */
  async changeSetting(key, value) {
    const candidate = { ...settings, [key]: value };
    if (key in configOf(settings)) {
      try {
        await engine.validate(configOf(candidate));
      } catch (error) {
        return error.message;
      }
    }
    settings[key] = value;
    syncUrl();
    return null;
  },

  setView(key, value) {
    settings[key] = value;
    syncUrl();
    view.render();
  },

  async runPreset(preset) {
    showSection("seed");
    await startRun(preset, { preset, config: presetConfig(settings, preset) });
    view.setPlaying(true);
    await engine.advance(preset, Infinity);
  },

  async runCustom() {
    const { key, n } = store.nextCustomKey();
    showSection("seed");
    await startRun(key, { config: configOf(settings), name: { custom: n } });
    view.setPlaying(true);
    await engine.advance(key, Infinity);
  },

  /**
   * Replays a PyTorch-exported safetensors file (tensors image, conv1.weight, conv2.weight)
   * with the current settings. A file that does not fit is rejected and nothing changes.
   */
  async importTensors(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const { key } = store.nextCustomKey("import");
    await startRun(key, { config: configOf(settings), name: { file: file.name }, tensors: bytes });
    view.setPlaying(true);
    await engine.advance(key, Infinity);
    return key;
  },

  /** Runs the selected presets to their last epoch; resolves with their trajectories. */
  async runAll() {
    const keys = settings.experiments.length ? settings.experiments : PRESET_KEYS;
    showSection("seed");
    await Promise.all(keys.map((preset) => startRun(preset, { preset, config: presetConfig(settings, preset) })));
    const done = Promise.all(keys.map((key) => untilStopped(key)));
    view.setPlaying(true);
    await Promise.all(keys.map((key) => engine.advance(key, Infinity)));
    await done;
    view.setPlaying(false);
    await view.settled();
    return Object.fromEntries(keys.map((key) => [key, store.trajectory(key)]));
  },

  /**
   * One more step for every run that has epochs left (starting the presets if none exist);
   * runs that were playing stop after it.
   */
  async step() {
    view.setPlaying(false);
    if (store.runs.length === 0) {
      for (const preset of settings.experiments) {
        await startRun(preset, { preset, config: presetConfig(settings, preset) });
      }
    }
    await Promise.all(unfinished().map((run) => engine.advance(run.key, 1)));
  },

  /** Plays the runs with epochs left (none: the button stays Play); the presets on a fresh page. */
  async play() {
    if (store.runs.length === 0) return actions.runAll();
    const runs = unfinished();
    if (runs.length === 0) return;
    view.setPlaying(true);
    await Promise.all(runs.map((run) => engine.advance(run.key, Infinity)));
  },

  /**
   * Pauses the seed's runs, the ones these controls started: the explanation's and the lab's
   * have buttons of their own, and a lesson waits for its runs' last epoch to state its claim.
   */
  async pause() {
    await engine.pause(store.runs.map((run) => run.key));
    view.setPlaying(false);
  },

  /** Starts every run over from step 0; the same seeds bring the same numbers back. */
  async reset() {
    await actions.pause();
    for (const run of [...store.runs]) {
      await startRun(run.key, { preset: run.preset, config: run.config, name: run.name, tensors: run.tensors });
    }
    view.setPlaying(false);
    // The status line spoke of the runs before; they are all at step 0 now.
    view.status(readyWords);
  },

  /**
   * The explanation's runs, one click per kind (see COMPARISONS), with the current settings
   * otherwise. They go to the explanation's own store, not to the main charts.
   */
  async runComparison(kind) {
    const pairs = COMPARISONS[kind](settings);
    for (const [key, config] of pairs) await startRun(key, { config, name: { i18n: `run.${key}`, values: { lr: config.lr } }, into: extra });
    await Promise.all(pairs.map(([key]) => engine.advance(key, Infinity)));
  },

  /** Every block's maps (f, ∂L/∂f, output, ∂L/∂output) of a run's first image, at a snapshot's parameters. */
  blockMaps(key, params) {
    return engine.request("blockMaps", { run: key, params });
  },

  /** The page's URL for these settings (absolute), with overrides such as `{embed: true}`. */
  shareUrl(overrides = {}) {
    const query = toQuery({ ...settings, ...overrides });
    return new URL(`${location.pathname}${query}`, location.href).href;
  },

  async remove(key) {
    await engine.free(key);
    store.remove(key);
  },
};

/**
 * Creates a run in the worker first and only then shows it: a config or file the engine
 * rejects leaves the screen as it was (the error reaches the caller).
 */
async function startRun(key, { preset = null, config, name = { preset }, tensors, into = store }) {
  const created = await engine.create(key, config, backendOf(), tensors);
  const run = into.upsert(key, { preset, config: created.config, name, tensors, backend: created.backend });
  into.setStatus(key, "ready");
  return run;
}

/** The status line of a page with no run under way: ready, and on which backend. */
function readyWords() {
  return t("ready", { backend: t(`backend.${backendOf()}`) });
}

function unfinished() {
  return store.runs.filter((r) => !isDone(r));
}

/** A run stopped (see outcome.js for the kinds); its waiters go on. */
function stopped(key, { kind, message }) {
  const runs = storeOf(key);
  const run = runs.get(key);
  if (run) {
    runs.setStatus(key, stoppedStatus(kind), message);
    view.announce(run);
  }
  for (const resolve of stopWaiters.get(key) ?? []) resolve();
  stopWaiters.delete(key);
  if (unfinished().length === 0) {
    view.setPlaying(false);
    view.scheduleRender({ now: true });
  }
}

function untilStopped(key) {
  // Every caller waits: a second Run all (or the API's and a click) must not orphan the first.
  return new Promise((resolve) => stopWaiters.set(key, [...(stopWaiters.get(key) ?? []), resolve]));
}

/**
 * The section the reader works in, kept in the URL: a link or embed made from the page then
 * shows that section (a lesson's link showed the seed's charts and played the seed's runs).
 */
function showSection(section) {
  if (settings.section === section) return;
  settings.section = section;
  syncUrl();
}

function syncUrl() {
  const query = toQuery(settings);
  history.replaceState(null, "", `${location.pathname}${query}${location.hash}`);
}

const ready = start();

window.initlab = embeddingApi({
  ready,
  actions,
  settings,
  runs: () => [...store.runs, ...extra.runs],
  storeOf,
  engine: () => engine,
  view: () => view,
  lab: () => lab,
});
