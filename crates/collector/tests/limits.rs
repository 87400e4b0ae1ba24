//! Content limits (attributes per span, bytes per attribute value, events per span) over HTTP
//! against the real binary: OTLP protobuf and JSON, and the LangSmith endpoints. A request
//! over a limit is refused whole with 413 and a JSON error naming the span or run, the
//! attribute, its size and the limit; nothing of it is stored.

mod common;

use common::{client, get_json, Collector};
use serde_json::{json, Value};

const SMALL_LIMITS: &[&str] = &[
    "--max-span-attributes",
    "8",
    "--max-attribute-bytes",
    "1000",
    "--max-span-events",
    "3",
];

const GOOD_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const BAD_TRACE: &str = "1bf7651916cd43dd8448eb211c80319d";

async fn post(url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, Value) {
    let mut request = client().post(url).body(body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("POST");
    let status = response.status().as_u16();
    (status, common::answer_json(response).await)
}

fn error_text(answer: &Value) -> String {
    answer["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error text in {answer}"))
        .to_string()
}

async fn trace_status(collector: &Collector, project: &str, trace: &str) -> u16 {
    client()
        .get(collector.url(&format!("/api/v1/traces/{trace}?project={project}")))
        .send()
        .await
        .expect("GET")
        .status()
        .as_u16()
}

// ---------------------------------------------------------------------------------------------
// OTLP protobuf, encoded by hand (the wire format is small; this is an independent client).

fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn bytes_field(field: u32, bytes: &[u8], out: &mut Vec<u8>) {
    varint(u64::from(field << 3 | 2), out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn fixed64_field(field: u32, n: u64, out: &mut Vec<u8>) {
    varint(u64::from(field << 3 | 1), out);
    out.extend_from_slice(&n.to_le_bytes());
}

/// A `KeyValue` with a string value.
fn pb_attribute(key: &str, value: &str) -> Vec<u8> {
    let mut any = Vec::new();
    bytes_field(1, value.as_bytes(), &mut any);
    let mut kv = Vec::new();
    bytes_field(1, key.as_bytes(), &mut kv);
    bytes_field(2, &any, &mut kv);
    kv
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

struct PbSpan<'a> {
    trace: &'a str,
    span: &'a str,
    name: &'a str,
    attributes: Vec<(String, String)>,
    events: usize,
}

fn pb_request(spans: &[PbSpan]) -> Vec<u8> {
    let mut scope = Vec::new();
    for s in spans {
        let mut span = Vec::new();
        bytes_field(1, &unhex(s.trace), &mut span);
        bytes_field(2, &unhex(s.span), &mut span);
        bytes_field(5, s.name.as_bytes(), &mut span);
        fixed64_field(7, 1_795_500_443_630_000_000, &mut span);
        fixed64_field(8, 1_795_500_443_631_000_000, &mut span);
        for (k, v) in &s.attributes {
            bytes_field(9, &pb_attribute(k, v), &mut span);
        }
        for i in 0..s.events {
            let mut event = Vec::new();
            fixed64_field(1, 1_795_500_443_630_500_000, &mut event);
            bytes_field(2, format!("token {i}").as_bytes(), &mut event);
            bytes_field(11, &event, &mut span);
        }
        bytes_field(2, &span, &mut scope);
    }
    let mut resource = Vec::new();
    bytes_field(
        1,
        &pb_attribute("service.name", "limits-test"),
        &mut resource,
    );
    let mut resource_spans = Vec::new();
    bytes_field(1, &resource, &mut resource_spans);
    bytes_field(2, &scope, &mut resource_spans);
    let mut request = Vec::new();
    bytes_field(1, &resource_spans, &mut request);
    request
}

fn attrs(n: usize, value_len: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("attr.{i}"), "v".repeat(value_len)))
        .collect()
}

const PROTOBUF: (&str, &str) = ("content-type", "application/x-protobuf");

#[tokio::test]
async fn otlp_protobuf_over_the_limits_is_refused_whole_and_named() {
    let collector = Collector::start_with(SMALL_LIMITS);
    let url = collector.otlp_traces.clone();
    let project = ("x-skein-project", "limits-pb");
    let good = || PbSpan {
        trace: GOOD_TRACE,
        span: "00f067aa0ba902b7",
        name: "good",
        attributes: attrs(8, 1000),
        events: 3,
    };

    // One span with a value one byte over: the whole request is refused, the good span too.
    let mut long = attrs(2, 10);
    long.push(("input.value".into(), "x".repeat(1001)));
    let over_value = PbSpan {
        trace: BAD_TRACE,
        span: "11f067aa0ba902b8",
        name: "llm_call",
        attributes: long,
        events: 0,
    };
    let (status, answer) = post(
        &url,
        &[PROTOBUF, project],
        pb_request(&[good(), over_value]),
    )
    .await;
    assert_eq!(status, 413, "{answer}");
    let error = error_text(&answer);
    for want in [
        "nothing of it was stored",
        &format!("span {BAD_TRACE}/11f067aa0ba902b8"),
        "\"input.value\" is 1001 bytes",
        "the limit is 1000",
        "--max-attribute-bytes",
    ] {
        assert!(error.contains(want), "{want:?} not in {error}");
    }
    assert!(!error.contains(GOOD_TRACE), "{error}");

    // Too many attributes, too many events: every offending span is named.
    let many_attributes = PbSpan {
        trace: BAD_TRACE,
        span: "22f067aa0ba902b8",
        name: "many",
        attributes: attrs(9, 1),
        events: 0,
    };
    let many_events = PbSpan {
        trace: BAD_TRACE,
        span: "33f067aa0ba902b8",
        name: "chatty",
        attributes: Vec::new(),
        events: 4,
    };
    let (status, answer) = post(
        &url,
        &[PROTOBUF, project],
        pb_request(&[many_attributes, good(), many_events]),
    )
    .await;
    assert_eq!(status, 413, "{answer}");
    let error = error_text(&answer);
    assert!(
        error.contains(&format!(
            "span {BAD_TRACE}/22f067aa0ba902b8 (\"many\"): 9 attributes; the limit is 8"
        )),
        "{error}"
    );
    assert!(
        error.contains(&format!(
            "span {BAD_TRACE}/33f067aa0ba902b8 (\"chatty\"): 4 events; the limit is 3"
        )),
        "{error}"
    );
    assert_eq!(trace_status(&collector, "limits-pb", GOOD_TRACE).await, 404);
    assert_eq!(trace_status(&collector, "limits-pb", BAD_TRACE).await, 404);

    // Exactly at every limit: stored, the values whole.
    let (status, answer) = post(&url, &[PROTOBUF, project], pb_request(&[good()])).await;
    assert_eq!(status, 200, "{answer:?}");
    let span = get_json(&collector.url(&format!(
        "/api/v1/traces/{GOOD_TRACE}/spans/00f067aa0ba902b7?project=limits-pb"
    )))
    .await;
    assert_eq!(
        span["attributes"]["attr.7"].as_str().map(str::len),
        Some(1000),
        "{span}"
    );
    assert_eq!(span["events"].as_array().map(Vec::len), Some(3), "{span}");
}

#[tokio::test]
async fn otlp_json_over_the_limits_is_refused_and_the_resource_is_checked_too() {
    let collector = Collector::start_with(SMALL_LIMITS);
    let url = collector.url("/v1/traces");
    let json_type = ("content-type", "application/json");
    let request = |resource_attrs: Value, span_attrs: Value| {
        serde_json::to_vec(&json!({
            "resourceSpans": [{
                "resource": {"attributes": resource_attrs},
                "scopeSpans": [{"spans": [{
                    "traceId": BAD_TRACE, "spanId": "44f067aa0ba902b8", "name": "json span",
                    "kind": 1, "startTimeUnixNano": "1795500443630000000",
                    "endTimeUnixNano": "1795500443631000000",
                    "attributes": span_attrs
                }]}]
            }]
        }))
        .unwrap()
    };
    let service = json!([{"key": "service.name", "value": {"stringValue": "limits-json"}}]);

    // A nested value counts what it holds.
    let nested = json!([{"key": "gen_ai.input.messages", "value": {"arrayValue": {"values": [
        {"stringValue": "y".repeat(600)}, {"stringValue": "z".repeat(600)}
    ]}}}]);
    let (status, answer) = post(&url, &[json_type], request(service.clone(), nested)).await;
    assert_eq!(status, 413, "{answer}");
    let error = error_text(&answer);
    assert!(
        error.contains(&format!(
            "span {BAD_TRACE}/44f067aa0ba902b8 (\"json span\")"
        )) && error.contains("\"gen_ai.input.messages\" is 1200 bytes; the limit is 1000"),
        "{error}"
    );

    // Resource attributes have the same limits.
    let crowded: Vec<Value> = (0..9)
        .map(|i| json!({"key": format!("r{i}"), "value": {"stringValue": "v"}}))
        .collect();
    let (status, answer) = post(&url, &[json_type], request(json!(crowded), json!([]))).await;
    assert_eq!(status, 413, "{answer}");
    let error = error_text(&answer);
    assert!(
        error.contains(
            "the resource of 1 span: 9 attributes; the limit is 8 (--max-span-attributes)"
        ),
        "{error}"
    );

    // A key no one would write on purpose.
    let long_key = json!([{"key": "k".repeat(2000), "value": {"stringValue": "v"}}]);
    let (status, answer) = post(&url, &[json_type], request(service.clone(), long_key)).await;
    assert_eq!(status, 413, "{answer}");
    assert!(
        error_text(&answer).contains("is longer than 1024 bytes"),
        "{answer}"
    );
    assert_eq!(trace_status(&collector, "default", BAD_TRACE).await, 404);

    // A name that is a document: refused, and the answer shows only its start.
    let mut long_name: Value =
        serde_json::from_slice(&request(service.clone(), json!([]))).unwrap();
    long_name["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"] = json!("n".repeat(5000));
    let (status, answer) = post(&url, &[json_type], serde_json::to_vec(&long_name).unwrap()).await;
    assert_eq!(status, 413, "{answer}");
    let error = error_text(&answer);
    assert!(
        error.contains(&format!("span {BAD_TRACE}/44f067aa0ba902b8 (\"nnnn"))
            && error.contains("(5000 bytes)): the name is longer than 4096 bytes")
            && error.len() < 1000,
        "{error}"
    );
    assert_eq!(trace_status(&collector, "default", BAD_TRACE).await, 404);

    let fine = json!([{"key": "input.value", "value": {"stringValue": "q".repeat(1000)}}]);
    let (status, answer) = post(&url, &[json_type], request(service, fine)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(trace_status(&collector, "default", BAD_TRACE).await, 200);
}

#[tokio::test]
async fn default_limits_take_real_llm_prompts() {
    let collector = Collector::start();
    // A 600 KiB prompt and a 300 KiB answer, 200 attributes, 2,000 streamed-token events.
    let mut attributes = attrs(198, 20);
    attributes.push(("input.value".into(), "p".repeat(600 << 10)));
    attributes.push(("output.value".into(), "a".repeat(300 << 10)));
    let span = PbSpan {
        trace: GOOD_TRACE,
        span: "55f067aa0ba902b8",
        name: "long context",
        attributes,
        events: 2_000,
    };
    let (status, answer) = post(&collector.otlp_traces, &[PROTOBUF], pb_request(&[span])).await;
    assert_eq!(status, 200, "{answer:?}");
    let stored = get_json(&collector.url(&format!(
        "/api/v1/traces/{GOOD_TRACE}/spans/55f067aa0ba902b8"
    )))
    .await;
    assert_eq!(stored["input"].as_str().map(str::len), Some(600 << 10));
    assert_eq!(stored["events"].as_array().map(Vec::len), Some(2_000));
}

/// The README: "a request of more than 100,000 spans" gets 413 and nothing of it is stored;
/// 100,000 spans in one request are taken.
#[tokio::test]
async fn an_otlp_request_of_more_than_100_000_spans_is_413() {
    let collector = Collector::start();
    let ids: Vec<(String, String)> = (0..100_001u64)
        .map(|i| (format!("{:032x}", i / 100 + 1), format!("{:016x}", i + 1)))
        .collect();
    let spans = |n: usize| -> Vec<PbSpan> {
        ids[..n]
            .iter()
            .map(|(trace, span)| PbSpan {
                trace,
                span,
                name: "many",
                attributes: Vec::new(),
                events: 0,
            })
            .collect()
    };
    let project = ("x-skein-project", "many-spans");
    let (status, answer) = post(
        &collector.otlp_traces,
        &[PROTOBUF, project],
        pb_request(&spans(100_001)),
    )
    .await;
    assert_eq!(status, 413, "{answer:?}");
    let error = error_text(&answer);
    assert!(
        error.contains("100001 spans") && error.contains("100000"),
        "{error}"
    );
    let projects = get_json(&collector.url("/api/v1/projects")).await;
    let stored = projects
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "many-spans")
        .map_or(0, |p| p["span_count"].as_u64().unwrap());
    assert_eq!(stored, 0, "nothing of a refused request is stored");

    // The limit itself is allowed.
    let (status, answer) = post(
        &collector.otlp_traces,
        &[PROTOBUF, project],
        pb_request(&spans(100_000)),
    )
    .await;
    assert_eq!(status, 200, "{answer:?}");
    let projects = get_json(&collector.url("/api/v1/projects")).await;
    let stored = projects
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "many-spans")
        .map(|p| p["span_count"].as_u64().unwrap());
    assert_eq!(stored, Some(100_000));
}

// ---------------------------------------------------------------------------------------------
// LangSmith

const RUN: &str = "0190f4b2-7c3e-7a00-8000-0000000000a1";
const OTHER_RUN: &str = "0190f4b2-7c3e-7a00-8000-0000000000a2";

fn run(id: &str, project: &str) -> Value {
    json!({"id": id, "trace_id": id, "name": "agent", "run_type": "chain",
           "session_name": project, "start_time": "2026-11-24T06:05:18.183114+00:00",
           "end_time": "2026-11-24T06:05:18.283114+00:00"})
}

async fn langsmith(
    collector: &Collector,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    post(
        &collector.url(&format!("/api/langsmith{path}")),
        &[("content-type", content_type)],
        body,
    )
    .await
}

async fn run_status(collector: &Collector, id: &str) -> u16 {
    client()
        .get(collector.url(&format!("/api/langsmith/runs/{id}")))
        .send()
        .await
        .expect("GET")
        .status()
        .as_u16()
}

#[tokio::test]
async fn langsmith_runs_over_the_limits_are_refused_whole() {
    let collector = Collector::start_with(SMALL_LIMITS);
    let json_type = "application/json";

    // Batch: outputs over the limit refuse the batch, the good run in it included.
    let mut big = run(RUN, "limits-ls");
    big["outputs"] = json!({"answer": "o".repeat(1000)});
    let body = json!({"post": [run(OTHER_RUN, "limits-ls"), big]}).to_string();
    let (status, answer) = langsmith(&collector, "/runs/batch", json_type, body.into_bytes()).await;
    assert_eq!(status, 413, "{answer}");
    let error = error_text(&answer);
    assert!(
        error.contains(&format!(
            "run {RUN}: outputs is 1013 bytes as JSON; the limit is 1000 (--max-attribute-bytes)"
        )),
        "{error}"
    );
    assert_eq!(run_status(&collector, OTHER_RUN).await, 404);
    assert_eq!(run_status(&collector, RUN).await, 404);

    // A run named with a document.
    let mut long_name = run(RUN, "limits-ls");
    long_name["name"] = json!("n".repeat(5000));
    let (status, answer) = langsmith(
        &collector,
        "/runs",
        json_type,
        long_name.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 413, "{answer}");
    assert!(
        error_text(&answer).contains("(5000 bytes) is longer than 4096 bytes"),
        "{answer}"
    );
    assert_eq!(run_status(&collector, RUN).await, 404);

    // One run: too many metadata keys, too many events.
    let mut crowded = run(RUN, "limits-ls");
    let metadata: serde_json::Map<String, Value> =
        (0..9).map(|i| (format!("m{i}"), json!(i))).collect();
    crowded["extra"] = json!({"metadata": metadata});
    crowded["events"] = json!([{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d"}]);
    let (status, answer) = langsmith(
        &collector,
        "/runs",
        json_type,
        crowded.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 413, "{answer}");
    let error = error_text(&answer);
    assert!(
        error.contains(&format!(
            "run {RUN}: extra.metadata has 9 keys; the limit is 8 (--max-span-attributes)"
        )) && error.contains(&format!("run {RUN}: 4 events; the limit is 3")),
        "{error}"
    );
    assert_eq!(run_status(&collector, RUN).await, 404);

    // Multipart: an oversized inputs part refuses the upload and the feedback in it.
    let part = |name: &str, body: &str| {
        format!(
            "--XX\r\nContent-Disposition: form-data; name=\"{name}\"\r\nContent-Type: application/json\r\n\r\n{body}\r\n"
        )
    };
    let feedback = json!({"id": "0190f4b2-7c3e-7a00-8000-0000000000f1", "run_id": RUN,
                          "key": "helpful", "score": 1});
    let upload = |inputs_len: usize| {
        part(&format!("post.{RUN}"), &run(RUN, "limits-ls").to_string())
            + &part(
                &format!("post.{RUN}.inputs"),
                &json!({"q": "i".repeat(inputs_len)}).to_string(),
            )
            + &part(
                "feedback.0190f4b2-7c3e-7a00-8000-0000000000f1",
                &feedback.to_string(),
            )
            + "--XX--\r\n"
    };
    let multipart = "multipart/form-data; boundary=XX";
    let (status, answer) = langsmith(
        &collector,
        "/runs/multipart",
        multipart,
        upload(1000).into_bytes(),
    )
    .await;
    assert_eq!(status, 413, "{answer}");
    assert!(
        error_text(&answer).contains(&format!("run {RUN}: inputs is 1008 bytes as JSON")),
        "{answer}"
    );
    assert_eq!(run_status(&collector, RUN).await, 404);
    // The run's trace id is its UUID's hex digits (see the README).
    let feedback_url = collector.url(&format!(
        "/api/v1/feedback?project=limits-ls&trace_id={}",
        RUN.replace('-', "")
    ));
    let feedback_list = get_json(&feedback_url).await;
    assert_eq!(feedback_list["feedback"], json!([]), "{feedback_list}");

    // Within the limits, the same upload is stored, feedback and all.
    let (status, answer) = langsmith(
        &collector,
        "/runs/multipart",
        multipart,
        upload(900).into_bytes(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["runs"], 1, "{answer}");
    assert_eq!(answer["feedback"], 1, "{answer}");
    let feedback_list = get_json(&feedback_url).await;
    assert_eq!(
        feedback_list["feedback"].as_array().map(Vec::len),
        Some(1),
        "{feedback_list}"
    );
    let stored = get_json(&collector.url(&format!("/api/langsmith/runs/{RUN}"))).await;
    assert_eq!(
        stored["inputs"]["q"].as_str().map(str::len),
        Some(900),
        "{stored}"
    );
}
