//! What a step reports, and the whole run as the fixtures' `trajectory`.

use serde::{Deserialize, Serialize};

/// One step, recorded after backward and before the optimizer update, so that step 0 shows
/// the initial weights. The same keys as the reference fixtures' trajectories.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub step: u64,
    /// Mean per-pixel cross-entropy.
    pub loss: f64,
    pub conv1_mean: f64,
    /// Unbiased variance (divide by 80) of conv1's 81 weights.
    pub conv1_var: f64,
    pub conv2_mean: f64,
    pub conv2_var: f64,
    /// L2 norm of conv1's (accumulated, unless zero_grad) gradient; 0 when it has none.
    pub conv1_grad_norm: f64,
    pub conv2_grad_norm: f64,
}

/// The seven per-step series of a run, keyed as in the fixtures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    pub loss: Vec<f64>,
    pub conv1_mean: Vec<f64>,
    pub conv1_var: Vec<f64>,
    pub conv2_mean: Vec<f64>,
    pub conv2_var: Vec<f64>,
    pub conv1_grad_norm: Vec<f64>,
    pub conv2_grad_norm: Vec<f64>,
}

impl Trajectory {
    /// The series keys, in the fixtures' order.
    pub const KEYS: [&'static str; 7] = [
        "loss",
        "conv1_mean",
        "conv1_var",
        "conv2_mean",
        "conv2_var",
        "conv1_grad_norm",
        "conv2_grad_norm",
    ];

    pub fn push(&mut self, r: &Record) {
        for (key, value) in Self::KEYS.iter().zip(r.values()) {
            self.series_mut(key).expect("every key has a series").push(value);
        }
    }

    pub fn len(&self) -> usize {
        self.loss.len()
    }

    pub fn is_empty(&self) -> bool {
        self.loss.is_empty()
    }

    pub fn series(&self, key: &str) -> Option<&Vec<f64>> {
        Some(match key {
            "loss" => &self.loss,
            "conv1_mean" => &self.conv1_mean,
            "conv1_var" => &self.conv1_var,
            "conv2_mean" => &self.conv2_mean,
            "conv2_var" => &self.conv2_var,
            "conv1_grad_norm" => &self.conv1_grad_norm,
            "conv2_grad_norm" => &self.conv2_grad_norm,
            _ => return None,
        })
    }

    fn series_mut(&mut self, key: &str) -> Option<&mut Vec<f64>> {
        Some(match key {
            "loss" => &mut self.loss,
            "conv1_mean" => &mut self.conv1_mean,
            "conv1_var" => &mut self.conv1_var,
            "conv2_mean" => &mut self.conv2_mean,
            "conv2_var" => &mut self.conv2_var,
            "conv1_grad_norm" => &mut self.conv1_grad_norm,
            "conv2_grad_norm" => &mut self.conv2_grad_norm,
            _ => return None,
        })
    }
}

impl Record {
    /// The seven values in [`Trajectory::KEYS`] order.
    pub fn values(&self) -> [f64; 7] {
        [
            self.loss,
            self.conv1_mean,
            self.conv1_var,
            self.conv2_mean,
            self.conv2_var,
            self.conv1_grad_norm,
            self.conv2_grad_norm,
        ]
    }
}

impl FromIterator<Record> for Trajectory {
    fn from_iter<I: IntoIterator<Item = Record>>(records: I) -> Self {
        let mut t = Trajectory::default();
        for r in records {
            t.push(&r);
        }
        t
    }
}

/// Mean and unbiased variance, in f64. The variance of a single value is 0.
pub fn mean_and_var(values: &[f32]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let ss: f64 = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum();
    (mean, if values.len() > 1 { ss / (n - 1.0) } else { 0.0 })
}

/// L2 norm, in f64.
pub fn l2_norm(values: &[f32]) -> f64 {
    values.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt()
}
