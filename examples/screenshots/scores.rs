//! Score configs: the settings page with a config of each type, the rating widget with a
//! categorical key's buttons and a numeric key's refusal, and the metrics of a categorical key
//! with its labels, in both themes.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use thirtyfour::prelude::*;

use crate::common::{eventually, texts, Browser, Collector};
use crate::shots::{set_theme, shot};

const WAIT: Duration = Duration::from_secs(20);

async fn post(collector: &Collector, path: &str, body: Value) {
    let status = reqwest::Client::new()
        .post(collector.url(path))
        .json(&body)
        .send()
        .await
        .expect("POST")
        .status();
    assert!(status.is_success(), "POST {path}: {status}");
}

/// A demo agent trace and its `planning_agent` span.
async fn demo_span(collector: &Collector) -> (String, String) {
    let page = collector
        .get_json("/api/v1/traces?project=default&name=main_agent&limit=1")
        .await;
    let trace = page["traces"][0]["trace_id"].as_str().unwrap().to_string();
    let skeleton = collector
        .get_json(&format!("/api/v1/traces/{trace}?project=default"))
        .await;
    let names = skeleton["names"].as_array().unwrap();
    let planning = skeleton["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| names[s[2].as_u64().unwrap() as usize] == "planning_agent")
        .map(|s| s[0].as_str().unwrap().to_string())
        .unwrap();
    (trace, planning)
}

async fn element(driver: &WebDriver, css: &str) -> WebElement {
    driver
        .query(By::Css(css))
        .wait(WAIT, Duration::from_millis(100))
        .first()
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

async fn click(driver: &WebDriver, css: &str) {
    element(driver, css).await.click().await.unwrap();
}

async fn type_key(driver: &WebDriver, key: &str) {
    let input = element(driver, "input[name=feedback-key]").await;
    input.clear().await.unwrap();
    input.send_keys(key).await.unwrap();
}

async fn set_scale(collector: &Collector, max: u32) {
    let status = reqwest::Client::new()
        .put(collector.url("/api/v1/score-configs/user_rating?project=default"))
        .json(
            &json!({"key": "user_rating", "type": "numeric", "min": 1, "max": max,
            "step": 1, "description": format!("How good was this step, 1 to {max}")}),
        )
        .send()
        .await
        .expect("PUT")
        .status();
    assert!(status.is_success(), "PUT user_rating: {status}");
}

pub async fn run(dir: &Path) {
    let collector = Collector::start_demo().await;
    let configs = "/api/v1/score-configs?project=default";
    post(
        &collector,
        configs,
        json!({"key": "correctness", "type": "categorical",
            "description": "Is the answer right?", "comment_asked": true,
            "categories": [{"label": "correct", "score": 1}, {"label": "partly", "score": 0.5},
                           {"label": "wrong", "score": 0}]}),
    )
    .await;
    configure_rating(&collector).await;
    post(
        &collector,
        configs,
        json!({"key": "helpful", "type": "boolean"}),
    )
    .await;
    post(
        &collector,
        configs,
        json!({"key": "relevance", "type": "numeric", "min": 0, "max": 1,
            "description": "Share of the answer on topic"}),
    )
    .await;
    // Ratings of the demo's traces under the categorical key, for the metrics page.
    let page = collector
        .get_json("/api/v1/traces?project=default&name=main_agent&limit=60")
        .await;
    for (i, t) in page["traces"].as_array().unwrap().iter().enumerate() {
        let trace = t["trace_id"].as_str().unwrap();
        let Some(root) = t["root_span_id"].as_str() else {
            continue;
        };
        let score = [1.0, 0.5, 1.0, 0.0, 1.0, 0.5][i % 6];
        post(
            &collector,
            "/api/v1/feedback?project=default",
            json!({"run_id": root, "trace_id": trace, "key": "correctness", "score": score}),
        )
        .await;
    }
    let (trace, planning) = demo_span(&collector).await;
    let browser = Browser::start().await;
    let driver = &browser.driver;

    for theme in ["light", "dark"] {
        driver
            .goto(collector.url("/settings/scores"))
            .await
            .unwrap();
        set_theme(driver, theme).await;
        eventually(WAIT, "the configs", || async {
            (texts(driver, "[data-testid=score-configs] tbody tr")
                .await
                .len()
                == 4)
                .then_some(())
        })
        .await;
        click(driver, "tr[data-key=correctness] button[name=edit-config]").await;
        shot(driver, dir, &format!("score-configs-{theme}")).await;

        driver
            .goto(collector.url(&format!("/traces/{trace}?span={planning}")))
            .await
            .unwrap();
        type_key(driver, "correctness").await;
        click(driver, "button[name=rate-category][data-score='1']").await;
        eventually(WAIT, "the saved rating", || async {
            (!texts(driver, "[data-testid=feedback-list] .fb-item:not(.pending)")
                .await
                .is_empty())
            .then_some(())
        })
        .await;
        shot(driver, dir, &format!("score-widget-categorical-{theme}")).await;

        // A numeric key whose scale shrank since the page loaded: the refusal in the widget.
        type_key(driver, "user_rating").await;
        element(driver, "button[name=rate-step][data-score='5']").await;
        set_scale(&collector, 3).await;
        click(driver, "button[name=rate-step][data-score='5']").await;
        eventually(WAIT, "the refusal", || async {
            texts(driver, "[data-testid=feedback-error]").await.pop()
        })
        .await;
        shot(driver, dir, &format!("score-widget-refusal-{theme}")).await;
        set_scale(&collector, 5).await;

        driver
            .goto(
                collector
                    .url("/metrics?metric=feedback:correctness&group_by=ab_test_variant&range=30d"),
            )
            .await
            .unwrap();
        eventually(WAIT, "the scale note", || async {
            texts(driver, "[data-testid=score-scale]").await.pop()
        })
        .await;
        shot(driver, dir, &format!("score-metrics-{theme}")).await;
    }
    browser.quit().await;
}

/// The numeric key, 1 to 5 in steps of 1.
async fn configure_rating(collector: &Collector) {
    post(
        collector,
        "/api/v1/score-configs?project=default",
        json!({"key": "user_rating", "type": "numeric", "min": 1, "max": 5, "step": 1,
            "description": "How good was this step, 1 to 5"}),
    )
    .await;
}
