//! The bundle benchmark: the size of the built dashboard (`dist/`), raw and gzipped, by kind
//! (wasm, JS, CSS, other). Gzip at level 9, as a server precompressing its files would; the
//! collector's on-the-fly compression (tower-http) uses a lower level, so what a browser
//! downloads from `skein serve` is a little larger.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::machine::Machine;

#[derive(Debug, Clone, Serialize)]
pub struct BundleFile {
    pub name: String,
    pub kind: String,
    pub raw_bytes: u64,
    pub gzip_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BundleReport {
    pub machine: Machine,
    pub files: Vec<BundleFile>,
    pub wasm_raw_bytes: u64,
    pub wasm_gzip_bytes: u64,
    pub js_raw_bytes: u64,
    pub js_gzip_bytes: u64,
    pub total_raw_bytes: u64,
    pub total_gzip_bytes: u64,
}

fn kind(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "wasm" => "wasm",
        "js" | "mjs" => "js",
        "css" => "css",
        "html" => "html",
        _ => "other",
    }
}

fn gzip_len(bytes: &[u8]) -> std::io::Result<u64> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len() as u64)
}

/// Measures every file under `dist` (recursively).
pub fn measure(dist: &Path) -> std::io::Result<BundleReport> {
    let mut files = Vec::new();
    let mut pending = vec![dist.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let bytes = std::fs::read(&path)?;
            let name = path
                .strip_prefix(dist)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            files.push(BundleFile {
                kind: kind(&name).to_string(),
                raw_bytes: bytes.len() as u64,
                gzip_bytes: gzip_len(&bytes)?,
                name,
            });
        }
    }
    files.sort_by(|a, b| b.gzip_bytes.cmp(&a.gzip_bytes).then(a.name.cmp(&b.name)));
    let sum = |kind: Option<&str>, gz: bool| {
        files
            .iter()
            .filter(|f| kind.is_none_or(|k| f.kind == k))
            .map(|f| if gz { f.gzip_bytes } else { f.raw_bytes })
            .sum()
    };
    Ok(BundleReport {
        machine: Machine::now(),
        wasm_raw_bytes: sum(Some("wasm"), false),
        wasm_gzip_bytes: sum(Some("wasm"), true),
        js_raw_bytes: sum(Some("js"), false),
        js_gzip_bytes: sum(Some("js"), true),
        total_raw_bytes: sum(None, false),
        total_gzip_bytes: sum(None, true),
        files,
    })
}

/// KiB with one decimal.
pub fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}
