//! The wasm build: cargo for wasm32, then wasm-bindgen (as a library, pinned to the version
//! in Cargo.lock, so there is no CLI to install or to get out of step).

use std::process::Command;

use anyhow::{Context, Result};
use wasm_bindgen_cli_support::Bindgen;

use crate::{root, run};

/// Builds the two wasm modules into `www/pkg/`, and copies the page's vendored chart library
/// out of node_modules:
/// - `initlab.js` + `initlab_bg.wasm`: every backend (flex, ndarray, WebGPU), the module API;
/// - `initlab_flex.js` + `initlab_flex_bg.wasm`: flex alone, a fifth of the size, which the page
///   loads first so that it is ready at once (the full module follows only when asked for).
pub fn wasm() -> Result<()> {
    vendor()?;
    ensure_wasm_target()?;
    module("initlab_flex", &[], false)?;
    module("initlab", &["webgpu"], true)
}

fn module(name: &str, features: &[&str], default_features: bool) -> Result<()> {
    let mut cargo = Command::new(env!("CARGO"));
    cargo.args(["rustc", "--package", "initlab", "--lib", "--release", "--target", "wasm32-unknown-unknown"]);
    if !default_features {
        cargo.arg("--no-default-features");
    }
    if !features.is_empty() {
        cargo.args(["--features", &features.join(",")]);
    }
    run(cargo.args(["--crate-type", "cdylib"]))?;
    let input = root().join("target/wasm32-unknown-unknown/release/initlab.wasm");
    let out = root().join("www/pkg");
    Bindgen::new()
        .input_path(&input)
        .out_name(name)
        .web(true)?
        .typescript(true)
        .omit_default_module_path(false)
        // Function names are 10% of the module and only serve backtraces.
        // The names cost 7 MB in the full module; bench/profile.mjs needs them (INITLAB_KEEP_NAMES=1).
        .remove_name_section(std::env::var_os("INITLAB_KEEP_NAMES").is_none())
        .generate(&out)
        .with_context(|| format!("wasm-bindgen on {}", input.display()))?;
    let size = std::fs::metadata(out.join(format!("{name}_bg.wasm")))?.len();
    eprintln!("built www/pkg/{name}.js and {name}_bg.wasm ({:.1} MB)", size as f64 / 1e6);
    Ok(())
}

/// uPlot comes from npm (pinned in package-lock.json) and is copied next to the page, which
/// then makes no request off its own origin.
pub fn vendor() -> Result<()> {
    let dist = root().join("node_modules/uplot/dist");
    if !dist.exists() {
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]))?;
    }
    let vendor = root().join("www/vendor");
    std::fs::create_dir_all(&vendor)?;
    for file in ["uPlot.iife.min.js", "uPlot.min.css"] {
        std::fs::copy(dist.join(file), vendor.join(file)).with_context(|| format!("copy {file}"))?;
    }
    std::fs::copy(root().join("node_modules/uplot/LICENSE"), vendor.join("uPlot.LICENSE"))?;
    Ok(())
}

/// A fresh rustup install lacks the wasm32 target; add it rather than fail.
fn ensure_wasm_target() -> Result<()> {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match installed {
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains("wasm32-unknown-unknown") => Ok(()),
        Ok(_) => run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"])),
        // No rustup (a distribution's Rust): let cargo report what is missing.
        Err(_) => Ok(()),
    }
}
