//! OTLP/gRPC over the wire: the real exporters (the OTel Python SDK's, `opentelemetry-instrument`
//! with its defaults, Node's) send to the collector's gRPC address and the trace reads right
//! through the query API; a real gRPC client (tonic) gets the status codes the OTLP
//! specification gives (INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_EXHAUSTED
//! with RetryInfo) and `partial_success`; OTLP/HTTP protobuf errors are `google.rpc.Status`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use common::{
    client, get_json, get_json_with_key, python, skein_cli, spans_by_name, wait_for_traces,
    Collector,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::Value;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;
use tonic::Code;
use tonic_types::StatusExt;

const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn grpc_url(collector: &Collector) -> String {
    collector
        .otlp_grpc
        .clone()
        .expect("the harness starts every collector with a gRPC address")
}

async fn grpc_client(collector: &Collector) -> TraceServiceClient<Channel> {
    TraceServiceClient::connect(grpc_url(collector))
        .await
        .expect("connect over gRPC")
}

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
    }
}

fn span(trace: u8, id: u8, name: &str) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        name: name.into(),
        start_time_unix_nano: 1_795_500_443_630_000_000,
        end_time_unix_nano: 1_795_500_443_631_000_000,
        ..Span::default()
    }
}

fn request(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text("service.name", service)],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

/// A request with these metadata entries (`authorization`, `x-api-key`, `x-skein-project`).
fn with_metadata<T>(message: T, metadata: &[(&'static str, &str)]) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    for (key, value) in metadata {
        request
            .metadata_mut()
            .insert(*key, value.parse().expect("metadata value"));
    }
    request
}

async fn export(
    client: &mut TraceServiceClient<Channel>,
    message: ExportTraceServiceRequest,
    metadata: &[(&'static str, &str)],
) -> Result<ExportTraceServiceResponse, tonic::Status> {
    client
        .export(with_metadata(message, metadata))
        .await
        .map(tonic::Response::into_inner)
}

fn hex(byte: u8, len: usize) -> String {
    format!("{byte:02x}").repeat(len)
}

/// Runs a Python script of the test venv with these environment variables (and no OTEL_* of
/// the caller's); returns its stdout lines, panicking with its output if it fails.
fn run_python(script: &str, args: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let mut command = Command::new(python());
    command
        .arg(tests_dir().join("python").join(script))
        .args(args);
    run(command, env)
}

fn run(mut command: Command, env: &[(&str, &str)]) -> Vec<String> {
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") {
            command.env_remove(key);
        }
    }
    let output = command
        .envs(env.iter().copied())
        .output()
        .expect("run the client");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{command:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout.lines().map(str::to_string).collect()
}

/// A trace's spans by name, read with an API key.
async fn spans_with_key(
    collector: &Collector,
    trace: &str,
    key: &str,
) -> std::collections::BTreeMap<String, Value> {
    let skeleton = get_json_with_key(&collector.url(&format!("/api/v1/traces/{trace}")), key).await;
    let mut out = std::collections::BTreeMap::new();
    for s in skeleton["spans"].as_array().expect("spans") {
        let id = s[0].as_str().expect("span id");
        let span = get_json_with_key(
            &collector.url(&format!("/api/v1/traces/{trace}/spans/{id}")),
            key,
        )
        .await;
        out.insert(span["name"].as_str().expect("name").to_string(), span);
    }
    out
}

/// Polls the trace with a key until it has `count` spans.
async fn wait_for_trace_with_key(collector: &Collector, trace: &str, key: &str, count: usize) {
    for _ in 0..100 {
        let response = client()
            .get(collector.url(&format!("/api/v1/traces/{trace}")))
            .header("x-api-key", key)
            .send()
            .await
            .expect("GET");
        if response.status().is_success() {
            let body: Value = response.json().await.expect("JSON");
            if body["spans"].as_array().map_or(0, Vec::len) >= count {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("trace {trace} did not arrive with {count} spans");
}

fn assert_python_trace(spans: &std::collections::BTreeMap<String, Value>, service: &str) {
    let root = &spans["plan_trip"];
    assert_eq!(root["parent_span_id"], Value::Null, "{root}");
    assert_eq!(root["service"], service);
    assert_eq!(root["session_id"], "grpc-session-1", "{root}");
    let llm = &spans["chat gpt-4o-mini"];
    assert_eq!(llm["parent_span_id"], root["span_id"]);
    assert_eq!(llm["span_type"], "llm");
    assert_eq!(llm["model"], "gpt-4o-mini");
    assert_eq!(llm["input_tokens"], 12);
    assert_eq!(llm["output_tokens"], 5);
    assert_eq!(spans["book_hotel"]["parent_span_id"], root["span_id"]);
}

#[tokio::test]
async fn the_python_grpc_exporter_sends_with_gzip_and_keys_in_headers() {
    let dir = tempfile::tempdir().unwrap();
    skein_cli(dir.path(), &["project", "create", "travel"]);
    let key = skein_cli(dir.path(), &["key", "create", "--project", "travel"]);
    let collector = Collector::start_in(dir, &[]);
    let endpoint = grpc_url(&collector);

    // gzip, the key as `authorization: Bearer` (headers are URL-encoded in the variable).
    let bearer = format!("authorization=Bearer%20{key}");
    let lines = run_python(
        "otlp_grpc_send.py",
        &["travel-agent-gzip"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_HEADERS", &bearer),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ],
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some("SUCCESS"),
        "{lines:?}"
    );
    let gzip_trace = lines[0].clone();

    // Uncompressed, the key as `x-api-key`, with the trace-specific variables.
    let api_key = format!("x-api-key={key}");
    let lines = run_python(
        "otlp_grpc_send.py",
        &["travel-agent"],
        &[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", &api_key),
        ],
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some("SUCCESS"),
        "{lines:?}"
    );
    let plain_trace = lines[0].clone();

    for (trace, service) in [
        (&gzip_trace, "travel-agent-gzip"),
        (&plain_trace, "travel-agent"),
    ] {
        // Acknowledged means stored: the trace is there at once.
        let spans = spans_with_key(&collector, trace, &key).await;
        assert_eq!(spans.len(), 3, "{spans:?}");
        assert_python_trace(&spans, service);
        assert_eq!(spans["plan_trip"]["project"], "travel", "the key's project");
    }
    let page = get_json_with_key(&collector.url("/api/v1/traces?project=travel"), &key).await;
    assert_eq!(page["total"], 2, "{page}");

    // Without the key the exporter is refused (UNAUTHENTICATED is not retried): nothing stored.
    let output = Command::new(python())
        .arg(tests_dir().join("python/otlp_grpc_send.py"))
        .arg("no-key")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env_remove("OTEL_EXPORTER_OTLP_HEADERS")
        .output()
        .expect("run python");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("FAILURE"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let page = get_json_with_key(&collector.url("/api/v1/traces?project=travel"), &key).await;
    assert_eq!(page["total"], 2, "{page}");
}

#[tokio::test]
async fn opentelemetry_instrument_with_its_defaults_reaches_skein() {
    let collector = Collector::start();
    let venv_bin = python().parent().expect("venv bin").to_path_buf();
    let mut command = Command::new(venv_bin.join("opentelemetry-instrument"));
    command
        .arg(python())
        .arg(tests_dir().join("python/instrumented_app.py"));
    // What a user sets: the service's name, and where Skein's gRPC port is (the default,
    // localhost:4317, belongs to whatever else runs on this machine during the tests).
    let lines = run(
        command,
        &[
            ("OTEL_SERVICE_NAME", "instrumented-app"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &grpc_url(&collector)),
            ("PATH", &std::env::var("PATH").unwrap_or_default()),
        ],
    );
    let trace = lines.last().expect("the trace id").clone();
    let page = wait_for_traces(&collector, "", 1).await;
    assert_eq!(page["traces"][0]["trace_id"], trace, "{page}");
    assert_eq!(page["traces"][0]["root_name"], "handle_request");
    assert_eq!(
        page["traces"][0]["services"],
        serde_json::json!(["instrumented-app"])
    );
    let spans = spans_by_name(&collector, &trace).await;
    assert_eq!(spans.len(), 2, "{spans:?}");
    assert_eq!(
        spans["answer"]["parent_span_id"],
        spans["handle_request"]["span_id"]
    );
    assert_eq!(
        spans["handle_request"]["attributes"]["app.request"],
        "hello"
    );
}

#[tokio::test]
async fn nodes_grpc_exporter_sends_with_gzip_and_a_key() {
    let node_dir = tests_dir().join("node");
    assert!(
        node_dir
            .join("node_modules/@opentelemetry/exporter-trace-otlp-grpc")
            .is_dir(),
        "the Node clients are not installed in {}: run `bash scripts/setup.sh node`",
        node_dir.display()
    );
    let dir = tempfile::tempdir().unwrap();
    skein_cli(dir.path(), &["project", "create", "support"]);
    let key = skein_cli(dir.path(), &["key", "create", "--project", "support"]);
    let collector = Collector::start_in(dir, &[]);
    let mut command = Command::new("node");
    command
        .current_dir(&node_dir)
        .arg("send_grpc.js")
        .arg(grpc_url(&collector))
        .arg("support-router")
        .arg(&key);
    let lines = run(command, &[]);
    assert_eq!(
        lines.last().map(String::as_str),
        Some("SUCCESS"),
        "{lines:?}"
    );
    let trace = lines[0].clone();
    wait_for_trace_with_key(&collector, &trace, &key, 2).await;
    let spans = spans_with_key(&collector, &trace, &key).await;
    let root = &spans["route_ticket"];
    assert_eq!(root["service"], "support-router");
    assert_eq!(root["project"], "support");
    let tool = &spans["lookup_customer"];
    assert_eq!(tool["parent_span_id"], root["span_id"]);
    assert_eq!(tool["span_type"], "tool", "{tool}");
}

#[tokio::test]
async fn bad_data_is_invalid_argument_and_bad_ids_a_partial_success() {
    let collector = Collector::start_with(&["--max-request-bytes", "4096"]);
    let mut client = grpc_client(&collector).await;

    // One span with a zero trace id among good ones: the rest is stored and the one counted.
    let mut bad = span(0, 9, "bad");
    bad.trace_id = vec![0; 16];
    let answer = export(
        &mut client,
        request("svc", vec![span(1, 1, "good-root"), bad]),
        &[],
    )
    .await
    .expect("a partial success is OK");
    let partial = answer.partial_success.expect("partial_success");
    assert_eq!(partial.rejected_spans, 1);
    assert!(partial.error_message.contains("trace_id"), "{partial:?}");
    let spans = spans_by_name(&collector, &hex(1, 16)).await;
    assert!(spans.contains_key("good-root"), "{spans:?}");

    // A whole answer: no partial_success.
    let answer = export(&mut client, request("svc", vec![span(2, 2, "fine")]), &[])
        .await
        .expect("OK");
    assert_eq!(answer.partial_success, None);

    // Nothing acceptable.
    let mut only_bad = span(3, 3, "bad");
    only_bad.span_id = vec![1, 2, 3];
    let status = export(&mut client, request("svc", vec![only_bad]), &[])
        .await
        .expect_err("no span could be accepted");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("span_id"), "{status:?}");

    // Bytes that are not an OTLP message.
    let mut raw = tonic::client::Grpc::new(
        Channel::from_shared(grpc_url(&collector))
            .unwrap()
            .connect()
            .await
            .unwrap(),
    );
    raw.ready().await.unwrap();
    let status = raw
        .unary::<_, ExportTraceServiceResponse, _>(
            tonic::Request::new(Bytes::from_static(b"\x0a\xff\xff\xff\xff\xff")),
            EXPORT_PATH.parse().unwrap(),
            RawCodec,
        )
        .await
        .expect_err("garbage");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().contains("invalid OTLP protobuf"),
        "{status:?}"
    );

    // Over --max-request-bytes: refused whole, not retried.
    let mut big = span(4, 4, "big");
    big.attributes = vec![text("input.value", &"x".repeat(8000))];
    let status = export(&mut client, request("svc", vec![big.clone()]), &[])
        .await
        .expect_err("too large");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("4096"), "{status:?}");

    // gzip: small on the wire is fine...
    let mut gzip = grpc_client(&collector)
        .await
        .send_compressed(CompressionEncoding::Gzip);
    export(&mut gzip, request("svc", vec![big]), &[])
        .await
        .expect("8 KB compress to far less than 4 KB");
    let spans = spans_by_name(&collector, &hex(4, 16)).await;
    assert_eq!(
        spans["big"]["attributes"]["input.value"]
            .as_str()
            .map(str::len),
        Some(8000)
    );
    // ...but not past the decoded limit (four times the request limit).
    let mut bomb = span(5, 5, "bomb");
    bomb.attributes = vec![text("input.value", &"x".repeat(100_000))];
    let status = export(&mut gzip, request("svc", vec![bomb]), &[])
        .await
        .expect_err("a gzip bomb");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("decompresses"), "{status:?}");
    let page = get_json(&collector.url("/api/v1/traces")).await;
    assert_eq!(page["total"], 3, "{page}");
}

#[tokio::test]
async fn keys_and_projects_over_grpc_are_checked_like_over_http() {
    let dir = tempfile::tempdir().unwrap();
    skein_cli(dir.path(), &["project", "create", "team-a"]);
    skein_cli(dir.path(), &["project", "create", "team-b"]);
    let key_a = skein_cli(dir.path(), &["key", "create", "--project", "team-a"]);
    let key_b = skein_cli(dir.path(), &["key", "create", "--project", "team-b"]);
    let collector = Collector::start_in(dir, &[]);
    let mut client = grpc_client(&collector).await;
    let bearer_a = format!("Bearer {key_a}");

    let status = export(&mut client, request("svc", vec![span(1, 1, "s")]), &[])
        .await
        .expect_err("no key");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains("API key"), "{status:?}");
    let status = export(
        &mut client,
        request("svc", vec![span(1, 1, "s")]),
        &[("authorization", "Bearer not-a-key")],
    )
    .await
    .expect_err("a wrong key");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    // A key naming another project.
    let status = export(
        &mut client,
        request("svc", vec![span(1, 1, "s")]),
        &[("authorization", &bearer_a), ("x-skein-project", "team-b")],
    )
    .await
    .expect_err("another project");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("team-b"), "{status:?}");

    // Its own project, by header or not at all; the other key its own.
    export(
        &mut client,
        request("svc", vec![span(1, 1, "a-named")]),
        &[("authorization", &bearer_a), ("x-skein-project", "team-a")],
    )
    .await
    .expect("own project");
    export(
        &mut client,
        request("svc", vec![span(2, 2, "a-unnamed")]),
        &[("x-api-key", &key_a)],
    )
    .await
    .expect("no project named");
    export(
        &mut client,
        request("svc", vec![span(3, 3, "b")]),
        &[("x-api-key", &key_b)],
    )
    .await
    .expect("key b");
    let page = get_json_with_key(&collector.url("/api/v1/traces"), &key_a).await;
    assert_eq!(page["total"], 2, "{page}");
    let page = get_json_with_key(&collector.url("/api/v1/traces"), &key_b).await;
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["traces"][0]["root_name"], "b");
}

#[tokio::test]
async fn without_keys_the_project_header_names_the_project() {
    let collector = Collector::start();
    let mut client = grpc_client(&collector).await;
    export(
        &mut client,
        request("svc", vec![span(1, 1, "named")]),
        &[("x-skein-project", "research")],
    )
    .await
    .expect("OK");
    let page = get_json(&collector.url("/api/v1/traces?project=research")).await;
    assert_eq!(page["total"], 1, "{page}");
}

/// Opens a raw HTTP/2 Export call and sends `sent` bytes of a message announced as `announced`
/// bytes, then holds it open: the collector holds those bytes against its budget meanwhile.
async fn half_sent_call(addr: &str, announced: u32, sent: usize) -> HalfSent {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (client, connection) = h2::client::handshake(tcp).await.expect("HTTP/2");
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut client = client.ready().await.expect("ready");
    let request = axum::http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{EXPORT_PATH}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let (response, mut stream) = client.send_request(request, false).expect("send");
    let mut data = vec![0u8; 5 + sent];
    data[1..5].copy_from_slice(&announced.to_be_bytes());
    stream.send_data(Bytes::from(data), false).expect("data");
    HalfSent {
        _client: client,
        response,
        _stream: stream,
        driver,
    }
}

/// A call held open; dropping it closes its connection.
struct HalfSent {
    _client: h2::client::SendRequest<Bytes>,
    response: h2::client::ResponseFuture,
    _stream: h2::SendStream<Bytes>,
    driver: tokio::task::JoinHandle<()>,
}

impl Drop for HalfSent {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

#[tokio::test]
async fn over_the_inflight_budget_is_resource_exhausted_with_retry_info() {
    let collector = Collector::start_with(&[
        "--max-request-bytes",
        "4096",
        "--max-inflight-bytes",
        "4096",
    ]);
    let url = grpc_url(&collector);
    let addr = url.trim_start_matches("http://").to_string();
    let mut held = half_sent_call(&addr, 4000, 3000).await;
    // Let the collector take the held call in before another one competes for the budget.
    let early = tokio::time::timeout(Duration::from_millis(500), &mut held.response).await;
    assert!(early.is_err(), "the held call was answered: {early:?}");
    let mut client = grpc_client(&collector).await;
    let mut medium = span(7, 7, "medium");
    medium.attributes = vec![text("input.value", &"y".repeat(1500))];
    let message = request("svc", vec![medium]);

    // Once the held call's bytes are counted, a call that does not fit is refused.
    let mut refusal = None;
    for _ in 0..50 {
        match export(&mut client, message.clone(), &[]).await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(status) => {
                refusal = Some(status);
                break;
            }
        }
    }
    let status = refusal.expect("the budget was never spent");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("--max-inflight-bytes"),
        "{status:?}"
    );
    let retry = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay)
        .expect("a RetryInfo detail");
    assert!(retry >= Duration::from_secs(1), "{retry:?}");

    // The held call gives up: its bytes are freed and the refused call, retried, is stored.
    drop(held);
    let mut stored = false;
    for _ in 0..50 {
        if export(&mut client, message.clone(), &[]).await.is_ok() {
            stored = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(stored, "the budget was not given back");
    let spans = spans_by_name(&collector, &hex(7, 16)).await;
    assert!(spans.contains_key("medium"), "{spans:?}");
}

#[tokio::test]
async fn otlp_http_protobuf_errors_are_google_rpc_status_and_json_ones_json() {
    let dir = tempfile::tempdir().unwrap();
    skein_cli(dir.path(), &["project", "create", "team-a"]);
    let key = skein_cli(dir.path(), &["key", "create", "--project", "team-a"]);
    let collector = Collector::start_in(dir, &[]);
    let post = |content_type: &'static str, body: Vec<u8>, key: Option<String>| {
        let url = collector.otlp_traces.clone();
        async move {
            let mut request = client()
                .post(url)
                .header("content-type", content_type)
                .body(body);
            if let Some(key) = key {
                request = request.header("x-api-key", key);
            }
            let response = request.send().await.expect("POST");
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            (status, content_type, response.bytes().await.expect("body"))
        }
    };

    // Bad protobuf: 400, a google.rpc.Status saying INVALID_ARGUMENT and why.
    let (status, content_type, body) = post(
        "application/x-protobuf",
        b"\x0a\xff\xff\xff\xff\xff".to_vec(),
        Some(key.clone()),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(content_type, "application/x-protobuf");
    let rpc = tonic_types::pb::Status::decode(body).expect("a google.rpc.Status");
    assert_eq!(rpc.code, Code::InvalidArgument as i32, "{rpc:?}");
    assert!(rpc.message.contains("invalid OTLP protobuf"), "{rpc:?}");

    // No key: 401, UNAUTHENTICATED.
    let good = request("svc", vec![span(1, 1, "s")]).encode_to_vec();
    let (status, content_type, body) = post("application/x-protobuf", good.clone(), None).await;
    assert_eq!(status, 401);
    assert_eq!(content_type, "application/x-protobuf");
    let rpc = tonic_types::pb::Status::decode(body).expect("a google.rpc.Status");
    assert_eq!(rpc.code, Code::Unauthenticated as i32, "{rpc:?}");
    assert!(rpc.message.contains("API key"), "{rpc:?}");

    // JSON requests keep the JSON shape.
    let (status, content_type, body) =
        post("application/json", b"{not json".to_vec(), Some(key.clone())).await;
    assert_eq!(status, 400);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let json: Value = serde_json::from_slice(&body).expect("JSON");
    assert!(
        json["error"]
            .as_str()
            .is_some_and(|e| e.contains("invalid OTLP JSON")),
        "{json}"
    );
    let (status, _, body) = post("application/json", b"{}".to_vec(), None).await;
    assert_eq!(status, 401);
    let json: Value = serde_json::from_slice(&body).expect("JSON");
    assert!(json["error"].is_string(), "{json}");

    // And a good protobuf request is answered in protobuf.
    let (status, content_type, body) = post("application/x-protobuf", good, Some(key)).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/x-protobuf");
    ExportTraceServiceResponse::decode(body).expect("an ExportTraceServiceResponse");
}

#[test]
fn a_taken_grpc_address_fails_clearly_and_off_serves_none() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_skein"))
        .args([
            "serve",
            "--http-addr",
            "127.0.0.1:0",
            "--otlp-addr",
            "off",
            "--otlp-grpc-addr",
            &addr,
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run skein");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&addr) && stderr.contains("--otlp-grpc-addr"),
        "{stderr}"
    );

    let collector = Collector::start_with(&["--otlp-grpc-addr", "off"]);
    assert_eq!(collector.otlp_grpc, None);
}

/// Sends bytes as they are, for messages no OTLP client would send.
#[derive(Clone, Copy)]
struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = Bytes;
    type Decode = ExportTraceServiceResponse;
    type Encoder = RawEncoder;
    type Decoder = tonic_prost::ProstDecoder<ExportTraceServiceResponse>;

    fn encoder(&mut self) -> Self::Encoder {
        RawEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        tonic_prost::ProstDecoder::new(tonic::codec::BufferSettings::default())
    }
}

struct RawEncoder;

impl tonic::codec::Encoder for RawEncoder {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Bytes,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), Self::Error> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}
