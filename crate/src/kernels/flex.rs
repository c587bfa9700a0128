//! The Flex backend's kernels: burn-flex tensors in and out, our slice kernels in between.
//! Anything but f32 falls back to the default (burn's own) ops.

use std::borrow::Cow;

use burn::backend::flex::FlexTensor;
use burn::backend::{DType, Flex, TensorMetadata, tensor::FloatTensor};
use burn::tensor::TensorData;

use super::{BN_EPS, LayerOps, Nchw, NormGrads, conv, loss, norm, stock};

/// The tensor's f32 values in row-major order, or `None` for another dtype.
fn values(t: &FlexTensor) -> Option<Cow<'_, [f32]>> {
    if t.dtype() != DType::F32 {
        return None;
    }
    Some(match t.as_slice::<f32>() {
        Some(s) if t.is_contiguous() => Cow::Borrowed(s),
        _ => Cow::Owned(t.to_contiguous().as_slice::<f32>().expect("contiguous f32").to_vec()),
    })
}

fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

impl LayerOps for Flex {
    fn conv3x3(x: FloatTensor<Self>, weight: FloatTensor<Self>, exact_sums: bool) -> FloatTensor<Self> {
        let (dims, cout) = (Nchw::of(x.shape().dims::<4>()), weight.shape().dims::<4>()[0]);
        match (values(&x), values(&weight)) {
            (Some(xs), Some(ws)) => {
                let conv = if exact_sums { conv::conv3x3_exact_sums } else { conv::conv3x3 };
                tensor(conv(&xs, &ws, dims, cout), dims.with_channels(cout).dims())
            }
            _ => stock::conv3x3::<Flex>(x, weight),
        }
    }

    fn conv3x3_input_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        exact_sums: bool,
    ) -> FloatTensor<Self> {
        let (dims, cout) = (Nchw::of(x.shape().dims::<4>()), weight.shape().dims::<4>()[0]);
        let input_grad =
            if exact_sums { conv::conv3x3_input_grad_exact_sums } else { conv::conv3x3_input_grad };
        match (values(&weight), values(&grad)) {
            (Some(ws), Some(gs)) => tensor(input_grad(&gs, &ws, dims, cout), dims.dims()),
            _ => stock::conv3x3_input_grad::<Flex>(x, weight, grad),
        }
    }

    fn conv3x3_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        exact_sums: bool,
    ) -> FloatTensor<Self> {
        let (dims, cout) = (Nchw::of(x.shape().dims::<4>()), weight.shape().dims::<4>()[0]);
        let weight_grad =
            if exact_sums { conv::conv3x3_weight_grad_exact_sums } else { conv::conv3x3_weight_grad };
        match (values(&x), values(&grad)) {
            (Some(xs), Some(gs)) => tensor(weight_grad(&xs, &gs, dims, cout), [cout, dims.channels, 3, 3]),
            _ => stock::conv3x3_weight_grad::<Flex>(x, weight, grad),
        }
    }

    fn bn_act(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self> {
        let dims = Nchw::of(x.shape().dims::<4>());
        match (values(&x), values(&gamma), values(&beta)) {
            (Some(xs), Some(g), Some(b)) if relu => {
                tensor(norm::batch_norm::<true>(&xs, &g, &b, dims, BN_EPS), dims.dims())
            }
            (Some(xs), Some(g), Some(b)) => {
                tensor(norm::batch_norm::<false>(&xs, &g, &b, dims, BN_EPS), dims.dims())
            }
            _ => stock::batch_norm::<Flex>(x, gamma, beta, relu),
        }
    }

    fn bn_act_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        relu: bool,
    ) -> NormGrads<Self> {
        let dims = Nchw::of(x.shape().dims::<4>());
        match (values(&x), values(&gamma), values(&beta), values(&grad)) {
            (Some(xs), Some(g), Some(b), Some(gs)) => {
                let (dx, dg, db) = if relu {
                    norm::batch_norm_backward::<true>(&xs, &g, &b, &gs, dims, BN_EPS)
                } else {
                    norm::batch_norm_backward::<false>(&xs, &g, &b, &gs, dims, BN_EPS)
                };
                let c = dims.channels;
                NormGrads { x: tensor(dx, dims.dims()), gamma: tensor(dg, [c]), beta: tensor(db, [c]) }
            }
            _ => stock::batch_norm_backward::<Flex>(x, gamma, beta, grad, relu),
        }
    }

    fn pixel_nll_rows(logits: FloatTensor<Self>, label: usize) -> FloatTensor<Self> {
        Self::pixel_nll_rows_with_softmax(logits, label).0
    }

    fn pixel_nll_rows_with_softmax(
        logits: FloatTensor<Self>,
        label: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let dims = Nchw::of(logits.shape().dims::<4>());
        match values(&logits) {
            Some(z) if dims.channels <= loss::MAX_CLASSES => {
                let (rows, softmax) = loss::pixel_nll_rows(&z, dims, label);
                (tensor(rows, [dims.batch, dims.height]), tensor(softmax, dims.dims()))
            }
            _ => {
                let softmax = stock::softmax::<Flex>(logits.clone());
                (stock::pixel_nll_rows::<Flex>(logits, label), softmax)
            }
        }
    }

    fn pixel_nll_rows_backward(
        softmax: FloatTensor<Self>,
        label: usize,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let dims = Nchw::of(softmax.shape().dims::<4>());
        match (values(&softmax), values(&grad)) {
            (Some(s), Some(g)) => tensor(loss::pixel_nll_rows_backward(&s, dims, label, &g), dims.dims()),
            _ => stock::pixel_nll_rows_backward::<Flex>(softmax, label, grad),
        }
    }
}
