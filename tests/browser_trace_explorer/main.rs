//! The trace explorer (`/traces/{id}`) in a real browser against a real collector: the tree as
//! sent, collapse and expand, selection by click and keyboard with the span's input in the
//! detail panel, `?span=` links, find-in-trace, orphans, untrusted text, and a 50,000-span
//! trace that stays virtualized.
//!
//! Needs: `cargo build -p skein-collector`, `scripts/build-dashboard.sh`, chromium (see
//! tests/common/mod.rs). Run with `cargo test --test browser_trace_explorer`.

#[path = "../common/mod.rs"]
mod common;
mod large;
mod orphans;
mod seed_shaped;

use std::time::Duration;

use common::{eventually, js, texts};
use serde_json::{json, Value};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

/// The skeleton's spans in display order (depth-first, children in start order) with depths,
/// computed here independently of the dashboard.
fn expected_rows(skeleton: &Value) -> Vec<(String, usize)> {
    let spans = skeleton["spans"].as_array().expect("spans");
    let n = spans.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        match s[1].as_i64().unwrap() {
            -1 => roots.push(i),
            p => children[p as usize].push(i),
        }
    }
    let mut out = Vec::new();
    let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&r| (r, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        out.push((spans[i][0].as_str().unwrap().to_string(), depth));
        for &c in children[i].iter().rev() {
            stack.push((c, depth + 1));
        }
    }
    out
}

/// The rows in the DOM, top to bottom: (span id, depth).
async fn rows(driver: &WebDriver) -> Vec<(String, usize)> {
    let got = js(
        driver,
        "return [...document.querySelectorAll('.span-row[data-span-id]')]
            .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
            .map(r => [r.dataset.spanId, Number(r.dataset.depth)])",
    )
    .await;
    got.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_string(),
                r[1].as_u64().unwrap() as usize,
            )
        })
        .collect()
}

async fn row(driver: &WebDriver, span_id: &str) -> WebElement {
    driver
        .query(By::Css(format!(".span-row[data-span-id='{span_id}']")))
        .first()
        .await
        .unwrap_or_else(|e| panic!("row {span_id}: {e}"))
}

async fn selected_id(driver: &WebDriver) -> Option<String> {
    common::selected_span_id(driver).await
}

/// Waits until the detail panel shows `span_id` in full (its input section loaded).
async fn detail_shows(driver: &WebDriver, span_id: &str) -> String {
    eventually(WAIT, &format!("the detail panel for {span_id}"), || async {
        let id = texts(driver, "[data-testid=detail-span-id]").await;
        if id != vec![span_id.to_string()] {
            return None;
        }
        let input = texts(driver, "[data-testid=detail-input]").await;
        input
            .into_iter()
            .next()
            .filter(|t| t.contains("INPUT") || t.contains("Input"))
    })
    .await
}

fn name_of<'a>(skeleton: &'a Value, span: &Value) -> &'a str {
    skeleton["names"][span[2].as_u64().unwrap() as usize]
        .as_str()
        .unwrap()
}

fn otlp_span(
    trace_id: &str,
    id: u64,
    parent: Option<u64>,
    name: &str,
    start: u64,
    end: u64,
) -> Value {
    let mut span = json!({
        "traceId": trace_id,
        "spanId": format!("{id:016x}"),
        "name": name,
        "kind": 1,
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": end.to_string(),
    });
    if let Some(p) = parent {
        span["parentSpanId"] = json!(format!("{p:016x}"));
    }
    span
}

fn export(spans: Vec<Value>) -> Value {
    json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "gen-service"}}]},
        "scopeSpans": [{"spans": spans}]
    }]})
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}
