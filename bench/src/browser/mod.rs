//! The browser benchmark: headless Chromium (through chromedriver) opens the dashboard's
//! trace page for generated traces of increasing size and reads the app's own Performance
//! marks (`skein:trace-requested` … `skein:trace-painted`, see src/pages/trace.rs): time from
//! navigation to the painted waterfall, the fetch and tree-build measures, JS heap and wasm
//! memory, the number of row elements in the DOM; then scrolls the rows from top to bottom
//! one animation frame at a time and records the frame times (Chromium runs without vsync and
//! without a frame-rate cap, so the interval between frames is the time one takes to make,
//! not the 16.7 ms of a 60 Hz display). Also the time to the first
//! rows of `/traces` and to the charts of `/metrics` (`skein:metrics-painted`, src/pages/
//! metrics.rs), over seed-shaped data loaded first.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};
use thirtyfour::extensions::cdp::ChromeDevTools;
use thirtyfour::prelude::*;

use crate::collector::{median, quantile};
use crate::machine::Machine;
use crate::queries::big_trace;

mod chromium;
mod trace_page;

pub use chromium::Browser;
use chromium::{js, wait_for};
pub use trace_page::SLOW_FRAME_MS;
use trace_page::{open_trace, FIRST_ROWS_WATCH};
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

#[derive(Debug, Clone)]
pub struct BrowserConfig {
    /// The collector serving the dashboard (`--dist`) and its API.
    pub app_url: String,
    pub otlp_url: String,
    /// Seed-shaped spans loaded first (the ingest benchmark's generator), so that `/traces`
    /// and `/metrics` are measured over a realistic amount of data (0: none).
    pub seed_spans: usize,
    /// Span counts of the traces to open.
    pub sizes: Vec<usize>,
    /// Navigations per trace (medians are quoted).
    pub runs: usize,
    /// Animation frames the top-to-bottom scroll takes.
    pub scroll_frames: usize,
    /// How long to wait for one page.
    pub timeout: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScrollStats {
    pub frames: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// Frames that took more than `SLOW_FRAME_MS` (20.9 ms: clearly longer, by a quarter, than
    /// the 16.7 ms a 60 Hz display gives one).
    pub over_20_9_ms: usize,
    pub long_tasks: u64,
    pub max_row_elements: u64,
    pub reached_end: bool,
}

/// Whether a navigation found the dashboard's files in the browser's cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cache {
    /// The cache emptied first: a shared link opened for the first time (the wasm downloaded
    /// and compiled again).
    Cold,
    /// Right after another visit of the same page.
    Warm,
}

/// One navigation to a trace.
#[derive(Debug, Clone, Serialize)]
pub struct TraceRun {
    pub cache: Cache,
    /// Navigation to the first frame showing a `.span-row` (the top of the trace).
    pub navigation_to_first_rows_ms: Option<f64>,
    /// Navigation to `skein:trace-painted`: the whole trace loaded, its rows scrollable.
    pub navigation_to_painted_ms: f64,
    /// Navigation to `skein:trace-critical`: the critical path, computed after the paint,
    /// drawn (none from a dashboard that draws it with the rows).
    pub navigation_to_critical_ms: Option<f64>,
    pub fetch_ms: Option<f64>,
    pub build_ms: Option<f64>,
    pub requested_to_painted_ms: Option<f64>,
    pub js_heap_mib: Option<f64>,
    pub wasm_memory_mib: Option<f64>,
    pub row_elements: u64,
    pub rows_shown: String,
    pub scroll: Option<ScrollStats>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TraceResult {
    pub spans: usize,
    pub trace_id: String,
    /// Warm cache, as every figure below unless named cold.
    pub median_navigation_to_first_rows_ms: f64,
    pub median_navigation_to_painted_ms: f64,
    pub median_cold_first_rows_ms: f64,
    pub median_cold_painted_ms: f64,
    /// The critical path drawn (NaN for a dashboard that draws it with the rows).
    pub median_navigation_to_critical_ms: f64,
    pub median_fetch_ms: f64,
    pub median_build_ms: f64,
    pub median_js_heap_mib: f64,
    pub median_wasm_memory_mib: f64,
    pub max_row_elements: u64,
    /// Medians over the runs of each run's p95 and max frame time while scrolling.
    pub median_scroll_p95_ms: f64,
    pub median_scroll_max_ms: f64,
    /// The skeleton's whole read over HTTP, as the page asks for it, without the browser.
    pub skeleton_http: SkeletonHttp,
    pub runs: Vec<TraceRun>,
}

/// `GET /api/v1/traces/{id}?format=binary` with `Accept-Encoding: gzip` (what the trace page
/// asks), timed from the request to its first and to its last byte (the collector's read,
/// ordering, encoding and compression, and the transfer; no decoding).
#[derive(Debug, Clone, Serialize)]
pub struct SkeletonHttp {
    pub calls: usize,
    pub first_byte_p50_ms: f64,
    pub whole_p50_ms: f64,
    pub whole_p95_ms: f64,
    pub bytes: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageResult {
    pub path: String,
    /// What "loaded" means: a selector's first match, or a Performance mark of the app.
    pub ready_when: String,
    /// Navigation to that moment (ms), per run; empty if it never came.
    pub runs_ms: Vec<f64>,
    pub median_ms: Option<f64>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BrowserReport {
    pub machine: Machine,
    pub chromium: String,
    /// Spans stored besides the measured traces.
    pub seed_spans: usize,
    pub traces: Vec<TraceResult>,
    pub pages: Vec<PageResult>,
}

#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("{0}")]
    Setup(String),
    #[error("webdriver: {0}")]
    WebDriver(#[from] WebDriverError),
    #[error("request to {url} failed: {why}")]
    Http { url: String, why: String },
    #[error("{0}")]
    Timeout(String),
    #[error(transparent)]
    Ingest(#[from] crate::ingest::IngestError),
}

/// Sends a trace of `spans` spans (project `default`, the dashboard's) and returns its id.
pub async fn load_trace(otlp_url: &str, spans: usize) -> Result<String, BrowserError> {
    let (trace_id, requests) = big_trace(spans, 10_000);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .map_err(|e| BrowserError::Setup(e.to_string()))?;
    for body in requests {
        let response = http
            .post(otlp_url)
            .header("content-type", "application/x-protobuf")
            .body(body)
            .send()
            .await
            .map_err(|e| BrowserError::Http {
                url: otlp_url.into(),
                why: e.to_string(),
            })?;
        if !response.status().is_success() {
            return Err(BrowserError::Http {
                url: otlp_url.into(),
                why: format!("status {}", response.status()),
            });
        }
    }
    Ok(trace_id)
}

/// When a page counts as loaded.
#[derive(Debug, Clone, Copy)]
enum Ready {
    /// The first element matching a CSS selector is in the DOM.
    Selector(&'static str),
    /// The app has set a Performance mark (after the frame that shows the content).
    Mark(&'static str),
}

impl Ready {
    fn describe(self) -> String {
        match self {
            Ready::Selector(s) => format!("first `{s}`"),
            Ready::Mark(m) => format!("mark `{m}`"),
        }
    }

    /// A script returning the time since navigation once ready, else null.
    fn script(self) -> String {
        match self {
            Ready::Selector(s) => format!(
                "return document.querySelector({}) ? performance.now() : null",
                serde_json::to_string(s).unwrap_or_default()
            ),
            Ready::Mark(m) => format!(
                "const e = performance.getEntriesByName({}); return e.length ? e[0].startTime : null",
                serde_json::to_string(m).unwrap_or_default()
            ),
        }
    }
}

/// Time from navigation to the page being `ready` (ms), or None.
async fn page_ready(
    browser: &Browser,
    url: &str,
    ready: Ready,
    timeout: Duration,
) -> Result<Option<f64>, BrowserError> {
    let driver = &browser.driver;
    driver.goto("about:blank").await?;
    driver.goto(url).await?;
    match wait_for(driver, &ready.script(), timeout, &ready.describe()).await {
        Ok(v) => Ok(v.as_f64()),
        Err(BrowserError::Timeout(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Waits until the collector has indexed what was just loaded (`GET /api/v1/health`'s
/// `search_index.waiting` is 0). A burst is indexed after it is stored, tens of CPU seconds per
/// million spans (bench/README, "Full-text search"): measured meanwhile, the pages would share
/// the machine's two cores with that catch-up, which a browser on another machine never does.
async fn settle(app_url: &str, timeout: Duration) -> Result<(), BrowserError> {
    let url = format!("{app_url}/api/v1/health");
    let started = Instant::now();
    let mut first = None;
    loop {
        let failed = |why: String| BrowserError::Http {
            url: url.clone(),
            why,
        };
        let body = reqwest::get(&url)
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| failed(e.to_string()))?
            .text()
            .await
            .map_err(|e| failed(e.to_string()))?;
        let health: Value = serde_json::from_str(&body).map_err(|e| failed(e.to_string()))?;
        let waiting = health["search_index"]["waiting"].as_u64().unwrap_or(0);
        first.get_or_insert(waiting);
        if waiting == 0 {
            eprintln!(
                "  the search index caught up {:.1} s after loading ({} spans were waiting)",
                started.elapsed().as_secs_f64(),
                first.unwrap_or(0)
            );
            return Ok(());
        }
        if started.elapsed() > timeout {
            return Err(BrowserError::Timeout(format!(
                "{waiting} spans still waiting for the search index after {timeout:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Loads the traces and measures them; `/traces` and `/metrics` too.
pub async fn run(config: &BrowserConfig) -> Result<BrowserReport, BrowserError> {
    let machine = Machine::now();
    if config.seed_spans > 0 {
        eprintln!("  loading {} seed-shaped spans", config.seed_spans);
        crate::ingest::run(&crate::ingest::IngestConfig {
            otlp_url: config.otlp_url.clone(),
            api_url: None,
            spans: config.seed_spans,
            connections: 4,
            traces_per_request: 100,
            collector_pid: None,
            project: skein_model::DEFAULT_PROJECT.into(),
        })
        .await?;
    }
    let mut ids = Vec::new();
    for &spans in &config.sizes {
        eprintln!("  loading a {spans}-span trace");
        ids.push((spans, load_trace(&config.otlp_url, spans).await?));
    }
    settle(
        &config.app_url,
        config.timeout.max(Duration::from_secs(900)),
    )
    .await?;
    let browser = Browser::start().await?;
    // Keep the wasm instance's exports, for its memory size.
    ChromeDevTools::new(browser.driver.handle.clone())
        .execute_cdp_with_params(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": "addEventListener('TrunkApplicationStarted', e => { window.__skeinWasm = e.detail && e.detail.wasm; });"}),
        )
        .await?;
    ChromeDevTools::new(browser.driver.handle.clone())
        .execute_cdp_with_params(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": FIRST_ROWS_WATCH }),
        )
        .await?;
    let chromium = browser
        .driver
        .execute("return navigator.userAgent", vec![])
        .await?
        .json()
        .as_str()
        .unwrap_or("")
        .to_string();
    let result = measure(&browser, config, &ids).await;
    browser.quit().await;
    let (traces, pages) = result?;
    Ok(BrowserReport {
        machine,
        chromium,
        seed_spans: config.seed_spans,
        traces,
        pages,
    })
}

async fn measure(
    browser: &Browser,
    config: &BrowserConfig,
    ids: &[(usize, String)],
) -> Result<(Vec<TraceResult>, Vec<PageResult>), BrowserError> {
    let mut traces = Vec::new();
    for (spans, id) in ids {
        let skeleton_http = skeleton_over_http(config, id).await?;
        eprintln!(
            "  {spans} spans, the skeleton over HTTP ({} calls, {} bytes gzipped): first byte p50 {:.0} ms, whole p50 {:.0} ms, p95 {:.0} ms",
            skeleton_http.calls,
            skeleton_http.bytes,
            skeleton_http.first_byte_p50_ms,
            skeleton_http.whole_p50_ms,
            skeleton_http.whole_p95_ms
        );
        let mut runs = Vec::new();
        // Each run: the page opened with an empty cache, then again with the cache it filled.
        for (i, cache) in (0..config.runs.max(1)).flat_map(|i| [(i, Cache::Cold), (i, Cache::Warm)])
        {
            let run = open_trace(browser, config, id, cache).await?;
            eprintln!(
                "  {spans} spans, run {} ({cache:?}): first rows {:.0} ms, painted {:.0} ms, critical path {:.0} ms after navigation (fetch {:.0}, build {:.0}), wasm {:.0} MiB, {} row elements{}",
                i + 1,
                run.navigation_to_first_rows_ms.unwrap_or(f64::NAN),
                run.navigation_to_painted_ms,
                run.navigation_to_critical_ms.unwrap_or(f64::NAN),
                run.fetch_ms.unwrap_or(f64::NAN),
                run.build_ms.unwrap_or(f64::NAN),
                run.wasm_memory_mib.unwrap_or(f64::NAN),
                run.row_elements,
                run.scroll.as_ref().map_or(String::new(), |s| format!(
                    ", scroll frames p50 {:.1} / p95 {:.1} / max {:.1} ms",
                    s.p50_ms, s.p95_ms, s.max_ms
                ))
            );
            runs.push(run);
        }
        let of = |cache: Cache, f: &dyn Fn(&TraceRun) -> Option<f64>| {
            median(
                runs.iter()
                    .filter(|r| r.cache == cache)
                    .filter_map(f)
                    .collect(),
            )
        };
        let med = |f: &dyn Fn(&TraceRun) -> Option<f64>| of(Cache::Warm, f);
        traces.push(TraceResult {
            spans: *spans,
            trace_id: id.clone(),
            median_navigation_to_first_rows_ms: med(&|r| r.navigation_to_first_rows_ms),
            median_navigation_to_painted_ms: med(&|r| Some(r.navigation_to_painted_ms)),
            median_cold_first_rows_ms: of(Cache::Cold, &|r| r.navigation_to_first_rows_ms),
            median_cold_painted_ms: of(Cache::Cold, &|r| Some(r.navigation_to_painted_ms)),
            median_navigation_to_critical_ms: med(&|r| r.navigation_to_critical_ms),
            median_fetch_ms: med(&|r| r.fetch_ms),
            median_build_ms: med(&|r| r.build_ms),
            median_js_heap_mib: med(&|r| r.js_heap_mib),
            median_wasm_memory_mib: med(&|r| r.wasm_memory_mib),
            max_row_elements: runs
                .iter()
                .map(|r| {
                    r.row_elements
                        .max(r.scroll.as_ref().map_or(0, |s| s.max_row_elements))
                })
                .max()
                .unwrap_or(0),
            median_scroll_p95_ms: med(&|r| r.scroll.as_ref().map(|s| s.p95_ms)),
            median_scroll_max_ms: med(&|r| r.scroll.as_ref().map(|s| s.max_ms)),
            skeleton_http,
            runs,
        });
    }
    let mut pages = Vec::new();
    for (path, ready) in [
        // The first row of data: the loading placeholders (`.skeleton-row`) are drawn before any
        // request has left, so they would time only the app's start.
        (
            "/traces",
            Ready::Selector(".traces-table tbody tr:not(.skeleton-row)"),
        ),
        (
            "/metrics?metric=latency_p95&group_by=ab_test_variant",
            Ready::Mark("skein:metrics-painted"),
        ),
    ] {
        let mut runs_ms = Vec::new();
        for _ in 0..config.runs.max(1) {
            if let Some(ms) = page_ready(
                browser,
                &format!("{}{path}", config.app_url),
                ready,
                Duration::from_secs(30),
            )
            .await?
            {
                runs_ms.push(ms);
            }
        }
        eprintln!("  {path}: {runs_ms:?} ms to the {}", ready.describe());
        pages.push(PageResult {
            path: path.to_string(),
            ready_when: ready.describe(),
            median_ms: (!runs_ms.is_empty()).then(|| median(runs_ms.clone())),
            note: runs_ms
                .is_empty()
                .then(|| format!("the {} never came", ready.describe())),
            runs_ms,
        });
    }
    Ok((traces, pages))
}

/// Reads a trace's binary skeleton whole, one call at a time: one untimed, then
/// `SKELETON_CALLS`.
async fn skeleton_over_http(
    config: &BrowserConfig,
    trace_id: &str,
) -> Result<SkeletonHttp, BrowserError> {
    let url = format!("{}/api/v1/traces/{trace_id}?format=binary", config.app_url);
    let failed = |why: String| BrowserError::Http {
        url: url.clone(),
        why,
    };
    let http = reqwest::Client::builder()
        .timeout(config.timeout)
        .build()
        .map_err(|e| BrowserError::Setup(e.to_string()))?;
    let (mut first_bytes, mut wholes, mut bytes) = (Vec::new(), Vec::new(), 0);
    for call in 0..=SKELETON_CALLS {
        let started = Instant::now();
        let mut response = http
            .get(&url)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("status {}", response.status())));
        }
        let (mut first, mut read) = (None, 0);
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
            first.get_or_insert_with(|| started.elapsed());
            read += chunk.len();
        }
        let whole = started.elapsed();
        if call > 0 {
            first_bytes.push(first.unwrap_or(whole).as_secs_f64() * 1e3);
            wholes.push(whole.as_secs_f64() * 1e3);
            bytes = read;
        }
    }
    Ok(SkeletonHttp {
        calls: wholes.len(),
        first_byte_p50_ms: median(first_bytes),
        whole_p50_ms: median(wholes.clone()),
        whole_p95_ms: quantile(wholes, 0.95),
        bytes,
    })
}

/// Timed reads of each trace's skeleton over HTTP.
const SKELETON_CALLS: usize = 10;

/// The built dashboard: `SKEIN_TEST_DIST` if set (as for the dashboard's browser tests),
/// else this checkout's `dist/`.
pub fn default_dist() -> PathBuf {
    if let Some(dist) = std::env::var_os("SKEIN_TEST_DIST") {
        return PathBuf::from(dist);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|root| root.join("dist"))
        .unwrap_or_else(|| PathBuf::from("dist"))
}
