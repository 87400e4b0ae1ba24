//! `/metrics` in a real browser against a collector with demo data: the A/B panel for the
//! demo's experiment (variant B is rated higher), charts drawn, the group-by changed without a
//! page reload, and tag values that look like markup drawn as text.
//!
//! Needs: `cargo build -p skein-collector`, the built dashboard (dist/, or `SKEIN_TEST_DIST`),
//! chromium (see tests/common/mod.rs). Run with `cargo test --test browser_metrics`.

mod common;

use std::time::Duration;

use common::{eventually, js, present, texts, Browser, Collector};
use serde_json::json;
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

/// One row of the groups table: (group, n, mean, CI) as shown.
async fn group_rows(driver: &WebDriver) -> Vec<(String, String, String, String)> {
    let mut rows = Vec::new();
    for row in driver
        .find_all(By::Css("[data-testid=groups-table] tbody tr"))
        .await
        .unwrap_or_else(|e| panic!("could not look for the groups table: {e}"))
    {
        let cell = |col: &'static str| {
            let row = row.clone();
            async move {
                row.find(By::Css(format!("td[data-col={col}]")))
                    .await
                    .ok()?
                    .text()
                    .await
                    .ok()
            }
        };
        let Ok(Some(group)) = row.attr("data-group").await else {
            continue;
        };
        let (Some(n), Some(mean), Some(ci)) =
            (cell("n").await, cell("mean").await, cell("ci").await)
        else {
            continue;
        };
        rows.push((group, n, mean, ci));
    }
    rows
}

async fn text_of(driver: &WebDriver, css: &str) -> Option<String> {
    driver.find(By::Css(css)).await.ok()?.text().await.ok()
}

/// The texts drawn in a chart's SVG.
async fn chart_texts(driver: &WebDriver, testid: &str) -> Vec<String> {
    let script = format!(
        "return Array.from(document.querySelectorAll('[data-testid={testid}] svg text')).map(t => t.textContent)"
    );
    js(driver, &script)
        .await
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn parse_number(text: &str) -> f64 {
    text.trim()
        .trim_end_matches('%')
        .replace('−', "-")
        .parse()
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ab_panel_and_charts_for_the_demo_experiment() {
    let collector = Collector::start_demo().await;
    let api = collector
        .get_json(
            "/api/v1/metrics?project=default&metric=feedback%3Auser_satisfaction&group_by=ab_test_variant",
        )
        .await;
    let api_mean = |variant: &str| {
        api["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["value"] == variant)
            .and_then(|g| g["mean"].as_f64())
            .unwrap_or_else(|| panic!("group {variant} in {api}"))
    };
    let browser = Browser::start().await;
    let driver = &browser.driver;

    driver
        .goto(collector.url("/metrics?metric=feedback:user_satisfaction&group_by=ab_test_variant"))
        .await
        .unwrap();
    let rows = eventually(WAIT, "two groups in the A/B panel", || async {
        let rows = group_rows(driver).await;
        (rows.len() == 2).then_some(rows)
    })
    .await;
    let groups: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(groups, ["A", "B"], "{rows:?}");
    for (group, n, mean, ci) in &rows {
        assert!(
            parse_number(&n.replace(',', "")) >= 10.0,
            "{group}: n = {n}"
        );
        let shown = parse_number(mean);
        assert!(
            (shown - api_mean(group)).abs() < 0.001,
            "{group}: shows {mean}, the API says {}",
            api_mean(group)
        );
        // "0.665 – 0.690": an interval around the mean.
        let (low, high) = ci
            .split_once('–')
            .map(|(l, h)| (parse_number(l), parse_number(h)))
            .unwrap_or_else(|| panic!("{group}: CI {ci:?}"));
        assert!(
            low < shown && shown < high,
            "{group}: {low} < {shown} < {high}"
        );
    }
    let (mean_a, mean_b) = (parse_number(&rows[0].2), parse_number(&rows[1].2));
    assert!(mean_b > mean_a, "the demo's B is rated higher: {rows:?}");

    // The comparison: A − B with its CI and a p-value; significant here, worded as such.
    let p = eventually(WAIT, "the p-value", || async {
        text_of(driver, "[data-testid=ab-p]").await
    })
    .await;
    assert!(p.starts_with("p "), "{p:?}");
    let difference = parse_number(
        &text_of(driver, "[data-testid=ab-difference]")
            .await
            .unwrap(),
    );
    assert!(
        (difference - (api_mean("A") - api_mean("B"))).abs() < 0.001,
        "difference {difference}"
    );
    let ci = text_of(driver, "[data-testid=ab-ci]").await.unwrap();
    let (low, high) = ci
        .split_once(" to ")
        .map(|(l, h)| (parse_number(l), parse_number(h)))
        .unwrap_or_else(|| panic!("CI {ci:?}"));
    assert!(low < difference && difference < high && high < 0.0, "{ci}");
    let verdict = text_of(driver, "[data-testid=ab-verdict]").await.unwrap();
    assert!(verdict.contains("Welch"), "{verdict}");
    assert!(!verdict.to_lowercase().contains("winner"), "{verdict}");

    // The charts are drawn, with the groups named in them.
    for chart in ["chart-means", "chart-series", "chart-dist"] {
        let drawn = eventually(WAIT, "a drawn chart", || async {
            let t = chart_texts(driver, chart).await;
            (t.iter().any(|t| t == "A") && t.iter().any(|t| t == "B")).then_some(t)
        })
        .await;
        assert!(
            drawn.iter().any(|t| t.contains("user_satisfaction")),
            "{chart}: axis title in {drawn:?}"
        );
    }

    // Changing the group-by re-draws in place: the URL changes, the page does not reload.
    js(driver, "window.__skeinMarker = 'still here'; return null").await;
    driver
        .find(By::Css("select[name=group_by] option[value=user_tier]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let tiers = eventually(WAIT, "the user_tier groups", || async {
        let rows = group_rows(driver).await;
        let names: Vec<String> = rows.into_iter().map(|r| r.0).collect();
        (names.len() == 3).then_some(names)
    })
    .await;
    assert_eq!(tiers, ["enterprise", "free", "premium"]);
    let url = driver.current_url().await.unwrap();
    assert!(url.as_str().contains("group_by=user_tier"), "{url}");
    assert!(url.as_str().contains("metric=feedback"), "{url}");
    assert_eq!(
        js(driver, "return window.__skeinMarker ?? null").await,
        json!("still here"),
        "the page reloaded"
    );
    eventually(WAIT, "the means chart re-drawn", || async {
        let t = chart_texts(driver, "chart-means").await;
        t.iter().any(|t| t == "premium").then_some(())
    })
    .await;

    // Another metric through its picker: the error rate, compared with the z-test.
    driver
        .find(By::Css("select[name=metric] option[value=error_rate]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "the error-rate comparison", || async {
        let v = text_of(driver, "[data-testid=ab-verdict]").await?;
        (v.contains("z-test") || v.contains("Not enough data")).then_some(())
    })
    .await;
    assert_eq!(
        js(driver, "return window.__skeinMarker ?? null").await,
        json!("still here")
    );

    // Back goes to the previous view (the URL is the state).
    driver.back().await.unwrap();
    eventually(WAIT, "the feedback metric again", || async {
        let url = driver.current_url().await.ok()?;
        url.as_str().contains("metric=feedback").then_some(())
    })
    .await;

    browser.quit().await;
}

/// Below the minimum n the panel says so plainly instead of showing a p-value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_groups_get_a_plain_not_enough_data() {
    let collector = Collector::start(false).await;
    // Six traces, three per group: below the minimum of ten.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut spans = Vec::new();
    for i in 0..6u64 {
        spans.push(json!({
            "traceId": format!("{:032x}", 0xabc000 + i),
            "spanId": format!("{:016x}", 0xdef000 + i),
            "name": "tiny",
            "kind": 1,
            "startTimeUnixNano": (now - 1_000_000_000 * (i + 1)).to_string(),
            "endTimeUnixNano": (now - 1_000_000_000 * i).to_string(),
            "attributes": [{"key": "tiny_group", "value": {"stringValue": if i % 2 == 0 { "x" } else { "y" }}}]
        }));
    }
    collector
        .send_otlp_json(&json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}))
        .await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver
        .goto(collector.url("/metrics?metric=latency_mean&group_by=tiny_group&tag=tiny_group%3Dx"))
        .await
        .unwrap();
    // One group (x) only: nothing to compare.
    eventually(WAIT, "one group", || async {
        (group_rows(driver).await.len() == 1).then_some(())
    })
    .await;
    driver
        .goto(collector.url("/metrics?metric=latency_mean&group_by=tiny_group&range=1h"))
        .await
        .unwrap();
    let verdict = eventually(WAIT, "the not-enough-data message", || async {
        text_of(driver, "[data-testid=ab-verdict]").await
    })
    .await;
    assert!(
        verdict.starts_with("Not enough data (n < 10)"),
        "{verdict:?}"
    );
    assert!(
        !present(driver, "[data-testid=ab-p]").await,
        "no p-value below the minimum n"
    );
    // Both groups (x and y, three traces each) are listed, each without an interval.
    let ci = group_rows(driver).await;
    let groups: Vec<&str> = ci.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(groups, ["x", "y"], "{ci:?}");
    assert!(ci.iter().all(|r| r.3 == "n < 10"), "{ci:?}");
    browser.quit().await;
}

/// Tag values are untrusted: as group names they are drawn as text in the SVG charts and
/// the table, never as markup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_tag_values_stays_text() {
    let collector = Collector::start(false).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let evil = [
        "<img src=x onerror=\"window.__pwned=1\">",
        "]]><script>window.__pwned=2</script>",
        "a & b \"quoted\" 'single'",
    ];
    let mut spans = Vec::new();
    for i in 0..30u64 {
        spans.push(json!({
            "traceId": format!("{:032x}", 0x5000 + i),
            "spanId": format!("{:016x}", 0x6000 + i),
            "name": "request",
            "kind": 1,
            "startTimeUnixNano": (now - 60_000_000_000 * (i + 1)).to_string(),
            "endTimeUnixNano": (now - 60_000_000_000 * (i + 1) + 1_000_000 * (10 + i)).to_string(),
            "attributes": [{"key": "variant", "value": {"stringValue": evil[(i % 3) as usize]}}]
        }));
    }
    collector
        .send_otlp_json(&json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}))
        .await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver
        .goto(collector.url("/metrics?metric=latency_mean&group_by=variant"))
        .await
        .unwrap();
    eventually(WAIT, "three groups", || async {
        (group_rows(driver).await.len() == 3).then_some(())
    })
    .await;
    for chart in ["chart-means", "chart-series", "chart-dist"] {
        let drawn = eventually(WAIT, "the chart's texts", || async {
            let t = chart_texts(driver, chart).await;
            t.iter().any(|t| t.starts_with("a & b")).then_some(t)
        })
        .await;
        assert!(
            drawn
                .iter()
                .any(|t| t.contains("<img") || t.contains("<scri")),
            "{chart}: markup drawn as text (possibly shortened): {drawn:?}"
        );
    }
    let injected = js(
        driver,
        "return [window.__pwned ?? null, document.querySelectorAll('.m-chart img, .m-chart script').length]",
    )
    .await;
    assert_eq!(injected, json!([null, 0]), "markup ran or was parsed");
    let names = texts(driver, "[data-testid=groups-table] .group-name").await;
    assert!(names.iter().any(|n| n.starts_with("<img")), "{names:?}");
    browser.quit().await;
}

/// A time series with empty buckets: each gap is drawn (dashed, its tooltip says what has no
/// data), and a point with empty buckets on both sides is drawn as a bigger dot, not lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_buckets_are_drawn_as_gaps() {
    let collector = Collector::start(false).await;
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // One-minute buckets: data 30, 29 and 28 minutes ago, none 27 and 26, one 25 minutes ago
    // (alone), none 24 to 21, then 20 and 19 minutes ago.
    let minute = |ago: u64| (now_s / 60 - ago) * 60 + 10;
    let mut spans = Vec::new();
    for (i, ago) in [30u64, 29, 28, 25, 20, 19].into_iter().enumerate() {
        let start_ns = minute(ago) * 1_000_000_000;
        spans.push(json!({
            "traceId": format!("{:032x}", 0x9a00 + i),
            "spanId": format!("{:016x}", 0x9b00 + i),
            "name": "request",
            "kind": 1,
            "startTimeUnixNano": start_ns.to_string(),
            "endTimeUnixNano": (start_ns + 5_000_000 * (i as u64 + 1)).to_string(),
            "attributes": [{"key": "lane", "value": {"stringValue": "only"}}]
        }));
    }
    collector
        .send_otlp_json(&json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}))
        .await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver
        .goto(collector.url("/metrics?metric=latency_mean&group_by=lane&range=1h&bucket=1m"))
        .await
        .unwrap();
    let gaps = eventually(WAIT, "the series' gaps", || async {
        let gaps = js(
            driver,
            "return Array.from(document.querySelectorAll('[data-testid=chart-series] [data-testid=series-gap] title')).map(t => t.textContent)",
        )
        .await;
        gaps.as_array()
            .filter(|a| !a.is_empty())
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect::<Vec<_>>())
    })
    .await;
    assert_eq!(gaps.len(), 2, "two stretches without data: {gaps:?}");
    assert!(
        gaps.iter().all(|g| g.starts_with("only · no data from ")),
        "{gaps:?}"
    );
    // Six points: the lone one (25 minutes ago) is drawn bigger than the others.
    let radii = js(
        driver,
        "return Array.from(document.querySelectorAll('[data-testid=chart-series] svg circle')).map(c => Number(c.getAttribute('r')))",
    )
    .await;
    let radii: Vec<f64> = radii
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
        .unwrap_or_default();
    assert_eq!(radii.len(), 6, "{radii:?}");
    assert_eq!(
        radii.iter().filter(|r| **r > 3.0).count(),
        1,
        "one lone point, drawn bigger: {radii:?}"
    );
    browser.quit().await;
}
