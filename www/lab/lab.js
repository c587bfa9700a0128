// The depth lab: any stack (depth, width, norm, activation, bias, init, trainable, target),
// up to four runs side by side, their loss and accuracy, layer × epoch heatmaps of ‖∂L/∂W‖ and
// of the activations' std, the backward view, and eight one-click lessons whose sentences are
// checked against their own runs (presets.js). Training happens in the page's worker, through
// the `engine` handed in; this file only decides what to run and draws what comes back.

import { el } from "../dom.js";
import { LineChart } from "../chart.js";
import { lang, t } from "../i18n.js";
import { RunStore, stoppedStatus } from "../runs.js";
import { labConfigOf } from "../state.js";
import { BackwardView } from "./backward.js";
import { buildLabForm } from "./form.js";
import { Heatmap } from "./heatmap.js";
import { LAB_PRESETS, presetConfigs } from "./presets.js";

/** Runs on screen at most: more would not fit side by side. */
export const MAX_LAB_RUNS = 4;
/** Run keys in the shared worker start with this, so the page routes their records here. */
export const LAB_PREFIX = "lab:";
const HEATMAPS = [["conv_grad_norm", "lab.heat.grad"], ["act_std", "lab.heat.std"]];

export class DepthLab {
  /**
   * @param {HTMLElement} root  the empty section#lab
   * @param {{settings, fields, engine: {create, advance, free, validate, blockMaps}, syncUrl, onError}} options
   */
  constructor(root, { settings, fields, engine, syncUrl, onError }) {
    Object.assign(this, { root, settings, fields, engine, syncUrl, onError });
    this.store = new RunStore();
    this.count = 0;
    this.waiters = new Map();
    this.heatmaps = new Map();
    this.build();
    this.store.onChange(() => this.scheduleRender());
    // The language toggle (view.js) sets <html lang>: words built here follow it.
    new MutationObserver(() => this.relabel()).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  }

  relabel() {
    this.buildForm();
    this.backward.labels = this.backwardLabels();
    this.render();
    this.showBackward();
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
    this.legend = $("div", { class: "legend lab-legend" });
    this.charts = $("div", { class: "lab-charts" });
    this.maps = $("div", { class: "lab-heatmaps" });
    this.runSelect = $("select", { id: "lab-back-run" });
    this.stepInput = $("input", { type: "range", id: "lab-back-step", min: "0", max: "0", value: "0" });
    this.stepOut = $("output", { for: "lab-back-step" }, "0");
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
      this.legend,
      this.charts,
      $("h3", { "data-i18n": "lab.heat.title" }, t("lab.heat.title")),
      this.maps,
      $("h3", { "data-i18n": "lab.back.title" }, t("lab.back.title")),
      $("p", { "data-i18n": "lab.back.intro" }, t("lab.back.intro")),
      $("div", { class: "explain-controls" },
        $("label", {}, $("span", { "data-i18n": "lab.back.run" }, t("lab.back.run")), " ", this.runSelect),
        $("label", { class: "ex-step" }, $("span", { "data-i18n": "ex.step" }, t("ex.step")), " ", this.stepInput, " ", this.stepOut)),
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
    this.buttons.clear.addEventListener("click", () => this.guard(this.clear()));
    this.runSelect.addEventListener("change", () => this.showBackward());
    this.stepInput.addEventListener("input", () => this.showBackward());
    this.backward = new BackwardView(backHolder, { request: (key, params) => this.engine.blockMaps(key, params), labels: this.backwardLabels() });
    this.lossChart = new LineChart(this.charts.appendChild(el("div", { class: "chart" })), { title: t("chart.loss"), syncKey: "lab", height: 200 });
    this.accuracyChart = new LineChart(this.charts.appendChild(el("div", { class: "chart" })), { title: t("lab.chart.accuracy"), syncKey: "lab", height: 200 });
    this.buildForm();
    // Build the (empty) charts while the page is idle: a uPlot chart costs tens of ms to build,
    // which would otherwise land in the first frame of the first run.
    const idle = window.requestIdleCallback ?? ((f) => setTimeout(f, 16));
    idle(() => this.safely(() => this.lossChart.update([], { title: t("chart.loss"), xLabel: t("epoch") })));
    idle(() => this.safely(() => this.accuracyChart.update([], { title: t("lab.chart.accuracy"), xLabel: t("epoch") })));
  }

  safely(draw) {
    try {
      draw();
    } catch (error) {
      this.onError(error);
    }
  }

  backwardLabels() {
    return {
      block: ({ n }) => t("lab.back.block", { n }),
      output: t("lab.back.output"),
      grad: t("lab.back.grad"),
      zero: t("lab.zero"),
      channel: t("lab.back.channel"),
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
    await this.clear();
    this.lesson = { preset, keys: [] };
    const configs = presetConfigs(preset, labConfigOf(this.settings));
    const labels = configs.map((_, i) => ({ i18n: `lab.variant.${preset.id}.${i}` }));
    this.lesson.keys = await this.start(configs, labels);
    return this.finish(this.lesson.keys);
  }

  /** One more run of the settings as they are, beside the ones on screen. */
  async runSettings() {
    this.lesson = null;
    const [key] = await this.start([labConfigOf(this.settings)], [null]);
    return this.finish([key]);
  }

  async start(configs, names) {
    this.message.textContent = "";
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
    await Promise.all(keys.map((key) => (this.store.get(key)?.status === "finished" ? null : new Promise((done) => this.waiters.set(key, done)))));
    this.render();
    return Object.fromEntries(keys.map((key) => [key, this.store.trajectory(key)]));
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
    return t("lab.runLabel", { n: run.key.slice(LAB_PREFIX.length), depth: c.depth, channels: c.channels, activation: c.activation, norm: c.norm === "batch" ? "+BN" : "", init: t(`init.${c.init}`) });
  }

  guard(promise) {
    Promise.resolve(promise).catch((error) => (this.message.textContent = error.message));
  }

  scheduleRender() {
    if (this.pending) return;
    this.pending = setTimeout(() => requestAnimationFrame(() => {
      this.pending = null;
      this.render();
    }), 100);
  }

  render() {
    try {
      for (const part of ["Legend", "Charts", "Heatmaps", "Claim", "BackwardControls"]) {
        const start = performance.now();
        this[`render${part}`]();
        performance.measure(`initlab:lab:${part}`, { start });
      }
    } catch (error) {
      this.onError(error);
    }
  }

  renderLegend() {
    // Rebuilt only when what it says changes: each rebuild lays the page out again.
    const signature = JSON.stringify([lang(), this.store.runs.map((r) => [r.key, r.steps, r.status, r.backend])]);
    if (signature === this.legend.dataset.signature) return;
    this.legend.dataset.signature = signature;
    this.legend.replaceChildren(...this.store.runs.map((run) => {
      const chip = el("span", { class: "chip", style: `border-color:${run.color}` }, `${this.labelOf(run)} · ${run.backend ?? "…"} · ${run.steps}/${run.config.epochs}`);
      if (run.status === "diverged" || run.status === "error") chip.append(el("span", { class: "chip-warn" }, ` ⚠ ${run.message}`));
      return chip;
    }));
  }

  renderCharts() {
    const series = (key) => this.store.runs.map((run) => ({ id: run.key, label: this.labelOf(run), color: run.color, dash: run.dash, show: true, values: run.records[key] ?? [] }));
    this.lossChart.update(series("loss"), { title: t("chart.loss"), xLabel: t("epoch") });
    this.accuracyChart.update(series("accuracy"), { title: t("lab.chart.accuracy"), xLabel: t("epoch") });
  }

  renderHeatmaps() {
    const labels = { zero: t("lab.zero"), notFinite: t("lab.notFinite"), cell: (v) => t("lab.heat.cell", v), axes: (v) => t("lab.heat.axes", v) };
    for (const run of this.store.runs) {
      let entry = this.heatmaps.get(run.key);
      if (!entry || entry.lang !== lang()) {
        entry?.row.remove();
        const row = el("div", { class: "lab-heatrow", "data-run": run.key }, el("h4", {}, this.labelOf(run)));
        const maps = Object.fromEntries(HEATMAPS.map(([key, title]) => [key, new Heatmap(row, { title: t(title), labels })]));
        entry = { row, maps, lang: lang() };
        this.heatmaps.set(run.key, entry);
      }
      this.maps.append(entry.row); // keeps the store's order
    }
    // One colour scale per quantity across the runs, so that side by side means comparable.
    for (const [key] of HEATMAPS) {
      const values = this.store.runs.flatMap((run) => (run.records[key] ?? []).flat());
      for (const run of this.store.runs) this.heatmaps.get(run.key).maps[key].update(run.records[key] ?? [], { values });
    }
    for (const [key, entry] of this.heatmaps) {
      if (!this.store.get(key)) {
        entry.row.remove();
        this.heatmaps.delete(key);
      }
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
    if (runs.some((r) => r.status !== "finished")) return ["pending", t("lab.claim.pending")];
    const id = lesson.preset.id;
    const { holds, values } = lesson.preset.claim(runs);
    this.lastClaim = { id, holds, values };
    const text = holds === null ? t(`lab.absent.${values.absent}`) : t(`lab.claim.${id}`, formatted(values));
    return [String(holds), `${holds === null ? "–" : holds ? "✓" : "✗"} ${text}`];
  }

  renderBackwardControls() {
    const runs = this.store.runs;
    const chosen = this.runSelect.value;
    const signature = JSON.stringify([lang(), runs.map((r) => r.key)]);
    if (signature !== this.runSelect.dataset.signature) {
      this.runSelect.dataset.signature = signature;
      this.runSelect.replaceChildren(...runs.map((run) => el("option", { value: run.key }, this.labelOf(run))));
      if (runs.some((r) => r.key === chosen)) this.runSelect.value = chosen;
    }
    const run = this.store.get(this.runSelect.value);
    const last = Math.max(0, (run?.steps ?? 1) - 1);
    const following = Number(this.stepInput.value) >= Number(this.stepInput.max);
    if (this.stepInput.max !== String(last)) this.stepInput.max = String(last);
    if (following && this.stepInput.value !== String(last)) this.stepInput.value = String(last);
    if (run?.status === "finished" && this.backwardShown !== `${run.key}@${this.stepInput.value}`) this.showBackward();
  }

  async showBackward() {
    const run = this.store.get(this.runSelect.value);
    if (!run || run.steps === 0) return;
    this.backwardShown = `${run.key}@${this.stepInput.value}`;
    try {
      const at = await this.backward.show(run, Number(this.stepInput.value));
      this.stepOut.textContent = String(at);
    } catch (error) {
      this.message.textContent = error.message;
    }
  }

  /** For tests and the embedding API: what the lab draws, with the data behind it. */
  data() {
    return {
      runs: this.store.runs.map((r) => ({ key: r.key, label: this.labelOf(r), status: r.status, config: r.config, steps: r.steps })),
      heatmaps: Object.fromEntries([...this.heatmaps].map(([key, e]) => [key, Object.fromEntries(Object.entries(e.maps).map(([k, m]) => [k, m.data()]))])),
      claim: this.lastClaim ?? null,
      claimText: this.claim.textContent,
      backward: { run: this.runSelect.value, step: Number(this.stepOut.textContent), blocks: this.backward.data() },
    };
  }
}

/** Numbers as the sentences write them: 5 significant digits (ln 3 = 1.0986), exact zeros as "0". */
function formatted(values) {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "number" ? (v === 0 ? "0" : Number(v.toPrecision(5)).toString()) : v]));
}
