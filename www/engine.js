// The page's handle on the training worker: promise-based requests, streamed records, and
// recovery when the wasm instance dies (a trap kills the worker's module for good).
//
// Runs are deterministic (seeded), so after a crash the replacement worker rebuilds every run
// and replays it to the step it had reached; the records already on screen are never touched.

import { errorOf } from "./outcome.js";

export class Engine {
  /**
   * @param {{makeWorker: () => Worker, firstWorker?: Worker, wasmBytes?: Promise<Uint8Array>}} boot
   *   how to start a worker (a URL on the site, a Blob URL in the single-file build), the one
   *   boot.js already started, and the module's bytes when they cannot be fetched (file://)
   * @param {{onRecords, onStopped, onCrash, onFellBack, onRecovered}} events
   *   `onStopped(run, {kind, step, message})`, kind one of outcome.js's KINDS
   */
  constructor({ makeWorker, firstWorker, wasmBytes }, events) {
    this.makeWorker = makeWorker;
    this.firstWorker = firstWorker;
    this.events = events;
    this.wasmBytes = wasmBytes;
    this.nextId = 1;
    this.waiting = new Map();
    /** What each run was created from, to rebuild it in a new worker. */
    this.recipes = new Map();
    this.crashes = 0;
  }

  /** Starts the worker; resolves to `{backends, fields}`. */
  async start() {
    this.worker = this.firstWorker ?? this.makeWorker();
    this.firstWorker = undefined;
    this.worker.onmessage = ({ data }) => this.receive(data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.crash(event.message || "the worker stopped");
    };
    this.info = await this.request("hello", { wasmBytes: await this.wasmBytes, gpu: await probeGpu() });
    return this.info;
  }

  request(type, payload = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, type });
      this.worker.postMessage({ id, type, ...payload });
    });
  }

  receive(data) {
    if (data.id !== undefined) {
      const waiter = this.waiting.get(data.id);
      this.waiting.delete(data.id);
      if (!waiter) return;
      if (data.ok) waiter.resolve(data.result);
      else {
        // A trap (the worker's outcomeOf says "crashed"): the instance is gone.
        if (data.kind === "crashed") this.crash(data.error);
        waiter.reject(errorOf(data.kind, data.error));
      }
      return;
    }
    if (data.type === "records") {
      const recipe = this.recipes.get(data.run);
      if (recipe) recipe.done += data.records.length;
      this.events.onRecords?.(data.run, data.records);
    } else if (data.type === "fellBack") {
      const recipe = this.recipes.get(data.run);
      if (recipe) recipe.backend = data.backend;
      this.events.onFellBack?.(data.run, data.backend, data.message);
    } else if (data.type === "stopped") {
      const recipe = this.recipes.get(data.run);
      if (recipe) recipe.stopped = data.kind;
      if (data.kind === "crashed") {
        if (recipe) recipe.poisoned = true;
        this.crash(data.message);
      }
      this.events.onStopped?.(data.run, { kind: data.kind, step: data.step, message: data.message });
    }
  }

  validate(config) {
    return this.request("validate", { config });
  }

  /** Creates (or re-creates) a run. Resolves to `{config, backend}`. */
  async create(run, config, backend, tensors) {
    const result = await this.request("create", { run, config, backend, tensors });
    this.recipes.set(run, { config, backend: result.backend, tensors, done: 0 });
    return result;
  }

  advance(run, steps) {
    return this.request("advance", { run, steps });
  }

  pause(run) {
    return this.request("pause", { run });
  }

  snapshot(run) {
    return this.request("snapshot", { run });
  }

  free(run) {
    this.recipes.delete(run);
    return this.request("free", { run });
  }

  /**
   * Replaces a dead worker. Every pending request fails, and every run is rebuilt in the new
   * worker and replayed, without streaming, to the step it had reached (its records are
   * already on screen). A run that was stepping when the trap happened stays stopped.
   */
  async crash(reason) {
    if (this.recovering) return;
    this.recovering = true;
    this.crashes += 1;
    for (const waiter of this.waiting.values()) waiter.reject(errorOf("crashed", `worker crashed: ${reason}`));
    this.waiting.clear();
    this.worker.terminate();
    this.events.onCrash?.(reason);
    try {
      await this.start();
      for (const [run, recipe] of this.recipes) {
        if (recipe.poisoned) continue;
        const { config, backend, tensors, done } = recipe;
        await this.request("replay", { run, config, backend, tensors, steps: done });
      }
      this.events.onRecovered?.();
    } finally {
      this.recovering = false;
    }
  }
}

/**
 * Whether this browser gives a WebGPU adapter, and whether it is a software one (SwiftShader,
 * WARP): `{fallback, vendor}` or null. Asked on the page, so a page without WebGPU never
 * offers it, whatever the worker could see.
 */
export async function probeGpu() {
  try {
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) return null;
    return { fallback: Boolean(adapter.info?.isFallbackAdapter), vendor: adapter.info?.vendor ?? "" };
  } catch {
    return null;
  }
}
