//! Skein on a ClickHouse cluster through the real binary: ZooKeeper and 2 shards x 2 replicas
//! on loopback, two stateless collectors writing with a quorum of 2 through Distributed tables.
//! What real SDKs send through one collector reads back identically through the other; a
//! replica killed during ingest loses no acknowledged span while queries keep answering; a
//! collector killed mid-load loses nothing its clients retried on the other.

mod common;

#[path = "../src/store/clickhouse/testserver.rs"]
mod testserver;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{client, get_json, Collector};
use serde_json::{json, Value};

fn on_cluster(node: &testserver::ClusterNode, cluster: &str, database: &str) -> Collector {
    Collector::start_with(&[
        "--clickhouse-url",
        &node.url,
        "--clickhouse-database",
        database,
        "--clickhouse-cluster",
        cluster,
        "--clickhouse-insert-quorum",
        "2",
    ])
}

/// One OTLP/JSON trace of three spans, `i` making its ids unique.
fn trace_body(i: usize) -> (String, Value) {
    let trace = format!("{:032x}", 0x00c0_ffee_0000_0000_u64 as u128 + i as u128);
    let start = 1_796_000_000_000_000_000u64 + i as u64 * 1_000_000;
    let span = |n: usize, parent: Option<usize>| {
        let mut s = json!({
            "traceId": trace, "spanId": format!("{:016x}", i * 10 + n + 1), "name": format!("step-{n}"),
            "kind": 1, "startTimeUnixNano": (start + n as u64).to_string(),
            "endTimeUnixNano": (start + 1_000_000 + n as u64).to_string(),
            "attributes": [{"key": "batch", "value": {"stringValue": format!("b{}", i % 7)}}]
        });
        if let Some(p) = parent {
            s["parentSpanId"] = json!(format!("{:016x}", i * 10 + p + 1));
        }
        s
    };
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "load"}}]},
        "scopeSpans": [{"spans": [span(0, None), span(1, Some(0)), span(2, Some(1))]}]}]});
    (trace, body)
}

/// Sends trace `i` to the first collector that acknowledges it, retrying (as OTLP exporters
/// do on 503 or a refused connection) until `deadline`. True once acknowledged.
async fn send_until_acked(urls: &[String], i: usize, deadline: Instant) -> bool {
    let (_, body) = trace_body(i);
    while Instant::now() < deadline {
        for url in urls {
            if let Ok(r) = client().post(url).json(&body).send().await {
                if r.status() == 200 {
                    return true;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Every trace id of the default project, through one collector.
async fn stored_traces(collector: &Collector) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = collector.url("/api/v1/traces?limit=1000");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page = get_json(&url).await;
        for t in page["traces"].as_array().into_iter().flatten() {
            if t["span_count"] == 3 {
                ids.insert(t["trace_id"].as_str().unwrap_or("").to_string());
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return ids,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cluster_behind_two_collectors_loses_nothing_acknowledged() {
    let mut cluster = testserver::cluster(2, 2);
    let database = testserver::fresh_database();
    let a = on_cluster(&cluster.nodes[0], &cluster.name, &database);
    let b = on_cluster(&cluster.nodes[2], &cluster.name, &database);
    let health = get_json(&a.url("/api/v1/health")).await;
    assert!(
        health["store"]["location"]
            .as_str()
            .is_some_and(|l| l.contains(&cluster.name)),
        "{health}"
    );

    // The OpenTelemetry SDK's seed through A reads back identically through B.
    let output = Command::new(common::python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/seed_agents.py"
        ))
        .arg("session-cluster")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &a.otlp_base)
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = String::from_utf8_lossy(&output.stdout);
    let seed: Value = serde_json::from_str(line.lines().last().expect("a line")).expect("json");
    let seed_trace = seed["trace_id"].as_str().expect("trace id").to_string();
    let path = format!("/api/v1/traces/{seed_trace}");
    let mut via_a = Value::Null;
    for _ in 0..100 {
        via_a = get_json(&a.url(&path)).await;
        if via_a["summary"]["span_count"] == 7 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(via_a["summary"]["root_name"], "main_agent", "{via_a}");
    assert_eq!(via_a, get_json(&b.url(&path)).await);

    // Load through both collectors. Then a replica of shard 1 is killed: a write that needs
    // its quorum is refused (503, retried later), never acknowledged, and queries still answer.
    let urls = vec![a.url("/v1/traces"), b.url("/v1/traces")];
    let deadline = Instant::now() + Duration::from_secs(120);
    let total = 40;
    let mut acked = BTreeSet::new();
    for i in 0..20 {
        assert!(send_until_acked(&urls, i, deadline).await, "trace {i}");
        acked.insert(trace_body(i).0);
    }
    cluster.nodes[1].kill();
    // A trace that lands on shard 0 (the Distributed table picks cityHash64(trace) % 2).
    let on_shard_0 = (20..).find(|&i| {
        let (trace, _) = trace_body(i);
        let sql = format!("SELECT cityHash64('{trace}') % 2");
        let answer = std::process::Command::new("clickhouse-client")
            .args(["--port", &cluster.nodes[0].tcp.to_string(), "--query", &sql])
            .output()
            .expect("clickhouse-client");
        String::from_utf8_lossy(&answer.stdout).trim() == "0"
    });
    let (_, body) = trace_body(on_shard_0.expect("a trace on shard 0"));
    let refused = client()
        .post(&urls[0])
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(
        refused.status(),
        503,
        "a write without its quorum is not acknowledged"
    );
    assert!(refused.headers().contains_key("retry-after"));
    let page = get_json(&b.url("/api/v1/traces?limit=5")).await;
    assert!(page["total"].as_u64().is_some_and(|n| n >= 20), "{page}");
    cluster.nodes[1].restart();
    for i in 20..total {
        assert!(send_until_acked(&urls, i, deadline).await, "trace {i}");
        acked.insert(trace_body(i).0);
    }

    // A collector killed mid-load: its clients retry on the other.
    let mut sent_after = BTreeSet::new();
    let a_url = a.url("/v1/traces");
    drop(a);
    for i in total..total + 20 {
        if send_until_acked(&[a_url.clone(), urls[1].clone()], i, deadline).await {
            sent_after.insert(trace_body(i).0);
        }
    }
    assert_eq!(sent_after.len(), 20);
    acked.extend(sent_after);

    let stored = stored_traces(&b).await;
    let missing: Vec<&String> = acked.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not stored: {missing:?}"
    );
}
