//! The wasm build: cargo for wasm32, then wasm-bindgen (as a library, pinned to the version
//! in Cargo.lock, so there is no CLI to install or to get out of step).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasm_bindgen_cli_support::Bindgen;

use crate::{root, run};

/// One of the page's wasm modules in `www/pkg/`:
/// - `initlab.js` + `initlab_bg.wasm` ([`FULL`]): every backend (flex, ndarray, WebGPU), the module API;
/// - `initlab_flex.js` + `initlab_flex_bg.wasm` ([`FLEX`]): flex alone, a fifth of the size, which
///   the page loads first so that it is ready at once (the full module follows only when asked for);
/// - `initlab_flex_fma_bg.wasm` ([`FLEX_FMA`]): the same with the stack's kernels fusing their
///   multiply-adds (relaxed SIMD, the feature `fma`), which the page runs instead where the
///   browser validates relaxed SIMD. Same exports, so it shares `initlab_flex.js`; the build
///   checks that its bindings come out identical.
pub struct Module {
    /// The module's file, `{name}_bg.wasm`.
    pub name: &'static str,
    /// Its bindings, `{bindings}.js`: its own name, or the module whose bindings it shares.
    bindings: &'static str,
    features: &'static [&'static str],
    default_features: bool,
}

pub const FLEX: Module =
    Module { name: "initlab_flex", bindings: "initlab_flex", features: &[], default_features: false };
pub const FLEX_FMA: Module = Module {
    name: "initlab_flex_fma",
    bindings: "initlab_flex",
    features: &["fma"],
    default_features: false,
};
pub const FULL: Module =
    Module { name: "initlab", bindings: "initlab", features: &["webgpu"], default_features: true };
/// Every module, in the order [`wasm`] builds them ([`FLEX_FMA`] after the bindings it shares).
const MODULES: [Module; 3] = [FLEX, FLEX_FMA, FULL];

/// Builds the three wasm modules into `www/pkg/`, and copies the page's vendored chart library
/// out of node_modules. A module whose inputs have not changed since its last build is not
/// built again (see [`Stamp`]).
pub fn wasm() -> Result<()> {
    prepare()?;
    MODULES.iter().try_for_each(module)
}

/// Builds the module named `name` alone (see [`wasm`]).
pub fn only(name: &str) -> Result<()> {
    let Some(chosen) = MODULES.iter().find(|m| m.name == name) else {
        let names: Vec<_> = MODULES.iter().map(|m| m.name).collect();
        anyhow::bail!("--only: {name} is not a module (one of {})", names.join(", "));
    };
    prepare()?;
    module(chosen)
}

/// What every module build needs first: the vendored chart library and the wasm32 target.
pub fn prepare() -> Result<()> {
    vendor()?;
    ensure_wasm_target()
}

/// Builds one module (cargo for wasm32, then wasm-bindgen) unless it is up to date.
///
/// Both modules are the same crate with other features, and cargo keeps one output file and
/// one fingerprint for a path crate's cdylib, so it recompiles the crate (and wasm-bindgen runs
/// again) whenever the other module was built last, changed or not: the stamp saves that.
pub fn module(module: &Module) -> Result<()> {
    let stamp = Stamp::of(module)?;
    let name = module.name;
    if stamp.is_current() {
        eprintln!("www/pkg/{name}_bg.wasm is up to date");
        // facts.js is written right after the flex module: current with it, unless deleted.
        let facts_missing = !root().join("www/pkg/facts.js").is_file();
        return if name == FLEX.name && facts_missing { facts() } else { Ok(()) };
    }
    let mut cargo = Command::new(env!("CARGO"));
    cargo.args(["rustc", "--package", "initlab", "--lib", "--release", "--target", "wasm32-unknown-unknown"]);
    if !module.default_features {
        cargo.arg("--no-default-features");
    }
    if !module.features.is_empty() {
        cargo.args(["--features", &module.features.join(",")]);
    }
    run(cargo.args(["--crate-type", "cdylib"]))?;
    let input = root().join("target/wasm32-unknown-unknown/release/initlab.wasm");
    if module.features.contains(&"fma") {
        check_fused(&input)?;
    }
    let pkg = root().join("www/pkg");
    // A module that shares another's bindings is bound apart, and only its wasm file is kept.
    let shares = module.bindings != name;
    let out = if shares { root().join("target/wasm-bindgen").join(name) } else { pkg.clone() };
    Bindgen::new()
        .input_path(&input)
        .out_name(module.bindings)
        .web(true)?
        .typescript(true)
        .omit_default_module_path(false)
        // Function names are 10% of the module and only serve backtraces.
        // The names cost 7 MB in the full module; bench/profile.mjs needs them (INITLAB_KEEP_NAMES=1).
        .remove_name_section(std::env::var_os("INITLAB_KEEP_NAMES").is_none())
        .generate(&out)
        .with_context(|| format!("wasm-bindgen on {}", input.display()))?;
    if shares {
        let bindings = format!("{}.js", module.bindings);
        // Comments aside: they quote function-table indices, which differ between the two builds.
        let code = |path: PathBuf| -> Result<Vec<String>> {
            let text = std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
            Ok(text.lines().filter(|l| !l.trim_start().starts_with("//")).map(str::to_owned).collect())
        };
        anyhow::ensure!(
            code(out.join(&bindings))? == code(pkg.join(&bindings))?,
            "{name}: its bindings differ from www/pkg/{bindings}, which it must share (build both again)"
        );
        std::fs::copy(out.join(format!("{}_bg.wasm", module.bindings)), pkg.join(format!("{name}_bg.wasm")))?;
    }
    let size = std::fs::metadata(pkg.join(format!("{name}_bg.wasm")))?.len();
    eprintln!("built www/pkg/{}.js and {name}_bg.wasm ({:.1} MB)", module.bindings, size as f64 / 1e6);
    if name == FLEX.name {
        facts()?;
    }
    stamp.save()
}

/// Refuses a fused module where a relaxed-SIMD intrinsic was left out of line: its name in the
/// module's function names means some kernel reaches `kernels::madd` from a function compiled
/// without relaxed SIMD, and every fused multiply-add there is a call (1.7 times deep_bn's step).
fn check_fused(wasm: &Path) -> Result<()> {
    let bytes = std::fs::read(wasm)?;
    let needle = b"f64x2_relaxed_";
    anyhow::ensure!(
        !bytes.windows(needle.len()).any(|w| w == needle),
        "{}: a relaxed-SIMD intrinsic compiled as a function of its own; give the kernel that calls \
         kernels::madd or nmadd the attribute target_feature(enable = \"relaxed-simd\") (see madd)",
        wasm.display()
    );
    Ok(())
}

/// Writes `www/pkg/facts.js`, the engine's tables that the page imports before any module has
/// loaded (config fields, the seed's experiments, series keys, backends), from the flex module
/// itself (`engineFacts()`, see crate/src/facts.rs): so each fact is stated in Rust alone.
fn facts() -> Result<()> {
    run(Command::new("node").arg(root().join("xtask/facts.mjs")))
}

/// A digest of what a module's build depends on: the crate's sources and manifests, the lock
/// file, cargo's config, this file, the toolchain (`rustc -vV`), the module's features and the
/// environment variables that change the output. It is saved in `target/wasm-stamps/` after a
/// build, and the module is current while the digest is the same and its two files are in
/// `www/pkg/`. Files count by path, size and modification time, as cargo's own checks do.
struct Stamp {
    path: PathBuf,
    outputs: [PathBuf; 2],
    digest: String,
}

impl Stamp {
    fn of(module: &Module) -> Result<Stamp> {
        let root = root();
        let mut hash = Sha256::new();
        let mut add = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(bytes);
        };
        add(module.name.as_bytes());
        add(module.features.join(",").as_bytes());
        add(&[module.default_features as u8]);
        for var in ["INITLAB_KEEP_NAMES", "RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_PROFILE_RELEASE_LTO"]
        {
            add(std::env::var_os(var).unwrap_or_default().as_encoded_bytes());
        }
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        add(&Command::new(rustc).arg("-vV").output().map(|o| o.stdout).unwrap_or_default());
        let mut files = Vec::new();
        walk(&root.join("crate/src"), &mut files)?;
        for file in [
            "crate/Cargo.toml",
            "Cargo.toml",
            "Cargo.lock",
            ".cargo/config.toml",
            "xtask/Cargo.toml",
            "xtask/src/build.rs",
        ] {
            files.push(root.join(file));
        }
        files.sort();
        for file in &files {
            add(file.strip_prefix(&root).unwrap_or(file).to_string_lossy().as_bytes());
            match std::fs::metadata(file) {
                Ok(meta) => {
                    let modified = meta.modified()?.duration_since(UNIX_EPOCH).unwrap_or_default();
                    add(&meta.len().to_le_bytes());
                    add(&modified.as_nanos().to_le_bytes());
                }
                Err(_) => add(b"missing"),
            }
        }
        let digest = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let pkg = root.join("www/pkg");
        Ok(Stamp {
            path: root.join("target/wasm-stamps").join(module.name),
            outputs: [
                pkg.join(format!("{}.js", module.bindings)),
                pkg.join(format!("{}_bg.wasm", module.name)),
            ],
            digest,
        })
    }

    fn is_current(&self) -> bool {
        self.outputs.iter().all(|p| p.is_file())
            && std::fs::read_to_string(&self.path).is_ok_and(|d| d == self.digest)
    }

    /// Saves the digest taken before the build: a file edited while it ran changes the digest,
    /// so the next build sees the edit.
    fn save(&self) -> Result<()> {
        std::fs::create_dir_all(self.path.parent().expect("a stamp lives in a folder"))?;
        std::fs::write(&self.path, &self.digest).with_context(|| format!("write {}", self.path.display()))
    }
}

/// Every file under `dir`, recursively.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
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
