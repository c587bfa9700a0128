// Numbers and verdicts for the explanation. A verdict is one of three words, never implied
// by a missing number: "holds" (✓), "fails" (✗) or "absent" (the part is not in this model).

import { el } from "../dom.js";
import { t } from "../i18n.js";

const MARKS = { holds: "✓", fails: "✗", absent: "–", pending: "…" };

/** A live line: the verdict's mark, the text, and the verdict in words for screen readers. */
export function verdict(kind, text) {
  const span = el("span", { class: `live ${kind}`, "data-verdict": kind }, `${MARKS[kind]} ${text}`);
  span.setAttribute("aria-label", `${t(`ex.${kind}`)}: ${text}`);
  return span;
}

/** "holds" when `ok`, else "fails". */
export const check = (ok) => (ok ? "holds" : "fails");

/** A number for reading: exact zeros as "0" (never 1e-38), else 5 significant digits. */
export function num(v) {
  if (v === 0) return "0";
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-4 ? v.toExponential(3) : String(Number(v.toPrecision(5)));
}

export function norm(values) {
  let s = 0;
  for (const v of values) s += v * v;
  return Math.sqrt(s);
}

/** The largest |v|. A loop, not Math.max(...values): a 224² map is too many arguments. */
export function maxAbs(values) {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

export function extent(values) {
  let [min, max] = [Infinity, -Infinity];
  for (const v of values) [min, max] = [Math.min(min, v), Math.max(max, v)];
  return [min, max];
}

export function mean(values) {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** ‖a − b‖. */
export function distance(a, b) {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += (a[i] - b[i]) ** 2;
  return Math.sqrt(d);
}

/** ‖a − b‖ / ‖b‖: how far a parameter moved, relative to where it started. */
export const relativeStep = (a, b) => distance(a, b) / norm(b);

/** The gap between `v` and the next float32 above it (one ulp at v's magnitude). */
export function ulp32(v) {
  const f = new Float32Array([Math.abs(v)]);
  const bits = new Uint32Array(f.buffer);
  bits[0] += 1;
  return f[0] - Math.fround(Math.abs(v));
}

/** The largest difference between output channels `a` and `b` of a conv weight [out][in·9]. */
export function filterGap(w, a, b, perOut = w.length / 3) {
  let d = 0;
  for (let k = 0; k < perOut; k++) d = Math.max(d, Math.abs(w[a * perOut + k] - w[b * perOut + k]));
  return d;
}

/** The largest spread (max − min) of any channel of a [channels, H, W] map. */
export function channelSpread(map, channels) {
  const plane = map.length / channels;
  let spread = 0;
  for (let c = 0; c < channels; c++) {
    const [lo, hi] = extent(map.subarray(c * plane, (c + 1) * plane));
    spread = Math.max(spread, hi - lo);
  }
  return spread;
}
