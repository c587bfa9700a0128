// The legend and the charts: one row of five charts (compare) or five per run (blog), each
// handed the store's record arrays as they are.

import { LineChart } from "../chart.js";
import { el } from "../dom.js";
import { lang, t } from "../i18n.js";
import { SERIES_KEYS, labelOf } from "../runs.js";

/** The blog's five charts: the loss, then conv1's and conv2's mean and variance. */
export const CHART_KEYS = SERIES_KEYS.slice(0, 5);

/** How long one render may spend building charts (see renderCharts). */
const BUILD_MS = 20;

export class Charts {
  /**
   * @param {{$: (id: string) => HTMLElement, store, settings, safely: (part: string, draw: () => void) => void,
   *   toggle: (key: string) => void, remove: (key: string) => void}} deps
   */
  constructor({ $, store, settings, safely, toggle, remove }) {
    Object.assign(this, { $, store, settings, safely, toggle, remove });
    /** `${group}/${key}` → LineChart */
    this.charts = new Map();
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
      toggle.setAttribute("aria-label", t("toggleSeries", { run: labelOf(run) }));
      const sample = el("canvas", { class: "dash-sample", width: "28", height: "10", "aria-hidden": "true" });
      drawDash(sample, run.color, run.dash);
      toggle.append(sample, el("span", {}, `${labelOf(run)} · ${run.backend ?? "…"} · ${run.steps}/${run.config.epochs}`));
      if (run.status === "diverged" || run.status === "error") toggle.append(el("span", { class: "chip-warn" }, ` ⚠ ${run.message}`));
      toggle.addEventListener("click", () => this.toggle(run.key));
      const remove = el("button", { type: "button", class: "chip-remove" }, "×");
      remove.setAttribute("aria-label", t("remove", { run: labelOf(run) }));
      remove.addEventListener("click", () => this.remove(run.key));
      chip.append(toggle, remove);
      legend.append(chip);
    }
  }

  /** The charts to show: one row of five (compare), or five per run (blog). */
  layout() {
    const runs = this.store.runs;
    if (this.settings.view === "blog") {
      return runs.map((run) => ({ id: run.key, title: labelOf(run), runs: [run] }));
    }
    return [{ id: "all", title: "", runs }];
  }

  /** Whether every chart of the layout exists. */
  built() {
    return this.charts.size >= this.layout().length * CHART_KEYS.length;
  }

  renderCharts() {
    const container = this.$("charts");
    container.dataset.view = this.settings.view;
    const groups = this.layout();
    const wanted = new Set();
    // Building a uPlot chart takes 1 to 7 ms here (the first is the slowest), so a render
    // builds charts for BUILD_MS at most and leaves the rest to idle moments (scheduleBuild):
    // no frame waits long for them (the blog view has five per run). The compare view's five
    // are so on screen when the page says it is ready, instead of appearing one per idle
    // moment over the next 130 to 220 ms. Charts that exist are updated at once.
    const deadline = performance.now() + BUILD_MS;
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
          if (performance.now() > deadline) {
            this.scheduleBuild();
            continue;
          }
          chart = new LineChart(holder, { title: t(`chart.${key}`), height: key === "loss" && group.id === "all" ? 260 : 180 });
          this.charts.set(chartId, chart);
        }
        chart.update(
          group.runs.map((run) => ({
            id: run.key,
            label: labelOf(run),
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

  /** Builds the remaining charts when the browser is idle. */
  scheduleBuild() {
    if (this.buildPending) return;
    this.buildPending = true;
    const idle = window.requestIdleCallback ?? ((f) => setTimeout(f, 16));
    idle(() => {
      this.buildPending = false;
      this.safely("charts", () => this.renderCharts());
    });
  }

  /** Per chart, the exact arrays handed to it (for tests and the embedding API). */
  chartData() {
    const out = {};
    for (const group of this.layout()) {
      for (const key of CHART_KEYS) {
        out[`${group.id}/${key}`] = Object.fromEntries(group.runs.map((run) => [run.key, [...run.records[key]]]));
      }
    }
    return out;
  }
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
