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

use crate::config::{CLASSES, ExperimentConfig, Init};

/// Shape of both conv weights: `[out, in, kh, kw]`.
pub const WEIGHT_SHAPE: [usize; 4] = [CLASSES, CLASSES, 3, 3];
/// Number of weights in one conv.
pub const WEIGHT_LEN: usize = CLASSES * CLASSES * 9;
/// fan_in = fan_out = channels × 3 × 3 for our 3→3 convs.
const FAN: f64 = (CLASSES * 9) as f64;

/// Row-major f32 tensors, laid out as PyTorch's: image `[N, 3, H, W]`, weights `[out, in, kh, kw]`.
#[derive(Clone, Debug, PartialEq)]
pub struct InitialTensors {
    pub image: Vec<f32>,
    pub conv1: Vec<f32>,
    pub conv2: Vec<f32>,
}

impl InitialTensors {
    /// Draws the image (standard normal) and then conv1 and conv2 from `config.init`, in that
    /// order, from one ChaCha8 stream seeded with `config.seed`.
    pub fn from_seed(config: &ExperimentConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let image = (0..config.pixels() * CLASSES)
            .map(|_| rng.sample::<f32, _>(StandardNormal))
            .collect();
        let conv1 = init_weights(config, &mut rng);
        let conv2 = init_weights(config, &mut rng);
        Self {
            image,
            conv1,
            conv2,
        }
    }

    /// Reads `image` `[batch, 3, height, width]`, `conv1.weight` and `conv2.weight` `[3, 3, 3, 3]`
    /// (all F32) from safetensors bytes, checking them against `config`.
    pub fn from_safetensors(bytes: &[u8], config: &ExperimentConfig) -> Result<Self, InputError> {
        let file = SafeTensors::deserialize(bytes)
            .map_err(|e| InputError::new(format!("not a readable safetensors file ({e})")))?;
        let read = |name: &str, shape: &[usize]| -> Result<Vec<f32>, InputError> {
            let view = file.tensor(name).map_err(|_| {
                let mut names: Vec<&str> = file.names();
                names.sort_unstable();
                InputError::new(format!(
                    "has no tensor \"{name}\" (it holds {}); expected image, conv1.weight and conv2.weight",
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
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
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(InputError::new(format!(
                    "tensor \"{name}\" holds a non-finite value at index {i}"
                )));
            }
            Ok(values)
        };
        Ok(Self {
            image: read("image", &config.image_shape())?,
            conv1: read("conv1.weight", &WEIGHT_SHAPE)?,
            conv2: read("conv2.weight", &WEIGHT_SHAPE)?,
        })
    }

    /// Writes the tensors as safetensors with the fixtures' names, ready for PyTorch to load.
    pub fn to_safetensors(&self, config: &ExperimentConfig) -> Vec<u8> {
        let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let (image, conv1, conv2) = (bytes(&self.image), bytes(&self.conv1), bytes(&self.conv2));
        fn view<'a>(data: &'a [u8], shape: &[usize]) -> safetensors::tensor::TensorView<'a> {
            safetensors::tensor::TensorView::new(Dtype::F32, shape.to_vec(), data)
                .expect("shape and byte length agree")
        }
        let tensors = [
            ("image", view(&image, &config.image_shape())),
            ("conv1.weight", view(&conv1, &WEIGHT_SHAPE)),
            ("conv2.weight", view(&conv2, &WEIGHT_SHAPE)),
        ];
        safetensors::serialize(tensors, None).expect("in-memory serialization cannot fail")
    }
}

fn init_weights(config: &ExperimentConfig, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let value = config.init_value.unwrap_or(0.0);
    let normal = |std: f64, rng: &mut ChaCha8Rng| -> Vec<f32> {
        let dist = Normal::new(0.0, std).expect("std is finite and ≥ 0");
        (0..WEIGHT_LEN).map(|_| rng.sample(dist) as f32).collect()
    };
    let uniform = |bound: f64, rng: &mut ChaCha8Rng| -> Vec<f32> {
        let dist = Uniform::new_inclusive(-bound, bound).expect("bound is finite");
        (0..WEIGHT_LEN).map(|_| rng.sample(dist) as f32).collect()
    };
    match config.init {
        Init::Zeros => vec![0.0; WEIGHT_LEN],
        Init::Constant => vec![value as f32; WEIGHT_LEN],
        // ReLU gain √2: std = √2 / √fan_in.
        Init::KaimingNormal => normal((2.0 / FAN).sqrt(), rng),
        Init::KaimingUniform => uniform((6.0 / FAN).sqrt(), rng),
        Init::XavierNormal => normal((2.0 / (FAN + FAN)).sqrt(), rng),
        Init::XavierUniform => uniform((6.0 / (FAN + FAN)).sqrt(), rng),
        Init::Normal => normal(value, rng),
    }
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
        ExperimentConfig {
            init,
            init_value,
            height: 4,
            width: 5,
            ..Default::default()
        }
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
        let conv1: Vec<String> = t.conv1[..2].iter().map(|x| format!("{x:e}")).collect();
        assert_eq!(
            (head.join(" "), conv1.join(" ")),
            (PINNED_IMAGE_HEAD.to_string(), PINNED_CONV1_HEAD.to_string())
        );
    }
    const PINNED_IMAGE_HEAD: &str = "6.9996077e-1 -1.4406164e-1 3.0288628e-1";
    const PINNED_CONV1_HEAD: &str = "2.3089102e-1 -1.8468198e-1";

    #[test]
    fn kaiming_normal_has_the_pytorch_std() {
        let c = ExperimentConfig {
            height: 1,
            width: 1,
            ..Default::default()
        };
        // Pool many draws: the sample std of 81 weights is too noisy to check.
        let mut all = Vec::new();
        for seed in 0..200 {
            let t = InitialTensors::from_seed(&ExperimentConfig { seed, ..c.clone() });
            all.extend(t.conv1.iter().map(|&x| x as f64));
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
        assert!(t.conv1.iter().chain(&t.conv2).all(|&w| w == 5.0));
        let t = InitialTensors::from_seed(&small(Init::Zeros, None));
        assert!(t.conv1.iter().chain(&t.conv2).all(|&w| w == 0.0));
    }

    #[test]
    fn safetensors_round_trip() {
        let c = small(Init::XavierUniform, None);
        let t = InitialTensors::from_seed(&c);
        let back = InitialTensors::from_safetensors(&t.to_safetensors(&c), &c).unwrap();
        assert_eq!(back, t);
    }
}
