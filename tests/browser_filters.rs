//! The list's controls edit the page URL (tag picker, search, sort, back button), the theme
//! toggle persists, and text from traces is never interpreted as HTML.

mod common;

use std::time::Duration;

use common::{click, eventually, texts, Browser, Collector};
use serde_json::json;
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

async fn url(driver: &WebDriver) -> String {
    driver
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default()
}

async fn result_count(driver: &WebDriver) -> Option<u64> {
    let text = driver
        .find(By::Css("[data-testid=result-count]"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.split_whitespace()
        .next()?
        .replace(',', "")
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_controls_edit_the_url_and_the_theme_persists() {
    let collector = Collector::start_demo().await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver.goto(collector.url("/traces")).await.unwrap();
    eventually(WAIT, "rows", || async {
        (!texts(driver, "tr.trace-row").await.is_empty()).then_some(())
    })
    .await;

    // Tag picker: key from /api/v1/tags, value from /api/v1/tags/{key}/values.
    let premium = collector
        .get_json("/api/v1/traces?project=default&tag=user_tier%3Dpremium&limit=1")
        .await["total"]
        .as_u64()
        .unwrap();
    click(driver, "button.add-filter").await;
    click(driver, "select[name=tag-key] option[value=user_tier]").await;
    click(driver, "select[name=tag-value] option[value=premium]").await;
    eventually(WAIT, "the tag filter in the URL and the count", || async {
        let u = url(driver).await;
        let chips = texts(driver, ".filter-chip").await;
        (u.contains("tag=user_tier%3Dpremium")
            && chips == vec!["user_tier = premium".to_string()]
            && result_count(driver).await? == premium)
            .then_some(())
    })
    .await;

    // Name search (debounced) narrows to matching root names.
    driver
        .find(By::Css("input[name=name]"))
        .await
        .unwrap()
        .send_keys("POST")
        .await
        .unwrap();
    let names = eventually(WAIT, "rows named POST…", || async {
        if !url(driver).await.contains("name=POST") {
            return None;
        }
        let names = texts(driver, "tr.trace-row .root-name").await;
        (!names.is_empty() && names.iter().all(|n| n.contains("POST"))).then_some(names)
    })
    .await;
    assert!(!names.is_empty());

    // Sort, then back: the previous URL (and list) comes back.
    click(driver, "select[name=sort] option[value=duration_desc]").await;
    eventually(WAIT, "sort in the URL", || async {
        url(driver)
            .await
            .contains("sort=duration_desc")
            .then_some(())
    })
    .await;
    driver.back().await.unwrap();
    eventually(WAIT, "the URL before sorting", || async {
        let u = url(driver).await;
        (!u.contains("sort=") && u.contains("name=POST")).then_some(())
    })
    .await;
    let sort = driver
        .find(By::Css("select[name=sort]"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(sort.as_deref(), Some("start_desc"));

    // Clear filters.
    click(driver, "button.clear-filters").await;
    eventually(WAIT, "no filters", || async {
        let u = url(driver).await;
        (u.ends_with("/traces") && texts(driver, ".filter-chip").await.is_empty()).then_some(())
    })
    .await;

    // Theme: toggled, and remembered across a reload.
    let theme = || async {
        driver
            .execute("return document.documentElement.dataset.theme", vec![])
            .await
            .unwrap()
            .json()
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let before = theme().await;
    assert!(before == "light" || before == "dark", "{before}");
    click(driver, "button.theme-toggle").await;
    let after = eventually(WAIT, "the other theme", || async {
        let t = theme().await;
        (t != before).then_some(t)
    })
    .await;
    driver.refresh().await.unwrap();
    eventually(WAIT, "rows after reload", || async {
        (!texts(driver, "tr.trace-row").await.is_empty()).then_some(())
    })
    .await;
    assert_eq!(theme().await, after, "the theme survives a reload");

    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_text_is_shown_as_text() {
    let collector = Collector::start(false).await;
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let evil_name = r#"<img src=x onerror="window.__pwned=1">agent"#;
    let evil_service = "<b>evil</b>-service";
    let evil_value = "<script>window.__pwned=2</script>";
    let body = json!({
        "resourceSpans": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": evil_service}}
            ]},
            "scopeSpans": [{"spans": [
                {
                    "traceId": trace_id,
                    "spanId": "b7ad6b7169203331",
                    "name": evil_name,
                    "kind": 1,
                    "startTimeUnixNano": (now - 2_000_000_000).to_string(),
                    "endTimeUnixNano": now.to_string(),
                    "attributes": [{"key": "note", "value": {"stringValue": evil_value}}]
                },
                {
                    "traceId": trace_id,
                    "spanId": "b7ad6b7169203332",
                    "parentSpanId": "b7ad6b7169203331",
                    "name": "<svg onload=\"window.__pwned=3\"></svg>",
                    "kind": 1,
                    "startTimeUnixNano": (now - 1_000_000_000).to_string(),
                    "endTimeUnixNano": now.to_string()
                }
            ]}]
        }]
    });
    let response = reqwest::Client::new()
        .post(collector.otlp_traces_url())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "OTLP: {}",
        response.status()
    );
    eventually(WAIT, "the trace in the API", || async {
        let r = reqwest::get(collector.url(&format!("/api/v1/traces/{trace_id}?project=default")))
            .await
            .ok()?;
        r.status().is_success().then_some(())
    })
    .await;

    let browser = Browser::start().await;
    let driver = &browser.driver;
    let pwned = || async {
        driver
            .execute("return window.__pwned === undefined", vec![])
            .await
            .unwrap()
            .json()
            .as_bool()
            .unwrap()
    };

    driver.goto(collector.url("/traces")).await.unwrap();
    let name = eventually(WAIT, "the row", || async {
        texts(driver, "tr.trace-row .root-name")
            .await
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(name, evil_name);
    let services = texts(driver, "tr.trace-row .svc-chip").await;
    assert_eq!(services, vec![evil_service.to_string()]);
    // A list chip shows the value first, then the key; its tooltip names both.
    let values = texts(driver, "tr.trace-row .tag-chip .tag-val").await;
    assert_eq!(values, vec![evil_value.to_string()]);
    // The key gives way to a long value in a narrow cell (the tooltip names it): it is in the
    // chip as text all the same.
    let key = driver
        .find(By::Css("tr.trace-row .tag-chip .tag-key"))
        .await
        .unwrap()
        .prop("textContent")
        .await
        .unwrap();
    assert_eq!(key.as_deref(), Some("note"));
    let chip_title = driver
        .find(By::Css("tr.trace-row .tag-chip"))
        .await
        .unwrap()
        .attr("title")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        chip_title.starts_with(&format!("note: {evil_value}")),
        "{chip_title:?}"
    );
    assert!(driver
        .find_all(By::Css(
            "tbody img, tbody b, tbody script, tbody svg:not(.type-icon)"
        ))
        .await
        .unwrap()
        .is_empty());
    assert!(pwned().await, "no injected script ran on the list");

    driver
        .goto(collector.url(&format!("/traces/{trace_id}")))
        .await
        .unwrap();
    let spans = eventually(WAIT, "the span tree", || async {
        let names = texts(driver, ".span-row[data-span-id] .name").await;
        (names.len() == 2).then_some(names)
    })
    .await;
    assert_eq!(spans[0], evil_name);
    assert_eq!(spans[1], "<svg onload=\"window.__pwned=3\"></svg>");
    let title = driver.find(By::Css(".trace-header h1")).await.unwrap();
    assert_eq!(title.text().await.unwrap(), evil_name);
    assert!(driver
        .find_all(By::Css(
            ".trace-page img, .trace-page b, .trace-page script"
        ))
        .await
        .unwrap()
        .is_empty());
    assert!(pwned().await, "no injected script ran on the trace page");

    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_project_switcher_opens_another_project() {
    let collector = Collector::start(false).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let client = reqwest::Client::new();
    for (project, trace_id, name) in [
        (
            "default",
            "1af7651916cd43dd8448eb211c80319c",
            "default_root",
        ),
        ("team-b", "2af7651916cd43dd8448eb211c80319c", "team_b_root"),
    ] {
        let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
            "traceId": trace_id,
            "spanId": "c7ad6b7169203331",
            "name": name,
            "kind": 1,
            "startTimeUnixNano": (now - 1_000_000_000).to_string(),
            "endTimeUnixNano": now.to_string()
        }]}]}]});
        let response = client
            .post(collector.otlp_traces_url())
            .header("x-skein-project", project)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "OTLP: {}",
            response.status()
        );
    }
    eventually(WAIT, "both projects in the API", || async {
        let projects = collector.get_json("/api/v1/projects").await;
        let names: Vec<&str> = projects
            .as_array()?
            .iter()
            .filter(|p| p["trace_count"].as_u64() > Some(0))
            .filter_map(|p| p["name"].as_str())
            .collect();
        (names.contains(&"default") && names.contains(&"team-b")).then_some(())
    })
    .await;

    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver.goto(collector.url("/traces")).await.unwrap();
    eventually(WAIT, "the default project's trace", || async {
        (texts(driver, "tr.trace-row .root-name").await == vec!["default_root".to_string()])
            .then_some(())
    })
    .await;
    click(driver, ".project-switcher select option[value=team-b]").await;
    eventually(WAIT, "team-b's trace", || async {
        let u = url(driver).await;
        (u.contains("project=team-b")
            && texts(driver, "tr.trace-row .root-name").await == vec!["team_b_root".to_string()])
        .then_some(())
    })
    .await;
    // The project stays in links: the trace page opens in team-b.
    click(driver, "tr.trace-row .root-name").await;
    eventually(WAIT, "team-b's trace page", || async {
        let title = driver
            .find(By::Css(".trace-header h1"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        (title == "team_b_root" && url(driver).await.contains("project=team-b")).then_some(())
    })
    .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_and_latency_ranges_filter_the_list_and_live_in_the_url() {
    let collector = Collector::start_demo().await;
    let browser = Browser::start().await;
    let driver = &browser.driver;
    let total = |filters: &'static str| {
        let collector = &collector;
        async move {
            collector
                .get_json(&format!("/api/v1/traces?project=default&limit=1{filters}"))
                .await["total"]
                .as_u64()
                .unwrap()
        }
    };
    driver.goto(collector.url("/traces")).await.unwrap();
    eventually(WAIT, "rows", || async {
        (!texts(driver, "tr.trace-row").await.is_empty()).then_some(())
    })
    .await;

    // A recent preset stays relative in the URL. The demo spans a week: a day is a part of it.
    let all = total("").await;
    let day = total("&range=24h").await;
    assert!(day > 0 && day < all, "last 24 hours: {day} of {all}");
    click(driver, "select[name=range] option[value='24h']").await;
    eventually(WAIT, "the last day's traces", || async {
        (url(driver).await.contains("range=24h") && result_count(driver).await? == day)
            .then_some(())
    })
    .await;

    // A latency floor on top of it, applied when the field is left.
    let slow = total("&range=24h&min_ms=3000").await;
    assert!(slow > 0 && slow < day, "3 s or slower: {slow} of {day}");
    let min = driver.find(By::Css("input[name=min_ms]")).await.unwrap();
    min.send_keys("3000").await.unwrap();
    min.send_keys(Key::Tab).await.unwrap();
    eventually(WAIT, "the slow traces of the last day", || async {
        let u = url(driver).await;
        (u.contains("range=24h")
            && u.contains("min_ms=3000")
            && result_count(driver).await? == slow)
            .then_some(())
    })
    .await;

    // A reload restores both controls and the list.
    driver.refresh().await.unwrap();
    eventually(WAIT, "the same list after a reload", || async {
        let range = driver
            .find(By::Css("select[name=range]"))
            .await
            .ok()?
            .prop("value")
            .await
            .ok()??;
        let min = driver
            .find(By::Css("input[name=min_ms]"))
            .await
            .ok()?
            .prop("value")
            .await
            .ok()??;
        (range == "24h" && min == "3000" && result_count(driver).await? == slow).then_some(())
    })
    .await;

    // A custom range (absolute, as a shared link has it): the select says so and the inputs
    // show it.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let (from, to) = (now - 3 * 86_400_000, now - 86_400_000);
    let custom = collector
        .get_json(&format!(
            "/api/v1/traces?project=default&limit=1&from={from}&to={to}"
        ))
        .await["total"]
        .as_u64()
        .unwrap();
    assert!(custom > 0, "two days of demo traces");
    driver
        .goto(collector.url(&format!("/traces?from={from}&to={to}")))
        .await
        .unwrap();
    eventually(WAIT, "the custom range", || async {
        let range = driver
            .find(By::Css("select[name=range]"))
            .await
            .ok()?
            .prop("value")
            .await
            .ok()??;
        let from_input = driver
            .find(By::Css("input[name=from]"))
            .await
            .ok()?
            .prop("value")
            .await
            .ok()??;
        (range == "custom" && !from_input.is_empty() && result_count(driver).await? == custom)
            .then_some(())
    })
    .await;

    browser.quit().await;
}
