//! Where spans, feedback and keys live: the contract every storage engine implements, in what
//! the product needs rather than how one engine does it. Callers hold an `Arc<dyn Store>`.
//!
//! - `SpanStore`: spans in, whole traces and pieced spans out;
//! - `QueryStore`: the trace list, a trace's skeleton, one span, the catalog and metrics;
//! - `JourneyStore`: sessions, users and the service graph;
//! - `FeedbackStore`: feedback on runs;
//! - `ScoreConfigStore` (`score_configs`): what feedback keys mean, per project;
//! - `QueueStore` (`queues`): annotation queues, their items and reviewers' leases;
//! - `PairwiseStore` (`pairwise`): blind pairwise review queues, their pairs and judgements;
//! - `KeyStore` (`keys`): projects and API keys.
//!
//! The rules every engine applies live outside the engines, in `skein_model`: how a trace's
//! summary is folded from its spans (`trace_fold`), how a pieced span is folded
//! (`span_pieces`), how a metric is aggregated (`metric_fold`). One conformance suite
//! (`testsuite`) runs against every engine. Each engine is one folder (`sqlite/`) and converts
//! its driver's errors into `StoreError` there.

pub mod clickhouse;
mod error;
mod filter_sql;
pub mod keys;
mod leased;
pub mod pairwise;
pub mod queues;
pub mod score_configs;
pub mod sqlite;
#[cfg(test)]
pub mod testsuite;

use async_trait::async_trait;
use skein_model::cohort::{CohortComparison, CohortQuery};
use skein_model::metrics::{MetricQuery, MetricResponse};
use skein_model::service_graph::{ServiceGraph, ServiceGraphQuery};
use skein_model::sessions::{SessionDetail, SessionPage, SessionQuery, UserDetail, UserPage};
use skein_model::skeleton_head::SkeletonHead;
use skein_model::span::Span;
use skein_model::span_list::{SpanPage, SpanQuery};
use skein_model::{
    Feedback, FeedbackUpdate, FieldValueInfo, NewFeedback, ProjectInfo, ServiceInfo, TagKeyInfo,
    TagValueInfo, TracePage, TraceQuery, TraceSkeleton, TraceSummary, ValueField,
};

pub use error::{StoreError, StoreResult};
pub use keys::KeyStore;
pub use pairwise::PairwiseStore;
pub use queues::QueueStore;
pub use score_configs::ScoreConfigStore;

/// What a write did, as far as the engine can tell without reading first: spans newly stored,
/// and spans that were already there (a client retry). SQLite tells exactly; an append-only
/// engine counts every span written as inserted and folds copies away on read. Readers never
/// see a span twice either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOutcome {
    pub inserted: usize,
    pub duplicates: usize,
    /// Pieces that changed a span already stored (`write_span_pieces` only).
    pub merged: usize,
}

/// A span as a live stream reads it: where it is in the store's receive order, and the span.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSpan {
    pub seq: i64,
    pub span: Span,
}

/// A read of the spans received after a cursor (`SpanStore::received_spans`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReceivedBatch {
    /// The project's spans, in receive order.
    pub spans: Vec<ReceivedSpan>,
    /// How far the read went (past other projects' spans too): the next read's `after`. The
    /// cursor given when nothing was read.
    pub scanned_to: i64,
    /// True when the read stopped at its limit: more may follow at once.
    pub more: bool,
}

/// Which feedback to list.
#[derive(Debug, Clone, Default)]
pub struct FeedbackFilter {
    pub run_id: Option<String>,
    pub trace_id: Option<String>,
    pub key: Option<String>,
    /// Ratings given in this annotation queue.
    pub queue_id: Option<String>,
    pub limit: Option<u32>,
}

/// Which engine answers, for `GET /api/v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EngineInfo {
    /// `sqlite` or `clickhouse`.
    pub engine: &'static str,
    pub version: String,
    /// Where the data is (a file, a server), as an operator would name it.
    pub location: String,
}

#[async_trait]
pub trait SpanStore: Send + Sync + 'static {
    /// Stores spans (any projects, any traces, any order). Returns once they are durably
    /// stored; a span already stored (same project, trace and span id) is left as it is and
    /// counted as a duplicate.
    async fn write_spans(&self, spans: Vec<Span>) -> StoreResult<WriteOutcome>;

    /// Stores pieces of spans that arrive in several requests (LangSmith's `post` then `patch`
    /// of one run). Every reader, from then on, sees each span as its pieces folded in arrival
    /// order by `skein_model::span_pieces::merge`, and its trace's summary, tags and service
    /// counts as if the folded span had arrived alone. A piece that changes nothing is a
    /// duplicate. Pieces may also be found by span id and project (`pieced_spans`).
    async fn write_span_pieces(&self, pieces: Vec<Span>) -> StoreResult<WriteOutcome>;

    /// The spans written through `write_span_pieces` with this span id, in `project` (in any
    /// project when `None`: only for a Skein without keys, where every project is open), in
    /// any trace, newest first, at most `limit` (LangSmith names a run by its UUID alone; the
    /// span id is a hash of it). A lookup scoped to one project never finds, and so never
    /// reveals or is shadowed by, another project's span with the same id. An indexed lookup:
    /// its cost does not grow with the store. Spans written through `write_spans` are not
    /// found here: the OTLP path pays nothing for a lookup it never needs.
    async fn pieced_spans(
        &self,
        project: Option<&str>,
        span_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<Span>>;

    /// Every span of a trace, in full, in the order they first arrived.
    async fn trace_spans(&self, project: &str, trace_id: &str) -> StoreResult<Vec<Span>>;

    /// The project's spans received after the cursor `after`, oldest first, reading at most
    /// `limit` stored spans (of any project: a busy neighbour makes a read return fewer, never
    /// cost more). A cursor (`seq`) orders spans by when the store received them: a span
    /// acknowledged later never has a smaller one, except within `receive_settle` of the newest
    /// a reader has seen (writers whose clocks and inserts race: several collectors on one
    /// cluster). A span written again (a retry, a later piece) may be read again.
    async fn received_spans(
        &self,
        project: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<ReceivedBatch>;

    /// The cursor of "now": a stream opened now reads the spans received after it.
    async fn receive_head(&self) -> StoreResult<i64>;

    /// How far below a cursor already read a span may still appear (0 where the cursor is the
    /// commit order of one writer): a reader reads that far back again and skips what it sent.
    fn receive_settle(&self) -> i64 {
        0
    }

    /// Removes every trace (of any project) that started before `cutoff_ns` (Unix ns), with
    /// its spans and feedback (`--retention-days`); how many traces, as far as the engine can
    /// tell. An engine may finish the removal in the background (ClickHouse's mutations):
    /// readers stop seeing the traces when it has.
    async fn expire_before(&self, cutoff_ns: i64) -> StoreResult<u64>;
}

#[async_trait]
pub trait QueryStore: Send + Sync + 'static {
    /// A page of trace summaries matching the query, the total, and the next page's cursor (a
    /// cursor this store did not give is `StoreError::Invalid`).
    async fn list_traces(&self, project: &str, query: &TraceQuery) -> StoreResult<TracePage>;

    /// The summaries of these traces of the project that pass `query`'s conditions (all but
    /// its order, cursor and limit: the list's filters, compiled as `list_traces` compiles
    /// them), as the trace list shows them (feedback included), in the order given; traces not
    /// stored or not passing are left out. At most a page's worth (`TraceQuery::MAX_LIMIT`) is
    /// asked at once, and the cost is that of these traces, not of the project. A filter the
    /// store cannot compile is `StoreError::Invalid`.
    async fn trace_summaries(
        &self,
        project: &str,
        trace_ids: &[String],
        query: &TraceQuery,
    ) -> StoreResult<Vec<TraceSummary>>;

    /// A trace's compact skeleton (every span without its payloads).
    async fn trace(&self, project: &str, trace_id: &str) -> StoreResult<Option<TraceSkeleton>>;

    /// The first `spans` spans of a trace of at least `from_spans` spans, in display order (the
    /// roots' subtrees depth-first, children by start, ties by span id: the order `trace`'s
    /// skeleton shows them in), read without reading the whole trace; none for a smaller
    /// trace, one not stored, or where the engine cannot read them apart (the default). The
    /// collector sends them while it reads the whole trace.
    async fn trace_head(
        &self,
        _project: &str,
        _trace_id: &str,
        _spans: usize,
        _from_spans: usize,
    ) -> StoreResult<Option<SkeletonHead>> {
        Ok(None)
    }

    /// One span in full.
    async fn span(&self, project: &str, trace_id: &str, span_id: &str)
        -> StoreResult<Option<Span>>;

    /// The ids of a trace's spans whose text contains `needle` (already normalized by
    /// `skein_model::trace_search::normalize_query`), as `trace_search::span_contains` decides;
    /// none when the trace is not stored. An engine that can search without reading every span
    /// may do so; the answer must be the same.
    async fn search_trace(
        &self,
        project: &str,
        trace_id: &str,
        needle: &str,
    ) -> StoreResult<Option<Vec<String>>>;

    /// Every project with traces and its counts (a pass over the trace summaries: for
    /// listings, not for lookups).
    async fn projects(&self) -> StoreResult<Vec<ProjectInfo>>;

    /// The names of the projects with traces, sorted. Cheap enough to serve lookups (a
    /// LangSmith session UUID is a hash of its project's name): its cost grows with the number
    /// of projects, not of traces.
    async fn project_names(&self) -> StoreResult<Vec<String>>;

    async fn services(&self, project: &str) -> StoreResult<Vec<ServiceInfo>>;

    async fn tag_keys(&self, project: &str) -> StoreResult<Vec<TagKeyInfo>>;

    async fn tag_values(
        &self,
        project: &str,
        key: &str,
        prefix: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<TagValueInfo>>;

    /// The values of a span field starting with `prefix` (as typed, case-sensitive) among the
    /// spans of the project's latest `catalog::FIELD_VALUE_TRACES` traces (by start), each with
    /// its number of spans there, most used first (ties by value), at most `limit`: what the
    /// filter box suggests, at a cost that does not grow with the project.
    async fn field_values(
        &self,
        project: &str,
        field: ValueField,
        prefix: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<FieldValueInfo>>;

    /// A metric's aggregates per group (a tag's value) and time bucket, computed in the store
    /// by `skein_model::metric_fold` (`GET /api/v1/metrics`). A query the store cannot answer
    /// as asked (too many buckets) is `StoreError::Invalid`.
    async fn metrics(&self, project: &str, query: &MetricQuery) -> StoreResult<MetricResponse>;

    /// A page of the project's spans passing the query's filters (`filter` on the span,
    /// `trace_filter` on its trace's root span, `tree_filter` on any span of its trace, as
    /// `skein_model::filter::matches` decides), in the query's order (ties newest-arrived
    /// first), counted up to `SPAN_COUNT_CAP`, and the next page's cursor (a cursor this store
    /// did not give, or a filter it cannot compile, is `StoreError::Invalid`). A page costs
    /// its size plus the cap, however large the project.
    async fn list_spans(&self, project: &str, query: &SpanQuery) -> StoreResult<SpanPage>;

    /// Two cohorts of traces (each selected by a trace-list filter) compared span name by span
    /// name (`GET /api/v1/compare/cohorts`): the engine aggregates each cohort in the store
    /// (`skein_model::cohort::CohortAggregates`, at most `cohort::MAX_NAMES` names) and
    /// `skein_model::cohort::compare` makes the table.
    async fn compare_cohorts(
        &self,
        project: &str,
        query: &CohortQuery,
    ) -> StoreResult<CohortComparison>;
}

/// Aggregates over many traces for the user-journey and service views.
#[async_trait]
pub trait JourneyStore: Send + Sync + 'static {
    /// Sessions whose requests match the query, with aggregates over the matching requests.
    async fn list_sessions(&self, project: &str, query: &SessionQuery) -> StoreResult<SessionPage>;

    /// One session: its aggregates and its requests in order (`request_sequence`, else start
    /// time), each with its root span's input and output as conversation text.
    async fn session(&self, project: &str, session_id: &str) -> StoreResult<Option<SessionDetail>>;

    /// Users whose requests match the query (`query.user_id` is ignored).
    async fn list_users(&self, project: &str, query: &SessionQuery) -> StoreResult<UserPage>;

    /// One user's aggregates and a page of their sessions (ordered and paged by `query`).
    async fn user(
        &self,
        project: &str,
        user_id: &str,
        query: &SessionQuery,
    ) -> StoreResult<Option<UserDetail>>;

    /// Calls between services over the traces in the query's range and tags (unset bounds
    /// resolved as `ServiceGraphQuery::resolve` does).
    async fn service_graph(
        &self,
        project: &str,
        query: &ServiceGraphQuery,
    ) -> StoreResult<ServiceGraph>;
}

#[async_trait]
pub trait FeedbackStore: Send + Sync + 'static {
    /// Creates feedback on a run (span). Ids are scoped by project: a repeated `id` of the
    /// same project replaces that record, and the same id in another project is another record
    /// (one project can neither overwrite nor detect another's ids). A record whose run is not
    /// stored yet takes the run's trace when the run arrives.
    async fn create_feedback(&self, project: &str, feedback: NewFeedback) -> StoreResult<Feedback>;

    async fn update_feedback(
        &self,
        project: &str,
        id: &str,
        update: FeedbackUpdate,
    ) -> StoreResult<Option<Feedback>>;

    /// Stores a record exported from another store as it was, times included (`skein migrate`);
    /// a record of the same project and id is replaced.
    async fn import_feedback(&self, feedback: Feedback) -> StoreResult<()>;

    /// True when something was deleted.
    async fn delete_feedback(&self, project: &str, id: &str) -> StoreResult<bool>;

    /// One record by its id, in its project (a lookup by key, whatever the project holds).
    async fn read_feedback(&self, project: &str, id: &str) -> StoreResult<Option<Feedback>>;

    /// Oldest first.
    async fn list_feedback(
        &self,
        project: &str,
        filter: FeedbackFilter,
    ) -> StoreResult<Vec<Feedback>>;
}

/// `QueryStore::search_trace` by reading the trace's spans in full: what an engine without a
/// text index of its own answers with.
pub(crate) async fn search_by_scan(
    store: &dyn SpanStore,
    project: &str,
    trace_id: &str,
    needle: &str,
) -> StoreResult<Option<Vec<String>>> {
    let spans = store.trace_spans(project, trace_id).await?;
    if spans.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        spans
            .into_iter()
            .filter(|s| skein_model::trace_search::span_contains(s, needle))
            .map(|s| s.span_id)
            .collect(),
    ))
}

/// Everything the collector needs of its storage.
pub trait Store:
    SpanStore
    + QueryStore
    + JourneyStore
    + FeedbackStore
    + ScoreConfigStore
    + QueueStore
    + PairwiseStore
    + KeyStore
{
    fn engine(&self) -> EngineInfo;

    /// True while the last write failed because the store's disk is full (cleared by the next
    /// write that succeeds), for `GET /api/v1/health`. An engine that cannot tell says false.
    fn disk_full(&self) -> bool {
        false
    }

    /// About how many stored spans wait to enter the full-text index (`search_index.waiting`
    /// on `GET /api/v1/health`); 0 once it has caught up. An engine that indexes a span as it
    /// stores it says 0.
    fn search_index_waiting(&self) -> u64 {
        0
    }
}
