// The DOM: builds the form from the settings table, the preset buttons, the legend, the charts
// and their tables, and redraws them when the runs change. Text from the URL, files or the
// engine only ever goes through textContent, never innerHTML.

import { ChartLibraryError, LineChart, exact } from "./chart.js";
import { lang, setLang, t } from "./i18n.js";
import { SERIES_KEYS } from "./runs.js";
import { el } from "./dom.js";
import { Explain } from "./explain.js";
import { chartsPNG, download, embedSnippet, toCSV, toJSON } from "./share.js";
import { ARCHES, INITS, PRESET_KEYS, SETTINGS } from "./state.js";

const CHART_KEYS = SERIES_KEYS.slice(0, 5); // the blog's five charts
const FORM_KEYS = ["arch", "init", "init_value", "lr", "momentum", "epochs", "zero_grad", "batch", "height", "width", "label", "seed", "backend"];

export class View {
  constructor({ store, extra, settings, actions }) {
    this.store = store;
    this.settings = settings;
    this.actions = actions;
    this.backends = ["flex", "ndarray"];
    this.charts = new Map();
    this.playing = false;
    /** Parts of the view that failed (part → message); they are not drawn again. */
    this.broken = new Map();
    /** The first failure, as an Error: runAll() rejects with it. */
    this.failure = null;
    this.$ = (id) => document.getElementById(id);
    this.buildControls();
    this.buildShare();
    this.buildForm();
    if (settings.embed) this.embedLayout();
    this.explain = new Explain({ store, extra, actions, labelOf: (run) => this.labelOf(run), onError: (error) => this.fail("explain", error) });
    store.onChange(() => this.scheduleRender());
    new ResizeObserver(() => this.scheduleRender()).observe(this.$("charts"));
  }

  /** A run's name in the current language. */
  labelOf(run) {
    const { preset, custom, file, i18n } = run.name ?? {};
    if (preset) return t(`preset.${preset}`);
    if (file) return t("importRun", { file });
    if (i18n) return t(i18n, run.name.values);
    return t("customRun", { n: custom });
  }

  defaultOf(key) {
    return structuredClone(SETTINGS.find((s) => s.key === key).default);
  }

  /**
   * The backends to offer. A real GPU makes WebGPU the default; a software adapter (the
   * browser's fallback, e.g. SwiftShader) is offered but the CPU stays the default.
   */
  setBackends(backends, gpu) {
    this.backends = backends;
    this.defaultBackend = backends.includes("webgpu") && gpu && !gpu.fallback ? "webgpu" : "flex";
    if (this.settings.backend && !backends.includes(this.settings.backend)) {
      this.backendProblem = t("backendUnavailable", { backend: this.settings.backend, fallback: this.defaultBackend });
      this.settings.backend = "";
    }
    this.buildForm();
  }

  /** The backend new runs use: the chosen one, else the default for this browser. */
  backend() {
    return this.settings.backend || this.defaultBackend || "flex";
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

  // ---- share, export, import --------------------------------------------------------------

  buildShare() {
    const message = (text, kind = "info") => {
      const p = this.$("share-message");
      p.textContent = text;
      p.dataset.kind = kind;
    };
    const copy = async (text, done) => {
      try {
        await navigator.clipboard.writeText(text);
        message(done);
      } catch {
        message(text); // no clipboard (insecure context): show it to copy by hand
      }
    };
    this.$("copy-link").addEventListener("click", () =>
      copy(this.actions.shareUrl({ autoplay: true, embed: false }), t("linkCopied")),
    );
    this.$("embed").addEventListener("click", () => {
      const code = this.$("embed-code");
      code.value = embedSnippet(this.actions.shareUrl({ embed: true, autoplay: true }), t("title"));
      code.hidden = false;
      code.select();
      copy(code.value, t("embedCopied"));
    });
    const stamp = () => new Date().toISOString().slice(0, 19).replaceAll(":", "-");
    this.$("export-csv").addEventListener("click", () =>
      download(new Blob([toCSV(this.store.runs)], { type: "text/csv" }), `initlab-${stamp()}.csv`),
    );
    this.$("export-json").addEventListener("click", () =>
      download(new Blob([toJSON(this.store.runs)], { type: "application/json" }), `initlab-${stamp()}.json`),
    );
    this.$("export-png").addEventListener("click", async () => {
      download(await this.png(), `initlab-${stamp()}.png`);
    });
    const importFile = (file) => {
      if (!file) return;
      message(t("importing", { file: file.name }));
      this.actions.importTensors(file).then(
        () => message(t("imported", { file: file.name })),
        (error) => message(t("importFailed", { file: file.name, message: error.message }), "error"),
      );
    };
    const input = this.$("import");
    input.addEventListener("change", () => {
      importFile(input.files[0]);
      input.value = "";
    });
    const area = this.$("charts-area");
    area.addEventListener("dragover", (event) => {
      event.preventDefault();
      area.classList.add("dropping");
    });
    area.addEventListener("dragleave", () => area.classList.remove("dropping"));
    area.addEventListener("drop", (event) => {
      event.preventDefault();
      area.classList.remove("dropping");
      importFile(event.dataTransfer?.files?.[0]);
    });
  }

  /** The charts on screen as one PNG, with the legend and the settings written on it. */
  png() {
    const charts = [...this.$("charts").querySelectorAll(".chart")]
      .filter((holder) => holder.querySelector("canvas") && !holder.closest("[hidden]"))
      .map((holder) => ({
        title: `${holder.closest(".chart-group").querySelector(".group-title").textContent} ${t(`chart.${holder.dataset.key}`)}`.trim(),
        canvas: holder.querySelector("canvas"),
      }));
    const legend = this.store.runs.map((run) => ({ label: `${this.labelOf(run)} (${run.backend})`, color: run.color, dash: run.dash }));
    const s = this.settings;
    const footer = [
      `lr ${s.lr} · momentum ${s.momentum} · epochs ${s.epochs} · zero_grad ${s.zero_grad} · seed ${s.seed} · ${s.batch}×3×${s.height}×${s.width} · label ${s.label}`,
      ...this.store.runs.map((r) => `${this.labelOf(r)}: arch ${r.config.arch}, init ${r.config.init}${r.config.init_value === null ? "" : ` ${r.config.init_value}`}`),
      this.actions.shareUrl({ autoplay: true }),
    ];
    return chartsPNG({ heading: `${t("title")}: ${t("tagline")}`, charts, legend, footer });
  }

  /** `?embed=1`: charts first, the controls in one small bar (none with `controls=0`). */
  embedLayout() {
    document.body.classList.add("embed");
    const bar = this.$("embed-bar");
    bar.hidden = !this.settings.controls;
    const full = el("a", { href: this.actions.shareUrl({ embed: false }), target: "_blank", rel: "noopener", "data-i18n": "openFull" }, t("openFull"));
    bar.append(this.$("run-all"), this.$("step"), this.$("play"), this.$("reset"), this.$("lang-toggle"), full);
  }

  // ---- settings form ----------------------------------------------------------------------

  buildForm() {
    const form = this.$("settings");
    form.replaceChildren();
    for (const key of FORM_KEYS) {
      const setting = SETTINGS.find((s) => s.key === key);
      const id = `field-${key}`;
      const wide = ["arch", "init", "backend"].includes(key) ? " field-wide" : "";
      const row = el("div", { class: `field field-${setting.kind}${wide}` });
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
      input.value = String(key === "backend" ? this.backend() : value);
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
      this.status(t("statusDone", { run: this.labelOf(run), epochs: run.steps, loss: lossText }));
    } else if (run.status === "running") {
      this.status(t("statusStep", { run: this.labelOf(run), step: run.steps, epochs: run.config.epochs, loss: lossText }));
    } else if (run.message) {
      this.status(t("statusStopped", { run: this.labelOf(run), message: run.message }), run.status === "diverged" || run.status === "error" ? "error" : "info");
    }
  }

  // ---- charts -----------------------------------------------------------------------------

  /**
   * Redraws on the next frame, but no more than ten times a second while records stream in:
   * the charts still grow live, and the main thread stays free (no task over 50 ms).
   */
  scheduleRender() {
    if (this.pending) return;
    const wait = Math.max(0, 100 - (performance.now() - (this.lastRender ?? 0)));
    this.pending = setTimeout(() => {
      requestAnimationFrame(() => {
        this.pending = null;
        this.lastRender = performance.now();
        this.render();
      });
    }, wait);
  }

  render() {
    const start = performance.now();
    this.safely("legend", () => this.renderLegend());
    this.safely("charts", () => this.renderCharts());
    this.safely("tables", () => this.renderTables());
    if (!this.settings.embed) this.safely("explain", () => this.explain.renderSoon());
    performance.measure("initlab:render", { start });
  }

  /**
   * Draws one part of the view. A part that throws (the chart library missing, a bug) is not
   * drawn again, the page says so, and the rest keeps working: the records stay, and the
   * tables and the CSV and JSON export still have every number.
   */
  safely(part, draw) {
    if (this.broken.has(part)) return;
    try {
      draw();
    } catch (error) {
      this.fail(part, error);
    }
  }

  fail(part, error) {
    if (this.broken.has(part)) return;
    const message = error?.message || String(error);
    this.broken.set(part, message);
    const text = error instanceof ChartLibraryError
      ? t("chartLibraryFailed", { message })
      : t("viewFailed", { part: t(`part.${part}`), message });
    this.failure ??= new Error(text);
    const alert = this.$("alert");
    alert.textContent = alert.hidden ? text : `${alert.textContent} ${text}`;
    alert.hidden = false;
    // Without charts, the tables show the numbers.
    if (part === "charts") {
      this.$("charts").hidden = true;
      const details = this.$("tables").closest("details");
      if (!details.open) details.open = true;
      else this.safely("tables", () => this.renderTables());
    }
  }

  renderLegend() {
    const legend = this.$("legend");
    // Rebuilt only when what it says changes: a relayout per record batch adds up.
    const signature = JSON.stringify([lang(), this.store.runs.map((r) => [r.key, r.show, r.backend, r.steps, r.status, r.message])]);
    if (signature === legend.dataset.signature) return;
    legend.dataset.signature = signature;
    legend.replaceChildren();
    for (const run of this.store.runs) {
      const chip = el("span", { class: "chip" });
      const toggle = el("button", { type: "button", class: "chip-toggle", "aria-pressed": String(run.show) });
      toggle.setAttribute("aria-label", t("toggleSeries", { run: this.labelOf(run) }));
      const sample = el("canvas", { class: "dash-sample", width: "28", height: "10", "aria-hidden": "true" });
      drawDash(sample, run.color, run.dash);
      toggle.append(sample, el("span", {}, `${this.labelOf(run)} · ${run.backend ?? "…"} · ${run.steps}/${run.config.epochs}`));
      if (run.status === "diverged" || run.status === "error") toggle.append(el("span", { class: "chip-warn" }, ` ⚠ ${run.message}`));
      toggle.addEventListener("click", () => {
        run.show = !run.show;
        this.render();
      });
      const remove = el("button", { type: "button", class: "chip-remove" }, "×");
      remove.setAttribute("aria-label", t("remove", { run: this.labelOf(run) }));
      remove.addEventListener("click", () => this.guard(this.actions.remove(run.key)));
      chip.append(toggle, remove);
      legend.append(chip);
    }
  }

  /** The charts to show: one row of five (compare), or five per run (blog). */
  layout() {
    const runs = this.store.runs;
    if (this.settings.view === "blog") {
      return runs.map((run) => ({ id: run.key, title: this.labelOf(run), runs: [run] }));
    }
    return [{ id: "all", title: "", runs }];
  }

  renderCharts() {
    const container = this.$("charts");
    container.dataset.view = this.settings.view;
    // Before the first run the charts are built empty, one per idle moment (a uPlot chart
    // costs tens of milliseconds to build), so that neither the page's start nor the first
    // training steps wait for them.
    const groups = this.layout();
    const wanted = new Set();
    // Building a uPlot chart takes tens of milliseconds: at most two per frame, so that the
    // page never blocks for long (the rest follow in the next frames).
    let budget = this.building ? 1 : 0;
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
          if (budget-- <= 0) {
            this.scheduleBuild();
            continue;
          }
          chart = new LineChart(holder, { title: t(`chart.${key}`), height: key === "loss" && group.id === "all" ? 260 : 180 });
          this.charts.set(chartId, chart);
        }
        chart.update(
          group.runs.map((run) => ({
            id: run.key,
            label: this.labelOf(run),
            color: run.color,
            dash: run.dash,
            show: run.show,
            values: run.records[key],
          })),
          { log: key === "loss" && this.settings.logloss, title: t(`chart.${key}`), xLabel: t("epoch") },
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

  /** Builds the remaining charts one at a time when the browser is idle. */
  scheduleBuild() {
    if (this.buildPending) return;
    this.buildPending = true;
    const idle = window.requestIdleCallback ?? ((f) => setTimeout(f, 16));
    idle(() => {
      this.buildPending = false;
      this.building = true;
      this.safely("charts", () => this.renderCharts());
      this.building = false;
    });
  }

  /**
   * Resolves once every chart exists and draws the latest records: no redraw and no chart
   * build is pending. `runAll()` waits for this, so that what it returns is on screen. A hidden
   * tab draws nothing (no animation frames) until it is shown, so there it resolves at once.
   * Rejects, once what can be drawn is drawn, if a part of the view failed (the page says so).
   */
  async settled() {
    for (;;) {
      if (document.hidden) break;
      const expected = this.layout().length * CHART_KEYS.length;
      const built = this.broken.has("charts") || this.charts.size >= expected;
      if (!this.pending && !this.buildPending && built) break;
      await new Promise((resolve) => setTimeout(resolve, 16));
    }
    if (this.failure) throw this.failure;
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

  /**
   * Every chart's data as a table. Long runs show their first and last 500 epochs (the CSV
   * export has all of them), and while training the tables refresh once a second at most.
   */
  renderTables() {
    const holder = this.$("tables");
    const details = holder.closest("details");
    details.ontoggle = () => this.safely("tables", () => this.renderTables());
    if (!details.open) return;
    const running = this.store.runs.some((r) => r.status === "running");
    if (running && performance.now() - (this.lastTables ?? 0) < 1000) return;
    this.lastTables = performance.now();
    holder.replaceChildren();
    const runs = this.store.runs;
    for (const key of CHART_KEYS) {
      const table = el("table", { class: "data-table" });
      table.append(el("caption", {}, t(`chart.${key}`)));
      const head = el("tr", {}, el("th", { scope: "col" }, t("table.step")));
      for (const run of runs) head.append(el("th", { scope: "col" }, this.labelOf(run)));
      table.append(el("thead", {}, head));
      const body = el("tbody");
      const n = Math.max(0, ...runs.map((r) => r.records[key].length));
      const shown = n > 1000 ? [...range(0, 500), -1, ...range(n - 500, n)] : range(0, n);
      for (const i of shown) {
        if (i < 0) {
          const gap = el("td", { colspan: String(runs.length + 1) }, t("table.gap", { n: n - 1000 }));
          body.append(el("tr", { class: "gap" }, gap));
          continue;
        }
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

function range(from, to) {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

function parseField(setting, raw) {
  if (setting.optional && raw.trim() === "") return null;
  return setting.parse(raw);
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
