//! The trace list and trace page in a real browser, against a collector with demo data.
//! The trace explorer itself is covered in depth by `browser_trace_explorer.rs`.
//!
//! Needs: `cargo build -p skein-collector`, `scripts/build-dashboard.sh`, chromium (see
//! tests/common/mod.rs). Run with `cargo test --test browser_traces`.

mod common;

use std::time::Duration;

use common::{eventually, js, texts, Browser, Collector};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

/// The number in "1,234 traces".
fn parse_count(text: &str) -> Option<u64> {
    let digits: String = text
        .split_whitespace()
        .next()?
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

async fn result_count(driver: &WebDriver) -> Option<u64> {
    let el = driver
        .find(By::Css("[data-testid=result-count]"))
        .await
        .ok()?;
    parse_count(&el.text().await.ok()?)
}

/// Waits until the list shows rows and a count; returns (root names, count).
async fn wait_for_rows(driver: &WebDriver) -> (Vec<String>, u64) {
    eventually(WAIT, "trace rows and a result count", || async {
        let names = texts(driver, "tr.trace-row .root-name").await;
        let count = result_count(driver).await?;
        (!names.is_empty()).then_some((names, count))
    })
    .await
}

/// Each row's shown tag chips as `key: value` (a chip shows the value, then the key).
async fn row_tags(driver: &WebDriver) -> Vec<Vec<String>> {
    let got = js(
        driver,
        "return [...document.querySelectorAll('tr.trace-row .col-tags')].map(c =>
            [...c.querySelectorAll('.tag-chip')].map(chip =>
                chip.querySelector('.tag-key').textContent + ': ' + chip.querySelector('.tag-val').textContent))",
    )
    .await;
    serde_json::from_value(got).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_list_filters_and_opens_a_trace() {
    let collector = Collector::start_demo().await;
    let browser = Browser::start().await;
    let driver = &browser.driver;

    // The list: real root names and the count the API reports.
    let api_total = collector
        .get_json("/api/v1/traces?project=default&limit=1")
        .await["total"]
        .as_u64()
        .expect("total");
    assert!(api_total > 50, "demo data has {api_total} traces");
    driver.goto(collector.url("/")).await.unwrap();
    let (names, count) = wait_for_rows(driver).await;
    assert!(
        driver.current_url().await.unwrap().path() == "/traces",
        "/ redirects to /traces"
    );
    assert!(
        names.iter().any(|n| n == "main_agent"),
        "main_agent among the root names: {names:?}"
    );
    assert_eq!(count, api_total, "the page shows the API's total");
    assert_eq!(names.len(), 50, "one page of 50 rows");

    // The nav link to this page is marked active, the product is named.
    let brand = driver
        .find(By::Css(".brand-name"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(brand, "Skein");
    let active = driver
        .find(By::Css("nav a[aria-current=page]"))
        .await
        .unwrap();
    assert_eq!(active.text().await.unwrap(), "Traces");

    // "Load more" appends the next page.
    driver
        .query(By::Css(".load-more button"))
        .first()
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "100 rows after Load more", || async {
        (texts(driver, "tr.trace-row .root-name").await.len() == 100).then_some(())
    })
    .await;

    // A tag filter in the URL: only matching rows, the count the API gives for it, a chip.
    let filtered_total = collector
        .get_json("/api/v1/traces?project=default&tag=ab_test_variant%3DA&limit=1")
        .await["total"]
        .as_u64()
        .unwrap();
    assert!(filtered_total > 0 && filtered_total < api_total);
    driver
        .goto(collector.url("/traces?tag=ab_test_variant=A"))
        .await
        .unwrap();
    let check_filtered = || async {
        eventually(WAIT, "only ab_test_variant A rows", || async {
            let count = result_count(driver).await?;
            let tags = row_tags(driver).await;
            let ok = count == filtered_total
                && !tags.is_empty()
                && tags
                    .iter()
                    .all(|t| t.contains(&"ab_test_variant: A".to_string()));
            ok.then_some(tags)
        })
        .await
    };
    let tags = check_filtered().await;
    assert!(
        tags.iter()
            .all(|t| !t.contains(&"ab_test_variant: B".to_string())),
        "{tags:?}"
    );
    let chip = driver.find(By::Css(".filter-chip")).await.unwrap();
    assert_eq!(chip.text().await.unwrap().trim(), "ab_test_variant = A");

    // Reload keeps the filter (it lives in the URL).
    driver.refresh().await.unwrap();
    check_filtered().await;
    let url = driver.current_url().await.unwrap();
    assert!(url.as_str().contains("tag=ab_test_variant"), "{url}");

    // Removing the chip clears the filter.
    driver
        .find(By::Css(".filter-chip .chip-remove"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "the unfiltered count again", || async {
        (result_count(driver).await? == api_total).then_some(())
    })
    .await;

    // A click on a main_agent row (not on its link) opens the trace with its span tree.
    driver
        .goto(collector.url("/traces?name=main_agent"))
        .await
        .unwrap();
    let row = eventually(WAIT, "a main_agent row", || async {
        let rows = driver.find_all(By::Css("tr.trace-row")).await.ok()?;
        for row in rows {
            let name = row
                .find(By::Css(".root-name"))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            if name == "main_agent" {
                return Some(row);
            }
        }
        None
    })
    .await;
    let trace_id = row
        .attr("data-trace-id")
        .await
        .unwrap()
        .expect("data-trace-id");
    row.find(By::Css("td.col-num"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "the trace page URL", || async {
        let url = driver.current_url().await.ok()?;
        (url.path() == format!("/traces/{trace_id}")).then_some(())
    })
    .await;
    let spans = eventually(WAIT, "the span tree", || async {
        let names = texts(driver, ".span-row[data-span-id] .name").await;
        (names.len() >= 7).then_some(names)
    })
    .await;
    for name in [
        "main_agent",
        "planning_agent",
        "execution_agent",
        "sub_agent_1",
        "sub_agent_2",
        "sub_agent_3",
        "synthesis_agent",
    ] {
        assert!(spans.iter().any(|s| s == name), "{name} in {spans:?}");
    }
    let title = driver.find(By::Css(".trace-header h1")).await.unwrap();
    assert_eq!(title.text().await.unwrap(), "main_agent");
    // The tree is nested: a sub-agent sits deeper than its parent, which sits below the root.
    let depth = |name: &'static str| async move {
        let rows = driver
            .find_all(By::Css(".span-row[data-span-id]"))
            .await
            .unwrap();
        for row in rows {
            if row
                .find(By::Css(".name"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
                == name
            {
                return row
                    .attr("data-depth")
                    .await
                    .unwrap()
                    .unwrap_or_default()
                    .parse::<u32>()
                    .unwrap_or(0);
            }
        }
        panic!("no row for {name}");
    };
    assert_eq!(depth("main_agent").await, 0);
    assert_eq!(depth("execution_agent").await, 1);
    assert_eq!(depth("sub_agent_1").await, 2);

    // Unknown routes get a helpful page.
    driver.goto(collector.url("/no/such/page")).await.unwrap();
    let heading = driver
        .query(By::Css(".empty-state h2"))
        .first()
        .await
        .unwrap();
    assert_eq!(heading.text().await.unwrap(), "Page not found");

    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_says_when_the_collector_is_down_and_recovers() {
    let mut collector = Collector::start_demo().await;
    let browser = Browser::start().await;
    let driver = &browser.driver;

    driver.goto(collector.url("/traces")).await.unwrap();
    let (_, total) = wait_for_rows(driver).await;

    // The collector goes away; the next query (the status filter) cannot reach it.
    collector.stop();
    let status = driver.find(By::Css("select[name=status]")).await.unwrap();
    status
        .find(By::Css("option[value=error]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let banner = eventually(WAIT, "the unreachable banner", || async {
        let t = texts(driver, ".error-banner").await;
        t.into_iter()
            .find(|t| t.contains("Can't reach the Skein collector"))
    })
    .await;
    assert!(banner.contains("Retrying"), "{banner}");

    // It comes back: the page recovers by itself, without a reload.
    collector.restart().await;
    let errors_only = eventually(WAIT, "the list after recovery", || async {
        if !texts(driver, ".error-banner").await.is_empty() {
            return None;
        }
        let count = result_count(driver).await?;
        let rows = texts(driver, "tr.trace-row .col-status").await;
        (!rows.is_empty()).then_some((count, rows))
    })
    .await;
    assert!(
        errors_only.0 < total,
        "error filter applied: {} of {total}",
        errors_only.0
    );
    assert!(
        errors_only.1.iter().all(|s| s.contains("error")),
        "{:?}",
        errors_only.1
    );

    browser.quit().await;
}

/// The list's tag chips lead with the tag filtered on, then the project's most used keys, and
/// show its value whole (the key gives way, named in the tooltip); the feedback column shows
/// its key, not an ellipsis alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_chips_show_the_values_that_matter_and_feedback_keeps_its_key() {
    let collector = Collector::start_demo().await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver
        .set_window_rect(0, 0, 1280, 900)
        .await
        .unwrap_or_else(|e| panic!("window size: {e}"));
    driver
        .goto(collector.url("/traces?tag=ab_test_variant%3DB"))
        .await
        .unwrap();
    wait_for_rows(driver).await;
    // Every row's first chip is the filtered tag, its value shown in full.
    let chips = eventually(WAIT, "the rows' first tag chips", || async {
        let got = js(
            driver,
            "return [...document.querySelectorAll('tr.trace-row .col-tags .chips')].map(c => {
                const chip = c.querySelector('.tag-chip');
                if (!chip) return null;
                const value = chip.querySelector('.tag-val');
                return [value.textContent, chip.querySelector('.tag-key').textContent,
                        chip.getAttribute('title'), value.scrollWidth <= value.clientWidth + 1,
                        value.getBoundingClientRect().width];
            })",
        )
        .await;
        let rows = got.as_array()?.clone();
        (!rows.is_empty() && rows.iter().all(|r| !r.is_null())).then_some(rows)
    })
    .await;
    for chip in &chips {
        assert_eq!(chip[0], "B", "{chip}");
        assert_eq!(chip[1], "ab_test_variant", "{chip}");
        assert!(
            chip[2]
                .as_str()
                .unwrap_or("")
                .starts_with("ab_test_variant: B"),
            "{chip}"
        );
        assert_eq!(chip[3], true, "the value is not cut: {chip}");
        assert!(chip[4].as_f64().unwrap_or(0.0) > 4.0, "{chip}");
    }
    // The second chip is one of the project's most used keys (not an alphabetical pick).
    let tag_keys = collector.get_json("/api/v1/tags?project=default").await;
    let by_use: Vec<(u64, String)> = tag_keys
        .as_array()
        .expect("tag keys")
        .iter()
        .map(|k| {
            (
                k["trace_count"].as_u64().unwrap_or(0),
                k["key"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let most = by_use
        .iter()
        .filter(|(_, k)| k != "ab_test_variant")
        .map(|(n, _)| *n)
        .max()
        .unwrap_or(0);
    let seconds: Vec<String> = row_tags(driver)
        .await
        .into_iter()
        .filter_map(|chips| chips.get(1).cloned())
        .collect();
    assert!(!seconds.is_empty());
    for chip in &seconds {
        let key = chip.split(": ").next().unwrap_or("");
        let used = by_use.iter().find(|(_, k)| k == key).map(|(n, _)| *n);
        assert_eq!(used, Some(most), "{chip}: not a most used key {by_use:?}");
    }

    // Feedback: each summary shows a key a reader can read (not cut to nothing).
    driver.goto(collector.url("/traces")).await.unwrap();
    let keys = eventually(WAIT, "feedback in the list", || async {
        let got = js(
            driver,
            "return [...document.querySelectorAll('tr.trace-row [data-testid=feedback-summary] .fb-stat-key')]
                .map(k => [k.textContent, k.getBoundingClientRect().width])",
        )
        .await;
        let rows = got.as_array()?.clone();
        (!rows.is_empty()).then_some(rows)
    })
    .await;
    for key in &keys {
        let width = key[1].as_f64().unwrap_or(0.0);
        assert!(width >= 40.0, "a feedback key cut to {width}px: {key}");
        assert!(!key[0].as_str().unwrap_or("").is_empty(), "{key}");
    }

    // Services: a row across services names its first one readably, the rest behind "+N"
    // (two chips in the column were cut to a letter each).
    let services = js(
        driver,
        "return [...document.querySelectorAll('tr.trace-row .col-services .chips')]
            .filter(c => c.querySelector('.more-chip'))
            .map(c => [c.querySelectorAll('.svc-chip').length,
                       c.querySelector('.svc-name').getBoundingClientRect().width,
                       c.querySelector('.svc-name').textContent])",
    )
    .await;
    let services = services.as_array().cloned().unwrap_or_default();
    assert!(!services.is_empty(), "the demo has traces across services");
    for row in &services {
        assert_eq!(row[0], 1, "one service chip before +N: {row}");
        let width = row[1].as_f64().unwrap_or(0.0);
        assert!(width >= 40.0, "a service name cut to {width}px: {row}");
    }

    // A chip's key shows whole, or its first few characters, or not at all (named in the
    // tooltip): never cut to "e" or "ab_…", at the default width (1440 px) or narrower.
    for width in [1440, 1280, 1100] {
        driver
            .set_window_rect(0, 0, width, 900)
            .await
            .unwrap_or_else(|e| panic!("window size: {e}"));
        let keys = eventually(WAIT, "the rows' tag keys", || async {
            let got = js(
                driver,
                "return [...document.querySelectorAll('tr.trace-row .col-tags .tag-chip')].map(chip => {
                    const key = chip.querySelector('.tag-key');
                    const k = key.getBoundingClientRect(), c = chip.getBoundingClientRect();
                    const shown = k.width > 0 && k.top < c.bottom - 2 && k.left < c.right - 2;
                    const whole = key.scrollWidth <= key.clientWidth + 1;
                    const charWidth = key.scrollWidth / Math.max(1, key.textContent.length);
                    return [key.textContent, shown, whole, k.width / charWidth,
                            chip.getAttribute('title') || ''];
                })",
            )
            .await;
            let chips = got.as_array()?.clone();
            (!chips.is_empty()).then_some(chips)
        })
        .await;
        for chip in &keys {
            let key = chip[0].as_str().unwrap_or("");
            assert!(
                chip[4]
                    .as_str()
                    .unwrap_or("")
                    .starts_with(&format!("{key}: ")),
                "the tooltip names the key: {chip}"
            );
            if chip[1] == true && chip[2] != true {
                let chars = chip[3].as_f64().unwrap_or(0.0);
                assert!(
                    chars >= 4.0,
                    "at {width} px a key is cut to {chars:.1} characters: {chip}"
                );
            }
        }
    }
    browser.quit().await;
}

/// A link whose filters cannot be read says so, with the problem and a way out: read by the
/// page (a bad status) or by the collector (the filter language is checked there only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_with_unreadable_filters_says_what_is_wrong() {
    let collector = Collector::start(false).await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    for (link, problem) in [
        ("/traces?status=maybe", "status must be ok or error"),
        ("/traces?filter=eq(name%2C&tag=env%3Dprod", "filter: "),
    ] {
        driver.goto(collector.url(link)).await.unwrap();
        let banner = eventually(WAIT, "the unreadable-filters banner", || async {
            texts(driver, ".error-banner")
                .await
                .into_iter()
                .find(|t| t.contains("This link's filters can't be read"))
        })
        .await;
        assert!(banner.contains(problem), "{link}: {banner}");
        assert_eq!(texts(driver, ".error-banner").await.len(), 1, "{link}");
        driver
            .find(By::XPath(
                "//div[@class='error-banner']//button[.='Clear filters']",
            ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        eventually(WAIT, "the filters cleared", || async {
            let url = driver.current_url().await.ok()?.to_string();
            (!url.contains("filter=")
                && !url.contains("status=")
                && texts(driver, ".error-banner").await.is_empty())
            .then_some(())
        })
        .await;
    }
    browser.quit().await;
}

/// Where the collector stopped counting (the span list counts up to a cap), the page says "at
/// least" in its count and beside "Load more", never a bare number that reads as exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capped_count_says_at_least() {
    let collector = Collector::start_demo().await;
    let page = collector.get_json("/api/v1/spans?project=default").await;
    assert_eq!(
        page["total_exact"], false,
        "the demo has more spans than the span list counts: {}",
        page["total"]
    );
    let total = page["total"].as_u64().expect("a total");
    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver.goto(collector.url("/spans")).await.unwrap();
    let (count, more) = eventually(WAIT, "the span count and Load more", || async {
        // The count's element is there from the start, empty until the total is known.
        let count = texts(driver, "[data-testid=result-count]").await;
        let count = count.into_iter().next().filter(|c| !c.is_empty())?;
        let more = texts(driver, ".load-more .muted").await;
        more.into_iter().next().map(|more| (count, more))
    })
    .await;
    // The numbers as written, without their thousands separators.
    let (count, more) = (count.replace(',', ""), more.replace(',', ""));
    assert_eq!(count, format!("at least {total} spans"));
    assert!(more.ends_with(&format!(" of at least {total}")), "{more}");
    browser.quit().await;
}
