//! The service map in a real browser, against a collector with demo data (whose microservice
//! requests are the seed's: api-gateway → auth-service, agent-service → model-service,
//! tool-service → search-service and cache-service, analytics-service).
//!
//! Needs: `cargo build -p skein-collector`, `scripts/build-dashboard.sh`, chromium (see
//! tests/common/mod.rs). Run with `cargo test --test browser_services`.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{eventually, texts, Browser, Collector};
use serde_json::json;
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

const SERVICES: [&str; 8] = [
    "agent-service",
    "analytics-service",
    "api-gateway",
    "auth-service",
    "cache-service",
    "model-service",
    "search-service",
    "tool-service",
];

const EDGES: [(&str, &str); 7] = [
    ("agent-service", "model-service"),
    ("agent-service", "tool-service"),
    ("api-gateway", "agent-service"),
    ("api-gateway", "analytics-service"),
    ("api-gateway", "auth-service"),
    ("tool-service", "cache-service"),
    ("tool-service", "search-service"),
];

async fn attr_all(driver: &WebDriver, css: &str, attr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for el in driver.find_all(By::Css(css)).await.unwrap_or_default() {
        if let Ok(Some(v)) = el.attr(attr).await {
            out.push(v);
        }
    }
    out
}

async fn drawn_edges(driver: &WebDriver) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for el in driver
        .find_all(By::Css("svg.service-graph g.svc-edge"))
        .await
        .unwrap_or_default()
    {
        if let (Ok(Some(a)), Ok(Some(b))) =
            (el.attr("data-caller").await, el.attr("data-callee").await)
        {
            out.insert((a, b));
        }
    }
    out
}

/// The calls column of the edges table, by (caller, callee).
async fn table_calls(driver: &WebDriver) -> Vec<((String, String), u64)> {
    let mut out = Vec::new();
    for row in driver
        .find_all(By::Css("table.edges-table tr.edge-row"))
        .await
        .unwrap_or_default()
    {
        let a = row
            .attr("data-caller")
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        let b = row
            .attr("data-callee")
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        let cells = row.find_all(By::Css("td")).await.unwrap_or_default();
        let calls = match cells.get(1) {
            Some(c) => c.text().await.unwrap_or_default().replace(',', ""),
            None => String::new(),
        };
        out.push(((a, b), calls.parse().unwrap_or(0)));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_map_shows_the_services_and_their_calls() {
    let collector = Collector::start_demo().await;
    let browser = Browser::start().await;
    let driver = &browser.driver;

    driver
        .goto(collector.url("/services?range=7d"))
        .await
        .unwrap();
    let nodes = eventually(WAIT, "eight services drawn", || async {
        let n = attr_all(driver, "svg.service-graph g.svc-node", "data-service").await;
        (n.len() == SERVICES.len()).then_some(n)
    })
    .await;
    let nodes: BTreeSet<String> = nodes.into_iter().collect();
    let want: BTreeSet<String> = SERVICES.iter().map(|s| s.to_string()).collect();
    assert_eq!(nodes, want);
    let names: BTreeSet<String> = texts(driver, "svg.service-graph .node-name")
        .await
        .into_iter()
        .collect();
    assert_eq!(names, want, "each node names its service");

    let edges = drawn_edges(driver).await;
    let want: BTreeSet<(String, String)> = EDGES
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(edges, want, "the seed's calls, and no others");
    let labels = texts(driver, "svg.service-graph .edge-label").await;
    assert_eq!(labels.len(), EDGES.len());
    assert!(labels.iter().all(|l| l.contains("p95")), "{labels:?}");

    // Left to right: the gateway's column is left of its callees, theirs left of theirs.
    let x_of = |name: &'static str| async move {
        let el = driver
            .find(By::Css(format!(
                "svg.service-graph g.svc-node[data-service='{name}']"
            )))
            .await
            .unwrap();
        el.rect().await.unwrap().x
    };
    let gateway = x_of("api-gateway").await;
    let agent = x_of("agent-service").await;
    let tool = x_of("tool-service").await;
    let search = x_of("search-service").await;
    assert!(gateway < agent && agent < tool && tool < search);

    // The table agrees with the API.
    let graph = collector
        .get_json(&format!(
            "/api/v1/services/graph?project=default&from={}&to={}",
            chrono_free_now_ms() - 7 * 86_400_000,
            chrono_free_now_ms()
        ))
        .await;
    let api: Vec<((String, String), u64)> = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                (
                    e["caller"].as_str().unwrap().to_string(),
                    e["callee"].as_str().unwrap().to_string(),
                ),
                e["calls"].as_u64().unwrap(),
            )
        })
        .collect();
    let shown = table_calls(driver).await;
    assert_eq!(shown.len(), 7);
    for ((pair, calls), (api_pair, api_calls)) in shown.iter().zip(api.iter()) {
        assert_eq!(pair, api_pair);
        // A trace or two may cross the range's edge between the two reads.
        assert!(
            calls.abs_diff(*api_calls) <= 2,
            "{pair:?}: {calls} vs {api_calls}"
        );
    }

    // A tag filter narrows the calls.
    let all_auth = shown
        .iter()
        .find(|(p, _)| p.1 == "auth-service")
        .map(|(_, c)| *c)
        .unwrap();
    driver
        .goto(collector.url("/services?range=7d&tag=ab_test_variant=A"))
        .await
        .unwrap();
    let filtered = eventually(WAIT, "fewer calls with the filter", || async {
        let rows = table_calls(driver).await;
        let auth = rows
            .iter()
            .find(|(p, _)| p.1 == "auth-service")
            .map(|(_, c)| *c)?;
        (auth > 0 && auth < all_auth && texts(driver, ".filter-chip").await.len() == 1)
            .then_some(auth)
    })
    .await;
    assert!(filtered < all_auth);

    // The nav marks the page.
    let active = driver
        .find(By::Css("nav a[aria-current=page]"))
        .await
        .unwrap();
    assert_eq!(active.text().await.unwrap(), "Services");

    browser.quit().await;
}

fn chrono_free_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_names_are_drawn_as_text() {
    let collector = Collector::start(false).await;
    let now = chrono_free_now_ms() as u64 * 1_000_000;
    let caller = r#"<img src=x onerror="window.__pwned=1">gw"#;
    let callee = "<b>svc</b> & co";
    let trace = "0af7651916cd43dd8448eb211c8031b1";
    let body = json!({"resourceSpans": [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": caller}}]},
            "scopeSpans": [{"spans": [{
                "traceId": trace, "spanId": "b7ad6b7169203351", "name": "root", "kind": 2,
                "startTimeUnixNano": (now - 2_000_000_000).to_string(),
                "endTimeUnixNano": now.to_string()
            }]}]
        },
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": callee}}]},
            "scopeSpans": [{"spans": [{
                "traceId": trace, "spanId": "b7ad6b7169203352", "parentSpanId": "b7ad6b7169203351",
                "name": "handle", "kind": 2,
                "startTimeUnixNano": (now - 1_500_000_000).to_string(),
                "endTimeUnixNano": (now - 500_000_000).to_string()
            }]}]
        }
    ]});
    let response = reqwest::Client::new()
        .post(collector.otlp_traces_url())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());

    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver.goto(collector.url("/services")).await.unwrap();
    let names = eventually(WAIT, "two nodes", || async {
        let n = texts(driver, "svg.service-graph .node-name").await;
        (n.len() == 2).then_some(n)
    })
    .await;
    let names: BTreeSet<String> = names.into_iter().collect();
    assert!(names.contains(callee), "{names:?}");
    assert!(
        names.iter().any(|n| n.starts_with("<img src=x")),
        "the long name is cut but still text: {names:?}"
    );
    assert!(driver
        .find_all(By::Css("svg.service-graph img, svg.service-graph b"))
        .await
        .unwrap()
        .is_empty());
    let pwned: bool = driver
        .execute("return window.__pwned !== undefined", vec![])
        .await
        .unwrap()
        .json()
        .as_bool()
        .unwrap();
    assert!(!pwned);
    assert_eq!(drawn_edges(driver).await.len(), 1);

    // A range with nothing in it: a helpful empty state.
    driver
        .goto(collector.url("/services?range=1h&tag=env=nowhere"))
        .await
        .unwrap();
    let title = eventually(WAIT, "the empty state", || async {
        texts(driver, ".empty-state h2").await.into_iter().next()
    })
    .await;
    assert_eq!(title, "No services in these traces");

    browser.quit().await;
}
