//! Train-mode BatchNorm, optionally followed by ReLU (`RELU`), forward and backward, on NCHW slices.
//!
//! Statistics are per channel over batch × height × width with the biased variance, summed in
//! f32 vectors within blocks of [`SUM_BLOCK`] values and in f64 across blocks (PyTorch's CPU kernel
//! sums in double). The output is `x·α + β'` with `α = γ/√(var + ε)` and `β' = β − mean·α`,
//! PyTorch's own form.
//!
//! Zero in, zero out: an all-zero channel has mean 0 and variance 0, so the output is exactly
//! `β` = 0; ReLU passes no gradient at exactly 0, so nothing flows back.

use std::mem::MaybeUninit;

use wide::f32x8;

use super::{Nchw, lane_sum, load8, uninit_output};

/// Values summed in f32 before the running total takes them in f64.
const SUM_BLOCK: usize = 256;

/// `[Σ f₀, Σ f₁, …]` over `a` (and `b`, paired), vectorised: f32x8 within blocks, f64 across
/// them.
fn sums<const K: usize>(a: &[f32], b: &[f32], f: impl Fn(f32x8, f32x8) -> [f32x8; K]) -> [f64; K] {
    let mut total = [0.0f64; K];
    for (ca, cb) in a.chunks(SUM_BLOCK).zip(b.chunks(SUM_BLOCK)) {
        let mut acc = [f32x8::ZERO; K];
        let whole = ca.len() / 8 * 8;
        for i in (0..whole).step_by(8) {
            let (va, vb) = (load8(ca, i), load8(cb, i));
            for (acc, term) in acc.iter_mut().zip(f(va, vb)) {
                *acc += term;
            }
        }
        for (t, acc) in total.iter_mut().zip(acc) {
            *t += lane_sum(acc);
        }
        for i in whole..ca.len() {
            let terms = f(f32x8::splat(ca[i]), f32x8::splat(cb[i]));
            for (t, term) in total.iter_mut().zip(terms) {
                *t += term.to_array()[0] as f64;
            }
        }
    }
    total
}

fn check(x: usize, gamma: usize, beta: usize, dims: Nchw) {
    assert_eq!(x, dims.numel(), "batch_norm: input size");
    assert!(gamma == dims.channels && beta == dims.channels, "batch_norm: one γ and β per channel");
}

/// Each channel's mean and biased variance over the batch: what [`batch_norm`] normalises by
/// and its backward pass takes again. Two passes: the variance from the centred values, as
/// PyTorch does.
pub fn stats(x: &[f32], dims: Nchw) -> (Vec<f64>, Vec<f64>) {
    let Nchw { batch, channels, .. } = dims;
    let plane = dims.plane();
    let count = (batch * plane) as f64;
    let planes = |c: usize| (0..batch).map(move |n| &x[(n * channels + c) * plane..][..plane]);
    (0..channels)
        .map(|c| {
            let mean = planes(c).map(|p| sums(p, p, |v, _| [v])[0]).sum::<f64>() / count;
            let m = f32x8::splat(mean as f32);
            (mean, planes(c).map(|p| sums(p, p, |v, _| [(v - m) * (v - m)])[0]).sum::<f64>() / count)
        })
        .unzip()
}

/// The normalisation of one batch in affine form, y = x·scale + shift per channel: `scale` and
/// `shift` in the kernels' float `E` (f32 for the seed, f64 for a stack), computed in f64.
struct Stats<E> {
    mean: Vec<f64>,
    inv_std: Vec<f64>,
    scale: Vec<E>,
    shift: Vec<E>,
}

impl<E: Copy + Into<f64>> Stats<E> {
    /// From [`stats`]' mean and variance; `to` rounds an f64 to `E`.
    fn new((mean, var): &(Vec<f64>, Vec<f64>), gamma: &[E], beta: &[E], eps: f64, to: fn(f64) -> E) -> Self {
        let inv_std: Vec<f64> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
        let scale: Vec<f64> = inv_std.iter().zip(gamma).map(|(i, &g)| i * g.into()).collect();
        Stats {
            shift: mean.iter().zip(&scale).zip(beta).map(|((m, s), &b)| to(b.into() - m * s)).collect(),
            scale: scale.into_iter().map(to).collect(),
            mean: mean.clone(),
            inv_std,
        }
    }

    /// The backward pass's dx = γ·inv·(gy − mean(gy) − x̂·mean(gy·x̂)), with x̂ = (x − mean)·inv,
    /// is an affine map `gy·k + x·cx + c0` of (gy, x): its coefficients for channel `c`, in f64,
    /// from the channel's Σ gy and Σ gy·x̂ over `count` values.
    fn dx_coefficients(&self, c: usize, gamma: E, sum_g: f64, sum_g_xhat: f64, count: f64) -> [f64; 3] {
        let (mean, inv) = (self.mean[c], self.inv_std[c]);
        let k = gamma.into() * inv;
        let (mean_g, mean_gxhat) = (sum_g / count, sum_g_xhat / count);
        [k, -k * inv * mean_gxhat, -k * mean_g + k * inv * mean_gxhat * mean]
    }
}

/// Writes `f(x, g)` to `out`, eight values at a time (and the tail one at a time).
#[inline(always)]
fn map8(x: &[f32], g: &[f32], out: &mut [MaybeUninit<f32>], f: impl Fn(f32x8, f32x8) -> f32x8) {
    let whole = x.len() / 8 * 8;
    for i in (0..whole).step_by(8) {
        let (v, w) = (load8(x, i), load8(g, i));
        out[i..i + 8].write_copy_of_slice(&f(v, w).to_array());
    }
    for i in whole..x.len() {
        out[i].write(f(f32x8::splat(x[i]), f32x8::splat(g[i])).to_array()[0]);
    }
}

/// `batch_norm_train(x)`, then ReLU if `RELU`: `x` of geometry `dims`, `gamma` and `beta` one
/// value per channel.
pub fn batch_norm<const RELU: bool>(
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    stats: &(Vec<f64>, Vec<f64>),
    dims: Nchw,
    eps: f64,
) -> Vec<f32> {
    check(x.len(), gamma.len(), beta.len(), dims);
    let (channels, plane) = (dims.channels, dims.plane());
    let s = Stats::new(stats, gamma, beta, eps, |v| v as f32);
    let write = |out: &mut [MaybeUninit<f32>]| {
        for (k, (src, dst)) in x.chunks(plane).zip(out.chunks_mut(plane)).enumerate() {
            let (a, b) = (f32x8::splat(s.scale[k % channels]), f32x8::splat(s.shift[k % channels]));
            // fast_max: the plain vector max (no NaN bookkeeping); ReLU of a finite value is exact.
            if RELU {
                map8(src, src, dst, |v, _| (v * a + b).fast_max(f32x8::ZERO));
            } else {
                map8(src, src, dst, |v, _| v * a + b);
            }
        }
    };
    // SAFETY: the planes of `x` and `out` pair up one to one, and `map8` writes all of each.
    unsafe { uninit_output(x.len(), write) }
}

/// Gradients of [`batch_norm`] given the output's gradient and the forward's [`stats`]:
/// `(dx, dγ, dβ)`.
pub fn batch_norm_backward<const RELU: bool>(
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    stats: &(Vec<f64>, Vec<f64>),
    grad: &[f32],
    dims: Nchw,
    eps: f64,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    check(x.len(), gamma.len(), beta.len(), dims);
    assert_eq!(grad.len(), x.len(), "batch_norm_backward: grad size");
    let Nchw { batch, channels, .. } = dims;
    let plane = dims.plane();
    let count = (batch * plane) as f64;
    let s = Stats::new(stats, gamma, beta, eps, |v| v as f32);
    let planes =
        |c: usize| (0..batch).map(move |n| (n * channels + c) * plane..(n * channels + c + 1) * plane);
    let mut d_gamma = vec![0.0f32; channels];
    let mut d_beta = vec![0.0f32; channels];
    let write_dx = |dx: &mut [MaybeUninit<f32>]| {
        for c in 0..channels {
            let (a, b) = (f32x8::splat(s.scale[c]), f32x8::splat(s.shift[c]));
            // gy, the gradient through ReLU: `grad` where the output x·a + b was > 0 (the
            // forward's own expression, so the same pixels), else 0. Never stored: both passes
            // below recompute it.
            let gy = |v: f32x8, g: f32x8| {
                if RELU { (v * a + b).simd_gt(f32x8::ZERO).blend(g, f32x8::ZERO) } else { g }
            };
            let (mean, inv) = (s.mean[c], s.inv_std[c]);
            let m = f32x8::splat(mean as f32);
            let [sum_g, sum_gx] = planes(c)
                .map(|at| sums(&x[at.clone()], &grad[at], |v, g| [gy(v, g), gy(v, g) * (v - m)]))
                .fold([0.0; 2], |[p, q], [a, b]| [p + a, q + b]);
            let sum_g_xhat = sum_gx * inv;
            d_beta[c] = sum_g as f32;
            d_gamma[c] = sum_g_xhat as f32;
            let [kg, cx, c0] =
                s.dx_coefficients(c, gamma[c], sum_g, sum_g_xhat, count).map(|v| f32x8::splat(v as f32));
            for at in planes(c) {
                map8(&x[at.clone()], &grad[at.clone()], &mut dx[at], |v, g| gy(v, g) * kg + v * cx + c0);
            }
        }
    };
    // SAFETY: the planes of every channel of every image are written by `map8`.
    let dx = unsafe { uninit_output(x.len(), write_dx) };
    (dx, d_gamma, d_beta)
}

/// The f64 kernels of a stack (`model::ModelConfig::dtype`): the same passes as the f32 ones
/// above, every sum in f64 lanes.
pub mod f64 {
    use std::mem::MaybeUninit;

    use wide::f64x4;

    use super::{Nchw, Stats, check, uninit_output};
    use crate::kernels::load4;

    /// Independent sums per term in [`sums`]: one f64x4 accumulator would chain every add on
    /// the one before (four cycles each), and the statistics took 3.1% of a deep_bn step in
    /// Chromium that way.
    const CHAINS: usize = 4;

    /// `[Σ f₀, Σ f₁, …]` over `a` (and `b`, paired): [`CHAINS`] × 4 lanes (value `i` in lane
    /// `i mod 16`) and a tail, the lanes added pairwise at the end.
    fn sums<const K: usize>(a: &[f64], b: &[f64], f: impl Fn(f64x4, f64x4) -> [f64x4; K]) -> [f64; K] {
        const STEP: usize = 4 * CHAINS;
        let mut acc = [[f64x4::ZERO; CHAINS]; K];
        let whole = a.len() / STEP * STEP;
        for i in (0..whole).step_by(STEP) {
            for chain in 0..CHAINS {
                let at = i + 4 * chain;
                for (acc, term) in acc.iter_mut().zip(f(load4(a, at), load4(b, at))) {
                    acc[chain] += term;
                }
            }
        }
        let mut total = acc.map(|[c0, c1, c2, c3]| {
            let l = ((c0 + c1) + (c2 + c3)).to_array();
            (l[0] + l[1]) + (l[2] + l[3])
        });
        for i in whole..a.len() {
            for (t, term) in total.iter_mut().zip(f(f64x4::splat(a[i]), f64x4::splat(b[i]))) {
                *t += term.to_array()[0];
            }
        }
        total
    }

    /// Writes `f(x, g)` to `out`, four values at a time (and the tail one at a time).
    #[inline(always)]
    fn map4(x: &[f64], g: &[f64], out: &mut [MaybeUninit<f64>], f: impl Fn(f64x4, f64x4) -> f64x4) {
        let whole = x.len() / 4 * 4;
        for i in (0..whole).step_by(4) {
            out[i..i + 4].write_copy_of_slice(&f(load4(x, i), load4(g, i)).to_array());
        }
        for i in whole..x.len() {
            out[i].write(f(f64x4::splat(x[i]), f64x4::splat(g[i])).to_array()[0]);
        }
    }

    /// Each channel's mean and biased variance over the batch, two passes (as [`super::stats`]).
    pub fn stats(x: &[f64], dims: Nchw) -> (Vec<f64>, Vec<f64>) {
        let Nchw { batch, channels, .. } = dims;
        let plane = dims.plane();
        let count = (batch * plane) as f64;
        let planes = |c: usize| (0..batch).map(move |n| &x[(n * channels + c) * plane..][..plane]);
        (0..channels)
            .map(|c| {
                let mean = planes(c).map(|p| sums(p, p, |v, _| [v])[0]).sum::<f64>() / count;
                let m = f64x4::splat(mean);
                (mean, planes(c).map(|p| sums(p, p, |v, _| [(v - m) * (v - m)])[0]).sum::<f64>() / count)
            })
            .unzip()
    }

    /// `batch_norm_train(x)`, then ReLU if `RELU`.
    pub fn batch_norm<const RELU: bool>(
        x: &[f64],
        gamma: &[f64],
        beta: &[f64],
        stats: &(Vec<f64>, Vec<f64>),
        dims: Nchw,
        eps: f64,
    ) -> Vec<f64> {
        check(x.len(), gamma.len(), beta.len(), dims);
        let (channels, plane) = (dims.channels, dims.plane());
        let s = Stats::new(stats, gamma, beta, eps, |v| v);
        let write = |out: &mut [MaybeUninit<f64>]| {
            for (k, (src, dst)) in x.chunks(plane).zip(out.chunks_mut(plane)).enumerate() {
                let (a, b) = (f64x4::splat(s.scale[k % channels]), f64x4::splat(s.shift[k % channels]));
                if RELU {
                    map4(src, src, dst, |v, _| (v * a + b).fast_max(f64x4::ZERO));
                } else {
                    map4(src, src, dst, |v, _| v * a + b);
                }
            }
        };
        // SAFETY: the planes of `x` and `out` pair up one to one, and `map4` writes all of each.
        unsafe { uninit_output(x.len(), write) }
    }

    /// Gradients of [`batch_norm`] given the output's gradient and the forward's [`stats`]:
    /// `(dx, dγ, dβ)`.
    pub fn batch_norm_backward<const RELU: bool>(
        x: &[f64],
        gamma: &[f64],
        beta: &[f64],
        stats: &(Vec<f64>, Vec<f64>),
        grad: &[f64],
        dims: Nchw,
        eps: f64,
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        check(x.len(), gamma.len(), beta.len(), dims);
        assert_eq!(grad.len(), x.len(), "batch_norm_backward: grad size");
        let Nchw { batch, channels, .. } = dims;
        let plane = dims.plane();
        let count = (batch * plane) as f64;
        let s = Stats::new(stats, gamma, beta, eps, |v| v);
        let planes =
            |c: usize| (0..batch).map(move |n| (n * channels + c) * plane..(n * channels + c + 1) * plane);
        let (mut d_gamma, mut d_beta) = (vec![0.0; channels], vec![0.0; channels]);
        let write_dx = |dx: &mut [MaybeUninit<f64>]| {
            for c in 0..channels {
                let (a, b) = (f64x4::splat(s.scale[c]), f64x4::splat(s.shift[c]));
                // The gradient through ReLU: `grad` where the forward's output x·a + b was > 0,
                // else +0.0: the comparison's mask (all ones or all zeros) and `grad`, a bitwise
                // AND where a blend with zero took three instructions in V8 (Node 20).
                let gy = |v: f64x4, g: f64x4| if RELU { (v * a + b).simd_gt(f64x4::ZERO) & g } else { g };
                let (mean, inv) = (s.mean[c], s.inv_std[c]);
                let m = f64x4::splat(mean);
                let [sum_g, sum_gx] = planes(c)
                    .map(|at| sums(&x[at.clone()], &grad[at], |v, g| [gy(v, g), gy(v, g) * (v - m)]))
                    .fold([0.0; 2], |[p, q], [a, b]| [p + a, q + b]);
                let sum_g_xhat = sum_gx * inv;
                d_beta[c] = sum_g;
                d_gamma[c] = sum_g_xhat;
                let [kg, cx, c0] = s.dx_coefficients(c, gamma[c], sum_g, sum_g_xhat, count).map(f64x4::splat);
                for at in planes(c) {
                    map4(&x[at.clone()], &grad[at.clone()], &mut dx[at], |v, g| gy(v, g) * kg + v * cx + c0);
                }
            }
        };
        // SAFETY: the planes of every channel of every image are written by `map4`.
        let dx = unsafe { uninit_output(x.len(), write_dx) };
        (dx, d_gamma, d_beta)
    }
}
