//! The spans page and the filter box: spans of the demo data filtered and sorted, the box's
//! suggestions and an error it points at, the trace list's "having a span where", the empty
//! and loading states; in both themes.

use std::path::Path;
use std::time::Duration;

use crate::common::{eventually, texts, Browser, Collector};
use skein_model::query::percent_encode;
use thirtyfour::prelude::*;

use crate::shots::{set_theme, shot};

const WAIT: Duration = Duration::from_secs(30);

async fn wait_for(driver: &WebDriver, css: &str) {
    eventually(WAIT, css, || async {
        (!texts(driver, css).await.is_empty()).then_some(())
    })
    .await;
}

/// Types `text` into the page's filter box (replacing what is there).
async fn type_filter(driver: &WebDriver, text: &str) {
    let input = driver
        .query(By::Css("input[name=filter]"))
        .first()
        .await
        .unwrap();
    input.click().await.unwrap();
    input.send_keys(Key::Control + "a").await.unwrap();
    input.send_keys(Key::Backspace).await.unwrap();
    input.send_keys(text).await.unwrap();
}

async fn click_nav(driver: &WebDriver, text: &str) {
    for link in driver.find_all(By::Css("nav a")).await.unwrap() {
        if link.text().await.unwrap_or_default() == text {
            link.click().await.unwrap();
            return;
        }
    }
    panic!("no nav link {text}");
}

pub async fn run(dir: &Path) {
    let collector = Collector::start_demo().await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    let slow_llm = percent_encode(r#"and(eq(run_type, "llm"), gt(latency, "1s"))"#);

    for theme in ["light", "dark"] {
        driver.goto(collector.url("/spans")).await.unwrap();
        set_theme(driver, theme).await;
        wait_for(driver, ".sl-rows .sl-row").await;
        shot(driver, dir, &format!("spans-{theme}")).await;

        driver
            .goto(collector.url(&format!("/spans?filter={slow_llm}&sort=duration_desc")))
            .await
            .unwrap();
        wait_for(driver, ".sl-rows .sl-row").await;
        shot(driver, dir, &format!("spans-filtered-{theme}")).await;

        // Suggestions while typing a field, then a tag's stored values.
        type_filter(driver, "and(eq(run_type, \"llm\"), gt(lat").await;
        wait_for(driver, ".filter-suggestion").await;
        shot(driver, dir, &format!("filter-fields-{theme}")).await;
        type_filter(driver, "eq(tag.env, \"").await;
        wait_for(driver, ".filter-suggestion").await;
        shot(driver, dir, &format!("filter-values-{theme}")).await;

        // An error, pointed at.
        type_filter(driver, "and(eq(run_type, \"llm\"), gt(latency \"2s\"))").await;
        wait_for(driver, ".filter-error").await;
        shot(driver, dir, &format!("filter-error-{theme}")).await;

        // Nothing matches.
        let nothing = percent_encode(r#"eq(model, "no-such-model")"#);
        driver
            .goto(collector.url(&format!("/spans?filter={nothing}")))
            .await
            .unwrap();
        wait_for(driver, ".empty-state").await;
        shot(driver, dir, &format!("spans-empty-{theme}")).await;

        // The trace list: traces having a slow LLM call.
        driver
            .goto(collector.url(&format!("/traces?filter={slow_llm}")))
            .await
            .unwrap();
        wait_for(driver, "tr.trace-row").await;
        shot(driver, dir, &format!("traces-span-filter-{theme}")).await;

        // Loading: the page's code already loaded, then every later API call hangs.
        driver.goto(collector.url("/spans")).await.unwrap();
        wait_for(driver, ".sl-rows .sl-row").await;
        click_nav(driver, "Traces").await;
        wait_for(driver, "tr.trace-row").await;
        driver
            .execute("window.fetch = () => new Promise(() => {});", vec![])
            .await
            .unwrap();
        click_nav(driver, "Spans").await;
        wait_for(driver, ".sl-row.skeleton-line").await;
        shot(driver, dir, &format!("spans-loading-{theme}")).await;
    }
    browser.quit().await;
}
