//! A 50,000-span trace opens, scrolls to its end and stays virtualized.

use std::time::Duration;

use crate::common::{eventually, js, press, span_rows, texts, Browser, Collector};
use crate::{export, now_ns, otlp_span, row, rows, selected_id, WAIT};
use serde_json::Value;
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50000_span_trace_opens_scrolls_to_its_end_and_stays_virtualized() {
    const TOTAL: u64 = 50_000;
    let collector = Collector::start(false).await;
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let start = now_ns() - 60_000_000_000;
    // A root, batches of 100 (a batch span and its 99 steps), cut at 50,000 spans.
    let mut spans = vec![otlp_span(
        trace_id,
        1,
        None,
        "big_root",
        start,
        start + 55_000_000_000,
    )];
    let mut next = 2u64;
    let mut batch = 0u64;
    let mut last = 0u64;
    while next <= TOTAL {
        let b = next;
        let t = start + batch * 100_000_000;
        spans.push(otlp_span(
            trace_id,
            b,
            Some(1),
            &format!("batch_{batch}"),
            t,
            t + 90_000_000,
        ));
        next += 1;
        for step in 0..99u64 {
            if next > TOTAL {
                break;
            }
            let s = t + step * 900_000;
            spans.push(otlp_span(
                trace_id,
                next,
                Some(b),
                &format!("step_{next}"),
                s,
                s + 800_000,
            ));
            last = next;
            next += 1;
        }
        batch += 1;
    }
    assert_eq!(spans.len() as u64, TOTAL);
    for chunk in spans.chunks(10_000) {
        collector.send_otlp_json(&export(chunk.to_vec())).await;
    }
    eventually(
        Duration::from_secs(60),
        "all 50,000 spans in the API",
        || async {
            let r = reqwest::get(collector.url(&format!("/api/v1/traces/{trace_id}")))
                .await
                .ok()?;
            let skeleton: Value = r.json().await.ok()?;
            (skeleton["spans"].as_array()?.len() as u64 == TOTAL).then_some(())
        },
    )
    .await;
    let last_id = format!("{last:016x}");

    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver
        .goto(collector.url(&format!("/traces/{trace_id}")))
        .await
        .unwrap();
    eventually(Duration::from_secs(40), "the first rows", || async {
        (!rows(driver).await.is_empty()).then_some(())
    })
    .await;
    // The first rows may show while the rest arrives (the status bar counts them in); then
    // the whole trace.
    eventually(Duration::from_secs(40), "the whole trace", || async {
        (texts(driver, "[data-testid=rows-shown]").await == vec!["50,000 rows".to_string()])
            .then_some(())
    })
    .await;
    // The trace's feedback (the rows' badges) is asked for once, though the first rows and
    // the whole trace are drawn one after the other.
    let feedback_requests = js(
        driver,
        "return performance.getEntriesByType('resource')
            .filter(e => e.name.includes('/api/v1/feedback?') && e.name.includes('trace_id=')).length",
    )
    .await;
    assert_eq!(feedback_requests, 1, "requests for the trace's feedback");
    let few_hundred = 300;
    let at_start = span_rows(driver).await;
    assert!(at_start <= few_hundred, "{at_start} row elements");
    let timings = js(
        driver,
        "return ['skein:trace-fetch', 'skein:trace-build', 'skein:trace-load']
            .map(n => performance.getEntriesByName(n).map(e => Math.round(e.duration)))",
    )
    .await;
    eprintln!("50,000 spans: fetch (request + parse), tree build, load to paint (ms): {timings}");
    assert!(
        timings
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.as_array().map(Vec::len) == Some(1)),
        "{timings}"
    );

    // Scroll through: the DOM holds a window of rows wherever we are.
    for frac in [0.25, 0.5, 0.75] {
        js(
            driver,
            &format!(
                "const v = document.querySelector('.rows-viewport'); v.scrollTop = v.scrollHeight * {frac}; return 0"
            ),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let n = span_rows(driver).await;
        assert!(n > 10 && n <= few_hundred, "{n} row elements at {frac}");
        // Row elements are reused out of order; the tree gives assistive technology every
        // drawn row, top to bottom.
        let order = js(
            driver,
            "const owned = document.querySelector('.rows-viewport').getAttribute('aria-owns').split(' ');
             const drawn = [...document.querySelectorAll('.span-row')]
                 .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
                 .map(r => r.id);
             return [owned, drawn]",
        )
        .await;
        assert_eq!(
            order[0], order[1],
            "aria-owns against the rows top to bottom at {frac}"
        );
    }
    // To the very end: the last span is there.
    js(
        driver,
        "const v = document.querySelector('.rows-viewport'); v.scrollTop = v.scrollHeight; return 0",
    )
    .await;
    eventually(WAIT, "the last span's row", || async {
        rows(driver)
            .await
            .iter()
            .any(|(id, _)| *id == last_id)
            .then_some(())
    })
    .await;
    assert!(span_rows(driver).await <= few_hundred);

    // Keyboard: Home, then End selects the last span.
    row(driver, &last_id).await.click().await.unwrap();
    press(driver, Key::Home).await;
    eventually(WAIT, "the root selected", || async {
        (selected_id(driver).await.as_deref() == Some("0000000000000001")).then_some(())
    })
    .await;
    press(driver, Key::End).await;
    eventually(WAIT, "the last span selected by End", || async {
        (selected_id(driver).await.as_deref() == Some(last_id.as_str())).then_some(())
    })
    .await;

    // Collapsing the root hides 49,999 rows at once; expanding brings them back.
    press(driver, Key::Home).await;
    press(driver, Key::Left).await;
    eventually(WAIT, "only the root", || async {
        (texts(driver, "[data-testid=rows-shown]").await
            == vec!["1 of 50,000 rows shown".to_string()])
        .then_some(())
    })
    .await;
    press(driver, Key::Right).await;
    eventually(WAIT, "all rows again", || async {
        (texts(driver, "[data-testid=rows-shown]").await == vec!["50,000 rows".to_string()])
            .then_some(())
    })
    .await;

    // Find jumps to a span far down.
    let find = driver.find(By::Css("input[name=find]")).await.unwrap();
    find.send_keys(format!("step_{last}")).await.unwrap();
    find.send_keys(Key::Enter).await.unwrap();
    eventually(WAIT, "the found span selected", || async {
        (selected_id(driver).await.as_deref() == Some(last_id.as_str())).then_some(())
    })
    .await;
    assert!(span_rows(driver).await <= few_hundred);

    browser.quit().await;
}
