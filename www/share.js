// Export: the runs as CSV and JSON (the reference fixtures' keys), the charts as one PNG with
// the legend and the settings on it; and the embed snippet. No DOM here except the canvases
// the PNG is drawn from.

import { SERIES_KEYS, labelOf } from "./runs.js";

/** One row per run and step: `run,step,loss,conv1_mean,…`, values exactly as recorded. */
export function toCSV(runs) {
  const lines = [["run", "step", ...SERIES_KEYS].join(",")];
  for (const run of runs) {
    for (let step = 0; step < run.records.loss.length; step++) {
      lines.push([csvField(run.key), step, ...SERIES_KEYS.map((k) => String(run.records[k][step]))].join(","));
    }
  }
  return `${lines.join("\n")}\n`;
}

/** `{run key: {name, label, backend, config, status, trajectory: {the seven keys}}}`; `label` as the legend says it. */
export function toJSON(runs) {
  const out = {};
  for (const run of runs) {
    out[run.key] = {
      name: run.key,
      label: labelOf(run),
      backend: run.backend,
      config: run.config,
      status: run.status,
      trajectory: Object.fromEntries(SERIES_KEYS.map((k) => [k, run.records[k]])),
    };
  }
  return `${JSON.stringify(out, null, 1)}\n`;
}

function csvField(text) {
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The `<iframe>` that embeds the page at `url` (already carrying `embed=1`). */
export function embedSnippet(url, title) {
  const escape = (s) => s.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");
  return `<iframe src="${escape(url)}" title="${escape(title)}" width="100%" height="760" style="border:0;max-width:100%" loading="lazy"></iframe>`;
}

/**
 * Draws the given charts into one PNG: a title, a legend with each run's colour and dash,
 * the charts in a grid, and the settings in a footer. Resolves to a Blob.
 * @param {{title: string, canvas: HTMLCanvasElement}[]} charts
 * @param {{label: string, color: string, dash: number[]}[]} legend
 */
export function chartsPNG({ heading, charts, legend, footer }) {
  const scale = 1;
  const columns = charts.length > 1 ? 2 : 1;
  const cellW = Math.max(...charts.map((c) => c.canvas.width));
  const cellH = Math.max(...charts.map((c) => c.canvas.height)) + 28;
  const pad = 24;
  const legendH = 26 * Math.ceil(legend.length / 3) + 10;
  const rows = Math.ceil(charts.length / columns);
  const width = pad * 2 + columns * cellW + (columns - 1) * pad;
  const height = pad + 36 + legendH + rows * (cellH + pad) + 20 * footer.length + pad;
  const canvas = document.createElement("canvas");
  canvas.width = width * scale;
  canvas.height = height * scale;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = "#1d232b";
  ctx.font = "600 22px system-ui, 'Noto Sans CJK SC', sans-serif";
  ctx.fillText(heading, pad, pad + 22);

  let y = pad + 48;
  ctx.font = "14px system-ui, 'Noto Sans CJK SC', sans-serif";
  legend.forEach((item, i) => {
    const x = pad + (i % 3) * Math.floor((width - 2 * pad) / 3);
    const ly = y + Math.floor(i / 3) * 26;
    ctx.strokeStyle = item.color;
    ctx.lineWidth = 3;
    ctx.setLineDash(item.dash);
    ctx.beginPath();
    ctx.moveTo(x, ly - 5);
    ctx.lineTo(x + 36, ly - 5);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#1d232b";
    ctx.fillText(item.label, x + 44, ly);
  });
  y += legendH;

  charts.forEach((chart, i) => {
    const x = pad + (i % columns) * (cellW + pad);
    const cy = y + Math.floor(i / columns) * (cellH + pad);
    ctx.fillStyle = "#1d232b";
    ctx.font = "600 15px system-ui, 'Noto Sans CJK SC', sans-serif";
    ctx.fillText(chart.title, x, cy + 16);
    ctx.drawImage(chart.canvas, x, cy + 24, chart.canvas.width, chart.canvas.height);
  });

  ctx.fillStyle = "#5b6673";
  ctx.font = "13px ui-monospace, monospace";
  footer.forEach((line, i) => ctx.fillText(line, pad, height - pad - (footer.length - 1 - i) * 20));
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}

/** Saves a Blob under `name` through a temporary link. */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
