//! Find in trace by any text a span holds, in a real browser against a real collector: a query
//! found only in a span's input (an attribute the page has not loaded) marks that span, counts
//! it, and keeps it under "Only matches"; names still match at once.
//!
//! Needs: `cargo build -p skein-collector`, `scripts/build-dashboard.sh`, chromium (see
//! tests/common/mod.rs). Run with `cargo test --test browser_trace_find`.

mod common;

use std::time::Duration;

use common::{eventually, js, open_trace_with_rows, texts, Browser, Collector};
use serde_json::json;
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);
const TRACE: &str = "f1d0f1d0f1d0f1d0f1d0f1d0f1d0f1d0";

async fn matched(driver: &WebDriver) -> Vec<String> {
    let got = js(
        driver,
        "return [...document.querySelectorAll('.span-row.match')].map(r => r.dataset.spanId).sort()",
    )
    .await;
    got.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_reaches_attribute_values_through_the_collector() {
    let collector = Collector::start(false).await;
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        - 60_000_000_000;
    let at = |ms: u64| (t0 + ms * 1_000_000).to_string();
    let attr = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let span = |id: &str,
                parent: Option<&str>,
                name: &str,
                start: u64,
                attrs: Vec<serde_json::Value>| {
        let mut s = json!({"traceId": TRACE, "spanId": id, "name": name,
            "startTimeUnixNano": at(start), "endTimeUnixNano": at(start + 20), "attributes": attrs});
        if let Some(p) = parent {
            s["parentSpanId"] = json!(p);
        }
        s
    };
    collector
        .send_otlp_json(&json!({"resourceSpans": [{
            "resource": {"attributes": [attr("service.name", "agents")]},
            "scopeSpans": [{"spans": [
                span("00000000000000f1", None, "main_agent", 0, vec![]),
                span("00000000000000f2", Some("00000000000000f1"), "plan", 1, vec![
                    attr("input.value", "Book a table for two in Lisbon")]),
                span("00000000000000f3", Some("00000000000000f1"), "chat", 5, vec![
                    attr("output.value", "Done: a table at Cervejaria Ramiro")]),
                span("00000000000000f4", Some("00000000000000f1"), "search_tool", 9, vec![]),
            ]}]
        }]}))
        .await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    open_trace_with_rows(driver, &collector.url(&format!("/traces/{TRACE}")), 4).await;
    let find = driver.find(By::Css("input[name=find]")).await.unwrap();

    // Only in an input: found by the collector.
    find.send_keys("LISBON").await.unwrap();
    eventually(WAIT, "the span whose input mentions Lisbon", || async {
        (matched(driver).await == ["00000000000000f2"]).then_some(())
    })
    .await;
    eventually(WAIT, "the count of one match", || async {
        (texts(driver, ".find-count").await == ["1 match"]).then_some(())
    })
    .await;

    // In an output of one span, and a name of another.
    find.clear().await.unwrap();
    find.send_keys("table").await.unwrap();
    eventually(WAIT, "both spans mentioning a table", || async {
        (matched(driver).await == ["00000000000000f2", "00000000000000f3"]).then_some(())
    })
    .await;

    // Only matches: the root stays (an ancestor), search_tool goes.
    driver
        .find(By::Css("input[name=only-matches]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "only the matches and their root", || async {
        let ids = js(
            driver,
            "return [...document.querySelectorAll('.span-row')].map(r => r.dataset.spanId).sort()",
        )
        .await;
        (ids == json!(["00000000000000f1", "00000000000000f2", "00000000000000f3"])).then_some(())
    })
    .await;

    // Nothing anywhere: no matches.
    find.clear().await.unwrap();
    find.send_keys("zanzibar").await.unwrap();
    eventually(WAIT, "no matches", || async {
        (texts(driver, ".find-count").await == vec!["No matches"]).then_some(())
    })
    .await;
    browser.quit().await;
}

/// A trace opened from a list searched with `search("...")` (`/traces?filter=`): the list
/// shows only the trace holding the text, and its page opens with the text in the find box
/// and the span holding it marked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_opened_from_a_search_marks_the_match() {
    const HIT: &str = "5ea5c4000000000000000000000000b1";
    const MISS: &str = "5ea5c4000000000000000000000000b2";
    let collector = Collector::start(false).await;
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        - 60_000_000_000;
    let at = |ms: u64| (t0 + ms * 1_000_000).to_string();
    let attr = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let span = |trace: &str, id: &str, parent: Option<&str>, name: &str, input: &str| {
        let mut s = json!({"traceId": trace, "spanId": id, "name": name,
            "startTimeUnixNano": at(0), "endTimeUnixNano": at(20),
            "attributes": [attr("input.value", input)]});
        if let Some(p) = parent {
            s["parentSpanId"] = json!(p);
        }
        s
    };
    collector
        .send_otlp_json(&json!({"resourceSpans": [{
            "resource": {"attributes": [attr("service.name", "support")]},
            "scopeSpans": [{"spans": [
                span(HIT, "00000000000000b1", None, "desk", "hello"),
                span(HIT, "00000000000000b2", Some("00000000000000b1"), "policy", "Can I get a REFUND?"),
                span(HIT, "00000000000000b3", Some("00000000000000b1"), "reply", "sure"),
                span(MISS, "00000000000000c1", None, "desk", "an invoice, please"),
            ]}]
        }]}))
        .await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    let list = collector.url("/traces?filter=search(%22refund%22)");
    let row = eventually(WAIT, "the one trace that mentions a refund", || async {
        driver.goto(&list).await.ok()?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let rows = driver.find_all(By::Css("tr.trace-row")).await.ok()?;
        match rows.as_slice() {
            [row] => Some(row.clone()),
            _ => None,
        }
    })
    .await;
    assert_eq!(
        row.attr("data-trace-id").await.unwrap().as_deref(),
        Some(HIT)
    );
    row.find(By::Css("td.col-num"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "the match marked on the trace page", || async {
        (matched(driver).await == ["00000000000000b2"]).then_some(())
    })
    .await;
    let url = driver.current_url().await.unwrap();
    assert_eq!(url.path(), format!("/traces/{HIT}"));
    let find = driver.find(By::Css("input[name=find]")).await.unwrap();
    assert_eq!(find.prop("value").await.unwrap().as_deref(), Some("refund"));
    assert_eq!(texts(driver, ".find-count").await, vec!["1 match"]);
    browser.quit().await;
}
