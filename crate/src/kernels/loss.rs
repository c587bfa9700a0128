//! Per-pixel cross-entropy against one label, forward and backward, on NCHW slices:
//! `loss[n, y, x] = logsumexp_c(z[n, c, y, x]) − z[n, label, y, x]`, computed as PyTorch's
//! log_softmax does (subtract the max, sum the exponentials in f32, take the log), eight pixels
//! at a time. The forward also returns the softmax, which is all the backward needs.

use wide::{bytemuck::cast, f32x8, i32x8};

/// e^x for x ≤ 0 (logits minus their max): the range reduction and polynomial of `wide`'s
/// `f32x8::exp` (fdlibm's split of ln 2, degree-7 Taylor), without its handling of +∞, NaN
/// and subnormal results, which cannot occur here (arguments below −87 are clamped, and
/// e^−87 ≈ 1.6e-38 vanishes next to the max's e^0 = 1 in every sum).
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

/// Eight pixels' logits: `z[c]` holds class `c` of pixels `p .. p + 8` (zero past the plane).
struct Chunk {
    z: [f32x8; MAX_CLASSES],
    len: usize,
}

impl Chunk {
    fn load(logits: &[f32], classes: usize, plane: usize, p: usize) -> Self {
        let len = (plane - p).min(8);
        let mut z = [f32x8::ZERO; MAX_CLASSES];
        for (c, v) in z.iter_mut().enumerate().take(classes) {
            let at = c * plane + p;
            *v = if len == 8 {
                f32x8::new(logits[at..at + 8].try_into().unwrap())
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
fn store(out: &mut [f32], v: f32x8, len: usize) {
    if len == 8 {
        out[..8].copy_from_slice(&v.to_array()); // a fixed size: one vector store, no memcpy
    } else {
        out[..len].copy_from_slice(&v.to_array()[..len]);
    }
}

/// `logits` `[N, C, H, W]` flattened, `plane` = H·W → (loss `[N, H, W]`, softmax
/// `[N, C, H, W]`).
pub fn pixel_nll(logits: &[f32], classes: usize, plane: usize, label: usize) -> (Vec<f32>, Vec<f32>) {
    assert!((1..=MAX_CLASSES).contains(&classes) && label < classes, "pixel_nll: classes and label");
    let batch = logits.len() / (classes * plane);
    let mut loss = vec![0.0f32; batch * plane];
    let mut softmax = vec![0.0f32; logits.len()];
    for n in 0..batch {
        let image = &logits[n * classes * plane..][..classes * plane];
        for p in (0..plane).step_by(8) {
            let chunk = Chunk::load(image, classes, plane, p);
            let (max, e, sum) = chunk.exps(classes);
            store(&mut loss[n * plane + p..], -(chunk.z[label] - max - sum.ln()), chunk.len);
            let inv = f32x8::ONE / sum;
            for c in 0..classes {
                store(&mut softmax[(n * classes + c) * plane + p..], e[c] * inv, chunk.len);
            }
        }
    }
    (loss, softmax)
}

/// The gradient of [`pixel_nll`] from its softmax and the loss's gradient `grad` `[N, H, W]`:
/// `dz[c] = grad · (softmax[c] − [c = label])`.
pub fn pixel_nll_backward(softmax: &[f32], classes: usize, plane: usize, label: usize, grad: &[f32]) -> Vec<f32> {
    let batch = softmax.len() / (classes * plane);
    let mut dz = vec![0.0f32; softmax.len()];
    for n in 0..batch {
        let g = &grad[n * plane..][..plane];
        for c in 0..classes {
            let at = (n * classes + c) * plane;
            let (s, d) = (&softmax[at..at + plane], &mut dz[at..at + plane]);
            let target = if c == label { 1.0 } else { 0.0 };
            for ((d, &s), &g) in d.iter_mut().zip(s).zip(g) {
                *d = g * (s - target);
            }
        }
    }
    dz
}
