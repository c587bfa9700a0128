//! The numbers an experiment starts from: the input image and both conv weights.
//!
//! They come either from the seed, through our own RNG (ChaCha8 + rand_distr, so the same seed
//! gives the same bits natively and in wasm, on every backend), or from a safetensors file
//! with the PyTorch fixtures' tensor names. PyTorch's own RNG cannot be reproduced, which is why
//! the fixtures ship their initial tensors.

use std::fmt;

use rand::{RngExt, SeedableRng, rngs::ChaCha8Rng};
use rand_distr::{Normal, StandardNormal, Uniform};
use safetensors::{Dtype, SafeTensors};

use crate::config::{Arch, CLASSES, ExperimentConfig, Init};
use crate::model::names;

/// Shape of both conv weights of the seed arches: `[out, in, kh, kw]`.
pub const WEIGHT_SHAPE: [usize; 4] = [CLASSES, CLASSES, 3, 3];
/// Number of weights in one conv of the seed arches.
pub const WEIGHT_LEN: usize = CLASSES * CLASSES * 9;

/// Row-major f32 tensors, laid out as PyTorch's: image `[N, 3, H, W]`, and every conv's weight
/// `[out, in, kh, kw]`, conv1 first.
#[derive(Clone, Debug, PartialEq)]
pub struct InitialTensors {
    pub image: Vec<f32>,
    pub weights: Vec<Vec<f32>>,
}

impl InitialTensors {
    /// Draws the image (standard normal) and then every conv weight from `config.init`, conv1
    /// first, each followed by its `init_noise` (drawn only when it is not 0), from one ChaCha8
    /// stream seeded with `config.seed`.
    pub fn from_seed(config: &ExperimentConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let image = (0..config.pixels() * CLASSES).map(|_| rng.sample::<f32, _>(StandardNormal)).collect();
        let weights = (0..config.convs())
            .map(|i| {
                let mut w = init_weights(config, config.weight_shape(i), &mut rng);
                if config.init_noise > 0.0 {
                    for v in &mut w {
                        *v += (config.init_noise * rng.sample::<f64, _>(StandardNormal)) as f32;
                    }
                }
                w
            })
            .collect();
        Self { image, weights }
    }

    /// The safetensors names, in order: `image`, `conv1.weight` … `convN.weight`.
    fn names(config: &ExperimentConfig) -> Vec<String> {
        std::iter::once("image".to_string()).chain((1..=config.convs()).map(names::conv_weight)).collect()
    }

    /// Reads `image` `[batch, 3, height, width]` and every `conv{i}.weight` (all F32) from
    /// safetensors bytes, checking them against `config`.
    pub fn from_safetensors(bytes: &[u8], config: &ExperimentConfig) -> Result<Self, InputError> {
        let file = SafeTensors::deserialize(bytes)
            .map_err(|e| InputError::new(format!("not a readable safetensors file ({e})")))?;
        let expected = Self::names(config);
        let read = |name: &str, shape: &[usize]| -> Result<Vec<f32>, InputError> {
            let view = file.tensor(name).map_err(|_| {
                let mut names: Vec<&str> = file.names();
                names.sort_unstable();
                InputError::new(format!(
                    "has no tensor \"{name}\" (it holds {}); expected {} for this config",
                    if names.is_empty() { "none".to_string() } else { names.join(", ") },
                    expected.join(", ")
                ))
            })?;
            if view.dtype() != Dtype::F32 {
                return Err(InputError::new(format!(
                    "tensor \"{name}\" is {:?}; expected F32",
                    view.dtype()
                )));
            }
            if view.shape() != shape {
                return Err(InputError::new(format!(
                    "tensor \"{name}\" has shape {:?}; expected {shape:?} for this config",
                    view.shape()
                )));
            }
            let values: Vec<f32> =
                view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(InputError::new(format!(
                    "tensor \"{name}\" holds a non-finite value at index {i}"
                )));
            }
            Ok(values)
        };
        let image = read("image", &config.image_shape())?;
        let weights = (0..config.convs())
            .map(|i| read(&expected[i + 1], &config.weight_shape(i)))
            .collect::<Result<_, _>>()?;
        // A tensor this config has no place for would be dropped without a word (a deeper
        // stack's conv3.weight replayed as the seed's two convs): name it instead.
        let mut extra: Vec<&str> =
            file.names().into_iter().filter(|name| !expected.iter().any(|e| e == name)).collect();
        if !extra.is_empty() {
            extra.sort_unstable();
            return Err(InputError::new(format!(
                "holds {} this config has no place for; it reads {} (a stack's config sets its depth)",
                extra.iter().map(|name| format!("\"{name}\"")).collect::<Vec<_>>().join(", "),
                expected.join(", ")
            )));
        }
        Ok(Self { image, weights })
    }

    /// Writes the tensors as safetensors with the fixtures' names, ready for PyTorch to load.
    pub fn to_safetensors(&self, config: &ExperimentConfig) -> Vec<u8> {
        let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let data: Vec<Vec<u8>> =
            std::iter::once(&self.image).chain(&self.weights).map(|v| bytes(v)).collect();
        let shapes: Vec<Vec<usize>> = std::iter::once(config.image_shape().to_vec())
            .chain((0..config.convs()).map(|i| config.weight_shape(i).to_vec()))
            .collect();
        let tensors: Vec<(String, safetensors::tensor::TensorView<'_>)> = Self::names(config)
            .into_iter()
            .zip(data.iter().zip(shapes))
            .map(|(name, (data, shape))| {
                let view = safetensors::tensor::TensorView::new(Dtype::F32, shape, data)
                    .expect("shape and byte length agree");
                (name, view)
            })
            .collect();
        safetensors::serialize(tensors, None).expect("in-memory serialization cannot fail")
    }
}

/// Conv weights of `shape` `[out, in, 3, 3]` drawn as `config.init` says. Kaiming's gain
/// follows the activation (the seed arches' is ReLU's), Xavier's and orthogonal's is 1.
fn init_weights(config: &ExperimentConfig, shape: [usize; 4], rng: &mut ChaCha8Rng) -> Vec<f32> {
    let len = shape.iter().product::<usize>();
    let fan_in = (shape[1] * 9) as f64;
    let fan_out = (shape[0] * 9) as f64;
    let gain2 = match config.arch {
        Arch::Stack => config.activation.gain_squared(),
        Arch::TwoConv | Arch::SingleConv => 2.0,
    };
    let value = config.init_value.unwrap_or(0.0);
    let normal = |std: f64, rng: &mut ChaCha8Rng| -> Vec<f32> {
        let dist = Normal::new(0.0, std).expect("std is finite and ≥ 0");
        (0..len).map(|_| rng.sample(dist) as f32).collect()
    };
    let uniform = |bound: f64, rng: &mut ChaCha8Rng| -> Vec<f32> {
        let dist = Uniform::new_inclusive(-bound, bound).expect("bound is finite");
        (0..len).map(|_| rng.sample(dist) as f32).collect()
    };
    match config.init {
        Init::Zeros => vec![0.0; len],
        Init::Constant => vec![value as f32; len],
        // std = gain / √fan_in, written as √(gain² / fan_in) (for ReLU the seed's √(2/27)).
        Init::KaimingNormal => normal((gain2 / fan_in).sqrt(), rng),
        Init::KaimingUniform => uniform((3.0 * gain2 / fan_in).sqrt(), rng),
        Init::XavierNormal => normal((2.0 / (fan_in + fan_out)).sqrt(), rng),
        Init::XavierUniform => uniform((6.0 / (fan_in + fan_out)).sqrt(), rng),
        Init::Normal => normal(value, rng),
        Init::Orthogonal => orthogonal(shape[0], shape[1] * 9, rng),
    }
}

/// A `rows × cols` matrix with orthonormal rows (or columns, if taller than wide), row-major:
/// PyTorch's `orthogonal_` recipe (QR of a standard normal matrix, signs fixed by R's
/// diagonal), by modified Gram–Schmidt in f64.
fn orthogonal(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let draws: Vec<f64> = (0..rows * cols).map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
    // Orthonormalise the `k` vectors of length `n` of the tall orientation.
    let (k, n) = (rows.min(cols), rows.max(cols));
    let at = |vector: usize, i: usize| {
        if rows >= cols { draws[i * cols + vector] } else { draws[vector * cols + i] }
    };
    let mut q: Vec<Vec<f64>> = Vec::with_capacity(k);
    for j in 0..k {
        let mut v: Vec<f64> = (0..n).map(|i| at(j, i)).collect();
        for u in &q {
            let dot: f64 = u.iter().zip(&v).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u).for_each(|(x, y)| *x -= dot * y);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
        // Gram–Schmidt's R has a positive diagonal already: no sign to fix.
        q.push(v.into_iter().map(|x| x / norm).collect());
    }
    let mut out = vec![0.0f32; rows * cols];
    for (j, u) in q.iter().enumerate() {
        for (i, &x) in u.iter().enumerate() {
            let (r, c) = if rows >= cols { (i, j) } else { (j, i) };
            out[r * cols + c] = x as f32;
        }
    }
    out
}

/// A safetensors file that cannot be used, with what is wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct InputError {
    pub message: String,
}

impl InputError {
    fn new(message: String) -> Self {
        Self { message }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(init: Init, init_value: Option<f64>) -> ExperimentConfig {
        ExperimentConfig { init, init_value, height: 4, width: 5, ..Default::default() }
    }

    #[test]
    fn same_seed_same_bits() {
        let c = small(Init::KaimingNormal, None);
        assert_eq!(InitialTensors::from_seed(&c), InitialTensors::from_seed(&c));
        let other = ExperimentConfig { seed: 1, ..c.clone() };
        assert_ne!(InitialTensors::from_seed(&c).image, InitialTensors::from_seed(&other).image);
    }

    /// Pins the stream: if a dependency update changed these bits, shared URLs would stop
    /// reproducing their runs. The browser test checks the same numbers in wasm.
    #[test]
    fn seed_zero_stream_is_pinned() {
        let t = InitialTensors::from_seed(&small(Init::KaimingNormal, None));
        let head: Vec<String> = t.image[..3].iter().map(|x| format!("{x:e}")).collect();
        let conv1: Vec<String> = t.weights[0][..2].iter().map(|x| format!("{x:e}")).collect();
        assert_eq!(
            (head.join(" "), conv1.join(" ")),
            (PINNED_IMAGE_HEAD.to_string(), PINNED_CONV1_HEAD.to_string())
        );
    }
    const PINNED_IMAGE_HEAD: &str = "6.9996077e-1 -1.4406164e-1 3.0288628e-1";
    const PINNED_CONV1_HEAD: &str = "2.3089102e-1 -1.8468198e-1";

    #[test]
    fn kaiming_normal_has_the_pytorch_std() {
        let c = ExperimentConfig { height: 1, width: 1, ..Default::default() };
        // Pool many draws: the sample std of 81 weights is too noisy to check.
        let mut all = Vec::new();
        for seed in 0..200 {
            let t = InitialTensors::from_seed(&ExperimentConfig { seed, ..c.clone() });
            all.extend(t.weights[0].iter().map(|&x| x as f64));
        }
        let n = all.len() as f64;
        let mean = all.iter().sum::<f64>() / n;
        let std = (all.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!((std - (2.0f64 / 27.0).sqrt()).abs() < 0.01, "std {std}");
        assert!(mean.abs() < 0.01, "mean {mean}");
    }

    #[test]
    fn constant_and_zeros_are_exact() {
        let t = InitialTensors::from_seed(&small(Init::Constant, Some(5.0)));
        assert!(t.weights.iter().flatten().all(|&w| w == 5.0));
        let t = InitialTensors::from_seed(&small(Init::Zeros, None));
        assert!(t.weights.iter().flatten().all(|&w| w == 0.0));
    }

    #[test]
    fn safetensors_round_trip() {
        let c = small(Init::XavierUniform, None);
        let t = InitialTensors::from_seed(&c);
        let back = InitialTensors::from_safetensors(&t.to_safetensors(&c), &c).unwrap();
        assert_eq!(back, t);
    }
}
