// The backward view: for the first image at one epoch, every block's output beside ∂L/∂(output),
// the gradient the backward pass hands down to it. A map that is identically zero (every
// channel, every pixel) gets an "exactly 0" badge: the reader sees where the gradient stops.
//
// Maps come from the engine (Experiment.blockMaps with the snapshot's parameters of that
// epoch); each is drawn at its own resolution (channel 1, the others are summarised by the
// badge) on a diverging scale centred on 0.

import { el, fillRunPicker } from "../dom.js";
import { briefAbove, exact } from "../chart.js";

export class BackwardView {
  /**
   * @param {{labels: {block, output, grad, zero, channel, run, epoch}, request: (run, params) => Promise<any>,
   *   snapshotAt: (run, step) => Promise<any>, onError}} options
   *   `snapshotAt` gives a run's snapshot at (or before) a step, `request` the block maps at its parameters
   */
  constructor(container, { labels, request, snapshotAt, onError }) {
    Object.assign(this, { labels, request, snapshotAt, onError });
    this.runSelect = el("select", { id: "lab-back-run" });
    this.stepInput = el("input", { type: "range", id: "lab-back-step", min: "0", max: "0", value: "0" });
    this.stepOut = el("output", { for: "lab-back-step" }, "–");
    this.runLabel = el("span", {}, labels.run);
    this.epochLabel = el("span", {}, labels.epoch);
    const controls = el("div", { class: "explain-controls" },
      el("label", {}, this.runLabel, " ", this.runSelect),
      el("label", { class: "ex-step" }, this.epochLabel, " ", this.stepInput, " ", this.stepOut));
    this.root = el("div", { class: "backward" });
    container.append(controls, this.root);
    this.runSelect.addEventListener("change", () => this.redraw());
    this.stepInput.addEventListener("input", () => this.redraw());
    this.runs = [];
    this.summary = [];
    this.token = 0;
    this.sync([], () => "");
  }

  /** Follows the runs on screen: the run choice, the epoch slider (kept at the last epoch
   * while it is there), and the maps of a finished run. */
  sync(runs, labelOf) {
    this.runs = runs;
    this.runLabel.textContent = this.labels.run;
    this.epochLabel.textContent = this.labels.epoch;
    fillRunPicker(this.runSelect, runs.map((run) => [run.key, labelOf(run)]), this.labels.none);
    this.stepInput.disabled = runs.length === 0;
    if (runs.length === 0) return this.clear();
    const run = this.chosen();
    const last = String(Math.max(0, (run?.steps ?? 1) - 1));
    const following = Number(this.stepInput.value) >= Number(this.stepInput.max);
    if (this.stepInput.max !== last) this.stepInput.max = last;
    if (following && this.stepInput.value !== last) this.stepInput.value = last;
    if (run?.status === "finished" && this.shown !== `${run.key}@${this.stepInput.value}`) this.redraw();
  }

  chosen() {
    return this.runs.find((r) => r.key === this.runSelect.value);
  }

  /** No run on screen: no maps and no summary (a cleared run's must not stay), no epoch. */
  clear() {
    ++this.token; // maps still on their way belong to a run that is gone
    this.shown = null;
    this.shape = null;
    this.summary = [];
    this.stepInput.max = this.stepInput.value = "0";
    this.stepOut.textContent = "–";
    if (this.root.firstChild) this.root.replaceChildren();
  }

  /** Draws the chosen run at the chosen epoch (a failure is reported, the last maps stay). */
  async redraw() {
    const run = this.chosen();
    if (!run || run.steps === 0) return;
    this.shown = `${run.key}@${this.stepInput.value}`;
    try {
      const at = await this.show(run, Number(this.stepInput.value));
      if (this.chosen() === run) this.stepOut.textContent = String(at);
    } catch (error) {
      // A run removed meanwhile (Clear, the lab's cap on runs): its worker no longer has it.
      if (this.runs.includes(run)) this.onError(error);
    }
  }

  /** Draws `run`'s maps at the recorded snapshot nearest to (not after) `step`; resolves to that step. */
  async show(run, step) {
    const token = ++this.token;
    const snapshot = await this.snapshotAt(run.key, step);
    if (!snapshot) return null;
    const maps = await this.request(run.key, snapshot.params.map(({ name, value }) => ({ name, value })));
    if (token !== this.token) return snapshot.step; // a newer request superseded this one
    this.render(maps);
    return snapshot.step;
  }

  render({ height, width, blocks }) {
    this.summary = blocks.map((b, i) => ({
      block: i + 1,
      outputZero: allZero(b.output),
      gradZero: allZero(b.output_grad),
      outputMax: maxAbs(b.output),
      gradMax: maxAbs(b.output_grad),
    }));
    // The same shape as on screen (another epoch, the same lesson again): repaint the tiles in
    // place; a new grid of canvases costs a layout of the lab.
    const shape = JSON.stringify([height, width, blocks.length, this.labels.zero]);
    if (shape === this.shape) {
      blocks.forEach((b, i) => {
        for (const [kind, values, zero, max] of [["output", b.output, this.summary[i].outputZero, this.summary[i].outputMax], ["grad", b.output_grad, this.summary[i].gradZero, this.summary[i].gradMax]]) {
          const old = this.root.querySelector(`.backward-tile[data-block="${i + 1}"][data-kind="${kind}"]`);
          old.replaceWith(tile(values, height, width, zero, max, this.labels, i + 1, kind, old.querySelector("canvas")));
        }
      });
      return;
    }
    this.shape = shape;
    // One column per block, block 1 (the image's side) on the left; outputs above, their
    // gradients below, so the eye follows the backward pass from right to left.
    const grid = el("div", { class: "backward-grid" });
    grid.style.gridTemplateColumns = `auto repeat(${blocks.length}, minmax(58px, 80px))`;
    grid.append(el("span"), ...blocks.map((b, i) => el("span", { class: "backward-name" }, this.labels.block({ n: i + 1, channels: b.channels }))));
    grid.append(el("span", { class: "backward-row-title" }, this.labels.output));
    blocks.forEach((b, i) => grid.append(tile(b.output, height, width, this.summary[i].outputZero, this.summary[i].outputMax, this.labels, i + 1, "output")));
    grid.append(el("span", { class: "backward-row-title" }, this.labels.grad));
    blocks.forEach((b, i) => grid.append(tile(b.output_grad, height, width, this.summary[i].gradZero, this.summary[i].gradMax, this.labels, i + 1, "grad")));
    this.root.replaceChildren(el("p", { class: "hint" }, this.labels.channel), el("div", { class: "backward-scroll" }, grid));
  }

  /** The run and epoch on show and, per block, whether its output and its gradient are
   * identically 0 and their largest |value|. */
  data() {
    const step = Number(this.stepOut.textContent);
    return { run: this.runSelect.value, step: Number.isInteger(step) ? step : null, blocks: this.summary.map((s) => ({ ...s })) };
  }
}

/** One map with its badge; `canvas` is reused when given (same size). */
function tile(values, height, width, zero, max, labels, block, kind, canvas = el("canvas", { class: "backward-map", width: String(width), height: String(height), role: "img" })) {
  const title = kind === "output" ? labels.output : labels.grad;
  canvas.setAttribute("aria-label", `${labels.block({ n: block, channels: "" })} ${title}: ${zero ? labels.zero : `max |v| ${exact(max)}`}`);
  paint(canvas, values, height * width, max);
  const badge = zero ? el("span", { class: "badge-zero" }, labels.zero) : el("span", { class: "backward-max", title: exact(max) }, `≤ ${briefAbove(max)}`);
  return el("figure", { class: `backward-tile${zero ? " is-zero" : ""}`, "data-block": String(block), "data-kind": kind }, canvas, badge);
}

/** Channel 1 of a [C, H, W] map: blue below 0, red above, white at 0, scaled by the map's max |v|. */
function paint(canvas, values, pixels, max) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(canvas.width, canvas.height);
  const data = image.data;
  for (let i = 0; i < pixels; i++) {
    const v = max > 0 ? values[i] / max : 0;
    const fade = 255 * (1 - Math.abs(v)); // white at 0
    data[4 * i] = v >= 0 ? 255 : fade;
    data[4 * i + 1] = fade;
    data[4 * i + 2] = v >= 0 ? fade : 255;
    data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

function allZero(values) {
  for (const v of values) if (v !== 0) return false;
  return true;
}

function maxAbs(values) {
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  return max;
}
