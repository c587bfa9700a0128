// The explanation's pictures: conv filters as heatmaps and every block's maps, forward and
// backward. Colours: diverging purple–white–orange (PuOr, readable with colour-vision
// deficiencies).

import { el } from "../dom.js";
import { t } from "../i18n.js";
import { extent, maxAbs, mean, num } from "./format.js";

/**
 * A conv weight [3 out][in][3][3] as a grid of 3×3 heatmaps, coloured by each weight's
 * difference from the layer's mean: constant init sits far from 0, and on a scale from 0 every
 * cell would look the same colour, hiding conv2's separated target-class row.
 */
export function filterGrid(name, w) {
  const inputs = w.length / 27;
  const centre = mean(w);
  const scale = maxAbs(w.map((v) => v - centre));
  const [width, height] = [inputs * 4 - 1, 11];
  const canvas = el("canvas", { width: String(width), height: String(height), class: "heat", role: "img" });
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(width, height);
  for (let o = 0; o < 3; o++) {
    for (let i = 0; i < inputs; i++) {
      for (let k = 0; k < 9; k++) {
        const [x, y] = [i * 4 + (k % 3), o * 4 + Math.floor(k / 3)];
        paint(image, (y * width + x) * 4, scale === 0 ? 0 : (w[(o * inputs + i) * 9 + k] - centre) / scale);
      }
    }
  }
  ctx.putImageData(image, 0, 0);
  canvas.setAttribute("aria-label", `${name}: ${w.map(num).join(" ")}`);
  const perOut = inputs * 9;
  canvas.title = `${name}\n${[0, 1, 2].map((o) => w.slice(o * perOut, (o + 1) * perOut).map(num).join(" ")).join("\n")}`;
  const figure = el("figure", { class: "filter-grid" });
  figure.append(canvas, el("figcaption", {}, t("ex.sym.caption", { name, mean: num(centre), spread: num(scale) })));
  return figure;
}

/** Every block's conv output f, ∂L/∂f, block output and ∂L/∂(output), for the first image. */
export function blockViews(maps, convNames) {
  const { width, height } = maps;
  return maps.blocks.flatMap((block, b) =>
    [
      ["ex.maps.f", block.conv],
      ["ex.maps.df", block.conv_grad],
      ["ex.maps.out", block.output],
      ["ex.maps.dout", block.output_grad],
    ].map(([label, data]) => {
      const name = t(label, { conv: convNames[b] ?? `conv${b + 1}` });
      const scale = maxAbs(data);
      const figure = el("figure", { class: "map", "data-map": `${b}/${label.slice(8)}` });
      const strip = el("div", { class: "map-channels" });
      const plane = width * height;
      for (let c = 0; c < block.channels; c++) {
        const canvas = el("canvas", { width: String(width), height: String(height), class: "heat", role: "img" });
        const ctx = canvas.getContext("2d");
        const image = ctx.createImageData(width, height);
        const values = data.subarray(c * plane, (c + 1) * plane);
        for (let p = 0; p < values.length; p++) paint(image, p * 4, scale === 0 ? 0 : values[p] / scale);
        ctx.putImageData(image, 0, 0);
        canvas.setAttribute("aria-label", `${name}, channel ${c}`);
        strip.append(canvas);
      }
      const [min, max] = extent(data);
      const range = scale === 0 ? t("ex.maps.zero") : t("ex.maps.range", { min: num(min), max: num(max) });
      figure.append(strip, el("figcaption", {}, `${name}: ${range}`));
      return figure;
    }),
  );
}

function paint(image, at, v) {
  const x = Math.max(-1, Math.min(1, v));
  const [lo, mid, hi] = [[94, 60, 153], [247, 247, 247], [230, 97, 1]];
  const to = x < 0 ? lo : hi;
  const f = Math.abs(x);
  for (let k = 0; k < 3; k++) image.data[at + k] = Math.round(mid[k] + (to[k] - mid[k]) * f);
  image.data[at + 3] = 255;
}
