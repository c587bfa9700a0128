//! Per-pixel cross-entropy against one label, summed along each image row, forward and
//! backward, on NCHW slices:
//! `rows[n, y] = Σ_x loss[n, y, x]` with `loss[n, y, x] = logsumexp_c(z[n, c, y, x]) − z[n, label, y, x]`,
//! computed as PyTorch's log_softmax does (subtract the max, sum the exponentials in f32, take
//! the log), eight pixels at a time. The forward also returns the softmax, which is all the
//! backward needs.
//!
//! Row sums rather than a loss per pixel: training needs only their total, the host averages
//! the row sums in f64, and no `[N, H, W]` plane is written, summed and broadcast back.

// The loops index small arrays of vectors by class, chunk or output channel on purpose: the
// index is the layout (`sums[b][c]`), and zipped iterators over two axes would hide it.
#![allow(clippy::needless_range_loop)]
use std::mem::MaybeUninit;

use wide::{bytemuck::cast, f32x8, i32x8};

use super::{Nchw, lane_sum, load8, uninit_output};

/// e^x for x ≤ 0 (logits minus their max): the range reduction and polynomial of `wide`'s
/// `f32x8::exp` (fdlibm's split of ln 2, degree-7 Taylor), without its handling of +∞, NaN
/// and subnormal results, which cannot occur here (arguments below −87 are clamped, and
/// e^−87 ≈ 1.6e-38 vanishes next to the max's e^0 = 1 in every sum).
// 0.693_359_375 is exact in f32 (ln 2's high part, 355/512): the shorter literal clippy asks
// for rounds to the same float but hides the split.
#[allow(clippy::excessive_precision)]
#[inline(always)]
fn exp_nonpositive(x: f32x8) -> f32x8 {
    let x = x.max(f32x8::splat(-87.0));
    let n = (x * f32x8::LOG2_E).round_ties_even();
    let r = n.mul_neg_add(f32x8::splat(0.693_359_375), x);
    let r = n.mul_neg_add(f32x8::splat(-2.121_944_4e-4), r);
    let c = |v: f32| f32x8::splat(v);
    let r2 = r * r;
    let r4 = r2 * r2;
    let p = c(1.0 / 120.0)
        .mul_add(r, c(1.0 / 24.0))
        .mul_add(r2, c(1.0 / 5040.0).mul_add(r, c(1.0 / 720.0)).mul_add(r4, c(1.0 / 6.0).mul_add(r, c(0.5))));
    let e = p.mul_add(r2, r) + f32x8::ONE;
    let scale: f32x8 = cast((n.round_int() + i32x8::splat(127)) << 23);
    e * scale
}

/// Most classes the kernels take (the model has 3); more fall back to burn's ops.
pub const MAX_CLASSES: usize = 4;

/// Eight pixels' logits: `z[c]` holds class `c` of the pixels `at .. at + len` of each plane
/// (zero in the lanes past `len`).
struct Chunk {
    z: [f32x8; MAX_CLASSES],
    len: usize,
}

impl Chunk {
    fn load(logits: &[f32], classes: usize, plane: usize, at: usize, len: usize) -> Self {
        let mut z = [f32x8::ZERO; MAX_CLASSES];
        for (c, v) in z.iter_mut().enumerate().take(classes) {
            let at = c * plane + at;
            *v = if len == 8 {
                load8(logits, at)
            } else {
                let mut lanes = [0.0f32; 8];
                lanes[..len].copy_from_slice(&logits[at..at + len]);
                f32x8::new(lanes)
            };
        }
        Chunk { z, len }
    }

    /// The max over classes, `exp(z − max)` per class, and their sum.
    fn exps(&self, classes: usize) -> (f32x8, [f32x8; MAX_CLASSES], f32x8) {
        let max = self.z[1..classes].iter().fold(self.z[0], |m, &v| m.max(v));
        let mut e = [f32x8::ZERO; MAX_CLASSES];
        let mut sum = f32x8::ZERO;
        for c in 0..classes {
            e[c] = exp_nonpositive(self.z[c] - max);
            sum += e[c];
        }
        (max, e, sum)
    }
}

#[inline(always)]
fn store(out: &mut [MaybeUninit<f32>], v: f32x8, len: usize) {
    if len == 8 {
        out[..8].write_copy_of_slice(&v.to_array()); // a fixed size: one vector store, no memcpy
    } else {
        out[..len].write_copy_of_slice(&v.to_array()[..len]);
    }
}

/// Chunks whose sums of exponentials are multiplied together before one `ln`:
/// `Σ ln sᵢ = ln Π sᵢ`, and each `sᵢ` lies in `[1, classes]` (the max's own term is `e⁰ = 1`),
/// so a product of 8 stays within `[1, 4⁸]`, exact to a few ulps. The `ln` cost as much as
/// the rest of the forward put together.
const CHUNKS_PER_LN: usize = 8;

/// `logits` of geometry `dims` (`[N, C, H, W]`, one channel per class) → (the loss summed
/// along each row, `[N, H]`; the softmax, `[N, C, H, W]`).
pub fn pixel_nll_rows(logits: &[f32], dims: Nchw, label: usize) -> (Vec<f32>, Vec<f32>) {
    let Nchw { batch, channels: classes, height, width } = dims;
    assert!((1..=MAX_CLASSES).contains(&classes) && label < classes, "pixel_nll_rows: classes and label");
    assert_eq!(logits.len(), dims.numel(), "pixel_nll_rows: input size");
    let plane = dims.plane();
    let mut rows = Vec::with_capacity(batch * height);
    let write_softmax = |softmax_out: &mut [MaybeUninit<f32>]| {
        let lane = f32x8::from([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        for n in 0..batch {
            let image = &logits[n * classes * plane..][..classes * plane];
            for y in 0..height {
                // Per lane: Σ (z_label − max), Σ ln(products of sums), the product in progress.
                let (mut picked, mut logs, mut product) = (f32x8::ZERO, f32x8::ZERO, f32x8::ONE);
                for (k, x0) in (0..width).step_by(8).enumerate() {
                    let at = y * width + x0;
                    let chunk = Chunk::load(image, classes, plane, at, (width - x0).min(8));
                    let (max, e, sum) = chunk.exps(classes);
                    picked += chunk.z[label] - max; // 0 − 0 in the lanes past the row
                    product *= if chunk.len == 8 {
                        sum
                    } else {
                        // Past the row every logit is 0 and the sum is `classes`: count it as 1.
                        lane.simd_lt(f32x8::splat(chunk.len as f32)).blend(sum, f32x8::ONE)
                    };
                    if (k + 1) % CHUNKS_PER_LN == 0 {
                        logs += product.ln();
                        product = f32x8::ONE;
                    }
                    let inv = f32x8::ONE / sum;
                    for c in 0..classes {
                        let at = (n * classes + c) * plane + at;
                        store(&mut softmax_out[at..], e[c] * inv, chunk.len);
                    }
                }
                logs += product.ln();
                rows.push((lane_sum(logs) - lane_sum(picked)) as f32);
            }
        }
    };
    // SAFETY: every chunk of every row of every plane is stored, the tail chunks included.
    let softmax = unsafe { uninit_output(logits.len(), write_softmax) };
    (rows, softmax)
}

/// The gradient of [`pixel_nll_rows`] from its softmax and the gradient of the row sums,
/// `grad` `[N, H]`: `dz[n, c, y, x] = grad[n, y] · (softmax[n, c, y, x] − [c = label])`.
pub fn pixel_nll_rows_backward<T>(softmax: &[T], dims: Nchw, label: usize, grad: &[T]) -> Vec<T>
where
    T: Copy + From<f32> + std::ops::Sub<Output = T> + std::ops::Mul<Output = T>,
{
    let Nchw { batch, channels: classes, height, width } = dims;
    assert_eq!(softmax.len(), dims.numel(), "pixel_nll_rows_backward: softmax size");
    assert_eq!(grad.len(), batch * height, "pixel_nll_rows_backward: grad size");
    let plane = dims.plane();
    // Filled in order by `extend`, so never zeroed first.
    let mut dz = Vec::with_capacity(softmax.len());
    for n in 0..batch {
        for c in 0..classes {
            let target = T::from(if c == label { 1.0 } else { 0.0 });
            let plane = &softmax[(n * classes + c) * plane..][..plane];
            for (row, &g) in plane.chunks(width).zip(&grad[n * height..][..height]) {
                dz.extend(row.iter().map(|&s| g * (s - target)));
            }
        }
    }
    dz
}

/// The f64 kernels of a stack (`model::ModelConfig::dtype`): the same loss, four pixels at a
/// time, each pixel's `ln` taken on its own (no product of sums: its rounding would show at
/// f64's precision). The backward is [`pixel_nll_rows_backward`]'s, in f64.
pub mod f64 {
    use wide::f64x4;

    use super::{MAX_CLASSES, Nchw};

    /// `logits` of geometry `dims` → (the loss summed along each row, `[N, H]`; the softmax).
    pub fn pixel_nll_rows(logits: &[f64], dims: Nchw, label: usize) -> (Vec<f64>, Vec<f64>) {
        let Nchw { batch, channels: classes, height, width } = dims;
        assert!((1..=MAX_CLASSES).contains(&classes) && label < classes, "pixel_nll_rows: classes and label");
        assert_eq!(logits.len(), dims.numel(), "pixel_nll_rows: input size");
        let plane = dims.plane();
        let mut rows = Vec::with_capacity(batch * height);
        let mut softmax = vec![0.0f64; logits.len()];
        let lane = f64x4::from([0.0, 1.0, 2.0, 3.0]);
        for n in 0..batch {
            let base = n * classes * plane;
            for y in 0..height {
                // Per lane: Σ (ln Σ exp(z − max) − (z_label − max)).
                let mut losses = f64x4::ZERO;
                for x0 in (0..width).step_by(4) {
                    let (at, len) = (y * width + x0, (width - x0).min(4));
                    let z: [f64x4; MAX_CLASSES] = std::array::from_fn(|c| {
                        let mut lanes = [0.0; 4];
                        if c < classes {
                            lanes[..len].copy_from_slice(&logits[base + c * plane + at..][..len]);
                        }
                        f64x4::from(lanes)
                    });
                    let max = z[1..classes].iter().fold(z[0], |m, &v| m.max(v));
                    let e: [f64x4; MAX_CLASSES] = std::array::from_fn(|c| (z[c] - max).exp());
                    let sum = e[..classes].iter().fold(f64x4::ZERO, |s, &v| s + v);
                    let loss = sum.ln() - (z[label] - max);
                    // Past the row every logit is 0 and the loss ln(classes): left out.
                    losses += lane.simd_lt(f64x4::splat(len as f64)).blend(loss, f64x4::ZERO);
                    for c in 0..classes {
                        let p = (e[c] / sum).to_array();
                        softmax[base + c * plane + at..][..len].copy_from_slice(&p[..len]);
                    }
                }
                let l = losses.to_array();
                rows.push((l[0] + l[1]) + (l[2] + l[3]));
            }
        }
        (rows, softmax)
    }
}
