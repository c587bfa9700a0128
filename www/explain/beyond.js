// "What the original post missed": the fair 2×2 of the zero_grad bug, constant init's
// symmetry, BatchNorm and the constant's size, and the zero-init run without the ReLU on the
// logits. Every line is computed from the runs on the page and marked holds or fails.

import { el } from "../dom.js";
import { t } from "../i18n.js";
import { LineChart } from "../chart.js";
import { lrFactor } from "./comparisons.js";
import { channelSpread, check, distance, filterGap, maxAbs, num, relativeStep, ulp32, verdict } from "./format.js";
import { modelOf, param } from "./model.js";
import { filterGrid } from "./pictures.js";

export const GRID = ["c5_bug", "c5_fix", "kai_bug", "kai_fix", "kai_fix_lr"];
/** "Within a few float32 steps": the mean of a constant init wiggles by rounding alone. */
const FEW_ULPS = 10;
/** A remainder this small, relative to the gradient it came from, is rounding. */
const ROUNDING = 1e-4;

const lines = (holder, items) => holder.replaceChildren(...items.map((item) => el("li", {}, item)));
const pending = (holder) => lines(holder, [verdict("pending", t("ex.pressButton"))]);
const first = (run) => run.snapshots.get(0);
const lastSnapshot = (run) => run.snapshots.get([...run.snapshots.keys()].at(-1));
const convNames = (snapshot) => snapshot.params.filter((p) => /^conv\d+\.weight$/.test(p.name)).map((p) => p.name);
/** How far the convs moved, relative to their start, from step 0 to the last snapshot. */
const convStep = (run, name) => relativeStep(param(lastSnapshot(run), name).value, param(first(run), name).value);

/** The 2×2 (and the fix at a larger rate): one loss chart on shared axes, and the verdicts. */
export function renderZeroGrad($, extra, labelOf, charts) {
  const runs = GRID.map((key) => extra.get(key));
  const holder = $("ex-zg-chart");
  holder.hidden = runs.every((r) => !r);
  if (!holder.hidden) {
    charts.zg ??= new LineChart(holder, { title: t("chart.loss"), syncKey: "explain", height: 240 });
    const series = runs.filter(Boolean).map((run) => ({ id: run.key, label: labelOf(run), color: run.color, dash: run.dash, show: true, values: run.records.loss }));
    charts.zg.update(series, { title: t("chart.loss"), xLabel: t("epoch") });
  }
  const list = $("ex-zg-live");
  const ranked = rankings(extra);
  if (!ranked || runs.some((r) => !r?.steps)) return pending(list);
  const [, , kaiBug, kaiFix, kaiFast] = runs;
  const n = Math.min(...runs.map((r) => r.steps));
  const loss = (run) => run.records.loss[n - 1];
  // How far both convs moved from their (shared) start over the same updates: up to the last
  // step both runs have a snapshot of (one may be ahead of the other while they train), against
  // what a steady gradient gives over that many updates.
  const updates = Math.max(0, ...[...kaiBug.snapshots.keys()].filter((step) => kaiFix.snapshots.has(step)));
  if (updates === 0) return pending(list);
  const moved = (run) => Math.hypot(...convNames(first(run)).map((name) => distance(param(run.snapshots.get(updates), name).value, param(first(run), name).value)));
  const ratio = moved(kaiBug) / moved(kaiFix);
  const steady = lrFactor(updates);
  const factor = lrFactor(kaiFix.config.epochs);
  const near = Math.abs(loss(kaiFast) - loss(kaiBug)) < Math.abs(loss(kaiFast) - loss(kaiFix));
  lines(list, [
    ...ranked,
    verdict(check(ratio >= steady / 2), t("ex.zg.moved", { updates, bug: num(moved(kaiBug)), fix: num(moved(kaiFix)), ratio: num(ratio), factor: steady })),
    verdict(check(near), t("ex.zg.fast", { factor, lr: num(kaiFast.config.lr), fast: num(loss(kaiFast)), bug: num(loss(kaiBug)), fix: num(loss(kaiFix)) })),
  ]);
}

/**
 * The post's "lower loss" for Kaiming, under the script's bug and with zero_grad, from the
 * 2×2's constant-5 and Kaiming runs at their common last epoch; null until they have run.
 */
export function rankings(extra) {
  const runs = GRID.slice(0, 4).map((key) => extra.get(key));
  if (runs.some((r) => !r?.steps)) return null;
  const n = Math.min(...runs.map((r) => r.steps));
  const [c5Bug, c5Fix, kaiBug, kaiFix] = runs.map((r) => r.records.loss[n - 1]);
  const ranking = (kaiming, constant, key) => verdict(check(kaiming < constant), t(key, { epochs: n, kaiming: num(kaiming), constant: num(constant) }));
  return [ranking(kaiBug, c5Bug, "ex.zg.bug"), ranking(kaiFix, c5Fix, "ex.zg.fix")];
}

/** The selected run's filters, and what stays a copy of what. */
export function renderSymmetry($, run, snapshot) {
  const holder = $("ex-filters");
  const list = $("ex-sym-live");
  if (!run || !snapshot) {
    holder.replaceChildren();
    return lines(list, [verdict("pending", t("ex.notRun"))]);
  }
  const model = modelOf(run, snapshot);
  holder.replaceChildren(...model.convs.map((conv) => filterGrid(conv, param(snapshot, `${conv}.weight`).value)));
  const items = [];
  if (model.below) {
    const w = param(snapshot, `${model.convs[0]}.weight`).value;
    const gap = Math.max(filterGap(w, 0, 1), filterGap(w, 0, 2));
    items.push(verdict(check(gap === 0), t("ex.sym.first", { conv: model.convs[0], gap: num(gap) })));
  } else {
    items.push(verdict("absent", t("ex.absent.oneConv", { conv: model.top })));
  }
  const top = param(snapshot, `${model.top}.weight`).value;
  const [a, b] = [0, 1, 2].filter((o) => o !== model.label);
  const others = filterGap(top, a, b);
  const target = filterGap(top, model.label, a);
  items.push(verdict(check(others === 0 && target > 0), t("ex.sym.top", { conv: model.top, others: num(others), label: model.label, target: num(target) })));
  items.push(meanWiggle(run));
  lines(list, items);
}

/** The post's "oscillation around 5": conv1's mean under constant init, in float32 steps. */
export function meanWiggle(run) {
  // The seed's nets record conv1's mean; a stack records every layer's (conv1 is the first).
  const means = run.records.conv1_mean ?? run.records.conv_mean?.map((layers) => layers[0]);
  if (run.config.init !== "constant" || !means?.length) return verdict("absent", t("ex.absent.constant"));
  const start = run.config.init_value;
  const ulp = ulp32(start);
  const deviation = maxAbs(means.map((m) => m - start));
  return verdict(check(deviation <= FEW_ULPS * ulp), t("ex.sym.wiggle", { value: num(start), ulp: num(ulp), deviation: num(deviation), ulps: num(deviation / ulp), few: FEW_ULPS }));
}

/** Constant 0.5 against constant 5: the same forward pass, steps 1/c² apart. */
export function renderScale($, extra) {
  const list = $("ex-bn-live");
  const [small, big] = [extra.get("bn_c05"), extra.get("bn_c5")];
  if (!small?.steps || !big?.steps) return pending(list);
  const [c1, c2] = [small.config.init_value, big.config.init_value];
  const g = (run) => run.records.conv2_grad_norm[0];
  const ratio = g(small) / g(big);
  const n = Math.min(small.steps, big.steps);
  const steps = ["conv1.weight", "conv2.weight"].map((name) => [convStep(small, name), convStep(big, name)]);
  const stepRatio = steps[0][0] / steps[0][1];
  const [l1, l2] = [small.records.loss[n - 1], big.records.loss[n - 1]];
  lines(list, [
    verdict(check(Math.abs(small.records.loss[0] - big.records.loss[0]) < 1e-6), t("ex.bn.forward", { c1, c2, l1: num(small.records.loss[0]), l2: num(big.records.loss[0]) })),
    verdict(check(Math.abs(ratio / (c2 / c1) - 1) < 1e-3), t("ex.bn.grad", { g1: num(g(small)), g2: num(g(big)), ratio: num(ratio), expected: num(c2 / c1) })),
    verdict(check(Math.abs(stepRatio / (c2 / c1) ** 2 - 1) < 0.25), t("ex.bn.step", {
      updates: lastSnapshot(small).step, c1, c2, r1: num(steps[0][0]), r2: num(steps[0][1]), ratio: num(stepRatio), expected: num((c2 / c1) ** 2),
      s1: num(steps[1][0]), s2: num(steps[1][1]), l1: num(l1), l2: num(l2), epochs: n,
    })),
  ]);
}

/** Zero init without the ReLU on the logits: the loss falls, the convs stay exactly 0. */
export function renderHead($, extra, mapsOf) {
  const list = $("ex-head-live");
  const run = extra.get("no_head");
  if (!run?.steps) return pending(list);
  const snapshot = lastSnapshot(run);
  const loss = run.records.loss;
  const convs = maxAbs(convNames(snapshot).flatMap((name) => [...param(snapshot, name).value]));
  const items = [verdict(check(loss.at(-1) < loss[0] && convs === 0), t("ex.head.loss", {
    epochs: loss.length, first: num(loss[0]), last: num(loss.at(-1)), w: num(convs), beta: param(snapshot, "bn2.bias").value.map(num).join(", "),
  }))];
  // BatchNorm's backward at epoch 0, where ∂L/∂(logits) is largest: it is the same at every
  // pixel, and BatchNorm removes its mean; rounding leaves a remainder behind, not a gradient.
  const start = first(run);
  const maps = run.status === "running" ? null : mapsOf(run, start);
  if (!maps) items.push(verdict("pending", t("ex.computing")));
  else {
    const top = maps.blocks.at(-1);
    const spread = channelSpread(top.output_grad, top.channels);
    const dout = maxAbs(top.output_grad);
    const df = maxAbs(top.conv_grad);
    items.push(verdict(check(dout > 0 && df <= ROUNDING * dout), t("ex.head.backward", { step: start.step, dout: num(dout), spread: num(spread), df: num(df), rounding: num(ROUNDING) })));
  }
  lines(list, items);
}
