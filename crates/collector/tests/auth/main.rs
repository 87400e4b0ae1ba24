//! Projects and API keys: for every endpoint, no key / a wrong key / another project's key /
//! the right key → 401 / 401 / 403 (or, where the request names the other project only by an
//! id, an answer that does not tell it exists) / 2xx, with project names in several scripts,
//! spaces, quotes and 128 bytes, and no answer ever carries another project's data; keys'
//! life (revoke, ids, listing) and LangSmith ids kept apart between projects.

#[path = "../common/mod.rs"]
mod common;
mod keys;
mod langsmith_ids;
mod matrix;

#[path = "../../src/store/sqlite/test_files.rs"]
mod test_files;

use common::client;
use serde_json::{json, Value};

const TRACE_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2";

fn otlp_body(trace: &str, span: &str, name: &str) -> serde_json::Value {
    json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": trace, "spanId": span, "name": name, "kind": 1,
        "startTimeUnixNano": "1795500443630000000", "endTimeUnixNano": "1795500443631000000",
        "attributes": [{"key": "env", "value": {"stringValue": name}}]}]}]}]})
}

#[derive(Clone, Copy)]
enum Key<'a> {
    None,
    Bearer(&'a str),
    Header(&'a str),
}

/// A request body.
#[derive(Clone)]
enum Body {
    Empty,
    Json(Value),
    /// (content type, bytes)
    Raw(String, Vec<u8>),
}

async fn send(
    method: &str,
    url: &str,
    key: Key<'_>,
    headers: &[(String, String)],
    body: &Body,
) -> (u16, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = client().request(method, url);
    request = match key {
        Key::None => request,
        Key::Bearer(k) => request.bearer_auth(k),
        Key::Header(k) => request.header("x-api-key", k),
    };
    for (k, v) in headers {
        let value = reqwest::header::HeaderValue::from_bytes(v.as_bytes()).expect("header value");
        request = request.header(k.as_str(), value);
    }
    request = match body {
        Body::Empty => request,
        Body::Json(v) => request.json(v),
        Body::Raw(content_type, bytes) => request
            .header("content-type", content_type.as_str())
            .body(bytes.clone()),
    };
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

async fn call(method: &str, url: &str, key: Key<'_>, body: Option<&Value>) -> (u16, String) {
    let body = body.cloned().map_or(Body::Empty, Body::Json);
    send(method, url, key, &[], &body).await
}

fn ls_run(id: &str, name: &str, session: Option<&str>) -> Value {
    let mut run = json!({
        "id": id, "trace_id": id,
        "dotted_order": format!("20261124T060449941486Z{id}"),
        "name": name, "run_type": "chain",
        "start_time": "2026-11-24T06:04:49.941486+00:00", "inputs": {"q": name}});
    if let Some(s) = session {
        run["session_name"] = json!(s);
    }
    run
}

fn multipart(run: &Value) -> Body {
    let id = run["id"].as_str().unwrap();
    let body = format!(
        "--XX\r\nContent-Disposition: form-data; name=\"post.{id}\"\r\nContent-Type: application/json\r\n\r\n{run}\r\n--XX--\r\n"
    );
    Body::Raw("multipart/form-data; boundary=XX".into(), body.into_bytes())
}
