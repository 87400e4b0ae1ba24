//! Export: stored data written in the formats other tools read.

pub mod list;
pub mod otlp;
