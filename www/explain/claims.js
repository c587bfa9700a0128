// "Why two layers stay frozen": each claim checked on the selected run at the selected epoch,
// and the table of every parameter with its gradient. A claim about a part the selected model
// does not have (conv1 in single_conv, BatchNorm in a net without it) says so instead of
// counting a missing gradient as 0.

import { el } from "../dom.js";
import { t } from "../i18n.js";
import { ACTIVATIONS, modelOf, param } from "./model.js";
import { check, maxAbs, mean, norm, num, verdict } from "./format.js";

const LN3 = Math.log(3);
const lossText = (loss) => t("ex.frozen.c6.live", { loss: num(loss), ln3: num(LN3) });

/**
 * Each claim: from the model, its snapshot and the block maps, a verdict and its text; null
 * when it needs the maps and they are not there yet.
 */
const CLAIMS = [
  {
    key: "c1",
    check: ({ model, maps }) => {
      if (!model.below) return ["absent", t("ex.absent.input", { conv: model.top })];
      if (!maps) return null;
      const value = maxAbs(maps.blocks.at(-2).output);
      return [check(value === 0), t("ex.frozen.c1.live", { conv: model.top, v: num(value) })];
    },
  },
  {
    key: "c2",
    check: ({ model, snapshot }) => {
      const value = norm(param(snapshot, `${model.top}.weight`).grad);
      return [check(value === 0), `‖∂L/∂${model.top}‖ = ${num(value)}`];
    },
  },
  {
    key: "c3",
    check: ({ model, snapshot }) => {
      if (!model.below) return ["absent", t("ex.absent.oneConv", { conv: model.top })];
      const value = norm(param(snapshot, `${model.below}.weight`).grad);
      const above = maxAbs(param(snapshot, `${model.top}.weight`).value);
      return [check(value === 0), `‖∂L/∂${model.below}‖ = ${num(value)}, max |${model.top}| = ${num(above)}`];
    },
  },
  {
    key: "c4",
    check: ({ model, snapshot, maps }) => {
      if (model.norms.length === 0) return ["absent", t("ex.absent.norm")];
      if (!maps) return null;
      // The first block: its conv output f, BatchNorm's β, and the block's output act(BN(f)).
      const [block, conv, bn] = [maps.blocks[0], model.convs[0], model.norms[0]];
      const beta = param(snapshot, `${bn}.bias`).value;
      const last = model.convs.length === 1;
      const act = ACTIVATIONS[last && !model.headActivation ? "linear" : model.activation];
      const plane = block.output.length / block.channels;
      let gap = 0;
      for (let c = 0; c < block.channels; c++) {
        const expected = act(beta[c]);
        for (let p = 0; p < plane; p++) gap = Math.max(gap, Math.abs(block.output[c * plane + p] - expected));
      }
      const f = maxAbs(block.conv);
      const text = t("ex.frozen.c4.live", { conv, f: num(f), bn, beta: beta.map(num).join(", "), gap: num(gap) });
      return [check(f === 0 && gap <= 1e-6), text];
    },
  },
  {
    key: "c5",
    check: ({ model, snapshot }) => {
      if (model.norms.length === 0) return ["absent", t("ex.absent.norm")];
      if (model.activation !== "relu") return ["absent", t("ex.absent.relu")];
      const value = maxAbs(model.norms.flatMap((bn) => [...param(snapshot, `${bn}.bias`).grad]));
      return [check(value === 0), `max |∂L/∂β| = ${num(value)}`];
    },
  },
  {
    key: "c6",
    check: ({ model, snapshot, maps, loss }) => {
      const uniform = Math.abs(loss - LN3) < 1e-5;
      // The logits are the last block's output. single_conv has no maps: its logits are conv2
      // of the image, all exactly 0 when its weights are (and an N(0, 1) image gives any
      // other kernel a non-zero output somewhere).
      if (!model.hasMaps) {
        const top = maxAbs(param(snapshot, `${model.top}.weight`).value);
        return [check(top === 0 && uniform), `max |${model.top}| = ${num(top)}; ${lossText(loss)}`];
      }
      if (!maps) return null;
      const logits = maxAbs(maps.blocks.at(-1).output);
      return [check(logits === 0 && uniform), `${t("ex.frozen.c6.logits", { v: num(logits) })}; ${lossText(loss)}`];
    },
  },
  {
    key: "c7",
    check: ({ model, snapshot, maps, loss }) => {
      // Without maps (single_conv has none, see mapsOf): a non-zero weight gradient already
      // proves ∂L/∂f ≠ 0, since the gradient is ∂L/∂f weighted by the input.
      const grad = norm(param(snapshot, `${model.top}.weight`).grad);
      if (!maps && grad > 0) return ["fails", t("ex.frozen.c7.fromGrad", { conv: model.top, g: num(grad) })];
      if (!maps) return null;
      const values = maps.blocks.map((b) => maxAbs(b.conv_grad));
      const text = `${model.convs.map((conv, i) => t("ex.frozen.c7.part", { conv, v: num(values[i]) })).join(", ")}; ${lossText(loss)}`;
      return [check(values.every((v) => v === 0)), text];
    },
  },
];

/** `maps`: the block maps of the selected step, null while computed or where there are none. */
export function renderClaims(list, { run, step, snapshot, maps }) {
  const model = run && snapshot ? modelOf(run, snapshot) : null;
  // A stack run (the explanation's own) has no series at all before its first record.
  const loss = run?.records.loss?.[step];
  list.replaceChildren(
    ...CLAIMS.map((claim) => {
      const item = el("li", { "data-claim": claim.key });
      item.append(el("span", { "data-i18n": `ex.frozen.${claim.key}` }, t(`ex.frozen.${claim.key}`)), " ");
      const result = model && claim.check({ model, snapshot, maps, loss });
      if (!model) item.append(el("span", { class: "live pending" }, t("ex.notRun")));
      else item.append(result ? verdict(...result) : verdict("pending", t("ex.computing")));
      return item;
    }),
  );
}

/** Every parameter the model has, its value and the gradient its update used. */
export function renderTable(table, snapshot) {
  const head = el("tr", {}, ...["ex.table.param", "ex.table.value", "ex.table.grad", "ex.table.gradNorm"].map((k) => el("th", { scope: "col" }, t(k))));
  const rows = (snapshot?.params ?? []).map((p) => {
    const value = p.value.length > 3 ? t("ex.table.summary", { mean: num(mean(p.value)), max: num(maxAbs(p.value)) }) : p.value.map(num).join(", ");
    const grad = !p.grad ? t("ex.table.none") : p.grad.length > 3 ? t("ex.table.maxAbs", { max: num(maxAbs(p.grad)) }) : p.grad.map(num).join(", ");
    const gradNorm = p.grad ? num(norm(p.grad)) : "–";
    const row = el("tr", { "data-param": p.name }, el("th", { scope: "row" }, p.name), el("td", {}, value), el("td", {}, grad), el("td", {}, gradNorm));
    if (p.grad && p.grad.every((g) => g === 0)) row.classList.add("all-zero");
    return row;
  });
  // No snapshot yet: one row that says so, not a bare header.
  if (rows.length === 0) rows.push(el("tr", {}, el("td", { class: "live pending", colspan: "4" }, t("ex.notRun"))));
  table.replaceChildren(el("caption", {}, t("ex.table.caption")), el("thead", {}, head), el("tbody", {}, ...rows));
}
