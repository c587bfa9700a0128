// The engine's backends, in the order the settings offer them. The worker loads the small flex
// module at once and the full one (ndarray and WebGPU, five times the size) only when a run
// asks for one of its backends.

export const BACKENDS = {
  /** Every backend, the form's order. */
  all: ["flex", "ndarray", "webgpu"],
  /** The ones only the full module has. */
  full: ["ndarray", "webgpu"],
  /** What a page without a real GPU runs on. */
  cpu: "flex",
};
