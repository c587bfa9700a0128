//! SGD as PyTorch's `torch.optim.SGD` runs it (no dampening, no Nesterov, no weight decay):
//!
//! ```text
//! first step:  buf = g                  later:  buf = momentum · buf + g
//! p = p − lr · buf
//! ```
//!
//! burn has SGD with momentum, but it keeps the momentum factor as an f32 (`burn-optim`'s
//! `Momentum`), so in an f64 run every `momentum · buf` is off by float32 rounding (0.9 is
//! 0.8999999762 in f32): a stack in f64 parted from PyTorch's float64 run by 1e-9 after its
//! second step. Here every factor keeps the precision of the tensors it multiplies, f32 or f64;
//! in f32 the steps are bit for bit what burn's SGD made.

use burn::{
    module::{ModuleMapper, Param, ParamId},
    optim::GradientsParams,
    prelude::*,
};

use crate::model::Model;

/// The optimizer: the learning rate, the momentum, and each parameter's momentum buffer.
pub struct Sgd {
    momentum: f64,
    /// `buf` of every parameter that has taken a step (none when momentum is 0: PyTorch skips
    /// the buffer then, which also keeps a 0 · inf buffer from turning an overflow into NaN).
    buffers: GradientsParams,
}

impl Sgd {
    pub fn new(momentum: f64) -> Self {
        Self { momentum, buffers: GradientsParams::new() }
    }

    /// One step over every parameter that has a gradient in `grads`; the others keep their
    /// values (PyTorch skips a parameter whose `.grad` is None).
    pub fn step(&mut self, lr: f64, model: Model, grads: GradientsParams) -> Model {
        model.map(&mut Step { sgd: self, lr, grads })
    }
}

struct Step<'a> {
    sgd: &'a mut Sgd,
    lr: f64,
    grads: GradientsParams,
}

impl ModuleMapper for Step<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper): (ParamId, Tensor<D>, _) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let buf = if self.sgd.momentum > 0.0 {
            let buf = match self.sgd.buffers.remove::<D>(id) {
                Some(buf) => buf.mul_scalar(self.sgd.momentum) + grad,
                None => grad,
            };
            self.sgd.buffers.register(id, buf.clone());
            buf
        } else {
            grad
        };
        let updated = tensor.inner() - buf.mul_scalar(self.lr);
        Param::from_mapped_value(id, Tensor::from_inner(updated).require_grad(), mapper)
    }
}
