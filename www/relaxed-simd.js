// Whether this browser's WebAssembly has relaxed SIMD (Chromium has it since 114; the test
// suite checks what each of its three browsers says): then the worker loads
// `initlab_flex_relaxed`, the flex module whose direct f64 convs (a stack's narrower layers; the
// wide ones take Winograd's algorithm, unfused everywhere) use `f64x2.relaxed_madd`. Its numbers
// are the plain module's, bit for bit (see `exact_mul_add` in crate/src/kernels/conv.rs); a
// browser without the instruction cannot even compile it.

/** A module of one function, `() -> v128`, that returns f64x2.relaxed_madd(0, 0, 0). */
export const PROBE = (() => {
  const splat = [0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0x14]; // f64.const 0; f64x2.splat
  const body = [0, ...splat, ...splat, ...splat, 0xfd, 0x87, 0x02, 0x0b]; // no locals; f64x2.relaxed_madd (0xfd 0x107); end
  const header = [0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
  const types = [1, 5, 1, 0x60, 0, 1, 0x7b]; // one type: () -> v128
  const functions = [3, 2, 1, 0]; // one function, of type 0
  const code = [10, body.length + 2, 1, body.length, ...body];
  return new Uint8Array([...header, ...types, ...functions, ...code]);
})();

/** `WebAssembly.validate` of [`PROBE`]: true where relaxed SIMD compiles. */
export function hasRelaxedSimd() {
  try {
    return WebAssembly.validate(PROBE);
  } catch {
    return false;
  }
}
