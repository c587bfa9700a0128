// `window.initlab`, the embedding API: `await initlab.ready; const data = await initlab.runAll();`
// Plain copies of the page's state and promises of its actions; nothing here changes a run.

import { labelOf } from "./runs.js";

/**
 * @param {{ready: Promise, actions, settings, runs: () => object[], storeOf: (key: string) => object,
 *   engine: () => object, view: () => object, lab: () => object}} page  app.js's parts (the
 *   ones made at start-up behind getters)
 */
export function embeddingApi({ ready, actions, settings, runs, storeOf, engine, view, lab }) {
  return {
    ready: ready.then(() => true),
    runAll: () => ready.then(() => actions.runAll()),
    get settings() {
      return structuredClone(settings);
    },
    get runs() {
      return runs().map((r) => ({ key: r.key, label: labelOf(r), status: r.status, backend: r.backend, config: r.config, steps: r.steps, message: r.message }));
    },
    trajectory: (key) => storeOf(key).trajectory(key),
    snapshot: (key) => engine().snapshot(key),
    /** What the charts draw right now: per chart, the drawn series (for tests). */
    chartData: () => view().chartData(),
    /** The depth lab: run a lesson (resolves with its trajectories), and what it draws. */
    lab: {
      runPreset: (id) => ready.then(() => lab().runPreset(id)),
      runSettings: () => ready.then(() => lab().runSettings()),
      data: () => lab()?.data(),
      trajectory: (key) => lab()?.store.trajectory(key),
    },
    /** The worker's handle, for tests and debugging (not part of the embedding API). */
    get __engine() {
      return engine();
    },
  };
}
