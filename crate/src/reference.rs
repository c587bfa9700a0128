//! PyTorch reference fixtures (`shared/reference` format) and the parity tolerance.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::ExperimentConfig;
use crate::inputs::InitialTensors;
use crate::record::{Series, Trajectory, Value};

/// One fixture: a config, its initial tensors and PyTorch's float32 and float64 runs.
#[derive(Clone, Debug, Deserialize)]
pub struct Fixture {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub config: ExperimentConfig,
    /// The safetensors file, relative to the JSON file.
    pub tensors: String,
    pub trajectory: Trajectory,
    /// Parameters after the last update, flattened row-major.
    #[serde(rename = "final")]
    pub final_params: BTreeMap<String, Vec<f64>>,
    pub float64_trajectory: Trajectory,
    /// One float per scalar key, one per layer for layer keys.
    pub max_abs_f32_vs_f64: BTreeMap<String, Value>,
}

/// A fixture with its initial tensors loaded.
pub struct LoadedFixture {
    pub fixture: Fixture,
    pub inputs: InitialTensors,
}

impl Fixture {
    /// Reads `path` and the safetensors file it names. Errors name the file and what is wrong.
    pub fn load(path: &Path) -> Result<LoadedFixture, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read ({e})", path.display()))?;
        let fixture: Fixture = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{}: not a reference fixture ({e})", path.display()))?;
        fixture.check_shape().map_err(|e| format!("{}: {e}", path.display()))?;
        let tensors_path: PathBuf = path.parent().unwrap_or(Path::new(".")).join(&fixture.tensors);
        let bytes = std::fs::read(&tensors_path)
            .map_err(|e| format!("{}: cannot read ({e})", tensors_path.display()))?;
        let inputs = InitialTensors::from_safetensors(&bytes, &fixture.config)
            .map_err(|e| format!("{}: {e}", tensors_path.display()))?;
        Ok(LoadedFixture { fixture, inputs })
    }

    /// Every series of both runs holds one entry per epoch, and a layer key the same non-zero
    /// number of layers at every epoch: what `compare` and `pairs` index by (an empty series
    /// made `replay --check` panic).
    fn check_shape(&self) -> Result<(), String> {
        let epochs = self.config.epochs as usize;
        for (which, trajectory) in
            [("trajectory", &self.trajectory), ("float64_trajectory", &self.float64_trajectory)]
        {
            if trajectory.keys().next().is_none() {
                return Err(format!("{which}: has no series"));
            }
            for key in trajectory.keys() {
                let series = trajectory.series(key).expect("a key the trajectory listed");
                if series.len() != epochs {
                    return Err(format!(
                        "{which}.{key}: must have one entry per epoch ({epochs}), has {}",
                        series.len()
                    ));
                }
                if let Series::Layers(steps) = series {
                    let layers = steps[0].len();
                    if layers == 0 || steps.iter().any(|step| step.len() != layers) {
                        return Err(format!(
                            "{which}.{key}: every epoch must list the same number of layers, at least 1"
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The allowed distance from the reference for one value of `key` (at `layer` for layer
    /// keys): `1e-6 + 10 · max_abs_f32_vs_f64[key] + 1e-4 · |ref|`, plus three pixels' worth
    /// for `accuracy` (near-ties may flip).
    pub fn tolerance(&self, key: &str, layer: usize, reference: f64) -> f64 {
        let noise =
            self.max_abs_f32_vs_f64.get(key).map_or(0.0, |v| v.as_slice().get(layer).copied().unwrap_or(0.0));
        let flips = if key == "accuracy" { 3.0 / self.config.pixels() as f64 } else { 0.0 };
        1e-6 + 10.0 * noise + 1e-4 * reference.abs() + flips
    }

    /// Every (key, step, layer, ours, reference, tolerance × `scale`) of the fixture's keys.
    pub fn pairs<'a>(&'a self, ours: &'a Trajectory, scale: f64) -> impl Iterator<Item = Pair<'a>> + 'a {
        self.trajectory.keys().flat_map(move |key| {
            let reference = self.trajectory.series(key).expect("its own key");
            let mine = ours.series(key);
            (0..reference.len().min(mine.map_or(0, |m| m.len()))).flat_map(move |step| {
                let r = reference.at(step);
                let m = mine.expect("present").at(step);
                (0..r.len()).map(move |layer| {
                    let ours = m.get(layer).copied().unwrap_or(f64::NAN);
                    Pair {
                        key,
                        step,
                        layer,
                        ours,
                        reference: r[layer],
                        tolerance: scale * self.tolerance(key, layer, r[layer]),
                    }
                })
            })
        })
    }

    /// Every value of `ours` that is further from the reference than the tolerance (times
    /// `scale`), as readable lines. Empty means parity.
    // `!(diff <= tolerance)` on purpose: a NaN on either side fails the comparison.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    pub fn compare(&self, ours: &Trajectory, scale: f64) -> Vec<String> {
        let mut failures = Vec::new();
        if ours.len() != self.trajectory.len() {
            failures.push(format!(
                "{}: {} steps, reference has {}",
                self.name,
                ours.len(),
                self.trajectory.len()
            ));
        }
        for key in self.trajectory.keys() {
            match ours.series(key) {
                None => failures.push(format!("{}: no series {key}", self.name)),
                Some(series)
                    if !series.is_empty()
                        && series.at(0).len() != self.trajectory.series(key).unwrap().at(0).len() =>
                {
                    failures.push(format!(
                        "{}: {key} has {} layers, reference {}",
                        self.name,
                        series.at(0).len(),
                        self.trajectory.series(key).unwrap().at(0).len()
                    ))
                }
                _ => {}
            }
        }
        for p in self.pairs(ours, scale) {
            if !((p.ours - p.reference).abs() <= p.tolerance) {
                failures.push(format!(
                    "{} step {} {}{}: ours {:e}, PyTorch {:e}, |diff| {:e} > {:e}",
                    self.name,
                    p.step,
                    p.key,
                    if self
                        .trajectory
                        .series(p.key)
                        .is_some_and(|s| matches!(s, crate::record::Series::Layers(_)))
                    {
                        format!("[layer {}]", p.layer + 1)
                    } else {
                        String::new()
                    },
                    p.ours,
                    p.reference,
                    (p.ours - p.reference).abs(),
                    p.tolerance
                ));
            }
        }
        failures
    }

    /// The largest |ours − ref| / tolerance over every key, step and layer: the margin left.
    pub fn worst_ratio(&self, ours: &Trajectory) -> String {
        let worst = self
            .pairs(ours, 1.0)
            .map(|p| ((p.ours - p.reference).abs() / p.tolerance, p))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        match worst {
            Some((ratio, p)) => format!("{ratio:.3} ({} at step {}, layer {})", p.key, p.step, p.layer + 1),
            None => "no values".to_string(),
        }
    }

    /// The largest float32/float64 gap of the run, over every key and layer.
    pub fn max_noise(&self) -> f64 {
        self.max_abs_f32_vs_f64.values().flat_map(|v| v.as_slice().to_vec()).fold(0.0, f64::max)
    }
}

/// One compared value.
pub struct Pair<'a> {
    pub key: &'a str,
    pub step: usize,
    pub layer: usize,
    pub ours: f64,
    pub reference: f64,
    pub tolerance: f64,
}
