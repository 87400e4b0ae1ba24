//! Sessions and users in a real browser, against a collector with demo data.
//!
//! Needs: `cargo build -p skein-collector`, `scripts/build-dashboard.sh`, chromium (see
//! tests/common/mod.rs). Run with `cargo test --test browser_sessions`.

mod common;

use std::time::Duration;

use common::{eventually, texts, Browser, Collector};
use serde_json::{json, Value};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

async fn attr_all(driver: &WebDriver, css: &str, attr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for el in driver.find_all(By::Css(css)).await.unwrap_or_default() {
        if let Ok(Some(v)) = el.attr(attr).await {
            out.push(v);
        }
    }
    out
}

async fn path(driver: &WebDriver) -> String {
    driver
        .current_url()
        .await
        .map(|u| u.path().to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_lists_its_requests_in_order_and_links_to_each_trace() {
    let collector = Collector::start_demo().await;

    // A demo session with several requests, and their order by request_sequence, read from
    // the trace list (the session endpoint is what the page uses; this is independent of it).
    let top = collector
        .get_json("/api/v1/sessions?project=default&sort=requests_desc&limit=1")
        .await;
    let session = top["sessions"][0]["session_id"]
        .as_str()
        .expect("a demo session")
        .to_string();
    let requests = top["sessions"][0]["request_count"].as_u64().unwrap();
    assert!(
        requests >= 3,
        "the busiest demo session has {requests} requests"
    );
    let traces = collector
        .get_json(&format!(
            "/api/v1/traces?project=default&session={session}&limit=100"
        ))
        .await;
    let mut expected: Vec<(i64, String)> = traces["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let seq: i64 = t["tags"]["request_sequence"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("demo traces carry request_sequence");
            (seq, t["trace_id"].as_str().unwrap().to_string())
        })
        .collect();
    expected.sort();
    assert_eq!(expected.len() as u64, requests);
    let expected_ids: Vec<String> = expected.iter().map(|(_, id)| id.clone()).collect();

    let browser = Browser::start().await;
    let driver = &browser.driver;

    // The list: the session is there (recently active first, so look it up by its link).
    driver
        .goto(collector.url("/sessions?sort=requests_desc"))
        .await
        .unwrap();
    let first = eventually(WAIT, "session rows", || async {
        attr_all(driver, "tr.session-row", "data-session-id")
            .await
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(
        first, session,
        "the busiest session first with sort=requests_desc"
    );
    let count = texts(driver, "[data-testid=result-count]").await;
    let total = top["total"].as_u64().unwrap();
    assert!(
        count
            .iter()
            .any(|c| c.replace(',', "").starts_with(&total.to_string())),
        "{count:?} shows {total}"
    );
    let active = driver
        .find(By::Css("nav a[aria-current=page]"))
        .await
        .unwrap();
    assert_eq!(active.text().await.unwrap(), "Sessions");

    // Open it from the list.
    driver
        .find(By::Css("tr.session-row a.session-link"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "the session page", || async {
        (path(driver).await == format!("/sessions/{session}")).then_some(())
    })
    .await;

    // Its requests, in request_sequence order, on the timeline.
    let shown = eventually(WAIT, "the session's requests", || async {
        let ids = attr_all(driver, ".timeline .req-row[data-trace-id]", "data-trace-id").await;
        (ids.len() == expected_ids.len()).then_some(ids)
    })
    .await;
    assert_eq!(shown, expected_ids, "requests in request_sequence order");
    let numbers = texts(driver, ".timeline .req-row[data-trace-id] .req-seq").await;
    let want: Vec<String> = expected.iter().map(|(s, _)| s.to_string()).collect();
    assert_eq!(numbers, want);
    let bars = driver
        .find_all(By::Css(".timeline .req-row[data-trace-id] .bar"))
        .await
        .unwrap();
    assert_eq!(bars.len(), expected_ids.len(), "a bar per request");

    // Each links to its trace.
    let hrefs = attr_all(
        driver,
        ".timeline .req-row[data-trace-id] a.req-link",
        "href",
    )
    .await;
    let want: Vec<String> = expected_ids
        .iter()
        .map(|id| format!("/traces/{id}"))
        .collect();
    let hrefs: Vec<String> = hrefs
        .iter()
        .map(|h| h.trim_start_matches(&collector.base).to_string())
        .collect();
    assert_eq!(hrefs, want);

    // The conversation: a turn per request; agent requests show their question as the input.
    let turns = attr_all(driver, ".conversation-panel .turn", "data-trace-id").await;
    assert_eq!(turns, expected_ids, "conversation turns in the same order");
    let detail = collector
        .get_json(&format!("/api/v1/sessions/{session}?project=default"))
        .await;
    let inputs: Vec<String> = detail["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["input"]["text"].as_str().map(str::to_string))
        .collect();
    assert!(!inputs.is_empty(), "demo agent runs carry their question");
    let bubbles = texts(driver, ".conversation-panel .bubble-user .bubble-text").await;
    assert_eq!(bubbles, inputs);

    // The second request's link opens its trace.
    let link = driver
        .find_all(By::Css(".timeline .req-row[data-trace-id] a.req-link"))
        .await
        .unwrap();
    link[1].click().await.unwrap();
    eventually(WAIT, "the trace page", || async {
        (path(driver).await == format!("/traces/{}", expected_ids[1])).then_some(())
    })
    .await;

    // The user's page lists this session among theirs.
    let user = top["sessions"][0]["user_id"].as_str().unwrap().to_string();
    driver
        .goto(collector.url(&format!("/sessions/{session}")))
        .await
        .unwrap();
    driver
        .query(By::Css(".entity-meta a.user-link"))
        .first()
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "the user's sessions", || async {
        let rows = attr_all(driver, "tr.session-row", "data-session-id").await;
        (path(driver).await == format!("/users/{user}") && rows.contains(&session)).then_some(())
    })
    .await;
    let heading = texts(driver, ".entity-title h1").await;
    assert_eq!(heading, vec![user.clone()]);

    // And /users lists the user.
    driver.goto(collector.url("/users")).await.unwrap();
    eventually(WAIT, "user rows", || async {
        attr_all(driver, "tr.user-row", "data-user-id")
            .await
            .contains(&user)
            .then_some(())
    })
    .await;

    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_shows_untrusted_text_as_text_and_unknown_sessions_say_so() {
    let collector = Collector::start(false).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let evil_input = r#"<img src=x onerror="window.__pwned=1"><b>bold?</b>"#;
    let evil_session = "<i>s</i> & co";
    let span = |trace: &str, id: &str, seq: i64, offset_s: u64, input: &str| -> Value {
        json!({
            "traceId": trace,
            "spanId": id,
            "name": "chat turn",
            "kind": 2,
            "startTimeUnixNano": (now - offset_s * 1_000_000_000).to_string(),
            "endTimeUnixNano": (now - offset_s * 1_000_000_000 + 500_000_000).to_string(),
            "attributes": [
                {"key": "session.id", "value": {"stringValue": evil_session}},
                {"key": "user.id", "value": {"stringValue": "<u>user</u>"}},
                {"key": "request_sequence", "value": {"intValue": seq.to_string()}},
                {"key": "input.value", "value": {"stringValue": input}},
                {"key": "output.value", "value": {"stringValue": "<script>window.__pwned=2</script>"}},
            ]
        })
    };
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "chat"}}]},
        "scopeSpans": [{"spans": [
            span("0af7651916cd43dd8448eb211c8031a1", "b7ad6b7169203341", 1, 120, evil_input),
            span("0af7651916cd43dd8448eb211c8031a2", "b7ad6b7169203342", 2, 60, "second"),
        ]}]
    }]});
    let response = reqwest::Client::new()
        .post(collector.otlp_traces_url())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());

    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver.goto(collector.url("/sessions")).await.unwrap();
    let name = eventually(WAIT, "the session row", || async {
        texts(driver, "tr.session-row .session-link")
            .await
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(name, evil_session);
    driver
        .find(By::Css("tr.session-row .session-link"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let bubbles = eventually(WAIT, "the conversation", || async {
        let b = texts(driver, ".conversation-panel .bubble-user .bubble-text").await;
        (b.len() == 2).then_some(b)
    })
    .await;
    assert_eq!(bubbles, vec![evil_input.to_string(), "second".to_string()]);
    // The requests' offsets from the session's start: the first says so, not a bare "+0".
    let offsets = texts(driver, "[data-testid=session-timeline] .req-row .time-ago").await;
    assert_eq!(offsets, ["start", "+1m"], "{offsets:?}");
    let ruler = texts(driver, "[data-testid=session-timeline] .ruler .tick").await;
    assert_eq!(
        ruler.first().map(String::as_str),
        Some("start"),
        "{ruler:?}"
    );
    assert!(!ruler.iter().any(|t| t == "+0"), "{ruler:?}");
    assert!(
        driver
            .find_all(By::Css(
                ".conversation-panel img, .conversation-panel b, .conversation-panel script"
            ))
            .await
            .unwrap()
            .is_empty(),
        "no markup from the data"
    );
    let pwned: bool = driver
        .execute("return window.__pwned !== undefined", vec![])
        .await
        .unwrap()
        .json()
        .as_bool()
        .unwrap();
    assert!(!pwned);
    assert_eq!(texts(driver, ".entity-title h1").await, vec![evil_session]);

    // An unknown session is a calm "no such session", not an error.
    driver
        .goto(collector.url("/sessions/no-such-session"))
        .await
        .unwrap();
    let title = eventually(WAIT, "the empty state", || async {
        texts(driver, ".empty-state h2").await.into_iter().next()
    })
    .await;
    assert_eq!(title, "No such session");

    browser.quit().await;
}
