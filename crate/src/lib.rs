//! Init Lab's engine: the blog's two-layer CNN and the depth lab's stacks of any depth,
//! trained with burn exactly as the PyTorch reference scripts train them, one step at a time.
//!
//! - [`config`]: what an experiment is, and the allowed range of every field;
//! - [`inputs`]: the image and initial weights, from a seed or a safetensors file;
//! - [`model`]: the network and its per-pixel cross-entropy;
//! - [`train`]: the training loop, with the original's gradient accumulation;
//! - [`sgd`]: PyTorch's SGD with momentum, in the precision of the run;
//! - [`record`]: what each step reports;
//! - [`reference`]: the PyTorch fixtures and the parity tolerance;
//! - [`seed`]: the blog's four experiments;
//! - [`facts`]: the tables the page imports (written to `www/pkg/facts.js` at build time);
//! - `plot` (native only): the seed's five charts and the per-layer gradient heatmap, as SVG or PNG;
//! - `web` (wasm only): the JavaScript API.

pub mod backend;
pub mod config;
pub mod diagnostics;
pub mod facts;
pub mod inputs;
pub mod kernels;
pub mod model;
#[cfg(not(target_arch = "wasm32"))]
pub mod plot;
pub mod record;
pub mod reference;
pub mod seed;
pub mod sgd;
pub mod train;

#[cfg(target_family = "wasm")]
mod web;

pub use backend::BackendKind;
pub use config::{
    Activation, Arch, ConfigError, ExperimentConfig, FieldValue, Init, Norm, Target, Trainable,
};
pub use inputs::{InitialTensors, InputError};
pub use record::{Record, Series, Trajectory, Value};
pub use train::{Experiment, Snapshot, StepError};
