// The engine's backends, in the order the settings offer them (from the engine: see
// crate/src/facts.rs). The worker loads the small flex module at once and the full one (ndarray
// and WebGPU, five times the size) only when a run asks for one of its backends.
//
// BACKENDS.all: every backend, the form's order; .full: the ones only the full module has;
// .cpu: what a page without a real GPU runs on.

import { FACTS } from "./pkg/facts.js";

export const BACKENDS = FACTS.backends;
