//! The depth lab's convolutions, in f64: a stack runs in f64 on the CPU backends (see
//! `model::ModelConfig::dtype`), so these take and give f64, and its 3 × 3 convs (stride 1,
//! zero padding 1, no bias), their input gradients and weight gradients come from here.
//!
//! Layers with [`WINOGRAD_PAIRS`] channel pairs or more take Winograd's F(4×4, 3×3)
//! ([`winograd`]: a quarter of the products); narrower ones the definition, vectorised over
//! columns, where the transforms would cost more than they save. Every operation is a plain
//! IEEE multiply or add, so native code and every browser give the same bits; the page's fused
//! build (the feature `fma`, where the browser has relaxed SIMD) fuses the multiply-adds of both
//! ([`super::madd`]).

// The loops index small arrays of vectors by output channel or tap on purpose: the index is the
// layout (`acc[b][half]`), and zipped iterators over two axes would hide it.
#![allow(clippy::needless_range_loop)]
use wide::f64x4;

use super::{Nchw, flip, load4, madd, winograd};

/// Input × output channels from which a layer takes Winograd's algorithm, for its conv, its
/// input gradient and its weight gradient alike: 48 (3 → 16, 16 → 3, 8 → 8 and up).
/// Measured on whole steps in Chromium (bench/ab.mjs, three runs each) against 128, for the
/// conv and its input gradient:
/// - the deep benchmark (12 blocks × 8 channels, 32², no BN): 0.913 to 0.964 of the step;
/// - deep_bn (Winograd for its 3 → 16 and 16 → 3 ends too): 0.979 to 1.000;
/// - at 36 pairs, 12 blocks × 6 channels (32²): 1.000 to 1.071, so 6 → 6 stays direct.
///
/// For the weight gradient, 8 → 8 on Winograd took 0.857 to 0.900 of the deep benchmark's step
/// against the f32 row sums of the time. (The weight gradient used to wait for 128 pairs: in
/// f32 runs, which kernels kept a deep ReLU stack on PyTorch's float32 trajectory was a matter
/// of luck at near-ties; in f64 there is no such luck to count on.)
pub const WINOGRAD_PAIRS: usize = 48;

/// `conv(x, weight)`: `x` of geometry `s` (`[N, cin, H, W]`), `weight` `[cout, cin, 3, 3]` →
/// `[N, cout, H, W]`.
pub fn conv3x3(x: &[f64], weight: &[f64], s: Nchw, cout: usize) -> Vec<f64> {
    if s.channels * cout >= WINOGRAD_PAIRS {
        winograd::conv3x3(x, weight, s, cout)
    } else {
        conv3x3_direct(x, weight, s, cout)
    }
}

/// The gradient of [`conv3x3`] with respect to its input, given the output's gradient `grad`
/// (`[N, cout, H, W]`): a convolution with the kernel flipped in space and transposed in
/// channels. → `[N, cin, H, W]`, `s` being the input's geometry.
pub fn conv3x3_input_grad(grad: &[f64], weight: &[f64], s: Nchw, cout: usize) -> Vec<f64> {
    conv3x3(grad, &flip(weight, s.channels, cout), s.with_channels(cout), s.channels)
}

/// The gradient of [`conv3x3`] with respect to its weight:
/// `dW[o, i, ky, kx] = Σ_{n, y, x} grad[n, o, y, x] · x[n, i, y + ky − 1, x + kx − 1]`.
/// `x` `[N, cin, H, W]`, `grad` `[N, cout, H, W]` → `[cout, cin, 3, 3]`.
pub fn conv3x3_weight_grad(x: &[f64], grad: &[f64], s: Nchw, cout: usize) -> Vec<f64> {
    if s.channels * cout >= WINOGRAD_PAIRS {
        winograd::conv3x3_weight_grad(x, grad, s, cout)
    } else {
        weight_grad_direct(x, grad, s, cout)
    }
}

/// Output columns per step of the direct kernels: two f64x4.
const CHUNK: usize = 8;

/// Every row of `x` (planes of `w` columns) zero-padded for the direct kernels: column c at
/// c + 1, zeros at 0 and from w + 1 on, rows of [`PaddedRows::stride`] values, so that every
/// window of a chunk is a plain slice.
struct PaddedRows {
    values: Vec<f64>,
    /// Columns rounded up to whole chunks.
    cols: usize,
    stride: usize,
}

impl PaddedRows {
    fn new(x: &[f64], w: usize) -> Self {
        let cols = w.div_ceil(CHUNK) * CHUNK;
        let stride = cols + 2;
        let mut values = vec![0.0f64; x.len() / w * stride];
        for (dst, src) in values.chunks_exact_mut(stride).zip(x.chunks_exact(w)) {
            dst[1..=w].copy_from_slice(src);
        }
        PaddedRows { values, cols, stride }
    }

    /// Row `row` (counting every row of every plane), from padded column `c0`, [`CHUNK`] + 2 wide.
    #[inline(always)]
    fn window(&self, row: usize, c0: usize) -> &[f64; CHUNK + 2] {
        self.values[row * self.stride + c0..][..CHUNK + 2].try_into().expect("a window")
    }
}

/// Values `k .. k + 4` and `k + 4 .. k + 8` of a window.
#[inline(always)]
fn halves(window: &[f64; CHUNK + 2], k: usize) -> [f64x4; 2] {
    [
        f64x4::new(std::array::from_fn(|j| window[k + j])),
        f64x4::new(std::array::from_fn(|j| window[k + 4 + j])),
    ]
}

/// [`conv3x3`] by the definition: vectorised over columns and blocked over output channels,
/// each output summed in the definition's order (input channel, then ky, then kx).
#[cfg_attr(all(target_arch = "wasm32", feature = "fma"), target_feature(enable = "relaxed-simd"))]
pub fn conv3x3_direct(x: &[f64], weight: &[f64], s: Nchw, cout: usize) -> Vec<f64> {
    let cin = s.channels;
    assert_eq!(x.len(), s.numel(), "conv64::conv3x3_direct: input size");
    assert_eq!(weight.len(), cout * cin * 9, "conv64::conv3x3_direct: weight size");
    let padded = PaddedRows::new(x, s.width);
    let mut out = vec![0.0f64; s.with_channels(cout).numel()];
    for n in 0..s.batch {
        for o0 in (0..cout).step_by(OUT_BLOCK) {
            match (cout - o0).min(OUT_BLOCK) {
                1 => direct_block::<1>(&padded, weight, s, cout, n, o0, &mut out),
                2 => direct_block::<2>(&padded, weight, s, cout, n, o0, &mut out),
                3 => direct_block::<3>(&padded, weight, s, cout, n, o0, &mut out),
                4 => direct_block::<4>(&padded, weight, s, cout, n, o0, &mut out),
                5 => direct_block::<5>(&padded, weight, s, cout, n, o0, &mut out),
                _ => direct_block::<OUT_BLOCK>(&padded, weight, s, cout, n, o0, &mut out),
            }
        }
    }
    out
}

/// Output channels summed together in [`conv3x3_direct`]. Natively (AVX2) 4 × 2 accumulators
/// of f64x4 plus the two input vectors and a tap fit the 16 vector registers. In wasm an f64x4
/// is two f64x2 and V8 spills either way; on deep_bn's 16 channels 6 measured 1 to 8% faster
/// than 4 there (bench/ab.mjs, four runs: 0.92, 0.94, 0.95, 0.99), 2 and 8 slower (1.2×, 1.3×).
#[cfg(not(target_arch = "wasm32"))]
const OUT_BLOCK: usize = 4;
#[cfg(target_arch = "wasm32")]
const OUT_BLOCK: usize = 6;

/// Output channels `o0 .. o0 + B` of image `n` of [`conv3x3_direct`], every row, in chunks of
/// [`CHUNK`] columns held in registers.
#[inline(always)]
fn direct_block<const B: usize>(
    padded: &PaddedRows,
    weight: &[f64],
    s: Nchw,
    cout: usize,
    n: usize,
    o0: usize,
    out: &mut [f64],
) {
    let (cin, h, w) = (s.channels, s.height, s.width);
    // This block's taps as [input channel][ky·3 + kx][B]: the B taps of one step side by side.
    let mut taps = vec![0.0f64; cin * 9 * B];
    for b in 0..B {
        for (k, &tap) in weight[(o0 + b) * cin * 9..][..cin * 9].iter().enumerate() {
            taps[k * B + b] = tap;
        }
    }
    for y in 0..h {
        for c0 in (0..padded.cols).step_by(CHUNK) {
            let mut acc = [[f64x4::ZERO; 2]; B];
            for i in 0..cin {
                for ky in 0..3 {
                    let Some(r) = (y + ky).checked_sub(1).filter(|&r| r < h) else {
                        continue;
                    };
                    // Output column c0 + j reads padded column c0 + j + kx.
                    let window = padded.window((n * cin + i) * h + r, c0);
                    for kx in 0..3 {
                        let v = halves(window, kx);
                        let step: &[f64; B] =
                            taps[((i * 3 + ky) * 3 + kx) * B..][..B].try_into().expect("B taps");
                        for (acc, &tap) in acc.iter_mut().zip(step) {
                            let tap = f64x4::splat(tap);
                            acc[0] = madd(tap, v[0], acc[0]);
                            acc[1] = madd(tap, v[1], acc[1]);
                        }
                    }
                }
            }
            let take = w.saturating_sub(c0).min(CHUNK);
            for (b, acc) in acc.iter().enumerate() {
                let (lo, hi) = (acc[0].to_array(), acc[1].to_array());
                let dst = &mut out[((n * cout + o0 + b) * h + y) * w + c0..][..take];
                for (k, d) in dst.iter_mut().enumerate() {
                    *d = if k < 4 { lo[k] } else { hi[k - 4] };
                }
            }
        }
    }
}

/// [`conv3x3_weight_grad`] by the definition, for the narrow layers: per weight, lanes of
/// columns summed over every row of every image, then the lanes.
#[cfg_attr(all(target_arch = "wasm32", feature = "fma"), target_feature(enable = "relaxed-simd"))]
fn weight_grad_direct(x: &[f64], grad: &[f64], s: Nchw, cout: usize) -> Vec<f64> {
    let (cin, h, w) = (s.channels, s.height, s.width);
    assert_eq!(x.len(), s.numel(), "conv64::weight_grad_direct: input size");
    assert_eq!(grad.len(), s.with_channels(cout).numel(), "conv64::weight_grad_direct: grad size");
    let padded = PaddedRows::new(x, w);
    // The gradient's rows padded with zeros to whole chunks (zero terms past the row's end).
    let cols = padded.cols;
    let mut g = vec![0.0f64; grad.len() / w * cols];
    for (dst, src) in g.chunks_exact_mut(cols).zip(grad.chunks_exact(w)) {
        dst[..w].copy_from_slice(src);
    }
    let mut dw = vec![0.0f64; cout * cin * 9];
    for o in 0..cout {
        for i in 0..cin {
            for ky in 0..3 {
                let mut acc = [[f64x4::ZERO; 2]; 3];
                for n in 0..s.batch {
                    for y in 0..h {
                        let Some(r) = (y + ky).checked_sub(1).filter(|&r| r < h) else {
                            continue;
                        };
                        let g_row = &g[((n * cout + o) * h + y) * cols..][..cols];
                        for c0 in (0..cols).step_by(CHUNK) {
                            let gv = [load4(g_row, c0), load4(g_row, c0 + 4)];
                            let window = padded.window((n * cin + i) * h + r, c0);
                            for kx in 0..3 {
                                let v = halves(window, kx);
                                acc[kx][0] = madd(gv[0], v[0], acc[kx][0]);
                                acc[kx][1] = madd(gv[1], v[1], acc[kx][1]);
                            }
                        }
                    }
                }
                for kx in 0..3 {
                    let lanes = (acc[kx][0] + acc[kx][1]).to_array();
                    dw[((o * cin + i) * 3 + ky) * 3 + kx] = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
                }
            }
        }
    }
    dw
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testing::{naive, values};

    fn values64(len: usize, seed: u32) -> Vec<f64> {
        values(len, seed).into_iter().map(f64::from).collect()
    }

    /// `dW[k] = ⟨g, conv(x, e_k)⟩`, the weight gradient by the definition.
    fn weight_grad_by_definition(x: &[f64], g: &[f64], s: Nchw, cout: usize) -> Vec<f64> {
        (0..cout * s.channels * 9)
            .map(|k| {
                let mut e = vec![0.0; cout * s.channels * 9];
                e[k] = 1.0;
                naive(x, &e, s, cout).iter().zip(g).map(|(p, q)| p * q).sum()
            })
            .collect()
    }

    /// Shapes whose Winograd tiles cross the image's edges and whose tile rows span several
    /// bands (the last one shorter), with batches; and narrow ones, which take the definition.
    const SHAPES: [(usize, usize, usize, usize, usize); 9] = [
        (1, 8, 8, 70, 5),
        (2, 5, 7, 13, 27),
        (1, 16, 3, 9, 33),
        (2, 3, 16, 37, 4),
        (1, 1, 1, 1, 1),
        (1, 8, 8, 32, 32),
        (1, 4, 4, 150, 9),
        (2, 3, 3, 5, 7),
        (1, 6, 6, 9, 17),
    ];

    /// The bound on Winograd's distance from the definition: its transforms round at about
    /// 1e-16 of terms up to 8 times the inputs' size (values below 1 here, at most 144 terms a
    /// sum, or a few thousand for a weight gradient's).
    fn close(a: f64, y: f64, terms: usize) -> bool {
        (a - y).abs() <= 1e-14 * terms as f64
    }

    #[test]
    fn every_pass_matches_the_definition() {
        // Each shape twice, the second time after the others: the Winograd kernels keep their
        // buffers from call to call (winograd.rs, `Scratch`), and what one geometry leaves
        // there must not leak into the next.
        let twice = SHAPES.iter().chain(SHAPES.iter().rev()).copied();
        for (seed, (n, cin, cout, h, w)) in twice.enumerate() {
            let s = Nchw { batch: n, channels: cin, height: h, width: w };
            let x = values64(s.numel(), 300 + seed as u32);
            let wt = values64(cout * cin * 9, 400 + seed as u32);
            let g = values64(s.with_channels(cout).numel(), 500 + seed as u32);
            let sums = naive(&x, &wt, s, cout);
            // The direct kernel sums in the definition's order: the same doubles.
            assert_eq!(conv3x3_direct(&x, &wt, s, cout), sums, "{s:?} → {cout}: direct forward");
            for (k, (&a, &y)) in conv3x3(&x, &wt, s, cout).iter().zip(&sums).enumerate() {
                assert!(close(a, y, cin * 9), "{s:?} → {cout}: forward[{k}]: {a} vs {y}");
            }
            // ⟨g, conv(x, w)⟩ is linear in x: dx[k] = ⟨g, conv(e_k, w)⟩.
            let dx = conv3x3_input_grad(&g, &wt, s, cout);
            for k in (0..x.len()).step_by(7) {
                let mut e = vec![0.0; x.len()];
                e[k] = 1.0;
                let expect: f64 = naive(&e, &wt, s, cout).iter().zip(&g).map(|(p, q)| p * q).sum();
                assert!(close(dx[k], expect, cout * 9), "{s:?} → {cout}: dx[{k}]: {} vs {expect}", dx[k]);
            }
            let dw = conv3x3_weight_grad(&x, &g, s, cout);
            let direct = weight_grad_direct(&x, &g, s, cout);
            for (k, expect) in weight_grad_by_definition(&x, &g, s, cout).into_iter().enumerate() {
                let terms = n * h * w;
                assert!(close(dw[k], expect, terms), "{s:?} → {cout}: dw[{k}]: {} vs {expect}", dw[k]);
                assert!(close(direct[k], expect, terms), "{s:?} → {cout}: direct dw[{k}]");
            }
        }
    }

    /// Where the definition's sum is exactly 0 (zero weights, a zero input, or a 3 × 3 window of
    /// zeros in every channel while the rest of the tile is not), every kernel's is exactly 0 too.
    #[test]
    fn exact_zeros_stay_exact() {
        for (cin, cout) in [(8, 8), (3, 3)] {
            let s = Nchw { batch: 1, channels: cin, height: 12, width: 13 };
            let x = values64(s.numel(), 11);
            let wt = values64(cout * cin * 9, 12);
            let zero = |v: Vec<f64>| v.iter().all(|&v| v == 0.0);
            assert!(zero(conv3x3(&x, &vec![0.0; wt.len()], s, cout)));
            assert!(zero(conv3x3(&vec![0.0; x.len()], &wt, s, cout)));
            let zeros = vec![0.0; s.with_channels(cout).numel()];
            assert!(zero(conv3x3_weight_grad(&x, &zeros, s, cout)));
            assert!(zero(conv3x3_weight_grad(&vec![0.0; x.len()], &values64(zeros.len(), 13), s, cout)));
            // Columns 0 to 6 zero in every channel but one pixel, (5, 2), in the last channel
            // only: outputs at columns 0 to 5 read zeros only, except the nine around that pixel.
            let mut half = x.clone();
            for row in half.chunks_exact_mut(s.width) {
                row[..7].fill(0.0);
            }
            half[((cin - 1) * s.height + 5) * s.width + 2] = 0.5;
            let out = conv3x3(&half, &wt, s, cout);
            let sums = naive(&half, &wt, s, cout);
            for (k, (&a, &y)) in out.iter().zip(&sums).enumerate() {
                let (row, col) = (k / s.width % s.height, k % s.width);
                if col < 6 && !((4..=6).contains(&row) && (1..=3).contains(&col)) {
                    assert_eq!((a, y), (0.0, 0.0), "{cin} → {cout}: output {k} reads zeros only");
                } else {
                    assert_ne!(a, 0.0, "{cin} → {cout}: output {k} reads a non-zero");
                }
            }
        }
    }
}
