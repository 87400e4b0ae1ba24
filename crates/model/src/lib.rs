//! Skein's shared model: the types that cross the wire between the collector and the
//! dashboard, and pure functions over them. No IO; compiles for wasm32 and native.

pub mod catalog;
pub mod cohort;
pub mod cohort_fold;
pub mod cohort_format;
pub mod cohort_scope;
pub mod feedback;
pub mod filter;
pub mod format;
pub mod live;
pub mod metric_answer;
pub mod metric_bucket;
pub mod metric_fold;
pub mod metric_scope;
pub mod metrics;
pub mod num;
pub mod pairwise;
pub mod pairwise_queue;
pub mod palette;
pub mod payload;
pub mod query;
pub mod query_string;
pub mod queue;
pub mod random;
pub mod recent;
pub mod scale;
pub mod score_config;
pub mod service_graph;
pub mod sessions;
pub mod skeleton_build;
pub mod skeleton_head;
pub mod skeleton_id;
pub mod skeleton_order;
pub mod skeleton_wire;
pub mod sort;
pub mod span;
pub mod span_list;
pub mod span_pieces;
pub mod stats;
pub mod text_diff;
pub mod timing;
pub mod trace;
pub mod trace_diff;
pub mod trace_fold;
pub mod trace_search;
pub mod trace_tags;
pub mod tree;

pub use catalog::{
    ErrorBody, FieldValueInfo, ProjectInfo, ServiceInfo, TagKeyInfo, TagValueInfo, ValueField,
};
pub use feedback::{Feedback, FeedbackList, FeedbackUpdate, NewFeedback};
pub use query::{FilterPosition, QueryError, StatusFilter, TagFilter, TraceQuery, TraceSort};
pub use score_config::{
    Category, NewScoreConfig, ScoreConfig, ScoreConfigList, ScoreKind, ScoreSettings,
};
pub use span::{SpanEvent, SpanKind, SpanLink, SpanStatus, SpanType};
pub use trace::{SkeletonSpan, SkeletonSpanInput, TracePage, TraceSkeleton, TraceSummary};

/// The project a span or query belongs to when none is named.
pub const DEFAULT_PROJECT: &str = "default";

/// The header that names the project on ingest and query requests.
pub const PROJECT_HEADER: &str = "x-skein-project";
