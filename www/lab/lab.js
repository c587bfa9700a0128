// The depth lab: any stack (depth, width, norm, activation, bias, init, trainable, target),
// up to four runs side by side, their loss and accuracy, layer × epoch heatmaps of ‖∂L/∂W‖ and
// of the activations' std, the backward view, and eight one-click lessons whose sentences are
// checked against their own runs (presets.js). Training happens in the page's worker, through
// the `engine` handed in; this file only decides what to run and draws what comes back.

import { el } from "../dom.js";
import { choiceWords, lang, t } from "../i18n.js";
import { RunStore, stoppedStatus } from "../runs.js";
import { LAB_KEYS, isDefault, labConfigOf } from "../state.js";
import { BackwardView } from "./backward.js";
import { LabCharts } from "./charts.js";
import { buildLabForm, choiceText } from "./form.js";
import { LAB_PRESETS, judge, presetConfigs } from "./presets.js";

/** Runs on screen at most: more would not fit side by side. */
export const MAX_LAB_RUNS = 4;
/** Run keys in the shared worker start with this, so the page routes their records here. */
export const LAB_PREFIX = "lab:";

export class DepthLab {
  /**
   * @param {HTMLElement} root  the empty section#lab
   * @param {{settings, fields, engine: {create, advance, free, validate, blockMaps}, syncUrl, onError}} options
   */
  constructor(root, { settings, fields, engine, syncUrl, showSection = () => {}, onError }) {
    Object.assign(this, { root, settings, fields, engine, syncUrl, showSection, onError });
    this.store = new RunStore();
    this.count = 0;
    this.waiters = new Map();
    this.build();
    this.store.onChange(() => this.scheduleRender());
    // The language toggle (view.js) sets <html lang>: words built here follow it.
    new MutationObserver(() => this.relabel()).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  }

  relabel() {
    this.buildForm();
    this.backward.labels = this.backwardLabels();
    this.render();
    this.backward.redraw();
  }

  build() {
    const $ = (tag, attrs, ...kids) => el(tag, attrs, ...kids);
    this.presetBar = $("div", { class: "lab-presets", role: "group" });
    this.claim = $("p", { class: "lab-claim", role: "status", "aria-live": "polite" });
    this.form = $("form", { class: "settings lab-form", novalidate: "" });
    this.buttons = {
      run: $("button", { type: "button", class: "primary", "data-i18n": "lab.run" }, t("lab.run")),
      again: $("button", { type: "button", "data-i18n": "lab.again" }, t("lab.again")),
      clear: $("button", { type: "button", "data-i18n": "lab.clear" }, t("lab.clear")),
    };
    this.message = $("p", { class: "hint lab-message", role: "alert" });
    // Shown while the lab has no run (at first, and after "Clear the lab").
    this.empty = $("p", { class: "hint lab-empty", "data-i18n": "lab.noRuns" }, t("lab.noRuns"));
    const legend = $("div", { class: "legend lab-legend" });
    const charts = $("div", { class: "lab-charts" });
    const maps = $("div", { class: "lab-heatmaps" });
    const backHolder = $("div", { class: "lab-backward" });
    this.root.replaceChildren(
      $("h2", { id: "h-lab", "data-i18n": "lab.title" }, t("lab.title")),
      $("p", { "data-i18n": "lab.intro" }, t("lab.intro")),
      $("p", { class: "lab-rule", "data-i18n": "lab.rule" }, t("lab.rule")),
      this.presetBar,
      this.claim,
      $("details", { class: "lab-settings", open: "" }, $("summary", { "data-i18n": "lab.settings" }, t("lab.settings")), this.form),
      $("div", { class: "lab-actions" }, this.buttons.run, this.buttons.again, this.buttons.clear),
      this.message,
      this.empty,
      legend,
      charts,
      $("h3", { "data-i18n": "lab.heat.title" }, t("lab.heat.title")),
      maps,
      $("h3", { "data-i18n": "lab.back.title" }, t("lab.back.title")),
      $("p", { "data-i18n": "lab.back.intro" }, t("lab.back.intro")),
      backHolder,
    );
    for (const preset of LAB_PRESETS) {
      const button = $("button", { type: "button", class: "preset", "data-lab-preset": preset.id },
        $("span", { class: "preset-name", "data-i18n": `lab.preset.${preset.id}` }, t(`lab.preset.${preset.id}`)),
        $("span", { class: "preset-note", "data-i18n": `lab.preset.${preset.id}.note` }, t(`lab.preset.${preset.id}.note`)));
      button.addEventListener("click", () => this.guard(this.runPreset(preset.id)));
      this.presetBar.append(button);
    }
    this.buttons.run.addEventListener("click", () => this.guard(this.runSettings()));
    this.buttons.again.addEventListener("click", () => this.guard(this.rerunPreset()));
    this.buttons.clear.addEventListener("click", () => this.guard(this.clearLab()));
    this.backward = new BackwardView(backHolder, {
      request: (key, params) => this.engine.blockMaps(key, params),
      snapshotAt: (key, step) => this.engine.snapshotAt(key, step),
      labels: this.backwardLabels(),
      onError: (error) => (this.message.textContent = error.message),
    });
    this.drawn = new LabCharts({ legend, charts, maps, onError: this.onError });
    this.buildForm();
  }

  backwardLabels() {
    return {
      block: ({ n }) => t("lab.back.block", { n }),
      run: t("lab.back.run"),
      epoch: t("ex.step"),
      output: t("lab.back.output"),
      grad: t("lab.back.grad"),
      zero: t("lab.zero"),
      channel: t("lab.back.channel"),
      none: t("noRunYet"),
    };
  }

  buildForm() {
    buildLabForm(this.form, { settings: this.settings, fields: this.fields, change: (key, value) => this.change(key, value) });
  }

  /** Applies one setting if the engine accepts the whole lab config; else its message. */
  async change(key, value) {
    const candidate = { ...this.settings, [key]: value };
    try {
      await this.engine.validate(labConfigOf(candidate));
    } catch (error) {
      return error.message;
    }
    this.settings[key] = value;
    this.syncUrl();
    return null;
  }

  /** A lesson: its settings, its runs (the screen's lab runs replaced), its claim once they finish. */
  async runPreset(id) {
    const preset = LAB_PRESETS.find((p) => p.id === id);
    // The lesson's settings, but the reader's seed: a lesson's sentence must hold on any image.
    for (const [key, value] of Object.entries(preset.base)) if (key !== "seed") this.settings[`lab.${key}`] = value;
    this.settings["lab.preset"] = id;
    this.syncUrl();
    this.buildForm();
    return this.rerunPreset();
  }

  /** The current lesson's runs over the settings as they are now (say, another depth). */
  async rerunPreset() {
    const preset = LAB_PRESETS.find((p) => p.id === this.settings["lab.preset"]);
    if (!preset) return this.runSettings();
    const configs = presetConfigs(preset, labConfigOf(this.settings));
    const labels = configs.map((_, i) => ({ i18n: `lab.variant.${preset.id}.${i}` }));
    const keys = await this.serially(async () => {
      await this.clear();
      this.lesson = { preset, keys: [] };
      this.lastClaim = null; // the last lesson's verdict is not this one's
      try {
        this.lesson.keys = await this.start(configs, labels);
      } catch (error) {
        // Refused, or its worker crashed while it started: no lesson is on screen to wait for
        // (its line said "Training…" for good); the message says why.
        this.lesson = null;
        this.render();
        throw error;
      }
      return this.lesson.keys;
    });
    return this.finish(keys);
  }

  /** One more run of the settings as they are, beside the ones on screen. */
  async runSettings() {
    const config = labConfigOf(this.settings);
    const keys = await this.serially(() => {
      this.lesson = null;
      this.lastClaim = null;
      this.forgetLesson();
      return this.start([config], [null]);
    });
    return this.finish(keys);
  }

  /**
   * What a shared link shows: a lesson link carries the lesson and the settings it ran at (the
   * lesson's own, or the reader's changes to them), and runs the lesson over those; a link that
   * names a lesson and no lab settings (the seed aside, which a lesson leaves to the reader) runs
   * the lesson as it stands; a link without a lesson runs its settings.
   */
  replayLink() {
    const id = this.settings["lab.preset"];
    if (!id) return this.runSettings();
    const changed = LAB_KEYS.some((k) => k !== "lab.seed" && !isDefault(this.settings, k));
    return changed ? this.rerunPreset() : this.runPreset(id);
  }

  /** No lesson on screen any more: the URL (and a link copied from it) must not name one. */
  forgetLesson() {
    if (!this.settings["lab.preset"]) return;
    this.settings["lab.preset"] = "";
    this.syncUrl();
  }

  /**
   * Runs `setup` after the previous one: two quick clicks must not interleave their clearing
   * and creating (which would leave a run of the first beside the second). Only the setup
   * waits; training goes on in the workers.
   */
  serially(setup) {
    const result = (this.queue ?? Promise.resolve()).then(setup);
    this.queue = result.catch(() => {});
    return result;
  }

  async start(configs, names) {
    this.message.textContent = "";
    this.showSection("lab"); // a link or embed made now shows the lab
    // Check every config first: a refused one leaves the screen as it was.
    for (const config of configs) await this.engine.validate(config);
    const keys = [];
    for (const [i, config] of configs.entries()) {
      while (this.store.runs.length >= MAX_LAB_RUNS) await this.remove(this.store.runs[0].key);
      const key = `${LAB_PREFIX}${++this.count}`;
      const created = await this.engine.create(key, config);
      this.store.upsert(key, { config: created.config, name: names[i], backend: created.backend });
      this.store.setStatus(key, "ready");
      keys.push(key);
    }
    await Promise.all(keys.map((key) => this.engine.advance(key, Infinity)));
    return keys;
  }

  /** Resolves with the runs' trajectories once all of them stopped. */
  async finish(keys) {
    const done = (key) => ["finished", "diverged", "error", undefined].includes(this.store.get(key)?.status);
    await Promise.all(keys.map((key) => (done(key) ? null : new Promise((resolve) => this.waiters.set(key, resolve)))));
    // The claims read the last snapshot (kept in the worker): fetch it once the runs are done.
    await Promise.all(keys.map(async (key) => {
      const run = this.store.get(key);
      const last = run && (await this.engine.snapshotAt(key, Infinity).catch(() => null));
      if (last) run.snapshots.set(last.step, last);
    }));
    if (this.lesson?.keys === keys) this.lesson.settled = true;
    // Drawn in the next frame, not in the task of the worker's last message.
    await new Promise((resolve) => requestAnimationFrame(() => resolve(this.render())));
    return Object.fromEntries(keys.map((key) => [key, this.store.trajectory(key)]));
  }

  /** "Clear the lab": no runs, and no lesson sentence about runs that are gone. */
  clearLab() {
    return this.serially(async () => {
      await this.clear();
      this.lesson = null;
      this.lastClaim = null;
      this.forgetLesson();
      this.message.textContent = ""; // it spoke of runs that are gone
      this.render();
    });
  }

  async clear() {
    for (const run of [...this.store.runs]) await this.remove(run.key);
  }

  async remove(key) {
    await this.engine.free(key);
    this.waiters.get(key)?.();
    this.waiters.delete(key);
    this.store.remove(key);
  }

  // ---- from the worker (routed by app.js) ----

  records(key, records) {
    this.store.append(key, records);
  }

  stopped(key, { kind, message }) {
    const run = this.store.get(key);
    if (run) {
      this.store.setStatus(key, stoppedStatus(kind), message);
      if (run.status !== "finished") this.message.textContent = t("statusStopped", { run: this.labelOf(run), message });
    }
    this.waiters.get(key)?.();
    this.waiters.delete(key);
  }

  // ---- drawing ----

  labelOf(run) {
    if (run.name?.i18n) return t(run.name.i18n, run.config);
    const c = run.config;
    return t("lab.runLabel", { n: run.key.slice(LAB_PREFIX.length), depth: c.depth, channels: c.channels, activation: c.activation, norm: c.norm === "batch" ? "+BN" : "", init: choiceWords("init", c.init) });
  }

  guard(promise) {
    Promise.resolve(promise).catch((error) => (this.message.textContent = error.message));
  }

  /** Redraws five times a second at most while records stream in: each redraw lays the lab out. */
  scheduleRender() {
    if (this.pending) return;
    this.pending = setTimeout(() => requestAnimationFrame(() => {
      this.pending = null;
      this.render();
    }), 200);
  }

  render() {
    try {
      const start = performance.now();
      this.empty.hidden = this.store.runs.length > 0;
      if (!this.drawn.update(this.store.runs, (run) => this.labelOf(run))) this.scheduleRender();
      this.renderClaim();
      this.backward.sync(this.store.runs, (run) => this.labelOf(run));
      performance.measure("initlab:lab:render", { start });
    } catch (error) {
      this.onError(error);
    }
  }

  renderClaim() {
    const [holds, text] = this.claimLine();
    // Written only when it changes: each write lays the page out again.
    if (this.claim.dataset.holds !== holds) this.claim.dataset.holds = holds;
    if (this.claim.textContent !== text) this.claim.textContent = text;
  }

  /** The current lesson's line: `[state, text]`, state "true" | "false" | "null" | "pending" | "stopped". */
  claimLine() {
    const lesson = this.lesson;
    if (!lesson) return ["", ""];
    const runs = lesson.keys.map((key) => this.store.get(key));
    if (runs.some((r) => !r || r.status === "diverged" || r.status === "error")) return ["stopped", `✗ ${t("lab.claim.stopped")}`];
    if (runs.some((r) => r.status !== "finished") || !lesson.settled) return ["pending", t("lab.claim.pending")];
    const id = lesson.preset.id;
    const { holds, values } = judge(lesson.preset, runs);
    this.lastClaim = { id, holds, values };
    const text = holds === null ? t(`lab.absent.${values.absent}`, premiseWords(values)) : t(`lab.claim.${id}`, formatted(values));
    return [String(holds), `${holds === null ? "–" : holds ? "✓" : "✗"} ${text}`];
  }

  /** For tests and the embedding API: what the lab draws, with the data behind it. */
  data() {
    return {
      runs: this.store.runs.map((r) => ({ key: r.key, label: this.labelOf(r), status: r.status, config: r.config, steps: r.steps })),
      heatmaps: this.drawn.heatmapData(),
      claim: this.lastClaim ?? null,
      claimText: this.claim.textContent,
      backward: this.backward.data(),
    };
  }
}

/** An unmet premise (see presets.js judge) in words: the setting's name, the values the sentence assumes, the runs'. */
function premiseWords({ field, allowed, value }) {
  if (!field) return {};
  const word = (v) => choiceText(field, v);
  return { field: t(`field.${field}`), allowed: allowed.map(word).join(" / "), value: word(value) };
}

/** Numbers as the sentences write them: 5 significant digits (ln 3 = 1.0986), exact zeros as "0". */
function formatted(values) {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "number" ? (v === 0 ? "0" : Number(v.toPrecision(5)).toString()) : v]));
}
