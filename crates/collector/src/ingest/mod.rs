//! Ingest: one file per protocol, each turning what a client sends into Skein's `Span`s.

pub mod body;
pub mod grpc;
pub mod limits;
pub mod otlp;
pub mod semconv;
