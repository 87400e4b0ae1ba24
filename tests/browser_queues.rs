//! Annotation queues in the browser: a queue made over HTTP lists on /queues with its
//! progress; on its review page a reviewer names themself once, rates two runs by keyboard
//! alone (a digit chooses the category, Enter saves and moves on), skips a third with `s`, and
//! the ratings are feedback on those traces, by the queue.
//!
//! Needs: `cargo build -p skein-collector`, the built dashboard (dist/, or `SKEIN_TEST_DIST`),
//! chromium (see tests/common/mod.rs). Run with `cargo test --test browser_queues`.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{eventually, press, texts, Browser, Collector};
use serde_json::{json, Value};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);
const PROJECT: &str = "review";

async fn post(collector: &Collector, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(collector.url(path))
        .json(&body)
        .send()
        .await
        .expect("POST");
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "POST {path}: {status} {answer}");
    answer
}

/// Three traces, each a root span with a question and an answer.
async fn send_traces(collector: &Collector) -> Vec<String> {
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
        - 60_000_000_000;
    let mut ids = Vec::new();
    let mut spans = Vec::new();
    for n in 1..=3u64 {
        let at = start + n as i64 * 1_000_000_000;
        ids.push(format!("{:032x}", 0xfeed_0000 + n));
        spans.push(json!({
            "traceId": ids.last().unwrap(), "spanId": format!("{:016x}", n), "name": "answer",
            "startTimeUnixNano": at.to_string(), "endTimeUnixNano": (at + 5_000_000).to_string(),
            "attributes": [
                {"key": "input.value", "value": {"stringValue": format!("What is {n} + {n}?")}},
                {"key": "output.value", "value": {"stringValue": format!("It is {}.", n * 2)}},
            ],
        }));
    }
    collector
        .send_otlp_json(&json!({"resourceSpans": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": "tutor"}},
                {"key": "skein.project", "value": {"stringValue": PROJECT}},
            ]},
            "scopeSpans": [{"spans": spans}],
        }]}))
        .await;
    ids
}

async fn element(driver: &WebDriver, css: &str) -> WebElement {
    driver
        .query(By::Css(css))
        .wait(WAIT, Duration::from_millis(100))
        .first()
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

/// The trace id of the item the review page shows now, once it differs from `before`.
async fn shown_item(driver: &WebDriver, before: Option<&str>) -> String {
    eventually(WAIT, "the next item on the review page", || async {
        let el = driver
            .find(By::Css("[data-testid=review-item]"))
            .await
            .ok()?;
        let id = el.attr("data-trace-id").await.ok()??;
        // The run's text has loaded too.
        let body = el.text().await.ok()?;
        (Some(id.as_str()) != before && body.contains("What is")).then_some(id)
    })
    .await
}

async fn feedback_of(collector: &Collector, trace_id: &str) -> Vec<Value> {
    collector
        .get_json(&format!(
            "/api/v1/feedback?project={PROJECT}&trace_id={trace_id}"
        ))
        .await["feedback"]
        .as_array()
        .expect("feedback list")
        .clone()
}

async fn shot(driver: &WebDriver, name: &str) {
    let Some(dir) = std::env::var_os("SKEIN_SCREENSHOTS") else {
        return;
    };
    for theme in ["light", "dark"] {
        driver
            .execute(
                &format!(
                    "localStorage.setItem('skein-theme', '{theme}'); \
                     document.documentElement.dataset.theme = '{theme}';"
                ),
                vec![],
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        let path = std::path::Path::new(&dir).join(format!("{name}-{theme}.png"));
        driver.screenshot(&path).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_rates_a_queue_by_keyboard_and_the_ratings_reach_the_traces() {
    let collector = Collector::start(false).await;
    let traces = send_traces(&collector).await;
    post(
        &collector,
        &format!("/api/v1/score-configs?project={PROJECT}"),
        json!({"key": "correctness", "type": "categorical", "categories": [
            {"label": "correct", "score": 1}, {"label": "partly", "score": 0.5},
            {"label": "wrong", "score": 0}]}),
    )
    .await;
    let queue = post(
        &collector,
        &format!("/api/v1/queues?project={PROJECT}"),
        json!({"name": "Tutor answers", "score_keys": ["correctness"]}),
    )
    .await;
    let id = queue["id"].as_str().unwrap().to_string();
    let added = post(
        &collector,
        &format!("/api/v1/queues/{id}/items?project={PROJECT}"),
        json!({"trace_ids": traces}),
    )
    .await;
    assert_eq!(added["added"], 3);

    let browser = Browser::start().await;
    let driver = &browser.driver;
    // The list shows the queue and its progress, and leads to the review page.
    driver
        .goto(collector.url(&format!("/queues?project={PROJECT}")))
        .await
        .unwrap();
    element(driver, "[data-testid=queues]").await;
    let progress = texts(driver, "[data-testid=queue-progress]").await;
    assert_eq!(progress, ["0 of 3 done"], "{progress:?}");
    shot(driver, "queues").await;
    element(driver, &format!("tr[data-queue-id='{id}'] a"))
        .await
        .click()
        .await
        .unwrap();

    // Named once, the reviewer gets the first item.
    let name = element(driver, "input[name=reviewer-name]").await;
    name.send_keys("ann").await.unwrap();
    name.send_keys(Key::Enter).await.unwrap();
    let first = shown_item(driver, None).await;
    assert_eq!(first, traces[0]);
    shot(driver, "queue-review").await;
    // "1" chooses "correct"; Enter saves and brings the next item.
    press(driver, '1').await;
    eventually(WAIT, "the chosen category", || async {
        let chosen = texts(driver, "[data-testid=review-chosen]").await;
        (chosen.first().map(String::as_str) == Some("correct (1)")).then_some(())
    })
    .await;
    press(driver, Key::Enter).await;
    let second = shown_item(driver, Some(&first)).await;
    assert_eq!(second, traces[1]);
    press(driver, '3').await;
    press(driver, Key::Enter).await;
    let third = shown_item(driver, Some(&second)).await;
    assert_eq!(third, traces[2]);
    press(driver, 's').await;
    element(driver, "[data-testid=review-done]").await;
    let progress = texts(driver, "[data-testid=queue-progress]").await;
    assert_eq!(progress, ["3 of 3 done (1 skipped)"], "{progress:?}");

    for (trace, score) in [(&traces[0], 1.0), (&traces[1], 0.0)] {
        let records = feedback_of(&collector, trace).await;
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(records[0]["key"], "correctness");
        assert_eq!(records[0]["score"], score);
        assert_eq!(records[0]["source"], "queue");
    }
    assert!(feedback_of(&collector, &traces[2]).await.is_empty());
    let items = collector
        .get_json(&format!("/api/v1/queues/{id}/items?project={PROJECT}"))
        .await;
    let finished: Vec<(&str, &str)> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["status"].as_str().unwrap(),
                i["finished_by"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        finished,
        [("done", "ann"), ("done", "ann"), ("skipped", "ann")]
    );
    browser.quit().await;
}
