//! Span text is untrusted. Spans whose names, services, attributes, inputs, outputs, events,
//! tag keys and values, session and user ids carry HTML and script (`<img onerror>`,
//! `<script>`, `javascript:` URLs, SVG with `onload`) go in through OTLP, feedback with a
//! hostile key and comment through the feedback API; then every page that shows them is
//! visited. On each: the text is there literally, no payload ran (`window.__pwned` stays
//! unset), no element a payload would create exists, and no link starts with `javascript:`.
//!
//! Needs: `cargo build -p skein-collector`, `scripts/build-dashboard.sh`, chromium (see
//! tests/common/mod.rs). Run with `cargo test --test browser_untrusted`.

mod common;

use std::time::Duration;

use common::{eventually, js, Browser, Collector};
use serde_json::{json, Value};
use skein_model::query::{encode_pairs, percent_encode};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

const ROOT_NAME: &str = r#"<img src=x onerror="window.__pwned='root name'">agent"#;
const CHILD_NAME: &str = r#"<svg onload="window.__pwned='child name'"></svg>search"#;
const SERVICE: &str = r#"<script data-evil>window.__pwned='service'</script>gateway"#;
const CHILD_SERVICE: &str = r#"<img src=x onerror="window.__pwned='service 2'">tools"#;
const TAG_KEY: &str = r#"<img src=x onerror="window.__pwned='tag key'">variant"#;
const TAG_VALUES: [&str; 2] = [
    r#"javascript:window.__pwned='tag value'"#,
    r#"<svg onload="window.__pwned='tag value 2'">b</svg>"#,
];
const SESSION: &str = r#"<img src=x onerror="window.__pwned='session'">s1"#;
const USER: &str = r#"javascript:window.__pwned='user'//<b>u1</b>"#;
const INPUT: &str = r#"<script data-evil>window.__pwned='input'</script>What is 2+2?"#;
const OUTPUT: &str = r#"<a href="javascript:window.__pwned='output'">4</a>"#;
const ATTR_KEY: &str = "note";
const ATTR_VALUE: &str = r#"<iframe src="javascript:window.__pwned='attr'"></iframe>"#;
const EVENT_NAME: &str = r#"<img src=x onerror="window.__pwned='event'">retry"#;
const FEEDBACK_KEY: &str = r#"<svg onload="window.__pwned='feedback key'">helpful"#;
const FEEDBACK_COMMENT: &str = r#"<img src=x onerror="window.__pwned='comment'"> great answer"#;

fn trace_id(i: usize) -> String {
    format!("{:032x}", 0xe71_0000 + i)
}

fn root_span(i: usize) -> String {
    format!("{:016x}", 0xa000 + i)
}

fn otlp_trace(i: usize, start_ns: u128) -> Value {
    let attr = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let end_ns = start_ns + 40_000_000 + i as u128 * 10_000_000;
    json!({"resourceSpans": [
        {
            "resource": {"attributes": [attr("service.name", SERVICE)]},
            "scopeSpans": [{"spans": [{
                "traceId": trace_id(i), "spanId": root_span(i), "name": ROOT_NAME, "kind": 2,
                "startTimeUnixNano": start_ns.to_string(), "endTimeUnixNano": end_ns.to_string(),
                "attributes": [
                    attr("openinference.span.kind", "AGENT"),
                    attr("session.id", SESSION),
                    attr("user.id", USER),
                    attr(TAG_KEY, TAG_VALUES[i % 2]),
                    attr("input.value", INPUT),
                    attr("output.value", OUTPUT),
                    attr(ATTR_KEY, ATTR_VALUE),
                    attr("request_sequence", &(i + 1).to_string()),
                ],
                "events": [{"timeUnixNano": (start_ns + 1_000_000).to_string(), "name": EVENT_NAME,
                            "attributes": [attr("detail", ATTR_VALUE)]}]
            }]}]
        },
        {
            "resource": {"attributes": [attr("service.name", CHILD_SERVICE)]},
            "scopeSpans": [{"spans": [{
                "traceId": trace_id(i), "spanId": format!("{:016x}", 0xb000 + i),
                "parentSpanId": root_span(i), "name": CHILD_NAME, "kind": 2,
                "startTimeUnixNano": (start_ns + 5_000_000).to_string(),
                "endTimeUnixNano": (start_ns + 30_000_000).to_string(),
                "attributes": [attr("openinference.span.kind", "TOOL")]
            }]}]
        }
    ]})
}

/// What the page must not have: a payload that ran, an element a payload creates, a
/// `javascript:` link. Empty when all is well.
async fn injected(driver: &WebDriver) -> Vec<String> {
    let found = js(
        driver,
        r#"
        const out = [];
        if (window.__pwned !== undefined) out.push('window.__pwned = ' + String(window.__pwned));
        for (const el of document.querySelectorAll(
            'img[src=x], script[data-evil], svg[onload], iframe, [onerror], [onload]')) {
            out.push('element ' + el.outerHTML.slice(0, 120));
        }
        for (const el of document.querySelectorAll('[href], [src], [action], [formaction]')) {
            for (const name of ['href', 'src', 'action', 'formaction', 'xlink:href']) {
                const v = (el.getAttribute(name) || '').replace(/[\s\u0000-\u001f]/g, '');
                if (v.toLowerCase().startsWith('javascript:')) out.push(name + ' ' + v.slice(0, 80));
            }
        }
        return out;
        "#,
    )
    .await;
    serde_json::from_value(found).unwrap_or_else(|_| vec!["unreadable check".to_string()])
}

/// Opens `path` and waits until every text in `literal` is on the page as text (the whole
/// document's text, so option labels and SVG text count), then checks nothing was injected.
async fn visit(driver: &WebDriver, collector: &Collector, path: &str, literal: &[&str]) {
    driver.goto(collector.url(path)).await.unwrap();
    check_page(driver, path, literal).await;
}

async fn check_page(driver: &WebDriver, what: &str, literal: &[&str]) {
    let wanted: Vec<String> = literal.iter().map(|s| s.to_string()).collect();
    let missing = eventually(WAIT, &format!("{what}: the literal texts"), || {
        let wanted = wanted.clone();
        async move {
            let text = js(driver, "return document.body.textContent;").await;
            let text = text.as_str().unwrap_or("").to_string();
            let missing: Vec<String> = wanted.into_iter().filter(|w| !text.contains(w)).collect();
            missing.is_empty().then_some(missing)
        }
    })
    .await;
    assert!(missing.is_empty());
    // Give late renders (charts measure, panels fetch) a moment to run a payload.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let injected = injected(driver).await;
    assert!(injected.is_empty(), "{what}: {injected:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_is_shown_literally_on_every_page() {
    let collector = Collector::start(false).await;
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    for i in 0..4 {
        let start = now_ns - (10 - i as u128) * 60_000_000_000;
        collector.send_otlp_json(&otlp_trace(i, start)).await;
    }
    let client = reqwest::Client::new();
    for i in 0..4 {
        let response = client
            .post(collector.url("/api/v1/feedback"))
            .json(
                &json!({"run_id": root_span(i), "trace_id": trace_id(i), "key": FEEDBACK_KEY,
                          "score": (i % 2) as f64, "comment": FEEDBACK_COMMENT}),
            )
            .send()
            .await
            .expect("feedback");
        assert!(response.status().is_success(), "{}", response.status());
    }
    // Preconditions, through the API: the hostile tag key is a tag, the session and user exist.
    let tags = collector.get_json("/api/v1/tags").await;
    assert!(
        tags.as_array()
            .unwrap()
            .iter()
            .any(|t| t["key"].as_str() == Some(TAG_KEY)),
        "{tags}"
    );
    let sessions = collector.get_json("/api/v1/sessions").await;
    assert_eq!(
        sessions["sessions"][0]["session_id"].as_str(),
        Some(SESSION)
    );

    let browser = Browser::start().await;
    let driver = &browser.driver;

    visit(driver, &collector, "/traces", &[ROOT_NAME]).await;

    // The trace, with the detail panel open on the hostile root span.
    let trace_path = format!("/traces/{}?span={}", trace_id(0), root_span(0));
    visit(
        driver,
        &collector,
        &trace_path,
        &[
            ROOT_NAME,
            CHILD_NAME,
            INPUT,
            OUTPUT,
            ATTR_VALUE,
            EVENT_NAME,
            TAG_KEY,
            TAG_VALUES[0],
        ],
    )
    .await;
    // Feedback sits in the panel's own section, fetched on its own.
    check_page(
        driver,
        "the trace's feedback",
        &[FEEDBACK_KEY, FEEDBACK_COMMENT],
    )
    .await;
    // The hostile child span too.
    let child_path = format!("/traces/{}?span={:016x}", trace_id(0), 0xb000);
    visit(
        driver,
        &collector,
        &child_path,
        &[CHILD_NAME, CHILD_SERVICE],
    )
    .await;

    visit(driver, &collector, "/sessions", &[SESSION, USER]).await;
    let session_path = format!("/sessions/{}", percent_encode(SESSION));
    visit(
        driver,
        &collector,
        &session_path,
        &[SESSION, USER, INPUT, OUTPUT],
    )
    .await;
    visit(driver, &collector, "/users", &[USER]).await;
    let user_path = format!("/users/{}", percent_encode(USER));
    visit(driver, &collector, &user_path, &[USER, SESSION]).await;
    visit(driver, &collector, "/services", &[SERVICE, CHILD_SERVICE]).await;

    let metrics = format!(
        "/metrics?{}",
        encode_pairs([("metric", "latency_mean"), ("group_by", TAG_KEY)])
    );
    visit(
        driver,
        &collector,
        &metrics,
        &[TAG_KEY, TAG_VALUES[0], TAG_VALUES[1]],
    )
    .await;
    let feedback_metric = format!("feedback:{FEEDBACK_KEY}");
    let metrics = format!(
        "/metrics?{}",
        encode_pairs([("metric", feedback_metric.as_str()), ("group_by", TAG_KEY)])
    );
    visit(
        driver,
        &collector,
        &metrics,
        &[FEEDBACK_KEY, TAG_KEY, TAG_VALUES[0], TAG_VALUES[1]],
    )
    .await;
    browser.quit().await;
}
