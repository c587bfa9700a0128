//! What a step reports, and the whole run as the fixtures' `trajectory`.
//!
//! The seed arches report the seed fixtures' seven keys (`loss`, `conv1_mean` … `conv2_grad_norm`);
//! a stack reports the stack fixtures' keys: `loss`, `accuracy`, and per layer `conv_mean`,
//! `conv_var`, `conv_grad_norm`, `bias_grad_norm` (with biases), `act_mean`, `act_std` and
//! `act_grad_norm`, one value per block, block 1 first.

use serde::{Deserialize, Serialize, ser::SerializeMap};

/// One key's value at one step: a number, or one number per layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Scalar(f64),
    Layers(Vec<f64>),
}

impl Value {
    /// The values, one for a scalar.
    pub fn as_slice(&self) -> &[f64] {
        match self {
            Value::Scalar(x) => std::slice::from_ref(x),
            Value::Layers(v) => v,
        }
    }
}

/// The seed fixtures' keys, in their order.
pub const SEED_KEYS: [&str; 7] =
    ["loss", "conv1_mean", "conv1_var", "conv2_mean", "conv2_var", "conv1_grad_norm", "conv2_grad_norm"];
/// The stack fixtures' scalar keys and layer keys.
pub const STACK_SCALAR_KEYS: [&str; 2] = ["loss", "accuracy"];
pub const STACK_LAYER_KEYS: [&str; 7] =
    ["conv_mean", "conv_var", "conv_grad_norm", "bias_grad_norm", "act_mean", "act_std", "act_grad_norm"];

/// One step, recorded after backward and before the optimizer update, so that step 0 shows
/// the initial weights. Keys in the fixtures' order.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub step: u64,
    pub values: Vec<(&'static str, Value)>,
}

impl Record {
    /// A scalar key's value (`loss`, `accuracy`, `conv1_mean`, …).
    pub fn get(&self, key: &str) -> Option<f64> {
        match self.value(key)? {
            Value::Scalar(x) => Some(*x),
            Value::Layers(_) => None,
        }
    }

    /// A layer key's values, block 1 first.
    pub fn layers(&self, key: &str) -> Option<&[f64]> {
        match self.value(key)? {
            Value::Layers(v) => Some(v),
            Value::Scalar(_) => None,
        }
    }

    pub fn value(&self, key: &str) -> Option<&Value> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    pub fn loss(&self) -> f64 {
        self.get("loss").expect("every record has a loss")
    }

    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.values.iter().map(|(k, _)| *k)
    }
}

impl Serialize for Record {
    /// `{step, loss, …}`: the keys flat, layer keys as arrays of numbers.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.values.len() + 1))?;
        map.serialize_entry("step", &self.step)?;
        for (key, value) in &self.values {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A key's values over a run: one number per step, or one list of layer values per step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Series {
    Scalar(Vec<f64>),
    Layers(Vec<Vec<f64>>),
}

impl Series {
    pub fn len(&self) -> usize {
        match self {
            Series::Scalar(v) => v.len(),
            Series::Layers(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values at `step` (one for a scalar key).
    pub fn at(&self, step: usize) -> &[f64] {
        match self {
            Series::Scalar(v) => std::slice::from_ref(&v[step]),
            Series::Layers(v) => &v[step],
        }
    }

    /// Layer `layer`'s values over the run (the only ones, for a scalar key).
    pub fn layer(&self, layer: usize) -> Vec<f64> {
        match self {
            Series::Scalar(v) => v.clone(),
            Series::Layers(v) => v.iter().map(|step| step[layer]).collect(),
        }
    }

    fn push(&mut self, value: &Value) {
        match (self, value) {
            (Series::Scalar(s), Value::Scalar(x)) => s.push(*x),
            (Series::Layers(s), Value::Layers(v)) => s.push(v.clone()),
            (s, v) => panic!("a key changed kind between steps: {s:?} then {v:?}"),
        }
    }
}

/// Every key's series over a run, keyed as in the fixtures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Trajectory {
    series: std::collections::BTreeMap<String, Series>,
}

impl Trajectory {
    pub fn push(&mut self, r: &Record) {
        for (key, value) in &r.values {
            let series = self.series.entry(key.to_string()).or_insert_with(|| match value {
                Value::Scalar(_) => Series::Scalar(Vec::new()),
                Value::Layers(_) => Series::Layers(Vec::new()),
            });
            series.push(value);
        }
    }

    /// Steps recorded.
    pub fn len(&self) -> usize {
        self.series.get("loss").map_or(0, Series::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn series(&self, key: &str) -> Option<&Series> {
        self.series.get(key)
    }

    /// A scalar key's values (`loss`, `conv1_var`, …); empty if the run has no such key.
    pub fn scalar(&self, key: &str) -> &[f64] {
        match self.series.get(key) {
            Some(Series::Scalar(v)) => v,
            _ => &[],
        }
    }

    /// The keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.series.keys().map(String::as_str)
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

/// `Σ f(v)` in f64 over [`PARTIAL_SUMS`] partial sums (value `i` in sum `i mod 16`), added
/// pairwise at the end: the same order on every target, and independent chains of adds, none
/// waiting on another.
fn sum_f64<T: Copy + Into<f64>>(values: &[T], f: impl Fn(f64) -> f64) -> f64 {
    let mut sums = [0.0f64; PARTIAL_SUMS];
    let groups = values.chunks_exact(PARTIAL_SUMS);
    let tail = groups.remainder();
    for group in groups {
        for (sum, &v) in sums.iter_mut().zip(group) {
            *sum += f(v.into());
        }
    }
    let mut width = PARTIAL_SUMS;
    while width > 1 {
        width /= 2;
        for k in 0..width {
            sums[k] += sums[k + width];
        }
    }
    let mut total = sums[0];
    for &v in tail {
        total += f(v.into());
    }
    total
}

/// Partial sums in [`sum_f64`]. A deep stack's record reads 2 × depth maps a step: with one
/// chain of adds they took ~8% of a deep_bn step natively; with four, 3.1% in Chromium (V8's
/// profiler); with sixteen, 2.2%, and the step 0.989 and 0.994 of its time with four
/// (bench/ab.mjs, both orders). Taking the statistics in the forward pass instead, while each
/// map was still in cache, took 0.996 and 1.033 of the time with sixteen: no gain, for reasons
/// not found (bench/LOG.md).
const PARTIAL_SUMS: usize = 16;

/// Mean and unbiased variance, in f64. The variance of a single value is 0.
pub fn mean_and_var<T: Copy + Into<f64>>(values: &[T]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = sum_f64(values, |v| v) / n;
    let ss = sum_f64(values, |v| (v - mean).powi(2));
    (mean, if values.len() > 1 { ss / (n - 1.0) } else { 0.0 })
}

/// Mean and population standard deviation (divide by the count), in f64, two passes.
pub fn mean_and_std<T: Copy + Into<f64>>(values: &[T]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = sum_f64(values, |v| v) / n;
    let ss = sum_f64(values, |v| (v - mean).powi(2));
    (mean, (ss / n).sqrt())
}

/// L2 norm, in f64.
pub fn l2_norm<T: Copy + Into<f64>>(values: &[T]) -> f64 {
    sum_f64(values, |v| v * v).sqrt()
}
