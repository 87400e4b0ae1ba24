//! Blind pairwise review in the browser: a pairwise queue made from the /queues form (two
//! cohorts as trace-list links) lists with its progress; on its review page a reviewer named
//! once judges every pair by keyboard alone (← left, → right, ↓ tie), never told which run is
//! which cohort; /metrics then shows, per group of the page's group-by tag, B's preference
//! rate, its Wilson interval and the sign test's p-value, which match a computation done here
//! from the picks made.
//!
//! Needs: `cargo build -p skein-collector`, the built dashboard (dist/, or `SKEIN_TEST_DIST`),
//! chromium (see tests/common/mod.rs). Run with `cargo test --test browser_pairwise`.

mod common;
#[path = "../crates/collector/tests/common/stats.rs"]
mod stats;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{element, eventually, press, shot, texts, Browser, Collector};
use serde_json::json;
use stats::{sign_test, wilson};
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);
const PROJECT: &str = "pairs";
const RUNS: u64 = 8;

fn trace_id(n: u64) -> String {
    format!("{:032x}", 0xbeef_0000 + n)
}

fn tier(n: u64) -> &'static str {
    if n.is_multiple_of(3) {
        "pro"
    } else {
        "free"
    }
}

/// Cohort A's runs 1..=RUNS and B's 101..=100+RUNS; runs n and n + 100 answer the same
/// question, with the same tier.
async fn send_runs(collector: &Collector) {
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
        - 60_000_000_000;
    let mut spans = Vec::new();
    for n in 1..=RUNS {
        for (id, variant) in [(n, "A"), (n + 100, "B")] {
            let at = start + id as i64 * 1_000_000;
            let attr = |k: &str, v: String| json!({"key": k, "value": {"stringValue": v}});
            spans.push(json!({
                "traceId": trace_id(id), "spanId": format!("{:016x}", id + 1), "name": "answer",
                "startTimeUnixNano": at.to_string(),
                "endTimeUnixNano": (at + 5_000_000).to_string(),
                "attributes": [
                    attr("variant", variant.to_string()), attr("tier", tier(n).to_string()),
                    attr("input.value", format!("How do I reset password {n}?")),
                    attr("output.value", format!("Answer from run {id}")),
                ],
            }));
        }
    }
    collector
        .send_otlp_json(&json!({"resourceSpans": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": "helpdesk"}},
                {"key": "skein.project", "value": {"stringValue": PROJECT}},
            ]},
            "scopeSpans": [{"spans": spans}],
        }]}))
        .await;
}

/// The pair on the review page once it differs from `before` and both runs have loaded:
/// (pair id, left trace, right trace).
async fn shown_pair(driver: &WebDriver, before: Option<&str>) -> (String, String, String) {
    eventually(WAIT, "the next pair on the review page", || async {
        let el = driver.find(By::Css("[data-testid=pw-pair]")).await.ok()?;
        let id = el.attr("data-pair-id").await.ok()??;
        let left = el.attr("data-left").await.ok()??;
        let right = el.attr("data-right").await.ok()??;
        let body = el.text().await.ok()?;
        (Some(id.as_str()) != before && body.matches("Answer from run").count() == 2)
            .then_some((id, left, right))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pairwise_queue_reviewed_by_keyboard_shows_its_sign_test_on_metrics() {
    let collector = Collector::start(false).await;
    send_runs(&collector).await;
    let b_runs: HashSet<String> = (1..=RUNS).map(|n| trace_id(n + 100)).collect();
    let tier_of = |trace: &str| {
        let n = u64::from_str_radix(trace, 16).unwrap() - 0xbeef_0000;
        tier(n % 100)
    };

    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver
        .goto(collector.url(&format!("/queues?project={PROJECT}")))
        .await
        .unwrap();
    // Before any queue: the shared empty state (as the annotation queues have), saying what
    // a pairwise queue is.
    let empty = element(driver, ".pairwise-queues .empty-state[role=status]").await;
    let said = empty.text().await.unwrap();
    assert!(said.contains("No pairwise queues yet"), "{said}");
    assert!(said.contains("side by side"), "{said}");
    // Made from the form: the cohorts as trace-list links.
    let fill = |name: &'static str, text: String| async move {
        let input = element(driver, &format!("input[name={name}]")).await;
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    };
    fill("pairwise-name", "Helpdesk B vs A".into()).await;
    fill("pairwise-a", "/traces?tag=variant%3DA".into()).await;
    fill("pairwise-b", "/traces?tag=variant%3DB".into()).await;
    fill("pairwise-pairs", RUNS.to_string()).await;
    element(driver, "button[name=create-pairwise]")
        .await
        .click()
        .await
        .unwrap();
    let row = element(driver, "[data-testid=pairwise-queues] tr[data-pairwise-id]").await;
    let queue_id = row.attr("data-pairwise-id").await.unwrap().unwrap();
    let progress = row.text().await.unwrap();
    assert!(
        progress.contains(&format!("0 of {RUNS} done")),
        "{progress}"
    );
    shot(driver, "pairwise-queues").await;
    row.find(By::Css("a")).await.unwrap().click().await.unwrap();

    let name = element(driver, "input[name=reviewer-name]").await;
    name.send_keys("ann").await.unwrap();
    name.send_keys(Key::Enter).await.unwrap();

    // B wins on "free", A on "pro", except the first "free" pair: a tie.
    let mut expected: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    let mut before: Option<String> = None;
    // The review page's path names the queue: `/pairwise/{id}`.
    let url = driver.current_url().await.unwrap();
    assert_eq!(url.path(), format!("/pairwise/{queue_id}"));
    for i in 0..RUNS {
        let (id, left, right) = shown_pair(driver, before.as_deref()).await;
        assert_ne!(
            b_runs.contains(&left),
            b_runs.contains(&right),
            "{left} {right}"
        );
        assert_eq!(
            tier_of(&left),
            tier_of(&right),
            "matched on the same question"
        );
        let page = element(driver, "[data-testid=pw-pair]")
            .await
            .text()
            .await
            .unwrap();
        assert!(!page.contains("variant"), "the cohort is hidden: {page}");
        if i == 0 {
            shot(driver, "pairwise-review").await;
        }
        let b_left = b_runs.contains(&left);
        // Sides come from the model's hash of the queue and the pair: random across pairs,
        // the same on every read.
        let (a_run, b_run) = if b_left {
            (&right, &left)
        } else {
            (&left, &right)
        };
        assert_eq!(
            b_left,
            !skein_model::pairwise_queue::a_on_left(&queue_id, a_run, b_run),
            "{queue_id}: {left} {right}"
        );
        let group = tier_of(&left);
        let counts = expected.entry(group).or_default();
        let key = if group == "free" && counts.2 == 0 {
            counts.2 += 1;
            Key::Down
        } else if group == "free" {
            counts.1 += 1;
            if b_left {
                Key::Left
            } else {
                Key::Right
            }
        } else {
            counts.0 += 1;
            if b_left {
                Key::Right
            } else {
                Key::Left
            }
        };
        press(driver, key).await;
        before = Some(id);
    }
    element(driver, "[data-testid=review-done]").await;
    let progress = texts(driver, "[data-testid=queue-progress]").await;
    assert_eq!(progress, [format!("{RUNS} of {RUNS} done")], "{progress:?}");

    // A newer queue, not reviewed: the panel shows the newest unless the URL names another.
    let newer = collector
        .post_json(
            &format!("/api/v1/pairwise?project={PROJECT}"),
            json!({"name": "Not reviewed yet", "cohort_a": "tag=variant%3DA",
                "cohort_b": "tag=variant%3DB", "pairs": 1}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();

    // /metrics grouped by tier, on the reviewed queue: each group's numbers as computed here.
    driver
        .goto(collector.url(&format!(
            "/metrics?project={PROJECT}&group_by=tier&pairwise={queue_id}"
        )))
        .await
        .unwrap();
    for (group, (a, b, t)) in &expected {
        let row = element(
            driver,
            &format!("[data-testid=pw-results] tr[data-group='{group}']"),
        )
        .await;
        let text = |testid: &'static str| {
            let row = row.clone();
            async move {
                row.find(By::Css(format!("[data-testid={testid}]")))
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap()
            }
        };
        assert_eq!(text("pw-counts").await, format!("{b} / {a} / {t}"));
        assert_eq!(text("pw-n").await, (a + b + t).to_string());
        let n = a + b;
        let p = sign_test(*b, n);
        let shown_p: f64 = row.attr("data-p").await.unwrap().unwrap().parse().unwrap();
        assert!((shown_p - p).abs() < 1e-12, "{group}: p {shown_p} ≠ {p}");
        let shown = text("pw-p").await;
        let read: f64 = shown.trim_start_matches("p = ").parse().unwrap();
        assert!(
            (read - p).abs() <= 0.0005 + 1e-12,
            "{group}: {shown} for p = {p}"
        );
        let (low, high) = wilson(*b, n);
        assert_eq!(
            text("pw-ci").await,
            format!("{:.1}% – {:.1}%", low * 100.0, high * 100.0)
        );
        assert_eq!(
            text("pw-b-preferred").await,
            format!("{:.1}%", *b as f64 * 100.0 / n as f64)
        );
        assert_eq!(
            text("pw-ties").await,
            format!("{:.1}%", *t as f64 * 100.0 / (n + t) as f64)
        );
    }
    element(driver, "[data-testid=pairwise-panel]")
        .await
        .scroll_into_view()
        .await
        .unwrap();
    shot(driver, "pairwise-metrics").await;

    // Choosing the other queue puts it in the URL, and its (empty) results show.
    let select = element(driver, "select[name=pairwise-queue]").await;
    SelectElement::new(&select)
        .await
        .unwrap()
        .select_by_value(&newer)
        .await
        .unwrap();
    element(driver, "[data-testid=pw-empty]").await;
    let url = driver.current_url().await.unwrap().to_string();
    assert!(url.contains(&format!("pairwise={newer}")), "{url}");
    browser.quit().await;
}
