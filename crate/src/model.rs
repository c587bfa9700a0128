//! The blog's network: conv1 → bn1 → relu → conv2 → bn2 → relu, or conv2 alone.

use burn::{
    nn::{
        BatchNorm, BatchNormConfig, Initializer, PaddingConfig2d,
        conv::{Conv2d, Conv2dConfig},
    },
    module::Param,
    prelude::*,
    tensor::TensorData,
};

use crate::config::{Arch, CLASSES};
use crate::inputs::WEIGHT_SHAPE;
use crate::kernels::{bn_relu, conv3x3, pixel_nll_rows};

/// burn's own `Conv2d` and `BatchNorm` modules hold the parameters (so names, optimizer state
/// and records are burn's); the forward pass runs them through [`crate::kernels`], which gives
/// each backend its fastest kernels for exactly these layers. BatchNorm always uses the batch's
/// statistics, as in PyTorch's train mode; its running statistics are never read, so they are
/// not kept up to date.
#[derive(Module, Debug)]
pub struct Model {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub conv2: Conv2d,
    pub bn2: BatchNorm,
}

#[derive(Config, Debug)]
pub struct ModelConfig {
    /// Channels of the image, of both convs and of the logits (one per class).
    #[config(default = 3)]
    pub channels: usize,
}

impl ModelConfig {
    /// Builds the model with the given conv weights (`[out, in, kh, kw]`, row-major).
    /// BatchNorm starts at weight 1, bias 0, eps 1e-5, as in PyTorch.
    pub fn init(&self, conv1: &[f32], conv2: &[f32], device: &Device) -> Model {
        let c = self.channels;
        let conv = |weights: &[f32]| {
            let mut conv = Conv2dConfig::new([c, c], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(false)
                .with_initializer(Initializer::Zeros)
                .init(device);
            conv.weight = Param::from_data(TensorData::new(weights.to_vec(), WEIGHT_SHAPE), device);
            conv
        };
        Model {
            conv1: conv(conv1),
            bn1: BatchNormConfig::new(c).init(device),
            conv2: conv(conv2),
            bn2: BatchNormConfig::new(c).init(device),
        }
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self::new().with_channels(CLASSES)
    }
}

/// What the forward pass computed, for the views that show feature maps.
pub struct Activations {
    /// conv1's output (two_conv only).
    pub conv1: Option<Tensor<4>>,
    /// relu(bn1(conv1)): what conv2 sees (the image itself in single_conv).
    pub conv2_input: Tensor<4>,
    /// conv2's output.
    pub conv2: Tensor<4>,
    /// The per-pixel class logits.
    pub logits: Tensor<4>,
}

impl Model {
    /// Per-pixel class logits for a batch of images.
    pub fn forward(&self, images: Tensor<4>, arch: Arch) -> Tensor<4> {
        self.forward_activations(images, arch).logits
    }

    /// The forward pass, keeping the intermediate maps.
    pub fn forward_activations(&self, images: Tensor<4>, arch: Arch) -> Activations {
        match arch {
            Arch::TwoConv => {
                let c1 = conv3x3(images, self.conv1.weight.val()); // [N, 3, H, W]
                let x = bn_relu(c1.clone(), self.bn1.gamma.val(), self.bn1.beta.val()); // [N, 3, H, W]
                let c2 = conv3x3(x.clone(), self.conv2.weight.val()); // [N, 3, H, W]
                let logits = bn_relu(c2.clone(), self.bn2.gamma.val(), self.bn2.beta.val()); // [N, 3, H, W]
                Activations {
                    conv1: Some(c1),
                    conv2_input: x,
                    conv2: c2,
                    logits,
                }
            }
            Arch::SingleConv => {
                let c2 = conv3x3(images.clone(), self.conv2.weight.val()); // [N, 3, H, W]
                Activations {
                    conv1: None,
                    conv2_input: images,
                    conv2: c2.clone(),
                    logits: c2,
                }
            }
        }
    }

    /// Replaces every parameter's value (names as in [`crate::train::PARAM_NAMES`]), keeping
    /// their identities. Unknown names and wrong lengths are refused.
    pub fn with_values(mut self, values: &[(String, Vec<f32>)], device: &Device) -> Result<Self, String> {
        for (name, v) in values {
            let (shape, expected): (Vec<usize>, usize) = if name.starts_with("conv") {
                (WEIGHT_SHAPE.to_vec(), WEIGHT_SHAPE.iter().product())
            } else {
                (vec![CLASSES], CLASSES)
            };
            if v.len() != expected || v.iter().any(|x| !x.is_finite()) {
                return Err(format!("{name}: expected {expected} finite values, got {}", v.len()));
            }
            let data = TensorData::new(v.clone(), shape);
            match name.as_str() {
                "conv1.weight" => self.conv1.weight = self.conv1.weight.map(|_| Tensor::from_data(data, device)),
                "conv2.weight" => self.conv2.weight = self.conv2.weight.map(|_| Tensor::from_data(data, device)),
                "bn1.weight" => self.bn1.gamma = self.bn1.gamma.map(|_| Tensor::from_data(data, device)),
                "bn1.bias" => self.bn1.beta = self.bn1.beta.map(|_| Tensor::from_data(data, device)),
                "bn2.weight" => self.bn2.gamma = self.bn2.gamma.map(|_| Tensor::from_data(data, device)),
                "bn2.bias" => self.bn2.beta = self.bn2.beta.map(|_| Tensor::from_data(data, device)),
                other => return Err(format!("{other}: not a parameter of the model")),
            }
        }
        Ok(self)
    }
}

/// Per-pixel cross-entropy against one class for every pixel, `-log_softmax(logits)[label]`,
/// summed along each image row. PyTorch's loss is the mean over pixels: the row sums' total
/// divided by the pixel count.
///
/// # Shapes
///   - logits `[N, C, H, W]`
///   - output `[N, H]`
pub fn pixel_cross_entropy_rows(logits: Tensor<4>, label: usize) -> Tensor<2> {
    pixel_nll_rows(logits, label) // [N, H]
}
