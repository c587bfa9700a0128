// The share panel: copy the link, the embed snippet, CSV / JSON / PNG export, and importing a
// PyTorch-exported safetensors file (the button or a drop on the charts). What the files say
// is share.js's; this file wires the buttons.

import { t } from "../i18n.js";
import { labelOf } from "../runs.js";
import { chartsPNG, download, embedSnippet, toCSV, toJSON } from "../share.js";

export class SharePanel {
  /** @param {{$: (id: string) => HTMLElement, store, settings, actions}} deps */
  constructor({ $, store, settings, actions }) {
    Object.assign(this, { $, store, settings, actions });
    const copy = async (text, done) => {
      try {
        await navigator.clipboard.writeText(text);
        this.message(done);
      } catch {
        this.message(text); // no clipboard (insecure context): show it to copy by hand
      }
    };
    $("copy-link").addEventListener("click", () => copy(actions.shareUrl({ autoplay: true, embed: false }), t("linkCopied")));
    $("embed").addEventListener("click", () => {
      const code = $("embed-code");
      code.value = embedSnippet(actions.shareUrl({ embed: true, autoplay: true }), t("title"));
      code.hidden = false;
      code.select();
      copy(code.value, t("embedCopied"));
    });
    const stamp = () => new Date().toISOString().slice(0, 19).replaceAll(":", "-");
    $("export-csv").addEventListener("click", () =>
      download(new Blob([toCSV(store.runs)], { type: "text/csv" }), `initlab-${stamp()}.csv`),
    );
    $("export-json").addEventListener("click", () =>
      download(new Blob([toJSON(store.runs)], { type: "application/json" }), `initlab-${stamp()}.json`),
    );
    $("export-png").addEventListener("click", async () => download(await this.png(), `initlab-${stamp()}.png`));
    const input = $("import");
    input.addEventListener("change", () => {
      this.importFile(input.files[0]);
      input.value = "";
    });
    const area = $("charts-area");
    area.addEventListener("dragover", (event) => {
      event.preventDefault();
      area.classList.add("dropping");
    });
    area.addEventListener("dragleave", () => area.classList.remove("dropping"));
    area.addEventListener("drop", (event) => {
      event.preventDefault();
      area.classList.remove("dropping");
      this.importFile(event.dataTransfer?.files?.[0]);
    });
  }

  message(text, kind = "info") {
    const p = this.$("share-message");
    p.textContent = text;
    p.dataset.kind = kind;
  }

  importFile(file) {
    if (!file) return;
    this.message(t("importing", { file: file.name }));
    this.actions.importTensors(file).then(
      () => this.message(t("imported", { file: file.name })),
      (error) => this.message(t("importFailed", { file: file.name, message: error.message }), "error"),
    );
  }

  /** The charts on screen as one PNG, with the legend and the settings written on it. */
  png() {
    const charts = [...this.$("charts").querySelectorAll(".chart")]
      .filter((holder) => holder.querySelector("canvas") && !holder.closest("[hidden]"))
      .map((holder) => ({
        title: `${holder.closest(".chart-group").querySelector(".group-title").textContent} ${t(`chart.${holder.dataset.key}`)}`.trim(),
        canvas: holder.querySelector("canvas"),
      }));
    const runs = this.store.runs;
    const legend = runs.map((run) => ({ label: `${labelOf(run)} (${run.backend})`, color: run.color, dash: run.dash }));
    const s = this.settings;
    const footer = [
      `lr ${s.lr} · momentum ${s.momentum} · epochs ${s.epochs} · zero_grad ${s.zero_grad} · seed ${s.seed} · ${s.batch}×3×${s.height}×${s.width} · label ${s.label}`,
      ...runs.map((r) => `${labelOf(r)}: arch ${r.config.arch}, init ${r.config.init}${r.config.init_value === null ? "" : ` ${r.config.init_value}`}`),
      this.actions.shareUrl({ autoplay: true }),
    ];
    return chartsPNG({ heading: `${t("title")}: ${t("tagline")}`, charts, legend, footer });
  }
}
