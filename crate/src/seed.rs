//! The blog's four experiments, as presets over the default config.

use crate::config::{Arch, ExperimentConfig, Init};

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
