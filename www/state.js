// The page's settings as one declarative table: each entry says how a setting is read from and
// written to the URL, and what it defaults to. The view builds the form from it, and a URL
// round trip (share, embed, reload) goes through nothing else.
//
// Values coming from the URL are only parsed here; whether they are in range is decided by the
// engine's own validation (the same Rust code the CLI uses), so the rules live in one place.

import { BACKENDS } from "./backends.js";
import { FACTS } from "./pkg/facts.js";
import { LAB_DEFAULTS, LAB_PRESET_IDS } from "./lab/presets.js";

/** The engine's config fields by key (crate/src/facts.rs): their defaults and choices. */
const FIELDS = new Map(FACTS.fields.map((f) => [f.key, f]));
const engineDefault = (key) => FIELDS.get(key).default;

/** The blog's four experiments, in the order the post shows them: key → the config they set. */
export const PRESETS = Object.fromEntries(FACTS.seedPresets.map((p) => [p.key, p.config]));
export const PRESET_KEYS = Object.keys(PRESETS);

/** An integer field's values, from its min to its max. */
const integers = ({ min, max }) => Array.from({ length: max - min + 1 }, (_, i) => min + i);

/** The seed section's arches: the engine's, but the stack, which is the depth lab's. */
const SEED_ARCHES = FIELDS.get("arch").choices.filter((a) => a !== "stack");

// Text that is not a number is kept as text, so the engine's message can quote it.
const number = {
  parse: (s) => (s.trim() !== "" && !Number.isNaN(Number(s)) ? Number(s) : s),
  format: (v) => String(v),
};
const text = { parse: (s) => s, format: (v) => String(v) };
const flag = {
  parse: (s) => (s === "1" || s === "true" ? true : s === "0" || s === "false" ? false : s),
  format: (v) => (v ? "1" : "0"),
};
const list = {
  parse: (s) => (s === "" ? [] : s.split(",")),
  format: (v) => v.join(","),
};

/**
 * Every setting. `config: true` marks the engine's config keys (sent to Rust as they are);
 * the others belong to the page.
 */
export const SETTINGS = [
  { key: "arch", config: true, kind: "choice", choices: SEED_ARCHES, default: engineDefault("arch"), ...text },
  { key: "init", config: true, kind: "choice", choices: FIELDS.get("init").choices, default: engineDefault("init"), ...text },
  { key: "init_value", config: true, kind: "number", default: engineDefault("init_value"), optional: true, ...number },
  { key: "batch", config: true, kind: "number", default: engineDefault("batch"), ...number },
  { key: "height", config: true, kind: "number", default: engineDefault("height"), ...number },
  { key: "width", config: true, kind: "number", default: engineDefault("width"), ...number },
  { key: "label", config: true, kind: "choice", choices: integers(FIELDS.get("label")), default: engineDefault("label"), ...number },
  { key: "lr", config: true, kind: "number", default: engineDefault("lr"), ...number },
  { key: "momentum", config: true, kind: "number", default: engineDefault("momentum"), ...number },
  { key: "epochs", config: true, kind: "number", default: engineDefault("epochs"), ...number },
  { key: "zero_grad", config: true, kind: "bool", default: engineDefault("zero_grad"), ...flag },
  { key: "seed", config: true, kind: "number", default: engineDefault("seed"), ...number },
  // "": the default for this browser (see defaultBackend).
  { key: "backend", kind: "choice", choices: BACKENDS.all, default: "", ...text },
  { key: "experiments", kind: "list", choices: PRESET_KEYS, default: PRESET_KEYS, ...list },
  { key: "view", kind: "choice", choices: ["compare", "blog"], default: "compare", ...text },
  { key: "logloss", kind: "bool", default: false, ...flag },
  { key: "lang", kind: "choice", choices: ["zh", "en"], default: "", ...text },
  { key: "embed", kind: "bool", default: false, ...flag },
  { key: "controls", kind: "bool", default: true, ...flag },
  { key: "autoplay", kind: "bool", default: false, ...flag },
  // Training workers: 0 sizes the pool from the machine (engine.js poolSize), 1 to 8 fixes it.
  { key: "workers", kind: "integer", min: 0, max: 8, default: 0, ...number },
  // Which section an embed shows (and the full page scrolls to): the seed's charts or the depth lab.
  { key: "section", kind: "choice", choices: ["seed", "lab"], default: "seed", ...text },
  // The depth lab: its lesson, then every stack config key, as `lab.<key>` in the URL.
  { key: "lab.preset", kind: "choice", choices: LAB_PRESET_IDS, default: "", ...text },
  ...Object.entries(LAB_DEFAULTS).map(([key, value]) => labSetting(key, value)),
];

/** A depth-lab config key: parsed by the type of its default; its range is the engine's to judge. */
function labSetting(key, value) {
  const parser = typeof value === "boolean" ? flag : typeof value === "string" ? text : number;
  const kind = typeof value === "boolean" ? "bool" : "value";
  return { key: `lab.${key}`, lab: key, kind, default: value, optional: value === null, ...parser };
}

export const LAB_KEYS = SETTINGS.filter((s) => s.lab).map((s) => s.key);

export const CONFIG_KEYS = SETTINGS.filter((s) => s.config).map((s) => s.key);
const BY_KEY = new Map(SETTINGS.map((s) => [s.key, s]));

/** The defaults of every setting. */
export function defaults() {
  return Object.fromEntries(SETTINGS.map((s) => [s.key, structuredClone(s.default)]));
}

/**
 * Reads settings from a query string. Unknown parameters are ignored; a value that does not
 * parse as its kind is reported in `problems` (and the default kept), never thrown.
 * Config values that parse are kept as they are: the engine validates their ranges.
 */
export function fromQuery(search) {
  const params = new URLSearchParams(search);
  const settings = defaults();
  const problems = [];
  for (const [key, raw] of params) {
    const setting = BY_KEY.get(key);
    if (!setting) continue;
    const value = setting.optional && raw === "" ? null : setting.parse(raw);
    const problem = checkKind(setting, value);
    if (problem) problems.push({ key, message: problem });
    else settings[key] = value;
  }
  return { settings, problems };
}

/** The query string for `settings`: only what differs from the defaults, in table order. */
export function toQuery(settings) {
  const params = new URLSearchParams();
  for (const setting of SETTINGS) {
    const value = settings[setting.key];
    if (isDefault(settings, setting.key)) continue;
    params.set(setting.key, value === null ? "" : setting.format(value));
  }
  const query = params.toString();
  return query ? `?${query}` : "";
}

/** Whether a setting holds its default (what the URL leaves out). */
export function isDefault(settings, key) {
  return sameValue(settings[key], BY_KEY.get(key).default);
}

/** The engine config part of the settings. */
export function configOf(settings) {
  return Object.fromEntries(CONFIG_KEYS.map((key) => [key, settings[key]]));
}

/** The depth lab's engine config (arch "stack") from the `lab.*` settings. */
export function labConfigOf(settings) {
  return { arch: "stack", ...Object.fromEntries(LAB_KEYS.map((key) => [key.slice(4), settings[key]])) };
}

/**
 * The backend new runs use when the settings name none, given what the worker offers: a real
 * GPU makes WebGPU the default; a software adapter (the browser's fallback, e.g. SwiftShader)
 * is offered, but the CPU stays the default.
 */
export function defaultBackend(backends, gpu) {
  return backends.includes("webgpu") && gpu && !gpu.fallback ? "webgpu" : BACKENDS.cpu;
}

/** A config with one of the blog's presets applied. */
export function presetConfig(settings, preset) {
  return { ...configOf(settings), ...PRESETS[preset] };
}

function checkKind(setting, value) {
  switch (setting.kind) {
    case "number":
      return null; // ranges and types are the engine's to check
    case "integer": // a page setting: its range is the page's
      return Number.isInteger(value) && value >= setting.min && value <= setting.max ? null : `must be an integer from ${setting.min} to ${setting.max}`;
    case "bool":
      return typeof value === "boolean" ? null : "must be 0 or 1";
    case "choice":
      return setting.choices.some((c) => c === value) || (setting.default === "" && value === "")
        ? null
        : `must be one of ${setting.choices.join(", ")}`;
    case "list": {
      const bad = value.filter((v) => !setting.choices.includes(v));
      return bad.length ? `unknown: ${bad.join(", ")}; allowed: ${setting.choices.join(", ")}` : null;
    }
    default:
      return null;
  }
}

function sameValue(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}
