//! Which burn backend runs an experiment, by name.

use std::fmt;

use burn::prelude::Device;

/// A burn backend the engine can train on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// burn-flex: burn's newer pure-Rust CPU backend. The fastest here, so the default.
    Flex,
    /// burn-ndarray: the CPU backend the design names (deprecated upstream in favour of flex).
    Ndarray,
    /// burn's wgpu backend on the browser's WebGPU (wasm only; see `web.rs`).
    Webgpu,
    /// burn's wgpu backend natively (Vulkan, Metal, DX12), with the `wgpu` feature.
    Wgpu,
}

impl BackendKind {
    /// The CPU backends of this build, fastest first (ndarray unless built without it).
    pub const CPU: &[BackendKind] = if cfg!(feature = "ndarray") {
        &[BackendKind::Flex, BackendKind::Ndarray]
    } else {
        &[BackendKind::Flex]
    };

    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Flex => "flex",
            BackendKind::Ndarray => "ndarray",
            BackendKind::Webgpu => "webgpu",
            BackendKind::Wgpu => "wgpu",
        }
    }

    /// The backends this build can run without asking a browser for anything.
    pub fn native() -> Vec<BackendKind> {
        let mut all = Self::CPU.to_vec();
        if cfg!(all(feature = "wgpu", not(target_family = "wasm"))) {
            all.push(BackendKind::Wgpu);
        }
        all
    }

    /// Parses a backend name; the error names the field and the choices.
    pub fn parse(name: &str, choices: &[BackendKind]) -> Result<Self, String> {
        choices.iter().copied().find(|b| b.name() == name).ok_or_else(|| {
            let names: Vec<String> = choices.iter().map(|b| format!("\"{}\"", b.name())).collect();
            format!("backend: must be one of {}, got {name:?}", names.join(", "))
        })
    }

    /// The (non-autodiff) device of a backend that needs no async set-up.
    /// WebGPU devices come from `web.rs`, which must await the adapter.
    pub fn device(self) -> Option<Device> {
        match self {
            BackendKind::Flex => Some(Device::flex()),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)] // the design names ndarray; flex is upstream's successor
            BackendKind::Ndarray => Some(Device::ndarray()),
            #[cfg(all(feature = "wgpu", not(target_family = "wasm")))]
            BackendKind::Wgpu => Some(Device::wgpu(Default::default())),
            _ => None,
        }
    }

    /// Whether reads must be awaited (a synchronous read panics on WebGPU).
    pub fn is_gpu(self) -> bool {
        matches!(self, BackendKind::Webgpu | BackendKind::Wgpu)
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
