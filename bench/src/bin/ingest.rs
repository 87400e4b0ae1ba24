//! `ingest`: the ingest benchmark's command line. Either starts a fresh `skein` for each run
//! (`--collector-bin`) or sends to any OTLP/HTTP endpoint (`--otlp-url`).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use clap::Parser;
use skein_bench::ingest::{run, IngestConfig, IngestReport};
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
}

struct Collector {
    child: Child,
    _dir: tempfile::TempDir,
    otlp: String,
    api: String,
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_collector(bin: &PathBuf) -> Result<Collector, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut child = Command::new(bin)
        .args([
            "serve",
            "--http-addr",
            "127.0.0.1:0",
            "--otlp-addr",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .env("SKEIN_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let urls: Vec<&str> = line
        .split_whitespace()
        .filter(|w| w.starts_with("http://"))
        .collect();
    if urls.len() < 2 {
        return Err(format!("unexpected first line from skein: {line:?}"));
    }
    Ok(Collector {
        api: urls[0].trim_end_matches("/traces").to_string(),
        otlp: urls[1].trim_end_matches(')').to_string(),
        child,
        _dir: dir,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut reports: Vec<IngestReport> = Vec::new();
    let runs = if args.otlp_url.is_some() {
        1
    } else {
        args.runs.max(1)
    };
    for i in 0..runs {
        let collector = match &args.collector_bin {
            Some(bin) => Some(start_collector(bin)?),
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
                .map(|c| c.child.id())
                .or(args.collector_pid),
            project: "bench".into(),
        };
        let report = run(&config).await?;
        eprintln!(
            "run {}: {} spans, {:.0} spans/s acked, {} spans/s queryable, collector {}",
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
        );
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
    let machine = &reports[0].machine;
    println!(
        "ingest: median of {runs} runs of {} spans: {acked:.0} spans/s acknowledged, {queryable:.0} spans/s queryable; collector {cpu:.1} CPU s, peak RSS {rss:.0} MiB ({} cores, load {:.2})",
        reports[0].spans, machine.cores, machine.load_1m
    );
    if !args.no_record {
        let summary = serde_json::json!({
            "benchmark": "ingest",
            "median_spans_per_second_acked": acked,
            "median_spans_per_second_queryable": queryable,
            "median_collector_cpu_seconds": cpu,
            "median_collector_peak_rss_mib": rss,
            "runs": reports,
        });
        let path = report::write_json("ingest", &summary)?;
        let row = format!(
            "| ingest | {} spans, {} connections, median of {runs} | {acked:.0} spans/s acked ({queryable:.0} queryable), {cpu:.0} CPU s, peak RSS {rss:.0} MiB | ≥ 100,000 spans/s | {} cores, load {:.2} |",
            reports[0].spans, args.connections, machine.cores, machine.load_1m
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
