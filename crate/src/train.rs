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
    optim::GradientsParams,
    prelude::*,
    tensor::{TensorData, Transaction},
};
use serde::Serialize;

use crate::backend::BackendKind;
use crate::config::{Arch, ExperimentConfig, Trainable};
use crate::inputs::InitialTensors;
use crate::model::{AnyParam, Labels, Model, ModelConfig, Probes, cross_entropy_rows, names};
use crate::record::{Record, Trajectory, Value, l2_norm, mean_and_std, mean_and_var};
use crate::sgd::Sgd;

/// One parameter at a recorded step: its value before the update and the gradient the update
/// used (accumulated unless zero_grad). `grad` is `None` where the parameter is outside the
/// graph (conv1, bn1 and bn2 in single_conv), as PyTorch's `.grad` is None there.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParamState {
    pub name: String,
    pub value: Vec<f64>,
    pub grad: Option<Vec<f64>>,
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

impl StepError {
    /// A name per variant, for JavaScript's `Error.name`.
    pub fn kind(&self) -> &'static str {
        match self {
            StepError::Finished { .. } => "finished",
            StepError::Diverged { .. } => "diverged",
            StepError::Device(_) => "device",
        }
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::Finished { epochs } => write!(f, "finished: all {epochs} epochs are done"),
            StepError::Diverged { step } => {
                write!(f, "diverged at step {step}: the loss or a weight is no longer a finite number")
            }
            StepError::Device(e) => write!(f, "device error: {e}"),
        }
    }
}

impl std::error::Error for StepError {}

/// The seed arches' forward maps for the first image of the batch, each `[3, H, W]` row-major.
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

/// One block's maps for the first image: `[channels, H, W]` row-major each.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BlockMap {
    pub channels: usize,
    /// The conv's output f (plus its bias), before the norm, and ∂L/∂f.
    pub conv: Vec<f32>,
    pub conv_grad: Vec<f32>,
    /// The block's output (after its activation), and ∂L/∂(output).
    pub output: Vec<f32>,
    pub output_grad: Vec<f32>,
}

/// Every block's forward and backward maps for the first image of the batch, from one forward
/// and backward pass over the whole batch (BatchNorm couples the images).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BlockMaps {
    pub height: usize,
    pub width: usize,
    pub blocks: Vec<BlockMap>,
}

/// A running experiment.
pub struct Experiment {
    config: ExperimentConfig,
    backend: BackendKind,
    /// The plain (non-autodiff) device, for the feature maps.
    device: Device,
    model_config: ModelConfig,
    model: Model,
    images: Tensor<4>,
    labels: Labels,
    /// What the forward pass taps every block's output with: their gradients are ∂L/∂(output)
    /// (stack only).
    probes: Probes,
    optim: Sgd,
    /// The running sum of gradients (`.grad` of the original script) when zero_grad is off.
    accumulated: GradientsParams,
    next_step: u64,
    diverged_at: Option<u64>,
    last: Option<Snapshot>,
}

/// What a step leaves to read: one transaction, so the GPU is synced once.
struct PendingRead {
    transaction: Transaction,
    /// For each parameter, in model order, its name and whether its gradient was registered.
    params: Vec<(String, bool)>,
    /// Whether each block's output gradient was registered (stack only).
    probe_grads: Vec<bool>,
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
        let model_config = ModelConfig::new(&config, backend);
        let model = model_config.init(&inputs.weights, &device);
        let images =
            model_config.tensor(TensorData::new(inputs.image.clone(), config.image_shape()), &device);
        let labels = Labels::new(&config, &model_config, &inputs.image, &device);
        let probes = Probes::new(&model_config, config.arch == Arch::Stack, false, &device);
        let optim = Sgd::new(config.momentum);
        Self {
            config,
            backend,
            device: plain,
            model_config,
            model,
            images,
            labels,
            probes,
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

    /// The arch of this experiment.
    pub fn arch(&self) -> Arch {
        self.config.arch
    }

    /// One training step, reading its results synchronously (CPU backends).
    pub fn step(&mut self) -> Result<Record, StepError> {
        let pending = self.advance()?;
        let data = pending.transaction.try_execute().map_err(|e| StepError::Device(format!("{e:?}")))?;
        self.finish(data, &pending.params, &pending.probe_grads)
    }

    /// One training step, awaiting its reads (required on WebGPU, fine everywhere).
    pub async fn step_async(&mut self) -> Result<Record, StepError> {
        let pending = self.advance()?;
        let data =
            pending.transaction.execute_async().await.map_err(|e| StepError::Device(format!("{e:?}")))?;
        self.finish(data, &pending.params, &pending.probe_grads)
    }

    /// Runs the remaining epochs. Returns the records and, if it stopped early, why.
    pub fn run(&mut self) -> (Trajectory, Option<StepError>) {
        self.run_with(|_| {})
    }

    /// [`Self::run`], calling `each` after every step (a progress bar, say).
    pub fn run_with(&mut self, mut each: impl FnMut(&Record)) -> (Trajectory, Option<StepError>) {
        let mut trajectory = Trajectory::default();
        loop {
            match self.step() {
                Ok(record) => {
                    each(&record);
                    trajectory.push(&record);
                }
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
            return Err(StepError::Finished { epochs: self.config.epochs });
        }
        let forward = self.model.forward_all(self.images.clone(), &self.model_config, &self.probes);
        let row_losses = cross_entropy_rows(forward.logits(), &self.labels); // [N, H]
        // Read the row sums, not an f32 mean: averaging the row sums in f64 on the host keeps
        // the reported loss within an ulp or two of PyTorch's (a plain f32 mean drifts by ~1e-5).
        let row_sums = row_losses.clone().inner(); // [N, H]
        let loss = mean_of(row_losses.sum(), self.config.pixels()); // [1]
        let mut grads = loss.backward();

        let mut transaction = Transaction::default().register(row_sums);
        let mut probe_grads = Vec::new();
        if self.config.arch == Arch::Stack {
            for output in &forward.outputs {
                transaction = transaction.register(output.clone().inner());
            }
            for probe in &self.probes.outputs {
                let grad = probe.grad_remove(&mut grads);
                probe_grads.push(grad.is_some());
                if let Some(grad) = grad {
                    transaction = transaction.register(grad);
                }
            }
        }
        drop(forward);

        let grads = GradientsParams::from_grads(grads, &self.model);
        let mut grads =
            if self.config.zero_grad { grads } else { accumulate(&self.model, &mut self.accumulated, grads) };

        let mut params = Vec::new();
        let mut frozen = Vec::new();
        for (name, param) in self.model.params() {
            let trained = match self.config.trainable {
                Trainable::All => true,
                Trainable::NormOnly => name.starts_with("bn"),
                Trainable::ConvOnly => name.starts_with("conv"),
            };
            let has_grad;
            (transaction, has_grad) = match &param {
                AnyParam::Conv(p) => register(transaction, p, &grads),
                AnyParam::Vector(p) => register(transaction, p, &grads),
            };
            if !trained {
                frozen.push(param);
            }
            params.push((name, has_grad));
        }
        // Parameters left out of the optimizer keep their values: their gradients were read,
        // the update never sees them.
        for param in frozen {
            match param {
                AnyParam::Conv(p) => drop(grads.remove::<4>(p.id)),
                AnyParam::Vector(p) => drop(grads.remove::<1>(p.id)),
            }
        }

        let model = self.model.clone();
        self.model = self.optim.step(self.config.lr, model, grads);
        Ok(PendingRead { transaction, params, probe_grads })
    }

    /// Turns the read tensors into the step's record and snapshot.
    fn finish(
        &mut self,
        data: Vec<TensorData>,
        names: &[(String, bool)],
        probe_grads: &[bool],
    ) -> Result<Record, StepError> {
        let step = self.next_step;
        let mut data = data.into_iter().map(values::<f64>);
        let row_sums = data.next().expect("row sums were registered");
        let stack = self.config.arch == Arch::Stack;
        let depth = self.model_config.depth();
        let outputs: Vec<Vec<f64>> =
            if stack { (0..depth).map(|_| data.next().expect("outputs")).collect() } else { vec![] };
        let output_grads: Vec<Option<Vec<f64>>> =
            probe_grads.iter().map(|&has| has.then(|| data.next().expect("probe gradients"))).collect();
        let mut params = Vec::with_capacity(names.len());
        for (name, has_grad) in names {
            let value = data.next().expect("each value was registered");
            let grad = has_grad.then(|| data.next().expect("the gradient was registered"));
            params.push(ParamState { name: name.clone(), value, grad });
        }
        let snapshot = Snapshot { step, params };

        // `+ 0.0` turns the -0.0 of a sum of -0.0 losses into 0.
        let loss = row_sums.iter().sum::<f64>() / self.config.pixels() as f64 + 0.0;
        let finite =
            loss.is_finite() && snapshot.params.iter().all(|p| p.value.iter().all(|v| v.is_finite()));
        if !finite {
            self.diverged_at = Some(step);
            return Err(StepError::Diverged { step });
        }

        let grad_norm =
            |name: &str| snapshot.param(name).and_then(|p| p.grad.as_deref()).map_or(0.0, l2_norm);
        let weight_stats = |k: usize| {
            mean_and_var(&snapshot.param(&names::conv_weight(k)).expect("every conv is read").value)
        };
        let mut values: Vec<(&'static str, Value)> = vec![("loss", Value::Scalar(loss))];
        if stack {
            values.push(("accuracy", Value::Scalar(self.accuracy(outputs.last().expect("the logits")))));
            let per_layer = |f: &dyn Fn(usize) -> f64| Value::Layers((0..depth).map(f).collect());
            values.push(("conv_mean", per_layer(&|i| weight_stats(i + 1).0)));
            values.push(("conv_var", per_layer(&|i| weight_stats(i + 1).1)));
            values.push(("conv_grad_norm", per_layer(&|i| grad_norm(&names::conv_weight(i + 1)))));
            if self.config.bias {
                values.push(("bias_grad_norm", per_layer(&|i| grad_norm(&names::conv_bias(i + 1)))));
            }
            let act: Vec<(f64, f64)> = outputs.iter().map(|o| mean_and_std(o)).collect();
            values.push(("act_mean", per_layer(&|i| act[i].0)));
            values.push(("act_std", per_layer(&|i| act[i].1)));
            values.push(("act_grad_norm", per_layer(&|i| output_grads[i].as_deref().map_or(0.0, l2_norm))));
        } else {
            let ((m1, v1), (m2, v2)) = (weight_stats(1), weight_stats(2));
            values.extend([
                ("conv1_mean", Value::Scalar(m1)),
                ("conv1_var", Value::Scalar(v1)),
                ("conv2_mean", Value::Scalar(m2)),
                ("conv2_var", Value::Scalar(v2)),
                ("conv1_grad_norm", Value::Scalar(grad_norm(&names::conv_weight(1)))),
                ("conv2_grad_norm", Value::Scalar(grad_norm(&names::conv_weight(2)))),
            ]);
        }
        self.last = Some(snapshot);
        self.next_step += 1;
        Ok(Record { step, values })
    }

    /// The share of pixels whose argmax logit (first index on ties) is their label.
    fn accuracy(&self, logits: &[f64]) -> f64 {
        let [n, c, h, w] =
            [self.config.batch as usize, 3, self.config.height as usize, self.config.width as usize];
        let plane = h * w;
        let hits = (0..n * plane)
            .filter(|&p| {
                let (img, at) = (p / plane, p % plane);
                let z = |k: usize| logits[(img * c + k) * plane + at];
                let best = (1..c).fold(0usize, |best, k| if z(k) > z(best) { k } else { best });
                best == self.labels.at(p) as usize
            })
            .count();
        hits as f64 / (n * plane) as f64
    }

    /// The current parameter values (after the last update), in model order.
    /// Synchronous: CPU backends only.
    pub fn current_params(&self) -> Vec<(String, Vec<f64>)> {
        let params = self.model.params();
        let mut transaction = Transaction::default();
        for (_, param) in &params {
            transaction = match param {
                AnyParam::Conv(p) => transaction.register(p.val().inner()),
                AnyParam::Vector(p) => transaction.register(p.val().inner()),
            };
        }
        params.into_iter().zip(transaction.execute()).map(|((name, _), d)| (name, values::<f64>(d))).collect()
    }

    /// A plain model with the given parameter values (a snapshot's, to look at any step).
    fn model_with(&self, params: &[(String, Vec<f64>)], device: &Device) -> Result<Model, String> {
        let zeros: Vec<Vec<f32>> = (0..self.config.convs())
            .map(|i| vec![0.0; self.config.weight_shape(i).iter().product()])
            .collect();
        self.model_config.init(&zeros, device).with_values(params, device)
    }

    /// The seed arches' forward maps for the first image, with the given parameter values.
    /// Synchronous: CPU backends only.
    pub fn feature_maps(&self, params: &[(String, Vec<f64>)]) -> Result<FeatureMaps, String> {
        let (transaction, has_conv1) = self.feature_reads(params)?;
        let data = transaction.try_execute().map_err(|e| format!("{e:?}"))?;
        Ok(self.feature_maps_from(data, has_conv1))
    }

    /// [`Self::feature_maps`], awaiting the reads (required on WebGPU).
    pub async fn feature_maps_async(&self, params: &[(String, Vec<f64>)]) -> Result<FeatureMaps, String> {
        let (transaction, has_conv1) = self.feature_reads(params)?;
        let data = transaction.execute_async().await.map_err(|e| format!("{e:?}"))?;
        Ok(self.feature_maps_from(data, has_conv1))
    }

    fn feature_reads(&self, params: &[(String, Vec<f64>)]) -> Result<(Transaction, bool), String> {
        if self.config.arch == Arch::Stack {
            return Err("featureMaps: the seed arches only; a stack's maps come from blockMaps".into());
        }
        let model = self.model_with(params, &self.device)?;
        let image = self.images.clone().inner().narrow(0, 0, 1); // [1, 3, H, W]
        let maps = model.forward_all(image.clone(), &self.model_config, &Probes::default());
        let transaction = Transaction::default().register(image);
        Ok(match self.config.arch {
            Arch::SingleConv => (
                transaction
                    .register(self.images.clone().inner().narrow(0, 0, 1))
                    .register(maps.convs[0].clone())
                    .register(maps.outputs[0].clone()),
                false,
            ),
            _ => (
                transaction
                    .register(maps.convs[0].clone())
                    .register(maps.outputs[0].clone())
                    .register(maps.convs[1].clone())
                    .register(maps.outputs[1].clone()),
                true,
            ),
        })
    }

    fn feature_maps_from(&self, data: Vec<TensorData>, has_conv1: bool) -> FeatureMaps {
        let mut data = data.into_iter().map(values::<f32>);
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

    /// Every block's conv output, output, and their gradients ∂L/∂f and ∂L/∂(output), for the
    /// first image, with the given parameter values: where the gradient stops.
    /// Synchronous: CPU backends only.
    pub fn block_maps(&self, params: &[(String, Vec<f64>)]) -> Result<BlockMaps, String> {
        let transaction = self.block_reads(params)?;
        let data = transaction.try_execute().map_err(|e| format!("{e:?}"))?;
        Ok(self.block_maps_from(data))
    }

    /// [`Self::block_maps`], awaiting the reads (required on WebGPU).
    pub async fn block_maps_async(&self, params: &[(String, Vec<f64>)]) -> Result<BlockMaps, String> {
        let transaction = self.block_reads(params)?;
        let data = transaction.execute_async().await.map_err(|e| format!("{e:?}"))?;
        Ok(self.block_maps_from(data))
    }

    fn block_reads(&self, params: &[(String, Vec<f64>)]) -> Result<Transaction, String> {
        // The experiment's own autodiff device, where the image and the labels already are.
        let device = self.images.device();
        let model = self.model_with(params, &device)?;
        let probes = Probes::new(&self.model_config, true, true, &device);
        let forward = model.forward_all(self.images.clone(), &self.model_config, &probes);
        let loss = mean_of(cross_entropy_rows(forward.logits(), &self.labels).sum(), self.config.pixels());
        let mut grads = loss.backward();
        let first = |t: Tensor<4>| t.narrow(0, 0, 1); // [1, c, H, W]
        // A map the loss does not reach (conv1 of single_conv) has a gradient of zeros.
        let zeros = |map: &Tensor<4>| map.clone().inner().zeros_like();
        let mut transaction = Transaction::default();
        // single_conv runs only the last block, with the last block's probes.
        let skipped = probes.convs.len() - forward.outputs.len();
        for i in 0..forward.outputs.len() {
            let (conv_probe, output_probe) = (&probes.convs[skipped + i], &probes.outputs[skipped + i]);
            let conv_grad = conv_probe.grad_remove(&mut grads).unwrap_or_else(|| zeros(&forward.convs[i]));
            let output_grad =
                output_probe.grad_remove(&mut grads).unwrap_or_else(|| zeros(&forward.outputs[i]));
            transaction = transaction
                .register(first(forward.convs[i].clone().inner()))
                .register(first(conv_grad))
                .register(first(forward.outputs[i].clone().inner()))
                .register(first(output_grad));
        }
        Ok(transaction)
    }

    fn block_maps_from(&self, data: Vec<TensorData>) -> BlockMaps {
        let mut data = data.into_iter().map(values::<f32>);
        let mut next = || data.next().expect("every map was registered");
        let used = if self.model_config.last_conv_only { 1 } else { self.model_config.depth() };
        let widths =
            if self.model_config.last_conv_only { vec![3] } else { self.model_config.widths[1..].to_vec() };
        let blocks = (0..used)
            .map(|i| BlockMap {
                channels: widths[i],
                conv: next(),
                conv_grad: next(),
                output: next(),
                output_grad: next(),
            })
            .collect();
        BlockMaps { height: self.config.height as usize, width: self.config.width as usize, blocks }
    }
}

/// The mean of `count` values from their `sum`, as `sum · (1 / count)`: burn's `div_scalar`
/// takes its gradient with the divisor rounded to f32 (`burn-autodiff` 0.22.1), which put
/// every gradient of an f64 stack 3e-8 off PyTorch's float64 run; `mul_scalar` keeps it in
/// the tensor's precision. (In f32 it is the same gradient either way.)
fn mean_of(sum: Tensor<1>, count: usize) -> Tensor<1> {
    sum.mul_scalar(1.0 / count as f64)
}

/// A read tensor's values as `E` (a map of an f64 model shown in f32, say).
fn values<E: burn::tensor::Element>(data: TensorData) -> Vec<E> {
    data.try_into_vec_as::<E>().expect("a float tensor")
}

/// Registers a parameter's value and, if it has one, its gradient; says whether it had one.
fn register<const D: usize>(
    transaction: Transaction,
    p: &Param<Tensor<D>>,
    grads: &GradientsParams,
) -> (Transaction, bool) {
    let transaction = transaction.register(p.val().inner());
    match grads.get::<D>(p.id) {
        Some(g) => (transaction.register(g.inner()), true),
        None => (transaction, false),
    }
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
    let mut visitor = Accumulate { sum, new, copy: GradientsParams::new() };
    model.visit(&mut visitor);
    visitor.copy
}

/// The seed's four experiments (the presets of [`crate::seed::PRESETS`]) on a 16 × 16 image,
/// stepped in turn, a round at a time: in a browser the worker runs these rounds as soon as its
/// module has loaded, so that V8 optimises the whole step (the kernels, burn's autodiff and
/// optimizer, the records) in the background before the reader's first click. A fresh module's
/// first steps otherwise run in baseline code: the four seed runs took a median of 595 ms in a
/// fresh tab after a warm-up of the kernels alone, 474 ms after these rounds (three tabs each,
/// Chromium), which took 30 to 80 ms there in all.
pub struct WarmUp {
    runs: Vec<Experiment>,
    rounds_left: usize,
}

impl WarmUp {
    /// Rounds in all: enough for V8 to tier the step's functions up.
    const ROUNDS: usize = 8;

    pub fn new() -> Self {
        let base = ExperimentConfig { height: 16, width: 16, ..ExperimentConfig::default() };
        let runs = crate::seed::PRESETS
            .iter()
            .map(|preset| Experiment::from_seed(preset.config(&base), BackendKind::Flex))
            .collect();
        WarmUp { runs, rounds_left: Self::ROUNDS }
    }

    /// Steps each experiment once; returns whether rounds remain.
    pub fn round(&mut self) -> bool {
        if self.rounds_left == 0 {
            return false;
        }
        for run in &mut self.runs {
            // A step cannot fail here (the test below takes every one), and a warm-up must not
            // take the worker down if it did: it would only warm less.
            let _ = run.step();
        }
        self.rounds_left -= 1;
        self.rounds_left > 0
    }
}

impl Default for WarmUp {
    fn default() -> Self {
        Self::new()
    }
}

/// Every round of [`WarmUp`] at once.
pub fn warm_up() {
    let mut warm = WarmUp::new();
    while warm.round() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warm_up_steps_every_seed_preset_with_the_output_check_on() {
        let mut warm = WarmUp::new();
        let mut rounds = 1;
        while warm.round() {
            rounds += 1;
        }
        assert_eq!(rounds, WarmUp::ROUNDS);
        assert!(warm.runs.iter().all(|run| run.steps_done() == WarmUp::ROUNDS as u64));
        assert!(!warm.round(), "no round after the last");
    }
}
