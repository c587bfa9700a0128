// The DOM: builds the form from the settings table, the preset buttons, the legend, the charts
// and their tables, and redraws them when the runs change. Text from the URL, files or the
// engine only ever goes through textContent, never innerHTML.

import { LineChart, exact } from "./chart.js";
import { lang, setLang, t } from "./i18n.js";
import { SERIES_KEYS } from "./runs.js";
import { ARCHES, INITS, PRESET_KEYS, SETTINGS } from "./state.js";

const CHART_KEYS = SERIES_KEYS.slice(0, 5); // the blog's five charts
const FORM_KEYS = ["arch", "init", "init_value", "lr", "momentum", "epochs", "zero_grad", "batch", "height", "width", "label", "seed", "backend"];

export class View {
  constructor({ store, settings, actions }) {
    this.store = store;
    this.settings = settings;
    this.actions = actions;
    this.backends = ["flex", "ndarray"];
    this.charts = new Map();
    this.playing = false;
    this.$ = (id) => document.getElementById(id);
    this.buildControls();
    this.buildForm();
    store.onChange(() => this.scheduleRender());
    new ResizeObserver(() => this.scheduleRender()).observe(this.$("charts"));
  }

  defaultOf(key) {
    return structuredClone(SETTINGS.find((s) => s.key === key).default);
  }

  setBackends(backends) {
    this.backends = backends;
    if (!backends.includes(this.settings.backend)) this.settings.backend = "";
    this.buildForm();
  }

  // ---- controls -------------------------------------------------------------------------

  buildControls() {
    const presets = this.$("presets");
    presets.replaceChildren();
    for (const key of PRESET_KEYS) {
      const button = el("button", { type: "button", class: "preset", "data-preset": key });
      const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.dataset.preset = key;
      const name = el("span", { class: "preset-name", "data-i18n": `preset.${key}` }, t(`preset.${key}`));
      const note = el("span", { class: "preset-note", "data-i18n": `preset.${key}.note` }, t(`preset.${key}.note`));
      button.append(swatch, name, note);
      button.addEventListener("click", () => this.guard(this.actions.runPreset(key)));
      presets.append(button);
    }
    this.$("run-all").addEventListener("click", () => this.guard(this.actions.runAll()));
    this.$("step").addEventListener("click", () => this.guard(this.actions.step()));
    this.$("play").addEventListener("click", () =>
      this.guard(this.playing ? this.actions.pause() : this.actions.play()),
    );
    this.$("reset").addEventListener("click", () => this.guard(this.actions.reset()));
    this.$("run-custom").addEventListener("click", () => this.guard(this.actions.runCustom()));
    this.$("lang-toggle").addEventListener("click", () => {
      const next = lang() === "zh" ? "en" : "zh";
      this.actions.setView("lang", next);
      setLang(next);
      this.buildForm();
      this.render();
    });
    const log = this.$("logloss");
    log.checked = this.settings.logloss;
    log.addEventListener("change", () => this.actions.setView("logloss", log.checked));
    const view = this.$("view");
    view.value = this.settings.view;
    view.addEventListener("change", () => this.actions.setView("view", view.value));
  }

  /** Runs an action; a failure is shown, never left as an unhandled rejection. */
  guard(promise) {
    Promise.resolve(promise).catch((error) => this.status(error.message, "error"));
  }

  setPlaying(playing) {
    this.playing = playing;
    const button = this.$("play");
    button.dataset.i18n = playing ? "pause" : "play";
    button.textContent = t(button.dataset.i18n);
    button.setAttribute("aria-pressed", String(playing));
  }

  // ---- settings form ----------------------------------------------------------------------

  buildForm() {
    const form = this.$("settings");
    form.replaceChildren();
    for (const key of FORM_KEYS) {
      const setting = SETTINGS.find((s) => s.key === key);
      const id = `field-${key}`;
      const row = el("div", { class: `field field-${setting.kind}` });
      const label = el("label", { for: id, "data-i18n": `field.${key}` }, t(`field.${key}`));
      const input = this.input(setting, id);
      const message = el("p", { class: "field-error", id: `${id}-error`, role: "alert" });
      input.setAttribute("aria-describedby", message.id);
      if (setting.kind === "bool") row.append(input, label, message);
      else row.append(label, input, message);
      form.append(row);
    }
    form.onsubmit = (event) => event.preventDefault();
  }

  input(setting, id) {
    const key = setting.key;
    const value = this.settings[key];
    let input;
    if (setting.kind === "choice") {
      input = el("select", { id, name: key });
      const choices = key === "backend" ? this.backends : key === "arch" ? ARCHES : key === "init" ? INITS : setting.choices;
      for (const choice of choices) {
        const text = key === "label" ? String(choice) : t(`${key}.${choice}`);
        input.append(el("option", { value: String(choice) }, text));
      }
      input.value = String(value === "" && key === "backend" ? this.backends[0] : value);
    } else if (setting.kind === "bool") {
      input = el("input", { id, name: key, type: "checkbox" });
      input.checked = Boolean(value);
    } else {
      input = el("input", { id, name: key, type: "text", inputmode: "decimal", autocomplete: "off", spellcheck: "false" });
      input.value = value === null ? "" : String(value);
    }
    input.addEventListener("change", async () => {
      const raw = setting.kind === "bool" ? input.checked : input.value;
      const parsed = setting.kind === "bool" ? raw : key === "backend" ? raw : parseField(setting, raw);
      const problem = await this.actions.changeSetting(key, parsed);
      const message = document.getElementById(`${id}-error`);
      message.textContent = problem ? t("invalid", { message: problem }) : "";
      input.setAttribute("aria-invalid", String(Boolean(problem)));
    });
    return input;
  }

  /** Says which URL values were replaced by defaults, and why. */
  urlProblems(messages) {
    this.status(messages.map((m) => `URL: ${m}`).join("; "), "error");
    this.buildForm();
  }

  // ---- status -----------------------------------------------------------------------------

  status(text, kind = "info") {
    const status = this.$("status");
    status.textContent = text;
    status.dataset.kind = kind;
  }

  /** The aria-live line: the latest step and loss of a run (throttled to stay readable). */
  announce(run) {
    if (!run) return;
    const now = performance.now();
    const final = run.status !== "running";
    if (!final && now - (this.lastAnnounce ?? 0) < 500) return;
    this.lastAnnounce = now;
    const loss = run.records.loss.at(-1);
    const lossText = loss === undefined ? "–" : exact(loss);
    if (run.status === "finished") {
      this.status(t("statusDone", { run: run.label, epochs: run.steps, loss: lossText }));
    } else if (run.status === "running") {
      this.status(t("statusStep", { run: run.label, step: run.steps, epochs: run.config.epochs, loss: lossText }));
    } else if (run.message) {
      this.status(t("statusStopped", { run: run.label, message: run.message }), run.status === "diverged" || run.status === "error" ? "error" : "info");
    }
  }

  // ---- charts -----------------------------------------------------------------------------

  scheduleRender() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = null;
      this.render();
    });
  }

  render() {
    this.renderLegend();
    this.renderCharts();
    this.renderTables();
  }

  renderLegend() {
    const legend = this.$("legend");
    legend.replaceChildren();
    for (const run of this.store.runs) {
      const chip = el("span", { class: "chip" });
      const toggle = el("button", { type: "button", class: "chip-toggle", "aria-pressed": String(run.show) });
      toggle.setAttribute("aria-label", t("toggleSeries", { run: run.label }));
      const sample = el("canvas", { class: "dash-sample", width: "28", height: "10", "aria-hidden": "true" });
      drawDash(sample, run.color, run.dash);
      toggle.append(sample, el("span", {}, `${run.label} · ${run.backend ?? "…"} · ${run.steps}/${run.config.epochs}`));
      if (run.status === "diverged" || run.status === "error") toggle.append(el("span", { class: "chip-warn" }, ` ⚠ ${run.message}`));
      toggle.addEventListener("click", () => {
        run.show = !run.show;
        this.render();
      });
      const remove = el("button", { type: "button", class: "chip-remove" }, "×");
      remove.setAttribute("aria-label", t("remove", { run: run.label }));
      remove.addEventListener("click", () => this.guard(this.actions.remove(run.key)));
      chip.append(toggle, remove);
      legend.append(chip);
    }
  }

  /** The charts to show: one row of five (compare), or five per run (blog). */
  layout() {
    const runs = this.store.runs;
    if (this.settings.view === "blog") {
      return runs.map((run) => ({ id: run.key, title: run.label, runs: [run] }));
    }
    return [{ id: "all", title: "", runs }];
  }

  renderCharts() {
    const container = this.$("charts");
    container.dataset.view = this.settings.view;
    const groups = this.layout();
    const wanted = new Set();
    for (const group of groups) {
      let section = container.querySelector(`[data-group="${CSS.escape(group.id)}"]`);
      if (!section) {
        section = el("section", { class: "chart-group", "data-group": group.id });
        section.append(el("h3", { class: "group-title" }));
        const grid = el("div", { class: "chart-grid" });
        for (const key of CHART_KEYS) grid.append(el("div", { class: `chart chart-${key}`, "data-key": key }));
        section.append(grid);
        container.append(section);
      }
      section.querySelector(".group-title").textContent = group.title;
      section.hidden = group.runs.length === 0 && groups.length > 1;
      for (const key of CHART_KEYS) {
        const chartId = `${group.id}/${key}`;
        wanted.add(chartId);
        const holder = section.querySelector(`[data-key="${key}"]`);
        let chart = this.charts.get(chartId);
        if (!chart) {
          chart = new LineChart(holder, { title: t(`chart.${key}`), height: key === "loss" && group.id === "all" ? 260 : 180 });
          this.charts.set(chartId, chart);
        }
        chart.update(
          group.runs.map((run) => ({
            id: run.key,
            label: run.label,
            color: run.color,
            dash: run.dash,
            show: run.show,
            values: run.records[key],
          })),
          { log: key === "loss" && this.settings.logloss, title: t(`chart.${key}`) },
        );
      }
    }
    for (const [chartId, chart] of this.charts) {
      if (!wanted.has(chartId)) {
        chart.destroy();
        this.charts.delete(chartId);
      }
    }
    for (const section of container.querySelectorAll(".chart-group")) {
      if (!groups.some((g) => g.id === section.dataset.group)) section.remove();
    }
    container.classList.toggle("empty", this.store.runs.length === 0);
    container.dataset.emptyText = t("noRuns");
  }

  /** For tests and the embedding API: per chart, the exact arrays handed to it. */
  chartData() {
    const out = {};
    for (const group of this.layout()) {
      for (const key of CHART_KEYS) {
        out[`${group.id}/${key}`] = Object.fromEntries(group.runs.map((run) => [run.key, [...run.records[key]]]));
      }
    }
    return out;
  }

  // ---- tables (every chart's data, for screen readers and copying) --------------------

  renderTables() {
    const holder = this.$("tables");
    if (!holder.closest("details").open) {
      holder.closest("details").ontoggle = () => this.renderTables();
      return;
    }
    holder.replaceChildren();
    for (const key of CHART_KEYS) {
      const runs = this.store.runs;
      const table = el("table", { class: "data-table" });
      table.append(el("caption", {}, t(`chart.${key}`)));
      const head = el("tr", {}, el("th", { scope: "col" }, t("table.step")));
      for (const run of runs) head.append(el("th", { scope: "col" }, run.label));
      table.append(el("thead", {}, head));
      const body = el("tbody");
      const n = Math.max(0, ...runs.map((r) => r.records[key].length));
      for (let i = 0; i < n; i++) {
        const row = el("tr", {}, el("th", { scope: "row" }, String(i)));
        for (const run of runs) {
          const v = run.records[key][i];
          row.append(el("td", {}, v === undefined ? "" : exact(v)));
        }
        body.append(row);
      }
      table.append(body);
      holder.append(el("div", { class: "table-wrap" }, table));
    }
  }
}

function parseField(setting, raw) {
  if (setting.optional && raw.trim() === "") return null;
  return setting.parse(raw);
}

/** A tiny element builder; text is always set as textContent. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function drawDash(canvas, color, dash) {
  const ctx = canvas.getContext("2d");
  ctx.strokeStyle = color;
  ctx.lineWidth = 2.5;
  ctx.setLineDash(dash);
  ctx.beginPath();
  ctx.moveTo(1, 5);
  ctx.lineTo(27, 5);
  ctx.stroke();
}
