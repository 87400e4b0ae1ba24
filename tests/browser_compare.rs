//! Two runs of one agent compared in the browser, what a reader sees of a model call's
//! conversation, and the downloads (a trace as OTLP/JSON, the list as CSV).
//!
//! Run A: agent_run (1.0 s) → plan (LLM, 400 ms). Run B: agent_run (1.6 s) → plan (LLM,
//! 700 ms, another answer) → web_search (tool, only in B).
//!
//! Needs: `cargo build -p skein-collector`, `scripts/build-dashboard.sh`, chromium (see
//! tests/common/mod.rs). Run with `cargo test --test browser_compare`.

mod common;

use std::time::Duration;

use common::{eventually, js, texts, Browser, Collector};
use serde_json::{json, Value};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(25);
const A: &str = "c0ffee000000000000000000000000aa";
const B: &str = "c0ffee000000000000000000000000bb";

fn attr(k: &str, v: &str) -> Value {
    json!({"key": k, "value": {"stringValue": v}})
}

fn run(trace: &str, start_ns: u128, slow: bool) -> Value {
    let tag = if slow { "b" } else { "a" };
    let answer = if slow {
        "Search the web, then answer."
    } else {
        "Answer from memory."
    };
    let input = json!([{"role": "user", "parts": [{"type": "text", "content": "Plan the trip"}]}]);
    let mut output =
        vec![json!({"role": "assistant", "parts": [{"type": "text", "content": answer}]})];
    if slow {
        output.push(json!({"role": "assistant", "parts": [
            {"type": "tool_call", "id": "t1", "name": "web_search", "arguments": {"q": "trip <b>ideas</b>"}}
        ]}));
    }
    let mut spans = vec![
        json!({"traceId": trace, "spanId": format!("{tag}000000000000001"), "name": "agent_run", "kind": 1,
               "startTimeUnixNano": (start_ns).to_string(),
               "endTimeUnixNano": (start_ns + if slow { 1_600_000_000 } else { 1_000_000_000 }).to_string(),
               "attributes": [attr("openinference.span.kind", "AGENT"), attr("variant", tag)]}),
        json!({"traceId": trace, "spanId": format!("{tag}000000000000002"), "parentSpanId": format!("{tag}000000000000001"),
               "name": "plan", "kind": 1,
               "startTimeUnixNano": (start_ns + 1_000_000).to_string(),
               "endTimeUnixNano": (start_ns + if slow { 701_000_000 } else { 401_000_000 }).to_string(),
               "attributes": [attr("gen_ai.operation.name", "chat"),
                              attr("gen_ai.input.messages", &input.to_string()),
                              attr("gen_ai.output.messages", &Value::Array(output).to_string())]}),
    ];
    if slow {
        spans.push(json!({"traceId": trace, "spanId": "b000000000000003", "parentSpanId": "b000000000000001",
               "name": "web_search", "kind": 1,
               "startTimeUnixNano": (start_ns + 800_000_000).to_string(),
               "endTimeUnixNano": (start_ns + 1_500_000_000).to_string(),
               "attributes": [attr("gen_ai.operation.name", "execute_tool"), attr("gen_ai.tool.name", "web_search"),
                              attr("gen_ai.tool.call.arguments", "{\"q\":\"trip ideas\"}"),
                              attr("gen_ai.tool.call.result", "3 results")]}));
    }
    json!({"resourceSpans": [{"resource": {"attributes": [attr("service.name", "planner")]},
                              "scopeSpans": [{"spans": spans}]}]})
}

async fn seeded() -> Collector {
    let collector = Collector::start(false).await;
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    collector
        .send_otlp_json(&run(A, now_ns - 120_000_000_000, false))
        .await;
    collector
        .send_otlp_json(&run(B, now_ns - 60_000_000_000, true))
        .await;
    collector
}

/// The compare page's rows as text, once it shows `count` of them.
async fn compare_rows(driver: &WebDriver, count: usize) -> Vec<String> {
    eventually(WAIT, "the compared rows", || async {
        let rows = texts(driver, "[data-testid=compare-row]").await;
        (rows.len() == count).then_some(rows)
    })
    .await
}

/// Clicks the download button `testid` and returns the file the browser was handed: its name
/// and text (the page's save is captured, not written to disk).
async fn download(driver: &WebDriver, testid: &str) -> (String, String) {
    js(
        driver,
        "window.__downloads = []; HTMLAnchorElement.prototype.click = function () { \
           if (this.download) { window.__downloads.push({name: this.download, href: this.href}); } };",
    )
    .await;
    driver
        .find(By::Css(format!("[data-testid={testid}]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let file = eventually(WAIT, testid, || async {
        let got = js(
            driver,
            "return window.__downloads.length ? window.__downloads[0] : null",
        )
        .await;
        (!got.is_null()).then_some(got)
    })
    .await;
    let body = driver
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);",
            vec![file["href"].clone()],
        )
        .await
        .unwrap()
        .json()
        .clone();
    (
        file["name"].as_str().unwrap_or_default().to_string(),
        body.as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_compare_span_by_span_with_their_outputs_diffed() {
    let collector = seeded().await;
    let browser = Browser::start().await;
    let driver = &browser.driver;

    // From the trace page: Compare with… lists traces of the same name to pick from.
    driver
        .goto(collector.url(&format!("/traces/{A}")))
        .await
        .unwrap();
    let compare = eventually(WAIT, "Compare with…", || async {
        driver
            .find(By::Css("[data-testid=compare-with]"))
            .await
            .ok()
    })
    .await;
    compare.click().await.unwrap();
    eventually(WAIT, "the pick banner", || async {
        let banner = texts(driver, "[data-testid=compare-pick]").await;
        banner.first().filter(|t| t.contains(A)).cloned()
    })
    .await;
    let row_b = eventually(WAIT, "trace B in the list", || async {
        driver
            .find(By::Css(format!(
                "tr.trace-row[data-trace-id='{B}'] .root-name"
            )))
            .await
            .ok()
    })
    .await;
    row_b.click().await.unwrap();

    let rows = compare_rows(driver, 3).await;
    assert!(rows[0].starts_with("agent_run"), "{rows:?}");
    // A 1 s, B 1.6 s: B is 600 ms slower, marked as worse.
    assert!(rows[0].contains("+600"), "{rows:?}");
    assert!(rows[1].starts_with("plan"), "{rows:?}");
    assert!(
        rows[2].starts_with("web_search") && rows[2].contains("only in B"),
        "{rows:?}"
    );
    let worse = js(
        driver,
        "return document.querySelectorAll('[data-testid=compare-row] .delta.worse').length",
    )
    .await;
    assert_eq!(worse, json!(2));
    let url = driver.current_url().await.unwrap();
    assert!(
        url.path() == "/compare" && url.query().unwrap_or("").contains(&format!("a={A}&b={B}")),
        "{url}"
    );

    // The model call's outputs, line by line: A's answer removed, B's answer and call added.
    driver
        .find_all(By::Css("[data-testid=compare-row]"))
        .await
        .unwrap()[1]
        .click()
        .await
        .unwrap();
    let diff = eventually(WAIT, "the output diff", || async {
        let lines = js(
            driver,
            "return [...document.querySelectorAll('[data-testid=diff-output] .diff-line:not(.diff-head)')].map(l => \
               [l.className.replace('diff-line ', ''), l.querySelector('.diff-a').textContent, l.querySelector('.diff-b').textContent])",
        )
        .await;
        let lines: Vec<(String, String, String)> = serde_json::from_value(lines).ok()?;
        (lines.len() > 1).then_some(lines)
    })
    .await;
    assert!(
        diff.contains(&(
            "removed".into(),
            "assistant: Answer from memory.".into(),
            String::new()
        )),
        "{diff:?}"
    );
    assert!(
        diff.contains(&(
            "added".into(),
            String::new(),
            "assistant: Search the web, then answer.".into()
        )),
        "{diff:?}"
    );
    // Untrusted text stays text.
    assert!(
        diff.iter().any(|(_, _, b)| b.contains("<b>ideas</b>")),
        "{diff:?}"
    );
    let input_same = texts(driver, "[data-testid=diff-input] h3").await;
    assert!(input_same[0].contains("the same"), "{input_same:?}");

    // The selection is in the URL: a reload shows the same row open.
    assert!(driver
        .current_url()
        .await
        .unwrap()
        .query()
        .unwrap_or("")
        .contains("row=1"));
    driver.refresh().await.unwrap();
    eventually(WAIT, "the selected row after a reload", || async {
        let selected = texts(driver, "[data-testid=compare-row].selected").await;
        selected.first().filter(|t| t.starts_with("plan")).cloned()
    })
    .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_call_reads_as_a_conversation_and_downloads_carry_the_data() {
    let collector = seeded().await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver
        .goto(collector.url(&format!("/traces/{B}?span=b000000000000002")))
        .await
        .unwrap();
    let call = eventually(WAIT, "the tool call in the output", || async {
        let calls = texts(
            driver,
            "[data-testid=detail-output] [data-testid=tool-call]",
        )
        .await;
        calls.into_iter().next()
    })
    .await;
    assert!(call.contains("web_search"), "{call}");
    assert!(call.contains("trip <b>ideas</b>"), "{call}");
    let user = texts(driver, "[data-testid=detail-input] .msg.role-user").await;
    assert!(user[0].contains("Plan the trip"), "{user:?}");

    // The tool span shows its arguments and result (GenAI keeps them in gen_ai.tool.call.*).
    driver
        .goto(collector.url(&format!("/traces/{B}?span=b000000000000003")))
        .await
        .unwrap();
    eventually(WAIT, "the tool's result", || async {
        let out = texts(driver, "[data-testid=detail-output]").await;
        out.first().filter(|t| t.contains("3 results")).cloned()
    })
    .await;

    // Export: the browser is handed the file the API writes.
    let (name, body) = download(driver, "trace-export").await;
    assert_eq!(name, format!("trace-{B}.otlp.json"));
    let exported: Value = serde_json::from_str(&body).unwrap();
    let spans = &exported["resourceSpans"][0]["scopeSpans"][0]["spans"];
    assert_eq!(spans.as_array().map(Vec::len), Some(3), "{exported}");

    // The list's CSV: a header and both runs.
    driver.goto(collector.url("/traces")).await.unwrap();
    eventually(WAIT, "the list", || async {
        (texts(driver, "tr.trace-row").await.len() == 2).then_some(())
    })
    .await;
    let (name, csv) = download(driver, "list-csv").await;
    assert_eq!(name, "traces-default.csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("trace_id,start,duration_ms,name"));
    assert!(
        lines[1].starts_with(B) && lines[2].starts_with(A),
        "{lines:?}"
    );
    browser.quit().await;
}
