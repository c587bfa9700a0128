// "What the post says, and what the runs show": the post's claims beside the runs' numbers.
// Only the first is a verbatim quote (the one this project has the post's words for); the
// others are the post's arguments in our words, and say so.

import { el } from "../dom.js";
import { t } from "../i18n.js";
import { check, maxAbs, num, verdict } from "./format.js";
import { meanWiggle, rankings } from "./beyond.js";

const LN3 = Math.log(3);
const lastSnapshot = (run) => run.snapshots.get([...run.snapshots.keys()].at(-1));

export function renderSays(holder, { store, extra, mapsOf }) {
  const rows = [
    [quote(), rankings(extra) ?? [verdict("pending", t("ex.says.pressZg"))]],
    [paraphrase("ex.says.gradPost"), zeroGradient(store.get("zeros"), mapsOf)],
    [paraphrase("ex.says.wigglePost"), [store.get("constant5")?.steps ? meanWiggle(store.get("constant5")) : verdict("pending", t("ex.notRun"))]],
  ];
  holder.replaceChildren(
    ...rows.map(([post, runs]) => el("div", { class: "says-row" }, el("div", { class: "says-post" }, ...post), el("div", { class: "says-runs" }, ...runs))),
  );
}

/** The post's conclusion from its Kaiming and constant-5 runs, verbatim. */
export const POST_QUOTE = "后者的loss值更低，证明在加了BN层后，科学的初始化方式，仍能有效提升模型的训练速度";

function quote() {
  return [
    el("q", { lang: "zh-CN" }, POST_QUOTE),
    el("span", { class: "rendering" }, t("ex.zg.rendering")),
  ];
}

const paraphrase = (key) => [el("span", {}, t(key)), " ", el("span", { class: "rendering" }, t("ex.says.paraphrase"))];

/** Zero init: ∂L/∂f at every conv output, against the loss. */
function zeroGradient(run, mapsOf) {
  if (!run?.steps) return [verdict("pending", t("ex.notRun"))];
  const snapshot = lastSnapshot(run);
  const maps = run.status === "running" ? null : mapsOf(run, snapshot);
  if (!maps) return [verdict("pending", t("ex.computing"))];
  const df = maxAbs(maps.blocks.flatMap((b) => [...b.conv_grad]));
  const loss = run.records.loss[snapshot.step];
  return [verdict(check(df === 0 && loss > 0), t("ex.says.gradRuns", { step: snapshot.step, df: num(df), loss: num(loss), ln3: num(LN3) }))];
}
