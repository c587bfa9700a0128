// Starts the training worker as soon as the page's <head> is parsed, so the wasm module
// downloads and compiles while the rest of the page loads (app.js picks the worker up).
// The single-file build defines window.__initlabBoot itself and this file is not loaded.

window.__initlabBoot ??= (() => {
  const url = new URL("worker.js", document.currentScript.src);
  const makeWorker = (name = "") => new Worker(url, { type: "module", name });
  // Named so that it fetches the module at once (see worker.js FIRST); the pool's other
  // workers are handed the module it compiled.
  return { firstWorker: makeWorker("initlab-first"), makeWorker: () => makeWorker(), wasmBytes: undefined };
})();
