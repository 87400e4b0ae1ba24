//! Score configs in the browser, against a collector with demo data: a categorical config made
//! on the settings page gives the trace page's rating widget a button per category, and a
//! click stores the category's score; a numeric config's refusal (the config changed since the
//! page loaded) shows the collector's message in the widget; "configured keys only" is a
//! toggle on the settings page.
//!
//! Needs: `cargo build -p skein-collector`, the built dashboard (dist/, or `SKEIN_TEST_DIST`),
//! chromium (see tests/common/mod.rs). Run with `cargo test --test browser_score_configs`.

mod common;

use std::time::Duration;

use common::{element, eventually, texts, Browser, Collector};
use serde_json::{json, Value};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

/// A demo trace of the agent kind and the id of its `planning_agent` span (no feedback yet).
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

async fn send(collector: &Collector, method: &str, path: &str, body: &Value) -> u16 {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    reqwest::Client::new()
        .request(method, collector.url(path))
        .json(body)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

async fn span_feedback(collector: &Collector, span_id: &str) -> Vec<Value> {
    collector
        .get_json(&format!(
            "/api/v1/feedback?project=default&run_id={span_id}"
        ))
        .await["feedback"]
        .as_array()
        .expect("feedback list")
        .clone()
}

async fn click(driver: &WebDriver, css: &str) {
    element(driver, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn fill(driver: &WebDriver, css: &str, text: &str) {
    let el = element(driver, css).await;
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

/// Opens the trace page on the span and rates under `key` (typed into the widget's key field).
async fn open_widget_for_key(
    driver: &WebDriver,
    collector: &Collector,
    trace: &str,
    span: &str,
    key: &str,
) {
    driver
        .goto(collector.url(&format!("/traces/{trace}?span={span}")))
        .await
        .unwrap();
    fill(driver, "input[name=feedback-key]", key).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_made_on_the_settings_page_rates_with_its_buttons() {
    let collector = Collector::start_demo().await;
    let (trace_id, span_id) = demo_span(&collector).await;
    let browser = Browser::start().await;
    let driver = &browser.driver;

    // The top nav leads to the settings page.
    driver.goto(collector.url("/traces")).await.unwrap();
    click(driver, "nav.nav a[href^='/settings/scores']").await;
    element(driver, "[data-testid=score-config-form]").await;

    fill(driver, "input[name=config-key]", "correctness").await;
    click(driver, "select[name=config-type] option[value=categorical]").await;
    fill(
        driver,
        "textarea[name=config-categories]",
        "correct = 1\npartly = 0.5\nwrong = 0",
    )
    .await;
    fill(
        driver,
        "input[name=config-description]",
        "Is the answer right?",
    )
    .await;
    click(driver, "input[name=config-comment-asked]").await;
    click(driver, "button[name=save-config]").await;
    let row = eventually(WAIT, "the new config listed", || async {
        texts(
            driver,
            "[data-testid=score-configs] tr[data-key=correctness]",
        )
        .await
        .pop()
    })
    .await;
    assert!(
        row.contains("one of: correct (1), partly (0.5), wrong (0)") && row.contains("asked"),
        "{row}"
    );
    let stored = collector
        .get_json("/api/v1/score-configs/correctness?project=default")
        .await;
    assert_eq!(stored["type"], "categorical");
    assert_eq!(
        stored["categories"][1],
        json!({"label": "partly", "score": 0.5})
    );
    assert_eq!(stored["comment_asked"], true);

    // A config the form cannot describe is refused with the reason, and nothing is stored.
    fill(driver, "input[name=config-key]", "broken").await;
    click(driver, "select[name=config-type] option[value=numeric]").await;
    fill(driver, "input[name=config-min]", "5").await;
    fill(driver, "input[name=config-max]", "1").await;
    click(driver, "button[name=save-config]").await;
    let message = eventually(WAIT, "the form's refusal", || async {
        texts(driver, "[data-testid=settings-error]").await.pop()
    })
    .await;
    assert!(message.contains("min below a finite max"), "{message}");

    // "Configured keys only" is a toggle.
    click(driver, "input[name=configured-keys-only]").await;
    eventually(WAIT, "the setting stored", || async {
        let s = collector
            .get_json("/api/v1/score-settings?project=default")
            .await;
        (s["configured_keys_only"] == true).then_some(())
    })
    .await;
    click(driver, "input[name=configured-keys-only]").await;
    eventually(WAIT, "the setting turned off", || async {
        let s = collector
            .get_json("/api/v1/score-settings?project=default")
            .await;
        (s["configured_keys_only"] == false).then_some(())
    })
    .await;

    // The widget: a button per category, the comment asked for, the description shown.
    open_widget_for_key(driver, &collector, &trace_id, &span_id, "correctness").await;
    let buttons = eventually(WAIT, "the category buttons", || async {
        let b = texts(
            driver,
            "[data-testid=span-feedback] button[name=rate-category]",
        )
        .await;
        (b.len() == 3).then_some(b)
    })
    .await;
    assert_eq!(buttons, ["correct", "partly", "wrong"]);
    assert!(
        texts(driver, "[data-testid=span-feedback] button[name=thumbs-up]")
            .await
            .is_empty()
    );
    let hint = texts(driver, "[data-testid=feedback-hint]").await.join(" ");
    assert!(hint.contains("Is the answer right?"), "{hint}");
    let placeholder = element(driver, "textarea[name=feedback-comment]")
        .await
        .attr("placeholder")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(placeholder.contains("asked"), "{placeholder}");

    fill(
        driver,
        "textarea[name=feedback-comment]",
        "Half of the plan holds",
    )
    .await;
    click(driver, "button[name=rate-category][data-score='0.5']").await;
    let saved = eventually(WAIT, "the rating stored", || async {
        let list = span_feedback(&collector, &span_id).await;
        list.into_iter().find(|f| f["key"] == "correctness")
    })
    .await;
    assert_eq!(saved["score"], 0.5);
    assert_eq!(saved["comment"], "Half of the plan holds");
    assert_eq!(saved["source"], "app");
    let shown = eventually(WAIT, "the record in the widget", || async {
        texts(driver, "[data-testid=feedback-list] .fb-item:not(.pending)")
            .await
            .pop()
    })
    .await;
    assert!(shown.contains("partly (0.5)"), "{shown}");
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_numeric_configs_refusal_shows_the_collectors_message_in_the_widget() {
    let collector = Collector::start_demo().await;
    let (trace_id, span_id) = demo_span(&collector).await;
    let config = |max: u32| {
        json!({"key": "user_rating", "type": "numeric", "min": 1, "max": max, "step": 1,
               "description": "How good was this step"})
    };
    assert_eq!(
        send(
            &collector,
            "POST",
            "/api/v1/score-configs?project=default",
            &config(5)
        )
        .await,
        201
    );
    let browser = Browser::start().await;
    let driver = &browser.driver;
    open_widget_for_key(driver, &collector, &trace_id, &span_id, "user_rating").await;
    let steps = eventually(WAIT, "the step buttons", || async {
        let b = texts(driver, "[data-testid=span-feedback] button[name=rate-step]").await;
        (b.len() == 5).then_some(b)
    })
    .await;
    assert_eq!(steps, ["1", "2", "3", "4", "5"]);

    // Someone narrows the scale while the page is open: a 5 is no longer allowed.
    assert_eq!(
        send(
            &collector,
            "PUT",
            "/api/v1/score-configs/user_rating?project=default",
            &config(3)
        )
        .await,
        200
    );
    click(driver, "button[name=rate-step][data-score='5']").await;
    let message = eventually(WAIT, "the refusal in the widget", || async {
        texts(driver, "[data-testid=feedback-error]").await.pop()
    })
    .await;
    assert!(
        message.contains("user_rating must be a number from 1 to 3 in steps of 1 (got 5)"),
        "{message}"
    );
    // Nothing was stored, no phantom record is left, and the widget now offers the new scale.
    assert!(span_feedback(&collector, &span_id).await.is_empty());
    eventually(WAIT, "the new scale's buttons", || async {
        let b = texts(driver, "[data-testid=span-feedback] button[name=rate-step]").await;
        (b == ["1", "2", "3"]).then_some(())
    })
    .await;
    assert!(texts(driver, "[data-testid=feedback-list] .fb-item")
        .await
        .is_empty());
    click(driver, "button[name=rate-step][data-score='3']").await;
    let saved = eventually(WAIT, "the allowed rating stored", || async {
        span_feedback(&collector, &span_id).await.pop()
    })
    .await;
    assert_eq!(
        (saved["key"].as_str(), saved["score"].as_f64()),
        (Some("user_rating"), Some(3.0))
    );
    browser.quit().await;
}
