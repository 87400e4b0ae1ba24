//! Export: stored data written in the formats other tools read, and the `skein export`
//! command that fetches them from a running collector.

pub mod client;
pub mod list;
pub mod otlp;
pub mod span_list;
pub mod span_otlp;
