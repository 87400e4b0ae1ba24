//! The seed tutorial's microservices as real processes: an API gateway that verifies the user
//! with an auth service, runs the agent service (which calls a model service and a tool
//! service, which in turn asks a cache service and, on a miss, a search service) and records
//! the request with an analytics service.
//!
//! Every service is traced with the OpenTelemetry Rust SDK and exports OTLP/HTTP (protobuf) to
//! Skein. Calls carry W3C `traceparent`, except the tool service → search service hop, which
//! uses the seed's own `X-Trace-ID` / `X-Span-ID` / `X-Parent-Span-ID` headers, continued on
//! the other side by [`xheaders::XHeaderPropagator`]. One request through the gateway is one
//! trace across all eight services.

mod routes;
pub mod services;
pub mod telemetry;
pub mod xheaders;
