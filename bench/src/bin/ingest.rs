//! `ingest`: the ingest benchmark's command line. Either starts a fresh `skein` for each run
//! (`--collector-bin`) or sends to any OTLP/HTTP endpoint (`--otlp-url`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use skein_bench::collector::{dir_bytes, median, Collector};
use skein_bench::ingest::{run, IngestConfig, IngestReport};
use skein_bench::machine::process_usage;
use skein_bench::report;

#[derive(Parser)]
#[command(about = "Skein ingest benchmark: OTLP/HTTP protobuf batches of seed-shaped traces")]
struct Args {
    /// Start this collector binary on a fresh data dir for every run.
    #[arg(long, conflicts_with = "otlp_url")]
    collector_bin: Option<PathBuf>,
    /// Or send to this OTLP traces URL (a single run, any collector).
    #[arg(long)]
    otlp_url: Option<String>,
    /// With --otlp-url: the collector's API base, to measure when spans become queryable.
    #[arg(long)]
    api_url: Option<String>,
    /// With --otlp-url: the collector's pid, for its CPU time and peak memory.
    #[arg(long)]
    collector_pid: Option<u32>,
    #[arg(long, default_value_t = 1_000_000)]
    spans: usize,
    #[arg(long, default_value_t = 4)]
    connections: usize,
    #[arg(long, default_value_t = 100)]
    traces_per_request: usize,
    /// Runs on fresh collectors; the figures quoted are the medians.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Do not write bench/results/ingest.json nor the README row.
    #[arg(long)]
    no_record: bool,
    /// After the spans are queryable, wait until the collector is idle (the work it does
    /// behind the acknowledgements, such as the search index, done) and report its CPU
    /// seconds in all and when it went idle.
    #[arg(long)]
    settle: bool,
}

/// Waits until the process uses less than a tenth of a CPU second in a second; its CPU
/// seconds then (since `before`) and the seconds waited.
async fn settle(pid: u32, before: f64) -> Option<(f64, f64)> {
    let started = std::time::Instant::now();
    let mut last = process_usage(pid)?.cpu_seconds;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = process_usage(pid)?.cpu_seconds;
        if now - last < 0.1 {
            return Some((now - before, started.elapsed().as_secs_f64()));
        }
        last = now;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut reports: Vec<IngestReport> = Vec::new();
    // Bytes on disk after each run (database, WAL), where the collector is ours.
    let mut stored_bytes: Vec<f64> = Vec::new();
    let runs = if args.otlp_url.is_some() {
        1
    } else {
        args.runs.max(1)
    };
    for i in 0..runs {
        let collector = match &args.collector_bin {
            Some(bin) => Some(Collector::start(bin)?),
            None => None,
        };
        let config = IngestConfig {
            otlp_url: collector
                .as_ref()
                .map(|c| c.otlp.clone())
                .or_else(|| args.otlp_url.clone())
                .ok_or("give --collector-bin or --otlp-url")?,
            api_url: collector
                .as_ref()
                .map(|c| c.api.clone())
                .or_else(|| args.api_url.clone()),
            spans: args.spans,
            connections: args.connections,
            traces_per_request: args.traces_per_request,
            collector_pid: collector
                .as_ref()
                .map(Collector::pid)
                .or(args.collector_pid),
            project: "bench".into(),
        };
        let cpu_before = config
            .collector_pid
            .and_then(process_usage)
            .map_or(0.0, |u| u.cpu_seconds);
        let report = run(&config).await?;
        if let (true, Some(pid)) = (args.settle, config.collector_pid) {
            if let Some((cpu, waited)) = settle(pid, cpu_before).await {
                eprintln!(
                    "run {}: collector idle {waited:.0} s after the spans were queryable, \
                     {cpu:.1} CPU s in all",
                    i + 1
                );
            }
        }
        eprintln!(
            "run {}: {} spans, {:.0} spans/s acked, {} spans/s queryable, collector {}, load generator {} CPU s",
            i + 1,
            report.spans,
            report.spans_per_second_acked,
            report
                .spans_per_second_queryable
                .map_or("-".into(), |v| format!("{v:.0}")),
            report.collector.map_or("-".into(), |u| format!(
                "{:.1} CPU s, peak RSS {:.0} MiB",
                u.cpu_seconds, u.peak_rss_mib
            )),
            report
                .client_cpu_seconds
                .map_or("-".into(), |c| format!("{c:.1}")),
        );
        if let Some(c) = &collector {
            stored_bytes.push(dir_bytes(&c.data_dir()) as f64);
        }
        reports.push(report);
        drop(collector);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let acked = median(reports.iter().map(|r| r.spans_per_second_acked).collect());
    let queryable = median(
        reports
            .iter()
            .filter_map(|r| r.spans_per_second_queryable)
            .collect(),
    );
    let cpu = median(
        reports
            .iter()
            .filter_map(|r| r.collector.map(|c| c.cpu_seconds))
            .collect(),
    );
    let rss = median(
        reports
            .iter()
            .filter_map(|r| r.collector.map(|c| c.peak_rss_mib))
            .collect(),
    );
    let bytes_per_span = median(stored_bytes.clone()) / reports[0].spans.max(1) as f64;
    let machine = &reports[0].machine;
    let loads: Vec<f64> = reports.iter().map(|r| r.machine.load_1m).collect();
    let load = format!(
        "{:.1}–{:.1}",
        loads.iter().copied().fold(f64::INFINITY, f64::min),
        loads.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    );
    // A figure not measured (no API URL, no collector pid, not our data dir) is left out,
    // not printed as NaN.
    let known = |value: f64, text: String| (!value.is_nan()).then_some(text);
    let queryable_text = known(queryable, format!(", {queryable:.0} spans/s queryable"));
    let collector_text = [
        known(cpu, format!("collector {cpu:.1} CPU s")),
        known(rss, format!("peak RSS {rss:.0} MiB")),
        known(
            bytes_per_span,
            format!("{bytes_per_span:.0} bytes on disk a span"),
        ),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    println!(
        "ingest: median of {runs} runs of {} spans: {acked:.0} spans/s acknowledged{}{}{collector_text} ({} cores, load {load} at the start of the runs)",
        reports[0].spans,
        queryable_text.unwrap_or_default(),
        if collector_text.is_empty() { "" } else { "; " },
        machine.cores
    );
    if !args.no_record {
        let summary = serde_json::json!({
            "benchmark": "ingest",
            "median_spans_per_second_acked": acked,
            "median_spans_per_second_queryable": queryable,
            "median_collector_cpu_seconds": cpu,
            "median_collector_peak_rss_mib": rss,
            "median_bytes_on_disk_per_span": bytes_per_span,
            "bytes_on_disk": stored_bytes,
            "runs": reports,
        });
        let path = report::write_json("ingest", &summary)?;
        let row = format!(
            "| ingest | {} spans, {} connections, median of {runs} runs | {acked:.0} spans/s acked ({queryable:.0} queryable), collector {cpu:.0} CPU s, peak RSS {rss:.0} MiB, {bytes_per_span:.0} B/span on disk | ≥ 100,000 spans/s | {} cores, load {load} |",
            reports[0].spans, args.connections, machine.cores
        );
        let updated = report::update_readme_row("ingest", &row)?;
        eprintln!(
            "wrote {}{}",
            path.display(),
            if updated {
                " and the row in bench/README.md"
            } else {
                ""
            }
        );
    }
    Ok(())
}
