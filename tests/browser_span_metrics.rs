//! `/metrics` over spans and by two tags, and two rows of the trace list compared, in a real
//! browser against a collector holding the test's own spans: LLM latency by model (chosen
//! with the page's "Spans" control), variant × tier with the A/B difference within each tier,
//! and "Compare" from two selected rows. Every number is checked against the test's own
//! computation.
//!
//! Needs: `cargo build -p skein-collector`, the built dashboard (dist/, or `SKEIN_TEST_DIST`),
//! chromium (see tests/common/mod.rs). Run with `cargo test --test browser_span_metrics`.

mod common;

use std::time::Duration;

use common::{click, eventually, js, texts, Browser, Collector};
use serde_json::{json, Value};
use skein_model::stats::{welch_t_test, Moments};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);
const TRACES: u64 = 48;
const MODELS: [&str; 2] = ["gpt-4o", "claude-3-5-sonnet"];
const TIERS: [&str; 2] = ["free", "pro"];

fn variant(t: u64) -> &'static str {
    if t.is_multiple_of(2) {
        "A"
    } else {
        "B"
    }
}

fn tier(t: u64) -> &'static str {
    TIERS[((t / 2) % 2) as usize]
}

/// LLM call k (0..2) of trace t: its model and duration in ms (B slower on pro).
fn llm(t: u64, k: u64) -> (&'static str, u64) {
    let slow = if variant(t) == "B" && tier(t) == "pro" {
        30
    } else {
        0
    };
    (
        MODELS[((t + k) % 2) as usize],
        20 + (t * 7 + k * 11) % 40 + slow,
    )
}

fn kv(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

fn body(now_ns: u64) -> Value {
    let mut spans = Vec::new();
    for t in 0..TRACES {
        let start = now_ns - (TRACES - t) * 60_000_000_000;
        let ids = |i: u64| format!("{:016x}", (t + 1) * 16 + i);
        spans.push(json!({
            "traceId": format!("{:032x}", t + 1), "spanId": ids(0), "name": format!("agent-{t}"),
            "kind": 1, "startTimeUnixNano": start.to_string(),
            "endTimeUnixNano": (start + 300_000_000).to_string(),
            "attributes": [kv("openinference.span.kind", "AGENT"),
                kv("ab_test_variant", variant(t)), kv("user_tier", tier(t))],
        }));
        for k in 0..2 {
            let (model, ms) = llm(t, k);
            let s = start + (1 + 100 * k) * 1_000_000;
            spans.push(json!({
                "traceId": format!("{:032x}", t + 1), "spanId": ids(1 + k), "parentSpanId": ids(0),
                "name": "chat", "kind": 3, "startTimeUnixNano": s.to_string(),
                "endTimeUnixNano": (s + ms * 1_000_000).to_string(),
                "attributes": [kv("openinference.span.kind", "LLM"), kv("llm.model_name", model)],
            }));
        }
    }
    json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]})
}

/// "45.3 ms", "+12.1 ms", "−3.4 ms" as a number.
fn number(text: &str) -> f64 {
    text.trim()
        .trim_end_matches("ms")
        .trim()
        .replace('−', "-")
        .replace(['+', ','], "")
        .parse()
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

/// Shown with about three significant figures.
fn shown_as(text: &str, want: f64) {
    let got = number(text);
    assert!(
        (got - want).abs() <= 0.006 * want.abs().max(1.0),
        "shows {text:?}, computed {want}"
    );
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn span_metrics_pairs_and_selected_traces_compare() {
    let collector = Collector::start(false).await;
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    collector.send_otlp_json(&body(now_ns)).await;
    eventually(WAIT, "every span stored", || async {
        let r = collector
            .get_json("/api/v1/metrics?metric=count&over=spans")
            .await;
        (r["groups"][0]["n"].as_u64() == Some(TRACES * 3)).then_some(())
    })
    .await;
    let browser = Browser::start().await;
    let driver = &browser.driver;

    // LLM latency by model: from the trace metric, "Spans" and a span filter in the URL.
    driver
        .goto(collector.url("/metrics?metric=latency_mean&group_by=ab_test_variant"))
        .await
        .unwrap();
    eventually(WAIT, "the trace groups", || async {
        (texts(driver, "[data-testid=groups-table] tbody tr")
            .await
            .len()
            == 2)
            .then_some(())
    })
    .await;
    click(driver, "button[data-over=spans]").await;
    let url = eventually(WAIT, "over=spans in the URL", || async {
        let url = driver.current_url().await.ok()?.to_string();
        url.contains("over=spans").then_some(url)
    })
    .await;
    assert!(url.contains("group_by=ab_test_variant"), "{url}");
    driver
        .goto(collector.url(
            "/metrics?metric=latency_mean&over=spans&group_by=span.model&filter=eq(type%2C%20%22llm%22)",
        ))
        .await
        .unwrap();
    let rows = eventually(WAIT, "a group per model", || async {
        let groups = js(driver, "return Array.from(document.querySelectorAll('[data-testid=groups-table] tbody tr')).map(r => [r.dataset.group, r.querySelector('[data-col=n]').textContent, r.querySelector('[data-col=mean]').textContent])").await;
        let groups: Vec<(String, String, String)> = serde_json::from_value(groups).ok()?;
        (groups.len() == 2).then_some(groups)
    })
    .await;
    for (model, n, shown) in rows {
        let values: Vec<f64> = (0..TRACES)
            .flat_map(|t| (0..2).map(move |k| llm(t, k)))
            .filter(|(m, _)| *m == model)
            .map(|(_, ms)| ms as f64)
            .collect();
        assert_eq!(n, values.len().to_string(), "{model}");
        shown_as(&shown, mean(&values));
    }
    let summary = texts(driver, "[data-testid=metrics-summary]")
        .await
        .join("");
    assert!(
        summary.starts_with(&format!("{} spans", TRACES * 2)),
        "{summary}"
    );
    assert_eq!(
        texts(driver, "label.filter-label")
            .await
            .first()
            .map(String::as_str),
        Some("Spans where")
    );

    // Variant × tier: each pair's mean, and A − B within each tier as Welch's test.
    driver
        .goto(collector.url(
            "/metrics?metric=latency_mean&over=spans&group_by=ab_test_variant&then_by=user_tier&filter=eq(type%2C%20%22llm%22)",
        ))
        .await
        .unwrap();
    eventually(WAIT, "a row per tier", || async {
        (texts(driver, "[data-testid=pairs-table] tbody tr")
            .await
            .len()
            == 2)
            .then_some(())
    })
    .await;
    for tier_name in TIERS {
        let values = |v: &str| -> Vec<f64> {
            (0..TRACES)
                .filter(|t| variant(*t) == v && tier(*t) == tier_name)
                .flat_map(|t| (0..2).map(move |k| llm(t, k).1 as f64))
                .collect()
        };
        let row = format!("[data-testid=pairs-table] tr[data-then={tier_name}]");
        let mut means = texts(driver, &format!("{row} [data-testid=pair-mean]")).await;
        means.extend(texts(driver, &format!("{row} [data-testid=pair-difference]")).await);
        assert_eq!(means.len(), 3, "A, B and the difference: {means:?}");
        shown_as(&means[0], mean(&values("A")));
        shown_as(&means[1], mean(&values("B")));
        let d = welch_t_test(
            &Moments::from_values(&values("A")),
            &Moments::from_values(&values("B")),
        )
        .unwrap();
        shown_as(&means[2], d.difference);
        let ci = texts(driver, &format!("{row} [data-testid=pair-difference-ci]")).await;
        let (low, high) = ci[0].split_once(" to ").expect("a CI");
        shown_as(low, d.ci.low);
        shown_as(high, d.ci.high);
        let significant = js(
            driver,
            &format!("return document.querySelector('{row} td.pair-test').classList.contains('significant')"),
        )
        .await;
        assert_eq!(
            significant,
            json!(d.p_value < 0.05),
            "{tier_name}: p = {}",
            d.p_value
        );
    }
    // The table is not cut at the default width (1440 px).
    let cut = js(
        driver,
        "return Array.from(document.querySelectorAll('[data-testid=pairs-table] td')).filter(c => c.scrollWidth > c.clientWidth + 1).length",
    )
    .await;
    assert_eq!(cut, json!(0));

    // The cohort page's totals show every cell whole at this width (the CI cell was cut).
    driver
        .goto(collector.url("/compare/cohorts?a.tag=ab_test_variant%3DA&b.tag=ab_test_variant%3DB"))
        .await
        .unwrap();
    eventually(WAIT, "the cohort totals", || async {
        (!texts(driver, "[data-testid=cohort-totals] td[data-col=ci]")
            .await
            .join("")
            .is_empty())
        .then_some(())
    })
    .await;
    let cut = js(
        driver,
        "return Array.from(document.querySelectorAll('[data-testid=cohort-totals] td')).filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.textContent)",
    )
    .await;
    assert_eq!(cut, json!([]), "cells cut");

    // Two rows of the trace list selected: "Compare" opens the two traces side by side.
    driver.goto(collector.url("/traces")).await.unwrap();
    let ids = eventually(WAIT, "the list's rows", || async {
        let ids = js(driver, "return Array.from(document.querySelectorAll('tr.trace-row')).map(r => r.dataset.traceId)").await;
        let ids: Vec<String> = serde_json::from_value(ids).ok()?;
        (ids.len() >= 3).then_some(ids)
    })
    .await;
    for id in &ids[..3] {
        click(
            driver,
            &format!("tr[data-trace-id='{id}'] input.row-select"),
        )
        .await;
    }
    // A third selection lets go of the first.
    let checked = js(driver, "return Array.from(document.querySelectorAll('input.row-select')).filter(c => c.checked).length").await;
    assert_eq!(checked, json!(2));
    assert!(
        driver.current_url().await.unwrap().path() == "/traces",
        "a checkbox does not open the trace"
    );
    let href = driver
        .find(By::Css("[data-testid=compare-selected]"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(href, format!("/compare?a={}&b={}", ids[1], ids[2]));
    click(driver, "[data-testid=compare-selected]").await;
    eventually(WAIT, "the compare page", || async {
        let url = driver.current_url().await.ok()?;
        (url.path() == "/compare").then_some(())
    })
    .await;
    browser.quit().await;
}
