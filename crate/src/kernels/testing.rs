//! What the kernels' tests share: inputs, and the definition to hold the kernels to.

use super::Nchw;

/// `len` values in [-1, 1) from a small LCG: deterministic, no dependency.
pub fn values(len: usize, seed: u32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(2654435761).wrapping_add(1);
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(1664525).wrapping_add(1013904223);
            (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

/// The textbook 3 × 3 convolution (stride 1, zero padding 1), summed in f64 in the order
/// input channel, ky, kx, the padding's terms left out.
pub fn naive<T: Copy + Into<f64>>(x: &[T], w: &[T], s: Nchw, cout: usize) -> Vec<f64> {
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
                                    let xi = ((n * cin + i) * s.height + sy as usize) * s.width + sx as usize;
                                    sum += x[xi].into() * w[(o * cin + i) * 9 + ky * 3 + kx].into();
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
