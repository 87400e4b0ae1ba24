//! Cross-service timing in the trace explorer, in a real browser against a real collector: a
//! client/server pair across services marked with its network gaps, a server span whose clock
//! runs behind shifted back into its client (and left as recorded with `?skew=off`), and the
//! critical path drawn on the bars and listed with each span's share.
//!
//! Needs: `cargo build -p skein-collector`, `scripts/build-dashboard.sh`, chromium (see
//! tests/common/mod.rs). Run with `cargo test --test browser_trace_timing`.

mod common;

use std::time::Duration;

use common::timing::*;
use common::{eventually, js, open_trace_with_rows, span_rows, texts, Browser, Collector};
use serde_json::{json, Value};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

/// A row's bar: (left, right) in pixels.
async fn bar(driver: &WebDriver, span_id: &str) -> (f64, f64) {
    let got = js(
        driver,
        &format!(
            "const b = document.querySelector(\".span-row[data-span-id='{span_id}'] .bar\");
             if (!b) return null;
             const r = b.getBoundingClientRect(); return [r.left, r.right]"
        ),
    )
    .await;
    let pair = got
        .as_array()
        .unwrap_or_else(|| panic!("no bar for {span_id}"));
    (pair[0].as_f64().unwrap(), pair[1].as_f64().unwrap())
}

/// An attribute of a span's row (None: the row has no such attribute); panics if the row
/// is not on the page, so that "no attribute" cannot stand for "no row".
async fn attr(driver: &WebDriver, span_id: &str, name: &str) -> Option<String> {
    let got = js(
        driver,
        &format!(
            "const r = document.querySelector(\".span-row[data-span-id='{span_id}']\");
             return r ? [r.getAttribute('{name}')] : null"
        ),
    )
    .await;
    let got = got
        .as_array()
        .unwrap_or_else(|| panic!("no row for span {span_id}"));
    got[0].as_str().map(str::to_string)
}

async fn row_text(driver: &WebDriver, span_id: &str, css: &str) -> Vec<String> {
    texts(
        driver,
        &format!(".span-row[data-span-id='{span_id}'] {css}"),
    )
    .await
}

async fn url(driver: &WebDriver) -> String {
    driver.current_url().await.unwrap().to_string()
}

/// Span ids of the rows drawn on the critical path.
async fn critical_rows(driver: &WebDriver) -> Vec<String> {
    let got = js(
        driver,
        "return [...document.querySelectorAll('.span-row.on-critical')]
            .filter(r => r.querySelector('.crit-seg'))
            .map(r => r.dataset.spanId).sort()",
    )
    .await;
    got.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_service_pairs_clock_skew_and_the_critical_path() {
    let collector = Collector::start(false).await;
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        - 60_000 * MS;
    collector.send_otlp_json(&skewed_trace(t0)).await;
    eventually(WAIT, "the trace's six spans", || async {
        let r = reqwest::get(collector.url(&format!("/api/v1/traces/{TRACE}")))
            .await
            .ok()?;
        let skeleton: Value = r.json().await.ok()?;
        (skeleton["spans"].as_array()?.len() == 6).then_some(())
    })
    .await;

    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver
        .goto(collector.url(&format!("/traces/{TRACE}")))
        .await
        .unwrap();
    eventually(WAIT, "six rows", || async {
        (span_rows(driver).await == 6).then_some(())
    })
    .await;

    // The pair is marked on both sides; the server side carries the network gaps (as
    // adjusted: the server sits centred in its client, 10 ms each way).
    assert_eq!(
        attr(driver, CALL, "data-call").await.as_deref(),
        Some("client")
    );
    assert_eq!(
        attr(driver, SERVE, "data-call").await.as_deref(),
        Some("server")
    );
    assert_eq!(attr(driver, DB, "data-call").await, None);
    // The network gaps lead into and trail the server span's bar, titled with their size; the
    // same numbers label the row where it has room (not asserted: it depends on the width).
    let gaps = js(
        driver,
        &format!(
            "return [...document.querySelectorAll(\".span-row[data-span-id='{SERVE}'] .net-gap\")]
                .map(g => g.title)"
        ),
    )
    .await;
    assert_eq!(
        gaps,
        json!([
            "Request over the network: +10.0 ms",
            "Response over the network: +10.0 ms"
        ])
    );
    let labels = texts(driver, ".span-row .call-mark").await;
    assert!(labels.iter().any(|l| l == "→ orders"), "{labels:?}");
    assert!(
        labels
            .iter()
            .all(|l| l == "→ orders" || l == "net +10.0 ms · +10.0 ms"),
        "{labels:?}"
    );

    // The skewed span shows its adjustment and sits inside its client; its child moved along
    // without a mark of its own.
    assert_eq!(
        row_text(driver, SERVE, "[data-testid=skew-mark]").await,
        vec!["skew +35.0 ms"]
    );
    assert!(row_text(driver, DB, "[data-testid=skew-mark]")
        .await
        .is_empty());
    let (client_l, client_r) = bar(driver, CALL).await;
    let (serve_l, serve_r) = bar(driver, SERVE).await;
    let (db_l, _) = bar(driver, DB).await;
    assert!(
        client_l < serve_l && serve_r < client_r,
        "adjusted: server {serve_l}..{serve_r} inside client {client_l}..{client_r}"
    );
    assert!(db_l > serve_l);
    let skew_box = driver
        .find(By::Css("input[name=skew]"))
        .await
        .expect("the skew switch");
    assert!(skew_box.is_selected().await.unwrap());
    // Adjusted, the trace is its root's 100 ms (as recorded it spans 115 ms: below).
    assert_eq!(header_duration(driver).await, "100 ms");

    // The critical path: every span but the parallel cache lookup, drawn on the bars (once
    // computed, after the rows are painted)...
    let mut on_path = vec![ROOT, CALL, RENDER, SERVE, DB]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    on_path.sort();
    eventually(WAIT, "the critical path on the bars", || async {
        (critical_rows(driver).await == on_path).then_some(())
    })
    .await;
    assert_eq!(
        attr(driver, CACHE, "class")
            .await
            .map(|c| c.contains("on-critical")),
        Some(false)
    );

    // ...and listed in the order the trace ran them, with shares of its 100 ms.
    driver
        .find(By::Css(".critical-switch button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let listed = eventually(WAIT, "the critical path list", || async {
        let got = js(
            driver,
            "return [...document.querySelectorAll('[data-testid=critical-list] .crit-item')]
                .map(i => [i.dataset.spanId, i.querySelector('[data-testid=crit-share]').textContent])",
        )
        .await;
        let items = got.as_array()?.clone();
        (!items.is_empty()).then_some(items)
    })
    .await;
    assert_eq!(
        Value::Array(listed),
        json!([
            [ROOT, "25.0%"],
            [CALL, "20.0%"],
            [SERVE, "20.0%"],
            [DB, "20.0%"],
            [RENDER, "15.0%"]
        ])
    );
    // Choosing an item selects its span, with its timing in the detail panel.
    driver
        .find(By::Css(format!(".crit-item[data-span-id='{SERVE}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let notes = eventually(WAIT, "the server span's timing notes", || async {
        let selected = js(
            driver,
            "const r = document.querySelector('.span-row.selected'); return r && r.dataset.spanId",
        )
        .await;
        if selected.as_str() != Some(SERVE) {
            return None;
        }
        texts(driver, "[data-testid=timing-notes] li")
            .await
            .into_iter()
            .next()
            .map(|_| ())?;
        Some(texts(driver, "[data-testid=timing-notes] li").await)
    })
    .await;
    assert!(
        notes[0].starts_with("Adjusted +35.0 ms for clock skew"),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains(
            "Called from gateway: request +10.0 ms, response +10.0 ms over the network."
        )),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("On the critical path for 20.0 ms: 20.0% of the trace's duration.")),
        "{notes:?}"
    );
    assert!(url(driver).await.contains(&format!("span={SERVE}")));
    assert!(
        texts(driver, "[data-testid=critical-list]")
            .await
            .is_empty(),
        "the list closes once a span is chosen"
    );

    // Switched off: the URL says so, the server span is back where its clock put it (before
    // its client), without a mark, and the gaps show the disagreeing clocks.
    skew_box.click().await.unwrap();
    eventually(WAIT, "skew=off in the URL", || async {
        url(driver).await.contains("skew=off").then_some(())
    })
    .await;
    eventually(WAIT, "the server span as recorded", || async {
        let (client_l, _) = bar(driver, CALL).await;
        let (serve_l, _) = bar(driver, SERVE).await;
        (serve_l < client_l).then_some(())
    })
    .await;
    assert!(row_text(driver, SERVE, "[data-testid=skew-mark]")
        .await
        .is_empty());
    assert_eq!(header_duration(driver).await, "115 ms");
    // The request "arrived" before it was sent: no lead-in, only the tail.
    let gaps = js(
        driver,
        &format!(
            "return [...document.querySelectorAll(\".span-row[data-span-id='{SERVE}'] .net-gap\")]
                .map(g => g.title)"
        ),
    )
    .await;
    assert_eq!(gaps, json!(["Response over the network: +45.0 ms"]));
    let notes = texts(driver, "[data-testid=timing-notes] li").await;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("request −25.0 ms, response +45.0 ms")),
        "{notes:?}"
    );
    assert!(
        notes[0].starts_with(
            "Shown as recorded: the clock-skew adjustment (off) would move it +35.0 ms."
        ),
        "{notes:?}"
    );
    assert!(
        url(driver).await.contains(&format!("span={SERVE}")),
        "the selection stays"
    );

    // The URL alone restores the setting.
    driver
        .goto(collector.url(&format!("/traces/{TRACE}?skew=off")))
        .await
        .unwrap();
    eventually(WAIT, "the unadjusted trace from its URL", || async {
        if span_rows(driver).await != 6 {
            return None;
        }
        let (client_l, _) = bar(driver, CALL).await;
        let (serve_l, _) = bar(driver, SERVE).await;
        (serve_l < client_l).then_some(())
    })
    .await;
    let skew_box = driver.find(By::Css("input[name=skew]")).await.unwrap();
    assert!(!skew_box.is_selected().await.unwrap());
    skew_box.click().await.unwrap();
    eventually(WAIT, "the adjustment back on", || async {
        let (client_l, _) = bar(driver, CALL).await;
        let (serve_l, _) = bar(driver, SERVE).await;
        (client_l < serve_l && !url(driver).await.contains("skew=")).then_some(())
    })
    .await;

    // The critical-path highlight switches off (and the bars stay).
    driver
        .find(By::Css("input[name=critical-path]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "no critical segments", || async {
        let n = js(
            driver,
            "return document.querySelectorAll('.crit-seg').length",
        )
        .await;
        (n.as_u64() == Some(0)).then_some(())
    })
    .await;
    bar(driver, ROOT).await;

    browser.quit().await;
}

/// The header's duration.
async fn header_duration(driver: &WebDriver) -> String {
    texts(driver, "[data-testid=trace-duration]").await.concat()
}

/// A JS SDK's millisecond clock puts one child 2 ms before its root's start and another 3 ms
/// after its end (one service: no clock-skew adjustment applies). The header, the ruler and the
/// bars agree on one extent: 105 ms, every bar inside the ruler, the early child's bar at its
/// left edge and the late one's at its right edge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_outside_their_root_widen_the_trace_for_header_ruler_and_bars() {
    let collector = Collector::start(false).await;
    // Whole milliseconds, as a JS SDK's clock gives them.
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        / MS
        * MS
        - 60_000 * MS;
    collector.send_otlp_json(&overhanging_trace(t0)).await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    open_trace_with_rows(driver, &collector.url(&format!("/traces/{JS_TRACE}")), 3).await;

    assert_eq!(header_duration(driver).await, "105 ms");
    // The root's own duration stays in its row.
    assert_eq!(
        row_text(driver, JS_ROOT, ".bar-label").await,
        vec!["100 ms"]
    );
    let ruler = js(
        driver,
        "const r = document.querySelector('.explorer .ruler').getBoundingClientRect();
         return [r.left, r.right]",
    )
    .await;
    let (ruler_l, ruler_r) = (ruler[0].as_f64().unwrap(), ruler[1].as_f64().unwrap());
    let width = ruler_r - ruler_l;
    for id in [JS_ROOT, JS_EARLY, JS_LATE] {
        let (l, r) = bar(driver, id).await;
        assert!(
            l >= ruler_l - 0.5 && r <= ruler_r + 0.5,
            "{id}'s bar {l}..{r} lies within the ruler {ruler_l}..{ruler_r}"
        );
    }
    let (early_l, _) = bar(driver, JS_EARLY).await;
    let (_, late_r) = bar(driver, JS_LATE).await;
    assert!((early_l - ruler_l).abs() < 1.5, "{early_l} vs {ruler_l}");
    assert!((late_r - ruler_r).abs() < 1.5, "{late_r} vs {ruler_r}");
    // The root starts 2 ms into the 105 ms.
    let (root_l, root_r) = bar(driver, JS_ROOT).await;
    assert!(
        ((root_l - ruler_l) / width - 2.0 / 105.0).abs() < 0.01,
        "root at {root_l} in {ruler_l}..{ruler_r}"
    );
    assert!(((root_r - ruler_l) / width - 102.0 / 105.0).abs() < 0.01);
    // The ruler reads from the trace's start: 0 at the left edge, 100 ms inside the right.
    let ticks = js(
        driver,
        "return [...document.querySelectorAll('.explorer .ruler .tick')]
            .map(t => [t.textContent, t.getBoundingClientRect().left])",
    )
    .await;
    let ticks = ticks.as_array().unwrap();
    assert_eq!(ticks[0][0], "0");
    assert!((ticks[0][1].as_f64().unwrap() - ruler_l).abs() < 1.5);
    let last = &ticks[ticks.len() - 1];
    assert_eq!(last[0], "100 ms", "{ticks:?}");
    let expected = ruler_l + width * 100.0 / 105.0;
    assert!(
        (last[1].as_f64().unwrap() - expected).abs() < 3.0 || last[1].as_f64().unwrap() < expected,
        "{ticks:?}"
    );
    browser.quit().await;
}

/// Sends a wheel event at `x` (px) over the rows; true when the page took it (prevented the
/// browser's own handling).
async fn wheel(driver: &WebDriver, x: f64, delta_y: f64, ctrl: bool) -> bool {
    js(
        driver,
        &format!(
            "const v = document.querySelector('.rows-viewport');
             const r = v.getBoundingClientRect();
             const e = new WheelEvent('wheel', {{deltaY: {delta_y}, ctrlKey: {ctrl},
                 clientX: {x}, clientY: r.top + 20, bubbles: true, cancelable: true}});
             return !v.dispatchEvent(e)"
        ),
    )
    .await
    .as_bool()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_wheel_zooms_the_waterfall_around_the_pointer() {
    let collector = Collector::start(false).await;
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        - 60_000 * MS;
    collector.send_otlp_json(&skewed_trace(t0)).await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    open_trace_with_rows(driver, &collector.url(&format!("/traces/{TRACE}")), 6).await;
    let (left, right) = bar(driver, RENDER).await;
    let centre = (left + right) / 2.0;

    // A plain wheel scrolls, it does not zoom.
    assert!(!wheel(driver, centre, -200.0, false).await);
    assert!(texts(driver, ".zoom-reset").await.is_empty());

    // Ctrl+wheel up over the render span's bar zooms in around it: the bar grows and its
    // centre stays under the pointer.
    assert!(
        wheel(driver, centre, -200.0, true).await,
        "the page takes Ctrl+wheel"
    );
    let (l2, r2) = eventually(WAIT, "a wider bar", || async {
        let (l, r) = bar(driver, RENDER).await;
        (r - l > (right - left) * 1.3).then_some((l, r))
    })
    .await;
    assert!(
        ((l2 + r2) / 2.0 - centre).abs() < 3.0,
        "the point under the pointer stays: {centre} → {}",
        (l2 + r2) / 2.0
    );
    assert_eq!(texts(driver, ".zoom-reset").await, vec!["Reset zoom"]);
    let label = texts(driver, ".head-zoom").await;
    // The whole trace as adjusted: the root's 100 ms (115 ms only as recorded).
    assert!(label[0].contains(" of 100 ms"), "{label:?}");

    // Over the tree, Ctrl+wheel is left to the browser.
    assert!(!wheel(driver, 40.0, -200.0, true).await);

    // Ctrl+wheel down zooms back out to the whole trace (and no further).
    for _ in 0..6 {
        wheel(driver, centre, 300.0, true).await;
    }
    eventually(WAIT, "the whole trace again", || async {
        let (l, r) = bar(driver, RENDER).await;
        (texts(driver, ".zoom-reset").await.is_empty() && ((r - l) - (right - left)).abs() < 1.0)
            .then_some(())
    })
    .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_rows_show_their_own_cost_next_to_their_tokens() {
    let collector = Collector::start(false).await;
    let trace = "c057c057c057c057c057c057c057c057";
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        - 60_000 * MS;
    let attr = |k: &str, v: Value| json!({"key": k, "value": v});
    let llm = |id: &str, cost: f64, prompt: &str| {
        json!({"traceId": trace, "spanId": id, "parentSpanId": "00000000000000d1", "name": "chat",
        "startTimeUnixNano": (t0 + 10 * MS).to_string(), "endTimeUnixNano": (t0 + 50 * MS).to_string(),
        "attributes": [
            attr("openinference.span.kind", json!({"stringValue": "LLM"})),
            attr("llm.token_count.prompt", json!({"intValue": prompt})),
            attr("llm.token_count.completion", json!({"intValue": "300"})),
            attr("llm.cost.total", json!({"doubleValue": cost}))
        ]})
    };
    collector
        .send_otlp_json(&json!({"resourceSpans": [{
            "resource": {"attributes": [attr("service.name", json!({"stringValue": "agents"}))]},
            "scopeSpans": [{"spans": [
                {"traceId": trace, "spanId": "00000000000000d1", "name": "agent",
                 "startTimeUnixNano": t0.to_string(), "endTimeUnixNano": (t0 + 100 * MS).to_string()},
                llm("00000000000000d2", 0.0042, "1200"),
                llm("00000000000000d3", 1.25, "90000"),
            ]}]
        }]}))
        .await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    open_trace_with_rows(driver, &collector.url(&format!("/traces/{trace}")), 3).await;
    let cells = |id: &'static str| async move {
        (
            row_text(driver, id, ".row-tokens").await,
            row_text(driver, id, ".row-cost").await,
        )
    };
    assert_eq!(
        cells("00000000000000d2").await,
        (vec!["1.5k tok".to_string()], vec!["$0.0042".to_string()])
    );
    assert_eq!(
        cells("00000000000000d3").await,
        (vec!["90k tok".to_string()], vec!["$1.25".to_string()])
    );
    // The agent has no cost of its own (its children's is theirs).
    assert_eq!(cells("00000000000000d1").await, (vec![], vec![]));
    browser.quit().await;
}
