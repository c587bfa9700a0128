// The depth lab's settings form, built from the engine's own field table (configFields():
// kind, choices, min, max) for the `lab.*` settings of state.js. Every change is checked by
// the engine's validation before it is applied; a refusal shows the engine's message (which
// names the field and its allowed range) under the field, and the setting stays as it was.

import { el, showValueInForce } from "../dom.js";
import { choiceWords, t } from "../i18n.js";
import { LAB_KEYS } from "../state.js";

/**
 * @param {HTMLFormElement} form
 * @param {{settings, fields: any[], change: (key: string, value: any) => Promise<string|null>}} options
 *   `change` resolves to the engine's message, or null when the value was applied
 */
export function buildLabForm(form, { settings, fields, change }) {
  const byKey = new Map(fields.map((f) => [f.key, f]));
  form.replaceChildren();
  for (const key of LAB_KEYS) {
    const name = key.slice(4);
    const field = byKey.get(name) ?? { kind: "number" };
    const id = `lab-field-${name}`;
    const input = inputFor(field, id, settings[key], name);
    const label = el("label", { for: id, "data-i18n": `field.${name}` }, t(`field.${name}`));
    const message = el("p", { class: "field-error", id: `${id}-error`, role: "alert" });
    input.setAttribute("aria-describedby", message.id);
    const row = el("div", { class: `field field-${field.kind}`, "data-key": name });
    if (field.kind === "bool") row.append(input, label, message);
    else row.append(label, input.closest(".range") ?? input, message);
    form.append(row);
    input.addEventListener("change", async () => {
      const problem = await change(key, valueOf(input, field));
      message.textContent = problem ? t("invalid", { message: problem }) : "";
      input.setAttribute("aria-invalid", String(Boolean(problem)));
      if (problem) showValueInForce(input, settings[key]);
    });
  }
  form.onsubmit = (event) => event.preventDefault();
}

function inputFor(field, id, value, name) {
  if (field.kind === "choice") {
    const select = el("select", { id, name });
    for (const choice of field.choices) select.append(el("option", { value: choice }, choiceText(name, choice)));
    select.value = String(value);
    return select;
  }
  if (field.kind === "bool") {
    const box = el("input", { id, name, type: "checkbox" });
    box.checked = Boolean(value);
    return box;
  }
  // depth and channels: a slider over the engine's whole range, with the number beside it
  if (field.kind === "integer" && Number.isFinite(field.max) && field.max <= 64 && (name === "depth" || name === "channels")) {
    const range = el("input", { id, name, type: "range", min: String(field.min), max: String(field.max), step: "1" });
    range.value = String(value);
    const out = el("output", { for: id }, String(value));
    range.addEventListener("input", () => (out.textContent = range.value));
    el("span", { class: "range" }).append(range, out);
    return range;
  }
  const text = el("input", { id, name, type: "text", inputmode: "decimal", autocomplete: "off", spellcheck: "false" });
  text.value = value === null ? "" : String(value);
  return text;
}

/** A choice's words: the page's own (init.*, lab.choice.*) where it has them, else the engine's key. */
export function choiceText(name, choice) {
  return name === "init" ? choiceWords("init", choice) : choiceWords("lab.choice", choice);
}

/** The value as typed: text that is not a number stays text, so the engine's message can quote it. */
function valueOf(input, field) {
  if (field.kind === "bool") return input.checked;
  if (field.kind === "choice") return input.value;
  const raw = input.value.trim();
  if (raw === "" && field.key === "init_value") return null;
  return raw !== "" && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
}
