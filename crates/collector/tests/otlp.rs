//! OTLP/HTTP ingest, driven by real clients against the real `skein` binary: the Rust
//! `opentelemetry-otlp` exporter, the Python OpenTelemetry SDK, and the JS exporter's JSON.

mod common;

use std::io::{Read, Write};
use std::process::Command;

use common::{assert_seed_tree, get_json, spans_by_name, wait_for_traces, Collector};

/// The seed's 7-span agent tree, built with the Rust OpenTelemetry SDK and sent by its OTLP
/// exporter (HTTP, protobuf). Returns the trace id.
fn send_seed_tree_with_rust_sdk(endpoint: String) -> String {
    use opentelemetry::trace::{Span as _, TraceContextExt, Tracer, TracerProvider as _};
    use opentelemetry::KeyValue;
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use opentelemetry_sdk::Resource;

    // The blocking exporter must live on a plain thread, outside the test's async runtime.
    std::thread::spawn(move || {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .build()
            .expect("exporter");
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name("seed-agents-rs")
                    .build(),
            )
            .build();
        let tracer = provider.tracer("seed.tutorial");
        let attrs = |extra: Vec<KeyValue>| {
            let mut v = vec![
                KeyValue::new("env", "staging"),
                KeyValue::new("version", "v2.0.3"),
                KeyValue::new("feature", "code_review"),
                KeyValue::new("user_tier", "free"),
                KeyValue::new("experiment", "improved_prompts_v3"),
                KeyValue::new("ab_test_variant", "A"),
                KeyValue::new("session.id", "session-rs-1"),
                KeyValue::new("user.id", "user_rs"),
                KeyValue::new("openinference.span.kind", "AGENT"),
            ];
            v.extend(extra);
            v
        };
        let span = |name: &'static str, extra: Vec<KeyValue>| {
            tracer
                .span_builder(name)
                .with_attributes(attrs(extra))
                .start(&tracer)
        };
        let main = span("main_agent", vec![]);
        let trace_id = main.span_context().trace_id().to_string();
        let main_cx = opentelemetry::Context::current_with_span(main);
        let _main_guard = main_cx.clone().attach();
        {
            let _planning =
                opentelemetry::Context::current_with_span(span("planning_agent", vec![])).attach();
        }
        {
            let _exec =
                opentelemetry::Context::current_with_span(span("execution_agent", vec![])).attach();
            for (i, name) in ["sub_agent_1", "sub_agent_2", "sub_agent_3"]
                .iter()
                .enumerate()
            {
                let n = i as i64 + 1;
                let _sub = opentelemetry::Context::current_with_span(span(
                    name,
                    vec![
                        KeyValue::new("gen_ai.request.model", "claude-sonnet-4"),
                        KeyValue::new("gen_ai.usage.input_tokens", 100 * n),
                        KeyValue::new("gen_ai.usage.output_tokens", 10 * n),
                    ],
                ))
                .attach();
            }
        }
        {
            let _synthesis =
                opentelemetry::Context::current_with_span(span("synthesis_agent", vec![])).attach();
        }
        drop(_main_guard);
        main_cx.span().end();
        provider.shutdown().expect("flush and shut down");
        trace_id
    })
    .join()
    .expect("exporter thread")
}

#[tokio::test]
async fn rust_exporter_sends_the_seed_agent_tree() {
    let collector = Collector::start();
    let endpoint = collector.otlp_traces.clone();
    let trace_id = tokio::task::spawn_blocking(move || send_seed_tree_with_rust_sdk(endpoint))
        .await
        .unwrap();

    let page = wait_for_traces(&collector, "tag=ab_test_variant=A", 1).await;
    let trace = &page["traces"][0];
    assert_eq!(trace["trace_id"], trace_id.as_str());
    assert_eq!(trace["root_name"], "main_agent");
    assert_eq!(trace["span_count"], 7);
    assert_eq!(trace["services"], serde_json::json!(["seed-agents-rs"]));
    assert_eq!(trace["session_id"], "session-rs-1");
    assert_eq!(trace["user_id"], "user_rs");
    assert_eq!(trace["input_tokens"], 600);
    assert_eq!(trace["output_tokens"], 60);
    for (k, v) in [
        ("env", "staging"),
        ("version", "v2.0.3"),
        ("feature", "code_review"),
        ("user_tier", "free"),
        ("experiment", "improved_prompts_v3"),
    ] {
        assert_eq!(trace["tags"][k], v, "tag {k}");
    }
    let spans = spans_by_name(&collector, &trace_id).await;
    assert_seed_tree(&spans);
    assert_eq!(spans["sub_agent_2"]["model"], "claude-sonnet-4");
    assert_eq!(spans["sub_agent_2"]["span_type"], "agent");
}

/// Runs the seed script with the Python SDK; returns the trace id it printed.
fn run_python_seed(collector: &Collector, session: &str, compression: Option<&str>) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/seed_agents.py");
    let mut command = Command::new(common::python());
    command
        .arg(script)
        .arg(session)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.otlp_base)
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    match compression {
        Some(c) => command.env("OTEL_EXPORTER_OTLP_COMPRESSION", c),
        None => command.env_remove("OTEL_EXPORTER_OTLP_COMPRESSION"),
    };
    let output = command.output().expect("run python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "python failed: {stderr}");
    // The SDK logs export failures instead of failing: none must be there.
    assert!(
        !stderr.contains("Failed to export"),
        "export failed: {stderr}"
    );
    let line = stdout.lines().last().expect("a line of output");
    let parsed: serde_json::Value = serde_json::from_str(line).expect("json line");
    parsed["trace_id"].as_str().expect("trace id").to_string()
}

#[tokio::test]
async fn python_sdk_sends_the_seed_agent_tree_plain_and_gzip() {
    let collector = Collector::start();
    for (session, compression) in [
        ("session-py-plain", None),
        ("session-py-gzip", Some("gzip")),
    ] {
        let trace_id = run_python_seed(&collector, session, compression);
        let page = wait_for_traces(&collector, &format!("session={session}"), 1).await;
        let trace = &page["traces"][0];
        assert_eq!(trace["trace_id"], trace_id.as_str(), "{session}");
        assert_eq!(trace["root_name"], "main_agent");
        assert_eq!(trace["span_count"], 7);
        assert_eq!(trace["user_id"], "user_py");
        assert_eq!(trace["input_tokens"], 600);
        assert_eq!(trace["tags"]["ab_test_variant"], "B");
        assert_eq!(trace["tags"]["experiment"], "improved_prompts_v3");
        let spans = spans_by_name(&collector, &trace_id).await;
        assert_seed_tree(&spans);
        assert_eq!(
            spans["main_agent"]["input"],
            "Research solid-state batteries"
        );
        assert_eq!(spans["synthesis_agent"]["output"], "final answer");
        assert_eq!(spans["main_agent"]["service"], "seed-agents-py");
    }
    let both = wait_for_traces(&collector, "tag=user_tier=premium", 2).await;
    assert_eq!(both["total"], 2);
}

/// Sends a body the way the JS exporter does: chunked, with no Content-Length.
fn post_chunked(url: &str, content_type: &str, body: &[u8]) -> (u16, String) {
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').expect("url with a path");
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    let mut request = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(300) {
        request.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend(chunk);
        request.extend(b"\r\n");
    }
    request.extend(b"0\r\n\r\n");
    stream.write_all(&request).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[tokio::test]
async fn js_exporter_json_is_accepted_chunked() {
    let collector = Collector::start();
    let body = include_bytes!("fixtures/otel_js_json.json");
    let (status, answer) = post_chunked(&collector.otlp_traces, "application/json", body);
    assert_eq!(status, 200, "{answer}");
    // An ExportTraceServiceResponse in JSON, no partial success.
    assert!(answer.contains('{'), "{answer}");
    let page = wait_for_traces(&collector, "", 1).await;
    let trace = &page["traces"][0];
    assert_eq!(trace["trace_id"], "1b8bb63048f5111da08f25e7f8e72c21");
    assert_eq!(trace["root_name"], "main_agent");
    assert_eq!(trace["span_count"], 2);
    let spans = spans_by_name(&collector, "1b8bb63048f5111da08f25e7f8e72c21").await;
    assert_eq!(spans["sub_agent_1"]["parent_span_id"], "de7c1a89ddab9cfc");
    assert_eq!(spans["sub_agent_1"]["attributes"]["score"], 0.95);
    assert_eq!(spans["main_agent"]["labels"], serde_json::json!(["a", "b"]));
}

/// An OTLP JSON body with one span per (trace id, span id) given.
fn json_request(spans: &[(&str, &str, &str)]) -> Vec<u8> {
    let spans: Vec<serde_json::Value> = spans
        .iter()
        .map(|(trace, span, name)| {
            serde_json::json!({
                "traceId": trace, "spanId": span, "name": name, "kind": 1,
                "startTimeUnixNano": "1795500443630000000", "endTimeUnixNano": "1795500443631000000"
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "bad-input-test"}}]},
            "scopeSpans": [{"spans": spans}]
        }]
    }))
    .unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

async fn post(url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, serde_json::Value) {
    let mut request = common::client().post(url).body(body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("POST");
    let status = response.status().as_u16();
    (status, common::answer_json(response).await)
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_loses_nothing_else() {
    let collector = Collector::start_with(&["--max-request-bytes", "100000"]);
    let url = collector.otlp_traces.clone();
    let json = [("content-type", "application/json")];
    let trace_a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let trace_b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    let (status, _) = post(
        &url,
        &json,
        json_request(&[(trace_a, "00000000000000a1", "before")]),
    )
    .await;
    assert_eq!(status, 200);

    // A valid protobuf request, truncated.
    let valid = {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        use prost::Message;
        let request: ExportTraceServiceRequest =
            serde_json::from_slice(&json_request(&[(trace_b, "00000000000000b9", "lost")]))
                .unwrap();
        request.encode_to_vec()
    };
    let truncated = valid[..valid.len() - 7].to_vec();
    // (what, headers, body, expected status, a word the error must contain)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "truncated protobuf",
            vec![("content-type", "application/x-protobuf")],
            truncated,
            400,
            "protobuf",
        ),
        (
            "wrong content type",
            vec![("content-type", "text/plain")],
            b"hello".to_vec(),
            415,
            "Content-Type",
        ),
        (
            "malformed JSON",
            json.to_vec(),
            b"{\"resourceSpans\": [".to_vec(),
            400,
            "JSON",
        ),
        (
            "hex id of the wrong length",
            json.to_vec(),
            json_request(&[("abcd", "00000000000000c1", "x")]),
            400,
            "trace_id",
        ),
        (
            "all-zero trace id",
            json.to_vec(),
            json_request(&[("00000000000000000000000000000000", "00000000000000c2", "x")]),
            400,
            "trace_id",
        ),
        (
            "not gzip",
            vec![
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
            b"plainly not gzip".to_vec(),
            400,
            "gzip",
        ),
        (
            "oversized body",
            json.to_vec(),
            vec![b' '; 200_000],
            413,
            "limit",
        ),
        (
            "gzip bomb",
            vec![
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
            gzip(&vec![b' '; 1_000_000]),
            413,
            "limit",
        ),
        (
            "unknown encoding",
            vec![
                ("content-type", "application/json"),
                ("content-encoding", "br"),
            ],
            b"x".to_vec(),
            415,
            "Content-Encoding",
        ),
    ];
    for (what, headers, body, expected, mentions) in cases {
        let (status, answer) = post(&url, &headers, body).await;
        assert_eq!(status, expected, "{what}: {answer}");
        let error = answer["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no JSON error: {answer}"));
        assert!(
            error.contains(mentions),
            "{what}: {error:?} should mention {mentions}"
        );
    }

    // One good span and one with a bad id: the good one is kept, the bad one reported.
    let (status, answer) = post(
        &url,
        &json,
        json_request(&[
            (trace_b, "00000000000000b1", "after"),
            (trace_b, "0000000000000000", "bad"),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    // int64 fields are strings in OTLP JSON; accept a number too.
    let rejected = answer["partialSuccess"]["rejectedSpans"].to_string();
    assert_eq!(rejected.trim_matches('"'), "1", "{answer}");
    assert!(answer["partialSuccess"]["errorMessage"]
        .as_str()
        .unwrap()
        .contains("span_id"));

    // A gzip body within limits is fine.
    let (status, _) = post(
        &url,
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ],
        gzip(&json_request(&[(trace_b, "00000000000000b2", "gzipped")])),
    )
    .await;
    assert_eq!(status, 200);

    let page = wait_for_traces(&collector, "", 2).await;
    assert_eq!(page["total"], 2, "{page}");
    let a = get_json(&collector.url(&format!("/api/v1/traces/{trace_a}"))).await;
    let b = get_json(&collector.url(&format!("/api/v1/traces/{trace_b}"))).await;
    assert_eq!(a["spans"].as_array().unwrap().len(), 1);
    let names: Vec<&str> = b["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            b["names"][s[2].as_u64().unwrap() as usize]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.contains(&"after") && names.contains(&"gzipped"),
        "{names:?}"
    );
}

#[tokio::test]
async fn the_http_address_accepts_otlp_too_and_projects_are_separate() {
    let collector = Collector::start();
    let url = collector.url("/v1/traces");
    let body = json_request(&[(
        "cccccccccccccccccccccccccccccccc",
        "00000000000000c1",
        "team-a-run",
    )]);
    let (status, _) = post(
        &url,
        &[
            ("content-type", "application/json"),
            ("x-skein-project", "team-a"),
        ],
        body,
    )
    .await;
    assert_eq!(status, 200);
    let team_a = wait_for_traces(&collector, "project=team-a", 1).await;
    assert_eq!(team_a["traces"][0]["root_name"], "team-a-run");
    let default = get_json(&collector.url("/api/v1/traces")).await;
    assert_eq!(
        default["total"], 0,
        "the default project must not see team-a's trace"
    );
    let projects = get_json(&collector.url("/api/v1/projects")).await;
    assert_eq!(projects[0]["name"], "team-a");
}

#[tokio::test]
async fn acknowledged_spans_survive_a_kill() {
    let collector = Collector::start();
    let body = json_request(&[(
        "dddddddddddddddddddddddddddddddd",
        "00000000000000d1",
        "durable",
    )]);
    let (status, _) = post(
        &collector.otlp_traces,
        &[("content-type", "application/json")],
        body,
    )
    .await;
    assert_eq!(status, 200);
    // SIGKILL right after the acknowledgement: the span must be on disk already.
    let dir = collector.kill();
    let restarted = Collector::start_in(dir, &[]);
    let page = get_json(&restarted.url("/api/v1/traces")).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["traces"][0]["root_name"], "durable");
}

#[tokio::test]
async fn a_full_write_queue_answers_503_with_retry_after_and_keeps_what_it_acknowledged() {
    // A queue of one span: any request that arrives while another is being written is refused.
    let collector = Collector::start_with(&["--max-queued-spans", "1"]);
    let mut acknowledged = 0u64;
    let mut refused = 0;
    for round in 0..20u64 {
        let mut requests = tokio::task::JoinSet::new();
        for i in 0..40u64 {
            let trace = format!("{:032x}", round * 1000 + i + 1);
            let spans: Vec<(String, String)> = (0..50u64)
                .map(|s| (trace.clone(), format!("{:016x}", s + 1)))
                .collect();
            let body = {
                let refs: Vec<(&str, &str, &str)> = spans
                    .iter()
                    .map(|(t, s)| (t.as_str(), s.as_str(), "load"))
                    .collect();
                json_request(&refs)
            };
            let url = collector.otlp_traces.clone();
            requests.spawn(async move {
                let response = common::client()
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("POST");
                let status = response.status().as_u16();
                let retry_after = response.headers().get("retry-after").cloned();
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                (status, retry_after, body)
            });
        }
        while let Some(result) = requests.join_next().await {
            let (status, retry_after, body) = result.unwrap();
            match status {
                200 => acknowledged += 50,
                503 => {
                    refused += 1;
                    assert!(retry_after.is_some(), "503 without Retry-After");
                    assert!(body["error"].as_str().unwrap().contains("queue"), "{body}");
                }
                other => panic!("unexpected {other}: {body}"),
            }
        }
        if refused > 0 {
            break;
        }
    }
    assert!(
        refused > 0,
        "no request was ever refused with a one-span queue"
    );
    // Exactly what was acknowledged is stored: nothing lost, nothing refused stored.
    let projects = get_json(&collector.url("/api/v1/projects")).await;
    assert_eq!(projects[0]["span_count"].as_u64().unwrap(), acknowledged);
}
