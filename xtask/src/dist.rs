//! `cargo xtask dist`: the page for any static host (`dist/`, relative URLs, so it works under
//! any sub-path), and `dist/initlab.html`, one self-contained file that runs when opened by
//! double-click (file://), where Chromium blocks fetch, module scripts and workers from files.
//!
//! The single file inlines every style and script (the page and the worker bundled by esbuild),
//! and the CPU wasm module gzipped and base64-encoded; the worker starts from a Blob URL and
//! gets the module's bytes in its first message. Its Content-Security-Policy allows exactly
//! those inline scripts and styles (by hash), blob: workers and data: images.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::{root, run};

pub fn dist() -> Result<()> {
    let root = root();
    let dist = root.join("dist");
    if dist.exists() {
        fs::remove_dir_all(&dist)?;
    }
    fs::create_dir_all(&dist)?;
    fs::copy(root.join("index.html"), dist.join("index.html"))?;
    copy_site(&root.join("www"), &dist.join("www"))?;
    let single = single_file(&root)?;
    fs::write(dist.join("initlab.html"), &single)?;
    eprintln!(
        "wrote dist/ (the site) and dist/initlab.html ({:.2} MB, self-contained)",
        single.len() as f64 / 1e6
    );
    Ok(())
}

fn single_file(root: &Path) -> Result<String> {
    let read = |path: &str| fs::read_to_string(root.join(path)).with_context(|| format!("read {path}"));
    let app = bundle(root, "www/app.js", "esm")?;
    // A classic worker: Chromium refuses module workers from blob: URLs of a file:// page.
    let worker = bundle(root, "www/worker.js", "iife")?;
    let wasm = fs::read(root.join("www/pkg/initlab_flex_bg.wasm"))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&wasm)?;
    let wasm_b64 = base64::engine::general_purpose::STANDARD.encode(gz.finish()?);
    let favicon = base64::engine::general_purpose::STANDARD.encode(read("www/favicon.svg")?);

    // The boot hook app.js looks for: a Blob-URL module worker and the module's bytes.
    let boot = r#"window.__initlabBoot = (() => {
  const worker = URL.createObjectURL(new Blob([document.getElementById("initlab-worker").textContent], { type: "text/javascript" }));
  const gzipped = Uint8Array.from(atob(document.getElementById("initlab-wasm").textContent.trim()), (c) => c.charCodeAt(0));
  const wasmBytes = new Response(new Blob([gzipped]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer().then((b) => new Uint8Array(b));
  return { makeWorker: () => new Worker(worker), wasmBytes };
})();"#
    .to_string();
    let styles = [read("www/vendor/uPlot.min.css")?, read("www/style.css")?];
    // first.js runs before the chart library (see there), here as on the site.
    let scripts = [read("www/first.js")?, read("www/vendor/uPlot.iife.min.js")?, boot, app];
    let hash = |text: &str| {
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
        )
    };
    let csp = format!(
        "default-src 'none'; script-src {} 'wasm-unsafe-eval' blob:; worker-src blob:; style-src {}; img-src data: blob:; connect-src data: blob:; object-src 'none'; base-uri 'none'; form-action 'none'",
        scripts.iter().map(|s| hash(s)).collect::<Vec<_>>().join(" "),
        styles.iter().map(|s| hash(s)).collect::<Vec<_>>().join(" "),
    );

    let mut html = read("index.html")?;
    let replace = |html: &mut String, from: &str, to: &str| -> Result<()> {
        if !html.contains(from) {
            bail!("index.html no longer contains {from:?}: update xtask/src/dist.rs");
        }
        *html = html.replacen(from, to, 1);
        Ok(())
    };
    let meta_start = html.find("<meta http-equiv=\"Content-Security-Policy\"").context("CSP meta")?;
    let meta_end = meta_start + html[meta_start..].find('>').unwrap() + 1;
    html.replace_range(
        meta_start..meta_end,
        &format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">"),
    );
    replace(
        &mut html,
        r#"<link rel="icon" href="www/favicon.svg" type="image/svg+xml">"#,
        &format!(r#"<link rel="icon" href="data:image/svg+xml;base64,{favicon}">"#),
    )?;
    replace(
        &mut html,
        r#"<link rel="stylesheet" href="www/vendor/uPlot.min.css">"#,
        &format!("<style>{}</style>", styles[0]),
    )?;
    replace(
        &mut html,
        r#"<link rel="stylesheet" href="www/style.css">"#,
        &format!("<style>{}</style>", styles[1]),
    )?;
    replace(
        &mut html,
        r#"<script src="www/first.js"></script>"#,
        &format!("<script>{}</script>", scripts[0]),
    )?;
    replace(&mut html, "  <script src=\"www/boot.js\"></script>\n", "")?;
    replace(
        &mut html,
        r#"<script src="www/vendor/uPlot.iife.min.js" defer></script>"#,
        &format!("<script>{}</script>", scripts[1]),
    )?;
    replace(
        &mut html,
        r#"<script type="module" src="www/app.js"></script>"#,
        &format!(
            "<script type=\"text/plain\" id=\"initlab-worker\">{}</script>\n<script type=\"application/octet-stream\" id=\"initlab-wasm\">{wasm_b64}</script>\n<script>{}</script>\n<script type=\"module\">{}</script>",
            worker.replace("</script", "<\\/script"),
            scripts[2],
            scripts[3].replace("</script", "<\\/script"),
        ),
    )?;
    Ok(html)
}

/// One script with every import inlined (esbuild from node_modules, pinned in package-lock).
/// The wasm-bindgen glue's `import.meta.url` only locates the module when no bytes are given,
/// which never happens here, so esbuild's warning about it in iife output is silenced.
fn bundle(root: &Path, entry: &str, format: &str) -> Result<String> {
    let out = root.join("target/dist-bundle").join(Path::new(entry).file_name().unwrap());
    run(Command::new(root.join("node_modules/.bin/esbuild")).args([
        entry,
        "--bundle",
        &format!("--format={format}"),
        "--log-override:empty-import-meta=silent",
        "--target=es2022",
        "--minify",
        "--log-level=warning",
        &format!("--outfile={}", out.display()),
    ]))?;
    Ok(fs::read_to_string(out)?)
}

/// Copies the page's files: everything under www/ but TypeScript declarations.
fn copy_site(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let path = entry?.path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_site(&path, &target)?;
        } else if !path.to_string_lossy().ends_with(".d.ts") {
            fs::copy(&path, &target).with_context(|| format!("copy {}", path.display()))?;
        }
    }
    Ok(())
}
