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

use wide::f32x8;

use super::{Nchw, flip, lane_sum, load8, uninit_output};

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
    use crate::kernels::testing::{naive, values};

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

    #[test]
    fn zero_weights_give_exact_zeros() {
        let s = Nchw { batch: 1, channels: 3, height: 6, width: 9 };
        let x = values(3 * 54, 7);
        assert!(conv3x3(&x, &[0.0; 81], s, 3).iter().all(|&v| v == 0.0));
        assert!(conv3x3_weight_grad(&[0.0; 162], &x, s, 3).iter().all(|&v| v == 0.0));
    }
}
