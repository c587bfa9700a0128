// The training worker: owns the wasm module and every Experiment, so the page never waits on a
// step. It speaks a small request/response protocol (see engine.js) and streams records back
// in batches.
//
// Each run's steps are awaited one at a time: an Experiment never has two steps in flight.

import * as wasm from "./pkg/initlab_flex.js";
import { BACKENDS } from "./backends.js";
import { outcomeOf } from "./outcome.js";
import { FLEX, flexModuleName } from "./relaxed.js";

/**
 * Every run in this worker, by key.
 * @type {Map<string, {
 *   experiment: any,                        the wasm Experiment (replaced by a flex one on a fallback)
 *   recipe: {config: object, tensors?: Uint8Array},  what it was made from, to rebuild it
 *   backend: string,                        "flex", "ndarray" or "webgpu"
 *   target: number, epochs: number, done: number,    steps asked for, in all, taken
 *   pending: object[],                      records not yet posted (see flush)
 *   stopped: boolean,                       a "stopped" message was posted
 *   queue: Promise<any>,                    the call in flight (see exclusive)
 *   busy?: boolean, released?: boolean,     a step is in flight; the run was freed meanwhile
 *   snapshotSize?: number,                  numbers in one snapshot (for the thinning stride)
 * }>}
 */
const runs = new Map();
let pumping = false;

// Builds of the same crate: initlab_flex (flex alone, small, fetched and compiled at once,
// while the page is still loading) and initlab (flex, ndarray and WebGPU; five times the size),
// imported only when a run asks for ndarray or WebGPU. The flex module comes in two builds with
// the same bindings (relaxed.js): initlab_flex_fma, fused multiply-adds in a stack's kernels,
// where the browser has relaxed SIMD, else initlab_flex (the seed's numbers are the same bits in
// both; a stack's differ in the last digits). The single-file build (a Blob-URL worker) has
// only initlab_flex, handed to its first worker as bytes in "hello".
//
// The pool's other workers download and compile nothing: "hello" hands them the first worker's
// compiled module (a WebAssembly.Module), which they only instantiate, so a second worker is
// ready in milliseconds and runs the code V8 has already optimised for the first.
const inline = self.location.protocol === "blob:";
/**
 * The flex module in use (`name`: initlab_flex or initlab_flex_fma), its exports (memory, for the soak test), its
 * compiled WebAssembly.Module (`module`, for the pool's other workers) and whether that came
 * from another worker (`shared`, for the tests).
 */
const flex = { name: FLEX, exports: null, module: null, shared: false };
/** boot.js's name for the worker it starts with the page: only that one fetches at once. */
const FIRST = "initlab-first";
const fetching = inline || self.name !== FIRST ? null : use();
let full = null;

/**
 * Steps the seed's experiments on a tiny image once the module is there (the engine's WarmUp),
 * so that V8 optimises the step (in the background) before the first real one, which would
 * otherwise run ~30 to 50 ms in baseline code instead of ~4: as early as the module allows,
 * since the optimising takes ~0.5 s here. A round per task, so that the page's requests
 * (hello, validate) are answered between rounds and its ready is not held up; it stops once
 * a run exists, whose own steps then do the warming.
 */
function warmUpSoon() {
  const warm = new wasm.WarmUp();
  (async () => {
    do await yieldToMessages();
    while (runs.size === 0 && warm.round());
    warm.free();
  })();
}

/**
 * Compiles the flex module (from `source`: its bytes; by default fetched next to its bindings)
 * unless `source` is compiled already, instantiates it and warms it up. The compiling is done
 * here, not by the bindings, because they do not hand the compiled module out.
 */
async function use(source) {
  const module = source instanceof WebAssembly.Module ? source : await compile(source);
  flex.exports = await wasm.default({ module_or_path: module });
  flex.module = module;
  flex.shared = module === source;
  warmUpSoon();
}

/**
 * The flex module, compiled from `bytes` (the plain build), or as it downloads: the fused build
 * where the browser has relaxed SIMD, unless the host lacks that file (a copy of the site made
 * before it existed), then the plain one.
 */
async function compile(bytes) {
  if (bytes) return WebAssembly.compile(bytes);
  let name = flexModuleName();
  let response = await fetch(new URL(`./pkg/${name}_bg.wasm`, import.meta.url));
  if (!response.ok && name !== FLEX) {
    name = FLEX;
    response = await fetch(new URL(`./pkg/${name}_bg.wasm`, import.meta.url));
  }
  if (!response.ok) throw new Error(`${name}_bg.wasm: HTTP ${response.status}`);
  flex.name = name;
  // Streaming needs the wasm MIME type; a host that serves .wasm without it gets the bytes compiled.
  if (response.headers.get("Content-Type")?.startsWith("application/wasm")) return WebAssembly.compileStreaming(response);
  return WebAssembly.compile(await response.arrayBuffer());
}

/** The first worker's flex module, compiled: `{name, module}`, as "hello" hands it on. */
async function shared({ name, module }) {
  flex.name = name;
  await use(module);
}

function fullModule() {
  full ??= import("./pkg/initlab.js").then(async (m) => {
    await m.default();
    return m;
  });
  return full;
}

// `cargo xtask serve` serves the page as soon as the flex module is built and answers 503 for the
// full module until it is: then the page offers flex alone, says the rest is still being built,
// and asks again ("backends") until it is there. Anything else (200, 404) changes nothing.
const fullProbe = fullStillBuilding();
let gpuFound = null;

/** Whether the server answers 503 for the full module (never, in the single-file build). */
async function fullStillBuilding() {
  if (inline) return false;
  try {
    const response = await fetch(new URL("./pkg/initlab_bg.wasm", import.meta.url), { method: "HEAD", cache: "no-store" });
    return response.status === 503;
  } catch {
    return false;
  }
}

/** The backends on offer: the single-file build and a module still building have flex alone. */
function backendsNow(building) {
  const fullToo = !inline && !building;
  const backends = BACKENDS.all.filter((b) => (fullToo || !BACKENDS.full.includes(b)) && (b !== "webgpu" || gpuFound));
  return { backends, gpu: inline ? null : gpuFound, building };
}

async function moduleFor(backend) {
  return BACKENDS.full.includes(backend) ? fullModule() : wasm;
}

const handlers = {
  /**
   * `gpu`: what the page found (see probeGpu in engine.js); null when it found no adapter.
   * `module`: another worker's compiled flex module (`{name, module}`, from its hello), else
   * `wasmBytes`: the module's bytes (the single-file build), else the worker fetches it.
   * Resolves to the backends on offer and this worker's compiled module, `{..., module}`.
   */
  async hello({ wasmBytes, gpu, module }) {
    if (module) await shared(module);
    else if (wasmBytes) await use(wasmBytes);
    else await (fetching ?? use());
    // WebGPU only where the page found an adapter.
    gpuFound = gpu;
    return { ...backendsNow(await fullProbe), module: { name: flex.name, module: flex.module } };
  },

  /** The backends on offer now: `{backends, gpu, building}` (see fullProbe). */
  async backends() {
    return backendsNow(await fullStillBuilding());
  },

  validate({ config }) {
    return wasm.validateConfig(config);
  },

  /**
   * `keepSnapshots`: keep the run's snapshots here and hand them out on request (snapshotAt),
   * instead of sending one with each record: a deep stack's parameters and gradients in every
   * record cost the page tens of ms a message to take in (the depth lab's runs).
   */
  async create({ run, config, backend, tensors, keepSnapshots = false }) {
    release(run);
    const module = await moduleFor(backend);
    const experiment = tensors
      ? await module.Experiment.fromSafetensors(config, tensors, backend || undefined)
      : await module.Experiment.create(config, backend || undefined);
    const full = experiment.config;
    runs.set(run, {
      experiment,
      recipe: { config, tensors },
      backend: experiment.backend,
      target: 0,
      epochs: full.epochs,
      done: 0,
      pending: [],
      stopped: false,
      queue: Promise.resolve(),
      history: keepSnapshots ? new Map() : null,
    });
    return { config: full, backend: experiment.backend };
  },

  /**
   * Rebuilds a run and steps it silently to `steps` (after the previous worker crashed); a run
   * that keeps its snapshots here gets them back.
   */
  async replay({ run, config, backend, tensors, steps, keepSnapshots = false }) {
    await handlers.create({ run, config, backend, tensors, keepSnapshots });
    const r = mustGet(run);
    while (r.done < steps) {
      await exclusive(r, async () => {
        const record = await r.experiment.step();
        if (r.history) snapshotAfter(r, record.step);
      });
      r.done += 1;
    }
    return { done: r.done };
  },

  /** Asks for `steps` more steps (Infinity: to the last epoch). Records stream back. */
  advance({ run, steps }) {
    const r = mustGet(run);
    r.target = Math.min(r.epochs, r.done + (steps ?? Infinity));
    pump();
    return { target: r.target };
  },

  /** Stops the run after the step in flight (a run already freed has nothing to stop). */
  pause({ run }) {
    const r = runs.get(run);
    if (!r) return null;
    const stepping = r.done < r.target;
    r.target = r.done;
    // A step in flight reports the run idle when it returns (pump); between steps, now.
    if (stepping && !r.busy) idle(run, r);
    return null;
  },

  /** A kept run's snapshot at the last recorded step not after `step` (Infinity: the last). */
  snapshotAt({ run, step }) {
    const r = mustGet(run);
    let best = null;
    for (const at of r.history?.keys() ?? []) if (at <= step && (best === null || at > best)) best = at;
    return best === null ? null : r.history.get(best);
  },

  snapshot({ run }) {
    return mustGet(run).experiment.snapshot();
  },

  /** Every block's f, ∂L/∂f, output and ∂L/∂output for the first image, with a snapshot's parameters
   * (the explanation's maps and the depth lab's backward view). */
  async blockMaps({ run, params }) {
    const r = mustGet(run);
    const maps = await exclusive(r, () => r.experiment.blockMaps(params));
    const buffers = maps.blocks.flatMap((b) => ["conv", "conv_grad", "output", "output_grad"].map((k) => b[k].buffer));
    return transfer(maps, buffers);
  },

  free({ run }) {
    release(run);
    return null;
  },

  /**
   * Bytes of wasm linear memory and of this worker's JS heap (where the browser tells), and
   * which flex module this worker runs (initlab_flex or initlab_flex_fma), and whether it was handed that module
   * compiled (`shared`).
   */
  memory() {
    return { wasm: flex.exports?.memory.buffer.byteLength ?? 0, js: performance.memory?.usedJSHeapSize ?? 0, module: flex.name, shared: flex.shared };
  },

  /** Deliberately traps the wasm instance (tests of the page's recovery). */
  crash() {
    wasm.debugTrap();
  },
};

self.onmessage = async ({ data }) => {
  const { id, type, ...payload } = data;
  try {
    const handler = handlers[type];
    if (!handler) throw new Error(`worker: unknown request "${type}"`);
    const result = await handler(payload);
    if (result instanceof Transfer) self.postMessage({ id, ok: true, result: result.value }, result.buffers);
    else self.postMessage({ id, ok: true, result });
  } catch (error) {
    const message = String(error?.message ?? error);
    self.postMessage({ id, ok: false, error: message, kind: outcomeOf(message, error?.name) });
  }
};

/** A result whose typed arrays move to the page instead of being copied. */
class Transfer {
  constructor(value, buffers) {
    this.value = value;
    this.buffers = buffers;
  }
}
function transfer(value, buffers) {
  return new Transfer(value, buffers);
}

/** Runs `op` when the run's current call (a step) is done: an Experiment takes one at a time. */
function exclusive(r, op) {
  const result = r.queue.then(op);
  r.queue = result.catch(() => {});
  return result;
}

function mustGet(run) {
  const r = runs.get(run);
  if (!r) throw new Error(`worker: no run "${run}"`);
  return r;
}

function release(run) {
  const r = runs.get(run);
  if (!r) return;
  r.target = r.done;
  r.released = true;
  runs.delete(run);
  // A step in flight still holds the object; pump() frees it when that step returns.
  if (!r.busy) r.experiment.free();
}

/** Steps every active run round-robin until each reaches its target. */
async function pump() {
  if (pumping) return;
  pumping = true;
  let lastFlush = performance.now();
  try {
    for (;;) {
      const active = [...runs.entries()].filter(([, r]) => !r.stopped && r.done < r.target);
      if (active.length === 0) break;
      for (const [id, r] of active) {
        r.busy = true;
        try {
          const record = await exclusive(r, async () => {
            const record = await r.experiment.step();
            const snapshot = snapshotAfter(r, record.step);
            if (snapshot && !r.history) record.snapshot = snapshot;
            return record;
          });
          r.pending.push(record);
          r.done += 1;
          if (r.done >= r.target && r.done < r.epochs && !r.released) idle(id, r);
        } catch (error) {
          const message = String(error?.message ?? error);
          const kind = outcomeOf(message, error?.name);
          flush(id, r);
          if (r.backend === "webgpu" && kind !== "finished" && kind !== "diverged" && !r.released) {
            // WebGPU failed (device lost, shader error): rebuild the run on the CPU, replay it
            // to the same step (runs are deterministic) and carry on; the records stay.
            try {
              await fallBackToCpu(id, r);
              self.postMessage({ type: "fellBack", run: id, backend: "flex", message });
              continue;
            } catch {
              // fall through: report the original error
            }
          }
          r.stopped = true;
          self.postMessage({ type: "stopped", run: id, kind, step: r.done, message });
        } finally {
          r.busy = false;
          if (r.released) r.experiment.free();
        }
      }
      // Batch records: one message per ~30 ms keeps the page's main thread light.
      if (performance.now() - lastFlush > 30) {
        for (const [id, r] of runs) flush(id, r);
        lastFlush = performance.now();
        await yieldToMessages();
      }
    }
  } finally {
    for (const [id, r] of runs) {
      flush(id, r);
      if (r.done >= r.epochs && !r.stopped) {
        r.stopped = true;
        self.postMessage({ type: "stopped", run: id, kind: "finished", step: r.done, message: "finished" });
      }
    }
    pumping = false;
  }
}

/**
 * The snapshot of the step just taken, if it is one to keep, kept in the run's history where it
 * has one: every parameter and gradient of the step, for the explanation's table, heatmaps and
 * feature maps (the depth lab's backward view too); thinned out past 1,000 steps, or past ~2
 * million numbers for a wide deep stack, to keep long runs light.
 */
function snapshotAfter(r, step) {
  const stride = Math.max(1, Math.ceil(r.epochs / 1000), Math.ceil((r.epochs * (r.snapshotSize ?? 0)) / 2.5e5));
  if (step % stride !== 0 && step !== r.epochs - 1) return null;
  const snapshot = r.experiment.snapshot();
  r.snapshotSize ??= snapshot.params.reduce((n, p) => n + 2 * p.value.length, 0);
  r.history?.set(step, snapshot);
  return snapshot;
}

/** Replaces a run's experiment by a flex one at the same step. */
async function fallBackToCpu(id, r) {
  const { config, tensors } = r.recipe;
  const experiment = tensors ? await wasm.Experiment.fromSafetensors(config, tensors, "flex") : await wasm.Experiment.create(config, "flex");
  for (let i = 0; i < r.done; i++) await experiment.step();
  try {
    r.experiment.free();
  } catch {
    // the failed device may not even free cleanly
  }
  Object.assign(r, { experiment, backend: "flex", queue: Promise.resolve() });
}

/**
 * Tells the page that a run with epochs left stopped stepping (Pause, or the last step a Step
 * asked for), after its records: it can now be looked at (the explanation computes its maps
 * only for a run that is not stepping).
 */
function idle(id, r) {
  flush(id, r);
  self.postMessage({ type: "idle", run: id, step: r.done });
}

function flush(id, r) {
  if (r.pending.length === 0) return;
  self.postMessage({ type: "records", run: id, records: r.pending });
  r.pending = [];
}

/** Lets queued messages (pause, free) run; a MessageChannel avoids setTimeout's clamping. */
function yieldToMessages() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}
