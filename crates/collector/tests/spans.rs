//! `GET /api/v1/spans` and `GET /api/v1/traces?filter=` over HTTP against the real binary:
//! spans across traces selected by the filter language (on the span, its trace's root, any
//! span of its trace), sorted and paged; a bad filter is a 400 that says what and where.

mod common;

use common::{client, get_json, wait_for_traces, Collector};
use serde_json::{json, Value};
use skein_model::query::percent_encode;

fn trace_id(i: u64) -> String {
    format!("{:032x}", 0xf11e_0000 + i)
}

/// Three traces: an agent root (tag env), an LLM call (model, tokens, langgraph_node) and a
/// tool call; trace 2's tool fails, trace 3 calls the small model quickly.
async fn send_traces(collector: &Collector) {
    let attr = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let int = |k: &str, v: i64| json!({"key": k, "value": {"intValue": v.to_string()}});
    let mut spans = Vec::new();
    for i in 1..=3u64 {
        let at = |ms: u64| {
            (1_795_500_000_000_000_000u64 + i * 60_000_000_000 + ms * 1_000_000).to_string()
        };
        let llm_ms = if i == 3 { 500 } else { 2_500 };
        spans.push(
            json!({"traceId": trace_id(i), "spanId": format!("{:016x}", i * 16 + 1),
            "name": "graph", "startTimeUnixNano": at(0), "endTimeUnixNano": at(3_000),
            "attributes": [attr("gen_ai.operation.name", "invoke_agent"),
                attr("gen_ai.agent.name", "graph"),
                attr("env", if i == 1 { "staging" } else { "prod" })]}),
        );
        spans.push(
            json!({"traceId": trace_id(i), "spanId": format!("{:016x}", i * 16 + 2),
            "parentSpanId": format!("{:016x}", i * 16 + 1),
            "name": "chat", "startTimeUnixNano": at(10), "endTimeUnixNano": at(10 + llm_ms),
            "attributes": [attr("gen_ai.operation.name", "chat"),
                attr("gen_ai.request.model", if i == 3 { "gpt-4o-mini" } else { "gpt-4o" }),
                int("gen_ai.usage.input_tokens", 100 * i as i64),
                int("gen_ai.usage.output_tokens", 10),
                attr("langgraph_node", "writer")]}),
        );
        let mut tool = json!({"traceId": trace_id(i), "spanId": format!("{:016x}", i * 16 + 3),
            "parentSpanId": format!("{:016x}", i * 16 + 1),
            "name": "search_tool", "startTimeUnixNano": at(2_600), "endTimeUnixNano": at(2_700),
            "attributes": [attr("gen_ai.tool.name", "search")]});
        if i == 2 {
            tool["status"] = json!({"code": 2, "message": "rate limited"});
        }
        spans.push(tool);
    }
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", "agents")]},
        "scopeSpans": [{"spans": spans}]
    }]});
    let response = client()
        .post(&collector.otlp_traces)
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert!(response.status().is_success());
    wait_for_traces(collector, "", 3).await;
}

async fn spans(collector: &Collector, query: &str) -> Value {
    get_json(&collector.url(&format!("/api/v1/spans?{query}"))).await
}

fn names(page: &Value) -> Vec<String> {
    page["spans"]
        .as_array()
        .expect("spans")
        .iter()
        .map(|s| {
            format!(
                "{}/{}",
                &s["trace_id"].as_str().unwrap()[31..],
                s["name"].as_str().unwrap()
            )
        })
        .collect()
}

fn q(param: &str, filter: &str) -> String {
    format!("{param}={}", percent_encode(filter))
}

#[tokio::test]
async fn spans_across_traces_answer_the_filter_language() {
    let collector = Collector::start();
    send_traces(&collector).await;

    let all = spans(&collector, "").await;
    assert_eq!(all["total"], 9);
    assert_eq!(all["total_exact"], true);
    // Newest first.
    assert_eq!(names(&all)[..3], ["3/search_tool", "3/chat", "3/graph"]);

    let slow_llm = spans(
        &collector,
        &q("filter", r#"and(eq(run_type, "llm"), gt(latency, "2s"))"#),
    )
    .await;
    assert_eq!(names(&slow_llm), ["2/chat", "1/chat"]);
    let row = &slow_llm["spans"][0];
    assert_eq!(row["model"], "gpt-4o");
    assert_eq!(row["span_type"], "llm");
    assert_eq!(row["service"], "agents");
    assert_eq!(row["tokens"], 210);
    assert_eq!(row["duration_ns"], 2_500_000_000i64);
    assert_eq!(row["tags"]["langgraph_node"], "writer");

    // trace_filter: the root's tags; tree_filter: any span of the trace.
    let prod_llm = spans(
        &collector,
        &format!(
            "{}&{}",
            q("filter", r#"eq(type, "llm")"#),
            q("trace_filter", r#"eq(tag.env, "prod")"#)
        ),
    )
    .await;
    assert_eq!(names(&prod_llm), ["3/chat", "2/chat"]);
    let failed_trees = spans(
        &collector,
        &format!(
            "{}&{}",
            q("filter", "eq(is_root, true)"),
            q("tree_filter", r#"eq(status, "error")"#)
        ),
    )
    .await;
    assert_eq!(names(&failed_trees), ["2/graph"]);

    // Sorted by tokens and paged by cursor: two pages, no gaps.
    let first = spans(
        &collector,
        &format!("{}&sort=tokens_desc&limit=2", q("filter", "gt(tokens, 0)")),
    )
    .await;
    assert_eq!(first["total"], 3);
    assert_eq!(names(&first), ["3/chat", "2/chat"]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = spans(
        &collector,
        &format!(
            "{}&sort=tokens_desc&limit=2&cursor={}",
            q("filter", "gt(tokens, 0)"),
            percent_encode(cursor)
        ),
    )
    .await;
    assert_eq!(names(&second), ["1/chat"]);
    assert!(second.get("next_cursor").is_none());

    // The trace list: traces having a span that matches.
    let traces = get_json(&collector.url(&format!(
        "/api/v1/traces?{}",
        q(
            "filter",
            r#"and(eq(tag.langgraph_node, "writer"), eq(model, "gpt-4o-mini"))"#
        )
    )))
    .await;
    assert_eq!(traces["total"], 1);
    assert_eq!(traces["traces"][0]["trace_id"], trace_id(3));
}

#[tokio::test]
async fn a_bad_filter_is_a_400_that_points_at_the_problem() {
    let collector = Collector::start();
    for (query, param, offset, says) in [
        (
            q("filter", r#"and(eq(run_type, "llm"), gt(latncy, "2s"))"#),
            "filter",
            28,
            "unknown field \"latncy\"",
        ),
        (
            q("trace_filter", r#"eq(name, "x""#),
            "trace_filter",
            12,
            "expected ',' or ')'",
        ),
        (
            q("tree_filter", r#"gt(latency, "soon")"#),
            "tree_filter",
            12,
            "not a duration",
        ),
    ] {
        let r = client()
            .get(collector.url(&format!("/api/v1/spans?{query}")))
            .send()
            .await
            .expect("GET");
        assert_eq!(r.status().as_u16(), 400, "{query}");
        let body: Value = r.json().await.expect("a JSON error");
        assert_eq!(body["param"], param);
        assert_eq!(body["offset"], offset, "{body}");
        let error = body["error"].as_str().expect("error");
        assert!(error.starts_with(param) && error.contains(says), "{error}");
    }
    for path in [
        format!("/api/v1/spans?{}", q("filter", r#"search("ab")"#)),
        "/api/v1/spans?sort=fastest".to_string(),
        "/api/v1/spans?cursor=garbage".to_string(),
        format!("/api/v1/traces?{}", q("filter", "eq(nope, 1)")),
    ] {
        let r = client()
            .get(collector.url(&path))
            .send()
            .await
            .expect("GET");
        assert_eq!(r.status().as_u16(), 400, "{path}");
        let body: Value = r.json().await.expect("a JSON error");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{path}: {body}"
        );
    }
}
