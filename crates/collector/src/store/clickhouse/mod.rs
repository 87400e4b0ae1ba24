//! The engine for teams that outgrow one machine: ClickHouse, one node or a sharded and
//! replicated cluster, behind collectors that keep no state of their own (every collector reads
//! and writes the same tables, keys and feedback included).
//!
//! - `client`: HTTP, JSONEachRow, errors as the store's kinds, SQL quoting;
//! - `schema`: the tables and their versioned migrations, `ON CLUSTER` on a cluster;
//! - `writer`: spans batched across requests into large inserts, acknowledged once stored;
//! - `pieces`: spans sent in pieces; `trace_table`: the per-trace table the writes keep, which
//!   lists, filters, counts, metrics and journeys read; `splits`: the traces whose rows there
//!   are not their values, and those of them with a span stored twice; `tag_index`: the
//!   traces' tags a tag filter prunes them by first; `tag_starts`: the traces' tags by start,
//!   which a list by tags reads alone; `traces`: the trace index, summaries of a page's traces
//!   folded from their spans, and spans; `trace_list`: a list's total and page; `skeleton`: a
//!   trace's skeleton; `row_binary`: RowBinary answers of large reads; `feedback`,
//!   `score_configs`, `queues` (annotation queues and leases), `keys`, `metrics`, `journeys`
//!   (sessions, users, service graph).

mod client;
mod cohort;
mod expire;
mod feedback;
mod field_values;
mod journeys;
mod keys;
mod leased;
mod metrics;
mod pairwise;
mod pieces;
mod queues;
mod received;
mod row_binary;
mod schema;
mod score_configs;
mod service_parts;
mod skeleton;
mod span_list;
mod span_metrics;
mod span_row;
mod split_rows;
mod splits;
mod summary_sql;
mod tables;
mod tag_index;
mod tag_starts;
#[cfg(test)]
pub mod testserver;
mod trace_list;
mod trace_table;
mod traces;
mod writer;

use async_trait::async_trait;
use skein_model::cohort::{CohortComparison, CohortQuery};
use skein_model::metrics::{MetricQuery, MetricResponse};
use skein_model::service_graph::{ServiceGraph, ServiceGraphQuery};
use skein_model::sessions::{SessionDetail, SessionPage, SessionQuery, UserDetail, UserPage};
use skein_model::span::Span;
use skein_model::span_list::{SpanPage, SpanQuery};
use skein_model::{
    Feedback, FeedbackUpdate, FieldValueInfo, NewFeedback, ProjectInfo, ServiceInfo, TagKeyInfo,
    TagValueInfo, TracePage, TraceQuery, TraceSkeleton, TraceSummary, ValueField,
};

pub use client::{quote, Connection};
use client::{Client, RowExt};
use schema::Layout;
use writer::Writer;

use crate::clock::now_ms;

use super::{
    EngineInfo, FeedbackFilter, FeedbackStore, JourneyStore, QueryStore, ReceivedBatch, SpanStore,
    Store, StoreResult, WriteOutcome,
};

/// How to reach ClickHouse and lay Skein out there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickhouseOptions {
    pub connection: Connection,
    pub database: String,
    /// The cluster's name in the servers' `remote_servers`, for a sharded or replicated setup.
    pub cluster: Option<String>,
    /// Replicas that must acknowledge an insert (on a cluster: 2 with 2 replicas a shard).
    pub insert_quorum: u32,
    /// Spans that may wait for the writer; past this, writes are refused as overloaded.
    pub max_queued_spans: usize,
    /// Most spans in one insert.
    pub max_batch_spans: usize,
    /// Appends every statement sent and ClickHouse's answer to this file, as JSON lines: to see
    /// what Skein asks, or to replay it on another ClickHouse version.
    pub sql_log: Option<std::path::PathBuf>,
}

impl ClickhouseOptions {
    pub fn new(url: &str) -> ClickhouseOptions {
        ClickhouseOptions {
            connection: Connection {
                url: url.trim_end_matches('/').to_string(),
                user: None,
                password: None,
            },
            database: "skein".into(),
            cluster: None,
            insert_quorum: 1,
            max_queued_spans: 200_000,
            max_batch_spans: 50_000,
            sql_log: None,
        }
    }
}

pub struct ClickhouseStore {
    client: Client,
    layout: Layout,
    quorum: u32,
    writer: Writer,
    version: String,
    /// Claims, adds and finishes of queue items, one at a time (`queues.rs`).
    queue_writes: tokio::sync::Mutex<()>,
}

/// Projects whose summaries `projects()` reads at once.
const PROJECTS_AT_ONCE: usize = 8;

impl ClickhouseStore {
    /// A project's traces, spans and last end (`QueryStore::projects`); `None` once its spans
    /// have expired.
    async fn project_info(&self, name: String) -> StoreResult<Option<ProjectInfo>> {
        let index = self
            .trace_index(&name, &TraceQuery::default(), now_ms())
            .await?;
        let rows = self
            .client
            .rows(&format!(
                "SELECT count() AS traces, sum(span_count) AS spans, \
                 max(start + duration) AS last FROM ({index})"
            ))
            .await?;
        Ok(rows
            .first()
            .filter(|r| r.i64_of("traces") > 0)
            .map(|r| ProjectInfo {
                name,
                trace_count: r.i64_of("traces").max(0) as u64,
                span_count: r.i64_of("spans").max(0) as u64,
                last_seen_ns: Some(r.i64_of("last")),
            }))
    }

    /// Connects, creates or upgrades Skein's tables, and starts the writer (on the current Tokio
    /// runtime).
    pub async fn open(options: ClickhouseOptions) -> StoreResult<ClickhouseStore> {
        let client = Client::new(options.connection.clone(), options.sql_log.as_deref())?;
        let version = client
            .rows("SELECT version() AS v")
            .await?
            .first()
            .map(|r| r.str_of("v"))
            .unwrap_or_default();
        let layout = Layout {
            database: options.database.clone(),
            cluster: options.cluster.clone(),
        };
        schema::migrate(&client, &layout, &version).await?;
        let writer = Writer::start(
            client.clone(),
            writer::Tables {
                spans: layout.table("spans"),
                projects: layout.table("span_projects"),
                received: layout.table("received"),
                splits: splits::SplitTables::of(&layout),
            },
            options.insert_quorum,
            options.max_queued_spans,
            options.max_batch_spans,
        );
        Ok(ClickhouseStore {
            client,
            layout,
            quorum: options.insert_quorum,
            writer,
            version,
            queue_writes: tokio::sync::Mutex::new(()),
        })
    }
}

#[async_trait]
impl SpanStore for ClickhouseStore {
    async fn write_spans(&self, spans: Vec<Span>) -> StoreResult<WriteOutcome> {
        if spans.is_empty() {
            return Ok(WriteOutcome::default());
        }
        self.writer.write(&spans).await?;
        // An append-only engine does not look for an earlier copy on write: a retried span is
        // folded away on read (`spans` is replacing), and counted here as written.
        Ok(WriteOutcome {
            inserted: spans.len(),
            ..WriteOutcome::default()
        })
    }

    async fn write_span_pieces(&self, pieces: Vec<Span>) -> StoreResult<WriteOutcome> {
        if pieces.is_empty() {
            return Ok(WriteOutcome::default());
        }
        self.write_pieces(pieces).await
    }

    async fn pieced_spans(
        &self,
        project: Option<&str>,
        span_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<Span>> {
        self.pieced(project, span_id, limit).await
    }

    async fn trace_spans(&self, project: &str, trace_id: &str) -> StoreResult<Vec<Span>> {
        self.all_spans(project, trace_id).await
    }

    async fn received_spans(
        &self,
        project: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<ReceivedBatch> {
        self.received(project, after, limit).await
    }

    async fn receive_head(&self) -> StoreResult<i64> {
        Ok(self.received_head())
    }

    fn receive_settle(&self) -> i64 {
        received::RECEIVE_SETTLE
    }

    async fn expire_before(&self, cutoff_ns: i64) -> StoreResult<u64> {
        self.expire(cutoff_ns).await
    }
}

#[async_trait]
impl QueryStore for ClickhouseStore {
    async fn list_traces(&self, project: &str, query: &TraceQuery) -> StoreResult<TracePage> {
        self.trace_list_filter(project, query)?;
        self.list(project, query, now_ms()).await
    }

    async fn trace_summaries(
        &self,
        project: &str,
        trace_ids: &[String],
        query: &TraceQuery,
    ) -> StoreResult<Vec<TraceSummary>> {
        let passing = self.passing(project, trace_ids, query, now_ms()).await?;
        self.summaries_with_feedback(project, &passing).await
    }

    async fn trace(&self, project: &str, trace_id: &str) -> StoreResult<Option<TraceSkeleton>> {
        self.skeleton(project, trace_id).await
    }

    async fn span(
        &self,
        project: &str,
        trace_id: &str,
        span_id: &str,
    ) -> StoreResult<Option<Span>> {
        self.span_full(project, trace_id, span_id).await
    }

    async fn search_trace(
        &self,
        project: &str,
        trace_id: &str,
        needle: &str,
    ) -> StoreResult<Option<Vec<String>>> {
        super::search_by_scan(self, project, trace_id, needle).await
    }

    /// Each project's traces, spans and last end from its per-trace rows (`trace_table`), not
    /// from its spans: every dashboard page asks this first. The projects are read a few at a
    /// time, not one after another.
    async fn projects(&self) -> StoreResult<Vec<ProjectInfo>> {
        use futures_util::{StreamExt, TryStreamExt};
        let names = self.project_names().await?;
        let read = futures_util::stream::iter(names)
            .map(|name| self.project_info(name))
            .buffered(PROJECTS_AT_ONCE)
            .try_collect::<Vec<_>>()
            .await?;
        Ok(read.into_iter().flatten().collect())
    }

    async fn project_names(&self) -> StoreResult<Vec<String>> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT DISTINCT name FROM {} ORDER BY name",
                self.layout.table("span_projects")
            ))
            .await?;
        Ok(rows.iter().map(|r| r.str_of("name")).collect())
    }

    async fn services(&self, project: &str) -> StoreResult<Vec<ServiceInfo>> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT service, count() AS spans, countIf(status = 2) AS errors FROM {} \
                 WHERE project = {} GROUP BY service ORDER BY spans DESC, service",
                self.spans(),
                quote(project)
            ))
            .await?;
        Ok(rows
            .iter()
            .map(|r| ServiceInfo {
                name: r.str_of("service"),
                span_count: r.i64_of("spans").max(0) as u64,
                error_count: r.i64_of("errors").max(0) as u64,
            })
            .collect())
    }

    async fn tag_keys(&self, project: &str) -> StoreResult<Vec<TagKeyInfo>> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT key, sum(traces) AS n FROM ({}) GROUP BY key ORDER BY n DESC, key LIMIT 500",
                traces::tag_counts_sql(self, project).await?
            ))
            .await?;
        Ok(rows
            .iter()
            .map(|r| TagKeyInfo {
                key: r.str_of("key"),
                trace_count: r.i64_of("n").max(0) as u64,
            })
            .collect())
    }

    async fn field_values(
        &self,
        project: &str,
        field: ValueField,
        prefix: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<FieldValueInfo>> {
        self.values_of(project, field, prefix.unwrap_or(""), limit)
            .await
    }

    async fn tag_values(
        &self,
        project: &str,
        key: &str,
        prefix: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<TagValueInfo>> {
        let prefix = prefix.unwrap_or("");
        let rows = self
            .client
            .rows(&format!(
                "SELECT value, traces FROM ({}) WHERE key = {} \
                 AND substring(value, 1, {}) = {} ORDER BY traces DESC, value LIMIT {}",
                traces::tag_counts_sql(self, project).await?,
                quote(key),
                prefix.len(),
                quote(prefix),
                limit.clamp(1, 1000)
            ))
            .await?;
        Ok(rows
            .iter()
            .map(|r| TagValueInfo {
                value: r.str_of("value"),
                trace_count: r.i64_of("traces").max(0) as u64,
            })
            .collect())
    }

    async fn metrics(&self, project: &str, query: &MetricQuery) -> StoreResult<MetricResponse> {
        self.metric(project, query, now_ms()).await
    }

    async fn list_spans(&self, project: &str, query: &SpanQuery) -> StoreResult<SpanPage> {
        self.span_list(project, query).await
    }

    async fn compare_cohorts(
        &self,
        project: &str,
        query: &CohortQuery,
    ) -> StoreResult<CohortComparison> {
        self.cohorts(project, query, now_ms()).await
    }
}

#[async_trait]
impl JourneyStore for ClickhouseStore {
    async fn list_sessions(&self, project: &str, query: &SessionQuery) -> StoreResult<SessionPage> {
        self.sessions_page(project, query).await
    }

    async fn session(&self, project: &str, session_id: &str) -> StoreResult<Option<SessionDetail>> {
        self.session_detail(project, session_id).await
    }

    async fn list_users(&self, project: &str, query: &SessionQuery) -> StoreResult<UserPage> {
        self.users_page(project, query).await
    }

    async fn user(
        &self,
        project: &str,
        user_id: &str,
        query: &SessionQuery,
    ) -> StoreResult<Option<UserDetail>> {
        self.user_detail(project, user_id, query).await
    }

    async fn service_graph(
        &self,
        project: &str,
        query: &ServiceGraphQuery,
    ) -> StoreResult<ServiceGraph> {
        self.graph(project, query).await
    }
}

#[async_trait]
impl FeedbackStore for ClickhouseStore {
    async fn create_feedback(&self, project: &str, feedback: NewFeedback) -> StoreResult<Feedback> {
        self.create_feedback_record(project, feedback).await
    }

    async fn update_feedback(
        &self,
        project: &str,
        id: &str,
        update: FeedbackUpdate,
    ) -> StoreResult<Option<Feedback>> {
        self.update_feedback_record(project, id, update).await
    }

    async fn import_feedback(&self, feedback: Feedback) -> StoreResult<()> {
        self.import_feedback_record(&feedback).await
    }

    async fn delete_feedback(&self, project: &str, id: &str) -> StoreResult<bool> {
        self.delete_feedback_record(project, id).await
    }

    async fn list_feedback(
        &self,
        project: &str,
        filter: FeedbackFilter,
    ) -> StoreResult<Vec<Feedback>> {
        self.list_feedback_records(project, &filter).await
    }

    async fn read_feedback(&self, project: &str, id: &str) -> StoreResult<Option<Feedback>> {
        self.read_feedback_record(project, id).await
    }
}

impl Store for ClickhouseStore {
    fn engine(&self) -> EngineInfo {
        EngineInfo {
            engine: "clickhouse",
            version: self.version.clone(),
            location: match &self.layout.cluster {
                Some(c) => format!(
                    "{} database {} cluster {c}",
                    self.client.url(),
                    self.layout.database
                ),
                None => format!("{} database {}", self.client.url(), self.layout.database),
            },
        }
    }
}

/// A store on the shared test server in a database of its own (the unit tests' set-up).
#[cfg(test)]
async fn test_store(database: &str) -> ClickhouseStore {
    ClickhouseStore::open(ClickhouseOptions {
        database: database.to_string(),
        ..ClickhouseOptions::new(&testserver::server().url)
    })
    .await
    .expect("open the ClickHouse store")
}

#[cfg(test)]
mod conformance;
