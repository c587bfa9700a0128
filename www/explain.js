// The explanation: why two layers cannot learn from zero weights, each claim tied to a number
// from a run on this page (the selected experiment, at the selected epoch). Nothing here is
// typed in: every figure is read from the records, snapshots and feature maps the engine sent.

import { t } from "./i18n.js";
import { PRESET_KEYS } from "./state.js";
import { el } from "./dom.js";

const PARAMS = ["conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias"];

export class Explain {
  /**
   * @param {{store, actions, labelOf: (run) => string, onError?: (error) => void}} deps
   *   `onError`: a drawing failed (the view says so; the explanation is not drawn again)
   */
  constructor({ store, actions, labelOf, onError }) {
    this.store = store;
    this.onError = onError;
    this.actions = actions;
    this.labelOf = labelOf;
    this.$ = (id) => document.getElementById(id);
    this.selected = null;
    this.step = null;
    this.mapsKey = "";
    this.$("ex-run").addEventListener("change", (event) => {
      this.selected = event.target.value;
      this.step = null;
      this.render();
    });
    this.$("ex-step").addEventListener("input", (event) => {
      this.step = Number(event.target.value);
      this.render();
    });
    this.$("ex-zg-run").addEventListener("click", () => this.actions.runComparison("zero_grad"));
    this.$("ex-bn-run").addEventListener("click", () => this.actions.runComparison("bn_scale"));
  }

  /** The run and step on show, and that step's snapshot (null until it has one). */
  current() {
    const runs = this.store.runs;
    let run = runs.find((r) => r.key === this.selected) ?? runs.find((r) => r.key === "zeros") ?? runs[0];
    if (!run) return { run: null, step: 0, snapshot: null };
    const steps = [...run.snapshots.keys()];
    if (steps.length === 0) return { run, step: 0, snapshot: null };
    const wanted = this.step ?? steps.at(-1);
    const step = steps.reduce((best, s) => (Math.abs(s - wanted) < Math.abs(best - wanted) ? s : best), steps[0]);
    return { run, step, snapshot: run.snapshots.get(step) };
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
    const running = this.store.runs.some((r) => r.status === "running");
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
    this.renderControls(run, step);
    this.renderFour();
    this.renderClaims(run, step, snapshot);
    this.renderTable(snapshot);
    this.renderZeroGrad();
    this.renderSymmetry(snapshot);
    this.renderScale();
    this.renderMaps(run, step, snapshot);
  }

  renderControls(run, step) {
    const select = this.$("ex-run");
    const options = this.store.runs.map((r) => [r.key, this.labelOf(r)]);
    if (JSON.stringify(options) !== select.dataset.options) {
      select.replaceChildren(...options.map(([key, label]) => el("option", { value: key }, label)));
      select.dataset.options = JSON.stringify(options);
    }
    select.value = run?.key ?? "";
    const slider = this.$("ex-step");
    const last = run ? Math.max(0, run.steps - 1) : 0;
    slider.max = String(last);
    slider.value = String(step);
    slider.disabled = !run;
    this.$("ex-step-out").value = run ? `${step} / ${last}` : "–";
  }

  renderFour() {
    const list = this.$("ex-four");
    list.replaceChildren(
      ...PRESET_KEYS.map((key) => {
        const run = this.store.get(key);
        const item = el("li", { "data-preset": key });
        item.append(el("strong", {}, t(`preset.${key}`)), " ", el("span", {}, t(`ex.four.${key}`)), " ");
        const r = run?.records;
        const live = !r || r.loss.length === 0
          ? t("ex.notRun")
          : t("ex.four.live", {
            epochs: r.loss.length,
            first: num(r.loss[0]),
            last: num(r.loss.at(-1)),
            var1: num(r.conv1_var.at(-1)),
            var2: num(r.conv2_var.at(-1)),
          });
        item.append(el("span", { class: "live" }, live));
        return item;
      }),
    );
  }

  renderClaims(run, step, snapshot) {
    const list = this.$("ex-claims");
    const maps = this.maps?.key === `${run?.key}/${step}` ? this.maps.data : null;
    const p = (name) => snapshot?.params.find((x) => x.name === name);
    const gradNorm = (name) => (p(name)?.grad ? norm(p(name).grad) : null);
    // A loop, not Math.max(...values): a 224² feature map has 150,528 values, too many arguments
    // for the call stack (it threw "Maximum call stack size exceeded" in a local test run).
    const maxAbsOf = (values) => (values ? maxAbs(values) : null);
    const loss = run?.records.loss[step];
    const claims = [
      { key: "c1", value: maxAbsOf(maps?.conv2_input), label: "max |conv2 input|", zero: true },
      { key: "c2", value: gradNorm("conv2.weight"), label: "‖∂L/∂conv2‖", zero: true },
      { key: "c3", value: gradNorm("conv1.weight"), label: "‖∂L/∂conv1‖", zero: true, extra: ["max |conv2|", maxAbsOf(p("conv2.weight")?.value)] },
      { key: "c4", value: maxAbsOf(maps?.conv1), label: "max |conv1 output|", zero: true },
      { key: "c5", value: maxAbsOf([...(p("bn1.bias")?.grad ?? []), ...(p("bn2.bias")?.grad ?? [])]), label: "max |∂L/∂bn bias|", zero: true },
      { key: "c6", value: loss ?? null, label: "loss", target: Math.log(3) },
    ];
    list.replaceChildren(
      ...claims.map((c) => {
        const item = el("li", { "data-claim": c.key });
        item.append(el("span", { "data-i18n": `ex.frozen.${c.key}` }, t(`ex.frozen.${c.key}`)), " ");
        if (c.value === null || c.value === undefined) {
          item.append(el("span", { class: "live pending" }, t("ex.notRun")));
          return item;
        }
        const holds = c.zero ? c.value === 0 : Math.abs(c.value - c.target) < 1e-5;
        const text = `${c.label} = ${num(c.value)}${c.extra && c.extra[1] !== null ? `, ${c.extra[0]} = ${num(c.extra[1])}` : ""}`;
        const live = el("span", { class: `live ${holds ? "holds" : "fails"}` }, `${holds ? "✓" : "✗"} ${text}`);
        live.setAttribute("aria-label", `${holds ? t("ex.holds") : t("ex.fails")}: ${text}`);
        item.append(live);
        return item;
      }),
    );
  }

  renderTable(snapshot) {
    const table = this.$("grad-table");
    const head = el("tr", {}, ...["ex.table.param", "ex.table.value", "ex.table.grad", "ex.table.gradNorm"].map((k) => el("th", { scope: "col" }, t(k))));
    const rows = PARAMS.map((name) => {
      const p = snapshot?.params.find((x) => x.name === name);
      const value = !p ? "–" : p.value.length > 3 ? t("ex.table.summary", { mean: num(mean(p.value)), max: num(maxAbs(p.value)) }) : p.value.map(num).join(", ");
      const grad = !p ? "–" : !p.grad ? t("ex.table.none") : p.grad.length > 3 ? t("ex.table.maxAbs", { max: num(maxAbs(p.grad)) }) : p.grad.map(num).join(", ");
      const gradNorm = !p ? "–" : !p.grad ? "–" : num(norm(p.grad));
      const row = el("tr", { "data-param": name }, el("th", { scope: "row" }, name), el("td", {}, value), el("td", {}, grad), el("td", {}, gradNorm));
      if (p?.grad && p.grad.every((g) => g === 0)) row.classList.add("all-zero");
      return row;
    });
    table.replaceChildren(el("caption", {}, t("ex.table.caption")), el("thead", {}, head), el("tbody", {}, ...rows));
  }

  renderZeroGrad() {
    const off = this.store.get("zg_off");
    const on = this.store.get("zg_on");
    const text = off?.steps && on?.steps
      ? t("ex.zg.live", {
        epochs: Math.min(off.steps, on.steps),
        off: num(off.records.loss[Math.min(off.steps, on.steps) - 1]),
        on: num(on.records.loss[Math.min(off.steps, on.steps) - 1]),
        goff: num(off.records.conv2_grad_norm[Math.min(off.steps, on.steps) - 1]),
        gon: num(on.records.conv2_grad_norm[Math.min(off.steps, on.steps) - 1]),
      })
      : t("ex.zg.pending");
    this.$("ex-zg-live").textContent = text;
  }

  renderSymmetry(snapshot) {
    const holder = this.$("ex-filters");
    if (holder.dataset.step === `${snapshot?.step}/${this.selected}` && snapshot) return; // drawn already
    holder.dataset.step = `${snapshot?.step}/${this.selected}`;
    const conv1 = snapshot?.params.find((p) => p.name === "conv1.weight")?.value;
    const conv2 = snapshot?.params.find((p) => p.name === "conv2.weight")?.value;
    holder.replaceChildren(...[["conv1", conv1], ["conv2", conv2]].filter(([, w]) => w).map(([name, w]) => filterGrid(name, w)));
    if (!conv1) {
      this.$("ex-sym-live").textContent = t("ex.notRun");
      return;
    }
    // The largest difference between conv1's three output filters (27 weights each).
    let diff = 0;
    for (let o = 1; o < 3; o++) for (let k = 0; k < 27; k++) diff = Math.max(diff, Math.abs(conv1[o * 27 + k] - conv1[k]));
    this.$("ex-sym-live").textContent = t(diff === 0 ? "ex.sym.same" : "ex.sym.differ", { diff: num(diff) });
  }

  renderScale() {
    const small = this.store.get("bn_c05");
    const big = this.store.get("bn_c5");
    if (!small?.steps || !big?.steps) {
      this.$("ex-bn-live").textContent = t("ex.bn.pending");
      return;
    }
    const g = (run) => run.records.conv2_grad_norm[0];
    this.$("ex-bn-live").textContent = t("ex.bn.live", {
      l1: num(small.records.loss[0]),
      l2: num(big.records.loss[0]),
      g1: num(g(small)),
      g2: num(g(big)),
      ratio: num(g(small) / g(big)),
    });
  }

  /** Asks the worker for the selected step's maps (once per run and step), then draws them. */
  renderMaps(run, step, snapshot) {
    const holder = this.$("ex-maps");
    const key = `${run?.key}/${step}`;
    if (!run || !snapshot) {
      holder.replaceChildren(el("p", { class: "live pending" }, t("ex.notRun")));
      return;
    }
    if (this.maps?.key === key) {
      if (holder.dataset.key !== key) holder.replaceChildren(...mapViews(this.maps.data));
      holder.dataset.key = key;
      return;
    }
    if (this.mapsKey === key) return; // already asked
    // While the run is stepping and the slider follows it, wait for it to stop: a map per
    // step would only queue work behind the training.
    if (run.status === "running" && this.step === null) return;
    this.mapsKey = key;
    this.actions
      .featureMaps(run.key, snapshot.params)
      .then((data) => {
        this.maps = { key, data };
        this.render();
      })
      .catch(() => {
        this.mapsKey = ""; // the run moved on or was removed: ask again next time
      });
  }
}

// ---- pictures ---------------------------------------------------------------------------

/** A conv weight [3 out][3 in][3][3] as a 3×3 grid of 3×3 heatmaps, one colour scale. */
function filterGrid(name, w) {
  const scale = maxAbs(w);
  const figure = el("figure", { class: "filter-grid" });
  const canvas = el("canvas", { width: "11", height: "11", class: "heat", role: "img" });
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(11, 11);
  for (let o = 0; o < 3; o++) {
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 9; k++) {
        const [x, y] = [i * 4 + (k % 3), o * 4 + Math.floor(k / 3)];
        paint(image, (y * 11 + x) * 4, scale === 0 ? 0 : w[(o * 3 + i) * 9 + k] / scale);
      }
    }
  }
  ctx.putImageData(image, 0, 0);
  canvas.setAttribute("aria-label", `${name}: ${w.map(num).join(" ")}`);
  canvas.title = `${name}\n${[0, 1, 2].map((o) => w.slice(o * 27, o * 27 + 27).map(num).join(" ")).join("\n")}`;
  figure.append(canvas, el("figcaption", {}, `${name} (±${num(scale)})`));
  return figure;
}

function mapViews(maps) {
  const { width, height } = maps;
  return [
    ["ex.maps.image", maps.image],
    ["ex.maps.conv1", maps.conv1],
    ["ex.maps.conv2in", maps.conv2_input],
    ["ex.maps.conv2", maps.conv2],
  ]
    .filter(([, data]) => data)
    .map(([label, data]) => {
      const scale = maxAbs(data);
      const figure = el("figure", { class: "map" });
      const strip = el("div", { class: "map-channels" });
      for (let c = 0; c < 3; c++) {
        const canvas = el("canvas", { width: String(width), height: String(height), class: "heat", role: "img" });
        const ctx = canvas.getContext("2d");
        const image = ctx.createImageData(width, height);
        const plane = data.subarray(c * width * height, (c + 1) * width * height);
        for (let p = 0; p < plane.length; p++) paint(image, p * 4, scale === 0 ? 0 : plane[p] / scale);
        ctx.putImageData(image, 0, 0);
        canvas.setAttribute("aria-label", `${t(label)}, channel ${c}`);
        strip.append(canvas);
      }
      const [min, max] = extent(data);
      const range = scale === 0 ? t("ex.maps.flat") : t("ex.maps.range", { min: num(min), max: num(max) });
      figure.append(strip, el("figcaption", {}, `${t(label)}: ${range}`));
      return figure;
    });
}

/** Diverging purple–white–orange (PuOr, readable with colour-vision deficiencies). */
function paint(image, at, v) {
  const x = Math.max(-1, Math.min(1, v));
  const [lo, mid, hi] = [[94, 60, 153], [247, 247, 247], [230, 97, 1]];
  const to = x < 0 ? lo : hi;
  const f = Math.abs(x);
  for (let k = 0; k < 3; k++) image.data[at + k] = Math.round(mid[k] + (to[k] - mid[k]) * f);
  image.data[at + 3] = 255;
}

// ---- numbers ----------------------------------------------------------------------------

/** A number for reading: exact zeros as "0" (never 1e-38), else 5 significant digits. */
export function num(v) {
  if (v === 0) return "0";
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-4 ? v.toExponential(3) : String(Number(v.toPrecision(5)));
}

function norm(values) {
  return Math.sqrt(values.reduce((s, v) => s + v * v, 0));
}

function maxAbs(values) {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

function extent(values) {
  let [min, max] = [Infinity, -Infinity];
  for (const v of values) [min, max] = [Math.min(min, v), Math.max(max, v)];
  return [min, max];
}

function mean(values) {
  return values.reduce((s, v) => s + v, 0) / values.length;
}
