//! Tracing set-up: one tracer provider per process, exporting OTLP/HTTP protobuf in batches,
//! and the propagation of trace context through HTTP headers.
//!
//! The exporter follows the standard environment variables: `OTEL_EXPORTER_OTLP_ENDPOINT`
//! (default `http://localhost:4318`; Skein's `/v1/traces` is appended),
//! `OTEL_EXPORTER_OTLP_HEADERS` (`x-skein-project=my-team` picks a project),
//! `OTEL_BSP_SCHEDULE_DELAY` (ms between batches, default 5000).

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry::Context;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;

use crate::xheaders::XHeaderPropagator;

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(String),
}

/// A tracer provider for `service`, exporting in batches (a background thread, so the
/// blocking HTTP client never runs on the async runtime).
pub fn init(service: &str) -> Result<SdkTracerProvider, TelemetryError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()
        .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(service.to_string())
                .build(),
        )
        .build())
}

/// What a service accepts: W3C `traceparent` or the seed's `X-Trace-ID` headers (when both
/// are sent, the X- headers, applied last, win).
pub fn incoming_propagator() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(XHeaderPropagator::new()),
    ])
}

/// How a call propagates its trace context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// W3C Trace Context: `traceparent` (and `tracestate`).
    TraceContext,
    /// The seed's `X-Trace-ID`, `X-Span-ID`, `X-Parent-Span-ID` only.
    XHeaders,
}

impl Propagation {
    pub fn inject(self, cx: &Context, headers: &mut HeaderMap) {
        let mut injector = HeaderInjector(headers);
        match self {
            Propagation::TraceContext => {
                TraceContextPropagator::new().inject_context(cx, &mut injector)
            }
            Propagation::XHeaders => XHeaderPropagator::new().inject_context(cx, &mut injector),
        }
    }
}

/// The parent context an incoming request names (or an empty context), and which header
/// form carried it.
pub fn extract(headers: &HeaderMap) -> (Context, &'static str) {
    let cx = incoming_propagator().extract_with_context(&Context::new(), &HeaderExtractor(headers));
    let form = if headers.contains_key(crate::xheaders::TRACE_ID_HEADER) {
        "x-headers"
    } else if headers.contains_key("traceparent") {
        "traceparent"
    } else {
        "none"
    };
    (cx, form)
}

pub struct HeaderInjector<'a>(pub &'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}
