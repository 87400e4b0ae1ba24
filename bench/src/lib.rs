//! Skein's benchmarks as a library, so the smoke test runs the same code as the real run.

pub mod ingest;
pub mod machine;
pub mod report;
