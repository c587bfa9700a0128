// Every word of the interface, in English and Chinese (the strings are in www/i18n/ and the
// depth lab's in www/lab/strings.js), and the language switch. Keys missing from either
// language are a test failure (tests/i18n.test.mjs), so the two stay complete.
//
// `{name}` marks a value filled in at run time (always from a live run, never typed here).

import { EN } from "./i18n/en.js";
import { ZH } from "./i18n/zh.js";
import { LAB_STRINGS } from "./lab/strings.js";

/** Both languages: the page's words (www/i18n/) and the depth lab's. */
export const STRINGS = { en: { ...EN }, zh: { ...ZH } };

// The depth lab keeps its words beside its code.
for (const l of Object.keys(STRINGS)) Object.assign(STRINGS[l], LAB_STRINGS[l]);

export const LANGS = Object.keys(STRINGS);

let current = "en";

/** The language to start in: the URL's, else the browser's (Chinese for any zh-*). */
export function initialLang(fromUrl) {
  if (LANGS.includes(fromUrl)) return fromUrl;
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language || "en"];
  return preferred.some((l) => /^zh\b/i.test(l)) ? "zh" : "en";
}

export function setLang(lang) {
  current = LANGS.includes(lang) ? lang : "en";
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  return current;
}

export function lang() {
  return current;
}

/** The words for an engine choice (`init.orthogonal`, …): the page's where it has them, else the engine's own key. */
export function choiceWords(key, choice) {
  const words = t(`${key}.${choice}`);
  return words === `${key}.${choice}` ? String(choice) : words;
}

/** The string for `key` in the current language, with `{name}` filled from `values`. */
export function t(key, values = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
}
