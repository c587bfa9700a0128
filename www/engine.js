// The page's handle on its training workers: promise-based requests, streamed records, and
// recovery when a wasm instance dies (a trap kills the worker's module for good).
//
// Independent runs train in parallel, in a small pool of workers (each with its own module
// instance): a run lives in one worker for good, so its steps stay in order and its numbers
// are the same as in one worker. Runs are deterministic (seeded), so after a crash the
// replacement worker rebuilds its runs and replays them to the step they had reached; the
// records already on screen are never touched.

import { errorOf } from "./outcome.js";

/**
 * How many workers to train in: one per core the browser reports but one, which the page keeps
 * for drawing (with every core training, the page's tasks on a 2-core machine stretch past
 * 50 ms), at most 4, and at most 2 where the device says it has under 4 GB
 * (navigator.deviceMemory, Chromium only): each worker holds its own module instance.
 */
export function poolSize(nav = navigator) {
  const cores = Math.max(1, nav.hardwareConcurrency || 1);
  const memoryCap = (nav.deviceMemory ?? 8) < 4 ? 2 : 4;
  return Math.max(1, Math.min(cores - 1, memoryCap));
}

export class Engine {
  /**
   * @param {{makeWorker: () => Worker, firstWorker?: Worker, wasmBytes?: Promise<Uint8Array>}} boot
   *   how to start a worker (a URL on the site, a Blob URL in the single-file build), the one
   *   boot.js already started, and the module's bytes when they cannot be fetched (file://)
   * @param {{onRecords, onStopped, onIdle, onCrash, onFellBack, onRecovered}} events
   *   `onStopped(run, {kind, step, message})`, kind one of outcome.js's KINDS; `onIdle(run,
   *   step)`: the run stopped stepping with epochs left (paused, or a Step's last step)
   * @param {{workers?: number}} options  the pool's size (poolSize() by default)
   */
  constructor({ makeWorker, firstWorker, wasmBytes }, events, { workers = poolSize() } = {}) {
    this.makeWorker = makeWorker;
    this.firstWorker = firstWorker;
    this.events = events;
    this.wasmBytes = wasmBytes;
    this.size = Math.max(1, workers);
    this.nextId = 1;
    /** Request id → its waiter and the slot it went to. */
    this.waiting = new Map();
    /** The workers, all started by start() (and again after a crash, see crash). */
    this.slots = [];
    /** Run → the slot it trains in. A run stays in its slot, re-created or replayed. */
    this.home = new Map();
    /** What each run was created from, to rebuild it in a new worker. */
    this.recipes = new Map();
    this.crashes = 0;
    /** The flex module as the first worker compiled it, `{name, module}`, for the others. */
    this.module = null;
  }

  /**
   * Starts the pool; resolves to `{backends, gpu, building}` once the first worker is ready.
   * The others start at once too, and say hello as soon as the first has compiled the flex
   * module (see open), so that they are ready when the page is: opened at ready instead,
   * two workers clicked at ready took as long as one.
   */
  async start() {
    const first = this.open(0);
    // One that fails to start fails its runs' requests (see create): nothing to do here.
    this.openAll().catch(() => {});
    this.info = await first;
    return this.info;
  }

  /** Starts the workers of the pool not yet started (their runs are spread by assign). */
  openAll() {
    for (let i = 1; i < this.size; i++) if (!this.slots[i]) this.open(i);
    return Promise.all(this.slots.map((slot) => slot.ready));
  }

  get recovering() {
    return this.slots.some((s) => s?.recovering);
  }

  /** Starts (or restarts) the worker of slot `index` and says hello. */
  open(index) {
    const worker = index === 0 && this.firstWorker ? this.firstWorker : this.makeWorker();
    if (index === 0) this.firstWorker = undefined;
    const slot = { index, worker, runs: new Set(this.slots[index]?.runs ?? []), recovering: this.slots[index]?.recovering ?? false };
    this.slots[index] = slot;
    worker.onmessage = ({ data }) => this.receive(slot, data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.crash(slot, event.message || "the worker stopped");
    };
    // The page asks for a GPU adapter once; every worker is told the same answer.
    this.gpu ??= probeGpu();
    slot.ready = (async () => {
      // The first worker to load the flex module compiles it; the others are handed that
      // compiled module (see worker.js hello), so slot 0 goes first.
      if (index > 0) await this.slots[0]?.ready.catch(() => {});
      const gpu = await this.gpu;
      const hello = async (module) => this.send(slot, "hello", { module, wasmBytes: module ? undefined : await this.wasmBytes, gpu });
      // A browser that cannot post a WebAssembly.Module (DataCloneError): the worker loads its own.
      const info = this.module ? await hello(this.module).catch(() => hello(null)) : await hello(null);
      this.module ??= info.module;
      return info;
    })();
    return slot.ready;
  }

  /**
   * The slot a run trains in, chosen (and reserved) at once, so that runs created together
   * spread over the pool: the full module's backends stay in slot 0 (one 32 MB module is
   * enough), flex runs go to the least busy worker, which is started if it is not yet.
   */
  assign(run, backend) {
    if (!this.home.has(run)) {
      let index = 0;
      if (!backend || backend === "flex") {
        const load = (i) => this.slots[i]?.runs.size ?? 0;
        for (let i = 1; i < this.size; i++) if (load(i) < load(index)) index = i;
      }
      if (!this.slots[index]) this.open(index);
      this.home.set(run, index);
      this.slots[index].runs.add(run);
    }
    return this.slots[this.home.get(run)];
  }

  /** A request to the run's worker (`payload.run`), or to the first worker. */
  request(type, payload = {}) {
    const index = payload.run !== undefined ? (this.home.get(payload.run) ?? 0) : 0;
    return this.send(this.slots[index], type, payload);
  }

  send(slot, type, payload) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, type, slot });
      try {
        slot.worker.postMessage({ id, type, ...payload });
      } catch (error) {
        // A payload the browser cannot clone.
        this.waiting.delete(id);
        reject(error);
      }
    });
  }

  receive(slot, data) {
    if (data.id !== undefined) {
      const waiter = this.waiting.get(data.id);
      this.waiting.delete(data.id);
      if (!waiter) return;
      if (data.ok) waiter.resolve(data.result);
      else {
        // A trap (the worker's outcomeOf says "crashed"): the instance is gone.
        if (data.kind === "crashed") this.crash(slot, data.error);
        waiter.reject(errorOf(data.kind, data.error));
      }
      return;
    }
    const recipe = this.recipes.get(data.run);
    if (data.type === "records") {
      if (recipe) recipe.done += data.records.length;
      this.events.onRecords?.(data.run, data.records);
    } else if (data.type === "idle") {
      if (recipe) recipe.target = data.step;
      this.events.onIdle?.(data.run, data.step);
    } else if (data.type === "fellBack") {
      if (recipe) recipe.backend = data.backend;
      this.events.onFellBack?.(data.run, data.backend, data.message);
    } else if (data.type === "stopped") {
      if (recipe) recipe.stopped = data.kind;
      if (data.kind === "crashed") {
        if (recipe) recipe.poisoned = true;
        this.crash(slot, data.message);
      }
      this.events.onStopped?.(data.run, { kind: data.kind, step: data.step, message: data.message });
    }
  }

  validate(config) {
    return this.request("validate", { config });
  }

  /** Creates (or re-creates) a run in its worker. Resolves to `{config, backend}`. */
  async create(run, config, backend, tensors, { keepSnapshots = false } = {}) {
    const slot = this.assign(run, backend);
    try {
      await slot.ready;
      const result = await this.send(slot, "create", { run, config, backend, tensors, keepSnapshots });
      // `target`: the step the run is asked to step to (see advance); `resumed`: whether it
      // already went on once after a crash (see crash).
      this.recipes.set(run, { config, epochs: result.config.epochs, backend: result.backend, tensors, keepSnapshots, done: 0, target: 0, resumed: false });
      return result;
    } catch (error) {
      if (!this.recipes.has(run)) this.unassign(run); // refused: the run never existed
      throw error;
    }
  }

  unassign(run) {
    this.slots[this.home.get(run)]?.runs.delete(run);
    this.home.delete(run);
  }

  /**
   * Asks for `steps` more steps (Infinity: to the last epoch). The target is noted at once, from
   * the records seen so far, so that a crash before the worker's answer still knows it (see
   * crash); the worker's answer, which counts the steps it has taken, then replaces it.
   */
  async advance(run, steps) {
    const recipe = this.recipes.get(run);
    if (recipe) recipe.target = Math.min(recipe.epochs, recipe.done + (steps ?? Infinity));
    const result = await this.request("advance", { run, steps });
    if (recipe && result.target !== null) recipe.target = result.target;
    return result;
  }

  /** Pauses these runs, each after the step it has in flight. */
  pause(runs) {
    return Promise.all(runs.map((run) => this.request("pause", { run })));
  }

  snapshot(run) {
    return this.request("snapshot", { run });
  }

  async free(run) {
    const result = await this.request("free", { run });
    this.recipes.delete(run);
    this.unassign(run);
    return result;
  }

  /** Each started worker's memory: `[{wasm, js}]`, slot by slot. */
  memory() {
    return Promise.all(this.slots.filter(Boolean).map((slot) => this.send(slot, "memory", {})));
  }

  /**
   * Replaces a dead worker. Its pending requests fail, except an advance, which is carried out
   * after the replay: each of its runs is rebuilt in the new worker and replayed, without
   * streaming, to the step it had reached (its records are already on screen). A run that was
   * stepping goes on to the step it was asked for, once: a run that was stepping at a second
   * crash, or whose own step trapped, stays where it is, and the page is told it stopped
   * stepping (onIdle), so that nothing waits for its steps. The
   * other workers and their runs carry on.
   */
  async crash(slot, reason) {
    if (slot.recovering) return;
    slot.recovering = true;
    this.crashes += 1;
    for (const [id, waiter] of this.waiting) {
      if (waiter.slot !== slot) continue;
      // An advance is this engine's to carry out after the replay (its target is noted); every
      // other request failed with the worker.
      if (waiter.type === "advance") waiter.resolve({ target: null });
      else waiter.reject(errorOf("crashed", `worker crashed: ${reason}`));
      this.waiting.delete(id);
    }
    slot.worker.terminate();
    this.events.onCrash?.(reason);
    try {
      const info = await this.open(slot.index);
      if (slot.index === 0) this.info = info;
      const fresh = this.slots[slot.index];
      for (const run of fresh.runs) {
        const recipe = this.recipes.get(run);
        if (!recipe || recipe.poisoned) continue;
        const { config, backend, tensors, keepSnapshots, done } = recipe;
        await this.send(fresh, "replay", { run, config, backend, tensors, keepSnapshots, steps: done });
        if (recipe.stopped || recipe.target <= done) continue;
        if (recipe.resumed) {
          recipe.target = done;
          this.events.onIdle?.(run, done, { afterCrash: true });
        } else {
          recipe.resumed = true;
          await this.send(fresh, "advance", { run, steps: recipe.target - done });
        }
      }
      this.events.onRecovered?.();
    } finally {
      slot.recovering = false;
      this.slots[slot.index].recovering = false;
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
