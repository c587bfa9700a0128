// What the depth lab draws of its runs' records: the legend, the loss and accuracy charts on
// shared axes, and per run two layer × epoch heatmaps (‖∂L/∂W‖ and the activations' std), each
// quantity on one colour scale across the runs so that side by side means comparable.
// Everything here is redrawn from the records as they are; nothing is computed for show.

import { el } from "../dom.js";
import { LineChart } from "../chart.js";
import { lang, t } from "../i18n.js";
import { Heatmap } from "./heatmap.js";

const HEATMAPS = [["conv_grad_norm", "lab.heat.grad"], ["act_std", "lab.heat.std"]];

export class LabCharts {
  constructor({ legend, charts, maps, onError }) {
    Object.assign(this, { legend, maps, onError });
    /** Heatmap rows by position: `{element, title, maps, run, lang}`. */
    this.rows = [];
    this.loss = new LineChart(charts.appendChild(el("div", { class: "chart" })), { title: t("chart.loss"), syncKey: "lab", height: 200 });
    this.accuracy = new LineChart(charts.appendChild(el("div", { class: "chart" })), { title: t("lab.chart.accuracy"), syncKey: "lab", height: 200 });
    // Build the (empty) charts while the page is idle: a uPlot chart costs tens of ms to build,
    // which would otherwise land in the first frame of the first run.
    const idle = window.requestIdleCallback ?? ((f) => setTimeout(f, 16));
    idle(() => this.safely(() => this.drawCharts([], null)));

  }

  safely(draw) {
    try {
      draw();
    } catch (error) {
      this.onError(error);
    }
  }

  /**
   * Redraws everything for `runs` (RunStore runs), named by `labelOf`. Resolves to false when
   * it left the line charts for the next frame: building new heatmaps and updating the charts
   * in one frame would make a task over 50 ms.
   */
  update(runs, labelOf) {
    this.drawLegend(runs, labelOf);
    // While runs train, the heatmaps follow once a second (their canvases are the costly part
    // of a frame to paint); once every run has stopped, at once.
    const training = runs.some((r) => r.status === "running" || r.status === "ready" || r.status === "starting");
    const now = performance.now();
    if (!training || !(now - (this.heatmapsAt ?? -Infinity) < 1000)) {
      this.heatmapsAt = now;
      if (this.drawHeatmaps(runs, labelOf)) return false;
    }
    this.drawCharts(runs, labelOf);
    return true;
  }

  drawLegend(runs, labelOf) {
    // Rebuilt only when what it says changes: each rebuild lays the page out again.
    const signature = JSON.stringify([lang(), runs.map((r) => [r.key, r.steps, r.status, r.backend])]);
    if (signature === this.legend.dataset.signature) return;
    this.legend.dataset.signature = signature;
    this.legend.replaceChildren(...runs.map((run) => {
      const chip = el("span", { class: "chip" }, `${labelOf(run)} · ${run.backend ?? "…"} · ${run.steps}/${run.config.epochs}`);
      chip.style.borderColor = run.color; // through the CSSOM: the single file's CSP blocks style attributes
      if (run.status === "diverged" || run.status === "error") chip.append(el("span", { class: "chip-warn" }, ` ⚠ ${run.message}`));
      return chip;
    }));
  }

  drawCharts(runs, labelOf) {
    const series = (key) => runs.map((run) => ({ id: run.key, label: labelOf(run), color: run.color, dash: run.dash, show: true, values: run.records[key] ?? [] }));
    this.loss.update(series("loss"), { title: t("chart.loss"), xLabel: t("epoch") });
    this.accuracy.update(series("accuracy"), { title: t("lab.chart.accuracy"), xLabel: t("epoch") });
  }

  /**
   * One row of heatmaps per run, by position: the rows of a finished lesson are reused by the
   * next one (new canvases and their first layout are what a lesson's first frame would
   * otherwise pay for). Rows beyond the runs on screen are hidden, not removed.
   */
  drawHeatmaps(runs, labelOf) {
    let built = false;
    runs.forEach((run, i) => {
      let row = this.rows[i];
      if (!row || row.lang !== lang()) {
        row = this.buildRow(i);
        built = true;
      }
      row.run = run.key;
      row.element.dataset.run = run.key;
      row.element.hidden = false;
      const label = labelOf(run);
      if (row.title.textContent !== label) row.title.textContent = label;
    });
    for (const row of this.rows.slice(runs.length)) if (row) row.element.hidden = true;
    for (const [key] of HEATMAPS) {
      const values = runs.flatMap((run) => (run.records[key] ?? []).flat());
      runs.forEach((run, i) => this.rows[i].maps[key].update(run.records[key] ?? [], { values }));
    }
    return built;
  }

  /** Builds (or rebuilds, in a new language) the heatmap row at position `i`, hidden. */
  buildRow(i) {
    const labels = { zero: t("lab.zero"), notFinite: t("lab.notFinite"), cell: (v) => t("lab.heat.cell", v), axes: (v) => t("lab.heat.axes", v) };
    this.rows[i]?.element.remove();
    const title = el("h4");
    const element = el("div", { class: "lab-heatrow", hidden: "" }, title);
    const maps = Object.fromEntries(HEATMAPS.map(([key, name]) => [key, new Heatmap(element, { title: t(name), labels })]));
    this.rows[i] = { element, title, maps, lang: lang() };
    this.maps.append(element);
    return this.rows[i];
  }

  /** Per run and quantity, the matrix each heatmap draws (for tests: the engine's records). */
  heatmapData() {
    const shown = this.rows.filter((row) => row && !row.element.hidden);
    return Object.fromEntries(shown.map((row) => [row.run, Object.fromEntries(Object.entries(row.maps).map(([k, m]) => [k, m.data()]))]));
  }
}
