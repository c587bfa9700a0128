// Shared by the browser tests: a static server for the repository root on a free port, the
// browsers (none is ever downloaded), and `useBrowser()`, the fixture every browser test file
// starts from: it registers node:test hooks that start the server and one browser before the
// file's (or the suite's) tests, and stop both after them.
//
// - Chromium (/usr/bin/chromium, or $CHROMIUM) through playwright-core; the tests that use
//   Chromium alone get playwright pages from `open()`;
// - Firefox (/usr/bin/firefox-esr, or $FIREFOX) through puppeteer-core over WebDriver BiDi;
// - WebKit (WebKitGTK's MiniBrowser) through WebKitWebDriver, see webdriver.mjs.
// `tab()` is one small interface on all three, for the cross-engine tests.

import { after, before } from "node:test";
import { createServer } from "node:http";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { launchWebKit } from "./webdriver.mjs";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const ENGINES = ["chromium", "firefox", "webkit"];

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
 * a static host would. Resolves to `{url, close, inject}`.
 *
 * `inject(source)` is for a browser without init scripts (WebKit's WebDriver): it returns a
 * base URL under which the same files are served, every HTML page with a same-origin
 * `<script>` of `source` right after its `<meta charset>`: it runs before the page's own
 * scripts, and the page's Content-Security-Policy allows it ('self').
 */
export async function serve(root = ROOT, prefix = "/") {
  const injected = [];
  const server = createServer(async (request, response) => {
    try {
      let path = decodeURIComponent(new URL(request.url, "http://x").pathname);
      const hook = path.match(/^\/__inject\/(\d+)(\/.*)$/);
      if (hook) path = hook[2];
      if (hook && path === "/__injected.js") {
        response.writeHead(200, { "Content-Type": TYPES[".js"] });
        return response.end(injected[Number(hook[1])]);
      }
      if (!path.startsWith(prefix)) throw new Error("outside the prefix");
      let file = normalize(join(root, path.slice(prefix.length)));
      if (!file.startsWith(root)) throw new Error("outside the root");
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      let body = await readFile(file);
      if (hook && extname(file) === ".html") {
        body = afterCharset(body.toString("utf8"), `<script src="/__inject/${hook[1]}/__injected.js"></script>`);
      }
      response.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
      response.end(body);
    } catch {
      response.writeHead(404).end("not found");
    }
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const inject = (source) => {
    injected.push(source);
    return `${origin}/__inject/${injected.length - 1}${prefix}`;
  };
  return { url: `${origin}${prefix}`, inject, close: () => new Promise((done) => server.close(done)) };
}

/** `html` with `tag` right after its `<meta charset>` (which must stay in the first 1024 bytes). */
function afterCharset(html, tag) {
  const charset = html.match(/<meta charset="[^"]*">/i);
  if (!charset) throw new Error("no <meta charset> to inject after");
  const at = charset.index + charset[0].length;
  return `${html.slice(0, at)}${tag}${html.slice(at)}`;
}

/**
 * The fixture of a browser test file (or of a `describe`): before its tests, the server and
 * one browser of `engine`; after them, both stopped. Returns the context the tests use:
 *
 * - `url`: the server's base URL; `server`; `browser` (Chromium: playwright's Browser);
 * - `open(target, {viewport, initScript, ready})` (Chromium): a watched playwright page at
 *   `target` (a query or a path under the server, or an absolute URL), once
 *   `window.initlab.ready` resolved (unless `ready: false`): `{page, problems, readyMs}`;
 * - `tab(url, {viewport, initScript})` (every engine): see `launchEngine`;
 * - `launchMs`: how long the browser took to start;
 * - `started`: a promise of the hook's end. Node 20 runs a file's top-level `before` hooks
 *   concurrently, so a hook that needs the browser awaits it.
 */
export function useBrowser({ engine = "chromium", webgpu = false, exposeGc = false } = {}) {
  let session;
  const ctx = {
    engine,
    server: null,
    url: null,
    browser: null,
    launchMs: 0,
    async open(target = "", { viewport, initScript, ready = true } = {}) {
      if (engine !== "chromium") throw new Error("open() gives playwright pages: Chromium only; use tab()");
      const url = /^[a-z]+:/.test(target) ? target : `${ctx.url}${target}`;
      const origin = url.startsWith("file:") ? null : `${new URL(url).origin}/`;
      const { page, problems } = await watchedPage(ctx.browser, origin, viewport);
      if (initScript) await page.addInitScript(initScript);
      const start = Date.now();
      await page.goto(url);
      if (ready) await page.evaluate(() => window.initlab.ready);
      return { page, problems, readyMs: Date.now() - start };
    },
    tab: (url, options) => session.tab(url, options),
  };
  let started;
  ctx.started = new Promise((resolve, reject) => (started = { resolve, reject }));
  ctx.started.catch(() => {}); // reported by the hook itself
  before(async () => {
    try {
      ctx.server = await serve();
      ctx.url = ctx.server.url;
      const start = Date.now();
      session = await launchEngine(engine, { webgpu, exposeGc, server: ctx.server });
      ctx.launchMs = Date.now() - start;
      ctx.browser = session.browser;
      started.resolve();
    } catch (error) {
      started.reject(error);
      throw error;
    }
  });
  after(async () => {
    await session?.close();
    await ctx.server?.close();
  });
  return ctx;
}

/**
 * The wasm module's test page in `ctx`'s Chromium: before the tests, tests/helpers/blank.html
 * with `window.m`, the full module (`www/pkg/initlab.js`), imported and initialised. Returns
 * `{page, problems, backends}` (`backends`: what `availableBackends()` said), filled in by then.
 */
export function useModule(ctx) {
  const module = {};
  before(async () => {
    await ctx.started;
    Object.assign(module, await ctx.open("tests/helpers/blank.html", { ready: false }));
    module.backends = await module.page.evaluate(async () => {
      window.m = await import("/www/pkg/initlab.js");
      await window.m.default();
      return window.m.availableBackends();
    });
  });
  return module;
}

const CAPTURE = readFile(join(ROOT, "tests/helpers/capture.js"), "utf8");

/**
 * One browser of `engine`, and `tab(url, {viewport = 1400×1000, initScript})`: the page at
 * `url` (loaded), as `{evaluate(fn, arg), screenshot(path), errors(), close()}`, where
 * `evaluate` awaits a returned promise and `errors()` resolves to the errors a console would
 * show (console errors, uncaught errors and rejections; on WebKit as tests/helpers/capture.js
 * records them in the page). Tabs are used one at a time (WebKit has one window).
 */
export async function launchEngine(engine, { webgpu = false, exposeGc = false, server } = {}) {
  const VIEWPORT = { width: 1400, height: 1000 };
  if (engine === "chromium") {
    const browser = await launch({ webgpu, exposeGc });
    return {
      browser,
      async tab(url, { viewport = VIEWPORT, initScript } = {}) {
        const { page, problems } = await watchedPage(browser, url.startsWith("file:") ? null : `${new URL(url).origin}/`, viewport);
        if (initScript) await page.addInitScript(initScript);
        await page.goto(url);
        return {
          evaluate: (fn, arg) => page.evaluate(fn, arg),
          screenshot: (path) => page.screenshot({ path }),
          errors: async () => [...problems.console, ...problems.offOrigin.map((u) => `off origin: ${u}`)],
          close: () => page.close(),
        };
      },
      close: () => browser.close(),
    };
  }
  if (engine === "firefox") {
    const { default: puppeteer } = await import("puppeteer-core");
    const browser = await puppeteer.launch({
      browser: "firefox",
      executablePath: process.env.FIREFOX ?? "/usr/bin/firefox-esr",
      headless: true,
    });
    return {
      browser,
      async tab(url, { viewport = VIEWPORT, initScript } = {}) {
        const page = await browser.newPage();
        const seen = [];
        // Firefox's BiDi log includes the page's workers.
        page.on("console", (msg) => msg.type() === "error" && seen.push(msg.text()));
        page.on("pageerror", (error) => seen.push(`pageerror: ${error.message}`));
        await page.setViewport(viewport);
        if (initScript) await page.evaluateOnNewDocument(initScript);
        await page.goto(url);
        return {
          evaluate: (fn, arg) => page.evaluate(fn, arg),
          screenshot: (path) => page.screenshot({ path }),
          errors: async () => [...seen],
          close: () => page.close(),
        };
      },
      close: () => browser.close(),
    };
  }
  if (engine === "webkit") {
    const webkit = await launchWebKit();
    const scratch = await mkdtemp(join(tmpdir(), "initlab-webkit-"));
    let size = "";
    return {
      browser: webkit,
      async tab(url, { viewport = VIEWPORT, initScript } = {}) {
        const capture = await CAPTURE;
        let target;
        if (url.startsWith("file:")) {
          // A copy of the file with the capture inlined ahead of its Content-Security-Policy.
          if (initScript) throw new Error("WebKit: no init script for file:// pages");
          const file = new URL(url);
          const copy = join(scratch, basename(fileURLToPath(file)));
          await writeFile(copy, afterCharset(await readFile(fileURLToPath(file), "utf8"), `<script>${capture}</script>`));
          target = `${pathToFileURL(copy).href}${file.search}`;
        } else {
          if (!url.startsWith(server.url)) throw new Error(`WebKit: ${url} is not on the test server`);
          const source = initScript ? `${capture}\n(${initScript})();\n` : capture;
          target = `${server.inject(source)}${url.slice(server.url.length)}`;
        }
        if (size !== JSON.stringify(viewport)) {
          await webkit.setViewport(viewport);
          size = JSON.stringify(viewport);
        }
        await webkit.goto(target);
        return {
          evaluate: (fn, arg) => webkit.evaluate(fn, arg),
          screenshot: (path) => webkit.screenshot(path),
          errors: () => webkit.evaluate(() => window.__captured ?? ["the capture script did not run"]),
          close: () => webkit.goto("about:blank"),
        };
      },
      async close() {
        await webkit.close();
        await rm(scratch, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`unknown engine ${engine}: one of ${ENGINES.join(", ")}`);
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
 * A page that records console errors, page errors, every request that leaves the origin
 * (or is not a file:, data: or blob: URL when `origin` is null) and every URL it requests.
 */
export async function watchedPage(browser, origin, viewport = { width: 1400, height: 1000 }) {
  const page = await browser.newPage({ viewport });
  const problems = { console: [], offOrigin: [], requests: [] };
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.console.push(msg.text());
  });
  page.on("pageerror", (error) => problems.console.push(`pageerror: ${error.message}`) && console.error(error.stack));
  page.on("request", (request) => {
    const url = request.url();
    problems.requests.push(url);
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

/** The seed's seven series and the blog's four presets, as the page defines them. */
export { SERIES_KEYS as KEYS } from "../../www/runs.js";
export { PRESET_KEYS } from "../../www/state.js";
