//! The Flex backend's kernels: burn-flex tensors in and out, our slice kernels in between: the
//! f32 ones for the seed's arches, the f64 ones for a stack (`model::ModelConfig::dtype`).
//! Anything else falls back to the default (burn's own) ops.

use std::borrow::Cow;

use burn::backend::flex::FlexTensor;
use burn::backend::{Flex, TensorMetadata, tensor::FloatTensor};
use burn::tensor::{Element, TensorData};
use wide::bytemuck;

use super::{BN_EPS, LayerOps, Nchw, NormGrads, NormOutput, conv, conv64, loss, norm, stock};

/// The tensor's values in row-major order, or `None` if they are not `E`s.
fn values<E: Element + bytemuck::Pod>(t: &FlexTensor) -> Option<Cow<'_, [E]>> {
    if t.dtype() != E::dtype() {
        return None;
    }
    Some(match t.as_slice::<E>() {
        Some(s) if t.is_contiguous() => Cow::Borrowed(s),
        _ => Cow::Owned(t.to_contiguous().as_slice::<E>().expect("contiguous").to_vec()),
    })
}

fn tensor<E: Element, const D: usize>(values: Vec<E>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

impl LayerOps for Flex {
    fn conv3x3(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        let (dims, cout) = (Nchw::of(x.shape().dims::<4>()), weight.shape().dims::<4>()[0]);
        let shape = dims.with_channels(cout).dims();
        if let (Some(xs), Some(ws)) = (values::<f32>(&x), values::<f32>(&weight)) {
            return tensor(conv::conv3x3(&xs, &ws, dims, cout), shape);
        }
        if let (Some(xs), Some(ws)) = (values::<f64>(&x), values::<f64>(&weight)) {
            return tensor(conv64::conv3x3(&xs, &ws, dims, cout), shape);
        }
        stock::conv3x3::<Flex>(x, weight)
    }

    fn conv3x3_input_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let (dims, cout) = (Nchw::of(x.shape().dims::<4>()), weight.shape().dims::<4>()[0]);
        if let (Some(ws), Some(gs)) = (values::<f32>(&weight), values::<f32>(&grad)) {
            return tensor(conv::conv3x3_input_grad(&gs, &ws, dims, cout), dims.dims());
        }
        if let (Some(ws), Some(gs)) = (values::<f64>(&weight), values::<f64>(&grad)) {
            return tensor(conv64::conv3x3_input_grad(&gs, &ws, dims, cout), dims.dims());
        }
        stock::conv3x3_input_grad::<Flex>(x, weight, grad)
    }

    fn conv3x3_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let (dims, cout) = (Nchw::of(x.shape().dims::<4>()), weight.shape().dims::<4>()[0]);
        let shape = [cout, dims.channels, 3, 3];
        if let (Some(xs), Some(gs)) = (values::<f32>(&x), values::<f32>(&grad)) {
            return tensor(conv::conv3x3_weight_grad(&xs, &gs, dims, cout), shape);
        }
        if let (Some(xs), Some(gs)) = (values::<f64>(&x), values::<f64>(&grad)) {
            return tensor(conv64::conv3x3_weight_grad(&xs, &gs, dims, cout), shape);
        }
        stock::conv3x3_weight_grad::<Flex>(x, weight, grad)
    }

    fn bn_act(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        relu: bool,
    ) -> NormOutput<Self> {
        let dims = Nchw::of(x.shape().dims::<4>());
        let output = |y, (mean, var): (Vec<f64>, Vec<f64>)| {
            let c = dims.channels;
            NormOutput { y, stats: tensor([mean, var].concat(), [2, c]) }
        };
        if let (Some(xs), Some(g), Some(b)) = (values::<f32>(&x), values::<f32>(&gamma), values::<f32>(&beta))
        {
            let stats = norm::stats(&xs, dims);
            let y = if relu {
                norm::batch_norm::<true>(&xs, &g, &b, &stats, dims, BN_EPS)
            } else {
                norm::batch_norm::<false>(&xs, &g, &b, &stats, dims, BN_EPS)
            };
            return output(tensor(y, dims.dims()), stats);
        }
        if let (Some(xs), Some(g), Some(b)) = (values::<f64>(&x), values::<f64>(&gamma), values::<f64>(&beta))
        {
            let stats = norm::f64::stats(&xs, dims);
            let y = if relu {
                norm::f64::batch_norm::<true>(&xs, &g, &b, &stats, dims, BN_EPS)
            } else {
                norm::f64::batch_norm::<false>(&xs, &g, &b, &stats, dims, BN_EPS)
            };
            return output(tensor(y, dims.dims()), stats);
        }
        stock::batch_norm::<Flex>(x, gamma, beta, relu)
    }

    fn bn_act_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        relu: bool,
    ) -> NormGrads<Self> {
        fn grads<E: Element>(dims: Nchw, (dx, dg, db): (Vec<E>, Vec<E>, Vec<E>)) -> NormGrads<Flex> {
            let c = dims.channels;
            NormGrads { x: tensor(dx, dims.dims()), gamma: tensor(dg, [c]), beta: tensor(db, [c]) }
        }
        let dims = Nchw::of(x.shape().dims::<4>());
        // Our own kernels' statistics are f64, burn's (the fallback's) the tensors' dtype.
        let ours = values::<f64>(&stats).map(|s| {
            let (mean, var) = s.split_at(dims.channels);
            (mean.to_vec(), var.to_vec())
        });
        if let (Some(xs), Some(g), Some(b), Some(gs), Some(stats)) =
            (values::<f32>(&x), values::<f32>(&gamma), values::<f32>(&beta), values::<f32>(&grad), &ours)
        {
            return grads(
                dims,
                if relu {
                    norm::batch_norm_backward::<true>(&xs, &g, &b, stats, &gs, dims, BN_EPS)
                } else {
                    norm::batch_norm_backward::<false>(&xs, &g, &b, stats, &gs, dims, BN_EPS)
                },
            );
        }
        if let (Some(xs), Some(g), Some(b), Some(gs), Some(stats)) =
            (values::<f64>(&x), values::<f64>(&gamma), values::<f64>(&beta), values::<f64>(&grad), &ours)
        {
            return grads(
                dims,
                if relu {
                    norm::f64::batch_norm_backward::<true>(&xs, &g, &b, stats, &gs, dims, BN_EPS)
                } else {
                    norm::f64::batch_norm_backward::<false>(&xs, &g, &b, stats, &gs, dims, BN_EPS)
                },
            );
        }
        stock::batch_norm_backward::<Flex>(x, gamma, beta, stats, grad, relu)
    }

    fn pixel_nll_rows(logits: FloatTensor<Self>, label: usize) -> FloatTensor<Self> {
        Self::pixel_nll_rows_with_softmax(logits, label).0
    }

    fn pixel_nll_rows_with_softmax(
        logits: FloatTensor<Self>,
        label: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let dims = Nchw::of(logits.shape().dims::<4>());
        let rows_shape = [dims.batch, dims.height];
        if dims.channels <= loss::MAX_CLASSES {
            if let Some(z) = values::<f32>(&logits) {
                let (rows, softmax) = loss::pixel_nll_rows(&z, dims, label);
                return (tensor(rows, rows_shape), tensor(softmax, dims.dims()));
            }
            if let Some(z) = values::<f64>(&logits) {
                let (rows, softmax) = loss::f64::pixel_nll_rows(&z, dims, label);
                return (tensor(rows, rows_shape), tensor(softmax, dims.dims()));
            }
        }
        let softmax = stock::softmax::<Flex>(logits.clone());
        (stock::pixel_nll_rows::<Flex>(logits, label), softmax)
    }

    fn pixel_nll_rows_backward(
        softmax: FloatTensor<Self>,
        label: usize,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let dims = Nchw::of(softmax.shape().dims::<4>());
        if let (Some(s), Some(g)) = (values::<f32>(&softmax), values::<f32>(&grad)) {
            return tensor(loss::pixel_nll_rows_backward(&s, dims, label, &g), dims.dims());
        }
        if let (Some(s), Some(g)) = (values::<f64>(&softmax), values::<f64>(&grad)) {
            return tensor(loss::pixel_nll_rows_backward(&s, dims, label, &g), dims.dims());
        }
        stock::pixel_nll_rows_backward::<Flex>(softmax, label, grad)
    }
}
