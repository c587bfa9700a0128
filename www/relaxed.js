// Which build of the flex module a browser runs. Where it validates relaxed SIMD (a module of
// one function, one f64x2.relaxed_madd), initlab_flex_fma_bg.wasm: the same engine, whose stack
// kernels fuse their multiply-adds (see madd in crate/src/kernels/mod.rs; a deep_bn step in
// about 0.88 of the time in Chromium). Elsewhere (Safari, and where it is switched off)
// initlab_flex_bg.wasm. Both take the same bindings, pkg/initlab_flex.js.

/** `(module (func (result v128) v128.const 0 v128.const 0 v128.const 0 f64x2.relaxed_madd))` */
export const PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 135, 2, 11,
]);

export const hasRelaxedSimd = () => WebAssembly.validate(PROBE);

/** The flex module's plain build, and its fused one. */
export const FLEX = "initlab_flex";
export const FLEX_FMA = "initlab_flex_fma";

/** The flex build to fetch here. */
export const flexModuleName = () => (hasRelaxedSimd() ? FLEX_FMA : FLEX);
