//! `GET /api/v1/stream` (live tail, server-sent events) over HTTP against the real binary: a
//! trace or span sent after the stream opened arrives within a second of its acknowledgement,
//! the filter and the trace list's parameters select, a key sees only its project, a
//! reconnect with `Last-Event-ID` gets what it missed, and the cap on open streams answers 503.

mod common;

use std::time::{Duration, Instant};

use common::sse::{SseEvent, SseStream};
use common::{client, skein_cli, Collector};
use serde_json::{json, Value};
use skein_model::query::percent_encode;

const SOON: Duration = Duration::from_secs(1);

fn trace_id(i: u64) -> String {
    format!("{:032x}", 0x5e_0000 + i)
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// An OTLP/JSON request with one span per `(trace, span, parent, name, env tag)`.
fn request(spans: &[(u64, u64, Option<u64>, &str, &str)]) -> Value {
    let start = now_ns();
    let spans: Vec<Value> = spans
        .iter()
        .map(|(t, s, parent, name, env)| {
            let mut span = json!({"traceId": trace_id(*t), "spanId": format!("{:016x}", s),
                "name": name, "startTimeUnixNano": (start + s * 1000).to_string(),
                "endTimeUnixNano": (start + s * 1000 + 5_000_000).to_string(),
                "attributes": [{"key": "env", "value": {"stringValue": env}}]});
            if let Some(p) = parent {
                span["parentSpanId"] = json!(format!("{:016x}", p));
            }
            span
        })
        .collect();
    json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "live"}}]},
        "scopeSpans": [{"spans": spans}]
    }]})
}

/// Sends spans over OTLP/HTTP (with a key, when given) and returns when they are acknowledged.
async fn send(url: &str, key: Option<&str>, body: &Value) -> Instant {
    let mut post = client().post(url).json(body);
    if let Some(key) = key {
        post = post.header("x-api-key", key);
    }
    let response = post.send().await.expect("POST spans");
    assert!(response.status().is_success(), "{}", response.status());
    Instant::now()
}

fn stream_url(c: &Collector, query: &str) -> String {
    c.url(&format!("/api/v1/stream?{query}"))
}

fn trace_ids(events: &[SseEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.data["trace_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_trace_sent_after_the_stream_opened_arrives_within_a_second() {
    let c = Collector::start();
    // Stored before: not announced.
    send(
        &c.otlp_traces,
        None,
        &request(&[(1, 1, None, "before", "prod")]),
    )
    .await;
    let mut stream = SseStream::open(&stream_url(&c, "kind=traces"), &[]).await;
    let acked = send(
        &c.otlp_traces,
        None,
        &request(&[
            (2, 1, None, "checkout", "prod"),
            (2, 2, Some(1), "llm", "prod"),
        ]),
    )
    .await;
    let event = stream.next(SOON).await.expect("a trace event within 1 s");
    assert!(acked.elapsed() <= SOON + Duration::from_millis(50));
    assert_eq!(event.name, "trace");
    assert!(!event.id.is_empty(), "events have ids");
    // The list's row: the same summary `GET /api/v1/traces` shows.
    assert_eq!(event.data["trace_id"], trace_id(2));
    assert_eq!(event.data["root_name"], "checkout");
    assert_eq!(event.data["span_count"], 2);
    assert_eq!(event.data["services"], json!(["live"]));
    assert!(stream.drain(Duration::from_millis(800)).await.is_empty());

    // A span stream sends each span as the span list's row.
    let mut spans = SseStream::open(&stream_url(&c, "kind=spans"), &[]).await;
    send(
        &c.otlp_traces,
        None,
        &request(&[(3, 7, None, "tool", "prod")]),
    )
    .await;
    let event = spans.next(SOON).await.expect("a span event within 1 s");
    assert_eq!(event.name, "span");
    assert_eq!(event.data["span_id"], format!("{:016x}", 7));
    assert_eq!(event.data["name"], "tool");
    assert_eq!(event.data["service"], "live");
    assert_eq!(event.data["duration_ns"], 5_000_000);
}

#[tokio::test]
async fn the_filter_and_the_lists_parameters_select() {
    let c = Collector::start();
    let filter = percent_encode(r#"eq(name, "llm")"#);
    let mut spans =
        SseStream::open(&stream_url(&c, &format!("kind=spans&filter={filter}")), &[]).await;
    let mut staging = SseStream::open(&stream_url(&c, "kind=traces&tag=env%3Dstaging"), &[]).await;
    let mut having_llm = SseStream::open(
        &stream_url(&c, &format!("kind=traces&filter={filter}")),
        &[],
    )
    .await;
    send(
        &c.otlp_traces,
        None,
        &request(&[
            (1, 1, None, "root", "prod"),
            (1, 2, Some(1), "llm", "prod"),
            (2, 3, None, "other", "staging"),
        ]),
    )
    .await;
    let got = spans.drain(SOON).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].data["name"], "llm");
    assert_eq!(trace_ids(&staging.drain(SOON).await), vec![trace_id(2)]);
    assert_eq!(trace_ids(&having_llm.drain(SOON).await), vec![trace_id(1)]);

    // A trace that matched keeps being announced as more of its spans arrive.
    send(
        &c.otlp_traces,
        None,
        &request(&[(1, 4, Some(1), "tool", "prod")]),
    )
    .await;
    let more = having_llm.drain(SOON).await;
    assert_eq!(trace_ids(&more), vec![trace_id(1)]);
    assert_eq!(more[0].data["span_count"], 3);

    // A filter that cannot be used: 400 naming where.
    let bad = client()
        .get(stream_url(
            &c,
            &format!("kind=spans&filter={}", percent_encode("eq(name,")),
        ))
        .send()
        .await
        .expect("GET");
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.expect("JSON");
    assert_eq!(body["param"], "filter");
    assert!(body["char_offset"].is_number(), "{body}");
    let kind = client()
        .get(stream_url(&c, "kind=rows"))
        .send()
        .await
        .expect("GET");
    assert_eq!(kind.status(), 400);
}

#[tokio::test]
async fn trace_filter_and_tree_filter_select_as_the_lists_do() {
    let c = Collector::start();
    common::live::trace_and_tree_filters_select(&c).await;
}

#[tokio::test]
async fn feedback_alone_fires_filters_that_name_it() {
    let c = Collector::start();
    common::live::feedback_fires_filters_naming_it(&c).await;
}

#[tokio::test]
async fn a_resume_while_a_span_is_held_still_gets_it() {
    let c = Collector::start();
    common::live::a_resume_while_a_span_is_held_still_gets_it(&c).await;
}

/// A LangSmith run created, then patched with its end, outputs and error (the real SDK's
/// `create_run` then `update_run`): each stream announces it again as it changed.
#[tokio::test]
async fn a_patched_langsmith_run_is_announced_again() {
    let c = Collector::start();
    let mut spans = SseStream::open(&stream_url(&c, "kind=spans&project=patched"), &[]).await;
    let mut traces = SseStream::open(&stream_url(&c, "kind=traces&project=patched"), &[]).await;
    let mut sdk = common::sdks::python("langsmith_patch.py");
    sdk.arg("1.5")
        .env("LANGSMITH_ENDPOINT", c.url("/api/langsmith"))
        .env("LANGSMITH_API_KEY", "test-key")
        .env("LANGSMITH_TRACING", "true")
        .env("LANGSMITH_PROJECT", "patched");
    let script = tokio::task::spawn_blocking(move || sdk.output().expect("run python"));
    // The SDK takes its time to start; then the patch comes 1.5 s after the run.
    let mut span_events: Vec<SseEvent> = spans
        .next(Duration::from_secs(30))
        .await
        .into_iter()
        .collect();
    span_events.extend(spans.drain(Duration::from_millis(3000)).await);
    let mut trace_events: Vec<SseEvent> = traces.next(SOON).await.into_iter().collect();
    trace_events.extend(traces.drain(Duration::from_millis(500)).await);
    common::sdks::last_json_line(script.await.expect("the script ran"));

    let mine: Vec<&SseEvent> = span_events
        .iter()
        .filter(|e| e.data["name"] == "slow_lookup")
        .collect();
    assert_eq!(mine.len(), 2, "created, then patched: {span_events:?}");
    assert_eq!(mine[0].data["span_id"], mine[1].data["span_id"]);
    assert_eq!(mine[0].data["status"], "unset", "{:?}", mine[0]);
    assert_eq!(mine[1].data["status"], "error", "{:?}", mine[1]);
    assert_eq!(mine[1].data["duration_ns"], 2_000_000_000u64);
    assert!(
        mine[1].id.parse::<i64>().unwrap() > mine[0].id.parse::<i64>().unwrap(),
        "the patch is later in the stream"
    );
    assert_eq!(trace_events.len(), 2, "{trace_events:?}");
    assert_eq!(trace_events[0].data["error_count"], 0);
    assert_eq!(trace_events[1].data["error_count"], 1);
    assert_eq!(trace_events[1].data["root_name"], "slow_lookup");
}

#[tokio::test]
async fn a_key_streams_its_own_project_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    skein_cli(dir.path(), &["project", "create", "alpha"]);
    skein_cli(dir.path(), &["project", "create", "beta"]);
    let alpha = skein_cli(dir.path(), &["key", "create", "--project", "alpha"]);
    let beta = skein_cli(dir.path(), &["key", "create", "--project", "beta"]);
    let c = Collector::start_in(dir, &[]);

    // Without a key: 401; naming another project: 403.
    let none = client().get(stream_url(&c, "")).send().await.expect("GET");
    assert_eq!(none.status(), 401);
    let other = client()
        .get(stream_url(&c, "project=alpha"))
        .header("x-api-key", &beta)
        .send()
        .await
        .expect("GET");
    assert_eq!(other.status(), 403);

    let mut beta_stream =
        SseStream::open(&stream_url(&c, "kind=spans"), &[("x-api-key", &beta)]).await;
    let mut alpha_stream = SseStream::open(
        &stream_url(&c, "kind=spans"),
        &[("authorization", &format!("Bearer {alpha}"))],
    )
    .await;
    send(
        &c.otlp_traces,
        Some(&alpha),
        &request(&[(1, 1, None, "alpha-span", "prod")]),
    )
    .await;
    let seen = alpha_stream.next(SOON).await.expect("alpha sees its span");
    assert_eq!(seen.data["name"], "alpha-span");
    assert!(
        beta_stream
            .drain(Duration::from_millis(1500))
            .await
            .is_empty(),
        "beta's key sees nothing of alpha"
    );
    send(
        &c.otlp_traces,
        Some(&beta),
        &request(&[(2, 2, None, "beta-span", "prod")]),
    )
    .await;
    let seen = beta_stream
        .next(SOON)
        .await
        .expect("beta sees its own span");
    assert_eq!(seen.data["name"], "beta-span");
    assert!(alpha_stream
        .drain(Duration::from_millis(500))
        .await
        .is_empty());

    // A browser's EventSource sends no key: a ticket got with the key opens its project only.
    let ticket = |key: Option<&str>| {
        let mut post = client()
            .post(c.url("/api/v1/stream/ticket"))
            .json(&json!({}));
        if let Some(key) = key {
            post = post.header("x-api-key", key);
        }
        post.send()
    };
    assert_eq!(ticket(None).await.expect("POST").status(), 401);
    let answer: Value = ticket(Some(&beta))
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    let t = answer["ticket"].as_str().expect("a ticket").to_string();
    let mut by_ticket = SseStream::open(
        &stream_url(
            &c,
            &format!("kind=spans&project=beta&ticket={}", percent_encode(&t)),
        ),
        &[],
    )
    .await;
    send(
        &c.otlp_traces,
        Some(&alpha),
        &request(&[(3, 3, None, "alpha-again", "prod")]),
    )
    .await;
    send(
        &c.otlp_traces,
        Some(&beta),
        &request(&[(4, 4, None, "beta-again", "prod")]),
    )
    .await;
    let names: Vec<Value> = by_ticket
        .drain(SOON)
        .await
        .into_iter()
        .map(|e| e.data["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("beta-again")]);
    for query in [
        format!("project=alpha&ticket={}", percent_encode(&t)),
        "project=beta&ticket=1.00".to_string(),
    ] {
        let refused = client()
            .get(stream_url(&c, &query))
            .send()
            .await
            .expect("GET");
        assert_eq!(refused.status(), 401, "{query}");
    }
    // Only the stream takes tickets.
    let list = client()
        .get(c.url(&format!(
            "/api/v1/traces?project=beta&ticket={}",
            percent_encode(&t)
        )))
        .send()
        .await
        .expect("GET");
    assert_eq!(list.status(), 401);
}

#[tokio::test]
async fn last_event_id_resumes_with_what_was_missed() {
    let c = Collector::start();
    let url = stream_url(&c, "kind=traces");
    let mut stream = SseStream::open(&url, &[]).await;
    send(
        &c.otlp_traces,
        None,
        &request(&[(1, 1, None, "first", "prod")]),
    )
    .await;
    let first = stream.next(SOON).await.expect("first");
    assert_eq!(first.data["trace_id"], trace_id(1));
    drop(stream);

    // Sent while no stream was open.
    send(
        &c.otlp_traces,
        None,
        &request(&[(2, 2, None, "second", "prod")]),
    )
    .await;
    send(
        &c.otlp_traces,
        None,
        &request(&[(3, 3, None, "third", "prod")]),
    )
    .await;
    let mut resumed = SseStream::open(&url, &[("last-event-id", &first.id)]).await;
    let missed = resumed.drain(SOON).await;
    assert_eq!(trace_ids(&missed), vec![trace_id(2), trace_id(3)]);
    // Ids increase: resuming after the last one sends nothing again.
    let last = missed.last().map(|e| e.id.clone()).unwrap_or_default();
    let mut after_last = SseStream::open(&url, &[("last-event-id", &last)]).await;
    assert!(after_last
        .drain(Duration::from_millis(800))
        .await
        .is_empty());
    // A made-up id is refused.
    let bad = client()
        .get(&url)
        .header("last-event-id", "yesterday")
        .send()
        .await
        .expect("GET");
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn streams_past_the_cap_get_503_and_a_closed_one_frees_its_place() {
    let c = Collector::start_with(&["--max-live-streams", "2"]);
    let url = stream_url(&c, "");
    let first = SseStream::open(&url, &[]).await;
    let _second = SseStream::open(&url, &[]).await;
    let refused = client().get(&url).send().await.expect("GET");
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().get("retry-after").is_some());
    let body: Value = refused.json().await.expect("JSON error");
    assert!(body["error"]
        .as_str()
        .unwrap_or_default()
        .contains("live streams"));

    // The client goes: its stream ends and its place is given back (within a keep-alive).
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        let answer = client().get(&url).send().await.expect("GET");
        if answer.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the closed stream's place never came back"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
