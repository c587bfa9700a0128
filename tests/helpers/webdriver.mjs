// WebKit for the browser tests: WebKitGTK's MiniBrowser driven by WebKitWebDriver over plain
// W3C WebDriver (HTTP + JSON, a few endpoints, no npm package), under an Xvfb of its own.
// Debian: `apt-get install webkit2gtk-driver xvfb`.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { writeFile } from "node:fs/promises";

export const MINIBROWSER = process.env.MINIBROWSER ?? "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port nobody listens on right now. */
async function freePort() {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address();
  await new Promise((done) => probe.close(done));
  return port;
}

/** An X display for the browser: Xvfb on the first free number from 90 (-displayfd tells). */
async function startXvfb() {
  const xvfb = spawn("Xvfb", ["-displayfd", "1", "-screen", "0", "1600x1200x24", "-nolisten", "tcp"], { stdio: ["ignore", "pipe", "ignore"] });
  let text = "";
  for await (const chunk of xvfb.stdout) {
    text += chunk;
    if (text.includes("\n")) break;
  }
  const number = text.trim();
  if (!/^\d+$/.test(number)) throw new Error(`Xvfb did not start (${text})`);
  return { display: `:${number}`, process: xvfb };
}

/**
 * One WebKit session: Xvfb, WebKitWebDriver and MiniBrowser --automation, one window.
 * `call(method, path, body)` is the raw protocol on the session; the helpers below are the
 * few commands the tests need.
 */
export async function launchWebKit() {
  const xvfb = await startXvfb();
  const port = await freePort();
  const driver = spawn("WebKitWebDriver", [`--port=${port}`], { env: { ...process.env, DISPLAY: xvfb.display }, stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  const request = async (method, path, body) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const { value } = await response.json();
    if (value?.error) throw new Error(`WebDriver ${method} ${path}: ${value.error}: ${value.message}`);
    return value;
  };
  const stop = () => {
    driver.kill();
    xvfb.process.kill();
    process.off("exit", stop);
  };
  // Whatever happens to the test process, the driver (and its browser) and Xvfb go with it.
  process.on("exit", stop);
  try {
    for (let i = 0; ; i++) {
      try {
        await request("GET", "/status");
        break;
      } catch (error) {
        if (i > 100) throw error;
        await sleep(50);
      }
    }
    const { sessionId } = await request("POST", "/session", {
      capabilities: { alwaysMatch: { "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] } } },
    });
    const call = (method, path, body) => request(method, `/session/${sessionId}${path}`, body);
    await call("POST", "/timeouts", { script: 600_000, pageLoad: 120_000 });
    return {
      call,
      /** Runs `fn(arg)` in the page; a returned promise is awaited (W3C "execute script"). */
      evaluate: (fn, arg) => call("POST", "/execute/sync", { script: `return (${fn})(arguments[0]);`, args: [arg ?? null] }),
      /** Loads `url`, until its load event (the driver returns as soon as the DOM is parsed). */
      async goto(url) {
        await call("POST", "/url", { url });
        await call("POST", "/execute/sync", {
          script: "return document.readyState === 'complete' || new Promise((done) => addEventListener('load', () => done(true), { once: true }));",
          args: [],
        });
      },
      /** Sizes the window so that the page's viewport is `width`×`height` CSS pixels. */
      async setViewport({ width, height }) {
        let rect = { width, height };
        for (let i = 0; i < 3; i++) {
          await call("POST", "/window/rect", rect);
          const inner = await call("POST", "/execute/sync", { script: "return [innerWidth, innerHeight];", args: [] });
          if (inner[0] === width && inner[1] === height) return;
          rect = { width: rect.width + width - inner[0], height: rect.height + height - inner[1] };
        }
      },
      /** The viewport as a PNG file. */
      async screenshot(path) {
        await writeFile(path, Buffer.from(await call("GET", "/screenshot"), "base64"));
      },
      async close() {
        await call("DELETE", "").catch(() => {});
        stop();
      },
    };
  } catch (error) {
    stop();
    throw error;
  }
}
