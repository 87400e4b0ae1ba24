//! The filter language in every trace scope, over HTTP against the real binary: sessions,
//! users and metrics narrowed by `filter`/`tree_filter` (a span of the request passes) and
//! `trace_filter` (its root passes), and `attr.KEY` on any span attribute; a bad expression
//! is a 400 naming the parameter and the position.

mod common;

use common::{client, get_json, wait_for_traces, Collector};
use serde_json::{json, Value};
use skein_model::query::percent_encode;

fn trace_id(i: u64) -> String {
    format!("{:032x}", 0x5c0e_0000 + i)
}

/// Four requests in sessions s-1 (traces 1, 2) and s-2 (3, 4) of users u-a (1, 3) and u-b (2,
/// 4): a root carrying `http.route`, and a retriever that found `i * 2` documents (trace 4's
/// count is a string, "8"); trace 3's retriever answered HTTP 500.
async fn send_requests(collector: &Collector) {
    let text = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let int = |k: &str, v: i64| json!({"key": k, "value": {"intValue": v.to_string()}});
    let mut spans = Vec::new();
    for i in 1..=4u64 {
        let at = |ms: u64| {
            (1_795_600_000_000_000_000u64 + i * 60_000_000_000 + ms * 1_000_000).to_string()
        };
        let session = if i <= 2 { "s-1" } else { "s-2" };
        let user = if i % 2 == 1 { "u-a" } else { "u-b" };
        spans.push(
            json!({"traceId": trace_id(i), "spanId": format!("{:016x}", i * 16 + 1),
            "name": "request", "startTimeUnixNano": at(0), "endTimeUnixNano": at(1_000),
            "attributes": [text("session.id", session), text("user.id", user),
                text("http.route", if i == 1 { "/search" } else { "/chat" })]}),
        );
        let documents = if i == 4 {
            text("retrieval.documents", "8")
        } else {
            int("retrieval.documents", 2 * i as i64)
        };
        spans.push(
            json!({"traceId": trace_id(i), "spanId": format!("{:016x}", i * 16 + 2),
            "parentSpanId": format!("{:016x}", i * 16 + 1),
            "name": "retrieve", "startTimeUnixNano": at(10), "endTimeUnixNano": at(200),
            "attributes": [documents,
                int("http.status_code", if i == 3 { 500 } else { 200 })]}),
        );
    }
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [text("service.name", "rag")]},
        "scopeSpans": [{"spans": spans}]
    }]});
    let response = client()
        .post(&collector.otlp_traces)
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert!(response.status().is_success());
    wait_for_traces(collector, "", 4).await;
}

fn q(param: &str, filter: &str) -> String {
    format!("{param}={}", percent_encode(filter))
}

/// `id -> requests` of a session or user list.
fn groups(page: &Value, list: &str, id: &str) -> Vec<(String, u64)> {
    page[list]
        .as_array()
        .expect("a list")
        .iter()
        .map(|g| {
            (
                g[id].as_str().expect("id").to_string(),
                g["request_count"].as_u64().expect("requests"),
            )
        })
        .collect()
}

#[tokio::test]
async fn sessions_users_and_metrics_take_span_conditions() {
    let collector = Collector::start();
    send_requests(&collector).await;
    let get = |path: String| {
        let url = collector.url(&path);
        async move { get_json(&url).await }
    };

    // Sessions having a request whose retriever found more than 5 documents: 3 (6) and 4 ("8").
    let page = get(format!(
        "/api/v1/sessions?{}",
        q("filter", "gt(attr.retrieval.documents, 5)")
    ))
    .await;
    assert_eq!(groups(&page, "sessions", "session_id"), [("s-2".into(), 2)]);
    // At least 4: traces 2, 3, 4; session s-1 keeps one request.
    let page = get(format!(
        "/api/v1/sessions?{}&sort=requests_desc",
        q("tree_filter", "gte(attributes.retrieval.documents, 4)")
    ))
    .await;
    assert_eq!(
        groups(&page, "sessions", "session_id"),
        [("s-2".into(), 2), ("s-1".into(), 1)]
    );
    // On the root only: the root has no documents, but has its route.
    let page = get(format!(
        "/api/v1/sessions?{}",
        q("trace_filter", "gt(attr.retrieval.documents, 0)")
    ))
    .await;
    assert_eq!(page["total"], 0);
    let page = get(format!(
        "/api/v1/users?{}&sort=requests_desc",
        q("trace_filter", r#"eq(attr.http.route, "/chat")"#)
    ))
    .await;
    assert_eq!(
        groups(&page, "users", "user_id"),
        [("u-b".into(), 2), ("u-a".into(), 1)]
    );
    // Both: each condition holds in the request, on its own span.
    let page = get(format!(
        "/api/v1/users?{}&{}",
        q("trace_filter", r#"eq(attr.http.route, "/chat")"#),
        q("filter", "eq(attr.http.status_code, 500)")
    ))
    .await;
    assert_eq!(groups(&page, "users", "user_id"), [("u-a".into(), 1)]);

    // Metrics over the same traces.
    let metric = |extra: String| {
        let url = collector.url(&format!("/api/v1/metrics?metric=count&{extra}"));
        async move {
            let answer = get_json(&url).await;
            answer["groups"]
                .as_array()
                .expect("groups")
                .iter()
                .map(|g| g["n"].as_u64().unwrap_or(0))
                .sum::<u64>()
        }
    };
    assert_eq!(metric(String::new()).await, 4);
    assert_eq!(
        metric(q("filter", "lt(attr.retrieval.documents, 5)")).await,
        2
    );
    assert_eq!(
        metric(q("tree_filter", r#"eq(attr.http.status_code, "500")"#)).await,
        1
    );
    assert_eq!(
        metric(q("trace_filter", r#"neq(attr.http.route, "/search")"#)).await,
        3
    );

    // The trace list and spans take attributes too.
    let page = get(format!(
        "/api/v1/traces?{}",
        q("filter", "in(attr.retrieval.documents, [2, 8])")
    ))
    .await;
    let mut ids: Vec<&str> = page["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trace_id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, [trace_id(1), trace_id(4)]);
    let page = get(format!(
        "/api/v1/spans?{}",
        q("filter", "gte(attr.http.status_code, 500)")
    ))
    .await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["spans"][0]["trace_id"], trace_id(3));
    assert_eq!(page["spans"][0]["name"], "retrieve");
}

#[tokio::test]
async fn a_bad_expression_in_any_scope_is_a_400_saying_where() {
    let collector = Collector::start();
    for (path, param, expr, at) in [
        (
            "/api/v1/sessions",
            "filter",
            "eq(nmae, 1)",
            "at character 4",
        ),
        (
            "/api/v1/users",
            "trace_filter",
            "gt(latency, \"soon\")",
            "at character 13",
        ),
        (
            "/api/v1/metrics?metric=count",
            "tree_filter",
            "eq(attr., 1)",
            "at character 4",
        ),
        (
            "/api/v1/traces",
            "trace_filter",
            "eq(name, \"x\"",
            "at character",
        ),
        (
            "/api/v1/traces/export",
            "tree_filter",
            "and()",
            "at character 1",
        ),
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = collector.url(&format!("{path}{sep}{}", q(param, expr)));
        let response = client().get(&url).send().await.expect("GET");
        assert_eq!(response.status(), 400, "{url}");
        let body: Value = response.json().await.expect("JSON");
        let error = body["error"].as_str().expect("an error message");
        assert!(error.starts_with(&format!("{param}: ")), "{url}: {error}");
        assert!(error.contains(at), "{url}: {error}");
        // Where, for a text box to point at.
        assert_eq!(body["param"], param, "{url}");
        let start = body["char_offset"].as_u64().expect("char_offset");
        assert!(
            error.contains(&format!("at character {}", start + 1)),
            "{body}"
        );
        assert!(body["end"].as_u64() >= body["offset"].as_u64(), "{body}");
    }
    // A cohort's filter is named with its side.
    let url = collector.url(&format!(
        "/api/v1/compare/cohorts?{}&b.tag=x=y",
        q("a.trace_filter", "eq(nmae, 1)")
    ));
    let response = client().get(&url).send().await.expect("GET");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["param"], "a.trace_filter", "{body}");
    assert_eq!(body["char_offset"], 3, "{body}");
}
