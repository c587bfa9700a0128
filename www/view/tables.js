// Every chart's data as a table, for screen readers and copying (and the numbers' last resort
// when the charts cannot be drawn). Long runs show their first and last 500 epochs (the CSV
// export has all of them); while training, the tables refresh once a second at most.

import { exact } from "../chart.js";
import { el } from "../dom.js";
import { t } from "../i18n.js";
import { labelOf } from "../runs.js";
import { CHART_KEYS } from "./charts.js";

export class Tables {
  /** @param {{holder: HTMLElement, store, safely: (part: string, draw: () => void) => void}} deps */
  constructor({ holder, store, safely }) {
    Object.assign(this, { holder, store, safely });
    this.details = holder.closest("details");
    this.details.addEventListener("toggle", () => safely("tables", () => this.render()));
  }

  /** Opens the tables (the charts failed); drawing follows from the toggle event. */
  open() {
    if (!this.details.open) this.details.open = true;
    else this.safely("tables", () => this.render());
  }

  render() {
    if (!this.details.open) return;
    const runs = this.store.runs;
    const running = runs.some((r) => r.status === "running");
    if (running && performance.now() - (this.last ?? 0) < 1000) return;
    this.last = performance.now();
    this.holder.replaceChildren();
    for (const key of CHART_KEYS) {
      const table = el("table", { class: "data-table" });
      table.append(el("caption", {}, t(`chart.${key}`)));
      const head = el("tr", {}, el("th", { scope: "col" }, t("table.step")));
      for (const run of runs) head.append(el("th", { scope: "col" }, labelOf(run)));
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
      this.holder.append(el("div", { class: "table-wrap" }, table));
    }
  }
}

function range(from, to) {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
