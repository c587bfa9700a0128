// The explanation: why zero weights freeze the seed's net, and what the original post gets
// wrong, each statement tied to a number from a run on this page (the selected experiment at
// the selected epoch, or the explanation's own runs) and marked holds, fails or not in this
// model. The sections live in www/explain/; this file picks the run and step, fetches the
// block maps, and redraws.

import { el, fillRunPicker } from "./dom.js";
import { t } from "./i18n.js";
import { renderClaims, renderTable } from "./explain/claims.js";
import { renderFour } from "./explain/four.js";
import { renderHead, renderScale, renderSymmetry, renderZeroGrad } from "./explain/beyond.js";
import { modelOf } from "./explain/model.js";
import { blockViews } from "./explain/pictures.js";
import { POST_QUOTE, renderSays } from "./explain/says.js";

export class Explain {
  /**
   * @param {{store, extra, actions, labelOf: (run) => string, onError?: (error) => void}} deps
   *   `store`: the reader's runs; `extra`: the explanation's own (see explain/comparisons.js);
   *   `onError`: a drawing failed (the view says so; the explanation is not drawn again)
   */
  constructor({ store, extra, actions, labelOf, onError }) {
    Object.assign(this, { store, extra, actions, labelOf, onError });
    this.$ = (id) => document.getElementById(id);
    this.selected = null;
    this.step = null;
    /** snapshot → {data} once its block maps arrived (a snapshot object is never reused). */
    this.maps = new WeakMap();
    this.charts = {};
    extra.onChange(() => this.renderSoon());
    this.$("ex-zg-quote").textContent = POST_QUOTE;
    this.$("ex-run").addEventListener("change", (event) => {
      this.selected = event.target.value;
      this.step = null;
      this.render();
    });
    this.$("ex-step").addEventListener("input", (event) => {
      this.step = Number(event.target.value);
      this.render();
    });
    for (const button of document.querySelectorAll("#explain [data-comparison]")) {
      button.addEventListener("click", () => this.actions.runComparison(button.dataset.comparison));
    }
  }

  /** Every run the reader can pick: theirs, then the explanation's. */
  runs() {
    return [...this.store.runs, ...this.extra.runs];
  }

  /** The run and step on show, and that step's snapshot (null until it has one). */
  current() {
    const runs = this.runs();
    const run = runs.find((r) => r.key === this.selected) ?? runs.find((r) => r.key === "zeros") ?? runs[0];
    if (!run) return { run: null, step: 0, snapshot: null };
    const steps = [...run.snapshots.keys()];
    if (steps.length === 0) return { run, step: 0, snapshot: null };
    const wanted = this.step ?? steps.at(-1);
    const step = steps.reduce((best, s) => (Math.abs(s - wanted) < Math.abs(best - wanted) ? s : best), steps[0]);
    return { run, step, snapshot: run.snapshots.get(step) };
  }

  /**
   * The block maps (f, ∂L/∂f, output, ∂L/∂output per block) of a run at a snapshot, or null
   * while the worker computes them (asked once per snapshot; the explanation redraws when
   * they arrive).
   */
  mapsOf(run, snapshot) {
    if (!modelOf(run, snapshot).hasMaps) return null;
    const entry = this.maps.get(snapshot);
    if (entry) return entry.data;
    const asked = { data: null };
    this.maps.set(snapshot, asked);
    this.actions.blockMaps(run.key, snapshot.params).then(
      (data) => {
        asked.data = data;
        this.render();
      },
      () => this.maps.delete(snapshot), // the run moved on or was removed: ask again next time
    );
    return null;
  }

  /**
   * Redraws at most once a second while runs are training (and at once otherwise), and
   * not at all while the section is off screen: it is long, and it is rebuilt whole.
   */
  renderSoon() {
    if (!this.observer) {
      this.visible = false;
      this.observer = new IntersectionObserver(([entry]) => {
        this.visible = entry.isIntersecting;
        if (this.visible) this.render();
      });
      this.observer.observe(this.$("explain"));
    }
    if (!this.visible || this.timer) return;
    const running = this.runs().some((r) => r.status === "running");
    const wait = running ? Math.max(0, 1000 - (performance.now() - (this.lastRender ?? 0))) : 0;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.render();
    }, wait);
  }

  render() {
    if (this.failed) return;
    try {
      this.draw();
    } catch (error) {
      this.failed = true;
      this.onError?.(error);
    }
  }

  draw() {
    this.lastRender = performance.now();
    queueMicrotask(() => performance.measure("initlab:explain", { start: this.lastRender }));
    const { run, step, snapshot } = this.current();
    // While the selected run is stepping and the slider follows it, no maps: a map per step
    // would only queue work behind the training.
    const following = run?.status === "running" && this.step === null;
    const maps = snapshot && !following ? this.mapsOf(run, snapshot) : null;
    const mapsOf = (r, s) => this.mapsOf(r, s);
    this.renderControls(run, step);
    renderSays(this.$("ex-says"), { store: this.store, extra: this.extra, mapsOf });
    renderFour(this.$, this.store, this.extra);
    renderClaims(this.$("ex-claims"), { run, step, snapshot, maps });
    renderTable(this.$("grad-table"), snapshot);
    renderZeroGrad(this.$, this.extra, this.labelOf, this.charts);
    renderSymmetry(this.$, run, snapshot);
    renderScale(this.$, this.extra);
    renderHead(this.$, this.extra, mapsOf);
    this.renderMaps(run, snapshot, maps);
  }

  renderControls(run, step) {
    const select = this.$("ex-run");
    fillRunPicker(select, this.runs().map((r) => [r.key, this.labelOf(r)]), t("noRunYet"));
    select.value = run?.key ?? "";
    const slider = this.$("ex-step");
    const last = run ? Math.max(0, run.steps - 1) : 0;
    slider.max = String(last);
    slider.value = String(step);
    slider.disabled = !run;
    this.$("ex-step-out").value = run ? `${step} / ${last}` : "–";
  }

  /** Every block's maps at the selected step (redrawn only when the run or step changes). */
  renderMaps(run, snapshot, maps) {
    const holder = this.$("ex-maps");
    if (!run || !snapshot) return holder.replaceChildren(el("p", { class: "live pending" }, t("ex.notRun")));
    if (run.config.arch === "single_conv") return holder.replaceChildren(el("p", { class: "live absent" }, t("ex.maps.none")));
    if (!maps) return holder.replaceChildren(el("p", { class: "live pending" }, t("ex.computing")));
    if (this.drawnMaps === maps) return;
    this.drawnMaps = maps;
    holder.replaceChildren(...blockViews(maps, modelOf(run, snapshot).convs));
  }
}
