// How a run stopped, or why a request failed, as one of a few kinds. The engine reports a step
// error as text (see StepError in crate/src/train.rs: "finished: …", "diverged at step …",
// "device error: …"); this is the one place that text is read back. Everything past the
// worker sees only the kind.

/**
 * - finished: every epoch is done;
 * - diverged: the loss or a weight stopped being a finite number;
 * - device: the GPU failed (lost, out of memory, shader error);
 * - crashed: the wasm instance trapped, and is gone for good (the page starts a new worker);
 * - invalid: the request was refused (a config out of range, a file that does not fit, a bug).
 */
export const KINDS = ["finished", "diverged", "device", "crashed", "invalid"];

/** `Error.name` per kind, for the page's rejected requests. */
export const ERROR_NAMES = {
  finished: "FinishedError",
  diverged: "DivergedError",
  device: "DeviceError",
  crashed: "CrashError",
  invalid: "InvalidError",
};

/** A trap leaves "unreachable", a RuntimeError, a memory fault or an abort behind. */
const CRASH = /unreachable|RuntimeError|memory access out of bounds|Aborted/;

/** The kind of an engine message (or of an Error already named by the engine). */
export function outcomeOf(message, name = "") {
  const named = KINDS.find((kind) => ERROR_NAMES[kind] === name || kind === name);
  if (named) return named;
  if (CRASH.test(message) || name === "RuntimeError") return "crashed";
  if (/^finished\b/.test(message)) return "finished";
  if (/^diverged\b/.test(message)) return "diverged";
  if (/^device error\b/.test(message)) return "device";
  return "invalid";
}

/** The Error a rejected request gives the page: its message, named after its kind. */
export function errorOf(kind, message) {
  const error = new Error(message);
  error.name = ERROR_NAMES[kind] ?? ERROR_NAMES.invalid;
  error.kind = kind;
  return error;
}
