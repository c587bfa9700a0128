//! One experiment: the model, its optimizer and the loop of the original script, a step at a time.
//!
//! ```text
//! for i in 0..epochs:
//!     if zero_grad: opt.zero_grad()      # the original never does: gradients ACCUMULATE
//!     loss = crit(model(image), label); loss.backward()
//!     record step i                      # after backward, before the update
//!     opt.step()                         # SGD, PyTorch momentum (no dampening)
//! ```

use std::fmt;

use burn::{
    module::{ModuleVisitor, Param, ParamId},
    optim::{GradientsParams, ModuleOptimizer, SgdConfig, momentum::MomentumConfig},
    prelude::*,
    tensor::{Transaction, TensorData},
};
use serde::Serialize;

use crate::backend::BackendKind;
use crate::config::{Arch, ExperimentConfig};
use crate::inputs::InitialTensors;
use crate::model::{Model, ModelConfig, pixel_cross_entropy_rows};
use crate::record::{Record, Trajectory, l2_norm, mean_and_var};

/// The names of the trained parameters, in the order the views list them.
pub const PARAM_NAMES: [&str; 6] = [
    "conv1.weight",
    "bn1.weight",
    "bn1.bias",
    "conv2.weight",
    "bn2.weight",
    "bn2.bias",
];

/// One parameter at a recorded step: its value before the update and the gradient the update
/// used (accumulated unless zero_grad). `grad` is `None` where the parameter is outside the
/// graph (conv1, bn1 and bn2 in single_conv), as PyTorch's `.grad` is None there.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParamState {
    pub name: &'static str,
    pub value: Vec<f32>,
    pub grad: Option<Vec<f32>>,
}

/// Every parameter at one step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Snapshot {
    pub step: u64,
    pub params: Vec<ParamState>,
}

impl Snapshot {
    pub fn param(&self, name: &str) -> Option<&ParamState> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// Why a step did not happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepError {
    /// All `epochs` steps are done.
    Finished { epochs: u64 },
    /// The loss or a weight became NaN or infinite at this step; the records before it stand.
    Diverged { step: u64 },
    /// A GPU read failed (device lost, out of memory, shader error).
    Device(String),
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::Finished { epochs } => write!(f, "finished: all {epochs} epochs are done"),
            StepError::Diverged { step } => write!(
                f,
                "diverged at step {step}: the loss or a weight is no longer a finite number"
            ),
            StepError::Device(e) => write!(f, "device error: {e}"),
        }
    }
}

impl std::error::Error for StepError {}

/// The forward pass's maps for the first image of the batch, each `[3, H, W]` row-major.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeatureMaps {
    pub height: usize,
    pub width: usize,
    pub image: Vec<f32>,
    /// conv1's output; `None` in single_conv.
    pub conv1: Option<Vec<f32>>,
    /// What conv2 sees: relu(bn1(conv1)), or the image in single_conv.
    pub conv2_input: Vec<f32>,
    pub conv2: Vec<f32>,
    pub logits: Vec<f32>,
}

/// A running experiment.
pub struct Experiment {
    config: ExperimentConfig,
    backend: BackendKind,
    /// The plain (non-autodiff) device, for the feature maps.
    device: Device,
    model: Model,
    images: Tensor<4>,
    optim: ModuleOptimizer,
    /// The running sum of gradients (`.grad` of the original script) when zero_grad is off.
    accumulated: GradientsParams,
    next_step: u64,
    diverged_at: Option<u64>,
    last: Option<Snapshot>,
}

/// What a step leaves to read: one transaction, so the GPU is synced once.
struct PendingRead {
    transaction: Transaction,
    /// For each parameter, in [`PARAM_NAMES`] order, whether its gradient was registered.
    has_grad: [bool; 6],
}

impl Experiment {
    /// Builds an experiment on `device` (a plain device; autodiff is added here).
    /// `inputs` must match `config`: [`InitialTensors::from_seed`] and
    /// [`InitialTensors::from_safetensors`] guarantee that.
    pub fn new(
        config: ExperimentConfig,
        inputs: &InitialTensors,
        backend: BackendKind,
        device: &Device,
    ) -> Self {
        assert_eq!(inputs.image.len(), config.pixels() * 3, "image does not match the config");
        let plain = device.clone();
        let device = device.clone().autodiff();
        let model = ModelConfig::default().init(&inputs.conv1, &inputs.conv2, &device);
        let images = Tensor::from_data(
            TensorData::new(inputs.image.clone(), config.image_shape()),
            &device,
        );
        // PyTorch's SGD skips the momentum buffer entirely at momentum 0; so do we, which also
        // keeps a 0 × inf buffer from turning an overflow into NaN.
        let momentum = (config.momentum > 0.0).then(|| MomentumConfig {
            momentum: config.momentum,
            dampening: 0.0, // burn's default is 0.1, PyTorch's is 0
            nesterov: false,
        });
        let optim = SgdConfig::new().with_momentum(momentum).init();
        Self {
            config,
            backend,
            device: plain,
            model,
            images,
            optim,
            accumulated: GradientsParams::new(),
            next_step: 0,
            diverged_at: None,
            last: None,
        }
    }

    /// An experiment on a CPU backend, from the config's seed.
    pub fn from_seed(config: ExperimentConfig, backend: BackendKind) -> Self {
        let inputs = InitialTensors::from_seed(&config);
        let device = backend.device().expect("a backend with a synchronous device");
        Self::new(config, &inputs, backend, &device)
    }

    pub fn config(&self) -> &ExperimentConfig {
        &self.config
    }

    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// Steps recorded so far.
    pub fn steps_done(&self) -> u64 {
        self.next_step
    }

    /// Every parameter and its gradient at the last recorded step.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.last.as_ref()
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// One training step, reading its results synchronously (CPU backends).
    pub fn step(&mut self) -> Result<Record, StepError> {
        let pending = self.advance()?;
        let data = pending
            .transaction
            .try_execute()
            .map_err(|e| StepError::Device(format!("{e:?}")))?;
        self.finish(data, pending.has_grad)
    }

    /// One training step, awaiting its reads (required on WebGPU, fine everywhere).
    pub async fn step_async(&mut self) -> Result<Record, StepError> {
        let pending = self.advance()?;
        let data = pending
            .transaction
            .execute_async()
            .await
            .map_err(|e| StepError::Device(format!("{e:?}")))?;
        self.finish(data, pending.has_grad)
    }

    /// Runs the remaining epochs. Returns the records and, if it stopped early, why.
    pub fn run(&mut self) -> (Trajectory, Option<StepError>) {
        let mut trajectory = Trajectory::default();
        loop {
            match self.step() {
                Ok(record) => trajectory.push(&record),
                Err(StepError::Finished { .. }) => return (trajectory, None),
                Err(e) => return (trajectory, Some(e)),
            }
        }
    }

    /// Forward, backward and update; the record's tensors are registered for reading.
    fn advance(&mut self) -> Result<PendingRead, StepError> {
        if let Some(step) = self.diverged_at {
            return Err(StepError::Diverged { step });
        }
        if self.next_step >= self.config.epochs {
            return Err(StepError::Finished {
                epochs: self.config.epochs,
            });
        }
        let logits = self.model.forward(self.images.clone(), self.config.arch); // [N, 3, H, W]
        let row_losses = pixel_cross_entropy_rows(logits, self.config.label as usize); // [N, H]
        // Read the row sums, not an f32 mean: averaging 224 row sums in f64 on the host keeps
        // the reported loss within an ulp or two of PyTorch's (a plain f32 mean drifts by ~1e-5).
        let row_sums = row_losses.clone().inner(); // [N, H]
        let loss = row_losses.sum().div_scalar(self.config.pixels() as f64); // [1], the mean
        let grads = loss.backward();
        let grads = GradientsParams::from_grads(grads, &self.model);
        let grads = if self.config.zero_grad {
            grads
        } else {
            accumulate(&self.model, &mut self.accumulated, grads)
        };

        let mut transaction = Transaction::default().register(row_sums);
        let mut has_grad = [false; 6];
        for (i, param) in self.params().into_iter().enumerate() {
            transaction = match param {
                AnyParam::Conv(p) => {
                    let t = transaction.register(p.val().inner());
                    match grads.get::<4>(p.id) {
                        Some(g) => {
                            has_grad[i] = true;
                            t.register(g.inner())
                        }
                        None => t,
                    }
                }
                AnyParam::Norm(p) => {
                    let t = transaction.register(p.val().inner());
                    match grads.get::<1>(p.id) {
                        Some(g) => {
                            has_grad[i] = true;
                            t.register(g.inner())
                        }
                        None => t,
                    }
                }
            };
        }

        let model = self.model.clone();
        self.model = self.optim.step(self.config.lr, model, grads);
        Ok(PendingRead {
            transaction,
            has_grad,
        })
    }

    /// Turns the read tensors into the step's record and snapshot.
    fn finish(&mut self, data: Vec<TensorData>, has_grad: [bool; 6]) -> Result<Record, StepError> {
        let step = self.next_step;
        let mut data = data.into_iter().map(|d| {
            d.try_into_vec::<f32>()
                .expect("every read tensor is f32")
        });
        let row_sums = data.next().expect("row sums were registered");
        let mut params = Vec::with_capacity(6);
        for (name, has_grad) in PARAM_NAMES.into_iter().zip(has_grad) {
            let value = data.next().expect("each value was registered");
            let grad = has_grad.then(|| data.next().expect("the gradient was registered"));
            params.push(ParamState { name, value, grad });
        }
        let snapshot = Snapshot { step, params };

        // `+ 0.0` turns the -0.0 of a sum of -0.0 losses into 0.
        let loss = row_sums.iter().map(|&s| s as f64).sum::<f64>() / self.config.pixels() as f64 + 0.0;
        let finite = loss.is_finite()
            && snapshot
                .params
                .iter()
                .all(|p| p.value.iter().all(|v| v.is_finite()));
        if !finite {
            self.diverged_at = Some(step);
            return Err(StepError::Diverged { step });
        }

        let conv = |name: &str| snapshot.param(name).expect("conv params are always read");
        let (conv1, conv2) = (conv("conv1.weight"), conv("conv2.weight"));
        let (conv1_mean, conv1_var) = mean_and_var(&conv1.value);
        let (conv2_mean, conv2_var) = mean_and_var(&conv2.value);
        let grad_norm = |p: &ParamState| p.grad.as_deref().map_or(0.0, l2_norm);
        let record = Record {
            step,
            loss,
            conv1_mean,
            conv1_var,
            conv2_mean,
            conv2_var,
            conv1_grad_norm: grad_norm(conv1),
            conv2_grad_norm: grad_norm(conv2),
        };
        self.last = Some(snapshot);
        self.next_step += 1;
        Ok(record)
    }

    /// The trained parameters in [`PARAM_NAMES`] order.
    fn params(&self) -> [AnyParam<'_>; 6] {
        let m = &self.model;
        [
            AnyParam::Conv(&m.conv1.weight),
            AnyParam::Norm(&m.bn1.gamma),
            AnyParam::Norm(&m.bn1.beta),
            AnyParam::Conv(&m.conv2.weight),
            AnyParam::Norm(&m.bn2.gamma),
            AnyParam::Norm(&m.bn2.beta),
        ]
    }

    /// The current parameter values (after the last update), in [`PARAM_NAMES`] order.
    /// Synchronous: CPU backends only.
    pub fn current_params(&self) -> Vec<(&'static str, Vec<f32>)> {
        let mut transaction = Transaction::default();
        for param in self.params() {
            transaction = match param {
                AnyParam::Conv(p) => transaction.register(p.val().inner()),
                AnyParam::Norm(p) => transaction.register(p.val().inner()),
            };
        }
        PARAM_NAMES
            .into_iter()
            .zip(transaction.execute())
            .map(|(name, d)| (name, d.try_into_vec::<f32>().expect("f32")))
            .collect()
    }

    /// The arch of this experiment.
    pub fn arch(&self) -> Arch {
        self.config.arch
    }

    /// The forward pass's maps for the first image, with the given parameter values (a
    /// snapshot's, to look at any recorded step). Synchronous: CPU backends only.
    pub fn feature_maps(&self, params: &[(String, Vec<f32>)]) -> Result<FeatureMaps, String> {
        let (transaction, has_conv1) = self.feature_reads(params)?;
        let data = transaction.try_execute().map_err(|e| format!("{e:?}"))?;
        Ok(self.feature_maps_from(data, has_conv1))
    }

    /// [`Self::feature_maps`], awaiting the reads (required on WebGPU).
    pub async fn feature_maps_async(&self, params: &[(String, Vec<f32>)]) -> Result<FeatureMaps, String> {
        let (transaction, has_conv1) = self.feature_reads(params)?;
        let data = transaction.execute_async().await.map_err(|e| format!("{e:?}"))?;
        Ok(self.feature_maps_from(data, has_conv1))
    }

    fn feature_reads(&self, params: &[(String, Vec<f32>)]) -> Result<(Transaction, bool), String> {
        let zeros = [0.0; crate::inputs::WEIGHT_LEN];
        let model = ModelConfig::default().init(&zeros, &zeros, &self.device).with_values(params, &self.device)?;
        let image = self.images.clone().inner().narrow(0, 0, 1); // [1, 3, H, W]
        let maps = model.forward_activations(image.clone(), self.config.arch);
        let mut transaction = Transaction::default().register(image);
        let has_conv1 = maps.conv1.is_some();
        if let Some(conv1) = maps.conv1 {
            transaction = transaction.register(conv1);
        }
        Ok((transaction.register(maps.conv2_input).register(maps.conv2).register(maps.logits), has_conv1))
    }

    fn feature_maps_from(&self, data: Vec<TensorData>, has_conv1: bool) -> FeatureMaps {
        let mut data = data.into_iter().map(|d| d.try_into_vec::<f32>().expect("f32 maps"));
        let mut next = || data.next().expect("every map was registered");
        FeatureMaps {
            height: self.config.height as usize,
            width: self.config.width as usize,
            image: next(),
            conv1: has_conv1.then(&mut next),
            conv2_input: next(),
            conv2: next(),
            logits: next(),
        }
    }
}

enum AnyParam<'a> {
    Conv(&'a Param<Tensor<4>>),
    Norm(&'a Param<Tensor<1>>),
}

/// Adds this step's gradients to the running sum (`.grad += new`, as PyTorch's backward does
/// when nobody zeroes it) and returns a copy of the sum for the optimizer, which consumes it.
fn accumulate(model: &Model, sum: &mut GradientsParams, new: GradientsParams) -> GradientsParams {
    struct Accumulate<'a> {
        sum: &'a mut GradientsParams,
        new: GradientsParams,
        copy: GradientsParams,
    }
    impl ModuleVisitor for Accumulate<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let id: ParamId = param.id;
            let total = match (self.sum.remove::<D>(id), self.new.remove::<D>(id)) {
                (Some(old), Some(new)) => old + new,
                (None, Some(new)) => new,
                (Some(old), None) => old,
                (None, None) => return,
            };
            self.sum.register(id, total.clone());
            self.copy.register(id, total);
        }
    }
    let mut visitor = Accumulate {
        sum,
        new,
        copy: GradientsParams::new(),
    };
    model.visit(&mut visitor);
    visitor.copy
}
