// The settings form, built from state.js's table: one field per engine config key and the
// backend. A change is checked by the engine (actions.changeSetting) before it applies; its
// message shows under the field.

import { el, showValueInForce } from "../dom.js";
import { choiceWords, t } from "../i18n.js";
import { SETTINGS } from "../state.js";

const FORM_KEYS = ["arch", "init", "init_value", "lr", "momentum", "epochs", "zero_grad", "batch", "height", "width", "label", "seed", "backend"];
/** The fields that take a whole row (their choices have long names). */
const WIDE = ["arch", "init", "backend"];

export class SettingsForm {
  /**
   * @param {HTMLFormElement} form
   * @param {{settings, actions, backends: () => string[], backend: () => string}} deps
   *   `backends`: the ones the worker offers; `backend`: the one new runs use; `building`:
   *   whether the server still builds the module that has the others (a note under the field)
   */
  constructor(form, { settings, actions, backends, backend, building = () => false }) {
    Object.assign(this, { form, settings, actions, backends, backend, building });
  }

  build() {
    const form = this.form;
    form.replaceChildren();
    for (const key of FORM_KEYS) {
      const setting = SETTINGS.find((s) => s.key === key);
      const id = `field-${key}`;
      const wide = WIDE.includes(key) ? " field-wide" : "";
      const row = el("div", { class: `field field-${setting.kind}${wide}` });
      const label = el("label", { for: id, "data-i18n": `field.${key}` }, t(`field.${key}`));
      const input = this.input(setting, id);
      const message = el("p", { class: "field-error", id: `${id}-error`, role: "alert" });
      input.setAttribute("aria-describedby", message.id);
      if (setting.kind === "bool") row.append(input, label, message);
      else row.append(label, input, message);
      if (key === "backend" && this.building()) {
        const note = { class: "field-note", id: "backends-building", role: "status", "data-i18n": "backendsBuilding" };
        row.append(el("p", note, t("backendsBuilding")));
      }
      form.append(row);
    }
    form.onsubmit = (event) => event.preventDefault();
  }

  input(setting, id) {
    const key = setting.key;
    const value = this.settings[key];
    let input;
    if (setting.kind === "choice") {
      input = el("select", { id, name: key });
      const choices = key === "backend" ? this.backends() : setting.choices;
      for (const choice of choices) {
        const text = key === "label" ? String(choice) : choiceWords(key, choice);
        input.append(el("option", { value: String(choice) }, text));
      }
      input.value = String(key === "backend" ? this.backend() : value);
    } else if (setting.kind === "bool") {
      input = el("input", { id, name: key, type: "checkbox" });
      input.checked = Boolean(value);
    } else {
      input = el("input", { id, name: key, type: "text", inputmode: "decimal", autocomplete: "off", spellcheck: "false" });
      input.value = value === null ? "" : String(value);
    }
    input.addEventListener("change", async () => {
      const raw = setting.kind === "bool" ? input.checked : input.value;
      const parsed = setting.kind === "bool" ? raw : key === "backend" ? raw : parseField(setting, raw);
      const problem = await this.actions.changeSetting(key, parsed);
      // Rebuilt meanwhile (a language switch): the new form shows the value in force.
      if (!input.isConnected) return;
      const message = document.getElementById(`${id}-error`);
      message.textContent = problem ? t("invalid", { message: problem }) : "";
      input.setAttribute("aria-invalid", String(Boolean(problem)));
      if (problem) showValueInForce(input, key === "backend" ? this.backend() : this.settings[key]);
    });
    return input;
  }
}

function parseField(setting, raw) {
  if (setting.optional && raw.trim() === "") return null;
  return setting.parse(raw);
}
