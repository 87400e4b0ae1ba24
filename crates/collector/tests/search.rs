//! Full-text search across traces over HTTP against the real binary: `search("...")` in
//! `GET /api/v1/traces?filter=` and `GET /api/v1/spans?filter=` finds spans by the text in
//! their names, inputs, outputs, attribute values and event messages, ignoring case, combined
//! with other conditions; the text is literal whatever it holds; a text too short for the
//! index is a 400 that says so.

mod common;

use common::{client, get_json, wait_for_traces, Collector};
use serde_json::{json, Value};
use skein_model::query::percent_encode;

fn trace_id(i: u64) -> String {
    format!("{:032x}", 0x5ea2_0000 + i)
}

/// Five traces of a root and an LLM call: "refund" in trace 1's root name, trace 2's LLM
/// input, trace 3's LLM output, trace 4's root attribute and an event of trace 5's LLM
/// call; trace 6 speaks of invoices, with characters that are syntax elsewhere.
async fn send_traces(collector: &Collector, project: &str) {
    let attr = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let mut spans = Vec::new();
    for i in 1..=6u64 {
        let at = |ms: u64| {
            (1_795_500_000_000_000_000u64 + i * 60_000_000_000 + ms * 1_000_000).to_string()
        };
        let mut root_attrs = vec![attr("env", "prod")];
        if i == 4 {
            root_attrs.push(attr("ticket.reason", "Customer asked for a REFUND"));
        }
        let root_name = if i == 1 { "Refund flow" } else { "support" };
        spans.push(
            json!({"traceId": trace_id(i), "spanId": format!("{:016x}", i * 16 + 1),
            "name": root_name, "startTimeUnixNano": at(0), "endTimeUnixNano": at(3_000),
            "attributes": root_attrs}),
        );
        let mut llm_attrs = vec![
            attr("gen_ai.operation.name", "chat"),
            attr("gen_ai.request.model", "gpt-4o"),
        ];
        match i {
            2 => llm_attrs.push(attr("input.value", "can I get my money back (a refund)?")),
            3 => llm_attrs.push(attr(
                "output.value",
                r#"{"reply":"Your refund is on its way"}"#,
            )),
            6 => llm_attrs.push(attr(
                "input.value",
                r#"invoice "NEAR" 100% paid * -x_y C:\bills"#,
            )),
            _ => {}
        }
        let mut llm = json!({"traceId": trace_id(i), "spanId": format!("{:016x}", i * 16 + 2),
            "parentSpanId": format!("{:016x}", i * 16 + 1),
            "name": "chat", "startTimeUnixNano": at(10), "endTimeUnixNano": at(2_000),
            "attributes": llm_attrs});
        if i == 5 {
            llm["events"] = json!([{"name": "log", "timeUnixNano": at(20),
                "attributes": [attr("message", "issuing refund #42")]}]);
        }
        spans.push(llm);
    }
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", "desk")]},
        "scopeSpans": [{"spans": spans}]
    }]});
    let response = client()
        .post(&collector.otlp_traces)
        .header("x-skein-project", project)
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert!(response.status().is_success());
    wait_for_traces(collector, &format!("project={project}"), 6).await;
}

fn filter(text: &str) -> String {
    format!("filter={}", percent_encode(text))
}

/// The last hex digit of each listed trace, sorted.
fn traces(page: &Value) -> Vec<String> {
    let mut ids: Vec<String> = page["traces"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .map(|t| t["trace_id"].as_str().unwrap()[31..].to_string())
        .collect();
    ids.sort();
    ids
}

/// "trace digit/span name" of each listed span, sorted.
fn spans(page: &Value) -> Vec<String> {
    let mut names: Vec<String> = page["spans"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .map(|s| {
            format!(
                "{}/{}",
                &s["trace_id"].as_str().unwrap()[31..],
                s["name"].as_str().unwrap()
            )
        })
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn search_finds_traces_and_spans_by_their_text() {
    let collector = Collector::start();
    send_traces(&collector, "default").await;
    // Another project says "refund" too: never seen from this one.
    send_traces(&collector, "elsewhere").await;

    let page =
        get_json(&collector.url(&format!("/api/v1/traces?{}", filter(r#"search("refund")"#))))
            .await;
    assert_eq!(traces(&page), ["1", "2", "3", "4", "5"], "{page}");
    assert_eq!(page["total"], 5);
    // The summaries are the whole traces'.
    assert!(page["traces"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["span_count"] == 2));

    let page = get_json(&collector.url(&format!(
        "/api/v1/traces?{}&status=ok",
        filter(r#"and(search("REFUND"), eq(run_type, "llm"))"#)
    )))
    .await;
    assert_eq!(traces(&page), ["2", "3", "5"], "{page}");

    let page =
        get_json(&collector.url(&format!("/api/v1/spans?{}", filter(r#"search("Refund")"#)))).await;
    assert_eq!(
        spans(&page),
        ["1/Refund flow", "2/chat", "3/chat", "4/support", "5/chat"],
        "{page}"
    );
    let page = get_json(&collector.url(&format!(
        "/api/v1/spans?{}",
        filter(r#"and(not(search("refund")), eq(run_type, "llm"))"#)
    )))
    .await;
    assert_eq!(spans(&page), ["1/chat", "4/chat", "6/chat"], "{page}");
    let page = get_json(&collector.url(&format!(
        "/api/v1/spans?{}",
        filter(r##"or(search("money back"), search("#42"))"##)
    )))
    .await;
    assert_eq!(spans(&page), ["2/chat", "5/chat"], "{page}");

    // Characters that are syntax in SQL, LIKE or FTS queries are text to find.
    for text in [
        r#"\"near\""#,
        "100%",
        "0% paid",
        "-x_y",
        "* -x",
        r"c:\\bills",
    ] {
        let page = get_json(&collector.url(&format!(
            "/api/v1/spans?{}",
            filter(&format!(r#"search("{text}")"#))
        )))
        .await;
        assert_eq!(spans(&page), ["6/chat"], "{text}: {page}");
    }
    for text in ["x y", "%%%", "___", "NEAR(a b)", "a\\\" OR \\\"b"] {
        let page = get_json(&collector.url(&format!(
            "/api/v1/spans?{}",
            filter(&format!(r#"search("{text}")"#))
        )))
        .await;
        assert_eq!(page["total"], 0, "{text}: {page}");
    }

    // The other project's own search.
    let page = get_json(&collector.url(&format!(
        "/api/v1/traces?project=elsewhere&{}",
        filter(r#"search("refund")"#)
    )))
    .await;
    assert_eq!(page["total"], 5, "{page}");
}

/// `GET /api/v1/health` says how many spans wait for the index: the ones just stored at
/// most, then none once the collector has indexed them (idle, it does so at once); a search
/// meanwhile finds them all the same, and its total is exact.
#[tokio::test]
async fn health_counts_the_spans_waiting_for_the_index() {
    let collector = Collector::start();
    send_traces(&collector, "default").await;
    let waiting = |health: &Value| health["search_index"]["waiting"].as_u64();
    let health = get_json(&collector.url("/api/v1/health")).await;
    assert!(waiting(&health).is_some_and(|n| n <= 12), "{health}");
    let page =
        get_json(&collector.url(&format!("/api/v1/traces?{}", filter(r#"search("refund")"#))))
            .await;
    assert_eq!(
        (page["total"].as_u64(), page.get("total_approximate")),
        (Some(5), None)
    );
    let mut health = health;
    for _ in 0..100 {
        if waiting(&health) == Some(0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        health = get_json(&collector.url("/api/v1/health")).await;
    }
    assert_eq!(waiting(&health), Some(0), "{health}");
    let page =
        get_json(&collector.url(&format!("/api/v1/spans?{}", filter(r#"search("refund")"#)))).await;
    assert_eq!(
        (page["total"].as_u64(), page["total_exact"].as_bool()),
        (Some(5), Some(true))
    );
}

#[tokio::test]
async fn a_search_too_short_for_the_index_is_a_400() {
    let collector = Collector::start();
    for path in ["/api/v1/traces", "/api/v1/spans"] {
        let query = filter(r#"and(eq(run_type, "llm"), search("ab"))"#);
        let r = client()
            .get(collector.url(&format!("{path}?{query}")))
            .send()
            .await
            .expect("GET");
        assert_eq!(r.status().as_u16(), 400, "{path}");
        let body: Value = r.json().await.expect("a JSON error");
        let error = body["error"].as_str().expect("error");
        assert!(error.contains("at least 3 characters"), "{path}: {error}");
    }
}
