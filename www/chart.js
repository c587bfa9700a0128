// One line chart over the epochs, on uPlot (vendored; canvas, synced cursors).
// Two methods: `update(series, options)` draws the given series, `destroy()` removes the chart.
//
// Long runs are thinned for drawing only (a min and a max per bucket of steps, so spikes
// survive); the exact records stay with the caller, and the table view shows them whole.

/* global uPlot */

/** Points drawn per series at most; more steps are bucketed. */
const MAX_POINTS = 1200;

export class LineChart {
  /**
   * @param {HTMLElement} container
   * @param {{title: string, xLabel?: string, syncKey?: string, height?: number}} options
   */
  constructor(container, { title, xLabel = "epoch", syncKey = "initlab", height = 200 }) {
    this.container = container;
    this.title = title;
    this.xLabel = xLabel;
    this.syncKey = syncKey;
    this.height = height;
    this.plot = null;
    this.frame = "";
    this.styles = [];
  }

  /**
   * @param {{id: string, label: string, color: string, dash: number[], values: number[], show: boolean}[]} series
   * @param {{log?: boolean, title?: string, xLabel?: string}} options
   */
  update(series, { log = false, title = this.title, xLabel = this.xLabel } = {}) {
    const frame = JSON.stringify([log, title, xLabel]);
    const styles = series.map((s) => JSON.stringify([s.id, s.label, s.color]));
    const data = alignedData(series, log);
    const width = Math.max(200, this.container.clientWidth || 320);
    // Series kept from the last draw: the longest common prefix of the old and new lists.
    let keep = 0;
    while (keep < styles.length && keep < this.styles.length && styles[keep] === this.styles[keep]) keep++;
    if (!this.plot || frame !== this.frame) {
      // A new scale, title or language: build the chart again (tens of ms).
      this.title = title;
      this.xLabel = xLabel;
      this.destroy();
      if (typeof uPlot !== "function") throw new ChartLibraryError();
      this.plot = new uPlot(options(this, series, log, width), data, this.container);
    } else {
      // Runs removed or added since: change those series only (far cheaper than a rebuild).
      for (let i = this.styles.length; i > keep; i--) this.plot.delSeries(i);
      for (let i = keep; i < series.length; i++) this.plot.addSeries(seriesOptions(series[i]), i + 1);
      series.forEach((s, i) => {
        if (this.plot.series[i + 1].show !== s.show) this.plot.setSeries(i + 1, { show: s.show });
      });
      this.plot.setData(data);
      if (this.plot.width !== width) this.plot.setSize({ width, height: this.height });
    }
    this.frame = frame;
    this.styles = styles;
  }

  destroy() {
    this.plot?.destroy();
    this.plot = null;
    this.frame = "";
    this.styles = [];
  }
}

/** The chart library is missing: its script failed to load or to run (its error, if seen). */
export class ChartLibraryError extends Error {
  constructor() {
    super(window.__initlabLoadErrors?.[0] ?? "uPlot is not defined");
    this.name = "ChartLibraryError";
  }
}

function options(chart, series, log, width) {
  return {
    title: chart.title,
    width,
    height: chart.height,
    cursor: { sync: { key: chart.syncKey, setSeries: true }, drag: { x: true, y: false } },
    legend: { live: true },
    scales: {
      x: { time: false },
      y: log ? { distr: 3, range: logRange } : { range: linearRange },
    },
    axes: [
      { label: chart.xLabel, size: 36, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000] },
      // Wide enough for its longest label: a constant-5 mean's ticks need nine digits.
      {
        size: (u, values) => Math.max(48, 12 + 7 * Math.max(0, ...(values ?? []).map((v) => v.length))),
        ...(log ? { splits: (u, axis, min, max) => logTicks(min, max), values: (u, ticks) => ticks.map(formatTick) } : { values: (u, ticks) => tickLabels(ticks) }),
      },
    ],
    series: [
      { label: chart.xLabel, value: (u, v) => (v == null ? "–" : String(v)) },
      ...series.map(seriesOptions),
    ],
  };
}

function seriesOptions(s) {
  return {
    label: s.label,
    stroke: s.color,
    dash: s.dash,
    width: 2,
    show: s.show,
    points: { show: false },
    spanGaps: false,
    value: (u, v) => (v == null ? "–" : exact(v)),
  };
}

/**
 * uPlot wants one x array shared by every series: the steps 0..n-1, thinned to at most
 * MAX_POINTS. Missing and non-drawable values (non-positive on a log scale) become null.
 */
function alignedData(series, log) {
  const n = Math.max(0, ...series.map((s) => s.values.length));
  const bucket = Math.max(1, Math.ceil((2 * n) / MAX_POINTS));
  const xs = [];
  const ys = series.map(() => []);
  const drawable = (v) => v != null && Number.isFinite(v) && (!log || v > 0);
  for (let start = 0; start < n; start += bucket) {
    const end = Math.min(n, start + bucket);
    if (bucket === 1) {
      xs.push(start);
      series.forEach((s, k) => ys[k].push(drawable(s.values[start]) ? s.values[start] : null));
      continue;
    }
    // Two points per bucket: its min at the start, its max in the middle.
    xs.push(start, start + Math.floor((end - start) / 2));
    series.forEach((s, k) => {
      let lo = null;
      let hi = null;
      for (let i = start; i < end && i < s.values.length; i++) {
        const v = s.values[i];
        if (!drawable(v)) continue;
        lo = lo === null ? v : Math.min(lo, v);
        hi = hi === null ? v : Math.max(hi, v);
      }
      ys[k].push(lo, hi);
    });
  }
  return [xs, ...ys];
}

const MIN_RELATIVE_SPAN = 1e-9;

/**
 * The y range of a linear chart. A flat series (zero init: exactly 0 for every epoch) still
 * gets a sensible, labelled axis; so does one that moves by a rounding error only (an f64 mean
 * that changes in its last bit, [1, 1 + 2⁻⁵²]): uPlot steps its ticks by at least 1e-16, and
 * where a step no longer changes the value (below half an ulp) its tick loop never ends, until
 * the array of ticks overflows and the chart is lost. A range at least MIN_RELATIVE_SPAN of its
 * values wide keeps the ticks millions of ulps apart.
 */
function linearRange(u, min, max) {
  if (min == null || max == null) return [-1, 1];
  const size = Math.max(Math.abs(min), Math.abs(max));
  if (min === max) {
    const pad = min === 0 ? 1 : size * 0.5;
    return [min - pad, max + pad];
  }
  if (max - min < MIN_RELATIVE_SPAN * size) {
    const mid = min + (max - min) / 2;
    return [mid - (MIN_RELATIVE_SPAN / 2) * size, mid + (MIN_RELATIVE_SPAN / 2) * size];
  }
  const pad = (max - min) * 0.06;
  return [min - pad, max + pad];
}

function logRange(u, min, max) {
  if (min == null || max == null || !(min > 0)) return [0.1, 10];
  if (min === max) return [min / 2, max * 2];
  return [min / 1.2, max * 1.2];
}

/**
 * The ticks of a log axis, made here rather than by uPlot: uPlot's own add each step in
 * floating point, and from about 1e-22 down (a loss that fell to 1e-25) the sum stops growing
 * and its loop never ends. Powers of ten (every k-th over many decades: eight at most); where
 * fewer than three fit, 1, 2 and 5 times them; where still fewer, every digit. The values are
 * parsed from decimal text, so that each is the double nearest its label.
 */
export function logTicks(min, max) {
  if (!(min > 0) || !(max > min) || !Number.isFinite(max)) return [];
  const [lo, hi] = [Math.floor(Math.log10(min)), Math.ceil(Math.log10(max))];
  const ticks = (mantissas, every = 1) => {
    const all = [];
    for (let k = Math.ceil(lo / every) * every; k <= hi; k += every) all.push(...mantissas.map((m) => Number(`${m}e${k}`)));
    return all.filter((v) => v >= min && v <= max);
  };
  const powers = ticks([1], Math.ceil((hi - lo + 1) / 8));
  if (powers.length >= 3) return powers;
  const coarse = ticks([1, 2, 5]);
  return coarse.length >= 3 ? coarse : ticks([1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

/**
 * Tick labels that tell adjacent ticks apart. A series that barely moves around a large value
 * (constant 5's weight mean moves by float32 rounding, ~1e-7) gets as many decimals as its
 * tick spacing needs ("4.9999999", "5.0000001"), not eight labels that all read "5". Where
 * that would take more than 15 decimals (ticks 1e-30 apart near 1e-20) or fewer than none
 * (1e11 apart near 1e20, where toFixed throws), as many significant digits instead.
 */
export function tickLabels(ticks) {
  const spacing = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 0;
  const magnitude = Math.max(0, ...ticks.map((t) => Math.abs(t ?? 0)));
  if (spacing > 0 && spacing < 1e-3 * magnitude) {
    const decimals = Math.ceil(-Math.log10(spacing) - 1e-6); // 1e-7 apart: 7 (the spacing is a rounded 1, 2 or 5 × 10^k)
    if (decimals >= 0 && decimals <= 15) return ticks.map((t) => (t == null ? "" : t.toFixed(decimals)));
    const digits = Math.min(100, Math.ceil(Math.log10(magnitude / spacing) + 1e-6));
    return ticks.map((t) => (t == null ? "" : t.toExponential(digits)));
  }
  return ticks.map(formatTick);
}

function formatTick(v) {
  if (v == null) return "";
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

/** The value exactly as the engine reported it (an exact zero reads "0", never 1e-38). */
export function exact(v) {
  return v === 0 ? "0" : String(v);
}

/** A short form for legends and badges: 3 significant digits, powers of ten outside [1e-3, 1e4). */
export function brief(v) {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a < 1e-3 || a >= 1e4 ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

/** [`brief`] rounded up, for a bound ("≤ 2.92" of a map whose max is 2.91063): never below `v`. */
export function briefAbove(v) {
  if (!(v > 0) || !Number.isFinite(v)) return brief(v);
  let bound = Number(v.toPrecision(3));
  if (bound < v) bound = Number((bound + 10 ** (Math.floor(Math.log10(v)) - 2)).toPrecision(3));
  return brief(bound);
}
