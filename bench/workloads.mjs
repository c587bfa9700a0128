// The benchmark workloads as configs for the wasm module: the same as `initlab bench --workload …`
// (crate/src/seed.rs WORKLOADS) and bench/pytorch_stack.py. The seed's is the engine's default.
export const WORKLOADS = {
  seed: {},
  deep: { arch: "stack", depth: 12, channels: 8, norm: "none", height: 32, width: 32 },
  deep_bn: { arch: "stack", depth: 8, channels: 16, norm: "batch", height: 64, width: 64 },
};
