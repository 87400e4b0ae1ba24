//! The service graph: edges between services, call counts and latency percentiles.

use crate::common::{get_json, Collector};
use crate::{get_status, now_ms, post_spans, span};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_graph_counts_calls_between_services() {
    let collector = Collector::start();
    let p = "graph";
    let t0 = now_ms() - 600_000;
    let mut spans = Vec::new();
    // Four requests: gateway (server) → gateway client → orders (server, 10/20/30/40 ms; the
    // last fails) → orders internal → orders client → stock (server).
    for i in 0..4u64 {
        let trace = 0x100 + i;
        let base = 0x1000 * (i + 1);
        let start = t0 + i as i64 * 1_000;
        let d = 10 * (i as i64 + 1);
        spans.push(span(
            trace,
            base + 1,
            None,
            "gateway",
            "GET /order",
            2,
            start,
            100,
            &[("env", json!(if i < 2 { "a" } else { "b" }))],
            false,
        ));
        spans.push(span(
            trace,
            base + 2,
            Some(base + 1),
            "gateway",
            "call orders",
            3,
            start + 1,
            d + 2,
            &[],
            false,
        ));
        spans.push(span(
            trace,
            base + 3,
            Some(base + 2),
            "orders",
            "GET /orders",
            2,
            start + 2,
            d,
            &[],
            i == 3,
        ));
        spans.push(span(
            trace,
            base + 4,
            Some(base + 3),
            "orders",
            "work",
            1,
            start + 3,
            1,
            &[],
            false,
        ));
        spans.push(span(
            trace,
            base + 5,
            Some(base + 4),
            "orders",
            "call stock",
            3,
            start + 4,
            3,
            &[],
            false,
        ));
        spans.push(span(
            trace,
            base + 6,
            Some(base + 5),
            "stock",
            "GET /stock",
            2,
            start + 5,
            1,
            &[],
            false,
        ));
    }
    // An orphan in another service: a node (its parent never arrived), no edge.
    spans.push(span(
        0x200,
        0x9001,
        Some(0x9999),
        "batch",
        "job",
        1,
        t0,
        5,
        &[],
        false,
    ));
    post_spans(&collector, p, spans).await;

    let graph = get_json(&collector.url(&format!("/api/v1/services/graph?project={p}"))).await;
    assert_eq!(graph["trace_count"], 5);
    assert_eq!(graph["span_count"], 25);
    let nodes: Vec<&str> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        nodes,
        ["batch", "gateway", "orders", "stock"],
        "sorted by name"
    );
    let edges = graph["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2, "{edges:?}");
    let orders = &edges[0];
    assert_eq!(
        (orders["caller"].as_str(), orders["callee"].as_str()),
        (Some("gateway"), Some("orders"))
    );
    assert_eq!(orders["calls"], 4);
    assert_eq!(orders["errors"], 1);
    // Durations 10, 20, 30, 40 ms: p50 25 ms, p95 38.5 ms (linear interpolation).
    assert_eq!(orders["p50_ns"], 25_000_000);
    assert_eq!(orders["p95_ns"], 38_500_000);
    assert_eq!(
        (edges[1]["caller"].as_str(), edges[1]["callee"].as_str()),
        (Some("orders"), Some("stock"))
    );
    assert_eq!(edges[1]["calls"], 4);
    let node = |name: &str| {
        graph["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(node("gateway")["root_calls"], 4);
    assert_eq!(node("gateway")["calls"], 4);
    assert_eq!(
        node("orders")["calls"],
        4,
        "entry spans only, not its internal spans"
    );
    assert_eq!(node("orders")["errors"], 1);
    assert_eq!(node("batch")["calls"], 1);
    assert_eq!(node("batch")["root_calls"], 0, "an orphan is not a root");

    // Tags and time narrow the traces.
    let b =
        get_json(&collector.url(&format!("/api/v1/services/graph?project={p}&tag=env%3Db"))).await;
    assert_eq!(b["edges"][0]["calls"], 2);
    assert_eq!(b["edges"][0]["errors"], 1);
    let early = get_json(&collector.url(&format!(
        "/api/v1/services/graph?project={p}&from={}&to={}",
        t0 - 10,
        t0 + 500
    )))
    .await;
    assert_eq!(early["edges"][0]["calls"], 1);
    let before = get_json(&collector.url(&format!(
        "/api/v1/services/graph?project={p}&from=0&to=1000"
    )))
    .await;
    assert_eq!(before["nodes"], json!([]));
    assert_eq!(before["trace_count"], 0);

    // Ranges are bounded and must run forwards.
    for query in ["from=0&to=999999999999999", "from=20&to=10", "from=x"] {
        let (status, body) =
            get_status(&collector.url(&format!("/api/v1/services/graph?project={p}&{query}")))
                .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body["error"].is_string());
    }
}
