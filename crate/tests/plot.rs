//! The seed's figure (`initlab::plot`, `initlab seed --plot`, `initlab run --plot`) and the
//! per-layer gradient heatmap: their structure, and that what is drawn is the runs' own numbers.
//!
//! The SVG is read back with a few string scans (plotters writes one element per line: every
//! line a `<polyline>`, every title a `<text>`, every heatmap cell a `<rect>`), and each drawn
//! line is mapped back to data: its pixels must be one affine image of the run's steps and
//! values, to within the 1-pixel rounding of the coordinates.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use initlab::plot::{self, FIGURE_SIZE, HEATMAP_MAX_COLUMNS, HEATMAP_SIZE};
use initlab::record::SEED_KEYS;
use initlab::{Record, Trajectory, Value};

const SEED: [&str; 4] = ["zeros", "single_conv_zeros", "constant5", "kaiming"];

/// The seed's five charts, top to bottom: the series each shows, and its title.
const PANELS: [(&str, &str); 5] = [
    ("loss", "Loss"),
    ("conv1_mean", "conv1 weight mean"),
    ("conv1_var", "conv1 weight variance"),
    ("conv2_mean", "conv2 weight mean"),
    ("conv2_var", "conv2 weight variance"),
];

/// The PyTorch fixture's trajectory of each of the seed's experiments.
fn seed_trajectories() -> Vec<(&'static str, Trajectory)> {
    SEED.iter()
        .map(|&name| {
            let text = std::fs::read_to_string(common::fixture(&format!("seed_{name}"))).unwrap();
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            (name, serde_json::from_value(json["trajectory"].clone()).unwrap())
        })
        .collect()
}

// ---- reading the SVG back ----------------------------------------------------------------

fn attr<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = element.find(&key)? + key.len();
    Some(&element[start..start + element[start..].find('"')?])
}

fn num(element: &str, name: &str) -> f64 {
    attr(element, name).unwrap_or_else(|| panic!("no {name} in {element}")).parse().unwrap()
}

struct Polyline {
    stroke: String,
    width: f64,
    points: Vec<(f64, f64)>,
}

fn polylines(svg: &str) -> Vec<Polyline> {
    svg.split("<polyline")
        .skip(1)
        .map(|rest| {
            let element = &rest[..rest.find("/>").unwrap()];
            let points = attr(element, "points").unwrap().split_whitespace().map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            });
            Polyline {
                stroke: attr(element, "stroke").unwrap().to_string(),
                width: num(element, "stroke-width"),
                points: points.collect(),
            }
        })
        .collect()
}

/// Every `<text>`: (x, y, content).
fn texts(svg: &str) -> Vec<(f64, f64, String)> {
    labels(svg).into_iter().map(|(x, y, _, content)| (x, y, content)).collect()
}

/// Every `<text>`: (x, y, text-anchor, content).
fn labels(svg: &str) -> Vec<(f64, f64, String, String)> {
    svg.split("<text")
        .skip(1)
        .map(|rest| {
            let (element, body) = rest.split_once('>').unwrap();
            let content = body[..body.find("</text>").unwrap()].trim().to_string();
            (
                num(element, "x"),
                num(element, "y"),
                attr(element, "text-anchor").unwrap_or("").to_string(),
                content,
            )
        })
        .collect()
}

struct Rect {
    x: f64,
    y: f64,
    width: f64,
    fill: String,
}

fn rects(svg: &str) -> Vec<Rect> {
    svg.split("<rect")
        .skip(1)
        .map(|rest| {
            let element = &rest[..rest.find("/>").unwrap()];
            Rect {
                x: num(element, "x"),
                y: num(element, "y"),
                width: num(element, "width"),
                fill: attr(element, "fill").unwrap().to_string(),
            }
        })
        .collect()
}

/// Least squares `pixel = a + b * value`: (a, b, the largest residual in pixels).
fn affine_fit(pairs: &[(f64, f64)]) -> (f64, f64, f64) {
    let n = pairs.len() as f64;
    let (mv, mp) = (pairs.iter().map(|p| p.0).sum::<f64>() / n, pairs.iter().map(|p| p.1).sum::<f64>() / n);
    let cov: f64 = pairs.iter().map(|(v, p)| (v - mv) * (p - mp)).sum();
    let var: f64 = pairs.iter().map(|(v, _)| (v - mv).powi(2)).sum();
    let b = if var > 0.0 { cov / var } else { 0.0 };
    let a = mp - b * mv;
    (a, b, pairs.iter().map(|(v, p)| (a + b * v - p).abs()).fold(0.0, f64::max))
}

/// The figure's structure, and that each panel's lines are the runs' values as its axes read:
/// the tick labels give each panel's step → x and value → y mapping, and every point of every
/// line is checked against it. Returns the largest distance (pixels) of a point from where the
/// axes put its step and value, so that callers can also show that a wrong drawing is caught.
fn check_figure(svg: &str, runs: &[(&str, &Trajectory)]) -> f64 {
    let texts = texts(svg);
    // Five panels, titled in the seed's order from top to bottom, each with its epoch axis.
    let title_y: Vec<f64> = PANELS
        .iter()
        .map(|(_, title)| {
            let found: Vec<_> = texts.iter().filter(|t| t.2 == *title).collect();
            assert_eq!(found.len(), 1, "title {title:?} once");
            found[0].1
        })
        .collect();
    assert!(title_y.windows(2).all(|w| w[0] < w[1]), "titles top to bottom: {title_y:?}");
    assert_eq!(texts.iter().filter(|t| t.2 == "epoch").count(), 5);

    // The legend: one entry per run, its line (width 3) just left of its name; distinct colours.
    let lines = polylines(svg);
    let legend: Vec<&Polyline> = lines.iter().filter(|l| l.width == 3.0).collect();
    assert_eq!(legend.len(), runs.len(), "one legend line per run");
    let mut colour_of = HashMap::new();
    for (name, _) in runs {
        let (x, y, _) = texts.iter().find(|t| t.2 == *name).unwrap_or_else(|| panic!("legend names {name}"));
        assert!(*y < title_y[0], "the legend is above the panels");
        let line = legend
            .iter()
            .find(|l| {
                l.points.len() == 2 && (l.points[1].0 - x).abs() <= 8.0 && (l.points[1].1 - y).abs() <= 1.0
            })
            .unwrap_or_else(|| panic!("no legend line beside {name}"));
        colour_of.insert(line.stroke.clone(), *name);
    }
    assert_eq!(colour_of.len(), runs.len(), "one colour per run: {colour_of:?}");

    // The data lines (width 2): one per run in each panel, below its title, above the next.
    let data: Vec<&Polyline> = lines.iter().filter(|l| l.width == 2.0).collect();
    assert_eq!(data.len(), PANELS.len() * runs.len(), "five panels of {} lines", runs.len());
    let mut worst = 0.0f64;
    for (panel, (key, title)) in PANELS.iter().enumerate() {
        let bottom = title_y.get(panel + 1).copied().unwrap_or(FIGURE_SIZE.1 as f64);
        let mine: Vec<&&Polyline> =
            data.iter().filter(|l| l.points.iter().all(|p| p.1 > title_y[panel] && p.1 < bottom)).collect();
        assert_eq!(mine.len(), runs.len(), "{title}: one line per run");
        // The axes: y tick labels right-aligned left of the plot, x tick labels (steps) centred below.
        let ticks: Vec<_> =
            labels(svg).into_iter().filter(|t| t.1 > title_y[panel] && t.1 < bottom).collect();
        let y_ticks: Vec<(f64, f64)> = ticks
            .iter()
            .filter(|t| t.2 == "end")
            .map(|t| (t.3.parse::<f64>().unwrap_or_else(|_| panic!("{title}: y tick {:?}", t.3)), t.1))
            .collect();
        let x_ticks: Vec<(f64, f64)> = ticks
            .iter()
            .filter(|t| t.2 == "middle")
            .filter_map(|t| Some((t.3.parse::<f64>().ok()?, t.0)))
            .collect();
        assert!(
            y_ticks.len() >= 3 && x_ticks.len() >= 3,
            "{title}: {} y ticks, {} x ticks",
            y_ticks.len(),
            x_ticks.len()
        );
        let (ay, by, ry) = affine_fit(&y_ticks);
        let (ax, bx, rx) = affine_fit(&x_ticks);
        assert!(
            ry <= 0.75 && rx <= 0.75 && by < 0.0 && bx > 0.0,
            "{title}: the ticks are not one linear axis each"
        );
        for line in &mine {
            let name = colour_of
                .get(&line.stroke)
                .unwrap_or_else(|| panic!("{title}: a line in {} is not in the legend", line.stroke));
            let t = runs.iter().find(|(n, _)| n == name).unwrap().1;
            let values = t.scalar(key);
            assert!(!values.is_empty(), "{title}, {name}: no {key} in the run");
            assert_eq!(line.points.len(), values.len(), "{title}, {name}: one point per step");
            for (step, (&v, &(px, py))) in values.iter().zip(&line.points).enumerate() {
                worst = worst.max((ax + bx * step as f64 - px).abs()).max((ay + by * v - py).abs());
            }
        }
    }
    worst
}

#[test]
fn the_seed_figure_draws_five_panels_of_the_runs_values() {
    let runs = seed_trajectories();
    let refs: Vec<(&str, &Trajectory)> = runs.iter().map(|(n, t)| (*n, t)).collect();
    let svg = plot::seed_figure_svg(&refs).unwrap();
    assert!(
        svg.starts_with("<svg")
            && svg.contains(&format!("width=\"{}\" height=\"{}\"", FIGURE_SIZE.0, FIGURE_SIZE.1))
    );
    let residual = check_figure(&svg, &refs);
    assert!(residual <= 1.0, "a drawn line is {residual} px off the run's values");

    // The check sees a swap: the same drawing read as if kaiming and constant5 had traded
    // trajectories is far off.
    let swapped: Vec<(&str, &Trajectory)> = refs
        .iter()
        .map(|&(n, t)| match n {
            "kaiming" => (n, refs[2].1),
            "constant5" => (n, refs[3].1),
            _ => (n, t),
        })
        .collect();
    let residual = check_figure(&svg, &swapped);
    assert!(residual > 20.0, "swapped runs fit within {residual} px");
}

/// The PNG's (width, height, RGB pixels).
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    (info.width, info.height, pixels)
}

fn count_colour(pixels: &[u8], hex: &str) -> usize {
    let c = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap();
    let rgb = [(c >> 16) as u8, (c >> 8) as u8, c as u8];
    pixels.chunks(3).filter(|p| *p == rgb).count()
}

#[test]
fn the_seed_figure_as_png_has_its_size_lines_and_text() {
    let runs = seed_trajectories();
    let refs: Vec<(&str, &Trajectory)> = runs.iter().map(|(n, t)| (*n, t)).collect();
    let (w, h, pixels) = decode_png(&plot::seed_figure_png(&refs).unwrap());
    assert_eq!((w, h), FIGURE_SIZE);
    assert_eq!((w, h), (900, 1400), "the size the docs state");
    // Each run's colour is drawn: its legend line (28 x 3 px), and the lines of the runs that
    // no later run covers (zeros lies under single_conv_zeros in every panel, as in the seed).
    let svg = plot::seed_figure_svg(&refs).unwrap();
    let colours: Vec<String> =
        polylines(&svg).iter().filter(|l| l.width == 3.0).map(|l| l.stroke.clone()).collect();
    let counts: Vec<usize> = colours.iter().map(|c| count_colour(&pixels, c)).collect();
    assert_eq!(colours.len(), 4);
    assert!(counts[0] >= 84 && counts[1..].iter().all(|&n| n > 2000), "{colours:?}: {counts:?} pixels");
    // ...and so is the text: the built-in font rendered the "Loss" title as dark pixels where
    // the SVG puts it (centred), and nothing else in its band is dark.
    let (x, y, _) = texts(&svg).into_iter().find(|t| t.2 == "Loss").unwrap();
    assert_eq!(x, (w / 2) as f64);
    let band = &pixels[((y as u32 - 12) * w * 3) as usize..((y as u32 + 12) * w * 3) as usize];
    let dark: Vec<u32> = (0..band.len() / 3)
        .filter(|i| band[3 * i..3 * i + 3].iter().all(|&c| c < 100))
        .map(|i| i as u32 % w)
        .collect();
    assert!(dark.len() > 30, "{} dark pixels in the title's band", dark.len());
    assert!(dark.iter().all(|&px| px.abs_diff(w / 2) < 40), "dark pixels at {dark:?}");
}

#[test]
fn plot_files_by_extension_and_bad_names_are_refused() {
    let runs = seed_trajectories();
    let refs: Vec<(&str, &Trajectory)> = runs.iter().map(|(n, t)| (*n, t)).collect();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let (svg, png_path) = (dir.join("lib_seed.svg"), dir.join("lib_seed.PNG"));
    plot::write_seed_figure(&svg, &refs).unwrap();
    plot::write_seed_figure(&png_path, &refs).unwrap();
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    assert_eq!(&std::fs::read(&png_path).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    let err = plot::write_seed_figure(&dir.join("seed.pdf"), &refs).unwrap_err();
    assert!(err.to_string().contains("seed.pdf") && err.to_string().contains(".svg or .png"), "{err}");
    assert!(plot::seed_figure_svg(&[]).is_err(), "no runs: nothing to plot");
}

#[test]
fn a_diverged_run_breaks_its_line_instead_of_stretching_the_axis() {
    let (_, kaiming) = seed_trajectories().pop().unwrap();
    // The same run with its loss at steps 20 and 30 not finite, rebuilt record by record.
    let keys: Vec<&'static str> = SEED_KEYS.to_vec();
    let broken: Trajectory = (0..kaiming.len())
        .map(|step| {
            let values = keys
                .iter()
                .map(|&k| {
                    let v = kaiming.scalar(k)[step];
                    let v = match (k, step) {
                        ("loss", 20) => f64::NAN,
                        ("loss", 30) => f64::INFINITY,
                        _ => v,
                    };
                    (k, Value::Scalar(v))
                })
                .collect();
            Record { step: step as u64, values }
        })
        .collect();
    let svg = plot::seed_figure_svg(&[("broken", &broken)]).unwrap();
    let lines = polylines(&svg);
    let loss: Vec<&Polyline> = lines.iter().filter(|l| l.width == 2.0).take(3).collect();
    assert_eq!(
        loss.iter().map(|l| l.points.len()).collect::<Vec<_>>(),
        vec![20, 9, 9],
        "steps 0-19, 21-29, 31-39"
    );
    // The axis is the finite values' range: the loss (0.3..1.22) spans most of the panel.
    let ys: Vec<f64> = loss.iter().flat_map(|l| l.points.iter().map(|p| p.1)).collect();
    let span = ys.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        - ys.iter().cloned().fold(f64::INFINITY, f64::min);
    assert!(span > 150.0, "loss spans {span} px");
}

// ---- the CLI --------------------------------------------------------------------------

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_initlab")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn tmp(name: &str) -> String {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name).to_string_lossy().into_owned()
}

#[test]
fn initlab_seed_plot_draws_the_runs_it_printed() {
    let (svg_path, png_path) = (tmp("cli_seed.svg"), tmp("cli_seed.png"));
    let _ = std::fs::remove_file(&svg_path);
    let small = ["--height", "16", "--width", "16", "--epochs", "25"];
    let (code, stdout, stderr) =
        cli(&[&["seed", "--format", "json", "--plot", &svg_path][..], &small].concat());
    assert_eq!(code, 0, "{stderr}");
    // Piped: no progress bar, no other noise on stderr.
    assert_eq!(stderr, "");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let runs: Vec<(&str, Trajectory)> =
        SEED.iter().map(|&n| (n, serde_json::from_value(json[n].clone()).unwrap())).collect();
    assert!(runs.iter().all(|(_, t)| t.len() == 25));
    let refs: Vec<(&str, &Trajectory)> = runs.iter().map(|(n, t)| (*n, t)).collect();
    let residual = check_figure(&std::fs::read_to_string(&svg_path).unwrap(), &refs);
    assert!(residual <= 1.0, "a drawn line is {residual} px off the printed values");

    let (code, _, stderr) = cli(&[&["seed", "--plot", &png_path][..], &small].concat());
    assert_eq!((code, stderr.as_str()), (0, ""));
    let (w, h, _) = decode_png(&std::fs::read(&png_path).unwrap());
    assert_eq!((w, h), FIGURE_SIZE);
}

/// The series of `initlab run --format json` (which also prints its config and backend).
fn trajectory_of(stdout: &str) -> Trajectory {
    let mut json: serde_json::Map<String, serde_json::Value> = serde_json::from_str(stdout).unwrap();
    json.retain(|_, v| v.is_array());
    serde_json::from_value(json.into()).unwrap()
}

#[test]
fn initlab_run_plot_draws_one_run_and_bad_names_exit_2_before_running() {
    let path = tmp("cli_run.svg");
    let (code, stdout, stderr) = cli(&[
        "run",
        "--init",
        "constant",
        "--init-value",
        "5",
        "--height",
        "12",
        "--width",
        "12",
        "--epochs",
        "9",
        "--format",
        "json",
        "--plot",
        &path,
    ]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    let t = trajectory_of(&stdout);
    let label = "two_conv constant 5";
    let residual = check_figure(&std::fs::read_to_string(&path).unwrap(), &[(label, &t)]);
    assert!(residual <= 1.0, "{residual} px");

    // A name that is neither .svg nor .png: exit 2, one line, and no run (nothing on stdout).
    let (code, stdout, stderr) = cli(&["run", "--epochs", "100000", "--plot", "figure.jpg"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("initlab: plot: figure.jpg") && stderr.contains(".svg or .png"), "{stderr}");
    // A file that cannot be written: exit 2 after the run, naming the file.
    let (code, _, stderr) =
        cli(&["run", "--height", "8", "--width", "8", "--epochs", "2", "--plot", "/no/such/dir/x.svg"]);
    assert_eq!(code, 2);
    assert!(stderr.starts_with("initlab: plot: /no/such/dir/x.svg: cannot write"), "{stderr}");
}

// ---- the per-layer heatmap -------------------------------------------------------------

/// Relative luminance of "#RRGGBB".
fn luminance(hex: &str) -> f64 {
    let c = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap();
    0.2126 * ((c >> 16) & 255) as f64 + 0.7152 * ((c >> 8) & 255) as f64 + 0.0722 * (c & 255) as f64
}

/// The heatmap's cells: the rects in the plot (not the background, not the colour bar).
fn cells(svg: &str) -> Vec<Rect> {
    rects(svg)
        .into_iter()
        .filter(|r| r.width < HEATMAP_SIZE.0 as f64 / 2.0 && r.x < HEATMAP_SIZE.0 as f64 - 140.0)
        .collect()
}

#[test]
fn the_heatmap_colours_each_layer_by_its_gradient_norm() {
    // 30 steps x 4 layers: layer 1 never gets a gradient, layer 2 grows from 1e-6 to 1,
    // layer 3 stays at 1e-3, layer 4 is 1e-3 but diverges (NaN) at step 10.
    let norms: Vec<Vec<f64>> = (0..30)
        .map(|s| {
            vec![0.0, 10f64.powf(-6.0 + 6.0 * s as f64 / 29.0), 1e-3, if s == 10 { f64::NAN } else { 1e-3 }]
        })
        .collect();
    let svg = plot::layer_heatmap_svg("stack: |dL/dW| per layer", &norms).unwrap();
    assert!(texts(&svg).iter().any(|t| t.2 == "stack: |dL/dW| per layer"));
    for n in ["1", "2", "3", "4", "layer", "step"] {
        assert!(texts(&svg).iter().any(|t| t.2 == n), "label {n}");
    }
    let cells = cells(&svg);
    assert_eq!(cells.len(), 30 * 4);
    // Rows: sort the distinct y of the cells; layer 1 is the top row.
    let mut rows: Vec<f64> = cells.iter().map(|c| c.y).collect();
    rows.sort_by(f64::total_cmp);
    rows.dedup();
    assert_eq!(rows.len(), 4);
    let row = |layer: usize| -> Vec<&Rect> {
        let mut r: Vec<&Rect> = cells.iter().filter(|c| c.y == rows[layer]).collect();
        r.sort_by(|a, b| a.x.total_cmp(&b.x));
        r
    };
    assert!(row(0).iter().all(|c| c.fill == "#FFFFFF"), "an exactly-zero gradient is white");
    // Layer 2: brighter step after step, from viridis' first colour (the smallest norm) to its
    // last (the largest).
    let growing: Vec<f64> = row(1).iter().map(|c| luminance(&c.fill)).collect();
    assert!(growing.windows(2).all(|w| w[1] > w[0]), "{growing:?}");
    assert_eq!((row(1)[0].fill.as_str(), row(1)[29].fill.as_str()), ("#440154", "#FEE825"));
    // 1e-3 is half way in log10 between 1e-6 and 1: one colour for the whole row.
    let flat: Vec<&str> = row(2).iter().map(|c| c.fill.as_str()).collect();
    assert!(flat.iter().all(|&f| f == flat[0]), "{flat:?}");
    assert!(
        growing[14] < luminance(flat[0]) && luminance(flat[0]) < growing[15],
        "1e-3 between steps 14 and 15 of 1e-6..1"
    );
    let diverged: Vec<usize> =
        row(3).iter().enumerate().filter(|(_, c)| c.fill == "#E00000").map(|(i, _)| i).collect();
    assert_eq!(diverged, vec![10], "the NaN step is red");
    assert!(row(3).iter().enumerate().all(|(i, c)| i == 10 || c.fill == flat[0]));
}

#[test]
fn a_long_heatmap_is_binned_by_the_largest_norm() {
    let mut norms: Vec<Vec<f64>> = (0..5000).map(|s| vec![1e-2 + 1e-6 * (s % 7) as f64, 1e-4]).collect();
    norms[2345][1] = 50.0; // one spike in layer 2
    let svg = plot::layer_heatmap_svg("long", &norms).unwrap();
    let cells = cells(&svg);
    assert_eq!(cells.len(), 2 * HEATMAP_MAX_COLUMNS);
    let brightest: Vec<&Rect> = cells.iter().filter(|c| c.fill == "#FEE825").collect();
    assert_eq!(brightest.len(), 1, "the spike survives binning, in one column");
    // ...at its step's place along the time axis: 2345/5000 of the way across the cells.
    let (x0, x1) =
        cells.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), c| (a.min(c.x), b.max(c.x + c.width)));
    let at = (brightest[0].x - x0) / (x1 - x0);
    assert!((at - 0.469).abs() < 0.01, "the spike is drawn at {at} of the axis");
}

#[test]
fn heatmap_input_is_checked_and_the_png_has_its_size() {
    assert!(plot::layer_heatmap_svg("t", &[]).is_err());
    assert!(plot::layer_heatmap_svg("t", &[vec![]]).is_err());
    let err = plot::layer_heatmap_svg("t", &[vec![1.0, 2.0], vec![1.0]]).unwrap_err();
    assert!(err.to_string().contains("step 1 has 1 layers, step 0 has 2"), "{err}");
    let norms: Vec<Vec<f64>> = (0..40).map(|s| vec![0.0, 1.0 + s as f64, 1e-3]).collect();
    let (w, h, pixels) = decode_png(&plot::layer_heatmap_png("png", &norms).unwrap());
    assert_eq!((w, h), HEATMAP_SIZE);
    assert_eq!((w, h), (900, 420), "the size the docs state");
    assert!(count_colour(&pixels, "#FEE825") > 100, "the largest norm's cells are drawn");
    let path = tmp("heat.svg");
    plot::write_layer_heatmap(path.as_ref(), "file", &norms).unwrap();
    assert_eq!(cells(&std::fs::read_to_string(&path).unwrap()).len(), 40 * 3);
}

#[test]
fn initlab_run_plot_of_a_stack_is_its_gradient_heatmap() {
    // Sigmoid from zero, no BN: at step 0 only the top block's weights get a gradient (its input
    // is sigmoid(0) = 0.5, the weights above the others are 0); after that, the rule spreads down.
    let path = tmp("cli_stack.svg");
    let args = [
        "run",
        "--arch",
        "stack",
        "--depth",
        "3",
        "--channels",
        "2",
        "--norm",
        "none",
        "--activation",
        "sigmoid",
    ];
    let rest = [
        "--init", "zeros", "--height", "8", "--width", "8", "--epochs", "6", "--format", "json", "--plot",
        &path,
    ];
    let (code, stdout, stderr) = cli(&[&args[..], &rest].concat());
    assert_eq!((code, stderr.as_str()), (0, ""));
    let t = trajectory_of(&stdout);
    let norms = t.series("conv_grad_norm").unwrap();
    assert_eq!(norms.at(0)[..2], [0.0, 0.0]);
    assert!(norms.at(0)[2] > 0.0);
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(
        texts(&svg).iter().any(|t| t.2.starts_with("stack of 3 (2 channels, none, sigmoid) zeros")),
        "the title names the run"
    );
    let cells = cells(&svg);
    assert_eq!(cells.len(), 6 * 3, "one cell per step and layer");
    let mut rows: Vec<f64> = cells.iter().map(|c| c.y).collect();
    rows.sort_by(f64::total_cmp);
    rows.dedup();
    for (layer, y) in rows.iter().enumerate() {
        let mut row: Vec<&Rect> = cells.iter().filter(|c| c.y == *y).collect();
        row.sort_by(|a, b| a.x.total_cmp(&b.x));
        for (step, cell) in row.iter().enumerate() {
            let zero = norms.at(step)[layer] == 0.0;
            assert_eq!(
                cell.fill == "#FFFFFF",
                zero,
                "layer {}, step {step}: white exactly where the norm is 0",
                layer + 1
            );
        }
    }
}
