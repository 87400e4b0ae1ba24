//! OTLP/gRPC answers, to a real gRPC client (tonic) over the wire: the status codes the OTLP
//! specification gives (INVALID_ARGUMENT for bad or over-limit data, UNAUTHENTICATED,
//! PERMISSION_DENIED, RESOURCE_EXHAUSTED with RetryInfo over the in-flight budget) and
//! `partial_success`; keys and projects checked as over HTTP; and OTLP/HTTP protobuf errors as a
//! `google.rpc.Status`, JSON ones as JSON.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{client, get_json, get_json_with_key, skein_cli, spans_by_name, Collector};
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
async fn grpc_client(collector: &Collector) -> TraceServiceClient<Channel> {
    TraceServiceClient::connect(collector.grpc_url())
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
        Channel::from_shared(collector.grpc_url())
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
    let url = collector.grpc_url();
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
