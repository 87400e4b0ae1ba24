//! Queues made from a query: a sample balanced across a tag, and spans from the spans filter.

use crate::common::{call, Collector};
use crate::{post_tagged, post_traces, trace_id};
use serde_json::{json, Value};

#[tokio::test]
async fn a_queue_made_from_a_query_takes_a_random_sample_balanced_across_a_tag() {
    let collector = Collector::start();
    let p = "sampled";
    let a: Vec<u64> = (1..=12).collect();
    let b: Vec<u64> = (20..=24).collect();
    post_tagged(&collector, p, &a, "chat", &[("ab_test_variant", "A")]).await;
    post_tagged(&collector, p, &b, "chat", &[("ab_test_variant", "B")]).await;
    post_traces(&collector, p, &[30, 31], "chat").await;
    post_tagged(&collector, p, &[40], "other", &[("ab_test_variant", "B")]).await;
    let queues = collector.url(&format!("/api/v1/queues?project={p}"));
    let create = |body: Value| {
        let queues = queues.clone();
        async move { call("POST", &queues, Some(&body), None).await }
    };
    let variant_of = |trace: &str| {
        let n = u64::from_str_radix(trace, 16).unwrap();
        if a.contains(&n) {
            "A"
        } else if b.contains(&n) {
            "B"
        } else {
            "none"
        }
    };
    let queued = |id: String| {
        let url = collector.url(&format!("/api/v1/queues/{id}/items?project={p}"));
        async move {
            let (_, items) = call("GET", &url, None, None).await;
            items["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["trace_id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };

    // Balanced: as many A as B, at most as many as the rarer B has (5 of "chat").
    let (status, queue) = create(json!({"name": "balanced", "score_keys": ["k"],
        "query": "name=chat", "sample": {"size": 8, "balance_by": "ab_test_variant"}}))
    .await;
    assert_eq!(status, 201, "{queue}");
    let traces = queued(queue["id"].as_str().unwrap().into()).await;
    let count = |v: &str| traces.iter().filter(|t| variant_of(t) == v).count();
    assert_eq!(
        (count("A"), count("B"), count("none")),
        (4, 4, 0),
        "{traces:?}"
    );
    let (_, queue) = create(json!({"name": "all balanced", "score_keys": ["k"],
        "query": "name=chat", "sample": {"balance_by": "ab_test_variant"}}))
    .await;
    let traces = queued(queue["id"].as_str().unwrap().into()).await;
    let count = |v: &str| traces.iter().filter(|t| variant_of(t) == v).count();
    assert_eq!((count("A"), count("B")), (5, 5), "{traces:?}");

    // A plain random sample of 6 of the 19 "chat" traces: two draws differ (almost surely:
    // 1 in 27,132).
    let mut draws = Vec::new();
    for _ in 0..2 {
        let (status, queue) = create(json!({"name": "random", "score_keys": ["k"],
            "query": "name=chat", "sample": {"size": 6}}))
        .await;
        assert_eq!(status, 201, "{queue}");
        assert_eq!(queue["counts"]["total"], 6);
        let mut traces = queued(queue["id"].as_str().unwrap().into()).await;
        traces.sort();
        draws.push(traces);
    }
    assert_ne!(draws[0], draws[1]);

    for (body, says) in [
        (
            json!({"name": "x", "score_keys": ["k"], "sample": {"size": 3}}),
            "query",
        ),
        (
            json!({"name": "x", "score_keys": ["k"], "query": "name=chat",
                "sample": {"balance_by": "nope"}}),
            "nope",
        ),
        (
            json!({"name": "x", "score_keys": ["k"], "reviews_per_item": 0}),
            "reviews_per_item",
        ),
        (
            json!({"name": "x", "score_keys": ["k"], "query": "sort=sideways"}),
            "sort",
        ),
    ] {
        let (status, refused) = create(body.clone()).await;
        assert_eq!(status, 400, "{body}: {refused}");
        let error = refused["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{body}: {error}");
    }
    let (_, listed) = call("GET", &queues, None, None).await;
    assert_eq!(
        listed["queues"].as_array().unwrap().len(),
        4,
        "refusals store nothing"
    );
}

/// A queue made from the spans page's filter holds those spans (not their traces' roots), and
/// spans are added later the same way; a sample of a span query is drawn from its spans.
#[tokio::test]
async fn a_queue_made_from_a_span_filter_holds_those_spans() {
    let collector = Collector::start();
    let p = "spanq";
    post_traces(&collector, p, &[1, 2, 3, 4], "chat").await;
    let queues = collector.url(&format!("/api/v1/queues?project={p}"));
    let span_query = "filter=eq(name%2C%20%22llm%22)";
    let items_of = |id: String| {
        let url = collector.url(&format!("/api/v1/queues/{id}/items?project={p}"));
        async move {
            let (_, items) = call("GET", &url, None, None).await;
            let mut got: Vec<(String, String)> = items["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["trace_id"].as_str().unwrap().to_string(),
                        i["span_id"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect();
            got.sort();
            got
        }
    };
    let llm_span = |n: u64| (trace_id(n), format!("{:016x}", n * 16 + 2));
    // Ingest is acknowledged before the span list sees every span only on a slow machine:
    // wait for the four.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, page) = call(
            "GET",
            &collector.url(&format!("/api/v1/spans?project={p}&{span_query}")),
            None,
            None,
        )
        .await;
        if page["total"] == 4 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{page}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let (status, queue) = call(
        "POST",
        &queues,
        Some(&json!({"name": "llm calls", "score_keys": ["k"], "span_query": span_query})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{queue}");
    assert_eq!(queue["counts"]["total"], 4, "{queue}");
    let id = queue["id"].as_str().unwrap().to_string();
    let want: Vec<_> = (1..=4).map(llm_span).collect();
    assert_eq!(items_of(id.clone()).await, want);

    // Added again later: nothing is new.
    let (status, added) = call(
        "POST",
        &collector.url(&format!("/api/v1/queues/{id}/items?project={p}")),
        Some(&json!({"span_query": span_query, "limit": 2})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{added}");
    assert_eq!(
        (added["added"].as_u64(), added["already_queued"].as_u64()),
        (Some(0), Some(2))
    );

    // A sample of two of the four spans.
    let (status, sampled) = call(
        "POST",
        &queues,
        Some(
            &json!({"name": "two llm calls", "score_keys": ["k"], "span_query": span_query,
            "sample": {"size": 2}}),
        ),
        None,
    )
    .await;
    assert_eq!(status, 201, "{sampled}");
    let got = items_of(sampled["id"].as_str().unwrap().to_string()).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|g| want.contains(g)), "{got:?}");

    for (body, says) in [
        (
            json!({"name": "x", "score_keys": ["k"], "query": "name=chat",
                "span_query": span_query}),
            "not both",
        ),
        (
            json!({"name": "x", "score_keys": ["k"], "span_query": span_query,
                "sample": {"balance_by": "ab_test_variant"}}),
            "balance",
        ),
        (
            json!({"name": "x", "score_keys": ["k"], "span_query": "filter=eq(name"}),
            "filter",
        ),
    ] {
        let (status, error) = call("POST", &queues, Some(&body), None).await;
        assert_eq!(status, 400, "{body}: {error}");
        let text = error["error"].as_str().unwrap_or("");
        assert!(text.contains(says), "{body}: {text}");
    }
}
