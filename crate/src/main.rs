//! `initlab`: the experiments from the command line.
//!
//! Bad input exits with code 2 and one line on stderr naming the field or the file;
//! a run that diverges prints its records, says "diverged at step k" on stderr and exits 1.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{Map, Value, json};

use initlab::{
    BackendKind, Experiment, ExperimentConfig, FieldValue, StepError, Trajectory,
    reference::Fixture, seed::PRESETS,
};

#[derive(Parser)]
#[command(name = "initlab", version, about = "Why a CNN cannot learn from all-zero weights: the blog's experiments on burn")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one experiment and print its trajectory.
    #[command(allow_negative_numbers = true)]
    Run {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Run the blog's four experiments (zeros, single_conv_zeros, constant5, kaiming).
    #[command(allow_negative_numbers = true)]
    Seed {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Replay a PyTorch reference fixture (shared/reference format) and print our trajectory
    /// and final parameters as JSON.
    Replay {
        /// The fixture's JSON file; its `tensors` path is relative to it.
        fixture: PathBuf,
        #[arg(long, default_value = "flex")]
        backend: String,
        /// Also compare with the fixture's trajectory: exit 1 if any value is out of tolerance.
        #[arg(long)]
        check: bool,
    },
    /// The conv weight gradient on a backend against the CPU, burn's kernel and ours: the
    /// check behind docs/wgpu-conv-weight-grad.md (try `--backend wgpu` in a wgpu build).
    CheckConv {
        #[arg(long, default_value = "flex")]
        backend: String,
        /// Image sizes (square) to check.
        #[arg(long, value_delimiter = ',', default_value = "64,128,182,224")]
        sizes: Vec<u32>,
    },
    /// Median milliseconds per step of the seed workload (two_conv, Kaiming, 1×3×224×224).
    #[command(allow_negative_numbers = true)]
    Bench {
        #[arg(long, default_value = "flex")]
        backend: String,
        /// Timed steps (after 3 warm-up steps).
        #[arg(long, default_value_t = 30)]
        steps: u64,
        #[arg(long, default_value = "224")]
        height: String,
        #[arg(long, default_value = "224")]
        width: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// Every config key, as text: validation (and its messages) lives in the library.
#[derive(Args)]
struct ConfigArgs {
    /// two_conv | single_conv
    #[arg(long)]
    arch: Option<String>,
    /// zeros | constant | kaiming_normal | kaiming_uniform | xavier_normal | xavier_uniform | normal
    #[arg(long)]
    init: Option<String>,
    /// The constant (init constant) or the std (init normal).
    #[arg(long)]
    init_value: Option<String>,
    #[arg(long)]
    lr: Option<String>,
    #[arg(long)]
    momentum: Option<String>,
    #[arg(long)]
    epochs: Option<String>,
    #[arg(long)]
    batch: Option<String>,
    #[arg(long)]
    height: Option<String>,
    #[arg(long)]
    width: Option<String>,
    /// The class of every pixel: 0, 1 or 2.
    #[arg(long)]
    label: Option<String>,
    #[arg(long)]
    seed: Option<String>,
    /// Clear gradients before each step (the fix the original script lacks).
    #[arg(long)]
    zero_grad: bool,
}

#[derive(Args)]
struct OutputArgs {
    /// flex | ndarray (| wgpu with the `wgpu` feature)
    #[arg(long, default_value = "flex")]
    backend: String,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Csv,
    Json,
}

/// How the program ends: bad input (2) or a run that stopped early (1).
enum Failure {
    Input(String),
    Stopped(String),
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print(); // --help, --version
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's own errors span several lines; the contract is one.
            let text = e.render().to_string();
            let line = text.lines().next().unwrap_or("invalid arguments");
            eprintln!("initlab: {}", line.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    match execute(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(message)) => {
            eprintln!("initlab: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Stopped(message)) => {
            eprintln!("initlab: {message}");
            ExitCode::from(1)
        }
    }
}

/// glibc returns blocks over 128 KiB to the OS as soon as they are freed, so every step's
/// activations (600 KB each at 224²) came back as fresh pages: a fifth of a step went to page
/// faults. Keeping freed memory in the process makes the steady state allocation-free.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator's thresholds; it is called before any thread
    // starts and takes plain integers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

fn execute(command: Command) -> Result<(), Failure> {
    match command {
        Command::Run { config, out } => {
            let config = config.build()?;
            let backend = parse_backend(&out.backend)?;
            let mut experiment = Experiment::from_seed(config, backend);
            let (trajectory, stopped) = experiment.run();
            print_run(experiment.config(), backend, &trajectory, stopped.as_ref(), out.format);
            stopped.map_or(Ok(()), |e| Err(Failure::Stopped(e.to_string())))
        }
        Command::Seed { config, out } => {
            let base = config.build()?;
            let backend = parse_backend(&out.backend)?;
            let mut runs = Vec::new();
            for preset in &PRESETS {
                let mut experiment = Experiment::from_seed(preset.config(&base), backend);
                let (trajectory, stopped) = experiment.run();
                runs.push((preset.key, trajectory, stopped));
            }
            print_seed(&runs, out.format);
            match runs.iter().find_map(|(key, _, s)| s.as_ref().map(|s| (key, s))) {
                Some((key, stopped)) => Err(Failure::Stopped(format!("{key}: {stopped}"))),
                None => Ok(()),
            }
        }
        Command::Replay {
            fixture,
            backend,
            check,
        } => replay(&fixture, &backend, check),
        Command::CheckConv { backend, sizes } => {
            let backend = parse_backend(&backend)?;
            let device = backend.device().expect("native backends have a synchronous device");
            for size in sizes {
                if !(1..=1024).contains(&size) {
                    return Err(Failure::Input(format!("sizes: {size} is not from 1 to 1024")));
                }
                let (stock, ours) = futures_lite::future::block_on(initlab::diagnostics::conv_weight_grad_errors(
                    &device,
                    size as usize,
                    size as usize,
                ))
                .map_err(Failure::Stopped)?;
                println!("{backend} {size}x{size} ({} px): burn's weight gradient max rel. error {stock:.3e}, ours {ours:.3e}", size * size);
            }
            Ok(())
        }
        Command::Bench {
            backend,
            steps,
            height,
            width,
            format,
        } => {
            let backend = parse_backend(&backend)?;
            let config = ExperimentConfig::from_fields([
                ("height", FieldValue::Text(height)),
                ("width", FieldValue::Text(width)),
                ("epochs", FieldValue::Number((steps + 3) as f64)),
            ])
            .map_err(|e| Failure::Input(e.to_string()))?;
            let result = bench(&config, backend, steps as usize);
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&result).unwrap()),
                _ => println!(
                    "{backend} {}x{}: median {:.2} ms per step (min {:.2}, {} steps)",
                    config.height, config.width, result["median_ms"], result["min_ms"], steps
                ),
            }
            Ok(())
        }
    }
}

impl ConfigArgs {
    fn build(self) -> Result<ExperimentConfig, Failure> {
        let text = [
            ("arch", self.arch),
            ("init", self.init),
            ("init_value", self.init_value),
            ("lr", self.lr),
            ("momentum", self.momentum),
            ("epochs", self.epochs),
            ("batch", self.batch),
            ("height", self.height),
            ("width", self.width),
            ("label", self.label),
            ("seed", self.seed),
        ];
        let mut fields: Vec<(&str, FieldValue)> = text
            .into_iter()
            .filter_map(|(key, value)| value.map(|v| (key, FieldValue::Text(v))))
            .collect();
        if self.zero_grad {
            fields.push(("zero_grad", FieldValue::Bool(true)));
        }
        ExperimentConfig::from_fields(fields).map_err(|e| Failure::Input(e.to_string()))
    }
}

fn parse_backend(name: &str) -> Result<BackendKind, Failure> {
    BackendKind::parse(name, &BackendKind::native()).map_err(Failure::Input)
}

fn replay(path: &PathBuf, backend: &str, check: bool) -> Result<(), Failure> {
    let backend = parse_backend(backend)?;
    let loaded = Fixture::load(path).map_err(Failure::Input)?;
    let device = backend.device().expect("native backends have a synchronous device");
    let mut experiment = Experiment::new(loaded.fixture.config.clone(), &loaded.inputs, backend, &device);
    let (trajectory, stopped) = experiment.run();
    let mut out = trajectory_json(&trajectory);
    let finals: Map<String, Value> = experiment
        .current_params()
        .into_iter()
        .map(|(name, values)| (name.to_string(), json!(values)))
        .collect();
    out.insert("final".into(), Value::Object(finals));
    println!("{}", serde_json::to_string(&out).unwrap());
    if let Some(stopped) = stopped {
        return Err(Failure::Stopped(stopped.to_string()));
    }
    if check {
        let failures = loaded.fixture.compare(&trajectory, 1.0);
        let total = trajectory.len() * Trajectory::KEYS.len();
        if !failures.is_empty() {
            for f in &failures {
                eprintln!("{f}");
            }
            return Err(Failure::Stopped(format!(
                "{}: {} of {total} values out of tolerance",
                loaded.fixture.name,
                failures.len()
            )));
        }
        eprintln!("{}: all {total} values within tolerance on {backend}", loaded.fixture.name);
    }
    Ok(())
}

fn bench(config: &ExperimentConfig, backend: BackendKind, steps: usize) -> Value {
    let mut experiment = Experiment::from_seed(config.clone(), backend);
    for _ in 0..3 {
        experiment.step().expect("warm-up step");
    }
    let mut times: Vec<f64> = (0..steps)
        .map(|_| {
            let start = Instant::now();
            experiment.step().expect("timed step");
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    json!({
        "backend": backend.name(),
        "height": config.height,
        "width": config.width,
        "steps": steps,
        "median_ms": times[times.len() / 2],
        "min_ms": times[0],
    })
}

fn trajectory_json(t: &Trajectory) -> Map<String, Value> {
    Trajectory::KEYS
        .iter()
        .map(|&key| (key.to_string(), json!(t.series(key).unwrap())))
        .collect()
}

fn print_run(
    config: &ExperimentConfig,
    backend: BackendKind,
    t: &Trajectory,
    stopped: Option<&StepError>,
    format: Format,
) {
    match format {
        Format::Json => {
            let mut out = trajectory_json(t);
            out.insert("config".into(), config.to_json());
            out.insert("backend".into(), json!(backend.name()));
            if let Some(StepError::Diverged { step }) = stopped {
                out.insert("diverged_at".into(), json!(step));
            }
            println!("{}", serde_json::to_string_pretty(&out).unwrap());
        }
        Format::Csv => {
            println!("step,{}", Trajectory::KEYS.join(","));
            for step in 0..t.len() {
                let row: Vec<String> = Trajectory::KEYS
                    .iter()
                    .map(|k| format!("{:e}", t.series(k).unwrap()[step]))
                    .collect();
                println!("{step},{}", row.join(","));
            }
        }
        Format::Table => {
            println!(
                "{:>5}  {:>10}  {:>11}  {:>11}  {:>11}  {:>11}  {:>11}  {:>11}",
                "step", "loss", "conv1 mean", "conv1 var", "conv2 mean", "conv2 var", "conv1 |g|", "conv2 |g|"
            );
            for step in 0..t.len() {
                let v: Vec<f64> = Trajectory::KEYS.iter().map(|k| t.series(k).unwrap()[step]).collect();
                println!(
                    "{step:>5}  {:>10.7}  {:>11.4e}  {:>11.4e}  {:>11.4e}  {:>11.4e}  {:>11.4e}  {:>11.4e}",
                    v[0], v[1], v[2], v[3], v[4], v[5], v[6]
                );
            }
        }
    }
}

fn print_seed(runs: &[(&str, Trajectory, Option<StepError>)], format: Format) {
    match format {
        Format::Json => {
            let out: Map<String, Value> = runs
                .iter()
                .map(|(key, t, _)| (key.to_string(), Value::Object(trajectory_json(t))))
                .collect();
            println!("{}", serde_json::to_string_pretty(&out).unwrap());
        }
        Format::Csv => {
            println!("experiment,step,{}", Trajectory::KEYS.join(","));
            for (key, t, _) in runs {
                for step in 0..t.len() {
                    let row: Vec<String> = Trajectory::KEYS
                        .iter()
                        .map(|k| format!("{:e}", t.series(k).unwrap()[step]))
                        .collect();
                    println!("{key},{step},{}", row.join(","));
                }
            }
        }
        Format::Table => {
            println!(
                "{:<18}  {:>10}  {:>10}  {:>11}  {:>11}  {:>11}  {:>11}",
                "experiment", "first loss", "last loss", "conv1 mean", "conv1 var", "conv2 mean", "conv2 var"
            );
            for (key, t, _) in runs {
                let last = |k: &str| t.series(k).unwrap().last().copied().unwrap_or(f64::NAN);
                println!(
                    "{key:<18}  {:>10.7}  {:>10.7}  {:>11.4e}  {:>11.4e}  {:>11.4e}  {:>11.4e}",
                    t.loss.first().copied().unwrap_or(f64::NAN),
                    last("loss"),
                    last("conv1_mean"),
                    last("conv1_var"),
                    last("conv2_mean"),
                    last("conv2_var")
                );
            }
        }
    }
}
