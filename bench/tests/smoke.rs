//! Tiny runs of every benchmark, so they cannot rot: part of the test command, unlike the real
//! runs (see bench/README.md). No timing is asserted, only that each runs end to end and
//! measures what it says.

use skein_bench::ingest::{run, IngestConfig};
use skein_bench::queries::{self, QueriesConfig};
use skein_collector::{start, BodyLimits, ServeConfig, StoreConfig};

async fn collector(dir: &std::path::Path) -> skein_collector::Running {
    collector_with(dir, None).await
}

async fn collector_with(
    dir: &std::path::Path,
    dist: Option<std::path::PathBuf>,
) -> skein_collector::Running {
    start(&ServeConfig {
        store: StoreConfig::Sqlite {
            dir: dir.to_path_buf(),
        },
        otlp_addr: Some("127.0.0.1:0".parse().unwrap()),
        otlp_grpc_addr: None,
        http_addr: "127.0.0.1:0".parse().unwrap(),
        dist,
        limits: BodyLimits::default(),
        max_queued_spans: 200_000,
        max_inflight_bytes: 1 << 30,
        allowed_hosts: Vec::new(),
        retention_days: None,
        max_live_streams: skein_collector::live::DEFAULT_MAX_STREAMS,
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_benchmark_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let running = collector(dir.path()).await;
    let config = IngestConfig {
        otlp_url: format!("http://{}/v1/traces", running.otlp_addr.unwrap()),
        api_url: Some(format!("http://{}", running.http_addr)),
        spans: 2_000,
        connections: 2,
        traces_per_request: 20,
        collector_pid: Some(std::process::id()),
        project: "bench".into(),
    };
    let report = run(&config).await.unwrap();
    assert!(report.spans >= 2_000, "{report:?}");
    assert!(report.spans_per_second_acked > 0.0);
    assert!(report.seconds_to_queryable.is_some());
    let usage = report.collector.expect("/proc usage");
    assert!(usage.cpu_seconds >= 0.0 && usage.peak_rss_mib > 0.0);
    // Every span sent is stored, in the bench project.
    let projects = running.store.projects().await.unwrap();
    let bench = projects.iter().find(|p| p.name == "bench").unwrap();
    assert_eq!(bench.span_count, report.spans as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_benchmark_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let running = collector(dir.path()).await;
    let config = QueriesConfig {
        otlp_url: format!("http://{}/v1/traces", running.otlp_addr.unwrap()),
        api_url: format!("http://{}", running.http_addr),
        spans: 1_500,
        big_trace_spans: 1_200,
        repeats: 3,
        project: "bench".into(),
        collector_pid: None,
        feedback: 1_000,
        feedback_connections: 4,
    };
    let report = queries::run(&config).await.unwrap();
    let load = report.load.as_ref().unwrap();
    assert_eq!(report.spans_stored, load.spans as u64 + 1_200);
    let names: Vec<&str> = report.queries.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names.len(), 16, "{names:?}");
    for kind in [
        "cohort compare",
        "trace fetch (binary skeleton",
        "trace list, one-word search",
        "span list, one-word search",
        "right after loading, trace list search",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(kind)),
            "{kind}: {names:?}"
        );
    }
    // Every record was stored.
    let feedback = report.feedback_load.as_ref().unwrap();
    assert_eq!(feedback.records, 1_000);
    let stored = running
        .store
        .list_feedback(
            "bench",
            skein_collector::store::FeedbackFilter {
                key: Some(queries::EVAL_KEY.into()),
                limit: Some(10_000),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(stored.len(), 1_000 - feedback.demo_records);
    for q in &report.queries {
        // The search right after loading is called once, the others `repeats` times.
        let calls = if q.name.starts_with("right after loading") {
            1
        } else {
            3
        };
        assert_eq!(q.calls, calls, "{q:?}");
        assert!(q.p50_ms > 0.0 && q.p95_ms >= q.p50_ms, "{q:?}");
        assert!(q.response_bytes > 0, "{q:?}");
    }
    assert!(names.iter().any(|n| n.contains("1200 spans")), "{names:?}");
    assert!(
        names.iter().any(|n| n.contains("feedback:quality")),
        "{names:?}"
    );

    // The same data queried again without loading it: the feedback queries are timed too.
    let again = QueriesConfig {
        spans: 0,
        big_trace_spans: 0,
        feedback: 0,
        ..config
    };
    let report = queries::run(&again).await.unwrap();
    assert!(report.load.is_none() && report.feedback_load.is_none());
    let names: Vec<&str> = report.queries.iter().map(|q| q.name.as_str()).collect();
    assert!(
        names.iter().any(|n| n.contains("feedback:quality")),
        "{names:?}"
    );
}

#[test]
fn bundle_benchmark_measures_a_dist_dir() {
    let dir = tempfile::tempdir().unwrap();
    let wasm: Vec<u8> = (0..50_000u32).map(|i| (i % 7) as u8).collect();
    std::fs::write(dir.path().join("app_bg.wasm"), &wasm).unwrap();
    std::fs::write(
        dir.path().join("app.js"),
        "export function f() {}\n".repeat(100),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("assets/main.css"), "body { margin: 0 }").unwrap();
    let report = skein_bench::bundle::measure(dir.path()).unwrap();
    assert_eq!(report.files.len(), 3);
    assert_eq!(report.wasm_raw_bytes, 50_000);
    assert!(report.wasm_gzip_bytes > 0 && report.wasm_gzip_bytes < 5_000);
    assert_eq!(report.js_raw_bytes, 2_300);
    assert!(report.total_gzip_bytes >= report.wasm_gzip_bytes + report.js_gzip_bytes);
    assert!(report
        .files
        .iter()
        .any(|f| f.name == "assets/main.css" && f.kind == "css"));
}

/// The built dashboard (`scripts/build-dashboard.sh`, which `scripts/test.sh` runs first):
/// no page's first load over the budget (issue 16). The merge plan moves shared code between
/// pages, so a change to one page can push another over: this names it.
#[test]
fn every_page_of_the_built_dashboard_is_within_the_wasm_budget() {
    use skein_bench::bundle::{kib, measure, over_budget, PAGE_BUDGET_BYTES};
    let dist = skein_bench::browser::default_dist();
    assert!(
        dist.join("index.html").exists(),
        "{} has no index.html: build the dashboard first with scripts/build-dashboard.sh",
        dist.display()
    );
    let report = measure(&dist).unwrap();
    assert!(
        !report.pages.is_empty(),
        "no split pages in {}",
        dist.display()
    );
    let over: Vec<String> = over_budget(&report)
        .iter()
        .map(|p| format!("{} {}", p.page, kib(p.gzip_bytes)))
        .collect();
    assert!(
        over.is_empty(),
        "over {} of wasm gzipped: {over:?}",
        kib(PAGE_BUDGET_BYTES)
    );
}

/// Needs the built dashboard (`scripts/build-dashboard.sh`, which `scripts/test.sh` runs
/// first) and Chromium, like the browser tests of the dashboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_benchmark_runs_end_to_end() {
    use skein_bench::browser::{default_dist, run, BrowserConfig, Cache};
    let dist = default_dist();
    assert!(
        dist.join("index.html").exists(),
        "{} has no index.html: build the dashboard first with scripts/build-dashboard.sh",
        dist.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let running = collector_with(dir.path(), Some(dist)).await;
    let config = BrowserConfig {
        app_url: format!("http://{}", running.http_addr),
        otlp_url: format!("http://{}/v1/traces", running.otlp_addr.unwrap()),
        seed_spans: 500,
        sizes: vec![400],
        runs: 1,
        scroll_frames: 10,
        timeout: std::time::Duration::from_secs(60),
    };
    let report = run(&config).await.unwrap();
    let trace = &report.traces[0];
    assert_eq!(trace.spans, 400);
    // Each run opens the trace twice: the cache emptied first, then warm (which scrolls).
    let caches: Vec<Cache> = trace.runs.iter().map(|r| r.cache).collect();
    assert_eq!(caches, [Cache::Cold, Cache::Warm], "{:?}", trace.runs);
    for run in &trace.runs {
        assert!(run.navigation_to_painted_ms > 0.0, "{run:?}");
        assert!(run.navigation_to_first_rows_ms.is_some(), "{run:?}");
        assert!(run.row_elements > 0 && run.row_elements <= 400, "{run:?}");
    }
    let run = &trace.runs[1];
    let scroll = run.scroll.as_ref().expect("the warm run scrolled");
    assert_eq!(scroll.frames, 10);
    assert!(scroll.reached_end, "{scroll:?}");
    for page in &report.pages {
        assert!(page.median_ms.is_some(), "{page:?}");
    }
    assert!(
        report.pages[1].path.starts_with("/metrics"),
        "{:?}",
        report.pages
    );
}
