//! API keys in the dashboard: a trace sent with a key, the key prompt, entering a key, the
//! trace list's root names (browser_keys.rs and the screenshots tool).

use serde_json::json;
use thirtyfour::prelude::*;

use super::{present, texts, Collector};

/// One root span named `name`, sent with `key` to the collector's OTLP endpoint.
pub async fn send_trace(collector: &Collector, key: &str, trace_id: &str, name: &str) {
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        - 60_000_000_000;
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": trace_id, "spanId": "00000000000000a1", "name": name, "kind": 1,
            "startTimeUnixNano": now_ns.to_string(),
            "endTimeUnixNano": (now_ns + 5_000_000).to_string(),
            "attributes": [{"key": "env", "value": {"stringValue": "production"}}]}]}]}]});
    let response = reqwest::Client::new()
        .post(collector.otlp_traces_url())
        .header("x-api-key", key)
        .json(&body)
        .send()
        .await
        .expect("OTLP request");
    assert!(response.status().is_success(), "{}", response.status());
}

/// Whether the key prompt is on the page (panics if the browser cannot be asked, so that
/// "not shown" is never a failed look).
pub async fn prompt_shown(driver: &WebDriver) -> bool {
    present(driver, ".key-card input[type=password]").await
}

pub async fn enter_key(driver: &WebDriver, key: &str) {
    let input = driver
        .find(By::Css(".key-card input[type=password]"))
        .await
        .unwrap();
    input.clear().await.unwrap();
    input.send_keys(key).await.unwrap();
    driver
        .find(By::Css(".key-card button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

pub async fn root_names(driver: &WebDriver) -> Vec<String> {
    texts(driver, "tr.trace-row .root-name").await
}
