// The DOM, composed of its parts (www/view/): the controls, the settings form, the share panel,
// the legend with the charts, and the tables; plus the status line and the explanation. It
// redraws them when the runs change, and keeps a part that fails from taking the others down.
// Text from the URL, files or the engine only ever goes through textContent, never innerHTML.

import { ChartLibraryError, exact } from "./chart.js";
import { t } from "./i18n.js";
import { Explain } from "./explain.js";
import { labelOf } from "./runs.js";
import { Charts } from "./view/charts.js";
import { Controls } from "./view/controls.js";
import { SettingsForm } from "./view/form.js";
import { SharePanel } from "./view/share-panel.js";
import { Tables } from "./view/tables.js";

export class View {
  /**
   * @param {{store, extra, settings, actions, backends: () => string[], backend: () => string}} deps
   *   `store`: the reader's runs; `extra`: the explanation's; `backends`: what the worker
   *   offers; `backend`: what new runs use (both app.js's, see defaultBackend in state.js);
   *   `building`: whether the server is still building the ndarray and WebGPU module
   */
  constructor({ store, extra, settings, actions, backends, backend, building }) {
    this.store = store;
    this.settings = settings;
    /** Parts of the view that failed (part → message); they are not drawn again. */
    this.broken = new Map();
    /** The first failure, as an Error: runAll() rejects with it. */
    this.failure = null;
    const $ = (id) => document.getElementById(id);
    this.$ = $;
    const guard = (promise) => this.guard(promise);
    const safely = (part, draw) => this.safely(part, draw);
    this.controls = new Controls({ $, settings, actions, guard, relabel: () => this.relabel() });
    this.share = new SharePanel({ $, store, settings, actions });
    this.form = new SettingsForm($("settings"), { settings, actions, backends, backend, building });
    this.form.build();
    if (settings.embed) this.controls.embedLayout();
    this.charts = new Charts({
      $, store, settings, safely,
      toggle: (key) => {
        store.toggle(key);
        this.render();
      },
      remove: (key) => guard(actions.remove(key)),
    });
    this.tables = new Tables({ holder: $("tables"), store, safely });
    this.explain = new Explain({ store, extra, actions, labelOf, onError: (error) => this.fail("explain", error) });
    store.onChange(() => this.scheduleRender());
    new ResizeObserver(() => this.scheduleRender()).observe($("charts"));
  }

  /** The language changed: rebuild what was built in JS with words in it. */
  relabel() {
    this.form.build();
    this.render();
    if (this.statusWords) this.$("status").textContent = this.statusWords();
  }

  /** Runs an action; a failure is shown, never left as an unhandled rejection. */
  guard(promise) {
    Promise.resolve(promise).catch((error) => this.status(error.message, "error"));
  }

  setPlaying(playing) {
    this.controls.setPlaying(playing);
  }

  // ---- status -----------------------------------------------------------------------------

  /** The status line. `text` is a string, or a function that words it in the current language (relabel redoes it). */
  status(text, kind = "info") {
    this.statusWords = typeof text === "function" ? text : null;
    const status = this.$("status");
    status.textContent = typeof text === "function" ? text() : text;
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
      this.status(() => t("statusDone", { run: labelOf(run), epochs: run.steps, loss: lossText }));
    } else if (run.status === "running" || run.status === "paused") {
      const key = run.status === "running" ? "statusStep" : "statusPaused";
      const step = run.steps;
      this.status(() => t(key, { run: labelOf(run), step, epochs: run.config.epochs, loss: lossText }));
    } else if (run.message) {
      const message = run.message;
      this.status(() => t("statusStopped", { run: labelOf(run), message }), run.status === "diverged" || run.status === "error" ? "error" : "info");
    }
  }

  // ---- drawing ----------------------------------------------------------------------------

  /**
   * Redraws on the next frame, but no more than ten times a second while records stream in:
   * the charts still grow live, and the main thread stays free (no task over 50 ms).
   * `now`: skip the rest of the wait (the last runs just finished: their final numbers should
   * not wait up to 100 ms for the throttle).
   */
  scheduleRender({ now = false } = {}) {
    // this.redraw: null, or the redraw on its way: `{timer}` while it waits out the throttle,
    // `{timer: null}` once it waits for its frame (too late to hurry).
    if (this.redraw && !(now && this.redraw.timer)) return;
    if (this.redraw) clearTimeout(this.redraw.timer);
    const wait = now ? 0 : Math.max(0, 100 - (performance.now() - (this.lastRender ?? 0)));
    const redraw = {
      timer: setTimeout(() => {
        redraw.timer = null;
        requestAnimationFrame(() => {
          this.redraw = null;
          this.lastRender = performance.now();
          this.render();
        });
      }, wait),
    };
    this.redraw = redraw;
  }

  render() {
    const start = performance.now();
    this.safely("legend", () => this.charts.renderLegend());
    this.safely("charts", () => this.charts.renderCharts());
    this.safely("tables", () => this.tables.render());
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
    // The chart library failing breaks the lab's charts too: one sentence says it for both.
    if (alert.hidden) alert.textContent = text;
    else if (!alert.textContent.includes(text)) alert.textContent = `${alert.textContent} ${text}`;
    alert.hidden = false;
    // Without charts, the tables show the numbers.
    if (part === "charts") {
      this.$("charts").hidden = true;
      this.tables.open();
    }
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
      const built = this.broken.has("charts") || this.charts.built();
      if (!this.redraw && !this.charts.buildPending && built) break;
      await new Promise((resolve) => setTimeout(resolve, 16));
    }
    if (this.failure) throw this.failure;
  }

  /** For tests and the embedding API: per chart, the exact arrays handed to it. */
  chartData() {
    return this.charts.chartData();
  }
}
