//! `cargo xtask <command>`: the project's build tool, so that a fresh machine with Rust, Node
//! and Chromium needs nothing else (wasm-pack and trunk download binaries at run time).

mod bench;
mod build;
mod dist;
mod serve;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Build, serve, test and package Init Lab")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the wasm modules into www/pkg (release, wasm-bindgen pinned to Cargo.lock).
    Build {
        /// Only the module of this name (initlab_flex, initlab_flex_fma or initlab): a kernel change rebuilds
        /// every module, and the full one takes minutes longer.
        #[arg(long)]
        only: Option<String>,
    },
    /// Build the flex module, serve the repository root on 127.0.0.1 at once, and build the
    /// ndarray and WebGPU module in the background (the page offers them once it is built).
    Serve {
        #[arg(long, default_value_t = 8000)]
        port: u16,
    },
    /// Everything: the Rust tests, the wasm build, and the browser tests in headless Chromium.
    Test,
    /// Build, then write dist/ (a static site) and dist/initlab.html (one self-contained file).
    Dist,
    /// Speed of the seed workload: browser (every backend), native, and PyTorch if installed.
    Bench {
        /// Also time burn-wgpu on the browser's WebGPU (SwiftShader here: slow).
        #[arg(long)]
        webgpu: bool,
        /// The Python that may have torch.
        #[arg(long, default_value = "python3")]
        python: String,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Task::Build { only: None } => build::wasm(),
        Task::Build { only: Some(name) } => build::only(&name),
        Task::Serve { port } => serve::serve(&root(), port),
        Task::Test => {
            // House style first (rustfmt.toml): a second or two, before the long builds.
            run(Command::new(env!("CARGO")).args(["fmt", "--all", "--check"]))?;
            // Lints next (clippy, native targets; web.rs is wasm-only and not linted here).
            let clippy = ["clippy", "--workspace", "--all-targets", "--features", "initlab/check-outputs"];
            run(Command::new(env!("CARGO")).args(clippy).args(["--", "-D", "warnings"]))?;
            run(Command::new(env!("CARGO")).args([
                "test",
                "--package",
                "initlab",
                "--features",
                "check-outputs",
            ]))?;
            build::wasm()?;
            dist::dist()?;
            run(Command::new("node").args(["--test", "--test-concurrency=1", "tests/"]))
        }
        Task::Dist => {
            build::wasm()?;
            dist::dist()
        }
        Task::Bench { webgpu, python } => bench::bench(webgpu, &python),
    }
}

/// The repository root (the workspace holding xtask/).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

/// Runs a command in the repository root, failing with its command line if it fails.
pub fn run(command: &mut Command) -> Result<()> {
    let line = format!("{command:?}");
    let status = command.current_dir(root()).status().with_context(|| format!("cannot start {line}"))?;
    if !status.success() {
        bail!("{line} failed ({status})");
    }
    Ok(())
}
