//! Per-pixel cross-entropy against one label, forward and backward, on NCHW slices:
//! `loss[n, y, x] = logsumexp_c(z[n, c, y, x]) − z[n, label, y, x]`, computed as PyTorch's
//! log_softmax does (subtract the max, sum the exponentials in f32, take the log), eight pixels
//! at a time (`wide`'s vector exp and ln).

use wide::f32x8;

/// Most classes the kernels take (the model has 3).
pub const MAX_CLASSES: usize = 16;

/// The logits of `classes` channels at pixels `p .. p + 8` of image `n`, zero past the plane.
fn gather(logits: &[f32], classes: usize, plane: usize, n: usize, p: usize) -> [f32x8; MAX_CLASSES] {
    assert!(classes <= MAX_CLASSES, "pixel_nll: at most {MAX_CLASSES} classes");
    let base = n * classes * plane;
    let len = (plane - p).min(8);
    let mut z = [f32x8::ZERO; MAX_CLASSES];
    for (c, v) in z.iter_mut().enumerate().take(classes) {
        let mut lanes = [0.0f32; 8];
        lanes[..len].copy_from_slice(&logits[base + c * plane + p..][..len]);
        *v = f32x8::new(lanes);
    }
    z
}

/// The max over classes and Σ exp(z − max), per pixel.
fn normaliser(z: &[f32x8]) -> (f32x8, f32x8) {
    let max = z.iter().copied().reduce(f32x8::max).expect("at least one class");
    let sum = z.iter().fold(f32x8::ZERO, |acc, &v| acc + (v - max).exp());
    (max, sum)
}

/// `logits` `[N, C, H, W]` flattened, `plane` = H·W → `[N, H, W]`.
pub fn pixel_nll(logits: &[f32], classes: usize, plane: usize, label: usize) -> Vec<f32> {
    let batch = logits.len() / (classes * plane);
    let mut out = vec![0.0f32; batch * plane];
    for n in 0..batch {
        for p in (0..plane).step_by(8) {
            let z = gather(logits, classes, plane, n, p);
            let (max, sum) = normaliser(&z[..classes]);
            let loss = -(z[label] - max - sum.ln());
            let len = (plane - p).min(8);
            out[n * plane + p..][..len].copy_from_slice(&loss.to_array()[..len]);
        }
    }
    out
}

/// The gradient of [`pixel_nll`] given the loss's gradient `grad` `[N, H, W]`:
/// `dz[c] = grad · (softmax(z)[c] − [c = label])`.
pub fn pixel_nll_backward(logits: &[f32], classes: usize, plane: usize, label: usize, grad: &[f32]) -> Vec<f32> {
    let batch = logits.len() / (classes * plane);
    let mut dz = vec![0.0f32; logits.len()];
    for n in 0..batch {
        for p in (0..plane).step_by(8) {
            let len = (plane - p).min(8);
            let z = gather(logits, classes, plane, n, p);
            let (max, sum) = normaliser(&z[..classes]);
            let mut g = [0.0f32; 8];
            g[..len].copy_from_slice(&grad[n * plane + p..][..len]);
            let g = f32x8::new(g);
            for (c, &zc) in z[..classes].iter().enumerate() {
                let softmax = (zc - max).exp() / sum;
                let target = if c == label { f32x8::ONE } else { f32x8::ZERO };
                let d = g * (softmax - target);
                dz[(n * classes + c) * plane + p..][..len].copy_from_slice(&d.to_array()[..len]);
            }
        }
    }
    dz
}
