//! The app's start: a trace's link asks for its skeleton from index.html, beside the app's
//! wasm (src/api/early.rs), and the page takes that answer instead of asking again: once, in
//! any project, and with an API key (a refused early answer is asked for again, as any 401).
//!
//! Needs: `cargo build -p skein-collector`, `scripts/build-dashboard.sh`, chromium (see
//! tests/common/mod.rs). Run with `cargo test --test browser_start`.

mod common;

use std::time::Duration;

use common::keys::{enter_key, prompt_shown};
use common::{eventually, js, texts, Browser, Collector};
use serde_json::{json, Value};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

/// A root and two children named after `label`, in `project`, sent with `key` if any.
async fn send_trace(
    collector: &Collector,
    project: &str,
    key: Option<&str>,
    trace_id: &str,
    label: &str,
) {
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        - 60_000_000_000;
    let span = |id: u64, parent: Option<u64>, name: String| {
        let mut span = json!({
            "traceId": trace_id, "spanId": format!("{id:016x}"), "name": name, "kind": 1,
            "startTimeUnixNano": (start + id * 1_000_000).to_string(),
            "endTimeUnixNano": (start + 50_000_000).to_string(),
        });
        if let Some(p) = parent {
            span["parentSpanId"] = json!(format!("{p:016x}"));
        }
        span
    };
    let body = json!({"resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
    "scopeSpans": [{"spans": [
        span(1, None, format!("{label}_root")),
        span(2, Some(1), format!("{label}_child_a")),
        span(3, Some(1), format!("{label}_child_b")),
    ]}]}]});
    let mut request = reqwest::Client::new()
        .post(collector.otlp_traces_url())
        .header("x-skein-project", project)
        .json(&body);
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.expect("OTLP request");
    assert!(response.status().is_success(), "{}", response.status());
}

/// The trace page's title (its root span's name), once its three rows are drawn.
async fn trace_title(driver: &WebDriver) -> String {
    eventually(WAIT, "the trace's rows", || async {
        let rows = js(
            driver,
            "return document.querySelectorAll('.span-row[data-span-id]').length",
        )
        .await;
        let title = texts(driver, ".trace-title h1").await.into_iter().next()?;
        (rows == 3).then_some(title)
    })
    .await
}

/// How many requests this page sent for the skeleton of `trace_id`.
async fn skeleton_requests(driver: &WebDriver, trace_id: &str) -> Value {
    js(
        driver,
        &format!(
            "return performance.getEntriesByType('resource')
                .filter(e => new URL(e.name).pathname === '/api/v1/traces/{trace_id}').length"
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_link_asks_for_its_skeleton_once_in_any_project() {
    let collector = Collector::start(false).await;
    let plain = "0c0ffee0000000000000000000000001";
    let spaced = "0c0ffee0000000000000000000000002";
    send_trace(&collector, "default", None, plain, "plain").await;
    // A project whose name the link must encode (a space, a plus, an apostrophe).
    send_trace(&collector, "team a+b's", None, spaced, "spaced").await;

    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver
        .goto(collector.url(&format!("/traces/{plain}")))
        .await
        .unwrap();
    assert_eq!(trace_title(driver).await, "plain_root");
    assert_eq!(skeleton_requests(driver, plain).await, 1);
    // Sent by index.html: before the page, once started, went to fetch it.
    let sent_early = js(
        driver,
        &format!(
            "const sent = performance.getEntriesByType('resource')
                .find(e => new URL(e.name).pathname === '/api/v1/traces/{plain}').startTime;
             return sent < performance.getEntriesByName('skein:trace-requested')[0].startTime"
        ),
    )
    .await;
    assert_eq!(
        sent_early, true,
        "the skeleton asked for before the page started"
    );

    driver
        .goto(collector.url(&format!("/traces/{spaced}?project=team+a%2Bb%27s")))
        .await
        .unwrap();
    assert_eq!(trace_title(driver).await, "spaced_root");
    assert_eq!(skeleton_requests(driver, spaced).await, 1);

    // A trace that is not there: the page says so (the early answer is a 404 like any other).
    let missing = "0c0ffee0000000000000000000000009";
    driver
        .goto(collector.url(&format!("/traces/{missing}")))
        .await
        .unwrap();
    eventually(WAIT, "the not-found notice", || async {
        texts(driver, ".empty-state h2, .empty-state h3")
            .await
            .into_iter()
            .find(|t| t.contains("Trace not found"))
    })
    .await;
    assert_eq!(skeleton_requests(driver, missing).await, 1);
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_link_with_keys_asks_for_a_key_then_shows_the_trace() {
    let mut key = String::new();
    let collector = Collector::start_prepared(false, |dir| {
        Collector::cli(dir, &["project", "create", "team-a"]);
        key = Collector::cli(dir, &["key", "create", "--project", "team-a"]);
    })
    .await;
    let trace_id = "0c0ffee00000000000000000000000a1";
    send_trace(&collector, "team-a", Some(&key), trace_id, "keyed").await;

    let browser = Browser::start().await;
    let driver = &browser.driver;
    let link = collector.url(&format!("/traces/{trace_id}?project=team-a"));
    // No key in this session: the early answer is refused, the page asks for a key, and
    // once it is given the trace shows.
    driver.goto(&link).await.unwrap();
    eventually(WAIT, "the key prompt", || async {
        prompt_shown(driver).await.then_some(())
    })
    .await;
    enter_key(driver, &key).await;
    assert_eq!(trace_title(driver).await, "keyed_root");

    // With the key kept for the session, index.html sends it with the early request: one
    // request, answered.
    driver.goto(&link).await.unwrap();
    assert_eq!(trace_title(driver).await, "keyed_root");
    assert!(!prompt_shown(driver).await);
    assert_eq!(skeleton_requests(driver, trace_id).await, 1);
    browser.quit().await;
}
