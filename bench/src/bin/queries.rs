//! `queries`: the query benchmark's command line. Starts a fresh `skein` (`--collector-bin`),
//! loads it (1M seed-shaped spans and one 100k-span trace by default) and times the
//! dashboard's queries; or queries any running collector (`--api-url`, loading nothing unless
//! `--otlp-url` and `--spans` say so).

use std::path::PathBuf;

use clap::Parser;
use skein_bench::collector::{dir_bytes, Collector};
use skein_bench::queries::{run, QueriesConfig};
use skein_bench::report;

#[derive(Parser)]
#[command(about = "Skein query benchmark: trace list, trace and span fetch, metrics at scale")]
struct Args {
    /// Start this collector binary on a fresh data dir and load it.
    #[arg(long, conflicts_with = "api_url")]
    collector_bin: Option<PathBuf>,
    /// Or query this collector (API base, e.g. http://127.0.0.1:8080).
    #[arg(long)]
    api_url: Option<String>,
    /// With --api-url: where to load data (nothing is loaded without it).
    #[arg(long)]
    otlp_url: Option<String>,
    /// Seed-shaped spans to load before querying.
    #[arg(long, default_value_t = 1_000_000)]
    spans: usize,
    /// Spans of the one large trace loaded after them (0: none).
    #[arg(long, default_value_t = 100_000)]
    big_trace_spans: usize,
    /// Timed calls of each query.
    #[arg(long, default_value_t = 30)]
    repeats: usize,
    /// Feedback records stored through the API after the first queries (0: none); the
    /// feedback metrics and the trace list are then timed again.
    #[arg(long, default_value_t = 1_000_000)]
    feedback: usize,
    /// Concurrent feedback requests while storing them.
    #[arg(long, default_value_t = 32)]
    feedback_connections: usize,
    #[arg(long, default_value = "bench")]
    project: String,
    /// Do not write bench/results/queries.json nor the README rows.
    #[arg(long)]
    no_record: bool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let collector = match &args.collector_bin {
        Some(bin) => Some(Collector::start(bin)?),
        None => None,
    };
    let (api_url, otlp_url) = match (&collector, &args.api_url) {
        (Some(c), _) => (c.api.clone(), Some(c.otlp.clone())),
        (None, Some(api)) => (api.clone(), args.otlp_url.clone()),
        (None, None) => return Err("give --collector-bin or --api-url".into()),
    };
    let loading = otlp_url.is_some();
    let config = QueriesConfig {
        otlp_url: otlp_url.unwrap_or_default(),
        api_url,
        spans: if loading { args.spans } else { 0 },
        big_trace_spans: if loading { args.big_trace_spans } else { 0 },
        repeats: args.repeats,
        project: args.project.clone(),
        collector_pid: collector.as_ref().map(Collector::pid),
        feedback: if loading { args.feedback } else { 0 },
        feedback_connections: args.feedback_connections,
    };
    eprintln!(
        "queries: loading {} spans and a {}-span trace, then {} calls of each query; then {} feedback records",
        config.spans, config.big_trace_spans, config.repeats, config.feedback
    );
    let report = run(&config).await?;
    let db_bytes = collector.as_ref().map(|c| dir_bytes(&c.data_dir()));
    let machine = &report.machine;
    let load_now = skein_bench::machine::Machine::now().load_1m;
    println!(
        "queries at {} spans ({} traces) stored, {} cores, load {:.2} before loading, {load_now:.2} after querying:",
        report.spans_stored, report.traces_stored, machine.cores, machine.load_1m
    );
    for q in &report.queries {
        println!(
            "  {}: p50 {:.1} ms, p95 {:.1} ms{}",
            q.name,
            q.p50_ms,
            q.p95_ms,
            q.target_p50_ms
                .map_or(String::new(), |t| format!(" (target ≤ {t:.0} ms)"))
        );
    }
    if let Some(f) = &report.feedback_load {
        println!(
            "  feedback stored: {} records in {:.1} s, {:.0} a second ({} at a time)",
            f.records, f.seconds, f.records_per_second, f.connections
        );
    }
    if !args.no_record {
        let summary = serde_json::json!({
            "benchmark": "queries",
            "bytes_on_disk": db_bytes,
            "load_1m_after": load_now,
            "report": report,
        });
        let path = report::write_json("queries", &summary)?;
        let machine_cell = format!(
            "{} cores, load {:.1}–{load_now:.1}",
            machine.cores, machine.load_1m
        );
        let stored = format!("{} spans stored", report.spans_stored);
        let with_feedback = report.feedback_load.as_ref().map_or(String::new(), |f| {
            format!(
                ", {} feedback records ({} of them the demo's)",
                f.records, f.demo_records
            )
        });
        let row = |key: &str, name_part: &str, target: &str| {
            report
                .queries
                .iter()
                .find(|q| q.name.starts_with(name_part))
                .map(|q| {
                    let stored = if name_part.starts_with("feedback") || name_part.contains("with feedback") {
                        format!("{stored}{with_feedback}")
                    } else {
                        stored.clone()
                    };
                    format!(
                        "| {key} | {}, {stored}, {} calls | p50 {:.1} ms, p95 {:.1} ms | {target} | {machine_cell} |",
                        q.name, q.calls, q.p50_ms, q.p95_ms
                    )
                })
        };
        let rows = [
            row("queries: list, 1 tag", "trace list, 1 tag", "≤ 50 ms p50"),
            row("queries: list, 3 tags", "trace list, 3 tag", "≤ 50 ms p50"),
            row("queries: metric by tag", "metric by tag", "≤ 100 ms p50"),
            row("queries: search, traces", "trace list, one-word search", "≤ 300 ms p50"),
            row("queries: search, spans", "span list, one-word search", "≤ 300 ms p50"),
            row("queries: search, rare word", "trace list, rare-word search", "≤ 300 ms p50"),
            row("queries: search right after loading", "right after loading, trace list search", "—"),
            row("queries: cohort compare", "cohort compare", "≤ 1 s p50"),
            row("queries: trace fetch", "trace fetch (skeleton, ~", "—"),
            row("queries: span fetch", "span fetch", "—"),
            row(
                "queries: 100k-span trace",
                &format!("trace fetch (skeleton, {} spans", report.big_trace_spans),
                "≤ 300 ms p50",
            ),
            row(
                "queries: feedback metric, 1 score a span",
                "feedback metric by tag (feedback:quality",
                "≤ 100 ms p50",
            ),
            row(
                "queries: feedback metric, users' key",
                "feedback metric by tag (feedback:user_satisfaction",
                "≤ 100 ms p50",
            ),
            row(
                "queries: list with feedback",
                "trace list with feedback, no filter",
                "≤ 100 ms p50",
            ),
            row(
                "queries: list with feedback, 1 tag",
                "trace list with feedback, 1 tag",
                "≤ 100 ms p50",
            ),
            report.feedback_load.as_ref().map(|f| {
                format!(
                    "| feedback: store | {} records through `POST /api/v1/feedback`, {} requests at a time, one run | {:.0} records/s ({:.0} s) | — | {machine_cell} |",
                    f.records, f.connections, f.records_per_second, f.seconds
                )
            }),
        ];
        let mut updated = 0;
        for (key, row) in [
            "queries: list, 1 tag",
            "queries: list, 3 tags",
            "queries: metric by tag",
            "queries: search, traces",
            "queries: search, spans",
            "queries: search, rare word",
            "queries: search right after loading",
            "queries: cohort compare",
            "queries: trace fetch",
            "queries: span fetch",
            "queries: 100k-span trace",
            "queries: feedback metric, 1 score a span",
            "queries: feedback metric, users' key",
            "queries: list with feedback",
            "queries: list with feedback, 1 tag",
            "feedback: store",
        ]
        .iter()
        .zip(rows)
        {
            if let Some(row) = row {
                if report::update_readme_row(key, &row)? {
                    updated += 1;
                }
            }
        }
        eprintln!(
            "wrote {} and {updated} rows of bench/README.md",
            path.display()
        );
    }
    Ok(())
}
