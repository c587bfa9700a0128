//! Direct 3×3 convolution (stride 1, zero padding 1, no bias) and its two gradients, on plain
//! slices in NCHW order.
//!
//! burn's general conv kernels go through im2col and a GEMM, which for 3 channels and a 3×3
//! kernel is mostly bookkeeping. Here every output row is computed in chunks of [`LANES`] pixels
//! held in registers for a block of output channels, as `wide::f32x8` vectors (two simd128
//! vectors in wasm; AVX2 with FMA natively, see `.cargo/config.toml`). No `unsafe` in the loops.
//!
//! The zero padding is never materialised: rows above the first and below the last are
//! skipped, and the few chunks of a row whose 3-wide window reaches past its ends read a
//! zero-padded copy of that window ([`window`]). So no padded copy of the input is made and
//! nothing is kept between calls.

// The loops index small arrays of vectors by class, chunk or output channel on purpose: the
// index is the layout (`sums[b][c]`), and zipped iterators over two axes would hide it.
#![allow(clippy::needless_range_loop)]
use std::mem::MaybeUninit;

use wide::{f32x8, f64x4};

use super::{Nchw, lane_sum, load8, uninit_output, winograd};

/// Pixels per chunk: one `f32x8`.
const LANES: usize = 8;

/// Output channels computed together: their accumulators (and, in the weight gradient, the
/// 3 × 3 of them per tap row) fit the 16 vector registers.
const CHANNEL_BLOCK: usize = 3;

/// `row[x0 .. x0 + LANES]`, zero past the row's end.
#[inline(always)]
fn chunk(row: &[f32], x0: usize) -> f32x8 {
    if x0 + LANES <= row.len() {
        load8(row, x0)
    } else {
        let mut lanes = [0.0; LANES];
        lanes[..row.len() - x0].copy_from_slice(&row[x0..]);
        f32x8::new(lanes)
    }
}

/// `row[x0 - 1 .. x0 + LANES + 1]`, the values under a 3-wide window sliding over chunk `x0`,
/// zero outside the row (the padding).
#[inline(always)]
fn window(row: &[f32], x0: usize) -> [f32; LANES + 2] {
    let mut window = [0.0; LANES + 2];
    for (k, v) in window.iter_mut().enumerate() {
        if let Some(&value) = (x0 + k).checked_sub(1).and_then(|at| row.get(at)) {
            *v = value;
        }
    }
    window
}

/// The chunks `x0` (multiples of [`LANES`]) of a row `width` wide whose windows lie inside the
/// row: `x0 ≥ 1` and `x0 + LANES < width`. The others, the first chunk and the last one or two,
/// read a zero-padded [`window`]: see [`edge_chunks`].
fn interior_chunks(width: usize) -> std::ops::Range<usize> {
    LANES..((width.saturating_sub(1) / LANES) * LANES).max(LANES)
}

/// The chunks outside [`interior_chunks`].
fn edge_chunks(width: usize) -> impl Iterator<Item = usize> {
    std::iter::once(0).chain((interior_chunks(width).end..width).step_by(LANES))
}

/// The input row `y + ky - 1` that kernel row `ky` reads for output row `y`; `None` in the
/// padding.
#[inline(always)]
fn source_row(s: Nchw, y: usize, ky: usize) -> Option<usize> {
    (y + ky).checked_sub(1).filter(|&r| r < s.height)
}

/// `y = conv(x, weight)`: `x` of geometry `s` (`[N, cin, H, W]`), `weight` `[cout, cin, 3, 3]`
/// → `[N, cout, H, W]`.
pub fn conv3x3(x: &[f32], weight: &[f32], s: Nchw, cout: usize) -> Vec<f32> {
    let cin = s.channels;
    assert_eq!(x.len(), s.numel(), "conv3x3: input size");
    assert_eq!(weight.len(), cout * cin * 9, "conv3x3: weight size");
    let write = |out: &mut [MaybeUninit<f32>]| {
        for o0 in (0..cout).step_by(CHANNEL_BLOCK) {
            match cout - o0 {
                1 => conv_block::<1>(x, weight, cin, cout, o0, s, out),
                2 => conv_block::<2>(x, weight, cin, cout, o0, s, out),
                _ => conv_block::<CHANNEL_BLOCK>(x, weight, cin, cout, o0, s, out),
            }
        }
    };
    // SAFETY: the blocks cover every output channel, and `conv_block` writes every pixel of
    // every image in its channels.
    unsafe { uninit_output(s.with_channels(cout).numel(), write) }
}

/// Chunks of one output row computed together in the interior: 3 × 3 accumulators, enough
/// independent sums to keep both FMA units busy.
/// (In wasm, where an f32x8 is two 128-bit registers and there is no FMA, 1, 2 and 3 chunks
/// measured within 5% of each other.)
const CHUNKS: usize = 3;

/// Output channels `o0 .. o0 + B` of [`conv3x3`].
fn conv_block<const B: usize>(
    x: &[f32],
    weight: &[f32],
    cin: usize,
    cout: usize,
    o0: usize,
    s: Nchw,
    out: &mut [MaybeUninit<f32>],
) {
    let (w, plane) = (s.width, s.plane());
    // taps[t][b]: weight of output channel o0 + b at tap t = (i·3 + ky)·3 + kx.
    let taps: Vec<[f32x8; B]> =
        (0..cin * 9).map(|t| std::array::from_fn(|b| f32x8::splat(weight[(o0 + b) * cin * 9 + t]))).collect();
    // The zero-padded windows of an edge chunk, one per (i, ky).
    let mut edge = vec![[0.0; LANES + 2]; cin * 3];
    let interior = interior_chunks(w);
    for n in 0..s.batch {
        let image = &x[n * cin * plane..][..cin * plane];
        for y in 0..s.height {
            let row = |i: usize, r: usize| &image[i * plane + r * w..][..w];
            let mut store = |x0: usize, sums: [f32x8; B]| {
                let len = (w - x0).min(LANES);
                for (b, sum) in sums.iter().enumerate() {
                    let at = ((n * cout + o0 + b) * s.height + y) * w + x0;
                    if len == LANES {
                        // A fixed length: one vector store, where a slice of `len` calls memcpy.
                        out[at..at + LANES].write_copy_of_slice(&sum.to_array());
                    } else {
                        out[at..at + len].write_copy_of_slice(&sum.to_array()[..len]);
                    }
                }
            };
            let mut x0 = interior.start;
            while x0 + CHUNKS * LANES <= interior.end {
                let sums = conv_chunks::<B, CHUNKS>(&taps, cin, |i, ky| {
                    source_row(s, y, ky).map(|r| &row(i, r)[x0 - 1..])
                });
                for c in 0..CHUNKS {
                    store(x0 + c * LANES, std::array::from_fn(|b| sums[b][c]));
                }
                x0 += CHUNKS * LANES;
            }
            for x0 in (x0..interior.end).step_by(LANES) {
                let sums = conv_chunks::<B, 1>(&taps, cin, |i, ky| {
                    source_row(s, y, ky).map(|r| &row(i, r)[x0 - 1..])
                });
                store(x0, std::array::from_fn(|b| sums[b][0]));
            }
            for x0 in edge_chunks(w) {
                for (k, window_k) in edge.iter_mut().enumerate() {
                    if let Some(r) = source_row(s, y, k % 3) {
                        *window_k = window(row(k / 3, r), x0);
                    }
                }
                let sums = conv_chunks::<B, 1>(&taps, cin, |i, ky| {
                    source_row(s, y, ky).map(|_| &edge[i * 3 + ky][..])
                });
                store(x0, std::array::from_fn(|b| sums[b][0]));
            }
        }
    }
}

/// The sums of `C` adjacent chunks of one output row for `B` output channels: `window(i, ky)`
/// gives the input row under kernel row `ky` of input channel `i`, starting one pixel left of
/// the first chunk, or `None` for a row of the padding.
#[inline(always)]
fn conv_chunks<'a, const B: usize, const C: usize>(
    taps: &[[f32x8; B]],
    cin: usize,
    window: impl Fn(usize, usize) -> Option<&'a [f32]>,
) -> [[f32x8; C]; B] {
    let mut acc = [[f32x8::ZERO; C]; B];
    for i in 0..cin {
        for ky in 0..3 {
            let Some(src) = window(i, ky) else { continue };
            let src = &src[..C * LANES + 2];
            for kx in 0..3 {
                let tap = &taps[(i * 3 + ky) * 3 + kx];
                for c in 0..C {
                    let v = load8(src, c * LANES + kx);
                    for b in 0..B {
                        acc[b][c] = v.mul_add(tap[b], acc[b][c]);
                    }
                }
            }
        }
    }
    acc
}

/// Gradient of [`conv3x3`] with respect to its input: a convolution of the output gradient
/// with the kernel flipped in space and transposed in channels.
/// `grad` `[N, cout, H, W]`, `weight` `[cout, cin, 3, 3]` → `[N, cin, H, W]`.
pub fn conv3x3_input_grad(grad: &[f32], weight: &[f32], s: Nchw, cout: usize) -> Vec<f32> {
    conv3x3(grad, &flip(weight, s.channels, cout), s.with_channels(cout), s.channels)
}

/// [`conv3x3`] with every output summed in f64 (products of f32 inputs are exact in f64), then
/// rounded once to f32. The depth lab's stacks run on this: a deep net without BatchNorm
/// amplifies float32 rounding until a pre-activation within an ulp or two of zero changes
/// sign and the run parts from PyTorch's. Summing in f64 keeps the trajectory closer to the
/// exact one than PyTorch's own float32 is, which is what the fixtures' tolerance (10× PyTorch's
/// float32-vs-float64 gap) measures: on 33 PyTorch fixtures of deep ReLU stacks, 32 pass in
/// f64 against 29 with the f32 sums.
///
/// Layers with [`WINOGRAD_PAIRS`] channel pairs or more take Winograd's F(4×4, 3×3) in f64
/// ([`winograd::conv3x3`]: a quarter of the products, within an ulp of the definition rounded
/// once); narrower ones the direct sums of [`conv3x3_direct_f64`], where the transforms would
/// cost more than they save.
pub fn conv3x3_exact_sums(x: &[f32], weight: &[f32], s: Nchw, cout: usize) -> Vec<f32> {
    if s.channels * cout >= WINOGRAD_PAIRS {
        winograd::conv3x3(x, weight, s, cout)
    } else {
        conv3x3_direct_f64(x, weight, s, cout)
    }
}

/// Input × output channels from which a stack's conv and its input gradient
/// ([`conv3x3_exact_sums`]) take Winograd's algorithm: 48 (3 → 16, 16 → 3, 8 → 8 and up).
/// Measured on whole steps in Chromium (bench/ab.mjs, the relaxed module, three runs each)
/// against 128, after the convolution came to take four tiles through at a time:
/// - the deep benchmark (12 blocks × 8 channels, 32², no BN): 0.913 to 0.964 of the step;
/// - deep_bn (Winograd for its 3 → 16 and 16 → 3 ends too): 0.979 to 1.000;
/// - at 36 pairs, 12 blocks × 6 channels (32²): 1.000 to 1.071, so 6 → 6 stays direct.
///
/// Natively the deep benchmark is about 4% slower this way, still under half of PyTorch's
/// step; one threshold keeps every target on the same bits. (Before the four-tile convolution
/// Winograd lost below 128 pairs: 1.15 to 1.23 of the deep step at 64.) Parity: see
/// [`WINOGRAD_WEIGHT_GRAD_PAIRS`].
pub const WINOGRAD_PAIRS: usize = 48;

/// Input × output channels from which a stack's weight gradient
/// ([`conv3x3_weight_grad_exact_sums`]) takes Winograd's algorithm: 128, where it is faster
/// than the f32 row sums (0.77 of their time at 12 → 12, 0.75 at 16 → 16 in Chromium). At
/// 8 → 8 it would take another 0.857 to 0.900 off the deep benchmark's step in Chromium, but
/// parity says no. Replayed with `initlab replay --check`: 45 PyTorch stack fixtures, the 16 in
/// `tests/fixtures` and 29 of 8 to 24 channels made for this check with
/// `bench/make_stack_fixture.py` (depth 2 to 12, with and without BN, relu, tanh and linear,
/// five initialisers, both targets):
/// - this threshold at 128, the conv's at 128 (the kernels before), 64 or 48: 44 pass, the same
///   one failing each time (8 × 16 channels with BN, input_argmax, at step 15);
/// - this threshold at 64 or 48: 42 pass; the shared `stack_kaiming_relu_deep` (that very
///   deep network) and one more 8-channel stack fail too.
///
/// The weight gradients themselves are within an ulp of the exact sums on that network's shape
/// (the f32 row sums are not quite); but a ReLU near zero can flip either way, and one flipped
/// mask moves a gradient norm by far more than the tolerance, so which kernels keep a deep ReLU
/// stack on PyTorch's trajectory is an empirical matter, and these are the counts.
pub const WINOGRAD_WEIGHT_GRAD_PAIRS: usize = 128;

/// [`conv3x3_exact_sums`] by the definition: vectorised over columns (f64x4) and blocked over
/// output channels; the summation order per output is the definition's, so nothing depends on
/// them.
// The loops live here (ExactRows::block is inlined), so the relaxed-SIMD instruction is too.
#[cfg_attr(all(target_arch = "wasm32", feature = "relaxed-simd"), target_feature(enable = "relaxed-simd"))]
pub fn conv3x3_direct_f64(x: &[f32], weight: &[f32], s: Nchw, cout: usize) -> Vec<f32> {
    let cin = s.channels;
    assert_eq!(x.len(), s.numel(), "conv3x3_direct_f64: input size");
    assert_eq!(weight.len(), cout * cin * 9, "conv3x3_direct_f64: weight size");
    let (h, w) = (s.height, s.width);
    // The input in f64, each row zero-padded: column c of the row sits at c + 1, zeros at 0 and
    // from w + 1 to the end of the last chunk, so every window is a plain slice.
    let cols = w.div_ceil(EXACT_CHUNK) * EXACT_CHUNK;
    let stride = cols + 2;
    let mut padded = vec![0.0f64; s.batch * cin * h * stride];
    for (dst, src) in padded.chunks_exact_mut(stride).zip(x.chunks_exact(w)) {
        dst[1..=w].iter_mut().zip(src).for_each(|(d, &v)| *d = v as f64);
    }
    let taps: Vec<f64> = weight.iter().map(|&v| v as f64).collect();
    let mut out = vec![0.0f32; s.with_channels(cout).numel()];
    let rows = ExactRows { padded: &padded, taps: &taps, cin, h, w, stride, cols };
    for n in 0..s.batch {
        for o0 in (0..cout).step_by(EXACT_BLOCK) {
            let plane = |o: usize| ((n * cout + o) * h) * w;
            match (cout - o0).min(EXACT_BLOCK) {
                1 => rows.block::<1>(n, o0, &mut out, plane),
                2 => rows.block::<2>(n, o0, &mut out, plane),
                3 => rows.block::<3>(n, o0, &mut out, plane),
                4 => rows.block::<4>(n, o0, &mut out, plane),
                5 => rows.block::<5>(n, o0, &mut out, plane),
                _ => rows.block::<EXACT_BLOCK>(n, o0, &mut out, plane),
            }
        }
    }
    out
}

/// Output channels summed together in [`conv3x3_direct_f64`]. Natively (AVX2) 4 × 2
/// accumulators of f64x4 plus the two input vectors and a tap fit the 16 vector registers. In
/// wasm an f64x4 is two f64x2 and V8 spills either way; on deep_bn's 16 channels 6 measured
/// 1 to 8% faster than 4 there (bench/ab.mjs, four runs: 0.92, 0.94, 0.95, 0.99), 2 and 8
/// slower (1.2×, 1.3×).
#[cfg(not(target_arch = "wasm32"))]
const EXACT_BLOCK: usize = 4;
#[cfg(target_arch = "wasm32")]
const EXACT_BLOCK: usize = 6;
/// Output columns per step of [`conv3x3_direct_f64`]: two f64x4.
const EXACT_CHUNK: usize = 8;

/// `a·b + c` for [`conv3x3_direct_f64`], whose products (of two f32) are exact in f64: fused
/// or not, the result is the same double, so the module built with the feature `relaxed-simd`
/// (wasm's `f64x2.relaxed_madd`, one instruction for plain SIMD's multiply and add) gives the
/// same numbers as the plain one, bit for bit. The feature is only for that module
/// (`initlab_flex_relaxed`, which the worker loads where the browser validates relaxed SIMD):
/// a module that contains the instruction does not load in a browser without it.
#[inline(always)]
fn exact_mul_add(a: f64x4, b: f64x4, c: f64x4) -> f64x4 {
    #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
    {
        relaxed_mul_add(a, b, c)
    }
    #[cfg(not(all(target_arch = "wasm32", feature = "relaxed-simd")))]
    {
        a.mul_add(b, c)
    }
}

/// [`exact_mul_add`] in relaxed SIMD. In wasm, wide's f64x4 is two v128 side by side (`repr(C)`
/// of two `repr(transparent)` halves), so it is reinterpreted, not copied.
#[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
#[inline]
#[target_feature(enable = "relaxed-simd")]
fn relaxed_mul_add(a: f64x4, b: f64x4, c: f64x4) -> f64x4 {
    use core::arch::wasm32::{f64x2_relaxed_madd, v128};
    // SAFETY: both types are 32 bytes of plain floats (see above), every bit pattern valid.
    let [a, b, c]: [[v128; 2]; 3] = unsafe { core::mem::transmute([a, b, c]) };
    let sum = [f64x2_relaxed_madd(a[0], b[0], c[0]), f64x2_relaxed_madd(a[1], b[1], c[1])];
    // SAFETY: as above.
    unsafe { core::mem::transmute::<[v128; 2], f64x4>(sum) }
}

/// The f64 input and taps of one [`conv3x3_direct_f64`] call.
struct ExactRows<'a> {
    padded: &'a [f64],
    taps: &'a [f64],
    cin: usize,
    h: usize,
    w: usize,
    stride: usize,
    cols: usize,
}

impl ExactRows<'_> {
    /// Output channels `o0 .. o0 + B` of image `n`, every row, in chunks of [`EXACT_CHUNK`]
    /// columns held in registers. Each output is summed in the definition's order (input
    /// channel, then ky, then kx) and the products of two f32 are exact in f64, so the result
    /// is the definition rounded once, with or without FMA.
    #[inline(always)]
    fn block<const B: usize>(&self, n: usize, o0: usize, out: &mut [f32], plane: impl Fn(usize) -> usize) {
        let (cin, h, w, stride) = (self.cin, self.h, self.w, self.stride);
        // This block's taps as [input channel][ky·3 + kx][B]: the B taps of one step side by side.
        let mut taps = vec![0.0f64; cin * 9 * B];
        for b in 0..B {
            for (k, &tap) in self.taps[(o0 + b) * cin * 9..][..cin * 9].iter().enumerate() {
                taps[k * B + b] = tap;
            }
        }
        for y in 0..h {
            for c0 in (0..self.cols).step_by(EXACT_CHUNK) {
                let mut acc = [[f64x4::splat(0.0); 2]; B];
                for i in 0..cin {
                    for ky in 0..3 {
                        let Some(r) = (y + ky).checked_sub(1).filter(|&r| r < h) else {
                            continue;
                        };
                        // The chunk's window: output column c0 + j reads padded column c0 + j + kx.
                        let at = ((n * cin + i) * h + r) * stride + c0;
                        let window: &[f64; EXACT_CHUNK + 2] =
                            self.padded[at..at + EXACT_CHUNK + 2].try_into().expect("a window");
                        for kx in 0..3 {
                            let v0 = f64x4::new(std::array::from_fn(|j| window[kx + j]));
                            let v1 = f64x4::new(std::array::from_fn(|j| window[kx + 4 + j]));
                            let step: &[f64; B] =
                                taps[((i * 3 + ky) * 3 + kx) * B..][..B].try_into().expect("B taps");
                            for (acc, &tap) in acc.iter_mut().zip(step) {
                                let tap = f64x4::splat(tap);
                                acc[0] = exact_mul_add(tap, v0, acc[0]);
                                acc[1] = exact_mul_add(tap, v1, acc[1]);
                            }
                        }
                    }
                }
                let take = w.saturating_sub(c0).min(EXACT_CHUNK);
                for (b, acc) in acc.iter().enumerate() {
                    let (lo, hi) = (acc[0].to_array(), acc[1].to_array());
                    let dst = &mut out[plane(o0 + b) + y * w + c0..][..take];
                    for (k, d) in dst.iter_mut().enumerate() {
                        *d = if k < 4 { lo[k] } else { hi[k - 4] } as f32;
                    }
                }
            }
        }
    }
}

/// [`conv3x3_input_grad`] with [`conv3x3_exact_sums`].
pub fn conv3x3_input_grad_exact_sums(grad: &[f32], weight: &[f32], s: Nchw, cout: usize) -> Vec<f32> {
    conv3x3_exact_sums(grad, &flip(weight, s.channels, cout), s.with_channels(cout), s.channels)
}

/// The kernel flipped in space and transposed in channels: `[cout, cin, 3, 3]` → `[cin, cout, 3, 3]`.
fn flip(weight: &[f32], cin: usize, cout: usize) -> Vec<f32> {
    let mut flipped = vec![0.0; weight.len()];
    for o in 0..cout {
        for i in 0..cin {
            for k in 0..9 {
                flipped[(i * cout + o) * 9 + (8 - k)] = weight[(o * cin + i) * 9 + k];
            }
        }
    }
    flipped
}

/// The weight gradient of a stack's conv (`exact_sums`): Winograd's, summed in f64
/// ([`winograd::conv3x3_weight_grad`]), from [`WINOGRAD_WEIGHT_GRAD_PAIRS`] channel pairs on;
/// [`conv3x3_weight_grad`] below, whose f32 row sums are cheaper there than the transforms.
pub fn conv3x3_weight_grad_exact_sums(x: &[f32], grad: &[f32], s: Nchw, cout: usize) -> Vec<f32> {
    if s.channels * cout >= WINOGRAD_WEIGHT_GRAD_PAIRS {
        winograd::conv3x3_weight_grad(x, grad, s, cout)
    } else {
        conv3x3_weight_grad(x, grad, s, cout)
    }
}

/// `acc[b][kx] += g[b] · v[kx]`: one chunk's products for 3 output channels × 3 taps.
#[inline(always)]
fn add_products<const B: usize>(acc: &mut [[f32x8; 3]; B], g: [f32x8; B], v: [f32x8; 3]) {
    for b in 0..B {
        for kx in 0..3 {
            acc[b][kx] = g[b].mul_add(v[kx], acc[b][kx]);
        }
    }
}

/// Rows whose sums are added up in f32 before they go into the f64 totals.
const ROWS_PER_BAND: usize = 8;

/// Gradient of [`conv3x3`] with respect to its weight:
/// `dW[o, i, ky, kx] = Σ_{n, y, x} grad[n, o, y, x] · x[n, i, y + ky - 1, x + kx - 1]`,
/// the blog's `∂L/∂k = Σ ∂L/∂f · input`.
///
/// Summation, for accuracy: each lane sums one row's products in f32 (28 at 224 wide), bands of
/// [`ROWS_PER_BAND`] row sums are added in f32, and the band totals in f64.
/// `x` `[N, cin, H, W]`, `grad` `[N, cout, H, W]` → `[cout, cin, 3, 3]`.
pub fn conv3x3_weight_grad(x: &[f32], grad: &[f32], s: Nchw, cout: usize) -> Vec<f32> {
    let cin = s.channels;
    assert_eq!(x.len(), s.numel(), "conv3x3_weight_grad: input size");
    assert_eq!(grad.len(), s.with_channels(cout).numel(), "conv3x3_weight_grad: grad size");
    let mut totals = vec![0.0f64; cout * cin * 9];
    for o0 in (0..cout).step_by(CHANNEL_BLOCK) {
        match cout - o0 {
            1 => weight_grad_block::<1>(x, grad, cin, cout, o0, s, &mut totals),
            2 => weight_grad_block::<2>(x, grad, cin, cout, o0, s, &mut totals),
            _ => weight_grad_block::<CHANNEL_BLOCK>(x, grad, cin, cout, o0, s, &mut totals),
        }
    }
    totals.into_iter().map(|t| t as f32).collect()
}

/// Output channels `o0 .. o0 + B` of [`conv3x3_weight_grad`], added into `totals`.
fn weight_grad_block<const B: usize>(
    x: &[f32],
    grad: &[f32],
    cin: usize,
    cout: usize,
    o0: usize,
    s: Nchw,
    totals: &mut [f64],
) {
    let (w, plane) = (s.width, s.plane());
    let interior = interior_chunks(w);
    // band[(i·3 + ky)·B + b][kx]: the current band's sums for weight (o0 + b, i, ky, kx).
    let mut band = vec![[f32x8::ZERO; 3]; cin * 3 * B];
    let flush = |band: &mut [[f32x8; 3]], totals: &mut [f64]| {
        for (k, sums) in band.iter_mut().enumerate() {
            let (i_ky, b) = (k / B, k % B);
            for (kx, sum) in sums.iter_mut().enumerate() {
                totals[((o0 + b) * cin * 3 + i_ky) * 3 + kx] += lane_sum(*sum);
                *sum = f32x8::ZERO;
            }
        }
    };
    for n in 0..s.batch {
        let image = &x[n * cin * plane..][..cin * plane];
        let grads = &grad[(n * cout + o0) * plane..][..B * plane];
        for y in 0..s.height {
            let g_rows: [&[f32]; B] = std::array::from_fn(|b| &grads[b * plane + y * w..][..w]);
            for i in 0..cin {
                for ky in 0..3 {
                    let Some(r) = source_row(s, y, ky) else {
                        continue;
                    };
                    let row = &image[i * plane + r * w..][..w];
                    let mut acc = [[f32x8::ZERO; 3]; B];
                    for x0 in interior.clone().step_by(LANES) {
                        let src = &row[x0 - 1..][..LANES + 2];
                        let v = [load8(src, 0), load8(src, 1), load8(src, 2)];
                        let g = std::array::from_fn(|b| load8(g_rows[b], x0));
                        add_products(&mut acc, g, v);
                    }
                    for x0 in edge_chunks(w) {
                        let src = window(row, x0);
                        let v = [load8(&src, 0), load8(&src, 1), load8(&src, 2)];
                        let g = std::array::from_fn(|b| chunk(g_rows[b], x0));
                        add_products(&mut acc, g, v);
                    }
                    let sums = &mut band[(i * 3 + ky) * B..][..B];
                    for (sums, acc) in sums.iter_mut().zip(&acc) {
                        for (sum, acc) in sums.iter_mut().zip(acc) {
                            *sum += *acc;
                        }
                    }
                }
            }
            if (y + 1) % ROWS_PER_BAND == 0 {
                flush(&mut band, totals);
            }
        }
        flush(&mut band, totals);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook definition, in f64.
    fn naive(x: &[f32], w: &[f32], s: Nchw, cout: usize) -> Vec<f64> {
        let cin = s.channels;
        let (h, wd) = (s.height as isize, s.width as isize);
        let mut out = vec![0.0; s.batch * cout * s.height * s.width];
        for n in 0..s.batch {
            for o in 0..cout {
                for y in 0..h {
                    for xx in 0..wd {
                        let mut sum = 0.0;
                        for i in 0..cin {
                            for ky in 0..3 {
                                for kx in 0..3 {
                                    let (sy, sx) = (y + ky as isize - 1, xx + kx as isize - 1);
                                    if sy >= 0 && sy < h && sx >= 0 && sx < wd {
                                        let xi =
                                            ((n * cin + i) * s.height + sy as usize) * s.width + sx as usize;
                                        sum += x[xi] as f64 * w[(o * cin + i) * 9 + ky * 3 + kx] as f64;
                                    }
                                }
                            }
                        }
                        out[((n * cout + o) * s.height + y as usize) * s.width + xx as usize] = sum;
                    }
                }
            }
        }
        out
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        // A small LCG: deterministic, no dependency, values in [-1, 1).
        let mut state = seed.wrapping_mul(2654435761).wrapping_add(1);
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(1664525).wrapping_add(1013904223);
                (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            })
            .collect()
    }

    fn close(a: &[f32], b: &[f64], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}: length");
        for (k, (&x, &y)) in a.iter().zip(b).enumerate() {
            assert!((x as f64 - y).abs() <= 1e-5 * (1.0 + y.abs()), "{what}[{k}]: {x} vs {y}");
        }
    }

    #[test]
    fn matches_the_definition_on_awkward_shapes() {
        for (seed, (n, cin, cout, h, w)) in [
            (1, 3, 3, 1, 1),
            (2, 3, 3, 5, 7),
            (1, 2, 4, 9, 16),
            (3, 1, 2, 4, 17),
            (1, 3, 3, 16, 20),
            (1, 3, 3, 10, 40),
            (2, 3, 2, 9, 50),
            (1, 8, 5, 6, 9),
            (2, 16, 9, 5, 8),
            (1, 4, 3, 3, 65),
        ]
        .into_iter()
        .enumerate()
        {
            let s = Nchw { batch: n, channels: cin, height: h, width: w };
            let x = values(n * cin * h * w, seed as u32);
            let wt = values(cout * cin * 9, 100 + seed as u32);
            let g = values(n * cout * h * w, 200 + seed as u32);
            close(&conv3x3(&x, &wt, s, cout), &naive(&x, &wt, s, cout), "forward");
            // The direct f64 sums are the definition rounded once; Winograd's are off the exact
            // sum by its rounding to f32 (half an ulp) and the transforms' f64 rounding (~1e-14
            // of the terms, here at most 144 of them, each below 1).
            let sums = naive(&x, &wt, s, cout);
            let exact: Vec<f32> = sums.iter().map(|&v| v as f32).collect();
            assert_eq!(conv3x3_direct_f64(&x, &wt, s, cout), exact, "forward, f64 sums");
            for (k, (&a, &y)) in winograd::conv3x3(&x, &wt, s, cout).iter().zip(&sums).enumerate() {
                let bound = (y.abs() as f32 * f32::EPSILON) as f64 / 2.0 + 1e-11;
                assert!((a as f64 - y).abs() <= bound, "forward, Winograd, [{k}]: {a} vs {y}");
            }
            let g_exact = conv3x3_input_grad_exact_sums(&g, &wt, s, cout);
            close(
                &g_exact,
                &conv3x3_input_grad(&g, &wt, s, cout).iter().map(|&v| v as f64).collect::<Vec<_>>(),
                "input grad, f64 sums",
            );

            // Gradients from the definition: ⟨g, conv(x, w)⟩ is linear in x and in w.
            let dx = conv3x3_input_grad(&g, &wt, s, cout);
            let dw = conv3x3_weight_grad(&x, &g, s, cout);
            let dot = |a: &[f64], b: &[f32]| a.iter().zip(b).map(|(p, &q)| p * q as f64).sum::<f64>();
            for k in 0..x.len() {
                let mut e = vec![0.0; x.len()];
                e[k] = 1.0;
                let expect = dot(&naive(&e, &wt, s, cout), &g);
                assert!((dx[k] as f64 - expect).abs() < 1e-4, "dx[{k}]: {} vs {expect}", dx[k]);
            }
            for k in 0..wt.len() {
                let mut e = vec![0.0; wt.len()];
                e[k] = 1.0;
                let expect = dot(&naive(&x, &e, s, cout), &g);
                assert!((dw[k] as f64 - expect).abs() < 1e-4, "dw[{k}]: {} vs {expect}", dw[k]);
            }
        }
    }

    /// Winograd's convolution and weight gradient against the definition, on shapes whose
    /// tiles cross the image's edges and whose tile rows span several bands (the last one
    /// shorter), with batches; and its exact zeros.
    #[test]
    fn winograd_matches_the_definition() {
        let shapes = [
            (1, 8, 8, 70, 5),
            (2, 5, 7, 13, 27),
            (1, 16, 3, 9, 33),
            (2, 3, 16, 37, 4),
            (1, 1, 1, 1, 1),
            (1, 8, 8, 32, 32),
            (1, 4, 4, 150, 9),
        ];
        // Each shape twice, the second time after the others: the kernels keep their buffers
        // from call to call (winograd.rs, `Scratch`), and what one geometry leaves there must
        // not leak into the next.
        let twice = shapes.iter().chain(shapes.iter().rev()).copied();
        for (seed, (n, cin, cout, h, w)) in twice.enumerate() {
            let s = Nchw { batch: n, channels: cin, height: h, width: w };
            let x = values(s.numel(), 300 + seed as u32);
            let wt = values(cout * cin * 9, 400 + seed as u32);
            let g = values(s.with_channels(cout).numel(), 500 + seed as u32);
            let sums = naive(&x, &wt, s, cout);
            for (k, (&a, &y)) in winograd::conv3x3(&x, &wt, s, cout).iter().zip(&sums).enumerate() {
                let bound = (y.abs() as f32 * f32::EPSILON) as f64 / 2.0 + 1e-11;
                assert!((a as f64 - y).abs() <= bound, "{s:?} → {cout}: forward[{k}]: {a} vs {y}");
            }
            // dW[k] = ⟨g, conv(x, e_k)⟩, in f64.
            let dw = winograd::conv3x3_weight_grad(&x, &g, s, cout);
            for k in 0..wt.len() {
                let mut e = vec![0.0; wt.len()];
                e[k] = 1.0;
                let expect: f64 = naive(&x, &e, s, cout).iter().zip(&g).map(|(p, &q)| p * q as f64).sum();
                let bound = (expect.abs() as f32 * f32::EPSILON) as f64 / 2.0 + 1e-9;
                assert!(
                    (dw[k] as f64 - expect).abs() <= bound,
                    "{s:?} → {cout}: dw[{k}]: {} vs {expect}",
                    dw[k]
                );
            }
        }
    }

    /// Where the definition's sum is exactly 0 (zero weights, a zero input, or a 3 × 3 window of
    /// zeros in every channel while the rest of the tile is not), Winograd's is exactly 0 too.
    #[test]
    fn winograd_keeps_exact_zeros() {
        let (cin, cout) = (8, 8);
        let s = Nchw { batch: 1, channels: cin, height: 12, width: 13 };
        let x = values(s.numel(), 11);
        let wt = values(cout * cin * 9, 12);
        assert!(winograd::conv3x3(&x, &vec![0.0; wt.len()], s, cout).iter().all(|&v| v == 0.0));
        assert!(winograd::conv3x3(&vec![0.0; x.len()], &wt, s, cout).iter().all(|&v| v == 0.0));
        let zeros = vec![0.0; s.with_channels(cout).numel()];
        assert!(winograd::conv3x3_weight_grad(&x, &zeros, s, cout).iter().all(|&v| v == 0.0));
        assert!(
            winograd::conv3x3_weight_grad(&vec![0.0; x.len()], &values(zeros.len(), 13), s, cout)
                .iter()
                .all(|&v| v == 0.0)
        );
        // Columns 0 to 6 zero in every channel but one pixel, (5, 2), in the last channel only:
        // outputs at columns 0 to 5 read zeros only, except the nine around that pixel.
        let mut half = x.clone();
        for row in half.chunks_exact_mut(s.width) {
            row[..7].fill(0.0);
        }
        half[((cin - 1) * s.height + 5) * s.width + 2] = 0.5;
        let out = winograd::conv3x3(&half, &wt, s, cout);
        let sums = naive(&half, &wt, s, cout);
        for (k, (&a, &y)) in out.iter().zip(&sums).enumerate() {
            let (row, col) = (k / s.width % s.height, k % s.width);
            if col < 6 && !((4..=6).contains(&row) && (1..=3).contains(&col)) {
                assert_eq!((a, y), (0.0, 0.0), "output {k} reads zeros only");
            } else {
                assert_ne!(a, 0.0, "output {k} reads a non-zero");
            }
        }
    }

    #[test]
    fn zero_weights_give_exact_zeros() {
        let s = Nchw { batch: 1, channels: 3, height: 6, width: 9 };
        let x = values(3 * 54, 7);
        assert!(conv3x3(&x, &[0.0; 81], s, 3).iter().all(|&v| v == 0.0));
        assert!(conv3x3_weight_grad(&[0.0; 162], &x, s, 3).iter().all(|&v| v == 0.0));
    }
}
