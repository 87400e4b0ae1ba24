//! The `/spans` page and the filter box, in headless Chromium against the real collector:
//! a filter typed in the box lists exactly the spans the data sent says, sorted by duration;
//! a row opens its trace with the span selected; a syntax error is pointed at; suggestions
//! come from the language and the stored values; the trace list's "having a span where" box
//! keeps only the traces having such a span.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{eventually, js, present, texts, Browser, Collector};
use serde_json::json;
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);
const TRACES: u64 = 24;
const MODELS: [&str; 3] = ["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet"];
const BASE_NS: u64 = 1_795_500_000_000_000_000;

/// One LLM call of the data sent.
#[derive(Debug, Clone)]
struct Llm {
    trace: String,
    span: String,
    model: &'static str,
    ms: u64,
}

fn trace_id(i: u64) -> String {
    format!("{:032x}", 0x5ba0_0000 + i)
}

fn span_id(i: u64, n: u64) -> String {
    format!("{:016x}", i * 16 + n)
}

/// Each trace: an agent root (tag env), one LLM call (a model, a duration of its own) and a
/// tool call. Returns the LLM calls.
async fn send(collector: &Collector) -> Vec<Llm> {
    let attr = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let int = |k: &str, v: u64| json!({"key": k, "value": {"intValue": v.to_string()}});
    let mut spans = Vec::new();
    let mut calls = Vec::new();
    for i in 0..TRACES {
        let at = |ms: u64| (BASE_NS + i * 60_000_000_000 + ms * 1_000_000).to_string();
        let model = MODELS[(i % 3) as usize];
        // Distinct durations from 0.7 s to 3.6 s (373 and 2,900 are coprime).
        let ms = 700 + (i * 373) % 2_900;
        spans.push(
            json!({"traceId": trace_id(i), "spanId": span_id(i, 1), "name": "graph",
            "startTimeUnixNano": at(0), "endTimeUnixNano": at(ms + 400),
            "attributes": [attr("gen_ai.operation.name", "invoke_agent"),
                attr("env", if i % 2 == 0 { "prod" } else { "staging" })]}),
        );
        spans.push(json!({"traceId": trace_id(i), "spanId": span_id(i, 2),
            "parentSpanId": span_id(i, 1), "name": format!("chat {i}"),
            "startTimeUnixNano": at(10), "endTimeUnixNano": at(10 + ms),
            "attributes": [attr("gen_ai.operation.name", "chat"),
                attr("gen_ai.request.model", model),
                int("gen_ai.usage.input_tokens", 100 + i),
                int("gen_ai.usage.output_tokens", 20),
                attr("langgraph_node", "writer")]}));
        spans.push(json!({"traceId": trace_id(i), "spanId": span_id(i, 3),
            "parentSpanId": span_id(i, 1), "name": "search_tool",
            "startTimeUnixNano": at(ms + 20), "endTimeUnixNano": at(ms + 120),
            "attributes": [attr("gen_ai.tool.name", "search")]}));
        calls.push(Llm {
            trace: trace_id(i),
            span: span_id(i, 2),
            model,
            ms,
        });
    }
    collector
        .send_otlp_json(&json!({"resourceSpans": [{
            "resource": {"attributes": [attr("service.name", "agents")]},
            "scopeSpans": [{"spans": spans}]
        }]}))
        .await;
    eventually(WAIT, "every span stored", || async {
        let page = collector
            .get_json("/api/v1/spans?project=default&limit=1")
            .await;
        (page["total"].as_u64() == Some(TRACES * 3)).then_some(())
    })
    .await;
    calls
}

async fn url(driver: &WebDriver) -> String {
    driver
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default()
}

/// The (trace, span) ids of the rows shown, top to bottom.
async fn rows(driver: &WebDriver) -> Vec<(String, String)> {
    let value = js(
        driver,
        "return [...document.querySelectorAll('.sl-rows .sl-row')]
            .map(r => [r.dataset.traceId, r.dataset.spanId])",
    )
    .await;
    value
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    (
                        r[0].as_str().unwrap_or("").to_string(),
                        r[1].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn filter_box(driver: &WebDriver) -> WebElement {
    driver
        .query(By::Css("input[name=filter]"))
        .first()
        .await
        .expect("the filter box")
}

/// Replaces the box's text by typing `text`.
async fn type_in(driver: &WebDriver, text: &str) -> WebElement {
    let input = filter_box(driver).await;
    input.click().await.unwrap();
    input
        .send_keys(Key::Control + "a")
        .await
        .expect("select all");
    input.send_keys(Key::Backspace).await.unwrap();
    input.send_keys(text).await.expect("typing");
    input
}

async fn box_value(input: &WebElement) -> String {
    input.prop("value").await.ok().flatten().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_page_filters_sorts_and_opens_the_span() {
    let collector = Collector::start(false).await;
    let calls = send(&collector).await;
    let browser = Browser::start().await;
    let driver = &browser.driver;

    driver.goto(collector.url("/spans")).await.unwrap();
    eventually(WAIT, "every span counted", || async {
        let count = texts(driver, "[data-testid=result-count]").await;
        (count == vec![format!("{} spans", TRACES * 3)]).then_some(())
    })
    .await;

    // Only the LLM calls to gpt-4o slower than 2 s.
    let filter = r#"and(eq(run_type, "llm"), gt(latency, "2s"), eq(model, "gpt-4o"))"#;
    let mut expected: Vec<&Llm> = calls
        .iter()
        .filter(|c| c.model == "gpt-4o" && c.ms > 2_000)
        .collect();
    assert!(expected.len() >= 2 && expected.len() < 8, "{expected:?}");
    let input = type_in(driver, filter).await;
    input.send_keys(Key::Enter).await.unwrap();
    // Newest first: the later traces first.
    let newest: Vec<(String, String)> = expected
        .iter()
        .rev()
        .map(|c| (c.trace.clone(), c.span.clone()))
        .collect();
    eventually(WAIT, "the filtered rows, newest first", || async {
        (url(driver).await.contains("filter=") && rows(driver).await == newest).then_some(())
    })
    .await;
    assert_eq!(
        texts(driver, "[data-testid=result-count]").await,
        vec![format!("{} spans", expected.len())]
    );

    // Slowest first, from the column header.
    expected.sort_by_key(|c| std::cmp::Reverse(c.ms));
    let slowest: Vec<(String, String)> = expected
        .iter()
        .map(|c| (c.trace.clone(), c.span.clone()))
        .collect();
    assert_ne!(slowest, newest, "the data must tell the two orders apart");
    driver
        .find(By::XPath(
            "//button[contains(@class,'sort-header')][starts-with(normalize-space(.),'Duration')]",
        ))
        .await
        .expect("the Duration header")
        .click()
        .await
        .unwrap();
    eventually(WAIT, "the rows slowest first", || async {
        (url(driver).await.contains("sort=duration_desc") && rows(driver).await == slowest)
            .then_some(())
    })
    .await;
    let durations = texts(driver, ".sl-rows .sl-row [data-col=duration]").await;
    assert_eq!(
        durations[0],
        skein_model::format::duration_ns(expected[0].ms as i64 * 1_000_000),
        "{durations:?}"
    );

    // A row opens its trace with the span selected.
    let first = &expected[0];
    driver
        .find(By::Css(".sl-rows .sl-row [data-col=tokens]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "the trace with the span selected", || async {
        let u = url(driver).await;
        let selected = js(
            driver,
            "const r = document.querySelector('.span-row.selected'); return r && r.dataset.spanId",
        )
        .await;
        (u.contains(&format!("/traces/{}", first.trace))
            && u.contains(&format!("span={}", first.span))
            && selected.as_str() == Some(first.span.as_str()))
        .then_some(())
    })
    .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filter_box_points_at_errors_and_suggests() {
    let collector = Collector::start(false).await;
    send(&collector).await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver.goto(collector.url("/spans")).await.unwrap();
    filter_box(driver).await;

    // A missing comma: the message, and the mark under the place the parser names.
    let wrong = r#"and(eq(run_type, "llm"), gt(latency "2s"))"#;
    let error = skein_model::filter::parse(wrong).expect_err("a syntax error");
    assert_eq!(&wrong[error.offset..error.end], "\"2s\"");
    type_in(driver, wrong).await;
    eventually(WAIT, "the error under the box", || async {
        let marked = texts(driver, "[data-testid=filter-error] .filter-error-at").await;
        let message = texts(driver, "[data-testid=filter-error] .filter-error-message").await;
        let place = js(
            driver,
            "const e = document.querySelector('[data-testid=filter-error]'); return e && e.dataset.offset",
        )
        .await;
        (marked == vec!["\"2s\"".to_string()]
            && message.first().is_some_and(|m| {
                m.contains(&error.message)
                    && m.contains(&format!("at character {}", error.char_offset + 1))
            })
            && place.as_str() == Some(error.char_offset.to_string().as_str()))
        .then_some(())
    })
    .await;
    // Enter does not apply it.
    filter_box(driver)
        .await
        .send_keys(Key::Enter)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !url(driver).await.contains("filter="),
        "{}",
        url(driver).await
    );

    // A field: typed in part, offered, accepted with Enter.
    let input = type_in(driver, "and(eq(mod").await;
    eventually(WAIT, "field suggestions", || async {
        let offered = texts(driver, "[data-testid=filter-suggestions] .suggestion-text").await;
        (offered.first().map(String::as_str) == Some("model")).then_some(())
    })
    .await;
    input.send_keys(Key::Enter).await.unwrap();
    eventually(WAIT, "the field accepted", || async {
        (box_value(&input).await == "and(eq(model, ").then_some(())
    })
    .await;

    // A model: the values stored, from the catalog API, accepted with Tab, quoted.
    let input = type_in(driver, "eq(model, \"gpt-4o-").await;
    let mut models: Vec<String> = MODELS
        .iter()
        .filter(|m| m.starts_with("gpt-4o-"))
        .map(|m| m.to_string())
        .collect();
    models.sort();
    assert!(!models.is_empty());
    eventually(WAIT, "model suggestions", || async {
        let mut offered = texts(driver, "[data-testid=filter-suggestions] .suggestion-text").await;
        offered.sort();
        (offered == models).then_some(())
    })
    .await;
    input.send_keys(Key::Tab).await.unwrap();
    eventually(WAIT, "the model accepted", || async {
        let value = box_value(&input).await;
        models
            .iter()
            .any(|m| value == format!("eq(model, \"{m}\")"))
            .then_some(())
    })
    .await;

    // Escape closes the list.
    let input = type_in(driver, "an").await;
    eventually(WAIT, "function suggestions", || async {
        let offered = texts(driver, "[data-testid=filter-suggestions] .suggestion-text").await;
        (offered.first().map(String::as_str) == Some("and")).then_some(())
    })
    .await;
    input.send_keys(Key::Escape).await.unwrap();
    eventually(WAIT, "the list closed", || async {
        (!present(driver, "[data-testid=filter-suggestions]").await).then_some(())
    })
    .await;

    // A stored value: the tag's values from the catalog API, accepted with Tab, quoted.
    let input = type_in(driver, "eq(tag.env, \"pr").await;
    eventually(WAIT, "tag value suggestions", || async {
        let offered = texts(driver, "[data-testid=filter-suggestions] .suggestion-text").await;
        (offered == vec!["prod".to_string()]).then_some(())
    })
    .await;
    input.send_keys(Key::Tab).await.unwrap();
    eventually(WAIT, "the value accepted", || async {
        (box_value(&input).await == "eq(tag.env, \"prod\")").then_some(())
    })
    .await;
    // Enter applies the (valid) filter: the rows are the API's answer, spans of prod traces.
    input.send_keys(Key::Enter).await.unwrap();
    let answer = collector
        .get_json("/api/v1/spans?project=default&limit=500&filter=eq%28tag.env%2C%20%22prod%22%29")
        .await;
    let expected: BTreeSet<(String, String)> = answer["spans"]
        .as_array()
        .expect("spans")
        .iter()
        .map(|s| {
            (
                s["trace_id"].as_str().unwrap().to_string(),
                s["span_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let prod: BTreeSet<String> = (0..TRACES).step_by(2).map(trace_id).collect();
    assert!(!expected.is_empty() && expected.iter().all(|(t, _)| prod.contains(t)));
    eventually(WAIT, "the spans of prod traces", || async {
        let shown: BTreeSet<(String, String)> = rows(driver).await.into_iter().collect();
        (url(driver).await.contains("filter=eq%28tag.env") && shown == expected).then_some(())
    })
    .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_list_keeps_traces_having_such_a_span() {
    let collector = Collector::start(false).await;
    let calls = send(&collector).await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver.goto(collector.url("/traces")).await.unwrap();
    eventually(WAIT, "every trace listed", || async {
        (texts(driver, "tr.trace-row").await.len() as u64 == TRACES).then_some(())
    })
    .await;

    let condition = r#"and(eq(model, "claude-3-5-sonnet"), gte(latency, "1.5s"))"#;
    let expected: BTreeSet<String> = calls
        .iter()
        .filter(|c| c.model == "claude-3-5-sonnet" && c.ms >= 1_500)
        .map(|c| c.trace.clone())
        .collect();
    assert!(!expected.is_empty() && (expected.len() as u64) < TRACES / 3);
    let input = type_in(driver, condition).await;
    input.send_keys(Key::Enter).await.unwrap();
    eventually(WAIT, "only the traces having such a span", || async {
        let shown = js(
            driver,
            "return [...document.querySelectorAll('tr.trace-row')].map(r => r.dataset.traceId)",
        )
        .await;
        let shown: BTreeSet<String> = shown
            .as_array()?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        (url(driver).await.contains("filter=") && shown == expected).then_some(())
    })
    .await;
    // The URL is the state: a reload shows the same expression and rows.
    driver.refresh().await.unwrap();
    eventually(WAIT, "the expression back in the box", || async {
        (box_value(&filter_box(driver).await).await == condition
            && texts(driver, "tr.trace-row").await.len() == expected.len())
        .then_some(())
    })
    .await;
    browser.quit().await;
}
