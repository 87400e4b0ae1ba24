//! The bundle benchmark: the size of the built dashboard (`dist/`), raw and gzipped, by kind
//! (wasm, JS, CSS, other), and what each page downloads. Gzip at level 9, as a server
//! precompressing its files would; the collector's on-the-fly compression (tower-http) uses a
//! lower level, so what a browser downloads from `skein serve` is a little larger.
//!
//! The wasm is split (scripts/build-wasm.sh): a main module (the runtime and the app shell),
//! one module per page, and chunks shared by some pages. Opening a page downloads the main
//! module, the page's module and the chunks it needs, as `__wasm_split.js` (the loader that
//! wasm-split-cli writes) lists them.

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

/// The wasm one page downloads: the main module, its own module and the chunks it needs.
#[derive(Debug, Clone, Serialize)]
pub struct PageWasm {
    /// The split module's name (`trace_page`, `metrics_page`, …: the routes in src/app.rs).
    pub page: String,
    pub files: Vec<String>,
    pub raw_bytes: u64,
    pub gzip_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BundleReport {
    pub machine: Machine,
    pub files: Vec<BundleFile>,
    /// Per page, largest first; empty for a dashboard built without splitting.
    pub pages: Vec<PageWasm>,
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
    let pages = page_wasm(dist, &files)?;
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
        pages,
    })
}

/// What each page of a split build downloads, from the loader next to the main module.
fn page_wasm(dist: &Path, files: &[BundleFile]) -> std::io::Result<Vec<PageWasm>> {
    let Some(loader) = files.iter().find(|f| f.name.ends_with("__wasm_split.js")) else {
        return Ok(Vec::new());
    };
    let dir = loader.name.trim_end_matches("__wasm_split.js");
    let modules = split_modules(&std::fs::read_to_string(dist.join(&loader.name))?);
    let file = |name: &str| files.iter().find(|f| f.name == format!("{dir}{name}"));
    let main = file("skein-dashboard_bg.wasm");
    // A split module's file and, transitively, the chunks it waits for.
    let needed = |page: &str| {
        let mut needed = Vec::new();
        let mut pending = vec![format!("__wasm_split_load_{page}")];
        while let Some(name) = pending.pop() {
            if let Some((_, module)) = modules.iter().find(|(n, _)| *n == name) {
                if !needed.contains(&module.file) {
                    needed.push(module.file.clone());
                    pending.extend(module.deps.iter().cloned());
                }
            }
        }
        needed
    };
    let downloads: Vec<(String, Vec<String>)> = modules
        .iter()
        .filter_map(|(name, _)| name.strip_prefix("__wasm_split_load_"))
        .map(|page| (page.to_string(), needed(page)))
        .collect();
    let mut pages = Vec::new();
    for (page, needed) in downloads {
        let measured: Vec<&BundleFile> = main
            .into_iter()
            .chain(needed.iter().filter_map(|f| file(f)))
            .collect();
        pages.push(PageWasm {
            page,
            files: measured.iter().map(|f| f.name.clone()).collect(),
            raw_bytes: measured.iter().map(|f| f.raw_bytes).sum(),
            gzip_bytes: measured.iter().map(|f| f.gzip_bytes).sum(),
        });
    }
    pages.sort_by(|a, b| b.gzip_bytes.cmp(&a.gzip_bytes).then(a.page.cmp(&b.page)));
    Ok(pages)
}

#[derive(Debug, Default)]
struct SplitModule {
    file: String,
    deps: Vec<String>,
}

/// The loader's modules: `const __chunk_3 = makeLoad(…new URL("./chunk_3.wasm"…, [deps])` and
/// `export const __wasm_split_load_<page> = wrapAsyncCb(makeLoad(…, [deps]))`, one per block.
fn split_modules(loader: &str) -> Vec<(String, SplitModule)> {
    let mut modules = Vec::new();
    let mut current: Option<(String, SplitModule)> = None;
    for line in loader.lines() {
        let declared = line
            .strip_prefix("export const ")
            .or_else(|| line.strip_prefix("const "))
            .and_then(|rest| rest.split_once(" = "))
            .filter(|(_, value)| value.contains("makeLoad("));
        if let Some((name, _)) = declared {
            current = Some((name.to_string(), SplitModule::default()));
        } else if let Some((_, module)) = current.as_mut() {
            if let Some(url) = line.split("new URL(\"./").nth(1) {
                module.file = url.split('"').next().unwrap_or_default().to_string();
            } else if let Some(list) = line.strip_prefix(", [") {
                module.deps = list
                    .split(']')
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(|d| d.trim().to_string())
                    .filter(|d| !d.is_empty())
                    .collect();
                modules.extend(current.take());
            }
        }
    }
    modules
}

/// The most wasm a page may download, gzipped (issue 16): the first load on a slow link.
pub const PAGE_BUDGET_BYTES: u64 = 400 * 1024;

/// The pages (and the parts loaded after one) whose first load is over `PAGE_BUDGET_BYTES`.
pub fn over_budget(report: &BundleReport) -> Vec<&PageWasm> {
    report
        .pages
        .iter()
        .filter(|p| p.gzip_bytes > PAGE_BUDGET_BYTES)
        .collect()
}

/// KiB with one decimal.
pub fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOADER: &str = r#"import { initSync } from "./skein-dashboard.js";
const __chunk_1 = makeLoad(() => {
    const src = fetch(new URL("./chunk_1.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []);
const __chunk_2 = makeLoad(() => {
    const src = fetch(new URL("./chunk_2.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_1]);
export const __wasm_split_load_trace_page = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_trace_page.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_2]));
export const __wasm_split_load_metrics_page = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_metrics_page.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []));
export const __wasm_split_load_journeys = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_journeys.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_1]));
"#;

    #[test]
    fn a_page_downloads_the_main_module_its_own_and_the_chunks_it_needs() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("pkg-1");
        std::fs::create_dir(&pkg).unwrap();
        std::fs::write(pkg.join("__wasm_split.js"), LOADER).unwrap();
        for (name, len) in [
            ("skein-dashboard_bg.wasm", 1000),
            ("chunk_1.wasm", 100),
            ("chunk_2.wasm", 20),
            ("split_trace_page.wasm", 300),
            ("split_metrics_page.wasm", 50),
            ("split_journeys.wasm", 5),
        ] {
            std::fs::write(pkg.join(name), vec![7u8; len]).unwrap();
        }
        let report = measure(dir.path()).unwrap();
        let pages: Vec<(&str, u64, usize)> = report
            .pages
            .iter()
            .map(|p| (p.page.as_str(), p.raw_bytes, p.files.len()))
            .collect();
        assert_eq!(
            pages,
            [
                ("trace_page", 1420, 4),
                ("journeys", 1105, 3),
                ("metrics_page", 1050, 2),
            ],
            "{:?}",
            report.pages
        );
    }

    #[test]
    fn a_page_over_the_budget_is_named_and_one_at_it_is_not() {
        let page = |page: &str, gzip_bytes| PageWasm {
            page: page.to_string(),
            files: Vec::new(),
            raw_bytes: gzip_bytes * 3,
            gzip_bytes,
        };
        let report = BundleReport {
            machine: Machine::now(),
            files: Vec::new(),
            pages: vec![
                page("queues_page", PAGE_BUDGET_BYTES + 1),
                page("metrics_page", PAGE_BUDGET_BYTES),
                page("traces_page", 300 * 1024),
            ],
            wasm_raw_bytes: 0,
            wasm_gzip_bytes: 0,
            js_raw_bytes: 0,
            js_gzip_bytes: 0,
            total_raw_bytes: 0,
            total_gzip_bytes: 0,
        };
        let over: Vec<&str> = over_budget(&report)
            .iter()
            .map(|p| p.page.as_str())
            .collect();
        assert_eq!(over, ["queues_page"]);
    }
}
