//! A trace across two services whose clocks disagree (browser_trace_timing.rs and the
//! screenshots tool).

use serde_json::{json, Value};

pub const TRACE: &str = "7a11c0ffee0000000000000000000042";
pub const MS: u64 = 1_000_000;

pub const ROOT: &str = "00000000000000a1";
pub const CALL: &str = "00000000000000a2";
pub const CACHE: &str = "00000000000000a3";
pub const RENDER: &str = "00000000000000a4";
pub const SERVE: &str = "00000000000000b1";
pub const DB: &str = "00000000000000b2";

pub fn span(id: &str, parent: Option<&str>, name: &str, kind: u8, start: u64, end: u64) -> Value {
    let mut s = json!({
        "traceId": TRACE, "spanId": id, "name": name, "kind": kind,
        "startTimeUnixNano": start.to_string(), "endTimeUnixNano": end.to_string(),
    });
    if let Some(p) = parent {
        s["parentSpanId"] = json!(p);
    }
    s
}

/// gateway: `GET /checkout` (server, 0–100 ms) calls orders with `POST orders` (client,
/// 10–70 ms), looks up a cache in parallel (12–30 ms), then renders (75–90 ms). The orders
/// service's clock runs 30 ms behind: its `POST /orders` (server, truly 15–55 ms) says
/// −15–25 ms, starting before the client span that called it; its query says −10–10 ms.
pub fn skewed_trace(t0: u64) -> Value {
    let at = |ms: i64| (t0 as i64 + ms * MS as i64) as u64;
    let service = |name: &str, spans: Vec<Value>| {
        json!({
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": name}}]},
            "scopeSpans": [{"spans": spans}]
        })
    };
    json!({"resourceSpans": [
        service("gateway", vec![
            span(ROOT, None, "GET /checkout", 2, at(0), at(100)),
            span(CALL, Some(ROOT), "POST orders", 3, at(10), at(70)),
            span(CACHE, Some(ROOT), "cache lookup", 1, at(12), at(30)),
            span(RENDER, Some(ROOT), "render page", 1, at(75), at(90)),
        ]),
        service("orders", vec![
            span(SERVE, Some(CALL), "POST /orders", 2, at(-15), at(25)),
            span(DB, Some(SERVE), "SELECT orders", 1, at(-10), at(10)),
        ]),
    ]})
}

pub const JS_TRACE: &str = "0e4e7a4a0e4e7a4a0e4e7a4a0e4e7a4a";
pub const JS_ROOT: &str = "00000000000000e1";
pub const JS_EARLY: &str = "00000000000000e2";
pub const JS_LATE: &str = "00000000000000e3";

/// One service timed by a JS SDK's millisecond clock: `agent run` (0–100 ms) with a child that
/// says it started 2 ms before it (`plan`, −2–40 ms) and one that ends 3 ms after it
/// (`answer`, 45–103 ms). One clock: the skew adjustment leaves them where they are.
pub fn overhanging_trace(t0: u64) -> Value {
    let at = |ms: i64| (t0 as i64 + ms * MS as i64) as u64;
    let span = |id: &str, parent: Option<&str>, name: &str, start: i64, end: i64| {
        let mut s = span(id, parent, name, 1, at(start), at(end));
        s["traceId"] = json!(JS_TRACE);
        s
    };
    json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "agent-js"}}]},
        "scopeSpans": [{"spans": [
            span(JS_ROOT, None, "agent run", 0, 100),
            span(JS_EARLY, Some(JS_ROOT), "plan", -2, 40),
            span(JS_LATE, Some(JS_ROOT), "answer", 45, 103),
        ]}]
    }]})
}
