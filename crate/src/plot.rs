//! The seed's figure natively: the five stacked charts the original script draws with
//! matplotlib (loss, conv1 weight mean and variance, conv2 weight mean and variance), one colour
//! per experiment and a legend, as SVG or PNG; and a per-layer heatmap of the gradient norm
//! for deeper stacks.
//!
//! Plain data in, bytes out: the figure takes `(name, &Trajectory)` pairs and the heatmap a
//! steps × layers matrix, so neither depends on how the engine computes them. Native only (the
//! wasm modules draw with the page's own charts). Text is set in Open Sans (Apache-2.0,
//! `assets/OpenSans-Regular.ttf`, from Debian's fonts-open-sans) built into the binary, so a
//! PNG needs no system font library; an SVG names `sans-serif` and leaves the font to its viewer.

use std::fmt;
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use crate::record::Trajectory;

/// The five panels, top to bottom: trajectory key and title (the page's chart titles).
pub const PANELS: [(&str, &str); 5] = [
    ("loss", "Loss"),
    ("conv1_mean", "conv1 weight mean"),
    ("conv1_var", "conv1 weight variance"),
    ("conv2_mean", "conv2 weight mean"),
    ("conv2_var", "conv2 weight variance"),
];

/// The figure's size in pixels (width, height): a legend row above five panels of 900 × 272.
pub const FIGURE_SIZE: (u32, u32) = (900, 1400);

/// The heatmap's size in pixels.
pub const HEATMAP_SIZE: (u32, u32) = (900, 420);

/// At most this many columns in the heatmap: longer runs are binned (each column shows the
/// largest norm of its steps, so a spike is never averaged away).
pub const HEATMAP_MAX_COLUMNS: usize = 600;

/// A series longer than this is thinned to its minimum and maximum per bucket before drawing
/// (a 100,000-epoch run would otherwise put 100,000 points in each of 5 polylines).
const MAX_POINTS: usize = 4000;

/// The page's palette (Okabe-Ito, colour-blind safe), in the page's order.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0x99, 0x99, 0x33),
];

/// The heatmap's colour for a gradient that is exactly 0 (the zero-init story: no colour at all).
pub const ZERO_COLOR: RGBColor = RGBColor(0xFF, 0xFF, 0xFF);
/// The heatmap's colour for a norm that is NaN or infinite (a diverged run).
pub const NON_FINITE_COLOR: RGBColor = RGBColor(0xE0, 0x00, 0x00);

const FONT: &str = "sans-serif";

/// Why a figure could not be drawn or written.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotError(pub String);

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PlotError {}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for PlotError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        PlotError(format!("drawing failed: {e}"))
    }
}

/// The file formats, chosen by the file name's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

impl Format {
    /// `.svg` or `.png` (any case); anything else is an error naming the file.
    pub fn of(path: &Path) -> Result<Format, PlotError> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("svg") => Ok(Format::Svg),
            Some("png") => Ok(Format::Png),
            _ => Err(PlotError(format!("{}: the file name must end in .svg or .png", path.display()))),
        }
    }
}

/// The seed's figure as an SVG document.
pub fn seed_figure_svg(runs: &[(&str, &Trajectory)]) -> Result<String, PlotError> {
    svg(FIGURE_SIZE, |root| draw_figure(root, runs))
}

/// The seed's figure as a PNG file's bytes (RGB, [`FIGURE_SIZE`]).
pub fn seed_figure_png(runs: &[(&str, &Trajectory)]) -> Result<Vec<u8>, PlotError> {
    png(FIGURE_SIZE, |root| draw_figure(root, runs))
}

/// Writes the seed's figure to `path`, as SVG or PNG by its extension.
pub fn write_seed_figure(path: &Path, runs: &[(&str, &Trajectory)]) -> Result<(), PlotError> {
    let bytes = match Format::of(path)? {
        Format::Svg => seed_figure_svg(runs)?.into_bytes(),
        Format::Png => seed_figure_png(runs)?,
    };
    write(path, &bytes)
}

/// The per-layer heatmap of ‖∂L/∂W‖ as SVG: `norms[step][layer]`, every row as long as the
/// first. Time runs left to right, layer 1 is the top row; the colour is log10 of the norm
/// (viridis, from the smallest non-zero norm to the largest), white where the gradient is
/// exactly 0 and red where it is not finite.
pub fn layer_heatmap_svg(title: &str, norms: &[Vec<f64>]) -> Result<String, PlotError> {
    let grid = Grid::new(norms)?;
    svg(HEATMAP_SIZE, |root| draw_heatmap(root, title, &grid))
}

/// [`layer_heatmap_svg`] as a PNG file's bytes ([`HEATMAP_SIZE`]).
pub fn layer_heatmap_png(title: &str, norms: &[Vec<f64>]) -> Result<Vec<u8>, PlotError> {
    let grid = Grid::new(norms)?;
    png(HEATMAP_SIZE, |root| draw_heatmap(root, title, &grid))
}

/// Writes the heatmap to `path`, as SVG or PNG by its extension.
pub fn write_layer_heatmap(path: &Path, title: &str, norms: &[Vec<f64>]) -> Result<(), PlotError> {
    let bytes = match Format::of(path)? {
        Format::Svg => layer_heatmap_svg(title, norms)?.into_bytes(),
        Format::Png => layer_heatmap_png(title, norms)?,
    };
    write(path, &bytes)
}

// ---- backends -----------------------------------------------------------------------------

fn write(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    std::fs::write(path, bytes).map_err(|e| PlotError(format!("{}: cannot write: {e}", path.display())))
}

/// Registers the built-in font once: plotters measures text with it for both backends.
fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../assets/OpenSans-Regular.ttf");
        if register_font(FONT, FontStyle::Normal, bytes).is_err() {
            panic!("the built-in font assets/OpenSans-Regular.ttf does not parse");
        }
    });
}

fn svg<F>(size: (u32, u32), draw: F) -> Result<String, PlotError>
where
    F: FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), PlotError>,
{
    ensure_font();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        draw(&root)?;
        root.present()?;
    }
    Ok(out)
}

fn png<F>(size: (u32, u32), draw: F) -> Result<Vec<u8>, PlotError>
where
    F: FnOnce(&DrawingArea<BitMapBackend, Shift>) -> Result<(), PlotError>,
{
    ensure_font();
    let (w, h) = size;
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
        draw(&root)?;
        root.present()?;
    }
    let mut bytes = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut bytes, w, h);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    let encode = |e: ::png::EncodingError| PlotError(format!("PNG encoding failed: {e}"));
    let mut writer = encoder.write_header().map_err(encode)?;
    writer.write_image_data(&pixels).map_err(encode)?;
    writer.finish().map_err(encode)?;
    Ok(bytes)
}

// ---- the seed's figure --------------------------------------------------------------------

fn draw_figure<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[(&str, &Trajectory)],
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    if runs.is_empty() {
        return Err(PlotError("nothing to plot: no runs".into()));
    }
    root.fill(&WHITE)?;
    let legend = legend_layout(root, runs)?;
    let rows = legend.iter().map(|e| e.row).max().map_or(0, |r| r + 1);
    let (header, body) = root.split_vertically(LEGEND_TOP + LEGEND_ROW * rows as i32);
    for entry in &legend {
        let color = PALETTE[entry.index % PALETTE.len()];
        let y = LEGEND_TOP / 2 + LEGEND_ROW * entry.row as i32 + LEGEND_ROW / 2;
        header
            .draw(&PathElement::new(vec![(entry.x, y), (entry.x + LEGEND_LINE, y)], color.stroke_width(3)))?;
        let style = (FONT, 15).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
        header.draw(&Text::new(entry.name.to_string(), (entry.x + LEGEND_LINE + 6, y), style))?;
    }
    let steps = runs.iter().map(|(_, t)| t.len()).max().unwrap_or(0);
    let x_max = steps.saturating_sub(1).max(1) as f64;
    for (area, (key, title)) in body.split_evenly((PANELS.len(), 1)).iter().zip(PANELS) {
        let series: Vec<&[f64]> = runs.iter().map(|(_, t)| t.scalar(key)).collect();
        let (lo, hi) = value_range(series.iter().flat_map(|s| s.iter().copied()));
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FONT, 20))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(84)
            .build_cartesian_2d(0f64..x_max, lo..hi)?;
        let span = hi - lo;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| tick_label(*v, span))
            .label_style((FONT, 13))
            .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
            .draw()?;
        for (i, values) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            for segment in finite_segments(values) {
                chart.draw_series(LineSeries::new(segment, color.stroke_width(2)))?;
            }
        }
    }
    Ok(())
}

const LEGEND_TOP: i32 = 16;
const LEGEND_ROW: i32 = 24;
const LEGEND_LINE: i32 = 28;

struct LegendEntry<'a> {
    index: usize,
    name: &'a str,
    row: usize,
    x: i32,
}

/// The figure's legend, one entry per run left to right above the five panels (where it hides
/// no line), wrapping onto further rows when the names do not fit in one.
fn legend_layout<'a, DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[(&'a str, &Trajectory)],
) -> Result<Vec<LegendEntry<'a>>, PlotError>
where
    DB::ErrorType: 'static,
{
    let width = root.dim_in_pixel().0 as i32;
    let font: TextStyle = (FONT, 15).into();
    let (start, gap) = (94, 28);
    let (mut row, mut x) = (0, start);
    let mut entries = Vec::new();
    for (index, (name, _)) in runs.iter().enumerate() {
        let text = root.estimate_text_size(name, &font)?.0 as i32;
        let w = LEGEND_LINE + 6 + text;
        if x > start && x + w > width - 10 {
            row += 1;
            x = start;
        }
        entries.push(LegendEntry { index, name, row, x });
        x += w + gap;
    }
    Ok(entries)
}

/// The y range of a panel: every finite value, padded by 5% (a constant series gets a band
/// around its value, an empty one 0..1).
fn value_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * 0.05
    } else if lo != 0.0 {
        lo.abs() * 0.05
    } else {
        1.0
    };
    // A span below f64's resolution at this magnitude (or an overflowing one) would give a
    // degenerate axis.
    let (a, b) = (lo - pad, hi + pad);
    if a < b && (b - a).is_finite() { (a, b) } else { (lo - lo.abs().max(1.0), hi + hi.abs().max(1.0)) }
}

/// A y tick's text: scientific for very large or very small magnitudes, else enough decimals
/// to tell neighbouring ticks apart.
fn tick_label(v: f64, span: f64) -> String {
    let magnitude = v.abs().max(span.abs());
    if magnitude == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e5).contains(&magnitude) || span < 1e-4 * magnitude {
        // Enough significant digits that ticks a span apart differ (weights near 5 that move
        // by 1e-6 need seven).
        let digits =
            if span > 0.0 { ((magnitude / span).log10().ceil().max(0.0) as usize + 2).min(15) } else { 3 };
        return format!("{v:.digits$e}");
    }
    let decimals = (2.0 - span.log10().floor()).clamp(0.0, 6.0) as usize;
    format!("{v:.decimals$}")
}

/// The runs of consecutive finite values, as (step, value) points: a NaN or infinity breaks the
/// line rather than stretching the axis. Long runs are thinned, see [`thin`].
fn finite_segments(values: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut segments = Vec::new();
    let mut current = Vec::new();
    for (step, &v) in values.iter().enumerate() {
        if v.is_finite() {
            current.push((step as f64, v));
        } else if !current.is_empty() {
            segments.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    let total: usize = segments.iter().map(Vec::len).sum();
    if total > MAX_POINTS {
        let bucket = total.div_ceil(MAX_POINTS / 2);
        segments = segments.into_iter().map(|s| thin(&s, bucket)).collect();
    }
    segments
}

/// Each bucket of `bucket` points becomes its minimum and maximum, in step order: the line keeps
/// every peak and trough a pixel column can show.
fn thin(points: &[(f64, f64)], bucket: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(2 * points.len() / bucket + 2);
    for chunk in points.chunks(bucket) {
        let lo = chunk.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1)).expect("chunks are not empty");
        let hi = chunk.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1)).expect("chunks are not empty");
        if lo.0 == hi.0 {
            out.push(lo);
        } else if lo.0 < hi.0 {
            out.extend([lo, hi]);
        } else {
            out.extend([hi, lo]);
        }
    }
    out
}

// ---- the per-layer heatmap ----------------------------------------------------------------

/// The heatmap's cells after binning: `cells[column][layer]`, with the steps each column covers.
struct Grid {
    steps: usize,
    layers: usize,
    /// (first step, one past the last step, the largest norm of each layer; NaN if any was not finite).
    columns: Vec<(usize, usize, Vec<f64>)>,
}

impl Grid {
    fn new(norms: &[Vec<f64>]) -> Result<Grid, PlotError> {
        let layers = norms.first().map_or(0, Vec::len);
        if layers == 0 {
            return Err(PlotError(
                "nothing to plot: the gradient norms need at least one step and one layer".into(),
            ));
        }
        if let Some(step) = norms.iter().position(|row| row.len() != layers) {
            return Err(PlotError(format!(
                "gradient norms: step {step} has {} layers, step 0 has {layers}",
                norms[step].len()
            )));
        }
        let steps = norms.len();
        let count = steps.min(HEATMAP_MAX_COLUMNS);
        let columns = (0..count)
            .map(|c| {
                let (from, to) = (c * steps / count, (c + 1) * steps / count);
                let peak = (0..layers)
                    .map(|l| {
                        norms[from..to].iter().map(|row| row[l]).fold(0.0f64, |m, v| {
                            if !v.is_finite() || m.is_nan() { f64::NAN } else { m.max(v.abs()) }
                        })
                    })
                    .collect();
                (from, to, peak)
            })
            .collect();
        Ok(Grid { steps, layers, columns })
    }

    /// log10 of the smallest and largest non-zero finite norm.
    fn log_range(&self) -> Option<(f64, f64)> {
        let logs = self
            .columns
            .iter()
            .flat_map(|(_, _, peak)| peak.iter())
            .filter(|v| v.is_finite() && **v > 0.0)
            .map(|v| v.log10());
        let (lo, hi) = logs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        (lo <= hi).then_some((lo, hi))
    }
}

/// The colour of one cell: white for 0, red for not finite, else viridis over log10.
pub fn heat_color(norm: f64, log_range: Option<(f64, f64)>) -> RGBColor {
    if !norm.is_finite() {
        return NON_FINITE_COLOR;
    }
    if norm == 0.0 {
        return ZERO_COLOR;
    }
    let (lo, hi) = log_range.unwrap_or((norm.log10(), norm.log10()));
    if hi > lo {
        ViridisRGB::get_color_normalized(norm.log10().clamp(lo, hi), lo, hi)
    } else {
        ViridisRGB::get_color(1.0)
    }
}

fn draw_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    grid: &Grid,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled(title, (FONT, 20))?;
    let (main, bar) = root.split_horizontally(root.dim_in_pixel().0 - 130);
    let range = grid.log_range();
    let layers = grid.layers as f64;
    let mut chart = ChartBuilder::on(&main)
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..grid.steps as f64, 0f64..layers)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("step")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_labels(0)
        .label_style((FONT, 13))
        .draw()?;
    // One label per layer, at the middle of its row (layer 1 on top), every row while they fit.
    let base = main.get_base_pixel();
    let every = grid.layers.div_ceil(24);
    for layer in (0..grid.layers).step_by(every) {
        let (x, y) = chart.backend_coord(&(0.0, layers - layer as f64 - 0.5));
        let style = (FONT, 13).into_font().color(&BLACK).pos(Pos::new(HPos::Right, VPos::Center));
        main.draw(&Text::new(format!("{}", layer + 1), (x - base.0 - 8, y - base.1), style))?;
    }
    let (x, y) = chart.backend_coord(&(0.0, layers / 2.0));
    let style = (FONT, 13)
        .into_font()
        .color(&BLACK)
        .transform(FontTransform::Rotate270)
        .pos(Pos::new(HPos::Center, VPos::Center));
    main.draw(&Text::new("layer", (x - base.0 - 50, y - base.1), style))?;
    chart.draw_series(grid.columns.iter().flat_map(|(from, to, peak)| {
        peak.iter().enumerate().map(move |(layer, &norm)| {
            let top = layers - layer as f64;
            Rectangle::new([(*from as f64, top), (*to as f64, top - 1.0)], heat_color(norm, range).filled())
        })
    }))?;

    // The colour bar: log10 of the norm, bottom to top.
    let (lo, hi) = match range {
        Some((lo, hi)) if hi > lo => (lo, hi),
        Some((lo, _)) => (lo - 0.5, lo + 0.5),
        None => (0.0, 1.0),
    };
    let mut scale = ChartBuilder::on(&bar)
        .margin_top(10)
        .margin_bottom(46)
        .margin_right(10)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..1.0, lo..hi)?;
    scale
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc("|dL/dW|")
        .y_labels(6)
        .y_label_formatter(&|v| format!("{:.0e}", 10f64.powf(*v)))
        .label_style((FONT, 12))
        .draw()?;
    const BANDS: usize = 64;
    scale.draw_series((0..BANDS).map(|i| {
        let (a, b) =
            (lo + (hi - lo) * i as f64 / BANDS as f64, lo + (hi - lo) * (i + 1) as f64 / BANDS as f64);
        let color = ViridisRGB::get_color_normalized((a + b) / 2.0, lo, hi);
        Rectangle::new([(0.0, b), (1.0, a)], color.filled())
    }))?;
    bar.draw(&Text::new(
        "white: 0",
        (8, bar.dim_in_pixel().1 as i32 - 30),
        (FONT, 12).into_font().color(&BLACK),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_readable() {
        assert_eq!(tick_label(0.0, 0.0), "0");
        assert_eq!(tick_label(1.0986, 0.2), "1.099");
        assert_eq!(tick_label(5.0, 10.0), "5.0");
        assert_eq!(tick_label(3e-7, 1e-6), "3.00e-7");
        assert_eq!(tick_label(5.0000012, 4e-6), "5.000001200e0");
        assert_eq!(tick_label(2e20, 1e20), "2.000e20");
    }

    #[test]
    fn ranges_pad_and_survive_degenerate_series() {
        let (lo, hi) = value_range([1.0, 3.0].into_iter());
        assert!((lo - 0.9).abs() < 1e-12 && (hi - 3.1).abs() < 1e-12, "{lo} {hi}");
        assert_eq!(value_range([0.0, 0.0].into_iter()), (-1.0, 1.0));
        assert_eq!(value_range([f64::NAN].into_iter()), (0.0, 1.0));
        let (lo, hi) = value_range([2.0, f64::INFINITY].into_iter());
        assert!((lo - 1.9).abs() < 1e-12 && (hi - 2.1).abs() < 1e-12, "{lo} {hi}");
    }

    #[test]
    fn a_nan_breaks_the_line() {
        let s = finite_segments(&[1.0, 2.0, f64::NAN, 4.0, f64::INFINITY]);
        assert_eq!(s, vec![vec![(0.0, 1.0), (1.0, 2.0)], vec![(3.0, 4.0)]]);
    }

    #[test]
    fn thinning_keeps_peaks_and_troughs() {
        let values: Vec<f64> = (0..100_000)
            .map(|i| {
                if i == 77_777 {
                    50.0
                } else if i == 123 {
                    -9.0
                } else {
                    (i as f64).sin()
                }
            })
            .collect();
        let s = finite_segments(&values);
        assert_eq!(s.len(), 1);
        assert!(s[0].len() <= MAX_POINTS, "{} points", s[0].len());
        assert!(s[0].contains(&(77_777.0, 50.0)) && s[0].contains(&(123.0, -9.0)));
        assert!(s[0].windows(2).all(|w| w[0].0 < w[1].0), "steps in order");
    }
}
