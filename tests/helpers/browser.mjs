// Shared by the browser tests: a static server for the repository root on a free port, and
// the system Chromium driven by playwright-core (no browser is ever downloaded).

import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".safetensors": "application/octet-stream",
  ".png": "image/png",
};

/**
 * Serves `root` on 127.0.0.1. `prefix` mounts it under a sub-path (e.g. "/blog/initlab/"), as
 * a static host would. Resolves to `{url, close}`.
 */
export async function serve(root = ROOT, prefix = "/") {
  const server = createServer(async (request, response) => {
    try {
      const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
      if (!path.startsWith(prefix)) throw new Error("outside the prefix");
      let file = normalize(join(root, path.slice(prefix.length)));
      if (!file.startsWith(root)) throw new Error("outside the root");
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      const body = await readFile(file);
      response.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
      response.end(body);
    } catch {
      response.writeHead(404).end("not found");
    }
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const url = `http://127.0.0.1:${server.address().port}${prefix}`;
  return { url, close: () => new Promise((done) => server.close(done)) };
}

/** Headless system Chromium. `webgpu: true` turns on its WebGPU (SwiftShader here). */
export async function launch({ webgpu = false, exposeGc = false } = {}) {
  const args = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--no-proxy-server",
  ];
  if (exposeGc) args.push("--js-flags=--expose-gc", "--enable-precise-memory-info");
  if (webgpu) args.push("--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-angle=swiftshader");
  else args.push("--disable-gpu");
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args });
}

/**
 * A page that records console errors, page errors and every request that leaves the origin
 * (or is not a file:, data: or blob: URL when `origin` is null).
 */
export async function watchedPage(browser, origin, viewport = { width: 1400, height: 1000 }) {
  const page = await browser.newPage({ viewport });
  const problems = { console: [], offOrigin: [] };
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.console.push(msg.text());
  });
  page.on("pageerror", (error) => problems.console.push(`pageerror: ${error.message}`) && console.error(error.stack));
  page.on("request", (request) => {
    const url = request.url();
    const local = origin ? url.startsWith(origin) : /^(file|data|blob):/.test(url);
    if (!local && !/^(data|blob):/.test(url)) problems.offOrigin.push(url);
  });
  return { page, problems };
}

/** No element is wider than the viewport: `scrollWidth` of the document equals its width. */
export async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const wide = [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > doc.clientWidth + 1 && el.getClientRects().length)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
    return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, wide };
  });
}

/** The reference tolerance: 1e-6 + 10·max_abs_f32_vs_f64[key] + 1e-4·|ref|, times `scale`. */
export function tolerance(fixture, key, ref, scale = 1) {
  return scale * (1e-6 + 10 * (fixture.max_abs_f32_vs_f64[key] ?? 0) + 1e-4 * Math.abs(ref));
}

export const KEYS = ["loss", "conv1_mean", "conv1_var", "conv2_mean", "conv2_var", "conv1_grad_norm", "conv2_grad_norm"];
