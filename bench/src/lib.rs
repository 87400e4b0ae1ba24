//! Skein's benchmarks as a library, so the smoke tests run the same code as the real runs.

pub mod browser;
pub mod bundle;
pub mod collector;
pub mod ingest;
mod ingest_pool;
pub mod machine;
pub mod queries;
pub mod report;
