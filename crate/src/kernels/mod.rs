//! The model's three layer kinds as a burn backend extension, so each backend brings its own
//! kernels while the model, autodiff and the optimizer stay plain burn:
//!
//! | op | what |
//! |---|---|
//! | [`conv3x3`] | Conv2d 3×3, stride 1, zero padding 1, no bias |
//! | [`batch_norm`] | train-mode BatchNorm2d (batch statistics, ε = 1e-5), then ReLU if asked |
//! | [`pixel_nll_rows`] | per-pixel cross-entropy against one label, summed along rows, `[N, C, H, W] → [N, H]` |
//!
//! and [`tap`], which hands a map's gradient to a probe. Everything else the depth lab needs
//! (conv biases, tanh and sigmoid, the per-pixel targets' loss) is burn's own tensor ops, on
//! every backend.
//!
//! Which kernels run, by the tensors' dtype (`model::ModelConfig::dtype`):
//! - Flex, f32 (the seed's arches): the direct SIMD kernels of [`conv`], [`norm`] and [`loss`],
//!   the hot path of the page.
//! - Flex, f64 (a stack): [`conv64`] (Winograd's F(4×4, 3×3) of [`winograd`] from 48 channel
//!   pairs, the definition below) and the f64 kernels of [`norm`] and [`loss`].
//! - NdArray: the trait's default bodies, which are burn's own ops (conv2d, batch_norm_train,
//!   log_softmax), untouched: the second CPU backend doubles as a check of the first; except a
//!   stack's convs, which are [`conv64`]'s.
//! - Cube (wgpu/WebGPU, f32 only): the defaults too, except the conv weight gradient, summed from
//!   nine shifted products: burn 0.22.1's conv weight-gradient kernel on wgpu went wrong above
//!   about 32,768 pixels (see `docs/wgpu-conv-weight-grad.md`).
//!
//! Autodiff records one node per op; its backward calls the matching gradient op, and skips the
//! input gradient when the input needs none (conv1's input is the image).

// burn-ndarray is deprecated upstream in favour of flex, but the design names it.
#![allow(deprecated)]

pub mod conv;
pub mod conv64;
mod flex;
pub mod loss;
pub mod norm;
#[cfg(feature = "webgpu")]
mod shifted;
#[cfg(test)]
mod testing;
pub mod winograd;

use burn::backend::autodiff::{
    Autodiff, NodeId,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::ops::ConvOptions;
use burn::backend::{
    AutodiffBackend, Backend, Dispatch, ExtensionType, TensorMetadata, backend_extension, tensor::FloatTensor,
};
use burn::prelude::Tensor;
use burn::tensor::{Shape, Slice};

/// The 8 values of `values` from `at`, as one vector.
#[inline(always)]
fn load8(values: &[f32], at: usize) -> wide::f32x8 {
    wide::f32x8::new(values[at..at + 8].try_into().expect("a whole chunk"))
}

/// The 4 values of `values` from `at`, as one vector: [`load8`] for the f64 kernels.
#[inline(always)]
fn load4(values: &[f64], at: usize) -> wide::f64x4 {
    wide::f64x4::new(values[at..at + 4].try_into().expect("four values"))
}

/// `a · b + c`. In the module built with the feature `fma` (the page's flex module where the
/// browser has relaxed SIMD), one fused multiply-add where the CPU has it: one rounding instead
/// of two, and half the instructions of the stack's products, dot products and transforms
/// (deep_bn's step took 0.888 and 0.873 of the plain build's in Chromium, bench/ab.mjs, both
/// orders). Elsewhere a multiply, then an add: the same bits on every target, as before.
///
/// Only code compiled with relaxed SIMD inlines the fused form, so the kernels' entry points carry
/// `#[cfg_attr(all(target_arch = "wasm32", feature = "fma"), target_feature(enable = "relaxed-simd"))]`
/// (what they inline inherits it, their closures too). Reached from any other function, the
/// intrinsic stays a call per operation (1.7 times the step), and `cargo xtask build` refuses
/// the module.
#[inline(always)]
fn madd(a: wide::f64x4, b: wide::f64x4, c: wide::f64x4) -> wide::f64x4 {
    #[cfg(all(target_arch = "wasm32", feature = "fma"))]
    return by_halves([a, b, c], |[a, b, c]| core::arch::wasm32::f64x2_relaxed_madd(a, b, c));
    #[cfg(not(all(target_arch = "wasm32", feature = "fma")))]
    return a * b + c;
}

/// `c − a · b`, fused as [`madd`] is.
#[inline(always)]
fn nmadd(a: wide::f64x4, b: wide::f64x4, c: wide::f64x4) -> wide::f64x4 {
    #[cfg(all(target_arch = "wasm32", feature = "fma"))]
    return by_halves([a, b, c], |[a, b, c]| core::arch::wasm32::f64x2_relaxed_nmadd(a, b, c));
    #[cfg(not(all(target_arch = "wasm32", feature = "fma")))]
    return c - a * b;
}

/// `f` on the low halves of three f64x4, then on their high halves: in wasm an f64x4 is two
/// f64x2 side by side, each one v128, which is what the relaxed-SIMD intrinsics take.
#[cfg(all(target_arch = "wasm32", feature = "fma"))]
#[inline(always)]
fn by_halves(
    values: [wide::f64x4; 3],
    f: impl Fn([core::arch::wasm32::v128; 3]) -> core::arch::wasm32::v128,
) -> wide::f64x4 {
    use core::arch::wasm32::v128;
    // SAFETY: an f64x4 is two v128 (`repr(C)`), so three are three pairs.
    let [a, b, c]: [[v128; 2]; 3] = unsafe { core::mem::transmute(values) };
    let halves = [f([a[0], b[0], c[0]]), f([a[1], b[1], c[1]])];
    // SAFETY: as above.
    unsafe { core::mem::transmute::<[v128; 2], wide::f64x4>(halves) }
}

/// The sum of a vector's 8 lanes, in f64: where the kernels hand an f32 partial sum on to an
/// f64 total.
#[inline(always)]
fn lane_sum(v: wide::f32x8) -> f64 {
    v.to_array().iter().map(|&x| x as f64).sum()
}

/// A float the kernels write, with a NaN no kernel makes (arithmetic NaNs have an empty or the
/// canonical payload) to mark the slots [`uninit_output`] has not seen written.
trait Slot: Copy + PartialEq {
    const UNWRITTEN: Self;
    fn bits_eq(self, other: Self) -> bool;
}

impl Slot for f32 {
    const UNWRITTEN: f32 = f32::from_bits(0x7fa5_1e55);
    fn bits_eq(self, other: f32) -> bool {
        self.to_bits() == other.to_bits()
    }
}

impl Slot for f64 {
    const UNWRITTEN: f64 = f64::from_bits(0x7ff5_1e55_1e55_1e55);
    fn bits_eq(self, other: f64) -> bool {
        self.to_bits() == other.to_bits()
    }
}

/// Whether [`uninit_output`] marks its slots and checks that every one was written.
const CHECK_OUTPUTS: bool = cfg!(any(test, feature = "check-outputs"));

/// A vector of `len` values written by `fill`, without zeroing it first. `vec![0.0; len]`
/// pays a memset of every output (about a tenth of a 224² step natively, measured with perf)
/// that the kernels then overwrite. With the feature `check-outputs` (the tests turn it on)
/// the slots are filled with a marker first, and every one must have been overwritten.
///
/// # Safety
/// `fill` must write every one of the `len` slots it is given.
unsafe fn uninit_output<T: Slot>(len: usize, fill: impl FnOnce(&mut [std::mem::MaybeUninit<T>])) -> Vec<T> {
    let mut out = Vec::with_capacity(len);
    let slots = &mut out.spare_capacity_mut()[..len];
    if CHECK_OUTPUTS {
        slots.fill(std::mem::MaybeUninit::new(T::UNWRITTEN));
    }
    fill(slots);
    // SAFETY: the caller promises that `fill` initialised all `len` values.
    unsafe { out.set_len(len) };
    if CHECK_OUTPUTS {
        let missed = out.iter().position(|v| v.bits_eq(T::UNWRITTEN));
        assert!(missed.is_none(), "uninit_output: slot {} of {len} was never written", missed.unwrap_or(0));
    }
    out
}

/// [`uninit_output`] for a kernel whose writes are scattered: the slots get one sequential pass
/// first, zeros (or the check's marker, so that the check still sees a slot the kernel misses),
/// which brings the output into cache ahead of the scattered writes (see `winograd::conv3x3`).
///
/// # Safety
/// As [`uninit_output`]'s.
unsafe fn prefilled_output<T: Slot + Default>(
    len: usize,
    fill: impl FnOnce(&mut [std::mem::MaybeUninit<T>]),
) -> Vec<T> {
    let prefill = |slots: &mut [std::mem::MaybeUninit<T>]| {
        if !CHECK_OUTPUTS {
            slots.fill(std::mem::MaybeUninit::new(T::default()));
        }
        fill(slots);
    };
    // SAFETY: the caller's, for `fill`.
    unsafe { uninit_output(len, prefill) }
}

/// The kernel flipped in space and transposed in channels: `[cout, cin, 3, 3]` → `[cin, cout, 3, 3]`.
fn flip<T: Copy + Default>(weight: &[T], cin: usize, cout: usize) -> Vec<T> {
    let mut flipped = vec![T::default(); weight.len()];
    for o in 0..cout {
        for i in 0..cin {
            for k in 0..9 {
                flipped[(i * cout + o) * 9 + (8 - k)] = weight[(o * cin + i) * 9 + k];
            }
        }
    }
    flipped
}

/// The geometry of an `[N, C, H, W]` tensor stored row-major: the one convention of every
/// slice kernel (`C` is the input's channels for a conv, the classes for the loss).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nchw {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl Nchw {
    pub fn of([batch, channels, height, width]: [usize; 4]) -> Self {
        Nchw { batch, channels, height, width }
    }

    /// The same images with `channels` channels.
    pub fn with_channels(self, channels: usize) -> Self {
        Nchw { channels, ..self }
    }

    pub fn dims(self) -> [usize; 4] {
        [self.batch, self.channels, self.height, self.width]
    }

    /// Values in one channel of one image: H·W.
    pub fn plane(self) -> usize {
        self.height * self.width
    }

    /// Values in all: N·C·H·W (PyTorch's `numel`).
    pub fn numel(self) -> usize {
        self.batch * self.channels * self.plane()
    }
}

/// BatchNorm's ε, PyTorch's default.
pub const BN_EPS: f64 = 1e-5;

/// What [`LayerOps::bn_act`] gives: its output, and the batch's statistics, `[2, C]` (each
/// channel's mean, then its biased variance), which its backward pass takes instead of
/// computing them again (f64 where the backend's kernels sum in f64, burn's dtype otherwise).
#[derive(ExtensionType)]
pub struct NormOutput<B: Backend> {
    pub y: FloatTensor<B>,
    pub stats: FloatTensor<B>,
}

/// The three gradients of [`batch_norm`].
#[derive(ExtensionType)]
pub struct NormGrads<B: Backend> {
    pub x: FloatTensor<B>,
    pub gamma: FloatTensor<B>,
    pub beta: FloatTensor<B>,
}

/// The layer ops of the model. The default bodies are burn's own ops ([`stock`]).
#[backend_extension(Autodiff, Flex, NdArray: cfg(feature = "ndarray"), Cube: cfg(feature = "webgpu"))]
pub trait LayerOps: Backend {
    /// `x` `[N, cin, H, W]`, `weight` `[cout, cin, 3, 3]` → `[N, cout, H, W]`.
    fn conv3x3(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        stock::conv3x3::<Self>(x, weight)
    }

    /// The gradient of [`conv3x3`] with respect to `x`, given the output's gradient.
    fn conv3x3_input_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        stock::conv3x3_input_grad::<Self>(x, weight, grad)
    }

    /// The gradient of [`conv3x3`] with respect to `weight`, given the output's gradient.
    fn conv3x3_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        stock::conv3x3_weight_grad::<Self>(x, weight, grad)
    }

    /// `batch_norm_train(x, gamma, beta)` over `[N, C, H, W]`, then ReLU when `relu`.
    fn bn_act(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        relu: bool,
    ) -> NormOutput<Self> {
        stock::batch_norm::<Self>(x, gamma, beta, relu)
    }

    /// The gradients of [`Self::bn_act`] given the output's gradient and the forward's `stats`.
    fn bn_act_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        relu: bool,
    ) -> NormGrads<Self> {
        stock::batch_norm_backward::<Self>(x, gamma, beta, stats, grad, relu)
    }

    /// `y`, unchanged, with `probe` as a second parent that receives ∂L/∂y in the backward
    /// pass: how a map's gradient is read, which burn's autodiff keeps for parameters only. No
    /// arithmetic (the first way, `y + zeros`, added a map of zeros to every block's output every
    /// step: 1.9% of a deep_bn step in f64). Outside autodiff there is no backward pass, and
    /// `probe` is not used.
    fn tap(y: FloatTensor<Self>, probe: FloatTensor<Self>) -> FloatTensor<Self> {
        let _ = probe;
        y
    }

    /// `-log_softmax(logits, dim 1)[:, label]` summed along each image row: `[N, C, H, W]` →
    /// `[N, H]`. Training needs only the total; the host averages these row sums in f64.
    fn pixel_nll_rows(logits: FloatTensor<Self>, label: usize) -> FloatTensor<Self> {
        stock::pixel_nll_rows::<Self>(logits, label)
    }

    /// [`pixel_nll_rows`] and the softmax of `logits`, which is what its backward needs.
    fn pixel_nll_rows_with_softmax(
        logits: FloatTensor<Self>,
        label: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let softmax = stock::softmax::<Self>(logits.clone());
        (stock::pixel_nll_rows::<Self>(logits, label), softmax)
    }

    /// The gradient of [`pixel_nll_rows`] with respect to the logits, given the row sums'
    /// gradient `grad` `[N, H]`: `grad[n, y] · (softmax − onehot(label))` at every pixel.
    fn pixel_nll_rows_backward(
        softmax: FloatTensor<Self>,
        label: usize,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        stock::pixel_nll_rows_backward::<Self>(softmax, label, grad)
    }
}

/// The ops composed of burn's own backend ops: what NdArray and Cube run, and Flex's fallback
/// for dtypes other than f32.
pub mod stock {
    use super::*;

    fn conv_options() -> ConvOptions<2> {
        ConvOptions::new([1, 1], [1, 1], [1, 1], 1)
    }

    pub fn conv3x3<B: Backend>(x: FloatTensor<B>, weight: FloatTensor<B>) -> FloatTensor<B> {
        B::conv2d(x, weight, None, conv_options())
    }

    pub fn conv3x3_input_grad<B: Backend>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
    ) -> FloatTensor<B> {
        B::conv2d_x_backward(x, weight, grad, conv_options())
    }

    pub fn conv3x3_weight_grad<B: Backend>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
    ) -> FloatTensor<B> {
        B::conv2d_weight_backward(x, weight, grad, conv_options())
    }

    pub fn batch_norm<B: Backend>(
        x: FloatTensor<B>,
        gamma: FloatTensor<B>,
        beta: FloatTensor<B>,
        relu: bool,
    ) -> NormOutput<B> {
        let forward = B::batch_norm_train(x, gamma, beta, BN_EPS);
        let y = if relu { B::relu(forward.output) } else { forward.output };
        let stats = B::float_cat(vec![forward.mean, forward.variance], 0); // [2·C]
        let c = stats.shape()[0] / 2;
        NormOutput { y, stats: B::float_reshape(stats, Shape::new([2, c])) }
    }

    pub fn batch_norm_backward<B: Backend>(
        x: FloatTensor<B>,
        gamma: FloatTensor<B>,
        beta: FloatTensor<B>,
        stats: FloatTensor<B>,
        grad: FloatTensor<B>,
        relu: bool,
    ) -> NormGrads<B> {
        let c = stats.shape()[1];
        let row = |k: usize| {
            B::float_reshape(
                B::float_slice(stats.clone(), &[Slice::from(k..k + 1), Slice::from(0..c)]),
                Shape::new([c]),
            )
        };
        let (mean, variance) = (row(0), row(1));
        let grad = if relu {
            // The forward's output again, from its statistics: where it was > 0, the gradient passes.
            let y = B::batch_norm(x.clone(), gamma.clone(), beta, mean.clone(), variance.clone(), BN_EPS);
            B::relu_backward(B::relu(y), grad)
        } else {
            grad
        };
        let g = B::batch_norm_train_backward(x, gamma, mean, variance, BN_EPS, grad);
        NormGrads { x: g.x_grad, gamma: g.gamma_grad, beta: g.beta_grad }
    }

    pub fn pixel_nll_rows<B: Backend>(logits: FloatTensor<B>, label: usize) -> FloatTensor<B> {
        let [n, _, h, w] = logits.shape().dims::<4>();
        let picked = B::float_slice(log_softmax::<B>(logits), &channel(label, n, h, w)); // [N, 1, H, W]
        // Negated and made contiguous before the sum: ndarray sums a strided slice in another
        // order, which at zero init drifts 2e-6 from PyTorch's ln 3.
        let pixels = B::float_neg(B::float_reshape(picked, Shape::new([n, h, w]))); // [N, H, W]
        B::float_reshape(B::float_sum_dim(pixels, 2), Shape::new([n, h])) // [N, H]
    }

    pub fn pixel_nll_rows_backward<B: Backend>(
        softmax: FloatTensor<B>,
        label: usize,
        grad: FloatTensor<B>,
    ) -> FloatTensor<B> {
        let [n, _, h, w] = softmax.shape().dims::<4>();
        let grad = B::float_reshape(grad, Shape::new([n, 1, h, 1])); // broadcast along rows
        let scaled = B::float_mul(softmax, grad.clone());
        let slot = channel(label, n, h, w);
        let at_label = B::float_sub(B::float_slice(scaled.clone(), &slot), grad);
        B::float_slice_assign(scaled, &slot, at_label)
    }

    pub fn softmax<B: Backend>(logits: FloatTensor<B>) -> FloatTensor<B> {
        B::float_exp(log_softmax::<B>(logits))
    }

    /// The slice of one channel of an `[N, C, H, W]` tensor.
    fn channel(label: usize, n: usize, h: usize, w: usize) -> [Slice; 4] {
        [Slice::from(0..n), Slice::from(label..label + 1), Slice::from(0..h), Slice::from(0..w)]
    }

    /// log_softmax over dim 1: `z − max − ln Σ exp(z − max)`.
    fn log_softmax<B: Backend>(z: FloatTensor<B>) -> FloatTensor<B> {
        let max = B::float_max_dim(z.clone(), 1);
        let shifted = B::float_sub(z, max);
        let sum = B::float_sum_dim(B::float_exp(shifted.clone()), 1);
        B::float_sub(shifted, B::float_log(sum))
    }
}

// ---- the model's entry points, on tensors of any backend ------------------------------------

/// Conv2d 3×3, stride 1, zero padding 1, no bias.
pub fn conv3x3(x: Tensor<4>, weight: Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as LayerOps>::conv3x3(x.into_dispatch(), weight.into_dispatch()))
}

/// Train-mode BatchNorm2d (batch statistics, biased variance, ε = 1e-5), then ReLU if `relu`.
pub fn batch_norm(x: Tensor<4>, gamma: Tensor<1>, beta: Tensor<1>, relu: bool) -> Tensor<4> {
    Tensor::from_dispatch(
        <Dispatch as LayerOps>::bn_act(x.into_dispatch(), gamma.into_dispatch(), beta.into_dispatch(), relu)
            .y,
    )
}

/// `y`, whose gradient the backward pass also hands to `probe` ([`LayerOps::tap`]).
pub fn tap(y: Tensor<4>, probe: &Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as LayerOps>::tap(y.into_dispatch(), probe.clone().into_dispatch()))
}

/// Per-pixel cross-entropy of `logits` `[N, C, H, W]` against `label` everywhere, summed along
/// each image row: `[N, H]`.
pub fn pixel_nll_rows(logits: Tensor<4>, label: usize) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as LayerOps>::pixel_nll_rows(logits.into_dispatch(), label))
}

// ---- backends ---------------------------------------------------------------------------------

/// NdArray keeps burn's own ops, except for a stack's convs (f64 tensors), which are flex's
/// ([`conv64`]): the same numbers on both CPU backends, where burn's own f64 conv sums in
/// another order, and at a fraction of its time.
#[cfg(feature = "ndarray")]
impl LayerOps for burn::backend::NdArray {
    fn conv3x3(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        if x.dtype() != burn::tensor::DType::F64 {
            return stock::conv3x3::<Self>(x, weight);
        }
        let (dims, cout) = (Nchw::of(x.shape().dims::<4>()), weight.shape().dims::<4>()[0]);
        let out = conv64::conv3x3(&host::<Self>(x), &host::<Self>(weight), dims, cout);
        ndarray_tensor(out, dims.with_channels(cout).dims())
    }

    fn conv3x3_input_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        if x.dtype() != burn::tensor::DType::F64 {
            return stock::conv3x3_input_grad::<Self>(x, weight, grad);
        }
        let (dims, cout) = (Nchw::of(x.shape().dims::<4>()), weight.shape().dims::<4>()[0]);
        let out = conv64::conv3x3_input_grad(&host::<Self>(grad), &host::<Self>(weight), dims, cout);
        ndarray_tensor(out, dims.dims())
    }

    fn conv3x3_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        if x.dtype() != burn::tensor::DType::F64 {
            return stock::conv3x3_weight_grad::<Self>(x, weight, grad);
        }
        let (dims, cout) = (Nchw::of(x.shape().dims::<4>()), weight.shape().dims::<4>()[0]);
        let out = conv64::conv3x3_weight_grad(&host::<Self>(x), &host::<Self>(grad), dims, cout);
        ndarray_tensor(out, [cout, dims.channels, 3, 3])
    }
}

/// An NdArray tensor of `values` (NdArray has one device, the CPU).
#[cfg(feature = "ndarray")]
fn ndarray_tensor<const D: usize>(
    values: Vec<f64>,
    shape: [usize; D],
) -> FloatTensor<burn::backend::NdArray> {
    use burn::backend::ops::FloatTensorOps;
    burn::backend::NdArray::float_from_data(burn::tensor::TensorData::new(values, shape), &Default::default())
}

/// An f64 CPU tensor's values. The read of a CPU backend is ready at once: one poll.
#[cfg(feature = "ndarray")]
fn host<B: Backend>(t: FloatTensor<B>) -> Vec<f64> {
    let mut read = std::pin::pin!(B::float_into_data(t));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match read.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(data) => data.expect("a CPU read").try_into_vec::<f64>().expect("f64 values"),
        std::task::Poll::Pending => panic!("a CPU backend's read is never pending"),
    }
}

#[cfg(feature = "webgpu")]
impl LayerOps for burn::backend::Cube {
    fn conv3x3_weight_grad(
        x: FloatTensor<Self>,
        _weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        shifted::weight_grad::<Self>(x, grad)
    }
}

impl<B: LayerOps, C: CheckpointStrategy> LayerOps for Autodiff<B, C> {
    fn conv3x3(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct Conv3x3Backward;

        impl<B: LayerOps> Backward<B, 2> for Conv3x3Backward {
            type State = (NodeId, NodeId);

            fn backward(
                self,
                ops: Ops<Self::State, 2>,
                grads: &mut Gradients,
                checkpointer: &mut Checkpointer,
            ) {
                let [node_x, node_weight] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (x_state, weight_state) = ops.state;
                let x: FloatTensor<B> = checkpointer.retrieve_node_output(x_state);
                let weight: FloatTensor<B> = checkpointer.retrieve_node_output(weight_state);
                if let Some(node) = node_x {
                    let dx = B::conv3x3_input_grad(x.clone(), weight.clone(), grad.clone());
                    grads.register::<B>(node.id, dx);
                }
                if let Some(node) = node_weight {
                    grads.register::<B>(node.id, B::conv3x3_weight_grad(x, weight, grad));
                }
            }
        }

        match Conv3x3Backward.prepare::<C>([x.node(), weight.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&x), prep.checkpoint(&weight));
                prep.finish(state, B::conv3x3(x.into_primitive(), weight.into_primitive()))
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv3x3(x.into_primitive(), weight.into_primitive())),
        }
    }

    fn bn_act(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        relu: bool,
    ) -> NormOutput<Self> {
        #[derive(Debug)]
        struct BatchNormBackward;

        impl<B: LayerOps> Backward<B, 3> for BatchNormBackward {
            type State = (NodeId, NodeId, NodeId, FloatTensor<B>, bool);

            fn backward(
                self,
                ops: Ops<Self::State, 3>,
                grads: &mut Gradients,
                checkpointer: &mut Checkpointer,
            ) {
                let [node_x, node_gamma, node_beta] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (x, gamma, beta, stats, relu) = ops.state;
                let g = B::bn_act_backward(
                    checkpointer.retrieve_node_output(x),
                    checkpointer.retrieve_node_output(gamma),
                    checkpointer.retrieve_node_output(beta),
                    stats,
                    grad,
                    relu,
                );
                for (node, value) in [(node_x, g.x), (node_gamma, g.gamma), (node_beta, g.beta)] {
                    if let Some(node) = node {
                        grads.register::<B>(node.id, value);
                    }
                }
            }
        }

        match BatchNormBackward.prepare::<C>([x.node(), gamma.node(), beta.node()]).compute_bound().stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let (x_state, gamma_state, beta_state) =
                    (prep.checkpoint(&x), prep.checkpoint(&gamma), prep.checkpoint(&beta));
                let out = B::bn_act(x.into_primitive(), gamma.into_primitive(), beta.into_primitive(), relu);
                let state = (x_state, gamma_state, beta_state, out.stats.clone(), relu);
                NormOutput { y: prep.finish(state, out.y), stats: Self::from_inner(out.stats) }
            }
            OpsKind::UnTracked(prep) => {
                let out = B::bn_act(x.into_primitive(), gamma.into_primitive(), beta.into_primitive(), relu);
                NormOutput { y: prep.finish(out.y), stats: Self::from_inner(out.stats) }
            }
        }
    }

    fn tap(y: FloatTensor<Self>, probe: FloatTensor<Self>) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct TapBackward;

        impl<B: LayerOps> Backward<B, 2> for TapBackward {
            type State = ();

            fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
                let [node_y, node_probe] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                if let Some(node) = node_probe {
                    grads.register::<B>(node.id, grad.clone());
                }
                if let Some(node) = node_y {
                    grads.register::<B>(node.id, grad);
                }
            }
        }

        let output = y.primitive().clone();
        TapBackward.prepare::<C>([y.node(), probe.node()]).compute_bound().stateless(output)
    }

    fn pixel_nll_rows(logits: FloatTensor<Self>, label: usize) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct PixelNllRowsBackward;

        impl<B: LayerOps> Backward<B, 1> for PixelNllRowsBackward {
            /// The forward's softmax (saved: recomputing it costs three exps per pixel).
            type State = (FloatTensor<B>, usize);

            fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
                let [node_logits] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (softmax, label) = ops.state;
                if let Some(node) = node_logits {
                    grads.register::<B>(node.id, B::pixel_nll_rows_backward(softmax, label, grad));
                }
            }
        }

        match PixelNllRowsBackward.prepare::<C>([logits.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (rows, softmax) = B::pixel_nll_rows_with_softmax(logits.into_primitive(), label);
                prep.finish((softmax, label), rows)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::pixel_nll_rows(logits.into_primitive(), label)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "slot 3 of 4 was never written")]
    fn an_output_slot_left_unwritten_is_caught() {
        // SAFETY: not upheld on purpose; the check panics before the vector is read.
        let _ = unsafe { uninit_output(4, |slots| slots[..3].fill(std::mem::MaybeUninit::new(1.0f32))) };
    }
}
