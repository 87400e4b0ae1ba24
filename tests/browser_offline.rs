//! The collector stops while the dashboard is open. For every page: stop the collector,
//! move to the page inside the open app (no page load: the collector also serves the
//! dashboard), and see a clear message rather than a blank page; start the collector again
//! on the same address and data dir, and see the page fill in by itself, without a reload.
//!
//! Needs: `cargo build -p skein-collector`, `scripts/build-dashboard.sh`, chromium (see
//! tests/common/mod.rs). Run with `cargo test --test browser_offline`.

mod common;

use std::time::Duration;

use common::{eventually, js, Browser, Collector};
use serde_json::{json, Value};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(25);

const TRACE_ID: &str = "0ff1ce000000000000000000000000a1";
const SESSION: &str = "sess-offline";
const USER: &str = "user-offline-1";

fn otlp_trace(i: usize, start_ns: u128) -> Value {
    let attr = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let trace_id = if i == 0 {
        TRACE_ID.to_string()
    } else {
        format!("0ff1ce{:026x}", i)
    };
    let root = format!("{:016x}", 0xa0 + i);
    json!({"resourceSpans": [
        {
            "resource": {"attributes": [attr("service.name", "offline-gateway")]},
            "scopeSpans": [{"spans": [{
                "traceId": trace_id, "spanId": root, "name": "offline_agent", "kind": 2,
                "startTimeUnixNano": start_ns.to_string(),
                "endTimeUnixNano": (start_ns + 50_000_000).to_string(),
                "attributes": [
                    attr("openinference.span.kind", "AGENT"),
                    attr("session.id", SESSION),
                    attr("user.id", USER),
                    attr("env", "production"),
                    attr("input.value", &format!("question number {}", i + 1)),
                    attr("output.value", "an answer"),
                    attr("request_sequence", &(i + 1).to_string()),
                ]
            }]}]
        },
        {
            "resource": {"attributes": [attr("service.name", "offline-tools")]},
            "scopeSpans": [{"spans": [{
                "traceId": trace_id, "spanId": format!("{:016x}", 0xb0 + i), "parentSpanId": root,
                "name": "lookup_tool", "kind": 2,
                "startTimeUnixNano": (start_ns + 5_000_000).to_string(),
                "endTimeUnixNano": (start_ns + 25_000_000).to_string(),
                "attributes": [attr("openinference.span.kind", "TOOL")]
            }]}]
        }
    ]})
}

/// Moves the open app to `path` the way its own links do (history + popstate), without
/// loading a page.
async fn go_inside_app(driver: &WebDriver, path: &str) {
    driver
        .execute(
            "history.pushState(null, '', arguments[0]); \
             window.dispatchEvent(new PopStateEvent('popstate', {state: null}));",
            vec![json!(path)],
        )
        .await
        .expect("navigate inside the app");
}

struct Seen {
    path: String,
    banner: String,
    main_text: String,
    text: String,
}

impl std::fmt::Debug for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} | banner: {:?} | main: {:?}",
            self.path, self.banner, self.main_text
        )
    }
}

async fn seen(driver: &WebDriver) -> Seen {
    let v = js(
        driver,
        "const banner = document.querySelector('.error-banner'); \
         const main = document.querySelector('main'); \
         return {path: location.pathname + location.search, \
                 banner: banner ? banner.innerText : '', \
                 main: main ? main.innerText : '', \
                 text: document.body.textContent};",
    )
    .await;
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    Seen {
        path: s("path"),
        banner: s("banner"),
        main_text: s("main"),
        text: s("text"),
    }
}

/// Waits until what the page shows passes `check`; panics with the last sight otherwise.
async fn wait_for(driver: &WebDriver, what: &str, check: impl Fn(&Seen) -> bool) -> Seen {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let s = seen(driver).await;
        if check(&s) {
            return s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}; the page: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_says_the_collector_is_down_and_recovers_by_itself() {
    let mut collector = Collector::start(false).await;
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    for i in 0..3 {
        collector
            .send_otlp_json(&otlp_trace(i, now_ns - (10 - i as u128) * 60_000_000_000))
            .await;
    }

    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver.goto(collector.url("/traces")).await.unwrap();
    eventually(WAIT, "the trace list", || async {
        seen(driver)
            .await
            .text
            .contains("offline_agent")
            .then_some(())
    })
    .await;
    // Gone if the page were ever loaded again.
    js(driver, "window.__sameApp = true; return null;").await;

    // Each page, with a text only its data shows.
    let pages: [(&str, &str); 8] = [
        ("/traces/0ff1ce000000000000000000000000a1", "lookup_tool"),
        ("/sessions", USER),
        ("/sessions/sess-offline", "question number 2"),
        ("/users", USER),
        ("/users/user-offline-1", SESSION),
        ("/services", "offline-tools"),
        // The group-by choices come from the data's tag keys, fetched apart from the chart.
        (
            "/metrics?metric=latency_mean&group_by=env",
            "request_sequence (",
        ),
        ("/traces?name=offline", "offline_agent"),
    ];
    for (path, data_text) in pages {
        collector.stop();
        go_inside_app(driver, path).await;
        let offline = wait_for(
            driver,
            &format!("{path}: the collector-down message"),
            |s| s.banner.contains("Can't reach the Skein collector"),
        )
        .await;
        assert_eq!(offline.path, path, "still in the app at {path}");
        assert!(
            offline.banner.contains("skein serve") && offline.banner.contains("Retrying"),
            "{path}: {offline:?}"
        );
        assert!(
            !offline.text.contains(data_text),
            "{path} shows its data with the collector down? {offline:?}"
        );
        // Not blank: the page's frame is there around the message.
        assert!(
            offline.main_text.trim().len() > offline.banner.trim().len(),
            "{path}: only the banner is shown: {offline:?}"
        );

        collector.restart().await;
        let back = wait_for(driver, &format!("{path}: recovery without a reload"), |s| {
            s.banner.is_empty() && s.text.contains(data_text)
        })
        .await;
        assert_eq!(back.path, path);
        let same_app = js(driver, "return window.__sameApp === true;").await;
        assert_eq!(same_app, json!(true), "{path}: the page was reloaded");
    }
    browser.quit().await;
}
