//! `initlab`: the experiments from the command line.
//!
//! Bad input exits with code 2 and one line on stderr naming the field or the file;
//! a run that diverges prints its records, says "diverged at step k" on stderr and exits 1.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value, json};

use initlab::{
    Arch, BackendKind, Experiment, ExperimentConfig, FieldValue, Series, StepError, Trajectory,
    config::{FIELDS, Field, Kind},
    plot,
    reference::Fixture,
    seed::PRESETS,
};

#[derive(Parser)]
#[command(
    name = "initlab",
    version,
    about = "Why a CNN cannot learn from all-zero weights: the blog's experiments, and stacks of any depth, on burn"
)]
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
        /// seed (the blog's Kaiming run), deep (12 ReLU blocks of 8 channels, no BN, 32×32) or
        /// deep_bn (8 BN+ReLU blocks of 16 channels, 64×64); the size flags apply to seed only.
        #[arg(long, default_value = "seed")]
        workload: String,
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

/// Every config key as a flag, made from the engine's field table ([`initlab::config::FIELDS`]):
/// `--init-value 5`, `--depth 12`; a boolean key is a flag that sets the other value than its
/// default (`--zero-grad`, `--bias`, `--no-head-activation`). Values stay text: validation (and
/// its messages) lives in the library.
struct ConfigArgs {
    fields: Vec<(&'static str, FieldValue)>,
}

/// A boolean key's flag, and the value it sets.
fn bool_flag(field: &Field) -> (String, bool) {
    let default = field.get(&ExperimentConfig::default()) == FieldValue::Bool(true);
    let kebab = field.key.replace('_', "-");
    if default { (format!("no-{kebab}"), false) } else { (kebab, true) }
}

impl clap::Args for ConfigArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let args = FIELDS.iter().map(|field| {
            let stack = if field.stack_only { " [stack]" } else { "" };
            match field.kind {
                Kind::Bool => {
                    let (flag, _) = bool_flag(field);
                    clap::Arg::new(field.key)
                        .long(&*flag.leak())
                        .action(clap::ArgAction::SetTrue)
                        .help(format!("{}{stack}", field.help))
                }
                _ => clap::Arg::new(field.key)
                    .long(&*field.key.replace('_', "-").leak())
                    .value_name("VALUE")
                    .help(format!("{}{stack}: {}", field.help, field.allowed())),
            }
        });
        cmd.args(args)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for ConfigArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut fields = Vec::new();
        for field in FIELDS {
            match field.kind {
                Kind::Bool => {
                    if matches.get_flag(field.key) {
                        fields.push((field.key, FieldValue::Bool(bool_flag(field).1)));
                    }
                }
                _ => {
                    if let Some(value) = matches.get_one::<String>(field.key) {
                        fields.push((field.key, FieldValue::Text(value.clone())));
                    }
                }
            }
        }
        Ok(Self { fields })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

#[derive(Args)]
struct OutputArgs {
    /// flex | ndarray (| wgpu with the `wgpu` feature)
    #[arg(long, default_value = "flex")]
    backend: String,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also draw the seed's five charts (loss, conv weight means and variances) to FILE:
    /// .svg or .png.
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
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

/// A figure that cannot be drawn or written is bad input: the message names the file.
impl From<plot::PlotError> for Failure {
    fn from(e: plot::PlotError) -> Self {
        Failure::Input(format!("plot: {e}"))
    }
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
            check_plot_path(out.plot.as_deref())?;
            let bar = progress_bar(config.epochs, "run");
            let mut experiment = Experiment::from_seed(config, backend);
            let (trajectory, stopped) = experiment.run_with(|_| bar.inc(1));
            bar.finish_and_clear();
            print_run(experiment.config(), backend, &trajectory, stopped.as_ref(), out.format);
            match (out.plot.as_deref(), experiment.config().arch) {
                // A stack has no conv1/conv2: its figure is the per-layer heatmap of ‖∂L/∂W‖.
                (Some(path), Arch::Stack) => {
                    let norms = match trajectory.series("conv_grad_norm") {
                        Some(Series::Layers(steps)) => steps.clone(),
                        _ => Vec::new(),
                    };
                    let title = format!("{}: |dL/dW| per layer", run_label(experiment.config()));
                    plot::write_layer_heatmap(path, &title, &norms)?;
                }
                (path, _) => plot(path, &[(run_label(experiment.config()).as_str(), &trajectory)])?,
            }
            stopped.map_or(Ok(()), |e| Err(Failure::Stopped(e.to_string())))
        }
        Command::Seed { config, out } => {
            let base = config.build()?;
            let backend = parse_backend(&out.backend)?;
            check_plot_path(out.plot.as_deref())?;
            let bar = progress_bar(base.epochs * PRESETS.len() as u64, "seed");
            let mut runs = Vec::new();
            for preset in &PRESETS {
                let config = preset.config(&base);
                config.validate().map_err(|e| Failure::Input(e.to_string()))?;
                bar.set_message(format!(" {}", preset.key));
                let mut experiment = Experiment::from_seed(config, backend);
                let (trajectory, stopped) = experiment.run_with(|_| bar.inc(1));
                runs.push((preset.key, trajectory, stopped));
            }
            bar.finish_and_clear();
            print_seed(&runs, out.format);
            let figure: Vec<(&str, &Trajectory)> = runs.iter().map(|(key, t, _)| (*key, t)).collect();
            plot(out.plot.as_deref(), &figure)?;
            match runs.iter().find_map(|(key, _, s)| s.as_ref().map(|s| (key, s))) {
                Some((key, stopped)) => Err(Failure::Stopped(format!("{key}: {stopped}"))),
                None => Ok(()),
            }
        }
        Command::Replay { fixture, backend, check } => replay(&fixture, &backend, check),
        Command::CheckConv { backend, sizes } => {
            let backend = parse_backend(&backend)?;
            let device = backend.device().expect("native backends have a synchronous device");
            for size in sizes {
                if !(1..=1024).contains(&size) {
                    return Err(Failure::Input(format!("sizes: {size} is not from 1 to 1024")));
                }
                let (stock, ours) = futures_lite::future::block_on(
                    initlab::diagnostics::conv_weight_grad_errors(&device, size as usize, size as usize),
                )
                .map_err(Failure::Stopped)?;
                println!(
                    "{backend} {size}x{size} ({} px): burn's weight gradient max rel. error {stock:.3e}, ours {ours:.3e}",
                    size * size
                );
            }
            Ok(())
        }
        Command::Bench { backend, workload, steps, height, width, format } => {
            let backend = parse_backend(&backend)?;
            let mut fields = initlab::seed::workload(&workload).ok_or_else(|| {
                Failure::Input(format!(
                    "workload: must be one of {}, got {workload:?}",
                    initlab::seed::WORKLOADS.join(", ")
                ))
            })?;
            if workload == "seed" {
                fields.extend([("height", FieldValue::Text(height)), ("width", FieldValue::Text(width))]);
            }
            // Three warm-up steps come first, within the config's epochs.
            let max_steps = initlab::config::MAX_EPOCHS - WARM_UP_STEPS;
            if !(1..=max_steps).contains(&steps) {
                return Err(Failure::Input(format!(
                    "--steps: must be an integer from 1 to {max_steps}, got {steps}"
                )));
            }
            fields.push(("epochs", FieldValue::Number((steps + WARM_UP_STEPS) as f64)));
            let config = ExperimentConfig::from_fields(fields).map_err(|e| Failure::Input(e.to_string()))?;
            let mut result = bench(&config, backend, steps as usize);
            result["workload"] = json!(workload);
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&result).unwrap()),
                _ => println!(
                    "{backend} {}x{}: median {:.2} ms per step (min {:.2}, {} steps)",
                    config.height,
                    config.width,
                    result["median_ms"].as_f64().unwrap_or(f64::NAN),
                    result["min_ms"].as_f64().unwrap_or(f64::NAN),
                    steps
                ),
            }
            Ok(())
        }
    }
}

impl ConfigArgs {
    fn build(self) -> Result<ExperimentConfig, Failure> {
        ExperimentConfig::from_fields(self.fields).map_err(|e| Failure::Input(e.to_string()))
    }
}

fn parse_backend(name: &str) -> Result<BackendKind, Failure> {
    BackendKind::parse(name, &BackendKind::native()).map_err(Failure::Input)
}

fn replay(path: &Path, backend: &str, check: bool) -> Result<(), Failure> {
    let backend = parse_backend(backend)?;
    let loaded = Fixture::load(path).map_err(Failure::Input)?;
    let device = backend.device().expect("native backends have a synchronous device");
    let mut experiment = Experiment::new(loaded.fixture.config.clone(), &loaded.inputs, backend, &device);
    let (trajectory, stopped) = experiment.run();
    let mut out = trajectory_json(&trajectory);
    let finals: Map<String, Value> =
        experiment.current_params().into_iter().map(|(name, values)| (name, json!(values))).collect();
    out.insert("final".into(), Value::Object(finals));
    println!("{}", serde_json::to_string(&out).unwrap());
    if let Some(stopped) = stopped {
        return Err(Failure::Stopped(stopped.to_string()));
    }
    if check {
        let failures = loaded.fixture.compare(&trajectory, 1.0);
        let total = loaded.fixture.pairs(&trajectory, 1.0).count();
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

/// Untimed steps before `bench` times any, for the caches and the allocator to settle.
const WARM_UP_STEPS: u64 = 3;

fn bench(config: &ExperimentConfig, backend: BackendKind, steps: usize) -> Value {
    let mut experiment = Experiment::from_seed(config.clone(), backend);
    for _ in 0..WARM_UP_STEPS {
        experiment.step().expect("warm-up step");
    }
    let bar = progress_bar(steps as u64, "bench");
    let mut times: Vec<f64> = (0..steps)
        .map(|_| {
            let start = Instant::now();
            experiment.step().expect("timed step");
            bar.inc(1);
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    bar.finish_and_clear();
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

/// A progress bar on stderr for `len` steps, drawn only when stderr is a terminal (piped or
/// redirected output stays exactly what it was) and cleared when the work is done.
fn progress_bar(len: u64, what: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let style =
        ProgressStyle::with_template("{prefix}{msg} [{bar:40}] {pos}/{len} steps, {per_sec}, {eta} left")
            .expect("a valid template")
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(what);
    bar
}

/// Refuses a `--plot` file name that is neither .svg nor .png before any run starts.
fn check_plot_path(path: Option<&Path>) -> Result<(), Failure> {
    if let Some(path) = path {
        plot::Format::of(path)?;
    }
    Ok(())
}

/// A single run's name in the figure's legend: "two_conv kaiming_normal", "two_conv constant 5".
fn run_label(config: &ExperimentConfig) -> String {
    let mut label = match config.arch {
        Arch::Stack => format!(
            "stack of {} ({} channels, {}, {}) {}",
            config.depth,
            config.channels,
            config.norm.name(),
            config.activation.name(),
            config.init.name()
        ),
        _ => format!("{} {}", config.arch.name(), config.init.name()),
    };
    if let Some(value) = config.init_value {
        label.push_str(&format!(" {value}"));
    }
    label
}

/// Draws the seed's figure for `runs` to `--plot`'s file, if one was given.
fn plot(path: Option<&Path>, runs: &[(&str, &Trajectory)]) -> Result<(), Failure> {
    if let Some(path) = path {
        plot::write_seed_figure(path, runs)?;
    }
    Ok(())
}

fn trajectory_json(t: &Trajectory) -> Map<String, Value> {
    t.keys().map(|key| (key.to_string(), json!(t.series(key).unwrap()))).collect()
}

/// The run's keys in the fixtures' order (the seed's seven, or a stack's), as CSV columns:
/// a layer key gives one column per layer, `conv_grad_norm[1]` first.
fn columns(t: &Trajectory, config: &ExperimentConfig) -> Vec<(String, String, usize)> {
    let keys: Vec<&str> = if config.arch == Arch::Stack {
        initlab::record::STACK_SCALAR_KEYS.iter().chain(&initlab::record::STACK_LAYER_KEYS).copied().collect()
    } else {
        initlab::record::SEED_KEYS.to_vec()
    };
    let mut out = Vec::new();
    for key in keys {
        match t.series(key) {
            Some(Series::Scalar(_)) => out.push((key.to_string(), key.to_string(), 0)),
            Some(Series::Layers(steps)) => {
                for layer in 0..steps.first().map_or(0, Vec::len) {
                    out.push((format!("{key}[{}]", layer + 1), key.to_string(), layer));
                }
            }
            None => {}
        }
    }
    out
}

fn value_at(t: &Trajectory, key: &str, step: usize, layer: usize) -> f64 {
    t.series(key).map_or(f64::NAN, |s| s.at(step)[layer])
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
            let columns = columns(t, config);
            let names: Vec<&str> = columns.iter().map(|(name, _, _)| name.as_str()).collect();
            println!("step,{}", names.join(","));
            for step in 0..t.len() {
                let row: Vec<String> = columns
                    .iter()
                    .map(|(_, key, layer)| format!("{:e}", value_at(t, key, step, *layer)))
                    .collect();
                println!("{step},{}", row.join(","));
            }
        }
        Format::Table if config.arch == Arch::Stack => print_stack_table(t),
        Format::Table => {
            println!(
                "{:>5}  {:>10}  {:>11}  {:>11}  {:>11}  {:>11}  {:>11}  {:>11}",
                "step",
                "loss",
                "conv1 mean",
                "conv1 var",
                "conv2 mean",
                "conv2 var",
                "conv1 |g|",
                "conv2 |g|"
            );
            for step in 0..t.len() {
                let v: Vec<f64> = initlab::record::SEED_KEYS.iter().map(|k| t.scalar(k)[step]).collect();
                println!(
                    "{step:>5}  {:>10.7}  {:>11.4e}  {:>11.4e}  {:>11.4e}  {:>11.4e}  {:>11.4e}  {:>11.4e}",
                    v[0], v[1], v[2], v[3], v[4], v[5], v[6]
                );
            }
        }
    }
}

/// A stack's run: the loss and accuracy of every step, then every layer at the last step.
fn print_stack_table(t: &Trajectory) {
    println!("{:>5}  {:>10}  {:>8}", "step", "loss", "accuracy");
    for step in 0..t.len() {
        println!("{step:>5}  {:>10.7}  {:>8.4}", t.scalar("loss")[step], t.scalar("accuracy")[step]);
    }
    let Some(last) = t.len().checked_sub(1) else {
        return;
    };
    let keys: Vec<&str> =
        initlab::record::STACK_LAYER_KEYS.iter().copied().filter(|k| t.series(k).is_some()).collect();
    println!("\nlayers at step {last}:");
    let header: Vec<String> = keys.iter().map(|k| format!("{k:>14}")).collect();
    println!("{:>5}  {}", "layer", header.join("  "));
    let layers = t.series("conv_mean").map_or(0, |s| s.at(last).len());
    for layer in 0..layers {
        let row: Vec<String> =
            keys.iter().map(|k| format!("{:>14.4e}", value_at(t, k, last, layer))).collect();
        println!("{:>5}  {}", layer + 1, row.join("  "));
    }
}

fn print_seed(runs: &[(&str, Trajectory, Option<StepError>)], format: Format) {
    match format {
        Format::Json => {
            let out: Map<String, Value> =
                runs.iter().map(|(key, t, _)| (key.to_string(), Value::Object(trajectory_json(t)))).collect();
            println!("{}", serde_json::to_string_pretty(&out).unwrap());
        }
        Format::Csv => {
            println!("experiment,step,{}", initlab::record::SEED_KEYS.join(","));
            for (key, t, _) in runs {
                for step in 0..t.len() {
                    let row: Vec<String> = initlab::record::SEED_KEYS
                        .iter()
                        .map(|k| format!("{:e}", t.scalar(k)[step]))
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
                let last = |k: &str| t.scalar(k).last().copied().unwrap_or(f64::NAN);
                println!(
                    "{key:<18}  {:>10.7}  {:>10.7}  {:>11.4e}  {:>11.4e}  {:>11.4e}  {:>11.4e}",
                    t.scalar("loss").first().copied().unwrap_or(f64::NAN),
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
