//! Direct 3×3 convolution (stride 1, zero padding 1, no bias) and its two gradients, on plain
//! slices in NCHW order.
//!
//! burn's general conv kernels go through im2col and a GEMM, which for 3 channels and a 3×3
//! kernel is mostly bookkeeping. Here every output row is computed in chunks of [`LANES`] pixels
//! held in registers for a block of output channels, as `wide::f32x8` vectors (wasm simd128,
//! SSE or AVX natively; no `unsafe` here).
//!
//! The input is first copied into a zero-padded buffer whose rows are a whole number of chunks
//! long, so the hot loops have no edge cases.

use std::cell::RefCell;

use wide::f32x8;

/// Pixels per chunk: one `f32x8`.
const LANES: usize = 8;

#[inline(always)]
fn load(values: &[f32], at: usize) -> f32x8 {
    f32x8::new(values[at..at + LANES].try_into().expect("a whole chunk"))
}

/// Geometry shared by the three passes.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub batch: usize,
    pub height: usize,
    pub width: usize,
}

impl Shape {
    /// Width rounded up to whole chunks.
    fn chunked_width(&self) -> usize {
        self.width.div_ceil(LANES) * LANES
    }
}

thread_local! {
    /// The padded copy of the input, kept between calls: its zero border is written once per
    /// geometry, and each call only copies the interior (no allocation, no memset).
    static PADDED: RefCell<(Vec<usize>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Runs `f` on `x` `[N, channels, H, W]` copied into `[N, channels, H + 2, Wc + 2]`, zero around
/// and past the right edge, so that padded pixel `(y + 1, x + 1)` is input pixel `(y, x)`.
fn with_padded<R>(x: &[f32], channels: usize, s: Shape, f: impl FnOnce(&[f32]) -> R) -> R {
    let (pw, ph) = (s.chunked_width() + 2, s.height + 2);
    PADDED.with(|cell| {
        let (geometry, padded) = &mut *cell.borrow_mut();
        let key = vec![s.batch, channels, s.height, s.width];
        if *geometry != key {
            *geometry = key;
            padded.clear();
            padded.resize(s.batch * channels * ph * pw, 0.0);
        }
        for plane in 0..s.batch * channels {
            for y in 0..s.height {
                let src = &x[(plane * s.height + y) * s.width..][..s.width];
                padded[(plane * ph + y + 1) * pw + 1..][..s.width].copy_from_slice(src);
            }
        }
        f(padded)
    })
}

/// `y = conv(x, weight)`: `x` `[N, cin, H, W]`, `weight` `[cout, cin, 3, 3]` → `[N, cout, H, W]`.
pub fn conv3x3(x: &[f32], weight: &[f32], cin: usize, cout: usize, s: Shape) -> Vec<f32> {
    assert_eq!(x.len(), s.batch * cin * s.height * s.width, "conv3x3: input size");
    assert_eq!(weight.len(), cout * cin * 9, "conv3x3: weight size");
    let mut out = vec![0.0; s.batch * cout * s.height * s.width];
    with_padded(x, cin, s, |padded| {
        let mut o = 0;
        while o < cout {
            // Blocks of up to 3 output channels: 6 accumulator vectors, which fit the 16 registers.
            let block = (cout - o).min(3);
            match block {
                1 => conv_block::<1>(padded, weight, cin, cout, o, s, &mut out),
                2 => conv_block::<2>(padded, weight, cin, cout, o, s, &mut out),
                _ => conv_block::<3>(padded, weight, cin, cout, o, s, &mut out),
            }
            o += block;
        }
    });
    out
}

/// Output channels `o0 .. o0 + B` of [`conv3x3`].
fn conv_block<const B: usize>(
    padded: &[f32],
    weight: &[f32],
    cin: usize,
    cout: usize,
    o0: usize,
    s: Shape,
    out: &mut [f32],
) {
    let (pw, ph) = (s.chunked_width() + 2, s.height + 2);
    // taps[t][b]: weight of output channel o0 + b at tap t = (i, ky, kx).
    let taps: Vec<[f32; B]> = (0..cin * 9)
        .map(|t| std::array::from_fn(|b| weight[(o0 + b) * cin * 9 + t]))
        .collect();
    let wc = s.chunked_width();
    for n in 0..s.batch {
        for y in 0..s.height {
            for x0 in (0..wc).step_by(LANES) {
                let mut acc = [f32x8::ZERO; B];
                for i in 0..cin {
                    for ky in 0..3 {
                        let src = &padded[((n * cin + i) * ph + y + ky) * pw + x0..][..LANES + 2];
                        for kx in 0..3 {
                            let v = load(src, kx);
                            let w = &taps[i * 9 + ky * 3 + kx];
                            for b in 0..B {
                                acc[b] += f32x8::splat(w[b]) * v;
                            }
                        }
                    }
                }
                for (b, acc) in acc.iter().enumerate() {
                    let row = &mut out[((n * cout + o0 + b) * s.height + y) * s.width..][..s.width];
                    let len = (s.width - x0).min(LANES);
                    if len == LANES {
                        row[x0..x0 + LANES].copy_from_slice(&acc.to_array());
                    } else {
                        row[x0..x0 + len].copy_from_slice(&acc.to_array()[..len]);
                    }
                }
            }
        }
    }
}

/// Gradient of [`conv3x3`] with respect to its input: a convolution of the output gradient
/// with the kernel flipped in space and transposed in channels.
/// `grad` `[N, cout, H, W]`, `weight` `[cout, cin, 3, 3]` → `[N, cin, H, W]`.
pub fn conv3x3_input_grad(grad: &[f32], weight: &[f32], cin: usize, cout: usize, s: Shape) -> Vec<f32> {
    let mut flipped = vec![0.0; weight.len()];
    for o in 0..cout {
        for i in 0..cin {
            for k in 0..9 {
                flipped[(i * cout + o) * 9 + (8 - k)] = weight[(o * cin + i) * 9 + k];
            }
        }
    }
    conv3x3(grad, &flipped, cout, cin, s)
}

/// Gradient of [`conv3x3`] with respect to its weight:
/// `dW[o, i, ky, kx] = Σ_{n, y, x} grad[n, o, y, x] · x[n, i, y + ky - 1, x + kx - 1]`,
/// the blog's `∂L/∂k = Σ ∂L/∂f · input`. Each row's products are summed in f32 vectors and the
/// row totals in f64, so a 224×224 image sums no more than 28 terms in f32.
/// `x` `[N, cin, H, W]`, `grad` `[N, cout, H, W]` → `[cout, cin, 3, 3]`.
pub fn conv3x3_weight_grad(x: &[f32], grad: &[f32], cin: usize, cout: usize, s: Shape) -> Vec<f32> {
    assert_eq!(x.len(), s.batch * cin * s.height * s.width, "conv3x3_weight_grad: input size");
    assert_eq!(grad.len(), s.batch * cout * s.height * s.width, "conv3x3_weight_grad: grad size");
    let (pw, ph, wc) = (s.chunked_width() + 2, s.height + 2, s.chunked_width());
    with_padded(x, cin, s, |padded| weight_grad_padded(padded, grad, cin, cout, s, pw, ph, wc))
}

#[allow(clippy::too_many_arguments)]
fn weight_grad_padded(
    padded: &[f32],
    grad: &[f32],
    cin: usize,
    cout: usize,
    s: Shape,
    pw: usize,
    ph: usize,
    wc: usize,
) -> Vec<f32> {
    let mut totals = vec![0.0f64; cout * cin * 9];
    let mut g_row = vec![0.0f32; wc]; // the grad row, zero past the width
    for n in 0..s.batch {
        for o in 0..cout {
            for y in 0..s.height {
                g_row[..s.width]
                    .copy_from_slice(&grad[((n * cout + o) * s.height + y) * s.width..][..s.width]);
                for i in 0..cin {
                    for ky in 0..3 {
                        let src = &padded[((n * cin + i) * ph + y + ky) * pw..][..pw];
                        let mut acc = [f32x8::ZERO; 3];
                        for x0 in (0..wc).step_by(LANES) {
                            let g = load(&g_row, x0);
                            for (kx, a) in acc.iter_mut().enumerate() {
                                *a += g * load(src, x0 + kx);
                            }
                        }
                        for (kx, a) in acc.iter().enumerate() {
                            totals[((o * cin + i) * 3 + ky) * 3 + kx] +=
                                a.to_array().iter().map(|&v| v as f64).sum::<f64>();
                        }
                    }
                }
            }
        }
    }
    totals.into_iter().map(|t| t as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook definition, in f64.
    fn naive(x: &[f32], w: &[f32], cin: usize, cout: usize, s: Shape) -> Vec<f64> {
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
                                        let xi = ((n * cin + i) * s.height + sy as usize) * s.width + sx as usize;
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
        for (seed, (n, cin, cout, h, w)) in [(1, 3, 3, 1, 1), (2, 3, 3, 5, 7), (1, 2, 4, 9, 16), (3, 1, 2, 4, 17), (1, 3, 3, 16, 20)]
            .into_iter()
            .enumerate()
        {
            let s = Shape { batch: n, height: h, width: w };
            let x = values(n * cin * h * w, seed as u32);
            let wt = values(cout * cin * 9, 100 + seed as u32);
            let g = values(n * cout * h * w, 200 + seed as u32);
            close(&conv3x3(&x, &wt, cin, cout, s), &naive(&x, &wt, cin, cout, s), "forward");

            // Gradients from the definition: ⟨g, conv(x, w)⟩ is linear in x and in w.
            let dx = conv3x3_input_grad(&g, &wt, cin, cout, s);
            let dw = conv3x3_weight_grad(&x, &g, cin, cout, s);
            let dot = |a: &[f64], b: &[f32]| a.iter().zip(b).map(|(p, &q)| p * q as f64).sum::<f64>();
            for k in 0..x.len() {
                let mut e = vec![0.0; x.len()];
                e[k] = 1.0;
                let expect = dot(&naive(&e, &wt, cin, cout, s), &g);
                assert!((dx[k] as f64 - expect).abs() < 1e-4, "dx[{k}]: {} vs {expect}", dx[k]);
            }
            for k in 0..wt.len() {
                let mut e = vec![0.0; wt.len()];
                e[k] = 1.0;
                let expect = dot(&naive(&x, &e, cin, cout, s), &g);
                assert!((dw[k] as f64 - expect).abs() < 1e-4, "dw[{k}]: {} vs {expect}", dw[k]);
            }
        }
    }

    #[test]
    fn zero_weights_give_exact_zeros() {
        let s = Shape { batch: 1, height: 6, width: 9 };
        let x = values(3 * 54, 7);
        assert!(conv3x3(&x, &[0.0; 81], 3, 3, s).iter().all(|&v| v == 0.0));
        assert!(conv3x3_weight_grad(&[0.0; 162], &x, 3, 3, s).iter().all(|&v| v == 0.0));
    }
}
