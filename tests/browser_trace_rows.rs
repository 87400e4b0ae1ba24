//! The trace page's row slots in a real browser against a real collector: after a jump (a
//! scroll far down, as a fast scroll or a scrollbar drag makes), the rows in view show the
//! right spans, the rows around them follow, and a span's feedback badge goes with its span
//! as the slots draw other rows.
//!
//! Needs: `cargo build -p skein-collector`, `scripts/build-dashboard.sh`, chromium (see
//! tests/common/mod.rs). Run with `cargo test --test browser_trace_rows`.

mod common;

use std::time::Duration;

use common::{eventually, js, texts, Browser, Collector};
use serde_json::{json, Value};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);
/// Batches under the root, and steps in each batch: 1 + 40 × 50 = 2,001 spans.
const BATCHES: u64 = 40;
const STEPS: u64 = 49;
const ROW_H: f64 = 28.0;

/// The trace, with span ids numbered in display order (the root 1, then each batch followed
/// by its steps, in start order): row `r` shows span `r + 1`.
fn trace(trace_id: &str, start: u64) -> (Value, u64) {
    let span = |id: u64, parent: Option<u64>, name: String, from: u64, to: u64| {
        let mut s = json!({
            "traceId": trace_id,
            "spanId": format!("{id:016x}"),
            "name": name,
            "kind": 1,
            "startTimeUnixNano": from.to_string(),
            "endTimeUnixNano": to.to_string(),
        });
        if let Some(p) = parent {
            s["parentSpanId"] = json!(format!("{p:016x}"));
        }
        s
    };
    let mut spans = vec![span(
        1,
        None,
        "rows_root".into(),
        start,
        start + 50_000_000_000,
    )];
    let mut id = 2;
    for b in 0..BATCHES {
        let t = start + b * 1_000_000_000;
        let batch = id;
        spans.push(span(
            batch,
            Some(1),
            format!("batch_{b}"),
            t,
            t + 900_000_000,
        ));
        id += 1;
        for s in 0..STEPS {
            let at = t + s * 10_000_000;
            spans.push(span(
                id,
                Some(batch),
                format!("step_{id}"),
                at,
                at + 9_000_000,
            ));
            id += 1;
        }
    }
    let total = spans.len() as u64;
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "rows-service"}}]},
        "scopeSpans": [{"spans": spans}]
    }]});
    (body, total)
}

fn name_of_row(row: u64) -> String {
    let id = row + 1;
    if id == 1 {
        return "rows_root".into();
    }
    let (b, s) = ((id - 2) / (STEPS + 1), (id - 2) % (STEPS + 1));
    if s == 0 {
        format!("batch_{b}")
    } else {
        format!("step_{id}")
    }
}

/// Scrolls the rows so that `row` is at the top of the viewport, in one jump.
async fn jump_to(driver: &WebDriver, row: u64) {
    js(
        driver,
        &format!(
            "document.querySelector('.rows-viewport').scrollTop = {}; return 0",
            row as f64 * ROW_H
        ),
    )
    .await;
}

/// What the rows show once settled: every drawn row top to bottom as (row, span id, name),
/// the viewport's first and last row in view, and `aria-owns`'s order; `None` while a row
/// drawn disagrees with its place or the rows have not reached a full window around `top`.
async fn settled_rows(driver: &WebDriver, top: u64) -> Option<Vec<(u64, String, String)>> {
    let got = js(
        driver,
        "const v = document.querySelector('.rows-viewport');
         const rows = [...document.querySelectorAll('.span-row')]
             .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top);
         return {
             rows: rows.map(r => [r.id, r.dataset.spanId, r.querySelector('.name').textContent,
                                  Math.round(r.getBoundingClientRect().top - v.getBoundingClientRect().top)]),
             owned: v.getAttribute('aria-owns'),
             height: v.clientHeight,
         }",
    )
    .await;
    let rows: Vec<(u64, String, String, i64)> = got["rows"]
        .as_array()?
        .iter()
        .map(|r| {
            let row = r[0].as_str()?.strip_prefix("span-row-")?.parse().ok()?;
            Some((
                row,
                r[1].as_str()?.to_string(),
                r[2].as_str()?.to_string(),
                r[3].as_i64()?,
            ))
        })
        .collect::<Option<_>>()?;
    let (first, last) = (rows.first()?.0, rows.last()?.0);
    let height = got["height"].as_f64()?;
    let in_view_last = top + (height / ROW_H).ceil() as u64;
    // Drawn: a contiguous run of rows, each at its place, around the viewport on both sides.
    let contiguous = rows
        .iter()
        .enumerate()
        .all(|(i, r)| r.0 == first + i as u64);
    // Row `top` at the viewport's top (give or take a border), the others one row apart.
    let offset = |r: &(u64, String, String, i64)| r.3 - ((r.0 as f64 - top as f64) * ROW_H) as i64;
    let placed = rows.iter().all(|r| offset(r) == offset(&rows[0])) && offset(&rows[0]).abs() <= 2;
    let around = first < top && last > in_view_last;
    let owned: Vec<String> = rows.iter().map(|r| format!("span-row-{}", r.0)).collect();
    let owned_in_order = got["owned"].as_str() == Some(owned.join(" ").as_str());
    (contiguous && placed && around && owned_in_order).then(|| {
        rows.into_iter()
            .map(|(r, id, name, _)| (r, id, name))
            .collect()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_after_a_jump_show_their_spans_and_badges_follow_their_spans() {
    let collector = Collector::start(false).await;
    let trace_id = "7f0c4d2e9a1b4c3d8e5f6a7b8c9d0e1f";
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        - 120_000_000_000;
    let (body, total) = trace(trace_id, start);
    collector.send_otlp_json(&body).await;
    // One span far down has feedback; none of the others.
    let rated_row = 1_500;
    let rated = format!("{:016x}", rated_row + 1);
    eventually(WAIT, "the rated span stored", || async {
        let r = reqwest::get(collector.url(&format!("/api/v1/traces/{trace_id}")))
            .await
            .ok()?;
        let skeleton: Value = r.json().await.ok()?;
        (skeleton["spans"].as_array()?.len() as u64 == total).then_some(())
    })
    .await;
    collector
        .post_json(
            "/api/v1/feedback?project=default",
            json!({"run_id": rated, "trace_id": trace_id, "key": "correct", "score": 1.0}),
        )
        .await;

    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver
        .goto(collector.url(&format!("/traces/{trace_id}")))
        .await
        .unwrap();
    eventually(WAIT, "the whole trace", || async {
        (texts(driver, "[data-testid=rows-shown]").await == vec!["2,001 rows".to_string()])
            .then_some(())
    })
    .await;

    // Jumps down and back: each time every drawn row shows the span of its place (none left
    // from the row its element drew before), with rows drawn above and below the viewport.
    // A badge shows only on the rated span's row, whichever element draws it.
    for top in [600, 1_490, 20, 1_200, 1_495, 300] {
        jump_to(driver, top).await;
        let rows = eventually(WAIT, &format!("the rows around row {top}"), || {
            settled_rows(driver, top)
        })
        .await;
        for (row, id, name) in &rows {
            assert_eq!(*id, format!("{:016x}", row + 1), "row {row}'s span");
            assert_eq!(*name, name_of_row(*row), "row {row}'s name");
        }
        let rated_drawn = rows.iter().any(|(_, id, _)| *id == rated);
        let badges = eventually(WAIT, "the badges", || async {
            let badges = js(
                driver,
                "return [...document.querySelectorAll('[data-testid=feedback-badge]')]
                    .map(b => b.closest('.span-row').dataset.spanId)",
            )
            .await;
            let badges: Vec<String> = badges
                .as_array()?
                .iter()
                .filter_map(|b| b.as_str().map(str::to_string))
                .collect();
            (badges.len() == usize::from(rated_drawn)).then_some(badges)
        })
        .await;
        if rated_drawn {
            assert_eq!(badges, vec![rated.clone()], "the badge's row at {top}");
        }
    }

    browser.quit().await;
}
