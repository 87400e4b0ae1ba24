//! Where spans and feedback live. `Store` is what the ingest and API layers call; each backend
//! is one file. Callers hold an `Arc<dyn Store>`, so a backend can be added without touching them.

pub mod sqlite;

use async_trait::async_trait;
use skein_model::{
    Feedback, FeedbackUpdate, NewFeedback, ProjectInfo, ServiceInfo, TagKeyInfo, TagValueInfo,
    TracePage, TraceQuery, TraceSkeleton,
};

pub use sqlite::{SqliteOptions, SqliteStore};

use skein_model::metrics::{MetricQuery, MetricResponse};
use skein_model::service_graph::{ServiceGraph, ServiceGraphQuery};
use skein_model::sessions::{SessionDetail, SessionPage, SessionQuery, UserDetail, UserPage};
use skein_model::span::Span;

/// What a write did: spans newly stored, and spans that were already there (a client retry).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOutcome {
    pub inserted: usize,
    pub duplicates: usize,
    /// Spans that replaced a stored version of themselves (`upsert_spans` only).
    pub merged: usize,
}

/// How `Store::upsert_spans` combines the stored version of a span with a newer one of the
/// same project, trace and span id. It must be idempotent (`merge(&s, s.clone()) == s`), so
/// that a re-sent span counts as a duplicate. A plain function: it runs on the writer.
pub type SpanMerge = fn(stored: &Span, incoming: Span) -> Span;

/// Which feedback to list.
#[derive(Debug, Clone, Default)]
pub struct FeedbackFilter {
    pub run_id: Option<String>,
    pub trace_id: Option<String>,
    pub key: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The write queue is full: the client should retry later.
    #[error("the write queue is full; retry in {retry_after_secs} s")]
    Overloaded { retry_after_secs: u64 },
    #[error("the store is shutting down")]
    Closed,
    /// A request the store cannot carry out as asked (bad cursor, unknown feedback run, ...).
    #[error("{0}")]
    Invalid(String),
    #[error("storage error: {0}")]
    Backend(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Aggregates over many traces for the user-journey and service views: sessions, users and
/// the service dependency graph. A supertrait of `Store`, so a backend implements it in its
/// own file (SQLite: `sqlite/sessions.rs`).
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
pub trait Store: JourneyStore + Send + Sync + 'static {
    /// Stores spans (any projects, any traces, any order). Returns once they are durably
    /// committed; a span already stored (same project, trace and span id) is left as it is.
    async fn write_spans(&self, spans: Vec<Span>) -> StoreResult<WriteOutcome>;

    /// Stores spans that may arrive in pieces (LangSmith's `post` then `patch` of one run): a
    /// span already stored is replaced by `merge(stored, new)`, and its trace's summary, tags
    /// and service counts are recomputed so they stay exact. Spans repeated within `spans`
    /// are merged in order. The read-merge-write of each span is atomic.
    async fn upsert_spans(&self, spans: Vec<Span>, merge: SpanMerge) -> StoreResult<WriteOutcome>;

    /// The spans stored through `upsert_spans` with this span id, in any project or trace,
    /// newest first, at most `limit`. (Ids that are hashes of another system's ids, such as
    /// LangSmith run UUIDs, are found without knowing their trace; spans written through
    /// `write_spans` are not looked up, so that the OTLP path pays nothing for it.)
    async fn find_spans(&self, span_id: &str, limit: u32) -> StoreResult<Vec<Span>>;

    /// Every span of a trace, in full, in the order they were first stored.
    async fn trace_spans(&self, project: &str, trace_id: &str) -> StoreResult<Vec<Span>>;

    async fn list_traces(&self, project: &str, query: &TraceQuery) -> StoreResult<TracePage>;

    /// A metric's aggregates per group (a tag's value) and time bucket, computed in the store:
    /// counts, sums, sums of squares, exact quantiles and a histogram (`GET /api/v1/metrics`).
    /// A query the store cannot answer as asked (too many buckets) is `StoreError::Invalid`.
    async fn metrics(&self, project: &str, query: &MetricQuery) -> StoreResult<MetricResponse>;

    async fn trace(&self, project: &str, trace_id: &str) -> StoreResult<Option<TraceSkeleton>>;

    async fn span(&self, project: &str, trace_id: &str, span_id: &str)
        -> StoreResult<Option<Span>>;

    async fn projects(&self) -> StoreResult<Vec<ProjectInfo>>;

    async fn services(&self, project: &str) -> StoreResult<Vec<ServiceInfo>>;

    async fn tag_keys(&self, project: &str) -> StoreResult<Vec<TagKeyInfo>>;

    async fn tag_values(
        &self,
        project: &str,
        key: &str,
        prefix: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<TagValueInfo>>;

    /// Creates feedback on a run (span); a repeated `id` replaces that record.
    async fn create_feedback(&self, project: &str, feedback: NewFeedback) -> StoreResult<Feedback>;

    async fn update_feedback(
        &self,
        project: &str,
        id: &str,
        update: FeedbackUpdate,
    ) -> StoreResult<Option<Feedback>>;

    /// True when something was deleted.
    async fn delete_feedback(&self, project: &str, id: &str) -> StoreResult<bool>;

    async fn list_feedback(
        &self,
        project: &str,
        filter: FeedbackFilter,
    ) -> StoreResult<Vec<Feedback>>;
}
