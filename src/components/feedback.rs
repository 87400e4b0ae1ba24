//! Feedback from the browser: rate a span (a run) with thumbs up/down or a score, under a key,
//! with an optional comment; list, edit and delete what is there; badges on spans.
//!
//! A trace's feedback lives in one `TraceFeedback` store (`GET /api/v1/feedback?trace_id=`),
//! provided as context by the trace page, so that the rating widget and the badges in the tree
//! show the same records. Changes are optimistic: a new, edited or deleted record shows at once
//! and is rolled back, with a visible error, if the collector refuses or cannot be reached.
//! Records posted by code (`create_feedback(...)`) and by the browser are the same records and
//! show the same way; the browser's carry `source: "app"`.

mod badge;
pub mod configs;
mod icons;
pub mod rate;
pub mod score;
mod store;
mod widget;

pub use badge::{FeedbackBadge, FeedbackSummary};
pub use store::TraceFeedback;
pub use widget::SpanFeedback;
