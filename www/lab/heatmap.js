// A layer × epoch heatmap on a canvas: one cell per layer (layer 1 at the bottom, where the
// input is) and epoch, coloured on a log scale (viridis), with exact zeros hatched grey, a
// colour of their own that no value can take, and non-finite values red. Hover (or focus and
// arrow keys) names the cell's layer, epoch and exact value.

import { el } from "../dom.js";
import { brief, exact } from "../chart.js";

const VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];
const VIRIDIS_RGB = VIRIDIS.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
const NOT_FINITE = [214, 39, 40];
const ROW_HEIGHT = { min: 6, max: 22 };

export class Heatmap {
  /** @param {HTMLElement} container  @param {{title: string, labels: {layer, epoch, zero, notFinite, cell}}} options */
  constructor(container, { title, labels }) {
    this.labels = labels;
    this.rows = [];
    this.root = el("figure", { class: "heatmap" });
    this.caption = el("figcaption", {}, title);
    this.canvas = el("canvas", { class: "heatmap-canvas", tabindex: "0", role: "img" });
    this.tip = el("p", { class: "heatmap-tip", "aria-live": "polite" });
    this.legend = el("div", { class: "heatmap-legend" });
    this.axes = el("p", { class: "heatmap-axes" });
    this.root.append(this.caption, this.canvas, this.axes, this.legend, this.tip);
    container.append(this.root);
    this.cursor = null;
    // The width is measured by a ResizeObserver, never read while drawing: a read after the
    // page changed forces a layout of the whole page (tens of ms here, four maps a frame).
    this.width = 0; // until the observer's first call, which comes before the first paint
    new ResizeObserver(([entry]) => {
      const width = Math.round(entry.contentRect.width);
      if (width > 0 && width !== this.width) {
        this.width = width;
        drawSoon(this);
      }
    }).observe(this.root);
    this.canvas.addEventListener("mousemove", (e) => this.hover(e));
    this.canvas.addEventListener("mouseleave", () => this.point(null));
    this.canvas.addEventListener("keydown", (e) => this.key(e));
  }

  /**
   * `rows[epoch][layer]`: exactly the engine's per-layer records, drawn as they are. `values`:
   * every value the colour scale must span (the runs side by side share one scale).
   */
  update(rows, { title, values = rows.flat() } = {}) {
    this.rows = rows;
    this.scale = logScale(values);
    if (title && this.caption.textContent !== title) this.caption.textContent = title;
    // Records only ever grow: the same number of epochs on the same scale is the same picture
    // (a finished run beside a training one is not redrawn ten times a second).
    const signature = `${rows.length}|${this.scale.min}|${this.scale.max}|${this.width}|${this.labels.zero}`;
    if (signature === this.drawn) return;
    drawSoon(this);
  }

  /** What is drawn (for tests: it must equal the engine's records). */
  data() {
    return this.rows.map((row) => [...row]);
  }

  draw() {
    if (this.width === 0) return;
    this.drawn = `${this.rows.length}|${this.scale.min}|${this.scale.max}|${this.width}|${this.labels.zero}`;
    const epochs = this.rows.length;
    const layers = this.rows[0]?.length ?? 0;
    const width = Math.max(160, this.width);
    const rowHeight = Math.max(ROW_HEIGHT.min, Math.min(ROW_HEIGHT.max, Math.floor(180 / Math.max(1, layers))));
    const height = Math.max(1, layers) * rowHeight;
    const ratio = window.devicePixelRatio || 1;
    const [w, h] = [Math.round(width * ratio), Math.round(height * ratio)];
    if (this.canvas.width !== w || this.canvas.height !== h) {
      Object.assign(this.canvas, { width: w, height: h });
      Object.assign(this.canvas.style, { width: `${width}px`, height: `${height}px` });
    }
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, w, h);
    if (epochs > 0 && layers > 0) {
      // One pixel per cell (layer 1 in the bottom row), scaled up without smoothing; then the
      // exact zeros hatched over their cells.
      const cells = new ImageData(epochs, layers);
      const zeros = [];
      for (let e = 0; e < epochs; e++) {
        for (let l = 0; l < layers; l++) {
          const v = this.rows[e][l];
          if (v === 0) zeros.push([e, l]);
          const at = 4 * ((layers - 1 - l) * epochs + e);
          if (v === 0) continue; // transparent: hatched below
          const [r, g, b] = Number.isFinite(v) ? viridisRgb(this.scale.at(v)) : NOT_FINITE;
          cells.data[at] = r;
          cells.data[at + 1] = g;
          cells.data[at + 2] = b;
          cells.data[at + 3] = 255;
        }
      }
      // One small canvas per heatmap, reused: a new canvas per draw costs a backing store.
      const small = (this.small ??= document.createElement("canvas"));
      if (small.width !== epochs || small.height !== layers) Object.assign(small, { width: epochs, height: layers });
      small.getContext("2d").putImageData(cells, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(small, 0, 0, w, h);
      ctx.fillStyle = (this.zero ??= zeroPattern(ctx));
      const [cw, rh] = [w / epochs, h / layers];
      for (const [e, l] of zeros) ctx.fillRect(Math.floor(e * cw), Math.floor((layers - 1 - l) * rh), Math.ceil(cw), Math.ceil(rh));
    }
    this.geometry = { cellWidth: width / Math.max(1, epochs), rowHeight, height, epochs, layers };
    this.canvas.setAttribute("aria-label", `${this.caption.textContent}: ${layers} × ${epochs}`);
    const axes = epochs ? this.labels.axes({ epochs: epochs - 1, layers }) : "";
    if (this.axes.textContent !== axes) this.axes.textContent = axes;
    this.drawLegend();
    if (this.cursor) this.point(this.cursor);
  }

  drawLegend() {
    const { min, max } = this.scale;
    const notFinite = this.rows.some((row) => row.some((v) => !Number.isFinite(v)));
    const signature = JSON.stringify([min, max, notFinite, this.labels.zero]);
    if (signature === this.legendSignature) return;
    this.legendSignature = signature;
    // The colour bar and the "exactly 0" swatch are CSS (style.css): no canvases to build.
    const bar = el("span", { class: "heatmap-bar", "aria-hidden": "true" });
    const swatch = el("span", { class: "heatmap-swatch", "aria-hidden": "true" });
    const parts = [];
    if (max > 0) parts.push(el("span", { title: exact(min) }, brief(min)), bar, el("span", { title: exact(max) }, `${brief(max)} (log)`));
    parts.push(el("span", { class: "heatmap-zero" }, swatch, ` ${this.labels.zero}`));
    if (notFinite) parts.push(el("span", { class: "heatmap-nan" }, this.labels.notFinite));
    this.legend.replaceChildren(...parts);
  }

  hover(event) {
    const box = this.canvas.getBoundingClientRect();
    const { cellWidth, rowHeight, height, epochs, layers } = this.geometry ?? {};
    if (!epochs) return;
    const epoch = Math.min(epochs - 1, Math.floor((event.clientX - box.left) / cellWidth));
    const layer = Math.min(layers - 1, Math.floor((height - (event.clientY - box.top)) / rowHeight));
    this.point({ epoch, layer: Math.max(0, layer) });
  }

  key(event) {
    const { epochs, layers } = this.geometry ?? {};
    if (!epochs) return;
    const at = this.cursor ?? { epoch: 0, layer: 0 };
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    this.point({ epoch: clamp(at.epoch + move[0], 0, epochs - 1), layer: clamp(at.layer + move[1], 0, layers - 1) });
  }

  /** Shows the cell's exact value (or clears the line). */
  point(cell) {
    this.cursor = cell;
    if (!cell || !this.rows[cell.epoch]) {
      this.tip.textContent = "";
      return;
    }
    const v = this.rows[cell.epoch][cell.layer];
    this.tip.textContent = this.labels.cell({ layer: cell.layer + 1, epoch: cell.epoch, value: v === 0 ? `0 (${this.labels.zero})` : exact(v) });
  }
}

// Heatmaps are drawn in animation frames, a few milliseconds' worth per frame: a lesson's
// first frame would otherwise draw four fresh canvases at once, a task over 50 ms here.
const waiting = new Set();
let flushing = false;

function drawSoon(heatmap) {
  waiting.add(heatmap);
  if (!flushing) {
    flushing = true;
    requestAnimationFrame(flush);
  }
}

function flush() {
  const start = performance.now();
  for (const heatmap of waiting) {
    waiting.delete(heatmap);
    heatmap.draw();
    if (performance.now() - start > 8) break;
  }
  flushing = waiting.size > 0;
  if (flushing) requestAnimationFrame(flush);
}

/** Positive finite values mapped to [0, 1] by their log between the smallest and the largest. */
function logScale(values) {
  let min = Infinity;
  let max = 0;
  for (const v of values) {
    if (v > 0 && Number.isFinite(v)) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  if (!(max > 0)) return { min: 0, max: 0, at: () => 0 };
  const [lo, hi] = [Math.log10(min), Math.log10(max)];
  return { min, max, at: (v) => (hi > lo ? (Math.log10(v) - lo) / (hi - lo) : 1) };
}

/** Viridis at t in [0, 1], interpolated between its stops: [r, g, b]. */
function viridisRgb(t) {
  const x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const [a, b] = [VIRIDIS_RGB[i], VIRIDIS_RGB[i + 1]];
  return a.map((c, k) => Math.round(c + (b[k] - c) * (x - i)));
}

/** Light grey with dark diagonal hatching: "exactly 0", told apart without colour. */
function zeroPattern(ctx) {
  const tile = document.createElement("canvas");
  tile.width = tile.height = 6;
  const t = tile.getContext("2d");
  t.fillStyle = "#e6e6e6";
  t.fillRect(0, 0, 6, 6);
  t.strokeStyle = "#8c8c8c";
  t.beginPath();
  t.moveTo(0, 6);
  t.lineTo(6, 0);
  t.stroke();
  return ctx.createPattern(tile, "repeat");
}


function clamp(v, lo, hi) {
  return Math.max(lo, Math.min(hi, v));
}
