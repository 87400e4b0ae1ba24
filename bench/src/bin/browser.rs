//! `browser`: the dashboard in headless Chromium. Starts a fresh `skein` serving `dist/`,
//! loads traces of 1k, 10k, 100k and 1M spans and measures the trace page on each (the app's
//! Performance marks, memory, DOM rows, frame times while scrolling), then `/traces` and
//! `/metrics` over 1M seed-shaped spans loaded first.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use skein_bench::browser::{default_dist, run, BrowserConfig};
use skein_bench::collector::Collector;
use skein_bench::report;

#[derive(Parser)]
#[command(about = "Skein browser benchmark: the trace page at 1k to 1M spans in headless Chromium")]
struct Args {
    /// The collector binary to start (it serves the dashboard from --dist).
    #[arg(long)]
    collector_bin: PathBuf,
    /// The built dashboard (scripts/build-dashboard.sh).
    #[arg(long)]
    dist: Option<PathBuf>,
    /// Seed-shaped spans loaded first, for `/traces` and `/metrics` (0: none).
    #[arg(long, default_value_t = 1_000_000)]
    seed_spans: usize,
    /// Trace sizes, in spans.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000, 10_000, 100_000, 1_000_000])]
    sizes: Vec<usize>,
    /// Navigations per trace; the figures quoted are the medians.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Animation frames of the top-to-bottom scroll (0: no scrolling).
    #[arg(long, default_value_t = 300)]
    scroll_frames: usize,
    /// Do not write bench/results/browser.json nor the README rows.
    #[arg(long)]
    no_record: bool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let dist = args.dist.unwrap_or_else(default_dist);
    if !dist.join("index.html").exists() {
        return Err(format!(
            "{} has no index.html: build the dashboard first (bash scripts/build-dashboard.sh)",
            dist.display()
        )
        .into());
    }
    let dist_arg = dist.display().to_string();
    let collector = Collector::start_with(&args.collector_bin, &["--dist", &dist_arg])?;
    let config = BrowserConfig {
        app_url: collector.api.clone(),
        otlp_url: collector.otlp.clone(),
        seed_spans: args.seed_spans,
        sizes: args.sizes.clone(),
        runs: args.runs,
        scroll_frames: args.scroll_frames,
        timeout: Duration::from_secs(180),
    };
    let report = run(&config).await?;
    let load_after = skein_bench::machine::Machine::now().load_1m;
    println!(
        "browser ({}; {} cores, load {:.2} before, {load_after:.2} after):",
        report.chromium, report.machine.cores, report.machine.load_1m
    );
    for t in &report.traces {
        println!(
            "  {} spans: warm cache: first rows {:.0} ms, painted {:.0} ms after navigation; cold: first rows {:.0} ms, painted {:.0} ms (fetch {:.0}, build {:.0}), JS heap {:.0} MiB, wasm memory {:.0} MiB, at most {} row elements, scroll frames p95 {:.1} ms (max {:.1})",
            t.spans,
            t.median_navigation_to_first_rows_ms,
            t.median_navigation_to_painted_ms,
            t.median_cold_first_rows_ms,
            t.median_cold_painted_ms,
            t.median_fetch_ms,
            t.median_build_ms,
            t.median_js_heap_mib,
            t.median_wasm_memory_mib,
            t.max_row_elements,
            t.median_scroll_p95_ms,
            t.median_scroll_max_ms
        );
    }
    for p in &report.pages {
        println!(
            "  {}: {}",
            p.path,
            p.median_ms.map_or_else(
                || p.note.clone().unwrap_or_default(),
                |ms| format!("{ms:.0} ms to the {}", p.ready_when)
            )
        );
    }
    if !args.no_record {
        let summary = serde_json::json!({
            "benchmark": "browser",
            "load_1m_after": load_after,
            "report": report,
        });
        let path = report::write_json("browser", &summary)?;
        let machine = format!(
            "{} cores, load {:.1}–{load_after:.1}",
            report.machine.cores, report.machine.load_1m
        );
        let mut updated = 0;
        for t in &report.traces {
            let key = format!("browser: {} spans", thousands(t.spans));
            let target = match t.spans {
                100_000 => "painted ≤ 300 ms warm, ≤ 1 s cold; frames ≤ 16 ms; rows bounded",
                1_000_000 => {
                    "first rows ≤ 1 s, painted ≤ 2 s; wasm ≤ 160 MiB; frames ≤ 16 ms; rows bounded; skeleton ≤ 1 s p50"
                }
                _ => "frames ≤ 16 ms; rows bounded",
            };
            let row = format!(
                "| {key} | `/traces/{{id}}`, median of {} navigations each with a cold and a warm cache | warm: first rows {:.0} ms, painted {:.0} ms after navigation (fetch {:.0}, build {:.0}), critical path drawn at {:.0} ms; cold: first rows {:.0} ms, painted {:.0} ms; JS heap {:.0} MiB, wasm {:.0} MiB; ≤ {} row elements; scrolling: frame p95 {:.1} ms, max {:.1} ms; the skeleton alone over HTTP (gzip, {} calls): first byte {:.0} ms, whole {:.0} ms p50 ({:.0} p95) | {target} | {machine} |",
                t.runs.len() / 2,
                t.median_navigation_to_first_rows_ms,
                t.median_navigation_to_painted_ms,
                t.median_fetch_ms,
                t.median_build_ms,
                t.median_navigation_to_critical_ms,
                t.median_cold_first_rows_ms,
                t.median_cold_painted_ms,
                t.median_js_heap_mib,
                t.median_wasm_memory_mib,
                t.max_row_elements,
                t.median_scroll_p95_ms,
                t.median_scroll_max_ms,
                t.skeleton_http.calls,
                t.skeleton_http.first_byte_p50_ms,
                t.skeleton_http.whole_p50_ms,
                t.skeleton_http.whole_p95_ms,
            );
            if report::update_readme_row(&key, &row)? {
                updated += 1;
            }
        }
        for p in &report.pages {
            let page = p.path.split('?').next().unwrap_or(&p.path);
            let key = format!("browser: {page}");
            let figure = p.median_ms.map_or_else(
                || p.note.clone().unwrap_or_default(),
                |ms| format!("{ms:.0} ms from navigation to the {}", p.ready_when),
            );
            let row = format!(
                "| {key} | `{}`, {} spans stored, median of {} navigations | {figure} | — | {machine} |",
                p.path,
                report.seed_spans + report.traces.iter().map(|t| t.spans).sum::<usize>(),
                p.runs_ms.len()
            );
            if report::update_readme_row(&key, &row)? {
                updated += 1;
            }
        }
        eprintln!(
            "wrote {} and {updated} rows of bench/README.md",
            path.display()
        );
    }
    Ok(())
}

fn thousands(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}
