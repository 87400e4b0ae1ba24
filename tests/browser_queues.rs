//! Annotation queues in the browser: a queue made over HTTP lists on /queues with its
//! progress; on its review page a reviewer names themself once, rates two runs by keyboard
//! alone (a digit chooses the category, Enter saves and moves on), skips a third with `s`, and
//! the ratings are feedback on those traces, by the queue. A reviewer works through 20 items by
//! keyboard alone (with a comment, `c`, and a look back at what was rated, `k`); two browsers
//! on one queue never hold the same item; a score config's refusal shows in the review page;
//! "Add to queue" on the trace page and on the trace list adds runs to a queue.
//!
//! Needs: `cargo build -p skein-collector`, the built dashboard (dist/, or `SKEIN_TEST_DIST`),
//! chromium (see tests/common/mod.rs). Run with `cargo test --test browser_queues`.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{element, eventually, press, shot, texts, Browser, Collector};
use serde_json::{json, Value};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);
const PROJECT: &str = "review";

/// Three traces, each a root span with a question and an answer.
async fn send_traces(collector: &Collector) -> Vec<String> {
    send_n_traces(collector, 3).await
}

/// `n` traces, each a root span with a question and an answer, oldest first.
async fn send_n_traces(collector: &Collector, n: u64) -> Vec<String> {
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
        - 60_000_000_000;
    let mut ids = Vec::new();
    let mut spans = Vec::new();
    for n in 1..=n {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_rates_a_queue_by_keyboard_and_the_ratings_reach_the_traces() {
    let collector = Collector::start(false).await;
    let traces = send_traces(&collector).await;
    let id = rated_queue(&collector, &[]).await;
    let added = collector
        .post_json(
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
    // The run's trace as a compact tree, the run under review marked.
    let marked = eventually(WAIT, "the run's tree", || async {
        let rows = texts(
            driver,
            "[data-testid=compact-tree] .compact-tree-row.marked",
        )
        .await;
        (!rows.is_empty()).then_some(rows)
    })
    .await;
    assert_eq!(marked.len(), 1, "{marked:?}");
    assert!(marked[0].contains("answer"), "{marked:?}");
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
    let finished: Vec<(&str, &Value)> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let by = match i["status"].as_str().unwrap() {
                "skipped" => &i["skipped_by"],
                _ => &i["completed_by"],
            };
            (i["status"].as_str().unwrap(), by)
        })
        .collect();
    let ann = json!(["ann"]);
    assert_eq!(
        finished,
        [("done", &ann), ("done", &ann), ("skipped", &ann)]
    );
    browser.quit().await;
}

const CATEGORIES: [(&str, f64); 3] = [("correct", 1.0), ("partly", 0.5), ("wrong", 0.0)];

/// A categorical `correctness` config and a queue of `traces` collecting it; the queue's id.
async fn rated_queue(collector: &Collector, traces: &[String]) -> String {
    collector
        .post_json(
            &format!("/api/v1/score-configs?project={PROJECT}"),
            json!({"key": "correctness", "type": "categorical", "categories": CATEGORIES
            .iter()
            .map(|(label, score)| json!({"label": label, "score": score}))
            .collect::<Vec<_>>()}),
        )
        .await;
    let queue = collector
        .post_json(
            &format!("/api/v1/queues?project={PROJECT}"),
            json!({"name": "Tutor answers", "score_keys": ["correctness"]}),
        )
        .await;
    let id = queue["id"].as_str().unwrap().to_string();
    if !traces.is_empty() {
        collector
            .post_json(
                &format!("/api/v1/queues/{id}/items?project={PROJECT}"),
                json!({"trace_ids": traces}),
            )
            .await;
    }
    id
}

/// Opens the review page of queue `id` and names the reviewer.
async fn start_reviewing(driver: &WebDriver, collector: &Collector, id: &str, name: &str) {
    driver
        .goto(collector.url(&format!("/queues/{id}?project={PROJECT}")))
        .await
        .unwrap();
    let input = element(driver, "input[name=reviewer-name]").await;
    input.send_keys(name).await.unwrap();
    input.send_keys(Key::Enter).await.unwrap();
}

async fn wait_chosen(driver: &WebDriver, label: &str) {
    let want = label.to_string();
    eventually(WAIT, "the chosen category", || async {
        let chosen = texts(driver, "[data-testid=review-chosen]").await;
        chosen
            .first()
            .is_some_and(|c| c.starts_with(want.as_str()))
            .then_some(())
    })
    .await;
}

/// The rated item `k` shows: its trace and what the page says was given.
async fn past_item(driver: &WebDriver, trace: &str) -> String {
    eventually(WAIT, "the item rated before", || async {
        let el = driver
            .find(By::Css("[data-testid=review-item]"))
            .await
            .ok()?;
        let id = el.attr("data-trace-id").await.ok()??;
        let past = driver
            .find(By::Css("[data-testid=review-past]"))
            .await
            .ok()?;
        (id == trace).then_some(())?;
        past.text().await.ok()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_works_through_20_items_by_keyboard_alone() {
    let collector = Collector::start(false).await;
    let traces = send_n_traces(&collector, 20).await;
    let id = rated_queue(&collector, &traces).await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    start_reviewing(driver, &collector, &id, "ann").await;

    let mut shown = None::<String>;
    for (i, trace) in traces.iter().enumerate() {
        let now = shown_item(driver, shown.as_deref()).await;
        assert_eq!(&now, trace, "item {i}");
        if i == 10 {
            // Back twice: the items rated before, with what was given; forward twice: here.
            press(driver, 'k').await;
            let past = past_item(driver, &traces[9]).await;
            assert!(past.contains(CATEGORIES[9 % 3].0), "{past}");
            press(driver, 'k').await;
            let past = past_item(driver, &traces[8]).await;
            assert!(past.contains(CATEGORIES[8 % 3].0), "{past}");
            shot(driver, "queue-review-back").await;
            // Read-only: a digit and Enter do nothing there.
            press(driver, '1').await;
            press(driver, Key::Enter).await;
            press(driver, 'j').await;
            past_item(driver, &traces[9]).await;
            press(driver, 'j').await;
            assert_eq!(shown_item(driver, None).await, traces[10]);
            assert!(!common::present(driver, "[data-testid=review-past]").await);
        }
        let (label, _) = CATEGORIES[i % 3];
        press(driver, char::from(b'1' + (i % 3) as u8)).await;
        wait_chosen(driver, label).await;
        if i == 4 {
            // `c` opens the comment box; Enter in it saves the item.
            press(driver, 'c').await;
            for ch in "too terse".chars() {
                press(driver, ch).await;
            }
            press(driver, Key::Enter).await;
        } else {
            press(driver, Key::Enter).await;
        }
        shown = Some(now);
    }
    element(driver, "[data-testid=review-done]").await;
    let progress = texts(driver, "[data-testid=queue-progress]").await;
    assert_eq!(progress, ["20 of 20 done"], "{progress:?}");
    shot(driver, "queue-review-done").await;
    // What was rated is kept for the tab's session: `k` still shows it after a reload.
    driver.refresh().await.unwrap();
    element(driver, "[data-testid=review-done]").await;
    press(driver, 'k').await;
    let past = past_item(driver, &traces[19]).await;
    assert!(past.contains(CATEGORIES[19 % 3].0), "{past}");

    // Every rating is feedback of the queue, by Ann, on its trace, as chosen.
    let rated = collector
        .get_json(&format!("/api/v1/feedback?project={PROJECT}&queue_id={id}"))
        .await;
    let records = rated["feedback"].as_array().unwrap();
    assert_eq!(records.len(), 20, "{rated}");
    for (i, trace) in traces.iter().enumerate() {
        let record = records
            .iter()
            .find(|r| r["trace_id"] == json!(trace))
            .unwrap_or_else(|| panic!("no rating of item {i}: {rated}"));
        assert_eq!(record["score"], CATEGORIES[i % 3].1, "item {i}");
        assert_eq!(record["reviewer"], "ann");
        assert_eq!(record["key"], "correctness");
        let comment = (i == 4).then_some("too terse");
        assert_eq!(record["comment"].as_str(), comment, "item {i}");
    }
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_on_one_queue_never_hold_the_same_item() {
    let collector = Collector::start(false).await;
    let traces = send_n_traces(&collector, 6).await;
    let id = rated_queue(&collector, &traces).await;
    let (ann, bob) = (Browser::start().await, Browser::start().await);
    start_reviewing(&ann.driver, &collector, &id, "ann").await;
    start_reviewing(&bob.driver, &collector, &id, "bob").await;
    let mut seen = Vec::new();
    let (mut ann_item, mut bob_item) = (None::<String>, None::<String>);
    for _ in 0..3 {
        let a = shown_item(&ann.driver, ann_item.as_deref()).await;
        let b = shown_item(&bob.driver, bob_item.as_deref()).await;
        assert_ne!(a, b, "both browsers hold {a}");
        // What the server holds agrees: each item under one lease, each its own.
        let items = collector
            .get_json(&format!("/api/v1/queues/{id}/items?project={PROJECT}"))
            .await;
        let held: Vec<(String, String)> = items["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["status"] == "in_progress")
            .map(|i| {
                let holders = i["leases"].as_array().unwrap();
                assert_eq!(holders.len(), 1, "{i}");
                (
                    i["trace_id"].as_str().unwrap().to_string(),
                    holders[0]["holder"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let mut expected = vec![
            (a.clone(), "ann".to_string()),
            (b.clone(), "bob".to_string()),
        ];
        expected.sort();
        let mut held = held;
        held.sort();
        assert_eq!(held, expected);
        seen.extend([a.clone(), b.clone()]);
        for driver in [&ann.driver, &bob.driver] {
            press(driver, '1').await;
            wait_chosen(driver, "correct").await;
            press(driver, Key::Enter).await;
        }
        (ann_item, bob_item) = (Some(a), Some(b));
    }
    seen.sort();
    let mut all = traces.clone();
    all.sort();
    assert_eq!(seen, all, "each item reviewed once, by one of them");
    for b in [ann, bob] {
        element(&b.driver, "[data-testid=review-done]").await;
        b.quit().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_score_configs_refusal_shows_in_the_review_page() {
    let collector = Collector::start(false).await;
    let traces = send_n_traces(&collector, 1).await;
    let id = rated_queue(&collector, &traces).await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    start_reviewing(driver, &collector, &id, "ann").await;
    shown_item(driver, None).await;
    // The config changes after the page loaded: "wrong" is no longer a category.
    let response = reqwest::Client::new()
        .put(collector.url(&format!(
            "/api/v1/score-configs/correctness?project={PROJECT}"
        )))
        .json(
            &json!({"key": "correctness", "type": "categorical", "categories": [
            {"label": "correct", "score": 1}, {"label": "partly", "score": 0.5}]}),
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    press(driver, '3').await;
    wait_chosen(driver, "wrong").await;
    press(driver, Key::Enter).await;
    let error = element(driver, "[data-testid=review-error]").await;
    let message = error.text().await.unwrap();
    assert!(
        message.starts_with("Couldn't save:") && message.contains("correctness"),
        "{message}"
    );
    assert!(
        message.contains("correct") && message.contains("partly"),
        "{message}"
    );
    shot(driver, "queue-review-refused").await;
    // Nothing was stored; the item is still Ann's to rate.
    assert!(feedback_of(&collector, &traces[0]).await.is_empty());
    press(driver, '1').await;
    wait_chosen(driver, "correct").await;
    press(driver, Key::Enter).await;
    element(driver, "[data-testid=review-done]").await;
    assert_eq!(feedback_of(&collector, &traces[0]).await.len(), 1);
    browser.quit().await;
}

/// Opens "Add to queue", checks what its button offers (`offer`), confirms; what it says then.
async fn add_through_panel(driver: &WebDriver, offer: &str, shot_name: &str) -> String {
    element(driver, "[data-testid=add-to-queue]")
        .await
        .click()
        .await
        .unwrap();
    let confirm = element(driver, "button[name=add-to-queue-confirm]").await;
    assert_eq!(confirm.text().await.unwrap(), offer);
    shot(driver, shot_name).await;
    confirm.click().await.unwrap();
    let done = element(driver, "[data-testid=add-to-queue-done]").await;
    done.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_to_queue_from_the_trace_page_and_the_trace_list() {
    let collector = Collector::start(false).await;
    let traces = send_n_traces(&collector, 5).await;
    let id = rated_queue(&collector, &[]).await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    let queued = || async {
        collector
            .get_json(&format!("/api/v1/queues/{id}/items?project={PROJECT}"))
            .await["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["trace_id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };

    // This trace, from its page.
    driver
        .goto(collector.url(&format!("/traces/{}?project={PROJECT}", traces[2])))
        .await
        .unwrap();
    let done = add_through_panel(driver, "Add this trace", "trace-add-to-queue").await;
    assert!(done.starts_with("Added 1 trace"), "{done}");
    assert_eq!(queued().await, [traces[2].clone()]);

    // The list's traces, with their count said first.
    driver
        .goto(collector.url(&format!("/traces?project={PROJECT}")))
        .await
        .unwrap();
    eventually(WAIT, "the list's count", || async {
        let count = texts(driver, "[data-testid=result-count]").await;
        (count.first().map(String::as_str) == Some("5 traces")).then_some(())
    })
    .await;
    let text = add_through_panel(driver, "Add 5 traces", "traces-add-to-queue").await;
    assert!(
        text.starts_with("Added 4 traces (1 already queued)"),
        "{text}"
    );
    let mut got = queued().await;
    got.sort();
    let mut all = traces.clone();
    all.sort();
    assert_eq!(got, all);

    // The spans page's spans, by the same button: each root span is its own item.
    driver
        .goto(collector.url(&format!("/spans?project={PROJECT}")))
        .await
        .unwrap();
    eventually(WAIT, "the span list's count", || async {
        let count = texts(driver, "[data-testid=result-count]").await;
        count
            .first()
            .filter(|c| c.starts_with("5 spans"))
            .map(|_| ())
    })
    .await;
    let text = add_through_panel(driver, "Add 5 spans", "spans-add-to-queue").await;
    assert!(text.starts_with("Added 5 spans"), "{text}");
    let items = collector
        .get_json(&format!("/api/v1/queues/{id}/items?project={PROJECT}"))
        .await;
    let span_items = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["span_id"].is_string())
        .count();
    assert_eq!(span_items, 5, "{items}");
    browser.quit().await;
}
