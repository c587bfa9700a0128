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
    this.heatmaps = new Map();
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

  /** Redraws everything for `runs` (RunStore runs), named by `labelOf`. */
  update(runs, labelOf) {
    this.drawLegend(runs, labelOf);
    this.drawCharts(runs, labelOf);
    this.drawHeatmaps(runs, labelOf);
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

  drawHeatmaps(runs, labelOf) {
    const labels = { zero: t("lab.zero"), notFinite: t("lab.notFinite"), cell: (v) => t("lab.heat.cell", v), axes: (v) => t("lab.heat.axes", v) };
    for (const run of runs) {
      let entry = this.heatmaps.get(run.key);
      if (!entry || entry.lang !== lang()) {
        entry?.row.remove();
        const row = el("div", { class: "lab-heatrow", "data-run": run.key }, el("h4", {}, labelOf(run)));
        const maps = Object.fromEntries(HEATMAPS.map(([key, title]) => [key, new Heatmap(row, { title: t(title), labels })]));
        entry = { row, maps, lang: lang() };
        this.heatmaps.set(run.key, entry);
      }
      this.maps.append(entry.row); // keeps the runs' order
    }
    for (const [key] of HEATMAPS) {
      const values = runs.flatMap((run) => (run.records[key] ?? []).flat());
      for (const run of runs) this.heatmaps.get(run.key).maps[key].update(run.records[key] ?? [], { values });
    }
    for (const [key, entry] of this.heatmaps) {
      if (!runs.some((r) => r.key === key)) {
        entry.row.remove();
        this.heatmaps.delete(key);
      }
    }
  }

  /** Per run and quantity, the matrix each heatmap draws (for tests: the engine's records). */
  heatmapData() {
    return Object.fromEntries([...this.heatmaps].map(([key, e]) => [key, Object.fromEntries(Object.entries(e.maps).map(([k, m]) => [k, m.data()]))]));
  }
}
