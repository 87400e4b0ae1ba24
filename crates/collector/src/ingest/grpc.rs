//! OTLP/gRPC traces: the `TraceService/Export` call (what `opentelemetry-instrument` and the
//! OTel SDKs' default exporters send to port 4317). This module only adapts gRPC to what the
//! HTTP side already does, in the same order: the key check (`auth`) on the call's metadata
//! before a byte of the message is read, the message read within `--max-request-bytes` and the
//! budget of bodies held at once (`budget`), its compression (`grpc-encoding` gzip or deflate)
//! undone within the decoded limit (`body`), then the OTLP pipeline `otlp::store_request`
//! (content limits, project, conversion, store; answered once durably stored). Failures are
//! gRPC statuses made in one place (`error`).

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::{self, HeaderMap};
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceService;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tokio::sync::OwnedSemaphorePermit;
use tonic::codec::{Codec, DecodeBuf, Decoder};
use tonic_prost::{ProstCodec, ProstEncoder};

use super::body::{decompress, BodyLimits};
use super::otlp::{decode_protobuf, store_request};
use crate::auth::KeyCache;
use crate::budget::BodyBudget;
use crate::context::{AppState, KeyScope};
use crate::error::ApiError;

/// A gRPC message's frame header: a compressed flag and a 4-byte big-endian length.
const FRAME_HEADER: usize = 5;

/// The path of the one call served.
const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// The TraceService as tonic serves it, behind the checks every OTLP request passes.
#[derive(Clone)]
pub struct OtlpGrpc {
    export: Arc<Export>,
    keys: Arc<KeyCache>,
    budget: Arc<BodyBudget>,
    limits: BodyLimits,
}

impl OtlpGrpc {
    pub fn new(state: AppState, keys: Arc<KeyCache>, budget: Arc<BodyBudget>) -> OtlpGrpc {
        let limits = state.limits;
        OtlpGrpc {
            export: Arc::new(Export { state }),
            keys,
            budget,
            limits,
        }
    }

    async fn call_checked<B>(self, request: http::Request<B>) -> http::Response<tonic::body::Body>
    where
        B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: std::fmt::Display,
    {
        let (mut parts, body) = request.into_parts();
        if parts.version < http::Version::HTTP_2 {
            // An OTLP/HTTP exporter pointed at the gRPC port: say so, rather than reset.
            let response = ApiError::UnsupportedMediaType(
                "this address serves OTLP over gRPC (HTTP/2); send OTLP/HTTP (protobuf or JSON) \
                 to the OTLP/HTTP address (--otlp-addr, 4318 by default) at /v1/traces, or set \
                 OTEL_EXPORTER_OTLP_PROTOCOL=grpc"
                    .into(),
            )
            .into_response_for(&parts.headers);
            return response.map(tonic::body::Body::new);
        }
        if parts.uri.path() != EXPORT_PATH {
            return tonic::Status::unimplemented(format!(
                "{} is not served here; OTLP/gRPC traces are {EXPORT_PATH}",
                parts.uri.path()
            ))
            .into_http();
        }
        // Only the key check sets a scope.
        parts.extensions.remove::<KeyScope>();
        let scope = match self.keys.scope(None, &parts.headers).await {
            Ok(scope) => scope,
            Err(e) => return e.into_grpc_status().into_http(),
        };
        let (message, held) =
            match read_message(body, &parts.headers, &self.budget, self.limits).await {
                Ok(read) => read,
                Err(e) => return e.into_grpc_status().into_http(),
            };
        parts.extensions.insert(scope);
        parts.headers.remove("grpc-encoding");
        // Messages reach tonic whole, decompressed and within the decoded limit.
        let mut grpc = tonic::server::Grpc::new(ExportCodec).apply_max_message_size_config(
            Some(
                self.limits
                    .max_decoded_bytes
                    .max(self.limits.max_body_bytes),
            ),
            None,
        );
        let mut response = grpc
            .unary(
                ExportCall(self.export.clone()),
                http::Request::from_parts(parts, Full::new(message)),
            )
            .await;
        // The message counts against the budget until its answer is made.
        drop(held);
        response.headers_mut().insert(
            "grpc-accept-encoding",
            http::HeaderValue::from_static("gzip,deflate,identity"),
        );
        response
    }
}

impl<B> tonic::codegen::Service<http::Request<B>> for OtlpGrpc
where
    B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: std::fmt::Display,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = tonic::codegen::BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.call_checked(request).await) })
    }
}

/// Reads a unary call's one message, counting its bytes against the budget as they arrive
/// (no more than the request limit: past it the read stops), and returns it framed and
/// uncompressed, with the budget it holds.
async fn read_message<B>(
    mut body: B,
    headers: &HeaderMap,
    budget: &BodyBudget,
    limits: BodyLimits,
) -> Result<(Bytes, Option<OwnedSemaphorePermit>), ApiError>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let max_wire = limits.max_body_bytes.saturating_add(FRAME_HEADER);
    let mut held: Option<OwnedSemaphorePermit> = None;
    let mut read = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| ApiError::BadRequest(format!("could not read the gRPC message: {e}")))?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        let charged = chunk.len().min((max_wire + 1).saturating_sub(read.len()));
        if let Some(permit) = budget.take(charged).map_err(|over| over.to_api_error())? {
            match held.as_mut() {
                Some(all) => all.merge(permit),
                None => held = Some(permit),
            }
        }
        if read.len() + chunk.len() > max_wire {
            return Err(ApiError::PayloadTooLarge(format!(
                "the gRPC message is larger than the limit of {} bytes",
                limits.max_body_bytes
            )));
        }
        read.extend_from_slice(&chunk);
    }
    let read = read.freeze();
    if read.len() < FRAME_HEADER {
        return Err(ApiError::BadRequest(
            "the call carries no complete gRPC message".into(),
        ));
    }
    let compressed = read[0];
    let length = u32::from_be_bytes([read[1], read[2], read[3], read[4]]) as usize;
    if length != read.len() - FRAME_HEADER {
        return Err(ApiError::BadRequest(format!(
            "the gRPC message announces {length} bytes but carries {}; Export takes exactly one \
             message",
            read.len() - FRAME_HEADER
        )));
    }
    let message = match compressed {
        0 => return Ok((read, held)),
        1 => {
            let encoding = headers
                .get("grpc-encoding")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "the gRPC message is marked compressed but the call names no \
                         grpc-encoding"
                            .into(),
                    )
                })?;
            decompress(
                "grpc-encoding",
                encoding,
                read.slice(FRAME_HEADER..),
                limits,
            )?
        }
        flag => {
            return Err(ApiError::BadRequest(format!(
                "invalid gRPC compressed flag {flag}"
            )))
        }
    };
    let length = u32::try_from(message.len()).map_err(|_| {
        ApiError::PayloadTooLarge("the gRPC message decompresses to more than 4 GiB".into())
    })?;
    let mut framed = BytesMut::with_capacity(FRAME_HEADER + message.len());
    framed.extend_from_slice(&[0]);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(&message);
    Ok((framed.freeze(), held))
}

/// The codec of the Export call: tonic's prost encoder for answers, and for requests the
/// OTLP pipeline's own protobuf decoder, so that both protocols decode alike and bad data is
/// INVALID_ARGUMENT (tonic's decoder would say INTERNAL).
struct ExportCodec;

impl Codec for ExportCodec {
    type Encode = ExportTraceServiceResponse;
    type Decode = ExportTraceServiceRequest;
    type Encoder = ProstEncoder<ExportTraceServiceResponse>;
    type Decoder = ExportDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<ExportTraceServiceResponse, ExportTraceServiceRequest>::default().encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        ExportDecoder
    }
}

struct ExportDecoder;

impl Decoder for ExportDecoder {
    type Item = ExportTraceServiceRequest;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Self::Error> {
        decode_protobuf(src)
            .map(Some)
            .map_err(ApiError::into_grpc_status)
    }
}

/// One Export call, handed to the service.
struct ExportCall(Arc<Export>);

impl tonic::server::UnaryService<ExportTraceServiceRequest> for ExportCall {
    type Response = ExportTraceServiceResponse;
    type Future = tonic::codegen::BoxFuture<tonic::Response<Self::Response>, tonic::Status>;

    fn call(&mut self, request: tonic::Request<ExportTraceServiceRequest>) -> Self::Future {
        let export = self.0.clone();
        Box::pin(async move { export.export(request).await })
    }
}

/// The TraceService itself: the decoded request into the OTLP pipeline.
pub struct Export {
    state: AppState,
}

#[tonic::async_trait]
impl TraceService for Export {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let scope = request
            .extensions()
            .get::<KeyScope>()
            .cloned()
            .ok_or_else(|| {
                ApiError::Forbidden("this call carries no checked API key scope".into())
                    .into_grpc_status()
            })?;
        let headers = request.metadata().clone().into_headers();
        store_request(&self.state, request.into_inner(), &scope, &headers)
            .await
            .map(tonic::Response::new)
            .map_err(ApiError::into_grpc_status)
    }
}
