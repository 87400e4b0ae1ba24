//! Feedback from the browser, against a collector with demo data: rate a span in the trace
//! page's detail panel, see the badge on its row at once, after a reload, and in the API; a
//! save that fails (the collector is down) shows an error and leaves no phantom badge; edit
//! and delete reach the API too.
//!
//! Needs: `cargo build -p skein-collector`, the built dashboard (dist/, or `SKEIN_TEST_DIST`),
//! chromium (see tests/common/mod.rs). Run with `cargo test --test browser_feedback`.

mod common;

use std::time::Duration;

use common::{click, eventually, js, texts, Browser, Collector};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

/// A demo trace of the agent kind and the id of its `planning_agent` span (the demo's own
/// feedback is on root spans, so this one starts without any).
async fn demo_span(collector: &Collector) -> (String, String) {
    let page = collector
        .get_json("/api/v1/traces?project=default&name=main_agent&limit=1")
        .await;
    let trace_id = page["traces"][0]["trace_id"]
        .as_str()
        .expect("a main_agent trace")
        .to_string();
    let skeleton = collector
        .get_json(&format!("/api/v1/traces/{trace_id}?project=default"))
        .await;
    let names = skeleton["names"].as_array().expect("names");
    let span = skeleton["spans"]
        .as_array()
        .expect("spans")
        .iter()
        .find(|s| names[s[2].as_u64().unwrap() as usize] == "planning_agent")
        .expect("a planning_agent span");
    (trace_id, span[0].as_str().unwrap().to_string())
}

async fn span_feedback(collector: &Collector, span_id: &str) -> Vec<serde_json::Value> {
    collector
        .get_json(&format!(
            "/api/v1/feedback?project=default&run_id={span_id}"
        ))
        .await["feedback"]
        .as_array()
        .expect("feedback list")
        .clone()
}

fn badge_css(span_id: &str) -> String {
    format!(".span-row[data-span-id='{span_id}'] [data-testid=feedback-badge]")
}

/// The badge's tooltip on the span's row, once it is there.
async fn badge_title(driver: &WebDriver, span_id: &str) -> Option<String> {
    let badge = driver.find(By::Css(badge_css(span_id))).await.ok()?;
    badge.attr("title").await.ok()?
}

async fn fill(driver: &WebDriver, css: &str, text: &str) {
    let el = driver
        .query(By::Css(css))
        .first()
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

/// The saved (not pending) records the widget lists: (key, score, comment).
async fn listed(driver: &WebDriver) -> Vec<String> {
    texts(driver, "[data-testid=feedback-list] .fb-item:not(.pending)").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_a_span_and_see_it_everywhere() {
    let mut collector = Collector::start_demo().await;
    let (trace_id, span_id) = demo_span(&collector).await;
    assert!(span_feedback(&collector, &span_id).await.is_empty());
    let browser = Browser::start().await;
    let driver = &browser.driver;

    // The trace page with the span selected: the detail panel shows the rating widget.
    let page = collector.url(&format!("/traces/{trace_id}?span={span_id}"));
    driver.goto(&page).await.unwrap();
    eventually(WAIT, "the feedback widget", || async {
        let empty = texts(driver, "[data-testid=span-feedback] .fb-empty").await;
        empty
            .iter()
            .any(|t| t.contains("No feedback on this span"))
            .then_some(())
    })
    .await;
    assert!(
        badge_title(driver, &span_id).await.is_none(),
        "no badge before rating"
    );

    // Thumbs up with a comment: the badge is there at once, then the saved record.
    let comment = "Planned the right steps <b>&amp;</b> fast";
    fill(driver, "textarea[name=feedback-comment]", comment).await;
    click(driver, "button[name=thumbs-up]").await;
    let title = eventually(WAIT, "the badge on the span's row", || async {
        badge_title(driver, &span_id).await
    })
    .await;
    assert!(title.contains(comment), "badge tooltip: {title:?}");
    let items = eventually(WAIT, "the saved record in the widget", || async {
        let items = listed(driver).await;
        (!items.is_empty()).then_some(items)
    })
    .await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(items[0].contains(comment), "{items:?}");
    assert!(items[0].contains("user_satisfaction"), "{items:?}");
    assert!(items[0].contains("app"), "saved with source app: {items:?}");
    // The comment is text, not markup.
    assert_eq!(
        js(
            driver,
            "return document.querySelectorAll('.fb-item b').length"
        )
        .await,
        0
    );

    // The API has the same record.
    let stored = span_feedback(&collector, &span_id).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["key"], "user_satisfaction");
    assert_eq!(stored[0]["score"], 1.0);
    assert_eq!(stored[0]["comment"], comment);
    assert_eq!(stored[0]["source"], "app");
    assert_eq!(stored[0]["trace_id"], trace_id.as_str());

    // A reload still shows it: the badge on the row and the record in the panel.
    driver.refresh().await.unwrap();
    let title = eventually(WAIT, "the badge after a reload", || async {
        badge_title(driver, &span_id).await
    })
    .await;
    assert!(title.contains(comment), "{title:?}");
    eventually(WAIT, "the record after a reload", || async {
        let items = listed(driver).await;
        (items.len() == 1 && items[0].contains(comment)).then_some(())
    })
    .await;

    // A save that fails: the collector is down. An error, and no phantom badge or record.
    collector.stop();
    let lost = "This one never reaches the collector";
    fill(driver, "textarea[name=feedback-comment]", lost).await;
    click(driver, "button[name=thumbs-down]").await;
    let error = eventually(WAIT, "the save error", || async {
        let errors = texts(driver, "[data-testid=feedback-error]").await;
        errors.into_iter().next()
    })
    .await;
    assert!(
        error.contains("Couldn't save the feedback"),
        "error message: {error:?}"
    );
    let title = badge_title(driver, &span_id)
        .await
        .expect("the first badge stays");
    assert!(
        !title.contains(lost),
        "phantom feedback in the badge: {title:?}"
    );
    let all = texts(driver, "[data-testid=feedback-list] .fb-item").await;
    assert_eq!(all.len(), 1, "rolled back: {all:?}");
    assert!(!all[0].contains(lost), "{all:?}");

    // Back up: still exactly the one record.
    collector.restart().await;
    let stored = span_feedback(&collector, &span_id).await;
    assert_eq!(stored.len(), 1, "{stored:?}");

    // Edit the score and the comment; the API has the change.
    click(driver, "button[name=edit-feedback]").await;
    fill(driver, "input[name=edit-score]", "0.5").await;
    fill(
        driver,
        "input[name=edit-comment]",
        "On second thought, so-so",
    )
    .await;
    click(driver, ".fb-edit button[type=submit]").await;
    eventually(WAIT, "the edited record in the API", || async {
        let stored = span_feedback(&collector, &span_id).await;
        (stored.len() == 1
            && stored[0]["score"] == 0.5
            && stored[0]["comment"] == "On second thought, so-so")
            .then_some(())
    })
    .await;
    eventually(WAIT, "the edited record in the widget", || async {
        let items = listed(driver).await;
        (items.len() == 1 && items[0].contains("so-so") && items[0].contains("0.5")).then_some(())
    })
    .await;

    // Delete (with a confirmation): gone from the API, the widget and the row.
    click(driver, "button[name=delete-feedback]").await;
    click(driver, "button[name=confirm-delete]").await;
    eventually(WAIT, "the record deleted in the API", || async {
        span_feedback(&collector, &span_id)
            .await
            .is_empty()
            .then_some(())
    })
    .await;
    eventually(WAIT, "no badge after the delete", || async {
        badge_title(driver, &span_id).await.is_none().then_some(())
    })
    .await;

    browser.quit().await;
}

/// The trace list's feedback column shows a trace's feedback summary (key and mean score).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_list_shows_feedback_summaries() {
    let collector = Collector::start_demo().await;
    let page = collector
        .get_json("/api/v1/traces?project=default&limit=50")
        .await;
    let with_feedback = page["traces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["feedback"].as_array().is_some_and(|f| !f.is_empty()))
        .expect("a demo trace with feedback on the first page")
        .clone();
    let trace_id = with_feedback["trace_id"].as_str().unwrap();
    let key = with_feedback["feedback"][0]["key"].as_str().unwrap();
    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver.goto(collector.url("/traces")).await.unwrap();
    let cell = eventually(WAIT, "the feedback cell of a rated trace", || async {
        let row = driver
            .find(By::Css(format!("tr.trace-row[data-trace-id='{trace_id}']")))
            .await
            .ok()?;
        let cell = row.find(By::Css("td.col-feedback")).await.ok()?;
        let text = cell.text().await.ok()?;
        (!text.is_empty()).then_some(text)
    })
    .await;
    assert!(cell.contains(key), "{cell:?} should name {key}");
    let headers = texts(driver, ".traces-table th").await;
    assert!(headers.iter().any(|h| h == "Feedback"), "{headers:?}");
    browser.quit().await;
}
