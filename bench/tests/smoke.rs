//! Tiny runs of every benchmark, so they cannot rot: part of the test command, unlike the real
//! runs (see bench/README.md).

use skein_bench::ingest::{run, IngestConfig};
use skein_collector::{start, BodyLimits, ServeConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_benchmark_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(&ServeConfig {
        data_dir: dir.path().to_path_buf(),
        otlp_addr: Some("127.0.0.1:0".parse().unwrap()),
        http_addr: "127.0.0.1:0".parse().unwrap(),
        dist: None,
        limits: BodyLimits::default(),
        max_queued_spans: 200_000,
    })
    .await
    .unwrap();
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
