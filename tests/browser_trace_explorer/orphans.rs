//! Orphan spans are kept; prompts' HTML and script stay text.

use crate::common::{eventually, js, texts, Browser, Collector};
use crate::{detail_shows, export, now_ns, otlp_span, rows, WAIT};
use serde_json::json;
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphans_are_kept_and_untrusted_text_stays_text() {
    let collector = Collector::start(false).await;
    let trace_id = "5b8efff798038103d269b633813fc60c";
    let start = now_ns() - 5_000_000_000;
    let hostile = "<img src=x onerror=\"window.__pwned=1\"><b>bold</b>";
    let mut root = otlp_span(trace_id, 1, None, "root", start, start + 3_000_000_000);
    root["attributes"] = json!([
        {"key": "input.value", "value": {"stringValue": hostile}},
        {"key": "note", "value": {"stringValue": "<script>window.__pwned=2</script>"}},
    ]);
    let spans = vec![
        root,
        otlp_span(
            trace_id,
            2,
            Some(1),
            hostile,
            start + 100,
            start + 1_000_000,
        ),
        // Two orphans naming a parent (0xdead) that never arrives, one with a child.
        otlp_span(
            trace_id,
            3,
            Some(0xdead),
            "orphan_a",
            start + 2_000,
            start + 9_000_000,
        ),
        otlp_span(
            trace_id,
            4,
            Some(0xdead),
            "orphan_b",
            start + 3_000,
            start + 8_000_000,
        ),
        otlp_span(
            trace_id,
            5,
            Some(3),
            "orphan_child",
            start + 4_000,
            start + 5_000_000,
        ),
    ];
    collector.send_otlp_json(&export(spans)).await;

    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver
        .goto(collector.url(&format!("/traces/{trace_id}?span={:016x}", 1)))
        .await
        .unwrap();
    let shown = eventually(WAIT, "five span rows", || async {
        let r = rows(driver).await;
        (r.len() == 5).then_some(r)
    })
    .await;
    // Orphans sit under a marked placeholder (depth 1), their child below them.
    let placeholder = driver
        .find(By::Css(".span-row.placeholder-row"))
        .await
        .expect("a placeholder row");
    assert_eq!(
        placeholder
            .attr("data-missing-parent")
            .await
            .unwrap()
            .as_deref(),
        Some("000000000000dead")
    );
    assert!(placeholder.text().await.unwrap().contains("never arrived"));
    let depth_of = |id: u64| {
        shown
            .iter()
            .find(|(s, _)| *s == format!("{id:016x}"))
            .map(|(_, d)| *d)
    };
    assert_eq!(depth_of(1), Some(0));
    assert_eq!(depth_of(2), Some(1));
    assert_eq!(depth_of(3), Some(1));
    assert_eq!(depth_of(4), Some(1));
    assert_eq!(depth_of(5), Some(2));
    let header = texts(driver, ".orphan-note").await.join(" ");
    assert!(header.contains("2 spans"), "{header}");

    // Names, inputs and attributes are text: shown literally, never run or parsed.
    let names = texts(driver, ".span-row .name").await;
    assert!(names.iter().any(|n| n == hostile), "{names:?}");
    detail_shows(driver, &format!("{:016x}", 1)).await;
    let panel = texts(driver, ".detail-panel").await.join(" ");
    assert!(panel.contains(hostile), "the input as text");
    assert!(
        panel.contains("<script>window.__pwned=2</script>"),
        "an attribute as text"
    );
    let injected = js(
        driver,
        "return window.__pwned === undefined
            && !document.querySelector('.explorer b, .explorer img, .detail-panel b, .detail-panel img, .detail-panel script')",
    )
    .await;
    assert_eq!(
        injected,
        json!(true),
        "no markup from the trace reached the DOM"
    );

    browser.quit().await;
}
