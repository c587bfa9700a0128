//! PyTorch reference fixtures (`shared/reference` format) and the parity tolerance.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::ExperimentConfig;
use crate::inputs::InitialTensors;
use crate::record::Trajectory;

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
    pub max_abs_f32_vs_f64: BTreeMap<String, f64>,
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
        let tensors_path: PathBuf = path
            .parent()
            .unwrap_or(Path::new("."))
            .join(&fixture.tensors);
        let bytes = std::fs::read(&tensors_path)
            .map_err(|e| format!("{}: cannot read ({e})", tensors_path.display()))?;
        let inputs = InitialTensors::from_safetensors(&bytes, &fixture.config)
            .map_err(|e| format!("{}: {e}", tensors_path.display()))?;
        Ok(LoadedFixture { fixture, inputs })
    }

    /// The allowed distance from the reference for one value:
    /// `1e-6 + 10 · max_abs_f32_vs_f64[key] + 1e-4 · |ref|`.
    pub fn tolerance(&self, key: &str, reference: f64) -> f64 {
        let noise = self.max_abs_f32_vs_f64.get(key).copied().unwrap_or(0.0);
        1e-6 + 10.0 * noise + 1e-4 * reference.abs()
    }

    /// Every value of `ours` that is further from the reference than the tolerance (times
    /// `scale`), as readable lines. Empty means parity.
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
        for key in Trajectory::KEYS {
            let (a, b) = (ours.series(key).unwrap(), self.trajectory.series(key).unwrap());
            for (step, (&x, &r)) in a.iter().zip(b).enumerate() {
                let tol = scale * self.tolerance(key, r);
                if !((x - r).abs() <= tol) {
                    failures.push(format!(
                        "{} step {step} {key}: ours {x:e}, PyTorch {r:e}, |diff| {:e} > {tol:e}",
                        self.name,
                        (x - r).abs()
                    ));
                }
            }
        }
        failures
    }
}
