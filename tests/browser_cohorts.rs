//! `/compare/cohorts` in a real browser: two variants of one agent sent over OTLP/JSON (B's
//! `execution_agent` slower, its `search` tool failing one time in five), the cohorts chosen
//! with the page's presets (one tag's two values, then last week against this week, which here
//! select the same traces), and every figure the page shows for them checked against a
//! computation over the spans the test sent. A row's "B" link opens those spans on /spans.
//!
//! With `SKEIN_SCREENSHOTS=DIR`, the page is also saved there in light and dark.
//!
//! Needs: `cargo build -p skein-collector`, the built dashboard (dist/, or `SKEIN_TEST_DIST`),
//! chromium (see tests/common/mod.rs). Run with `cargo test --test browser_cohorts`.

mod common;

use std::time::Duration;

use common::{click, eventually, js, present, texts, Browser, Collector};
use serde_json::{json, Value};
use skein_model::cohort::CohortMeasure;
use skein_model::cohort_format as fmt;
use skein_model::stats::{quantile_sorted, welch_t_test, Moments};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(30);
const TRACES: u64 = 20;
const MS_NS: u128 = 1_000_000;
const MINUTE_NS: u128 = 60_000 * MS_NS;
const DAY_NS: u128 = 1_440 * MINUTE_NS;

/// Trace k of a variant, in ms from its start: `planner` (LLM, 20 + k ms, 100 + k input and
/// 20 output tokens), then `execution_agent` (A: 100 + 2k ms, B: 300 + 5k ms) holding a
/// `search` call of 30 + k mod 5 ms that fails in B when k mod 5 is 0, then 5 ms of the root's.
struct Shape {
    planner: u64,
    agent: u64,
    search: u64,
    fails: bool,
}

fn shape(b: bool, k: u64) -> Shape {
    Shape {
        planner: 20 + k,
        agent: if b { 300 + 5 * k } else { 100 + 2 * k },
        search: 30 + k % 5,
        fails: b && k.is_multiple_of(5),
    }
}

fn attr(k: &str, v: Value) -> Value {
    json!({"key": k, "value": v})
}

/// A trace of variant A (10 days ago) or B (2 days ago), k minutes after its variant's start.
fn trace(b: bool, k: u64, now_ns: u128) -> Vec<Value> {
    let s = shape(b, k);
    let t0 = now_ns - if b { 2 * DAY_NS } else { 10 * DAY_NS } + u128::from(k) * MINUTE_NS;
    let trace_id = format!(
        "{:032x}",
        0xc0_0470_u128 * 1000 + u128::from(b) * 100 + u128::from(k)
    );
    let span = |id: u64, parent: Option<u64>, name: &str, kind: &str, from: u64, to: u64| {
        let mut span = json!({
            "traceId": trace_id,
            "spanId": format!("{:016x}", 0x5000 + u64::from(b) * 1000 + k * 10 + id),
            "name": name, "kind": 1,
            "startTimeUnixNano": (t0 + u128::from(from) * MS_NS).to_string(),
            "endTimeUnixNano": (t0 + u128::from(to) * MS_NS).to_string(),
            "status": {"code": 1},
            "attributes": [attr("openinference.span.kind", json!({"stringValue": kind}))],
        });
        if let Some(p) = parent {
            span["parentSpanId"] = json!(format!(
                "{:016x}",
                0x5000 + u64::from(b) * 1000 + k * 10 + p
            ));
        }
        span
    };
    let agent_end = s.planner + s.agent;
    let mut root = span(1, None, "handle_request", "CHAIN", 0, agent_end + 5);
    root["attributes"].as_array_mut().unwrap().push(attr(
        "ab_test_variant",
        json!({"stringValue": if b { "B" } else { "A" }}),
    ));
    let mut planner = span(2, Some(1), "planner", "LLM", 0, s.planner);
    for (key, n) in [
        ("gen_ai.usage.input_tokens", 100 + k),
        ("gen_ai.usage.output_tokens", 20),
    ] {
        planner["attributes"]
            .as_array_mut()
            .unwrap()
            .push(attr(key, json!({"intValue": n.to_string()})));
    }
    let agent = span(3, Some(1), "execution_agent", "AGENT", s.planner, agent_end);
    let from = s.planner + 10;
    let mut search = span(4, Some(3), "search", "TOOL", from, from + s.search);
    if s.fails {
        search["status"] = json!({"code": 2});
    }
    vec![root, planner, agent, search]
}

async fn seeded() -> Collector {
    let collector = Collector::start(false).await;
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut spans = Vec::new();
    for k in 0..TRACES {
        spans.extend(trace(false, k, now_ns));
        spans.extend(trace(true, k, now_ns));
    }
    collector
        .send_otlp_json(&json!({"resourceSpans": [{
            "resource": {"attributes": [attr("service.name", json!({"stringValue": "shop"}))]},
            "scopeSpans": [{"spans": spans}]
        }]}))
        .await;
    eventually(WAIT, "the traces stored", || async {
        let page = collector.get_json("/api/v1/traces?limit=100").await;
        (page["traces"].as_array().map_or(0, Vec::len) as u64 == 2 * TRACES).then_some(())
    })
    .await;
    collector
}

/// What the page should show, computed from the shapes.
struct Expected {
    /// Per variant: execution_agent's durations, its self times per trace, the traces' durations.
    agent_ms: [Vec<f64>; 2],
    agent_self_ms: [Vec<f64>; 2],
    trace_ms: [Vec<f64>; 2],
}

fn expected() -> Expected {
    let per = |f: &dyn Fn(&Shape) -> u64| -> [Vec<f64>; 2] {
        [false, true].map(|b| (0..TRACES).map(|k| f(&shape(b, k)) as f64).collect())
    };
    Expected {
        agent_ms: per(&|s| s.agent),
        agent_self_ms: per(&|s| s.agent - s.search),
        trace_ms: per(&|s| s.planner + s.agent + 5),
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// A row's cell texts by column: the A and B lines of a paired cell, or the cell's text.
async fn cell(driver: &WebDriver, name: &str, col: &str) -> Vec<String> {
    let css = format!("tr[data-name={name}] td[data-col={col}]");
    let pair = texts(driver, &format!("{css} > span")).await;
    if pair.is_empty() {
        texts(driver, &css).await
    } else {
        pair
    }
}

/// The rows' names once the table shows four, in order.
async fn row_names(driver: &WebDriver) -> Vec<String> {
    eventually(WAIT, "four rows in the cohort table", || async {
        let rows = js(
            driver,
            "return Array.from(document.querySelectorAll('[data-testid=cohort-row]')).map(r => r.dataset.name)",
        )
        .await;
        let names: Vec<String> = serde_json::from_value(rows).unwrap_or_default();
        (names.len() == 4).then_some(names)
    })
    .await
}

/// Every figure of the table and totals against the computation.
async fn check_figures(driver: &WebDriver, e: &Expected) {
    let names = row_names(driver).await;
    assert_eq!(names[0], "execution_agent", "{names:?}");

    // The totals: traces and the mean trace duration, B − A with Welch's test.
    let traces = texts(driver, "tr[data-measure=traces] td[data-side]").await;
    assert_eq!(traces, [TRACES.to_string(), TRACES.to_string()]);
    let duration = texts(driver, "tr[data-measure=duration] td[data-side]").await;
    assert_eq!(
        duration,
        [fmt::ms(mean(&e.trace_ms[0])), fmt::ms(mean(&e.trace_ms[1]))]
    );
    let d = welch_t_test(
        &Moments::from_values(&e.trace_ms[1]),
        &Moments::from_values(&e.trace_ms[0]),
    )
    .unwrap();
    let by = CohortMeasure::Duration;
    assert_eq!(
        texts(driver, "tr[data-measure=duration] td[data-col=difference]").await,
        [fmt::difference(by, d.difference)]
    );
    // Every totals cell shows all of its text at the default width (1440 px).
    let cut = js(
        driver,
        "return Array.from(document.querySelectorAll('[data-testid=cohort-totals] td')).filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.textContent)",
    )
    .await;
    assert_eq!(cut, serde_json::json!([]), "cells cut");
    assert_eq!(
        texts(driver, "tr[data-measure=duration] td[data-col=ci]").await,
        [format!(
            "{} to {}",
            fmt::difference(by, d.ci.low),
            fmt::difference(by, d.ci.high)
        )]
    );

    // execution_agent: p50/p95 of its durations, self time per trace, and its contribution.
    for (col, q) in [("p50", 0.5), ("p95", 0.95)] {
        let want: Vec<String> = e
            .agent_ms
            .iter()
            .map(|v| {
                let mut v = v.clone();
                v.sort_by(f64::total_cmp);
                fmt::ms(quantile_sorted(&v, q).unwrap())
            })
            .collect();
        assert_eq!(cell(driver, "execution_agent", col).await, want, "{col}");
    }
    assert_eq!(
        cell(driver, "execution_agent", "self").await,
        [
            fmt::ms(mean(&e.agent_self_ms[0])),
            fmt::ms(mean(&e.agent_self_ms[1]))
        ]
    );
    let s = welch_t_test(
        &Moments::from_values(&e.agent_self_ms[1]),
        &Moments::from_values(&e.agent_self_ms[0]),
    )
    .unwrap();
    assert_eq!(
        cell(driver, "execution_agent", "contribution").await,
        [fmt::difference(by, s.difference)]
    );
    assert_eq!(
        cell(driver, "execution_agent", "test").await,
        [
            format!(
                "{} to {}",
                fmt::difference(by, s.ci.low),
                fmt::difference(by, s.ci.high)
            ),
            fmt::p_value(s.p_value)
        ]
    );
    assert_eq!(cell(driver, "execution_agent", "spans").await, ["1", "1"]);

    // search fails in B for k = 0, 5, 10, 15: 4 of 20.
    assert_eq!(
        cell(driver, "search", "error_rate").await,
        [fmt::rate(0.0), fmt::rate(4.0 / 20.0)]
    );
    // planner: 100 + k input and 20 output tokens per trace in both.
    let tokens = fmt::tokens(mean(
        &(0..TRACES).map(|k| (120 + k) as f64).collect::<Vec<_>>(),
    ));
    assert_eq!(
        cell(driver, "planner", "tokens").await,
        [tokens.clone(), tokens]
    );
}

async fn screenshot(driver: &WebDriver, name: &str) {
    let Ok(dir) = std::env::var("SKEIN_SCREENSHOTS") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    let png = driver.screenshot_as_png().await.unwrap();
    std::fs::write(std::path::Path::new(&dir).join(name), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cohorts_compared_span_by_span_from_the_presets() {
    let collector = seeded().await;
    let e = expected();
    let browser = Browser::start().await;
    let driver = &browser.driver;

    // The top bar's Compare opens the page, which asks for two cohorts.
    driver.goto(collector.url("/traces")).await.unwrap();
    click(driver, ".nav a[href^='/compare/cohorts']").await;
    eventually(WAIT, "the empty state", || async {
        let t = texts(driver, ".empty-state h2").await;
        t.iter()
            .any(|t| t == "Choose two cohorts to compare")
            .then_some(())
    })
    .await;

    // Preset: before a tag key is picked, only the key's drop-down (no empty value lists).
    eventually(WAIT, "the presets' key list", || async {
        present(
            driver,
            "select[name=preset-key] option[value=ab_test_variant]",
        )
        .await
        .then_some(())
    })
    .await;
    let row = texts(driver, ".cohort-presets").await;
    assert!(
        !present(driver, "select[name=preset-a]").await
            && !present(driver, "select[name=preset-b]").await,
        "value drop-downs before a key: {row:?}"
    );
    // Preset: ab_test_variant, A vs B.
    click(
        driver,
        "select[name=preset-key] option[value=ab_test_variant]",
    )
    .await;
    click(driver, "select[name=preset-a] option[value=A]").await;
    click(driver, "select[name=preset-b] option[value=B]").await;
    click(driver, "button[name=preset-apply]").await;
    check_figures(driver, &e).await;
    let url = driver.current_url().await.unwrap();
    assert!(
        url.query()
            .unwrap_or("")
            .contains("a.tag=ab_test_variant%3DA")
            && url
                .query()
                .unwrap_or("")
                .contains("b.tag=ab_test_variant%3DB"),
        "{url}"
    );
    screenshot(driver, "cohorts-light.png").await;
    js(driver, "document.documentElement.dataset.theme = 'dark'").await;
    screenshot(driver, "cohorts-dark.png").await;
    js(driver, "document.documentElement.dataset.theme = 'light'").await;

    // Reloading the link shows the same table (the URL is the state).
    driver.refresh().await.unwrap();
    check_figures(driver, &e).await;

    // By errors, search comes first: 4 error spans in 20 traces of B, none in A.
    click(driver, "select[name=by] option[value=errors]").await;
    eventually(WAIT, "search first by errors", || async {
        (row_names(driver).await[0] == "search").then_some(())
    })
    .await;
    assert_eq!(
        cell(driver, "search", "contribution").await,
        [fmt::difference(CohortMeasure::Errors, 4.0 / 20.0)]
    );

    // The row's B link: B's search spans on /spans, 20 of them.
    click(driver, "tr[data-name=search] a[data-testid=spans-b]").await;
    eventually(WAIT, "B's 20 search spans", || async {
        let count = texts(driver, "[data-testid=result-count]").await;
        (count.first().map(String::as_str) == Some("20 spans")).then_some(())
    })
    .await;
    assert!(present(driver, "[data-testid=span-scope]").await);
    let names = texts(driver, "[data-testid=span-rows] .sl-name").await;
    assert!(
        !names.is_empty() && names.iter().all(|n| n == "search"),
        "{names:?}"
    );

    // Last week vs this week: A's traces are 10 days old, B's 2: the same comparison.
    driver.back().await.unwrap();
    row_names(driver).await;
    // Drop the tag conditions first, so only the time windows select.
    driver
        .goto(collector.url("/compare/cohorts?a.range=all"))
        .await
        .unwrap();
    click(driver, "button[name=preset-weeks]").await;
    let url = eventually(WAIT, "the weeks in the URL", || async {
        let url = driver.current_url().await.ok()?;
        url.query()
            .is_some_and(|q| q.contains("a.from=") && q.contains("b.to="))
            .then_some(url)
    })
    .await;
    assert!(!url.query().unwrap_or("").contains("tag="), "{url}");
    check_figures(driver, &e).await;

    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_cohort_and_a_bad_filter_are_told() {
    let collector = seeded().await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver
        .goto(collector.url("/compare/cohorts?a.tag=ab_test_variant%3DA&b.tag=ab_test_variant%3DZ"))
        .await
        .unwrap();
    eventually(WAIT, "B's empty state", || async {
        let t = texts(driver, ".empty-state h2").await;
        t.iter()
            .any(|t| t == "Cohort B has no traces")
            .then_some(())
    })
    .await;
    driver
        .goto(collector.url("/compare/cohorts?a.filter=eq(nope%2C%201)&b.tag=ab_test_variant%3DB"))
        .await
        .unwrap();
    // The collector refuses the filter; the banner names the cohort's parameter.
    let banner = eventually(WAIT, "the refusal", || async {
        let t = texts(driver, ".error-banner").await;
        t.into_iter()
            .find(|t| t.contains("A cohort's filter can't be used"))
    })
    .await;
    assert!(banner.contains("a.filter"), "{banner}");
    browser.quit().await;
}
