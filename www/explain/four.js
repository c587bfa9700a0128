// "The four experiments": what each of the seed's presets shows, checked on its run (the
// latest snapshot), plus the two runs that correct the seed's reading of them: one zero-init
// conv→BN→ReLU block (the control single_conv should have been) and constant 5 with only
// BatchNorm trained.

import { t } from "../i18n.js";
import { check, filterGap, maxAbs, num, verdict } from "./format.js";
import { param } from "./model.js";

const LN3 = Math.log(3);
/** "Can hardly lower the loss": below this share of ln 3, as the text says. */
const HARDLY = 0.01;
/** "The same loss": BatchNorm alone makes at least this share of the full model's drop. */
const SAME_SHARE = 0.9;
/** Kaiming's sampled std is within this relative distance of √(2/fan_in) (81 weights: ±8% is one σ). */
const STD_TOLERANCE = 0.25;

const last = (run) => (run?.steps ? run.snapshots.get([...run.snapshots.keys()].at(-1)) : null);
const convWeights = (snapshot) => snapshot.params.filter((p) => /^conv\d+\.weight$/.test(p.name));

const CHECKS = {
  zeros: (run, snapshot) => {
    const loss = run.records.loss;
    const drift = maxAbs(loss.map((l) => l - LN3));
    const w = maxAbs(convWeights(snapshot).flatMap((p) => [...p.value]));
    return [check(drift < 1e-5 && w === 0), t("ex.four.zeros.live", { epochs: loss.length, first: num(loss[0]), last: num(loss.at(-1)), w: num(w) })];
  },
  single_conv_zeros: (run) => {
    const r = run.records;
    const drop = (LN3 - r.loss.at(-1)) / LN3;
    const ok = r.conv2_grad_norm[0] > 0 && r.conv2_var.at(-1) > 0 && drop < HARDLY;
    return [check(ok), t("ex.four.single.live", { g: num(r.conv2_grad_norm[0]), v: num(r.conv2_var.at(-1)), first: num(r.loss[0]), last: num(r.loss.at(-1)), pct: num(100 * drop) })];
  },
  constant5: (run, snapshot) => {
    const conv1 = param(snapshot, "conv1.weight").value;
    const conv2 = param(snapshot, "conv2.weight").value;
    const bn1 = ["bn1.weight", "bn1.bias"].map((n) => param(snapshot, n).value);
    const bnGap = maxAbs(bn1.flatMap((v) => [v[1] - v[0], v[2] - v[0]]));
    const label = run.config.label;
    const [a, b] = [0, 1, 2].filter((o) => o !== label);
    const c1 = Math.max(filterGap(conv1, 0, 1), filterGap(conv1, 0, 2));
    const others = filterGap(conv2, a, b);
    const target = filterGap(conv2, label, a);
    const ok = c1 === 0 && bnGap === 0 && others === 0 && target > 0;
    return [check(ok), t("ex.four.constant5.live", { c1: num(c1), bn: num(bnGap), others: num(others), label, target: num(target), first: num(run.records.loss[0]), last: num(run.records.loss.at(-1)) })];
  },
  kaiming: (run, snapshot, first) => {
    const expected = Math.sqrt(2 / 27);
    const measured = Math.sqrt(run.records.conv1_var[0]);
    const gap = filterGap(param(first, "conv1.weight").value, 0, 1);
    const ok = gap > 0 && Math.abs(measured - expected) / expected < STD_TOLERANCE;
    return [check(ok), t("ex.four.kaiming.live", { expected: num(expected), measured: num(measured), gap: num(gap), first: num(run.records.loss[0]), last: num(run.records.loss.at(-1)) })];
  },
};

export function renderFour($, store, extra) {
  for (const [key, checkRun] of Object.entries(CHECKS)) {
    const run = store.get(key);
    const snapshot = last(run);
    $(`ex-four-${key}`).replaceChildren(
      snapshot ? verdict(...checkRun(run, snapshot, run.snapshots.get(0))) : verdict("pending", t("ex.notRun")),
    );
  }
  renderBlock($("ex-block-live"), extra.get("one_block"));
  renderNormOnly($("ex-norm-live"), extra.get("bn_only"), extra.get("bn_all"));
}

/** One zero-init conv→BN→ReLU block: frozen like two (the gradient stops at ReLU'(0) = 0). */
function renderBlock(slot, run) {
  if (!run?.steps) return slot.replaceChildren(verdict("pending", t("ex.pressButton")));
  const r = run.records;
  const grads = r.conv_grad_norm.map((layers) => layers[0]);
  const drift = maxAbs(r.loss.map((l) => l - LN3));
  const ok = grads.every((g) => g === 0) && drift < 1e-5;
  slot.replaceChildren(verdict(check(ok), t("ex.four.block.live", { epochs: r.loss.length, first: num(r.loss[0]), last: num(r.loss.at(-1)), g: num(maxAbs(grads)) })));
}

/** Constant 5, BatchNorm alone trained, against every parameter trained. */
function renderNormOnly(slot, normOnly, all) {
  if (!normOnly?.steps || !all?.steps) return slot.replaceChildren(verdict("pending", t("ex.pressButton")));
  const n = Math.min(normOnly.steps, all.steps);
  const [bn, full] = [normOnly.records.loss[n - 1], all.records.loss[n - 1]];
  const start = all.records.loss[0];
  const share = (start - bn) / (start - full);
  const init = normOnly.config.init_value;
  const convs = maxAbs(convWeights(last(normOnly)).flatMap((p) => [...p.value].map((v) => v - init)));
  slot.replaceChildren(verdict(check(share >= SAME_SHARE), t("ex.four.normOnly.live", { epochs: n, bn: num(bn), full: num(full), pct: num(100 * share), moved: num(convs), init })));
}
