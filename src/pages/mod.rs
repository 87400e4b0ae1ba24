//! One module per page.

pub mod cohorts;
pub mod compare;
pub mod metrics;
pub mod not_found;
pub mod pairwise_review;
pub mod queue_review;
pub mod queues;
mod review;
pub mod score_configs;
pub mod services;
pub mod session;
pub mod sessions;
pub mod spans;
pub mod trace;
pub mod traces;
pub mod user;
pub mod users;
