// The controls: one button per preset, run all / step / play / reset / run these settings, the
// language toggle, the log-scale and view switches, and `?embed=1`'s small bar.

import { el } from "../dom.js";
import { lang, setLang, t } from "../i18n.js";
import { presetStyle } from "../runs.js";
import { PRESET_KEYS } from "../state.js";

export class Controls {
  /**
   * @param {{$: (id: string) => HTMLElement, settings, actions, guard: (p: Promise) => void,
   *   relabel: () => void}} deps  `relabel`: the language changed, redraw the words built in JS
   */
  constructor({ $, settings, actions, guard, relabel }) {
    Object.assign(this, { $, settings, actions, guard });
    this.playing = false;
    this.buildPresets();
    $("run-all").addEventListener("click", () => guard(actions.runAll()));
    $("step").addEventListener("click", () => guard(actions.step()));
    $("play").addEventListener("click", () => guard(this.playing ? actions.pause() : actions.play()));
    $("reset").addEventListener("click", () => guard(actions.reset()));
    $("run-custom").addEventListener("click", () => guard(actions.runCustom()));
    $("lang-toggle").addEventListener("click", () => {
      const next = lang() === "zh" ? "en" : "zh";
      actions.setView("lang", next);
      setLang(next);
      relabel();
    });
    const log = $("logloss");
    log.checked = settings.logloss;
    log.addEventListener("change", () => actions.setView("logloss", log.checked));
    const view = $("view");
    view.value = settings.view;
    view.addEventListener("change", () => actions.setView("view", view.value));
  }

  buildPresets() {
    const presets = this.$("presets");
    presets.replaceChildren();
    for (const key of PRESET_KEYS) {
      const button = el("button", { type: "button", class: "preset", "data-preset": key });
      // The colour its run wears in the charts (runs.js), so the button is its legend too.
      const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.dataset.preset = key;
      swatch.style.background = presetStyle(key).color;
      const name = el("span", { class: "preset-name", "data-i18n": `preset.${key}` }, t(`preset.${key}`));
      const note = el("span", { class: "preset-note", "data-i18n": `preset.${key}.note` }, t(`preset.${key}.note`));
      button.append(swatch, name, note);
      button.addEventListener("click", () => this.guard(this.actions.runPreset(key)));
      presets.append(button);
    }
  }

  setPlaying(playing) {
    this.playing = playing;
    const button = this.$("play");
    button.dataset.i18n = playing ? "pause" : "play";
    button.textContent = t(button.dataset.i18n);
    button.setAttribute("aria-pressed", String(playing));
  }

  /** `?embed=1`: charts first, the controls in one small bar (none with `controls=0`). */
  embedLayout() {
    const $ = this.$;
    document.body.classList.add("embed");
    const bar = $("embed-bar");
    bar.hidden = !this.settings.controls;
    const full = el("a", { href: this.actions.shareUrl({ embed: false }), target: "_blank", rel: "noopener", "data-i18n": "openFull" }, t("openFull"));
    // The seed's buttons drive the seed's runs, which a lab embed does not show: there the
    // lab's own buttons do the running.
    if (this.settings.section === "lab") bar.append($("lang-toggle"), full);
    else bar.append($("run-all"), $("step"), $("play"), $("reset"), $("lang-toggle"), full);
  }
}
