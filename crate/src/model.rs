//! The network: `depth` blocks of conv 3×3 → [BatchNorm] → activation, the last block's output
//! being the per-pixel logits of the 3 classes. The blog's two_conv is a stack of two ReLU
//! blocks with BatchNorm and no bias; its single_conv control runs conv2 alone.

use burn::{
    module::Param,
    nn::{
        BatchNorm, BatchNormConfig, Initializer, PaddingConfig2d,
        conv::{Conv2d, Conv2dConfig},
    },
    prelude::*,
    tensor::{DType, TensorData, activation},
};

use crate::backend::BackendKind;
use crate::config::{Activation, Arch, ExperimentConfig, Norm, Target};
use crate::kernels::{batch_norm, conv3x3, pixel_nll_rows, tap};

/// The parameters' names, PyTorch's state-dict names of block `k` (from 1): the one naming of
/// the fixtures' `final`, the safetensors files, the snapshots and the per-layer records.
pub mod names {
    pub fn conv_weight(k: usize) -> String {
        format!("conv{k}.weight")
    }

    pub fn conv_bias(k: usize) -> String {
        format!("conv{k}.bias")
    }

    pub fn bn_weight(k: usize) -> String {
        format!("bn{k}.weight")
    }

    pub fn bn_bias(k: usize) -> String {
        format!("bn{k}.bias")
    }
}

/// One block's parameters. burn's own `Conv2d` and `BatchNorm` modules hold them (so names,
/// optimizer state and records are burn's); the forward pass runs them through
/// [`crate::kernels`], which gives each backend its fastest kernels for exactly these layers.
/// BatchNorm always uses the batch's statistics, as in PyTorch's train mode; its running
/// statistics are never read, so they are not kept up to date.
#[derive(Module, Debug)]
pub struct Block {
    pub conv: Conv2d,
    pub norm: Option<BatchNorm>,
}

#[derive(Module, Debug)]
pub struct Model {
    pub blocks: Vec<Block>,
}

/// The shape of the network, from a config.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    /// Channels from the image to the logits, `c[0] = 3 … c[depth] = 3`.
    pub widths: Vec<usize>,
    pub norm: Norm,
    pub activation: Activation,
    pub bias: bool,
    pub head_activation: bool,
    /// single_conv: the logits are the last conv of the image, nothing else runs (the other
    /// parameters exist, get no gradient and are never updated, as in PyTorch).
    pub last_conv_only: bool,
    /// The float type of every tensor of the run: the parameters, the image, every map and
    /// gradient. A stack on a CPU backend runs in f64, and so follows PyTorch's float64 rerun of
    /// the fixture (its first losses within 1e-12, relatively: `tests/parity.rs`) rather than a
    /// float32 run of its own: the fixtures' tolerance is 10× the gap between PyTorch's float32
    /// run and that rerun, so it holds by construction, where a float32 run of ours, rounding
    /// differently from PyTorch's, can put a pre-activation within float32 noise of zero on the
    /// other side of it and part from PyTorch from there (1 of 80 random stack fixtures did;
    /// see BENCHMARKS.md). The seed's arches stay in f32, as the blog's script and PyTorch's
    /// reference run them; WebGPU has no f64.
    pub dtype: DType,
}

impl ModelConfig {
    pub fn new(config: &ExperimentConfig, backend: BackendKind) -> Self {
        let f64_stack = config.arch == Arch::Stack && !backend.is_gpu();
        Self {
            widths: config.widths(),
            norm: config.norm,
            activation: config.activation,
            bias: config.bias,
            head_activation: config.head_activation,
            last_conv_only: config.arch == Arch::SingleConv,
            dtype: if f64_stack { DType::F64 } else { DType::F32 },
        }
    }

    /// A tensor of this model's float type from `data` (of any float type).
    pub fn tensor<const D: usize>(&self, data: TensorData, device: &Device) -> Tensor<D> {
        Tensor::from_data(data, (device, self.dtype))
    }

    /// A parameter of this model's float type from `data`.
    fn param<const D: usize>(&self, data: TensorData, device: &Device) -> Param<Tensor<D>> {
        Param::from_tensor(self.tensor(data, device))
    }

    pub fn depth(&self) -> usize {
        self.widths.len() - 1
    }

    /// Builds the model with the given conv weights (`[out, in, kh, kw]`, row-major, conv1
    /// first). Biases start at 0; BatchNorm at weight 1, bias 0, eps 1e-5, as in PyTorch.
    pub fn init(&self, weights: &[Vec<f32>], device: &Device) -> Model {
        assert_eq!(weights.len(), self.depth(), "one weight tensor per conv");
        let blocks = weights
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let (cin, cout) = (self.widths[i], self.widths[i + 1]);
                let mut conv = Conv2dConfig::new([cin, cout], [3, 3])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .with_bias(self.bias)
                    .with_initializer(Initializer::Zeros)
                    .init(device);
                conv.weight = self.param(TensorData::new(w.clone(), [cout, cin, 3, 3]), device);
                if let Some(bias) = &mut conv.bias {
                    *bias = self.param(TensorData::new(vec![0.0f32; cout], [cout]), device);
                }
                let norm = (self.norm == Norm::Batch).then(|| {
                    let mut bn = BatchNormConfig::new(cout).init(device);
                    bn.gamma = self.param(TensorData::new(vec![1.0f32; cout], [cout]), device);
                    bn.beta = self.param(TensorData::new(vec![0.0f32; cout], [cout]), device);
                    bn
                });
                Block { conv, norm }
            })
            .collect();
        Model { blocks }
    }

    /// The activation that ends block `i` (0-based), if any.
    fn activation_of(&self, i: usize) -> Option<Activation> {
        (i + 1 < self.depth() || self.head_activation).then_some(self.activation)
    }
}

/// Tracked tensors that the forward pass hands each block's maps to ([`tap`]): in the backward
/// pass a probe receives ∂L/∂(that map), which burn does not keep for intermediate tensors. A
/// probe is never read, so one value serves.
#[derive(Clone, Debug, Default)]
pub struct Probes {
    /// One per block, for the block's output (after its activation).
    pub outputs: Vec<Tensor<4>>,
    /// One per block, for the conv's output f (before the norm).
    pub convs: Vec<Tensor<4>>,
}

impl Probes {
    /// A probe per block, for the outputs and for the convs where asked.
    pub fn new(config: &ModelConfig, outputs: bool, convs: bool, device: &Device) -> Self {
        let make = |on: bool| -> Vec<Tensor<4>> {
            let probes = if on { config.depth() } else { 0 };
            (0..probes).map(|_| Tensor::zeros([1, 1, 1, 1], (device, config.dtype)).require_grad()).collect()
        };
        Probes { outputs: make(outputs), convs: make(convs) }
    }
}

/// What the forward pass computed.
pub struct Forward {
    /// Each block's conv output f (plus its bias), before the norm.
    pub convs: Vec<Tensor<4>>,
    /// Each block's output; the last is the logits `[N, 3, H, W]`.
    pub outputs: Vec<Tensor<4>>,
}

impl Forward {
    pub fn logits(&self) -> Tensor<4> {
        self.outputs.last().expect("at least one block").clone()
    }
}

impl Model {
    /// Per-pixel class logits for a batch of images.
    pub fn forward(&self, images: Tensor<4>, config: &ModelConfig) -> Tensor<4> {
        self.forward_all(images, config, &Probes::default()).logits()
    }

    /// The forward pass, keeping every block's maps.
    pub fn forward_all(&self, images: Tensor<4>, config: &ModelConfig, probes: &Probes) -> Forward {
        let mut forward = Forward { convs: Vec::new(), outputs: Vec::new() };
        if config.last_conv_only {
            let conv = &self.blocks.last().expect("at least one block").conv;
            let mut f = conv3x3(images, conv.weight.val()); // [N, 3, H, W]
            // The probes of the last block (the only one run): f is both its conv and its output.
            if let Some(probe) = probes.convs.last() {
                f = tap(f, probe); // [N, 3, H, W]
            }
            let mut y = f.clone();
            if let Some(probe) = probes.outputs.last() {
                y = tap(y, probe); // [N, 3, H, W]
            }
            forward.convs.push(f);
            forward.outputs.push(y);
            return forward;
        }
        let mut x = images; // [N, c[0], H, W]
        for (i, block) in self.blocks.iter().enumerate() {
            let mut f = conv3x3(x, block.conv.weight.val()); // [N, c[i+1], H, W]
            if let Some(bias) = &block.conv.bias {
                f = f + bias.val().reshape([1, -1, 1, 1]); // [N, c[i+1], H, W]
            }
            if let Some(probe) = probes.convs.get(i) {
                f = tap(f, probe); // [N, c[i+1], H, W]
            }
            let act = config.activation_of(i);
            let mut y = match &block.norm {
                // ReLU fused into the norm kernels: the seed's hot path.
                Some(bn) if act == Some(Activation::Relu) => {
                    batch_norm(f.clone(), bn.gamma.val(), bn.beta.val(), true)
                } // [N, c, H, W]
                Some(bn) => activate(batch_norm(f.clone(), bn.gamma.val(), bn.beta.val(), false), act), // [N, c, H, W]
                None => activate(f.clone(), act), // [N, c, H, W]
            };
            if let Some(probe) = probes.outputs.get(i) {
                y = tap(y, probe); // [N, c[i+1], H, W]
            }
            forward.convs.push(f);
            forward.outputs.push(y.clone());
            x = y;
        }
        forward
    }

    /// Every parameter with its name (`conv{i}.weight`, `conv{i}.bias`, `bn{i}.weight`,
    /// `bn{i}.bias`), block by block: the order of the fixtures' `final` and of snapshots.
    pub fn params(&self) -> Vec<(String, AnyParam<'_>)> {
        let mut out = Vec::new();
        for (i, block) in self.blocks.iter().enumerate() {
            let k = i + 1;
            out.push((names::conv_weight(k), AnyParam::Conv(&block.conv.weight)));
            if let Some(bias) = &block.conv.bias {
                out.push((names::conv_bias(k), AnyParam::Vector(bias)));
            }
            if let Some(bn) = &block.norm {
                out.push((names::bn_weight(k), AnyParam::Vector(&bn.gamma)));
                out.push((names::bn_bias(k), AnyParam::Vector(&bn.beta)));
            }
        }
        out
    }

    /// Replaces parameters' values by name, keeping their identities. Unknown names and wrong
    /// lengths are refused.
    pub fn with_values(mut self, values: &[(String, Vec<f64>)], device: &Device) -> Result<Self, String> {
        for (name, v) in values {
            let (kind, index) =
                parse_name(name).ok_or_else(|| format!("{name}: not a parameter of the model"))?;
            let block =
                self.blocks.get_mut(index).ok_or_else(|| format!("{name}: not a parameter of the model"))?;
            let param: &mut Param<Tensor<1>> = match kind {
                "conv.weight" => {
                    let dims = block.conv.weight.dims();
                    check(name, v, dims.iter().product())?;
                    let data = TensorData::new(v.clone(), dims);
                    let dtype = block.conv.weight.dtype();
                    block.conv.weight =
                        block.conv.weight.clone().map(|_| Tensor::from_data(data, (device, dtype)));
                    continue;
                }
                "conv.bias" => block.conv.bias.as_mut(),
                "bn.weight" => block.norm.as_mut().map(|bn| &mut bn.gamma),
                _ => block.norm.as_mut().map(|bn| &mut bn.beta),
            }
            .ok_or_else(|| format!("{name}: not a parameter of the model"))?;
            let len = param.dims()[0];
            check(name, v, len)?;
            let (data, dtype) = (TensorData::new(v.clone(), [len]), param.dtype());
            *param = param.clone().map(|_| Tensor::from_data(data, (device, dtype)));
        }
        Ok(self)
    }
}

fn check(name: &str, v: &[f64], expected: usize) -> Result<(), String> {
    if v.len() != expected || v.iter().any(|x| !x.is_finite()) {
        return Err(format!("{name}: expected {expected} finite values, got {}", v.len()));
    }
    Ok(())
}

/// `"conv3.bias"` → `("conv.bias", 2)`.
fn parse_name(name: &str) -> Option<(&'static str, usize)> {
    let (layer, part) = name.split_once('.')?;
    let (kind, k) = if let Some(k) = layer.strip_prefix("conv") {
        (
            if part == "weight" {
                "conv.weight"
            } else if part == "bias" {
                "conv.bias"
            } else {
                return None;
            },
            k,
        )
    } else if let Some(k) = layer.strip_prefix("bn") {
        (
            if part == "weight" {
                "bn.weight"
            } else if part == "bias" {
                "bn.bias"
            } else {
                return None;
            },
            k,
        )
    } else {
        return None;
    };
    let k: usize = k.parse().ok().filter(|&k| k >= 1)?;
    Some((kind, k - 1))
}

/// A parameter of either rank.
#[derive(Clone, Copy)]
pub enum AnyParam<'a> {
    Conv(&'a Param<Tensor<4>>),
    Vector(&'a Param<Tensor<1>>),
}

impl AnyParam<'_> {
    pub fn id(&self) -> burn::module::ParamId {
        match self {
            AnyParam::Conv(p) => p.id,
            AnyParam::Vector(p) => p.id,
        }
    }
}

fn activate(x: Tensor<4>, act: Option<Activation>) -> Tensor<4> {
    match act {
        Some(Activation::Relu) => activation::relu(x),
        Some(Activation::Tanh) => activation::tanh(x),
        Some(Activation::Sigmoid) => sigmoid(x),
        Some(Activation::Linear) | None => x,
    }
}

/// `1 / (1 + e^−x)`, composed of burn's ops: burn-ndarray 0.22.1's own sigmoid computes in f32
/// whatever the tensor's dtype (0.5744425058 for sigmoid(0.3) in f64, where e^x and the rest
/// are exact), which put a stack in f64 on ndarray 5e-10 off PyTorch's float64 run at step 0.
/// e^−x overflows to +∞ for x below about −709, and 1 / ∞ is the 0 that sigmoid is there.
fn sigmoid(x: Tensor<4>) -> Tensor<4> {
    x.neg().exp().add_scalar(1.0).recip()
}

/// What each pixel is labelled with, on the device.
// One per experiment, never in a collection: the size of the map variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Labels {
    /// One class everywhere: the fast kernel's case.
    Constant(usize),
    /// A per-pixel label map, as a one-hot `[N, 3, H, W]`, and the labels on the host
    /// (for the accuracy).
    Map { one_hot: Tensor<4>, host: Vec<u8> },
}

impl Labels {
    /// The labels `config.target` gives `image` (`[N, 3, H, W]` on the host, row-major), the
    /// one-hot map in the model's float type.
    pub fn new(config: &ExperimentConfig, model: &ModelConfig, image: &[f32], device: &Device) -> Self {
        match config.target {
            Target::Constant => Labels::Constant(config.label as usize),
            Target::InputArgmax => {
                let [n, c, h, w] = config.image_shape();
                let plane = h * w;
                let host: Vec<u8> = (0..n * plane)
                    .map(|p| {
                        let (img, at) = (p / plane, p % plane);
                        let value = |k: usize| image[(img * c + k) * plane + at];
                        // torch.argmax: the first index on ties.
                        (1..c).fold(0usize, |best, k| if value(k) > value(best) { k } else { best }) as u8
                    })
                    .collect();
                let mut one_hot = vec![0.0f32; n * c * plane];
                for (p, &label) in host.iter().enumerate() {
                    one_hot[((p / plane) * c + label as usize) * plane + p % plane] = 1.0;
                }
                let one_hot = model.tensor(TensorData::new(one_hot, [n, c, h, w]), device); // [N, 3, H, W]
                Labels::Map { one_hot, host }
            }
        }
    }

    /// The label of pixel `p` (NHW order).
    pub fn at(&self, p: usize) -> u8 {
        match self {
            Labels::Constant(label) => *label as u8,
            Labels::Map { host, .. } => host[p],
        }
    }
}

/// Per-pixel cross-entropy, `-log_softmax(logits)[label]`, summed along each image row.
/// PyTorch's loss is the mean over pixels: the row sums' total divided by the pixel count.
///
/// # Shapes
///   - logits `[N, C, H, W]`
///   - output `[N, H]`
pub fn cross_entropy_rows(logits: Tensor<4>, labels: &Labels) -> Tensor<2> {
    match labels {
        Labels::Constant(label) => pixel_nll_rows(logits, *label), // [N, H]
        Labels::Map { one_hot, .. } => {
            let [n, _, h, _] = logits.dims();
            let log_p = activation::log_softmax(logits, 1); // [N, C, H, W]
            let picked = (log_p * one_hot.clone()).sum_dim(1).neg(); // [N, 1, H, W]
            picked.sum_dim(3).reshape([n, h]) // [N, H]
        }
    }
}
