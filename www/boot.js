// Starts the training worker as soon as the page's <head> is parsed, so the wasm module
// downloads and compiles while the rest of the page loads (app.js picks the worker up).
// The single-file build defines window.__initlabBoot itself and this file is not loaded.

window.__initlabBoot ??= (() => {
  const url = new URL("worker.js", document.currentScript.src);
  const makeWorker = () => new Worker(url, { type: "module" });
  return { firstWorker: makeWorker(), makeWorker, wasmBytes: undefined };
})();
