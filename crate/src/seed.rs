//! The blog's four experiments, as presets over the default config.

use crate::config::{Arch, ExperimentConfig, FieldValue, Init};

/// A named preset: the key used in JSON, URLs and `window.initlab.runAll()`, and the three
/// keys it sets over the reader's config.
pub struct Preset {
    pub key: &'static str,
    pub arch: Arch,
    pub init: Init,
    pub init_value: Option<f64>,
}

/// zero init, zero init with conv2 only, constant 5, Kaiming normal.
pub const PRESETS: [Preset; 4] = [
    Preset { key: "zeros", arch: Arch::TwoConv, init: Init::Zeros, init_value: None },
    Preset { key: "single_conv_zeros", arch: Arch::SingleConv, init: Init::Zeros, init_value: None },
    Preset { key: "constant5", arch: Arch::TwoConv, init: Init::Constant, init_value: Some(5.0) },
    Preset { key: "kaiming", arch: Arch::TwoConv, init: Init::KaimingNormal, init_value: None },
];

impl Preset {
    /// `base` with this preset's arch and init.
    pub fn config(&self, base: &ExperimentConfig) -> ExperimentConfig {
        ExperimentConfig { arch: self.arch, init: self.init, init_value: self.init_value, ..base.clone() }
    }
}

/// The speed benchmarks' workloads, by name: the seed's Kaiming run, and two depth-lab stacks.
pub const WORKLOADS: [&str; 3] = ["seed", "deep", "deep_bn"];

/// A benchmark workload's config fields (Kaiming normal, the other keys at their defaults).
pub fn workload(name: &str) -> Option<Vec<(&'static str, FieldValue)>> {
    let text = |s: &str| FieldValue::Text(s.to_string());
    let num = FieldValue::Number;
    let stack = |depth: f64, channels: f64, norm: &str, size: f64| {
        vec![
            ("arch", text("stack")),
            ("depth", num(depth)),
            ("channels", num(channels)),
            ("norm", text(norm)),
            ("height", num(size)),
            ("width", num(size)),
        ]
    };
    match name {
        "seed" => Some(vec![]),
        "deep" => Some(stack(12.0, 8.0, "none", 32.0)),
        "deep_bn" => Some(stack(8.0, 16.0, "batch", 64.0)),
        _ => None,
    }
}
