//! The blog's four experiments, as presets over the default config.

use crate::config::{Arch, ExperimentConfig, FieldValue, Init};

/// A named preset: the key used in JSON, URLs and `window.initlab.runAll()`.
pub struct Preset {
    pub key: &'static str,
    pub apply: fn(&mut ExperimentConfig),
}

/// zero init, zero init with conv2 only, constant 5, Kaiming normal.
pub const PRESETS: [Preset; 4] = [
    Preset {
        key: "zeros",
        apply: |c| {
            c.arch = Arch::TwoConv;
            c.init = Init::Zeros;
            c.init_value = None;
        },
    },
    Preset {
        key: "single_conv_zeros",
        apply: |c| {
            c.arch = Arch::SingleConv;
            c.init = Init::Zeros;
            c.init_value = None;
        },
    },
    Preset {
        key: "constant5",
        apply: |c| {
            c.arch = Arch::TwoConv;
            c.init = Init::Constant;
            c.init_value = Some(5.0);
        },
    },
    Preset {
        key: "kaiming",
        apply: |c| {
            c.arch = Arch::TwoConv;
            c.init = Init::KaimingNormal;
            c.init_value = None;
        },
    },
];

impl Preset {
    /// `base` with this preset's arch and init.
    pub fn config(&self, base: &ExperimentConfig) -> ExperimentConfig {
        let mut c = base.clone();
        (self.apply)(&mut c);
        c
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
