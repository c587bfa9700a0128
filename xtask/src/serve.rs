//! A static file server for the repository root, for `cargo xtask serve`.

use std::path::{Component, Path, PathBuf};

use anyhow::{Result, anyhow};
use tiny_http::{Header, Response, Server};

pub fn serve(root: &Path, port: u16) -> Result<()> {
    let server =
        Server::http(("127.0.0.1", port)).map_err(|e| anyhow!("cannot listen on port {port}: {e}"))?;
    println!("Init Lab: http://127.0.0.1:{port}/");
    for request in server.incoming_requests() {
        let response = match file_for(root, request.url()) {
            Some(path) => match std::fs::read(&path) {
                Ok(bytes) => Response::from_data(bytes).with_header(content_type(&path)),
                Err(_) => Response::from_string("not found").with_status_code(404),
            },
            None => Response::from_string("not found").with_status_code(404),
        };
        let _ = request.respond(response);
    }
    Ok(())
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

fn content_type(path: &Path) -> Header {
    let mime = match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => "application/octet-stream",
    };
    Header::from_bytes("Content-Type", mime).expect("a valid header")
}
