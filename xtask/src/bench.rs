//! `cargo xtask bench`: the speed of the seed workload (two_conv, Kaiming, one 3×224×224 image),
//! in the browser and natively, and against PyTorch on the same machine when it is installed.
//! Benchmarks, not tests: nothing here passes or fails on a number.

use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::{build, root, run};

const SIZES: &str = "64,224,512,1024";

/// The native benchmark's build settings: `cargo build -p initlab` plus these.
pub const NATIVE_BENCH_CONFIG: [&str; 4] = [
    "--config",
    "profile.dev.package.initlab.overflow-checks=false",
    "--config",
    "profile.dev.package.initlab.debug-assertions=false",
];

pub fn bench(webgpu: bool, python: &str) -> Result<()> {
    build::wasm()?;
    // Natively: the initlab CLI, in the dev profile (every crate at opt-level 3, so the
    // dependencies built for the tests serve) but without our crate's overflow checks and debug
    // assertions, as the release build of the wasm module and PyTorch's own build: with them the
    // deep_bn step took 30 ms instead of 18 here. Only the initlab crate is rebuilt for this.
    run(Command::new(env!("CARGO")).args(["build", "--package", "initlab"]).args(NATIVE_BENCH_CONFIG))?;
    let cli = root().join("target/debug/initlab");
    let mut native = Vec::new();
    for size in SIZES.split(',') {
        let out = capture(
            Command::new(&cli).args(["bench", "--format", "json", "--height", size, "--width", size]),
        )?;
        native.push(out.trim().to_string());
    }
    println!("{{\n\"native\": [{}],", native.join(", "));
    // The depth lab's workloads (crate/src/seed.rs): natively, in the browser, in PyTorch.
    let mut stack = Vec::new();
    for workload in ["deep", "deep_bn"] {
        let out = capture(Command::new(&cli).args(["bench", "--format", "json", "--workload", workload]))?;
        stack.push(out.trim().to_string());
    }
    println!("\"native_stack\": [{}],", stack.join(", "));
    println!("\"browser_stack\": {},", capture(Command::new("node").args(["bench/stack.mjs"]))?.trim());
    // The depth lab's lessons in the page, against the page's seed run in the same tabs.
    println!("\"lab\": {},", capture(Command::new("node").args(["bench/lab.mjs"]))?.trim());

    let mut browser = Command::new("node");
    browser.args(["bench/browser.mjs", "--sizes", SIZES]);
    if webgpu {
        browser.arg("--webgpu");
    }
    println!("\"browser\": {},", capture(&mut browser)?.trim());

    // PyTorch, if this Python has it: the same workload, one thread, in the same run.
    let has_torch = Command::new(python)
        .args(["-c", "import torch"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut pytorch = Vec::new();
    if has_torch {
        for size in SIZES.split(',') {
            pytorch.push(
                capture(Command::new(python).args(["bench/pytorch_seed.py", "--size", size]))?
                    .trim()
                    .to_string(),
            );
        }
    }
    let pytorch_stack = if has_torch {
        capture(Command::new(python).args(["bench/pytorch_stack.py"]))?.trim().to_string()
    } else {
        "null".to_string()
    };
    println!("\"pytorch_stack\": {pytorch_stack},");
    // The seed's ratio from back-to-back pairs (PyTorch and the browser taking turns).
    if has_torch {
        println!(
            "\"pairs\": {},",
            capture(Command::new("node").args(["bench/pairs.mjs", "--python", python]))?.trim()
        );
    }
    println!("\"pytorch\": [{}]\n}}", pytorch.join(", "));
    Ok(())
}

fn capture(command: &mut Command) -> Result<String> {
    let line = format!("{command:?}");
    let out = command
        .current_dir(root())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start {line}"))?;
    anyhow::ensure!(out.status.success(), "{line} failed ({})", out.status);
    Ok(String::from_utf8(out.stdout)?)
}
