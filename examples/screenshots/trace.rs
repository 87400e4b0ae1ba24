//! The trace explorer: the detail panel on an LLM call and on a failed span, find, zoom, a
//! 50,000-span trace scrolled, a narrow window, a missing trace; in both themes.

use std::path::Path;
use std::time::Duration;

use crate::common::{eventually, js, texts, Browser, Collector};
use serde_json::{json, Value};
use thirtyfour::prelude::*;

use crate::shots::{set_theme, shot};

const WAIT: Duration = Duration::from_secs(30);

async fn open(driver: &WebDriver, url: String) {
    driver.goto(url).await.unwrap();
    eventually(WAIT, "span rows", || async {
        (!texts(driver, ".span-row").await.is_empty()).then_some(())
    })
    .await;
}

async fn detail_loaded(driver: &WebDriver) {
    eventually(WAIT, "the detail panel", || async {
        (!texts(driver, "[data-testid=detail-input]").await.is_empty()).then_some(())
    })
    .await;
}

fn span_id_where(skeleton: &Value, pred: impl Fn(&Value) -> bool) -> String {
    skeleton["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| pred(s))
        .expect("a matching span")[0]
        .as_str()
        .unwrap()
        .to_string()
}

pub async fn run(dir: &Path) {
    let collector = Collector::start_demo().await;

    // A 50,000-span trace beside the demo data.
    let big = "0af7651916cd43dd8448eb211c80319d";
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        - 120_000_000_000;
    let mut spans = vec![
        json!({"traceId": big, "spanId": format!("{:016x}", 1), "name": "nightly_eval",
        "kind": 2, "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + 60_000_000_000).to_string()}),
    ];
    let services = [
        "eval-runner",
        "model-service",
        "judge-service",
        "vector-store",
    ];
    let mut id = 2u64;
    let mut batch = 0u64;
    while id <= 50_000 {
        let b = id;
        let t = start + batch * 110_000_000;
        spans.push(json!({"traceId": big, "spanId": format!("{b:016x}"), "parentSpanId": format!("{:016x}", 1),
            "name": format!("case_{batch}"), "kind": 1,
            "startTimeUnixNano": t.to_string(), "endTimeUnixNano": (t + 100_000_000).to_string(),
            "status": if batch % 37 == 5 { json!({"code": 2, "message": "judge disagreed"}) } else { json!({}) }}));
        id += 1;
        for step in 0..99u64 {
            if id > 50_000 {
                break;
            }
            let s = t + step * 1_000_000;
            spans.push(json!({"traceId": big, "spanId": format!("{id:016x}"), "parentSpanId": format!("{b:016x}"),
                "name": format!("{} step {step}", services[(step % 4) as usize]), "kind": 3,
                "startTimeUnixNano": s.to_string(), "endTimeUnixNano": (s + 700_000 + step * 3_000).to_string()}));
            id += 1;
        }
        batch += 1;
    }
    for chunk in spans.chunks(10_000) {
        collector
            .send_otlp_json(&json!({"resourceSpans": [{
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "eval-runner"}}]},
                "scopeSpans": [{"spans": chunk}]
            }]}))
            .await;
    }

    let failed = collector
        .get_json("/api/v1/traces?project=default&name=main_agent&status=error&limit=1")
        .await["traces"][0]["trace_id"]
        .as_str()
        .unwrap()
        .to_string();
    let skeleton = collector
        .get_json(&format!("/api/v1/traces/{failed}"))
        .await;
    // An LLM call (type 1) that did not fail, and the one that did.
    let llm = span_id_where(&skeleton, |s| s[4] == 1 && s[7] != 2);
    let failed_llm = span_id_where(&skeleton, |s| s[4] == 1 && s[7] == 2);
    let list = collector
        .get_json("/api/v1/traces?project=default&limit=100")
        .await;
    let micro = list["traces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["services"].as_array().unwrap().len() > 4)
        .expect("a microservice trace")["trace_id"]
        .as_str()
        .unwrap()
        .to_string();

    let browser = Browser::start().await;
    let driver = &browser.driver;
    for theme in ["light", "dark"] {
        driver.goto(collector.url("/traces")).await.unwrap();
        set_theme(driver, theme).await;

        // The detail panel on an LLM call, scrolled to its conversation.
        open(
            driver,
            collector.url(&format!("/traces/{failed}?span={llm}")),
        )
        .await;
        detail_loaded(driver).await;
        shot(driver, dir, &format!("explorer-detail-{theme}")).await;
        js(
            driver,
            "document.querySelector('[data-testid=detail-input]').scrollIntoView(); return 0",
        )
        .await;
        shot(driver, dir, &format!("explorer-chat-{theme}")).await;

        // A failed span: the exception and its stack trace.
        open(
            driver,
            collector.url(&format!("/traces/{failed}?span={failed_llm}")),
        )
        .await;
        detail_loaded(driver).await;
        shot(driver, dir, &format!("explorer-error-{theme}")).await;

        // Many services; find "model", then zoom into the middle of the trace on the ruler.
        open(driver, collector.url(&format!("/traces/{micro}"))).await;
        let find = driver.find(By::Css("input[name=find]")).await.unwrap();
        find.send_keys("model").await.unwrap();
        eventually(WAIT, "matches", || async {
            (!texts(driver, ".span-row.match").await.is_empty()).then_some(())
        })
        .await;
        shot(driver, dir, &format!("explorer-find-{theme}")).await;
        let ruler = driver.find(By::Css(".ruler")).await.unwrap();
        let rect = ruler.rect().await.unwrap();
        driver
            .action_chain()
            .move_to_element_with_offset(&ruler, (-rect.width * 0.2) as i64, 0)
            .click_and_hold()
            .move_by_offset((rect.width * 0.35) as i64, 0)
            .release()
            .perform()
            .await
            .unwrap();
        eventually(WAIT, "the zoomed view", || async {
            (!texts(driver, ".zoom-reset").await.is_empty()).then_some(())
        })
        .await;
        shot(driver, dir, &format!("explorer-zoomed-{theme}")).await;

        // 50,000 spans, scrolled deep, a failed case selected.
        open(driver, collector.url(&format!("/traces/{big}"))).await;
        js(
            driver,
            "const v = document.querySelector('.rows-viewport'); v.scrollTop = v.scrollHeight * 0.62; return 0",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        if let Ok(row) = driver.find(By::Css(".span-row.row-error")).await {
            row.click().await.unwrap();
            detail_loaded(driver).await;
        }
        shot(driver, dir, &format!("explorer-huge-{theme}")).await;

        // A trace that does not exist.
        driver
            .goto(collector.url("/traces/00000000000000000000000000000001"))
            .await
            .unwrap();
        driver.query(By::Css(".empty-state")).first().await.unwrap();
        shot(driver, dir, &format!("explorer-not-found-{theme}")).await;
    }

    // A narrow window: the panel lies over the rows.
    driver.set_window_rect(0, 0, 1000, 800).await.unwrap();
    set_theme(driver, "light").await;
    open(
        driver,
        collector.url(&format!("/traces/{failed}?span={llm}")),
    )
    .await;
    detail_loaded(driver).await;
    shot(driver, dir, "explorer-narrow-light").await;

    browser.quit().await;
}
