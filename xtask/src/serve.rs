//! `cargo xtask serve`: build the flex module (and its fused twin), serve the repository root on 127.0.0.1 at once,
//! and build the full module (ndarray, WebGPU) in the background.
//!
//! The page needs only the flex module to run (every default run is on flex), and on a fresh
//! clone the full module takes three times as long to build. Until it is built, requests for
//! its files (`www/pkg/initlab.js`, `initlab_bg.wasm` and their `.d.ts`) get `503 Service
//! Unavailable`: the worker's probe (www/worker.js) reads that as "still being built", offers
//! flex alone, shows it, and asks again every few seconds. A stale copy from an earlier build is
//! not served while the new one is being built, nor after a failed build (404).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::build;

const BUILDING: u8 = 0;
const BUILT: u8 = 1;
const FAILED: u8 = 2;

pub fn serve(root: &Path, port: u16) -> Result<()> {
    let start = Instant::now();
    build::prepare()?;
    build::module(&build::FLEX)?;
    // Its fused twin only recompiles our crate (some 15 s): served from the start, it is never
    // a stale copy.
    build::module(&build::FLEX_FMA)?;
    let listener =
        TcpListener::bind(("127.0.0.1", port)).with_context(|| format!("cannot listen on port {port}"))?;
    println!(
        "Init Lab: http://127.0.0.1:{port}/ (flex module ready after {:.0} s)",
        start.elapsed().as_secs_f64()
    );
    let full = Arc::new(AtomicU8::new(BUILDING));
    let state = Arc::clone(&full);
    std::thread::spawn(move || {
        let began = Instant::now();
        eprintln!(
            "serving on flex now; building the ndarray and WebGPU module (www/pkg/initlab.js) in the background"
        );
        let outcome = build::module(&build::FULL);
        state.store(if outcome.is_ok() { BUILT } else { FAILED }, Ordering::SeqCst);
        match outcome {
            Ok(()) => println!(
                "ndarray and WebGPU are ready ({:.0} s): the page offers them within a few seconds (a new page at once)",
                began.elapsed().as_secs_f64()
            ),
            Err(e) => eprintln!(
                "the ndarray and WebGPU module failed to build ({e:#}); the page keeps running on flex"
            ),
        }
    });
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let (root, full) = (root.to_path_buf(), Arc::clone(&full));
        std::thread::spawn(move || {
            let _ = answer(stream, &root, full.load(Ordering::SeqCst));
        });
    }
    Ok(())
}

/// One request per connection (`Connection: close`), each on its own thread. tiny_http's
/// keep-alive connections, which this replaced, left Chromium's module requests pending for
/// good now and then (the page never finished loading).
fn answer(mut stream: TcpStream, root: &Path, full: u8) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?.take(1 << 16));
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut words = line.split_whitespace();
    let (method, url) = (words.next().unwrap_or(""), words.next().unwrap_or("/").to_string());
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let (status, path, body): (&str, Option<PathBuf>, Vec<u8>) = if method != "GET" && method != "HEAD" {
        ("405 Method Not Allowed", None, b"GET or HEAD".to_vec())
    } else if is_full_module(&url) && full == BUILDING {
        ("503 Service Unavailable", None, b"ndarray and WebGPU are still being built".to_vec())
    } else if is_full_module(&url) && full == FAILED {
        // Not a stale copy: the page then fails to load it and says so if a run asks for it.
        ("404 Not Found", None, b"the ndarray and WebGPU module failed to build: see the terminal".to_vec())
    } else {
        match file_for(root, &url).and_then(|path| std::fs::read(&path).ok().map(|bytes| (path, bytes))) {
            Some((path, bytes)) => ("200 OK", Some(path), bytes),
            None => ("404 Not Found", None, b"not found".to_vec()),
        }
    };
    let mime = path.as_deref().map_or("text/plain; charset=utf-8", content_type);
    let retry = if status.starts_with("503") { "Retry-After: 5\r\n" } else { "" };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {mime}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\n{retry}Connection: close\r\n\r\n",
        body.len()
    )?;
    if method != "HEAD" {
        stream.write_all(&body)?;
    }
    stream.flush()
}

/// Whether a URL names one of the full module's files in www/pkg/.
fn is_full_module(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let file = path.trim_start_matches('/');
    let name = build::FULL.name;
    [
        format!("www/pkg/{name}.js"),
        format!("www/pkg/{name}_bg.wasm"),
        format!("www/pkg/{name}.d.ts"),
        format!("www/pkg/{name}_bg.wasm.d.ts"),
    ]
    .iter()
    .any(|f| f == file)
}

/// The file a URL names under `root`, refusing `..` and absolute paths.
fn file_for(root: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let relative = Path::new(path.trim_start_matches('/'));
    if relative.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let full = root.join(relative);
    Some(if full.is_dir() { full.join("index.html") } else { full })
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_full_modules_files_wait_for_its_build() {
        for url in [
            "/www/pkg/initlab.js",
            "/www/pkg/initlab_bg.wasm?v=2",
            "/www/pkg/initlab.d.ts",
            "www/pkg/initlab_bg.wasm.d.ts",
        ] {
            assert!(is_full_module(url), "{url}");
        }
        for url in [
            "/www/pkg/initlab_flex.js",
            "/www/pkg/initlab_flex_bg.wasm",
            "/",
            "/www/worker.js",
            "/www/pkg/initlab.json",
        ] {
            assert!(!is_full_module(url), "{url}");
        }
    }
}
