//! The default backend: one SQLite file (WAL) under the data dir.
//!
//! Writes go through one writer thread that commits whatever is queued in a single
//! transaction (group commit); if that fails, each request is retried in a transaction of its
//! own, so a bad one cannot fail its neighbours. A request is answered only after the commit. Reads use a small pool of
//! read-only connections, which WAL lets run alongside the writer.
//!
//! Schema, chosen from the measurements in TOOLCHAIN.md and bench/README.md: a span is one row
//! with its full body last (the span's JSON, zstd-compressed, encoded by the caller's thread:
//! `codec`); `traces` holds one summary row per trace, updated incrementally as spans arrive
//! in any order; metadata tags are kept per trace (`trace_tags`), not per span, with counts
//! per value (`tag_values`) for suggestions.
//!
//! Keys are chosen so that writes append: a trace gets an integer id (`traces.id`) when its
//! first span arrives, and spans and tags are keyed by it (`spans (trace, span_id)`,
//! `trace_tags (trace, key)`). Keyed by the random 128-bit trace id, as they first were,
//! every insert landed on a random page of a large index and every commit rewrote most of
//! those pages to the WAL: ingest slowed from 29k spans/s at 200k spans to 13k at 1M.
//! WAL checkpoints run on their own thread (`checkpointer`), not inside a write.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension, Row};
use skein_model::metrics::{MetricQuery, MetricResponse};
use skein_model::span::{Span, SpanStatus, SpanType};
use skein_model::{
    Feedback, FeedbackUpdate, NewFeedback, ProjectInfo, ServiceInfo, SkeletonSpanInput,
    StatusFilter, TagKeyInfo, TagValueInfo, TracePage, TraceQuery, TraceSkeleton, TraceSort,
    TraceSummary,
};
use tokio::sync::{mpsc, oneshot};

use super::{FeedbackFilter, SpanMerge, Store, StoreError, StoreResult, WriteOutcome};

mod checkpointer;
mod codec;
pub mod keys;
mod lookup;
mod metrics;
mod sessions;
mod upsert;

use codec::{CurrentDict, SpanRow};

/// Most services and tag keys a trace summary keeps (a runaway client must not grow a row).
const MAX_TRACE_SERVICES: usize = 64;
const MAX_TRACE_TAGS: usize = 64;

#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// The database file; its directory is created if missing.
    pub path: PathBuf,
    /// Spans that may wait for the writer; beyond this, writes are refused as overloaded.
    pub max_queued_spans: usize,
    /// Most spans committed in one transaction.
    pub max_batch_spans: usize,
    pub read_connections: usize,
    /// Spans stored before a compression dictionary is trained for their bodies (see
    /// `codec`); `None`: never.
    pub dictionary_after_spans: Option<u64>,
}

impl SqliteOptions {
    pub fn new(path: impl Into<PathBuf>) -> SqliteOptions {
        SqliteOptions {
            path: path.into(),
            max_queued_spans: 200_000,
            max_batch_spans: 20_000,
            read_connections: 4,
            dictionary_after_spans: Some(10_000),
        }
    }
}

pub struct SqliteStore {
    writer: mpsc::UnboundedSender<WriteJob>,
    queued_spans: Arc<AtomicUsize>,
    max_queued_spans: usize,
    readers: Arc<ReaderPool>,
    /// The dictionary bodies are compressed with (trained by the checkpoint thread).
    dict: Arc<CurrentDict>,
    /// Requests being encoded at once (`encode_rows`): one per core.
    encoders: tokio::sync::Semaphore,
}

enum WriteOp {
    /// Spans already encoded by the caller (`SpanRow::encode`).
    Spans(Vec<SpanRow>),
    Upsert(Vec<Span>, SpanMerge),
    CreateFeedback(String, NewFeedback),
    UpdateFeedback(String, String, FeedbackUpdate),
    DeleteFeedback(String, String),
}

// One short-lived reply per write job: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum WriteReply {
    Spans(WriteOutcome),
    Feedback(Option<Feedback>),
    Deleted(bool),
}

struct WriteJob {
    op: WriteOp,
    /// The outcome, and the job's op handed back: the requester frees it, not the writer.
    reply: oneshot::Sender<(StoreResult<WriteReply>, WriteOp)>,
}

impl WriteJob {
    fn span_count(&self) -> usize {
        match &self.op {
            WriteOp::Spans(rows) => rows.len(),
            WriteOp::Upsert(spans, _) => spans.len(),
            _ => 1,
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database and starts the writer thread.
    pub fn open(options: SqliteOptions) -> StoreResult<SqliteStore> {
        if let Some(dir) = options.path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Backend(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
        let mut conn = Connection::open(&options.path)?;
        configure_writer(&conn)?;
        // Before `migrate`: a migration may look runs up in `span_lookup`.
        upsert::ensure_schema(&conn)?;
        migrate(&mut conn)?;
        let next_trace_id = next_trace_id(&conn)?;
        let dict = Arc::new(CurrentDict::load(&conn)?);

        // Unbounded channel, bounded by `queued_spans`: the limit is in spans, not requests.
        let (tx, rx) = mpsc::unbounded_channel();
        let queued_spans = Arc::new(AtomicUsize::new(0));
        let queued = queued_spans.clone();
        let max_batch = options.max_batch_spans.max(1);
        let checkpoints =
            checkpointer::start(&options.path, dict.clone(), options.dictionary_after_spans)?;
        let writer_dict = dict.clone();
        std::thread::Builder::new()
            .name("skein-sqlite-writer".into())
            .spawn(move || {
                let mut writer = Writer {
                    conn,
                    next_trace_id,
                    checkpoints,
                    dict: writer_dict,
                };
                writer_loop(&mut writer, rx, queued, max_batch)
            })
            .map_err(|e| StoreError::Backend(format!("cannot start the writer thread: {e}")))?;

        Ok(SqliteStore {
            writer: tx,
            queued_spans,
            max_queued_spans: options.max_queued_spans,
            readers: Arc::new(ReaderPool {
                path: options.path,
                idle: Mutex::new(Vec::new()),
                max_idle: options.read_connections.max(1),
            }),
            dict,
            encoders: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
        })
    }

    async fn submit(&self, op: WriteOp) -> StoreResult<WriteReply> {
        let job_spans = match &op {
            WriteOp::Spans(rows) => rows.len(),
            WriteOp::Upsert(spans, _) => spans.len(),
            _ => 1,
        };
        let places = self.reserve(job_spans)?;
        self.send(op, places).await
    }

    /// Takes `n` places in the write queue, or refuses as overloaded. The places are given
    /// back when the returned guard drops, unless a job took them over (`send`).
    fn reserve(&self, n: usize) -> StoreResult<QueuePlaces> {
        let before = self.queued_spans.fetch_add(n, Ordering::SeqCst);
        let places = QueuePlaces {
            queued: self.queued_spans.clone(),
            n,
        };
        if before > 0 && before + n > self.max_queued_spans {
            return Err(StoreError::Overloaded {
                retry_after_secs: 1,
            });
        }
        Ok(places)
    }

    async fn send(&self, op: WriteOp, mut places: QueuePlaces) -> StoreResult<WriteReply> {
        let (reply, answer) = oneshot::channel();
        let job = WriteJob { op, reply };
        debug_assert_eq!(job.span_count(), places.n);
        if self.writer.send(job).is_err() {
            return Err(StoreError::Closed);
        }
        // The writer gives the places back once the job is committed.
        places.n = 0;
        let (result, op) = answer.await.map_err(|_| StoreError::Closed)?;
        drop(op);
        result
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || pool.with(f))
            .await
            .map_err(|e| StoreError::Backend(format!("read task failed: {e}")))?
    }
}

/// Places taken in the write queue (in spans), given back on drop.
struct QueuePlaces {
    queued: Arc<AtomicUsize>,
    n: usize,
}

impl Drop for QueuePlaces {
    fn drop(&mut self) {
        if self.n > 0 {
            self.queued.fetch_sub(self.n, Ordering::SeqCst);
        }
    }
}

/// Encodes spans for the writer (`SpanRow::encode`): a few µs of CPU a span, on the
/// blocking pool rather than the async runtime's threads, and at most one request per core
/// at a time (`slots`): under a flood of clients, queries then get their share of the CPU
/// (with as many encoders as requests in flight, a trace list took seconds to answer).
async fn encode_rows(
    spans: Vec<Span>,
    dict: &CurrentDict,
    slots: &tokio::sync::Semaphore,
) -> StoreResult<Vec<SpanRow>> {
    let dict = dict.get();
    let _slot = slots.acquire().await.map_err(|_| StoreError::Closed)?;
    tokio::task::spawn_blocking(move || {
        spans
            .into_iter()
            .map(|s| SpanRow::encode(s, dict.as_deref()))
            .collect()
    })
    .await
    .map_err(|e| StoreError::Backend(format!("encoding task failed: {e}")))?
}

/// The page size of a new database. 16 KiB rather than SQLite's 4 KiB: a span row with its
/// compressed body is ~700 bytes, and with 4 KiB pages ingest ran ~1.5x slower (deeper
/// trees, more pages per commit). It only applies when the file is created.
const PAGE_SIZE: u32 = 16_384;

fn configure_writer(conn: &Connection) -> StoreResult<()> {
    conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a commit is on disk (fsync of the WAL) before the request is acknowledged. Group
    // commit keeps that to one fsync per batch.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    conn.pragma_update(None, "cache_size", -64_000)?;
    // Checkpoints are the checkpointer thread's job, never the writer's.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

/// The layout's version (`PRAGMA user_version`). A new database is created at the latest
/// layout (`create_schema`); an older file is brought up to it in place, one step of
/// `MIGRATIONS` at a time, each in its own transaction, so a crash mid-way resumes there.
///
/// - 1: the first layout (files from before `trace_tags.project` also say 1);
/// - 2: `spans.kind` (the OTel span kind, for the trace skeleton);
/// - 3: `trace_tags.project` and `trace_tags_by_value` where missing, `traces.root_span_type`,
///   feedback's trace ids resolved from their runs, `feedback_waiting`;
/// - 4: `feedback_scores`, the per-trace rollup of feedback scores (`metrics::FEEDBACK_SCORES`);
/// - 5: `spans.cost` (the span's own cost, for the trace skeleton).
const SCHEMA_VERSION: i64 = 5;

type Migration = fn(&Connection) -> StoreResult<()>;

/// `MIGRATIONS[i]` takes a database from version `i + 1` to `i + 2`.
const MIGRATIONS: [Migration; (SCHEMA_VERSION - 1) as usize] = [
    add_span_kinds,
    add_tag_projects_root_types_feedback_traces,
    metrics::add_feedback_scores,
    add_span_costs,
];

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Backend(format!(
            "the database was written by a newer Skein (schema {version}, this one knows {SCHEMA_VERSION})"
        )));
    }
    if version == 0 {
        return create_schema(conn);
    }
    check_layout(conn)?;
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version as usize - 1) {
        let to = i as i64 + 2;
        let tx = conn.transaction()?;
        step(&tx)?;
        tx.pragma_update(None, "user_version", to)?;
        tx.commit()?;
        tracing::info!(from = to - 1, to, "database layout upgraded");
    }
    Ok(())
}

fn has_column(conn: &Connection, table: &str, column: &str) -> StoreResult<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2)",
        params![table, column],
        |r| r.get(0),
    )?)
}

/// 1 → 2. Spans stored before have an unknown kind (0), read as internal.
fn add_span_kinds(conn: &Connection) -> StoreResult<()> {
    if !has_column(conn, "spans", "kind")? {
        conn.execute_batch("ALTER TABLE spans ADD COLUMN kind INTEGER NOT NULL DEFAULT 0")?;
    }
    Ok(())
}

/// 4 → 5. Spans stored before show no cost of their own in the trace view (their trace's
/// total, kept in `traces.cost`, is unchanged): reading every stored body back to fill the
/// column would make the upgrade as slow as re-ingesting.
fn add_span_costs(conn: &Connection) -> StoreResult<()> {
    if !has_column(conn, "spans", "cost")? {
        conn.execute_batch("ALTER TABLE spans ADD COLUMN cost REAL NOT NULL DEFAULT 0")?;
    }
    Ok(())
}

/// 2 → 3. `trace_tags.project` came without a migration (files said 1 with or without it);
/// each row takes its trace's project. The root span type is read from the stored root.
/// Feedback posted with only a run id gets its run's trace, as new feedback now does when
/// written. Columns are added only where missing (a file taken back by hand may have them).
fn add_tag_projects_root_types_feedback_traces(conn: &Connection) -> StoreResult<()> {
    if !has_column(conn, "trace_tags", "project")? {
        conn.execute_batch(
            "ALTER TABLE trace_tags ADD COLUMN project TEXT NOT NULL DEFAULT '';
             UPDATE trace_tags SET project = coalesce(
                 (SELECT t.project FROM traces t WHERE t.id = trace_tags.trace), '');",
        )?;
    }
    if !has_column(conn, "traces", "root_span_type")? {
        conn.execute_batch("ALTER TABLE traces ADD COLUMN root_span_type INTEGER")?;
    }
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS trace_tags_by_value ON trace_tags (project, key, value, trace);
         UPDATE traces SET root_span_type = (SELECT s.span_type FROM spans s
             WHERE s.trace = traces.id AND s.span_id = traces.root_span_id)
         WHERE root_span_id IS NOT NULL;
         CREATE INDEX IF NOT EXISTS feedback_waiting ON feedback (project, run_id)
             WHERE trace_id IS NULL;",
    )?;
    let waiting: Vec<(String, String, String)> = conn
        .prepare("SELECT id, project, run_id FROM feedback WHERE trace_id IS NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (id, project, run_id) in waiting {
        if let Some(trace_id) = trace_of_run(conn, &project, &run_id)? {
            conn.execute(
                "UPDATE feedback SET trace_id = ?2 WHERE id = ?1",
                params![id, trace_id],
            )?;
        }
    }
    Ok(())
}

/// The latest layout, for a new database.
fn create_schema(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(
        r#"
        -- `id` is the arrival order; `trace` is `traces.id`; `body` is `codec::encode`.
        CREATE TABLE IF NOT EXISTS spans (
            id INTEGER PRIMARY KEY,
            trace INTEGER NOT NULL,
            span_id TEXT NOT NULL,
            parent_span_id TEXT,
            name TEXT NOT NULL,
            span_type INTEGER NOT NULL,
            service TEXT NOT NULL,
            start_ns INTEGER NOT NULL,
            end_ns INTEGER NOT NULL,
            status INTEGER NOT NULL,
            tokens INTEGER NOT NULL,
            body BLOB NOT NULL,
            kind INTEGER NOT NULL DEFAULT 0,
            cost REAL NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX IF NOT EXISTS spans_by_trace ON spans (trace, span_id);

        -- `id` numbers traces in the order their first span arrived (see `next_trace_id`).
        CREATE TABLE IF NOT EXISTS traces (
            id INTEGER PRIMARY KEY,
            project TEXT NOT NULL,
            trace_id TEXT NOT NULL,
            root_name TEXT NOT NULL,
            root_span_id TEXT,
            start_ns INTEGER NOT NULL,
            end_ns INTEGER NOT NULL,
            duration_ns INTEGER NOT NULL,
            span_count INTEGER NOT NULL,
            error_count INTEGER NOT NULL,
            status INTEGER NOT NULL,
            services TEXT NOT NULL,
            tags TEXT NOT NULL,
            session_id TEXT,
            user_id TEXT,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cost REAL NOT NULL,
            first_name_start_ns INTEGER NOT NULL,
            -- `SpanType::code` of the root span; NULL until the root arrives.
            root_span_type INTEGER
        );
        CREATE UNIQUE INDEX IF NOT EXISTS traces_by_id ON traces (project, trace_id);
        CREATE INDEX IF NOT EXISTS traces_by_start ON traces (project, start_ns, trace_id);
        CREATE INDEX IF NOT EXISTS traces_by_duration ON traces (project, duration_ns, trace_id);
        CREATE INDEX IF NOT EXISTS traces_by_session ON traces (project, session_id, start_ns);
        CREATE INDEX IF NOT EXISTS traces_by_user ON traces (project, user_id, start_ns);

        -- `trace` is `traces.id`. By value, a tag's traces in id order: counting a tag filter
        -- is a range of this index (`count_traces`), and the other filters' lookups by
        -- primary key follow the same order.
        CREATE TABLE IF NOT EXISTS trace_tags (
            trace INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            project TEXT NOT NULL,
            PRIMARY KEY (trace, key)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS trace_tags_by_value ON trace_tags (project, key, value, trace);

        CREATE TABLE IF NOT EXISTS tag_values (
            project TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            trace_count INTEGER NOT NULL,
            PRIMARY KEY (project, key, value)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS services (
            project TEXT NOT NULL,
            name TEXT NOT NULL,
            span_count INTEGER NOT NULL,
            error_count INTEGER NOT NULL,
            PRIMARY KEY (project, name)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS feedback (
            id TEXT PRIMARY KEY,
            project TEXT NOT NULL,
            run_id TEXT NOT NULL,
            trace_id TEXT,
            key TEXT NOT NULL,
            score REAL,
            value TEXT,
            comment TEXT,
            correction TEXT,
            source TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            modified_ms INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS feedback_by_run ON feedback (project, run_id);
        CREATE INDEX IF NOT EXISTS feedback_by_trace ON feedback (project, trace_id);
        CREATE INDEX IF NOT EXISTS feedback_by_key ON feedback (project, key, created_ms);
        -- Feedback whose run has not arrived: the run's insert gives it its trace.
        CREATE INDEX IF NOT EXISTS feedback_waiting ON feedback (project, run_id)
            WHERE trace_id IS NULL;

        -- Compression dictionaries of span bodies (`codec`), never changed once written.
        CREATE TABLE IF NOT EXISTS body_dicts (
            id INTEGER PRIMARY KEY,
            dict BLOB NOT NULL
        );
        "#,
    )?;
    tx.execute_batch(metrics::FEEDBACK_SCORES)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Schema 1 changed in place before its release: a database from a development build that
/// keyed spans by their trace id text is refused with a clear message, not a SQL error later.
fn check_layout(conn: &Connection) -> StoreResult<()> {
    let current: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('spans') WHERE name = 'trace')",
        [],
        |r| r.get(0),
    )?;
    if current {
        Ok(())
    } else {
        Err(StoreError::Backend(
            "the database was written by a development build of Skein with an older layout; \
             move it away (or delete it) and start again"
                .into(),
        ))
    }
}

/// The id the next new trace gets: one more than any so far. The writer owns the counter,
/// so ids follow arrival order; ids of a rolled-back write are skipped, never reused.
fn next_trace_id(conn: &Connection) -> StoreResult<i64> {
    let max: Option<i64> = conn.query_row("SELECT max(id) FROM traces", [], |r| r.get(0))?;
    Ok(max.unwrap_or(0) + 1)
}

// ---------------------------------------------------------------------------------------------
// Writing

/// What the writer thread owns.
struct Writer {
    conn: Connection,
    /// The id the next new trace gets (see `next_trace_id`).
    next_trace_id: i64,
    checkpoints: checkpointer::Handle,
    dict: Arc<CurrentDict>,
}

fn writer_loop(
    writer: &mut Writer,
    mut rx: mpsc::UnboundedReceiver<WriteJob>,
    queued: Arc<AtomicUsize>,
    max_batch: usize,
) {
    while let Some(first) = rx.blocking_recv() {
        writer.checkpoints.restart_if_long(&writer.conn);
        let mut batch_spans = first.span_count();
        let mut jobs = vec![first];
        while batch_spans < max_batch {
            match rx.try_recv() {
                Ok(job) => {
                    batch_spans += job.span_count();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let results = commit_batch(writer, &jobs);
        writer.checkpoints.committed();
        queued.fetch_sub(batch_spans, Ordering::SeqCst);
        for (job, result) in jobs.into_iter().zip(results) {
            // The client may have gone away; its data is committed all the same.
            let _ = job.reply.send((result, job.op));
        }
    }
}

/// Runs every job in one transaction. If anything fails, that transaction is rolled back and
/// each job runs again in a transaction of its own, so that only the failing one fails.
/// (Savepoints per job would do the same in one pass, but cost every batch: SQLite copies
/// each page a savepoint touches again, a tenth of the writer's time at 1M spans.)
fn commit_batch(writer: &mut Writer, jobs: &[WriteJob]) -> Vec<StoreResult<WriteReply>> {
    let ops: Vec<&WriteOp> = jobs.iter().map(|j| &j.op).collect();
    match run_transaction(writer, &ops) {
        Ok(replies) => replies.into_iter().map(Ok).collect(),
        Err(e) if ops.len() == 1 => vec![Err(e)],
        Err(_) => ops
            .iter()
            .map(|op| run_transaction(writer, std::slice::from_ref(op)).map(|mut r| r.remove(0)))
            .collect(),
    }
}

/// Applies `ops` in one transaction and commits it; on error nothing of it is stored.
fn run_transaction(writer: &mut Writer, ops: &[&WriteOp]) -> StoreResult<Vec<WriteReply>> {
    let Writer {
        conn,
        next_trace_id,
        dict,
        ..
    } = writer;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Another process may have written (tests do, through a second store): never reuse an id.
    *next_trace_id = (*next_trace_id).max(self::next_trace_id(&tx)?);
    let mut replies = Vec::with_capacity(ops.len());
    for op in ops {
        replies.push(apply(&tx, next_trace_id, dict, op)?);
    }
    tx.commit()?;
    Ok(replies)
}

fn apply(
    conn: &Connection,
    next_trace_id: &mut i64,
    dict: &CurrentDict,
    op: &WriteOp,
) -> StoreResult<WriteReply> {
    match op {
        WriteOp::Spans(rows) => insert_spans(conn, next_trace_id, rows).map(WriteReply::Spans),
        WriteOp::Upsert(spans, merge) => {
            upsert::upsert_spans(conn, next_trace_id, dict, spans, *merge).map(WriteReply::Spans)
        }
        WriteOp::CreateFeedback(project, new) => {
            insert_feedback(conn, project, new).map(|f| WriteReply::Feedback(Some(f)))
        }
        WriteOp::UpdateFeedback(project, id, update) => {
            update_feedback(conn, project, id, update).map(WriteReply::Feedback)
        }
        WriteOp::DeleteFeedback(project, id) => {
            let n = conn.execute(
                "DELETE FROM feedback WHERE project = ?1 AND id = ?2",
                params![project, id],
            )?;
            Ok(WriteReply::Deleted(n > 0))
        }
    }
}

/// What the newly inserted spans of one trace add to its summary.
#[derive(Default)]
struct TraceDelta {
    start_ns: i64,
    end_ns: i64,
    span_count: i64,
    error_count: i64,
    services: Vec<String>,
    tags: BTreeMap<String, String>,
    root: Option<RootInfo>,
    /// The earliest span's name, used as the trace's name until the root arrives.
    earliest: Option<(i64, String)>,
    session_id: Option<String>,
    user_id: Option<String>,
    input_tokens: i64,
    output_tokens: i64,
    cost: f64,
}

struct RootInfo {
    name: String,
    span_id: String,
    span_type: u8,
    status: SpanStatus,
    service: String,
    tags: BTreeMap<String, String>,
    session_id: Option<String>,
    user_id: Option<String>,
}

impl TraceDelta {
    fn new() -> TraceDelta {
        TraceDelta {
            start_ns: i64::MAX,
            end_ns: i64::MIN,
            ..TraceDelta::default()
        }
    }

    fn add(&mut self, span: &SpanRow) {
        self.start_ns = self.start_ns.min(span.start_ns);
        self.end_ns = self.end_ns.max(span.end_ns.max(span.start_ns));
        self.span_count += 1;
        if span.status.is_error() {
            self.error_count += 1;
        }
        push_unique(&mut self.services, &span.service, MAX_TRACE_SERVICES);
        for (k, v) in &span.tags {
            if self.tags.len() < MAX_TRACE_TAGS && !self.tags.contains_key(k) {
                self.tags.insert(k.clone(), v.clone());
            }
        }
        if self.session_id.is_none() {
            self.session_id.clone_from(&span.session_id);
        }
        if self.user_id.is_none() {
            self.user_id.clone_from(&span.user_id);
        }
        self.input_tokens += span.input_tokens.unwrap_or(0);
        self.output_tokens += span.output_tokens.unwrap_or(0);
        self.cost += span.cost.unwrap_or(0.0);
        if span.parent_span_id.is_none() {
            self.root = Some(RootInfo {
                name: span.name.clone(),
                span_id: span.span_id.clone(),
                span_type: span.span_type,
                status: span.status,
                service: span.service.clone(),
                tags: span.tags.clone(),
                session_id: span.session_id.clone(),
                user_id: span.user_id.clone(),
            });
        }
        if self
            .earliest
            .as_ref()
            .is_none_or(|(s, _)| span.start_ns < *s)
        {
            self.earliest = Some((span.start_ns, span.name.clone()));
        }
    }
}

fn push_unique(list: &mut Vec<String>, value: &str, max: usize) {
    if list.len() < max && !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}

/// Changes to `tag_values` counts, gathered over a job and written once per value
/// (`flush`): a request of 100 traces with 7 tags each touches a dozen values, not 700.
/// Project → key → value → change, so that counting a value seen before allocates nothing.
#[derive(Default)]
struct TagCounts(HashMap<String, HashMap<String, HashMap<String, i64>>>);

impl TagCounts {
    fn add(&mut self, project: &str, key: &str, value: &str, change: i64) {
        fn slot<'m, T: Default>(map: &'m mut HashMap<String, T>, key: &str) -> &'m mut T {
            if !map.contains_key(key) {
                map.insert(key.to_string(), T::default());
            }
            map.get_mut(key).expect("just inserted")
        }
        *slot(slot(slot(&mut self.0, project), key), value) += change;
    }

    fn flush(self, conn: &Connection) -> StoreResult<()> {
        // Parameters are reused in the UPDATE branch, so a count never goes below zero.
        let mut upsert = conn.prepare_cached(
            "INSERT INTO tag_values (project, key, value, trace_count) \
             VALUES (?1, ?2, ?3, max(0, ?4)) \
             ON CONFLICT (project, key, value) DO UPDATE SET \
             trace_count = max(0, trace_count + ?4)",
        )?;
        for (project, keys) in &self.0 {
            for (key, values) in keys {
                for (value, change) in values {
                    if *change != 0 {
                        upsert.execute(params![project, key, value, change])?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Stores the spans that are not stored yet (same project, trace and span id: a duplicate,
/// left as it is) and merges what they add into their traces' summaries.
fn insert_spans(
    conn: &Connection,
    next_trace_id: &mut i64,
    rows: &[SpanRow],
) -> StoreResult<WriteOutcome> {
    let mut outcome = WriteOutcome::default();
    // The spans of each trace, traces in the order of their first span (so ids follow it).
    let mut group_of: HashMap<(&str, &str), usize> = HashMap::new();
    let mut groups: Vec<Vec<&SpanRow>> = Vec::new();
    for row in rows {
        let i = *group_of
            .entry((&row.project, &row.trace_id))
            .or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
        groups[i].push(row);
    }
    let mut services: HashMap<(&str, &str), (i64, i64)> = HashMap::new();
    let mut tag_counts = TagCounts::default();
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO spans (trace, span_id, parent_span_id, name, span_type, service, \
         start_ns, end_ns, status, tokens, body, kind, cost) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for group in groups {
        let (project, trace_id) = (group[0].project.as_str(), group[0].trace_id.as_str());
        let stored = read_trace(conn, project, trace_id)?;
        let id = match &stored {
            Some(row) => row.id,
            None => {
                let id = *next_trace_id;
                *next_trace_id += 1;
                id
            }
        };
        let mut delta = TraceDelta::new();
        for span in group {
            let n = insert.execute(params![
                id,
                span.span_id,
                span.parent_span_id,
                span.name,
                span.span_type,
                span.service,
                span.start_ns,
                span.end_ns,
                span.status.code(),
                span.total_tokens(),
                span.body,
                span.kind.code(),
                span.cost.filter(|c| c.is_finite()).unwrap_or(0.0),
            ])?;
            if n == 0 {
                outcome.duplicates += 1;
                continue;
            }
            outcome.inserted += 1;
            delta.add(span);
            let counts = services
                .entry((&span.project, &span.service))
                .or_insert((0, 0));
            counts.0 += 1;
            counts.1 += i64::from(span.status.is_error());
        }
        if delta.span_count > 0 {
            merge_trace(conn, project, trace_id, id, stored, delta, &mut tag_counts)?;
        }
    }
    let mut upsert_service = conn.prepare_cached(
        "INSERT INTO services (project, name, span_count, error_count) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (project, name) DO UPDATE SET \
         span_count = span_count + excluded.span_count, error_count = error_count + excluded.error_count",
    )?;
    for ((project, name), (count, errors)) in services {
        upsert_service.execute(params![project, name, count, errors])?;
    }
    tag_counts.flush(conn)?;
    attach_waiting_feedback(conn, rows)?;
    Ok(outcome)
}

/// The stored summary of a trace plus the bookkeeping needed to merge into it.
struct TraceRow {
    id: i64,
    summary: TraceSummary,
    first_name_start_ns: i64,
}

fn read_trace(conn: &Connection, project: &str, trace_id: &str) -> StoreResult<Option<TraceRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {TRACE_COLUMNS}, first_name_start_ns, id FROM traces \
             WHERE project = ?1 AND trace_id = ?2"
        ))?
        .query_row(params![project, trace_id], |row| {
            Ok(TraceRow {
                summary: trace_from_row(row)?,
                first_name_start_ns: row.get(17)?,
                id: row.get(18)?,
            })
        })
        .optional()?)
}

/// Writes the summary of trace `id` (`stored`, or a new one) with `delta` merged in, its
/// changed `trace_tags` rows, and the changes to the `tag_values` counts into `tag_counts`.
fn merge_trace(
    conn: &Connection,
    project: &str,
    trace_id: &str,
    id: i64,
    stored: Option<TraceRow>,
    delta: TraceDelta,
    tag_counts: &mut TagCounts,
) -> StoreResult<()> {
    let is_new = stored.is_none();
    let old_tags = stored
        .as_ref()
        .map(|r| r.summary.tags.clone())
        .unwrap_or_default();
    let mut row = stored.unwrap_or_else(|| TraceRow {
        id,
        summary: TraceSummary {
            trace_id: trace_id.to_string(),
            start_ns: delta.start_ns,
            end_ns: delta.end_ns,
            ..TraceSummary::default()
        },
        first_name_start_ns: i64::MAX,
    });
    let t = &mut row.summary;
    t.start_ns = t.start_ns.min(delta.start_ns);
    t.end_ns = t.end_ns.max(delta.end_ns);
    t.span_count += delta.span_count as u64;
    t.error_count += delta.error_count as u64;
    t.input_tokens += delta.input_tokens;
    t.output_tokens += delta.output_tokens;
    t.cost += delta.cost;
    for s in &delta.services {
        push_unique(&mut t.services, s, MAX_TRACE_SERVICES);
    }
    for (k, v) in delta.tags {
        if t.tags.len() < MAX_TRACE_TAGS || t.tags.contains_key(&k) {
            t.tags.entry(k).or_insert(v);
        }
    }
    if t.session_id.is_none() {
        t.session_id = delta.session_id;
    }
    if t.user_id.is_none() {
        t.user_id = delta.user_id;
    }
    if let Some(root) = delta.root {
        // The root speaks for the trace: its name, its tags over its children's, its service first.
        t.root_name = root.name;
        t.root_span_id = Some(root.span_id);
        t.root_span_type = Some(SpanType::from_code(root.span_type));
        t.has_root = true;
        for (k, v) in root.tags {
            if t.tags.len() < MAX_TRACE_TAGS || t.tags.contains_key(&k) {
                t.tags.insert(k, v);
            }
        }
        if root.session_id.is_some() {
            t.session_id = root.session_id;
        }
        if root.user_id.is_some() {
            t.user_id = root.user_id;
        }
        t.services.retain(|s| *s != root.service);
        t.services.insert(0, root.service);
        if root.status == SpanStatus::Ok {
            t.status = SpanStatus::Ok;
        }
    } else if !t.has_root {
        if let Some((start, name)) = delta.earliest {
            if start < row.first_name_start_ns {
                t.root_name = name;
                row.first_name_start_ns = start;
            }
        }
    }
    if t.error_count > 0 {
        t.status = SpanStatus::Error;
    }

    let t = &row.summary;
    let sql = if is_new {
        "INSERT INTO traces (project, trace_id, root_name, root_span_id, start_ns, end_ns, \
         duration_ns, span_count, error_count, status, services, tags, session_id, user_id, \
         input_tokens, output_tokens, cost, first_name_start_ns, id, root_span_type) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
    } else {
        "UPDATE traces SET project = ?1, trace_id = ?2, root_name = ?3, root_span_id = ?4, \
         start_ns = ?5, end_ns = ?6, duration_ns = ?7, span_count = ?8, error_count = ?9, \
         status = ?10, services = ?11, tags = ?12, session_id = ?13, user_id = ?14, \
         input_tokens = ?15, output_tokens = ?16, cost = ?17, first_name_start_ns = ?18, \
         root_span_type = ?20 WHERE id = ?19"
    };
    conn.prepare_cached(sql)?.execute(params![
        project,
        trace_id,
        t.root_name,
        t.root_span_id,
        t.start_ns,
        t.end_ns,
        t.duration_ns(),
        t.span_count as i64,
        t.error_count as i64,
        t.status.code(),
        to_json(&t.services),
        to_json(&t.tags),
        t.session_id,
        t.user_id,
        t.input_tokens,
        t.output_tokens,
        t.cost,
        row.first_name_start_ns,
        row.id,
        t.root_span_type.map(SpanType::code),
    ])?;

    let mut set_tag = conn.prepare_cached(
        "INSERT OR REPLACE INTO trace_tags (trace, key, value, project) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (key, value) in &t.tags {
        let old = old_tags.get(key);
        if old == Some(value) {
            continue;
        }
        set_tag.execute(params![row.id, key, value, project])?;
        if let Some(old) = old {
            tag_counts.add(project, key, old, -1);
        }
        tag_counts.add(project, key, value, 1);
    }
    Ok(())
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn insert_feedback(conn: &Connection, project: &str, new: &NewFeedback) -> StoreResult<Feedback> {
    let now = now_ms();
    let id = new
        .id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let created_ms = conn
        .query_row(
            "SELECT created_ms FROM feedback WHERE id = ?1 AND project = ?2",
            params![id, project],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .unwrap_or(now);
    let trace_id = match &new.trace_id {
        Some(t) => Some(t.clone()),
        None => trace_of_run(conn, project, &new.run_id)?,
    };
    let feedback = Feedback {
        id,
        project: project.to_string(),
        run_id: new.run_id.clone(),
        trace_id,
        key: new.key.clone(),
        score: new.score,
        value: new.value.clone(),
        comment: new.comment.clone(),
        correction: new.correction.clone(),
        source: new.source.clone().unwrap_or_else(|| "api".into()),
        created_ms,
        modified_ms: now,
    };
    write_feedback(conn, &feedback)?;
    Ok(feedback)
}

/// The trace of span `run_id` in `project`, if it is stored: through `span_lookup` (LangSmith
/// runs, by key), else by the project's traces in `spans_by_trace` (spans have no index by
/// span id alone: it would slow every insert; feedback that names no trace is rare).
fn trace_of_run(conn: &Connection, project: &str, run_id: &str) -> StoreResult<Option<String>> {
    let looked_up: Option<String> = conn
        .prepare_cached(
            "SELECT trace_id FROM span_lookup WHERE span_id = ?1 AND project = ?2 LIMIT 1",
        )?
        .query_row(params![run_id, project], |r| r.get(0))
        .optional()?;
    if looked_up.is_some() {
        return Ok(looked_up);
    }
    Ok(conn
        .prepare_cached(
            "SELECT t.trace_id FROM traces t JOIN spans s ON s.trace = t.id \
             WHERE t.project = ?1 AND s.span_id = ?2 LIMIT 1",
        )?
        .query_row(params![project, run_id], |r| r.get(0))
        .optional()?)
}

/// Feedback stored before its run arrived (the LangSmith SDK may send it first) gets the
/// run's trace as the run is inserted. Costs one probe of `feedback_waiting` per write
/// while no feedback waits (named: left alone, the planner scanned all of `feedback_by_trace`),
/// and one probe per span while some does.
fn attach_waiting_feedback(conn: &Connection, rows: &[SpanRow]) -> StoreResult<()> {
    let waiting: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM feedback INDEXED BY feedback_waiting \
             WHERE trace_id IS NULL)",
        )?
        .query_row([], |r| r.get(0))?;
    if !waiting {
        return Ok(());
    }
    let mut attach = conn.prepare_cached(
        "UPDATE feedback SET trace_id = ?3 \
         WHERE project = ?1 AND run_id = ?2 AND trace_id IS NULL",
    )?;
    for row in rows {
        attach.execute(params![row.project, row.span_id, row.trace_id])?;
    }
    Ok(())
}

fn write_feedback(conn: &Connection, f: &Feedback) -> StoreResult<()> {
    // An id that belongs to another project is refused rather than overwritten.
    let owner: Option<String> = conn
        .query_row(
            "SELECT project FROM feedback WHERE id = ?1",
            params![f.id],
            |r| r.get(0),
        )
        .optional()?;
    if owner.as_deref().is_some_and(|p| p != f.project) {
        return Err(StoreError::Invalid(format!(
            "feedback id {} is already used",
            f.id
        )));
    }
    conn.prepare_cached(
        "INSERT OR REPLACE INTO feedback (id, project, run_id, trace_id, key, score, value, comment, \
         correction, source, created_ms, modified_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        f.id,
        f.project,
        f.run_id,
        f.trace_id,
        f.key,
        f.score,
        f.value.as_ref().map(to_json),
        f.comment,
        f.correction.as_ref().map(to_json),
        f.source,
        f.created_ms,
        f.modified_ms,
    ])?;
    Ok(())
}

fn update_feedback(
    conn: &Connection,
    project: &str,
    id: &str,
    update: &FeedbackUpdate,
) -> StoreResult<Option<Feedback>> {
    let Some(mut f) = conn
        .query_row(
            &format!("SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE project = ?1 AND id = ?2"),
            params![project, id],
            feedback_from_row,
        )
        .optional()?
    else {
        return Ok(None);
    };
    if let Some(key) = &update.key {
        f.key.clone_from(key);
    }
    if update.score.is_some() {
        f.score = update.score;
    }
    if update.value.is_some() {
        f.value.clone_from(&update.value);
    }
    if update.comment.is_some() {
        f.comment.clone_from(&update.comment);
    }
    f.modified_ms = now_ms();
    write_feedback(conn, &f)?;
    Ok(Some(f))
}

// ---------------------------------------------------------------------------------------------
// Reading

struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    max_idle: usize,
}

impl ReaderPool {
    fn with<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let conn = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match conn {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                c.busy_timeout(std::time::Duration::from_secs(10))?;
                c.pragma_update(None, "cache_size", -32_000)?;
                // Pages mapped rather than copied in by pread: a metric scans every trace
                // row, and at 1M spans the copies were most of its time.
                c.pragma_update(None, "mmap_size", READER_MMAP_BYTES)?;
                c
            }
        };
        let result = f(&conn);
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < self.max_idle {
                idle.push(conn);
            }
        }
        result
    }
}

/// How much of the database file each reader maps: SQLite's default ceiling (address space,
/// not memory: the pages are the OS page cache's).
const READER_MMAP_BYTES: i64 = 0x7fff_0000;

const TRACE_COLUMNS: &str = "trace_id, root_name, root_span_id, start_ns, end_ns, span_count, \
    error_count, status, services, tags, session_id, user_id, input_tokens, output_tokens, cost, \
    duration_ns, root_span_type";

fn trace_from_row(row: &Row<'_>) -> rusqlite::Result<TraceSummary> {
    let services: String = row.get(8)?;
    let tags: String = row.get(9)?;
    let root_span_id: Option<String> = row.get(2)?;
    Ok(TraceSummary {
        trace_id: row.get(0)?,
        root_name: row.get(1)?,
        has_root: root_span_id.is_some(),
        root_span_id,
        start_ns: row.get(3)?,
        end_ns: row.get(4)?,
        span_count: row.get::<_, i64>(5)? as u64,
        error_count: row.get::<_, i64>(6)? as u64,
        status: SpanStatus::from_code(row.get::<_, i64>(7)? as u8),
        services: serde_json::from_str(&services).unwrap_or_default(),
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        session_id: row.get(10)?,
        user_id: row.get(11)?,
        input_tokens: row.get(12)?,
        output_tokens: row.get(13)?,
        cost: row.get(14)?,
        root_span_type: row.get::<_, Option<u8>>(16)?.map(SpanType::from_code),
        feedback: Vec::new(),
    })
}

const FEEDBACK_COLUMNS: &str = "id, project, run_id, trace_id, key, score, value, comment, \
    correction, source, created_ms, modified_ms";

fn feedback_from_row(row: &Row<'_>) -> rusqlite::Result<Feedback> {
    let value: Option<String> = row.get(6)?;
    let correction: Option<String> = row.get(8)?;
    Ok(Feedback {
        id: row.get(0)?,
        project: row.get(1)?,
        run_id: row.get(2)?,
        trace_id: row.get(3)?,
        key: row.get(4)?,
        score: row.get(5)?,
        value: value.and_then(|v| serde_json::from_str(&v).ok()),
        comment: row.get(7)?,
        correction: correction.and_then(|v| serde_json::from_str(&v).ok()),
        source: row.get(9)?,
        created_ms: row.get(10)?,
        modified_ms: row.get(11)?,
    })
}

/// The WHERE clause and parameters of a trace query (without the cursor).
fn trace_filter(project: &str, q: &TraceQuery) -> (String, Vec<SqlValue>) {
    let mut sql = String::from("t.project = ?");
    let mut args: Vec<SqlValue> = vec![project.to_string().into()];
    if let Some(from) = q.start_from_ms(now_ms()) {
        sql.push_str(" AND t.start_ns >= ?");
        args.push(from.saturating_mul(1_000_000).into());
    }
    if let Some(to) = q.to_ms {
        sql.push_str(" AND t.start_ns < ?");
        args.push(to.saturating_mul(1_000_000).into());
    }
    if let Some(name) = &q.name {
        sql.push_str(" AND t.root_name LIKE ? ESCAPE '\\'");
        let escaped = name
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        args.push(format!("%{escaped}%").into());
    }
    match q.status {
        Some(StatusFilter::Error) => sql.push_str(" AND t.error_count > 0"),
        Some(StatusFilter::Ok) => sql.push_str(" AND t.error_count = 0"),
        None => {}
    }
    if let Some(ms) = q.min_duration_ms {
        sql.push_str(" AND t.duration_ns >= ?");
        args.push(((ms * 1e6) as i64).into());
    }
    if let Some(ms) = q.max_duration_ms {
        sql.push_str(" AND t.duration_ns <= ?");
        args.push(((ms * 1e6) as i64).into());
    }
    if let Some(s) = &q.session_id {
        sql.push_str(" AND t.session_id = ?");
        args.push(s.clone().into());
    }
    if let Some(u) = &q.user_id {
        sql.push_str(" AND t.user_id = ?");
        args.push(u.clone().into());
    }
    for tag in &q.tags {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM trace_tags g WHERE g.trace = t.id \
             AND g.key = ? AND g.value = ?)",
        );
        args.push(tag.key.clone().into());
        args.push(tag.value.clone().into());
    }
    (sql, args)
}

/// Cursor: `<sort key>.<trace id>` of the last row of the previous page.
fn parse_cursor(cursor: &str) -> StoreResult<(i64, String)> {
    cursor
        .split_once('.')
        .and_then(|(k, id)| Some((k.parse().ok()?, id.to_string())))
        .ok_or_else(|| StoreError::Invalid(format!("cursor {cursor:?} is not one this API gave")))
}

/// Of a query's tag filters, the one matching the fewest traces (from the `tag_values`
/// counts) and that number: the tag to read the matches from.
fn rarest_tag(
    conn: &Connection,
    project: &str,
    q: &TraceQuery,
) -> StoreResult<Option<(usize, i64)>> {
    let mut rarest: Option<(usize, i64)> = None;
    let mut stmt = conn.prepare_cached(
        "SELECT trace_count FROM tag_values WHERE project = ?1 AND key = ?2 AND value = ?3",
    )?;
    for (i, tag) in q.tags.iter().enumerate() {
        let n: i64 = stmt
            .query_row(params![project, tag.key, tag.value], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        if rarest.is_none_or(|(_, m)| n < m) {
            rarest = Some((i, n));
        }
    }
    Ok(rarest)
}

/// The rows of `trace_tags` with one tag (`BY_TAG`), in trace id order.
const FROM_TAG: &str = "trace_tags g0 INDEXED BY trace_tags_by_value";
const BY_TAG: &str = "g0.project = ? AND g0.key = ? AND g0.value = ?";

/// The query without tag filter `i`, and the parameters of `BY_TAG` for that tag.
fn without_tag(project: &str, q: &TraceQuery, i: usize) -> (TraceQuery, Vec<SqlValue>) {
    let mut rest = q.clone();
    let tag = rest.tags.remove(i);
    let args = vec![project.to_string().into(), tag.key.into(), tag.value.into()];
    (rest, args)
}

/// True when the query filters on nothing but tags (whatever fields `TraceQuery` grows).
fn only_tag_filters(q: &TraceQuery) -> bool {
    TraceQuery {
        tags: Vec::new(),
        sort: TraceSort::default(),
        cursor: None,
        limit: None,
        ..q.clone()
    } == TraceQuery::default()
}

/// How many traces match: with tag filters, counted from the rarest tag's rows of
/// `trace_tags_by_value` (in trace id order, so the other filters' primary-key lookups are
/// sequential), joined to `traces` only when other filters need its columns. Measured at 1M
/// spans (75k traces): three tags 24 ms where scanning the traces took 50–80 ms, one tag 2 ms.
fn count_traces(conn: &Connection, project: &str, q: &TraceQuery) -> StoreResult<i64> {
    let Some((i, n)) = rarest_tag(conn, project, q)? else {
        let (filter, args) = trace_filter(project, q);
        return Ok(conn.query_row(
            &format!("SELECT count(*) FROM traces t WHERE {filter}"),
            params_from_iter(args.iter()),
            |r| r.get(0),
        )?);
    };
    if n == 0 {
        return Ok(0);
    }
    let (rest, mut args) = without_tag(project, q, i);
    let sql = if only_tag_filters(&rest) {
        let mut sql = format!("SELECT count(*) FROM {FROM_TAG} WHERE {BY_TAG}");
        for tag in &rest.tags {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM trace_tags g WHERE g.trace = g0.trace \
                 AND g.key = ? AND g.value = ?)",
            );
            args.push(tag.key.clone().into());
            args.push(tag.value.clone().into());
        }
        sql
    } else {
        let (filter, filter_args) = trace_filter(project, &rest);
        args.extend(filter_args);
        format!(
            "SELECT count(*) FROM {FROM_TAG} CROSS JOIN traces t ON t.id = g0.trace \
             WHERE {BY_TAG} AND {filter}"
        )
    };
    Ok(conn.query_row(&sql, params_from_iter(args.iter()), |r| r.get(0))?)
}

/// Below this many matches, a page is read from the rarest tag's rows and sorted, rather
/// than by scanning the traces in the page's order until it is full.
const FEW_TAGGED: i64 = 5_000;

fn list_traces_sync(conn: &Connection, project: &str, q: &TraceQuery) -> StoreResult<TracePage> {
    let total = count_traces(conn, project, q)?;
    let (filter, args) = match rarest_tag(conn, project, q)? {
        Some((i, n)) if n <= FEW_TAGGED => {
            let (rest, mut args) = without_tag(project, q, i);
            let (filter, filter_args) = trace_filter(project, &rest);
            args.extend(filter_args);
            (format!("{BY_TAG} AND {filter}"), args)
        }
        _ => trace_filter(project, q),
    };

    let (column, descending) = match q.sort {
        TraceSort::StartDesc => ("start_ns", true),
        TraceSort::StartAsc => ("start_ns", false),
        TraceSort::DurationDesc => ("duration_ns", true),
        TraceSort::DurationAsc => ("duration_ns", false),
    };
    let from = if filter.starts_with(BY_TAG) {
        format!("{FROM_TAG} CROSS JOIN traces t ON t.id = g0.trace")
    } else {
        "traces t".to_string()
    };
    let mut sql = format!("SELECT {TRACE_COLUMNS} FROM {from} WHERE {filter}");
    let mut args = args;
    if let Some(cursor) = &q.cursor {
        let (key, id) = parse_cursor(cursor)?;
        let op = if descending { "<" } else { ">" };
        sql.push_str(&format!(" AND (t.{column}, t.trace_id) {op} (?, ?)"));
        args.push(key.into());
        args.push(id.into());
    }
    let dir = if descending { "DESC" } else { "ASC" };
    let limit = q.limit();
    sql.push_str(&format!(
        " ORDER BY t.{column} {dir}, t.trace_id {dir} LIMIT {}",
        limit + 1
    ));
    let mut stmt = conn.prepare(&sql)?;
    let mut traces = stmt
        .query_map(params_from_iter(args.iter()), trace_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if traces.len() > limit as usize {
        traces.truncate(limit as usize);
        traces.last().map(|t| {
            let key = if column == "start_ns" {
                t.start_ns
            } else {
                t.duration_ns()
            };
            format!("{key}.{}", t.trace_id)
        })
    } else {
        None
    };
    metrics::add_feedback_summaries(conn, project, &mut traces)?;
    Ok(TracePage {
        traces,
        total: total as u64,
        next_cursor,
    })
}

fn trace_sync(
    conn: &Connection,
    project: &str,
    trace_id: &str,
) -> StoreResult<Option<TraceSkeleton>> {
    let Some((summary, id)) = conn
        .prepare_cached(&format!(
            "SELECT {TRACE_COLUMNS}, id FROM traces WHERE project = ?1 AND trace_id = ?2"
        ))?
        .query_row(params![project, trace_id], |r| {
            Ok((trace_from_row(r)?, r.get::<_, i64>(17)?))
        })
        .optional()?
    else {
        return Ok(None);
    };
    struct RawSpan {
        span_id: String,
        parent: Option<String>,
        name: String,
        service: String,
        span_type: u8,
        start_ns: i64,
        end_ns: i64,
        status: u8,
        tokens: i64,
        kind: u8,
        cost: f64,
    }
    let mut stmt = conn.prepare_cached(
        "SELECT span_id, parent_span_id, name, service, span_type, start_ns, end_ns, status, tokens, \
         kind, cost FROM spans WHERE trace = ?1",
    )?;
    let raw = stmt
        .query_map(params![id], |r| {
            Ok(RawSpan {
                span_id: r.get(0)?,
                parent: r.get(1)?,
                name: r.get(2)?,
                service: r.get(3)?,
                span_type: r.get(4)?,
                start_ns: r.get(5)?,
                end_ns: r.get(6)?,
                status: r.get(7)?,
                tokens: r.get(8)?,
                kind: r.get(9)?,
                cost: r.get(10)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let inputs = raw
        .iter()
        .map(|s| SkeletonSpanInput {
            span_id: &s.span_id,
            parent_span_id: s.parent.as_deref(),
            name: &s.name,
            service: &s.service,
            span_type: skein_model::SpanType::from_code(s.span_type),
            start_ns: s.start_ns,
            end_ns: s.end_ns,
            status: SpanStatus::from_code(s.status),
            tokens: s.tokens,
            kind: skein_model::SpanKind::from_code(s.kind),
            cost: s.cost,
        })
        .collect();
    Ok(Some(TraceSkeleton::build(summary, inputs)))
}

#[async_trait]
impl Store for SqliteStore {
    async fn write_spans(&self, spans: Vec<Span>) -> StoreResult<WriteOutcome> {
        if spans.is_empty() {
            return Ok(WriteOutcome::default());
        }
        // The places in the queue first: a refused request costs no encoding.
        let places = self.reserve(spans.len())?;
        let rows = encode_rows(spans, &self.dict, &self.encoders).await?;
        match self.send(WriteOp::Spans(rows), places).await? {
            WriteReply::Spans(outcome) => Ok(outcome),
            _ => Err(StoreError::Backend("unexpected writer reply".into())),
        }
    }

    async fn upsert_spans(&self, spans: Vec<Span>, merge: SpanMerge) -> StoreResult<WriteOutcome> {
        if spans.is_empty() {
            return Ok(WriteOutcome::default());
        }
        match self.submit(WriteOp::Upsert(spans, merge)).await? {
            WriteReply::Spans(outcome) => Ok(outcome),
            _ => Err(StoreError::Backend("unexpected writer reply".into())),
        }
    }

    async fn find_spans(&self, span_id: &str, limit: u32) -> StoreResult<Vec<Span>> {
        let span_id = span_id.to_string();
        self.read(move |c| lookup::find_spans(c, &span_id, limit))
            .await
    }

    async fn trace_spans(&self, project: &str, trace_id: &str) -> StoreResult<Vec<Span>> {
        let (project, trace_id) = (project.to_string(), trace_id.to_string());
        self.read(move |c| lookup::trace_spans(c, &project, &trace_id))
            .await
    }

    async fn list_traces(&self, project: &str, query: &TraceQuery) -> StoreResult<TracePage> {
        let project = project.to_string();
        let query = query.clone();
        self.read(move |c| list_traces_sync(c, &project, &query))
            .await
    }

    async fn metrics(&self, project: &str, query: &MetricQuery) -> StoreResult<MetricResponse> {
        let (project, query) = (project.to_string(), query.clone());
        self.read(move |c| metrics::metrics(c, &project, &query))
            .await
    }

    async fn trace(&self, project: &str, trace_id: &str) -> StoreResult<Option<TraceSkeleton>> {
        let (project, trace_id) = (project.to_string(), trace_id.to_string());
        self.read(move |c| trace_sync(c, &project, &trace_id)).await
    }

    async fn span(
        &self,
        project: &str,
        trace_id: &str,
        span_id: &str,
    ) -> StoreResult<Option<Span>> {
        let (project, trace_id, span_id) = (
            project.to_string(),
            trace_id.to_string(),
            span_id.to_string(),
        );
        self.read(move |c| {
            let body: Option<Vec<u8>> = c
                .prepare_cached(
                    "SELECT s.body FROM traces t JOIN spans s ON s.trace = t.id \
                     WHERE t.project = ?1 AND t.trace_id = ?2 AND s.span_id = ?3",
                )?
                .query_row(params![project, trace_id, span_id], |r| r.get(0))
                .optional()?;
            body.map(|b| codec::decode(c, &b)).transpose()
        })
        .await
    }

    async fn projects(&self) -> StoreResult<Vec<ProjectInfo>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT project, count(*), sum(span_count), max(end_ns) FROM traces \
                 GROUP BY project ORDER BY project",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(ProjectInfo {
                        name: r.get(0)?,
                        trace_count: r.get::<_, i64>(1)? as u64,
                        span_count: r.get::<_, i64>(2)? as u64,
                        last_seen_ns: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn services(&self, project: &str) -> StoreResult<Vec<ServiceInfo>> {
        let project = project.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT name, span_count, error_count FROM services WHERE project = ?1 \
                 ORDER BY span_count DESC, name",
            )?;
            let rows = stmt
                .query_map(params![project], |r| {
                    Ok(ServiceInfo {
                        name: r.get(0)?,
                        span_count: r.get::<_, i64>(1)? as u64,
                        error_count: r.get::<_, i64>(2)? as u64,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn tag_keys(&self, project: &str) -> StoreResult<Vec<TagKeyInfo>> {
        let project = project.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT key, sum(trace_count) AS n FROM tag_values WHERE project = ?1 \
                 GROUP BY key HAVING n > 0 ORDER BY n DESC, key LIMIT 500",
            )?;
            let rows = stmt
                .query_map(params![project], |r| {
                    Ok(TagKeyInfo {
                        key: r.get(0)?,
                        trace_count: r.get::<_, i64>(1)? as u64,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn tag_values(
        &self,
        project: &str,
        key: &str,
        prefix: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<TagValueInfo>> {
        let (project, key) = (project.to_string(), key.to_string());
        let pattern = format!(
            "{}%",
            prefix
                .unwrap_or("")
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let limit = limit.clamp(1, 1000);
        self.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT value, trace_count FROM tag_values WHERE project = ?1 AND key = ?2 \
                 AND trace_count > 0 AND value LIKE ?3 ESCAPE '\\' \
                 ORDER BY trace_count DESC, value LIMIT ?4",
            )?;
            let rows = stmt
                .query_map(params![project, key, pattern, limit], |r| {
                    Ok(TagValueInfo {
                        value: r.get(0)?,
                        trace_count: r.get::<_, i64>(1)? as u64,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn create_feedback(&self, project: &str, feedback: NewFeedback) -> StoreResult<Feedback> {
        match self
            .submit(WriteOp::CreateFeedback(project.to_string(), feedback))
            .await?
        {
            WriteReply::Feedback(Some(f)) => Ok(f),
            _ => Err(StoreError::Backend("unexpected writer reply".into())),
        }
    }

    async fn update_feedback(
        &self,
        project: &str,
        id: &str,
        update: FeedbackUpdate,
    ) -> StoreResult<Option<Feedback>> {
        match self
            .submit(WriteOp::UpdateFeedback(
                project.to_string(),
                id.to_string(),
                update,
            ))
            .await?
        {
            WriteReply::Feedback(f) => Ok(f),
            _ => Err(StoreError::Backend("unexpected writer reply".into())),
        }
    }

    async fn delete_feedback(&self, project: &str, id: &str) -> StoreResult<bool> {
        match self
            .submit(WriteOp::DeleteFeedback(project.to_string(), id.to_string()))
            .await?
        {
            WriteReply::Deleted(d) => Ok(d),
            _ => Err(StoreError::Backend("unexpected writer reply".into())),
        }
    }

    async fn list_feedback(
        &self,
        project: &str,
        filter: FeedbackFilter,
    ) -> StoreResult<Vec<Feedback>> {
        let project = project.to_string();
        self.read(move |c| {
            let mut sql = format!("SELECT {FEEDBACK_COLUMNS} FROM feedback f WHERE f.project = ?");
            let mut args: Vec<SqlValue> = vec![project.clone().into()];
            if let Some(run) = &filter.run_id {
                sql.push_str(" AND f.run_id = ?");
                args.push(run.clone().into());
            }
            if let Some(trace) = &filter.trace_id {
                // Feedback gets its run's trace when written, or when its run arrives.
                sql.push_str(" AND f.trace_id = ?");
                args.push(trace.clone().into());
            }
            if let Some(key) = &filter.key {
                sql.push_str(" AND f.key = ?");
                args.push(key.clone().into());
            }
            let limit = filter.limit.unwrap_or(1000).clamp(1, 10_000);
            sql.push_str(&format!(" ORDER BY f.created_ms, f.id LIMIT {limit}"));
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt
                .query_map(params_from_iter(args.iter()), feedback_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skein_model::TagFilter;

    fn span(trace: &str, id: &str, parent: Option<&str>, start: i64) -> Span {
        Span {
            project: "p".into(),
            trace_id: trace.repeat(32 / trace.len()),
            span_id: id.repeat(16 / id.len()),
            parent_span_id: parent.map(|p| p.repeat(16 / p.len())),
            name: format!("span-{id}"),
            service: format!("svc-{id}"),
            start_ns: start,
            end_ns: start + 1_000_000,
            ..Span::default()
        }
    }

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(SqliteOptions::new(dir.path().join("skein.db"))).unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn summary_is_right_whatever_the_arrival_order() {
        let (_dir, store) = store();
        let mut child = span("a", "2", Some("1"), 2_000_000);
        child.status = SpanStatus::Error;
        child.input_tokens = Some(10);
        child.tags.insert("env".into(), "child-env".into());
        store.write_spans(vec![child]).await.unwrap();

        let page = store
            .list_traces("p", &TraceQuery::default())
            .await
            .unwrap();
        assert_eq!(page.traces[0].root_name, "span-2");
        assert!(!page.traces[0].has_root);

        let mut root = span("a", "1", None, 1_000_000);
        root.tags.insert("env".into(), "production".into());
        store.write_spans(vec![root.clone()]).await.unwrap();
        // A retried request is acknowledged and not counted twice.
        let outcome = store.write_spans(vec![root]).await.unwrap();
        assert_eq!(outcome.duplicates, 1);

        let page = store
            .list_traces("p", &TraceQuery::default())
            .await
            .unwrap();
        let t = &page.traces[0];
        assert_eq!(t.root_name, "span-1");
        assert_eq!(t.span_count, 2);
        assert_eq!(t.error_count, 1);
        assert_eq!(t.status, SpanStatus::Error);
        assert_eq!(t.start_ns, 1_000_000);
        assert_eq!(t.end_ns, 3_000_000);
        assert_eq!(t.services, vec!["svc-1", "svc-2"]);
        assert_eq!(t.tags["env"], "production");
        assert_eq!(t.input_tokens, 10);

        let env = |v: &str| TraceQuery {
            tags: vec![TagFilter::parse(&format!("env={v}")).unwrap()],
            ..TraceQuery::default()
        };
        assert_eq!(
            store
                .list_traces("p", &env("production"))
                .await
                .unwrap()
                .total,
            1
        );
        assert_eq!(
            store
                .list_traces("p", &env("child-env"))
                .await
                .unwrap()
                .total,
            0
        );
        let values = store.tag_values("p", "env", None, 10).await.unwrap();
        assert_eq!(values.len(), 1, "{values:?}");
        assert_eq!(values[0].value, "production");
        // Other projects see nothing.
        assert_eq!(
            store
                .list_traces("q", &TraceQuery::default())
                .await
                .unwrap()
                .total,
            0
        );
    }

    #[tokio::test]
    async fn pages_follow_the_cursor_without_gaps() {
        let (_dir, store) = store();
        let spans = (0..25)
            .map(|i| {
                let mut s = span("b", "1", None, i * 1_000);
                s.trace_id = format!("{:032x}", i + 1);
                s
            })
            .collect();
        store.write_spans(spans).await.unwrap();
        let mut query = TraceQuery {
            limit: Some(10),
            ..TraceQuery::default()
        };
        let mut seen = Vec::new();
        loop {
            let page = store.list_traces("p", &query).await.unwrap();
            assert_eq!(page.total, 25);
            seen.extend(page.traces.iter().map(|t| t.start_ns));
            match page.next_cursor {
                Some(c) => query.cursor = Some(c),
                None => break,
            }
        }
        let expected: Vec<i64> = (0..25).rev().map(|i| i * 1_000).collect();
        assert_eq!(seen, expected);
    }

    #[tokio::test]
    async fn tag_filters_count_and_page_like_a_scan_would() {
        let (_dir, store) = store();
        // 60 traces: env alternates, tier cycles over 3, every 5th fails, durations grow.
        let spans: Vec<Span> = (0..60)
            .map(|i: i64| {
                let mut s = span("1", "1", None, i * 1_000);
                s.trace_id = format!("{:032x}", i + 1);
                s.end_ns = s.start_ns + (i + 1) * 1_000_000;
                s.tags
                    .insert("env".into(), ["prod", "dev"][i as usize % 2].into());
                s.tags
                    .insert("tier".into(), ["a", "b", "c"][i as usize % 3].into());
                if i % 5 == 0 {
                    s.status = SpanStatus::Error;
                }
                s
            })
            .collect();
        store.write_spans(spans).await.unwrap();
        let tag = |t: &str| TagFilter::parse(t).unwrap();
        let cases: Vec<(TraceQuery, Vec<i64>)> = vec![
            (
                TraceQuery {
                    tags: vec![tag("env=prod")],
                    ..TraceQuery::default()
                },
                (0..60).filter(|i| i % 2 == 0).collect(),
            ),
            (
                TraceQuery {
                    tags: vec![tag("env=prod"), tag("tier=b")],
                    ..TraceQuery::default()
                },
                (0..60).filter(|i| i % 2 == 0 && i % 3 == 1).collect(),
            ),
            (
                TraceQuery {
                    tags: vec![tag("tier=a"), tag("env=dev")],
                    status: Some(StatusFilter::Error),
                    ..TraceQuery::default()
                },
                (0..60)
                    .filter(|i| i % 3 == 0 && i % 2 == 1 && i % 5 == 0)
                    .collect(),
            ),
            (
                TraceQuery {
                    tags: vec![tag("tier=c")],
                    min_duration_ms: Some(30.0),
                    ..TraceQuery::default()
                },
                (0..60).filter(|i| i % 3 == 2 && i + 1 >= 30).collect(),
            ),
            (
                TraceQuery {
                    tags: vec![tag("tier=c"), tag("env=nowhere")],
                    ..TraceQuery::default()
                },
                vec![],
            ),
        ];
        for (mut query, expected) in cases {
            query.limit = Some(4);
            let mut seen = Vec::new();
            loop {
                let page = store.list_traces("p", &query).await.unwrap();
                assert_eq!(page.total, expected.len() as u64, "{query:?}");
                seen.extend(page.traces.iter().map(|t| t.start_ns / 1_000));
                match page.next_cursor {
                    Some(c) => query.cursor = Some(c),
                    None => break,
                }
            }
            let newest_first: Vec<i64> = expected.iter().rev().copied().collect();
            assert_eq!(seen, newest_first, "{query:?}");
        }
    }

    #[test]
    fn a_failing_job_fails_alone_in_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("skein.db");
        let mut conn = Connection::open(&path).unwrap();
        configure_writer(&conn).unwrap();
        migrate(&mut conn).unwrap();
        upsert::ensure_schema(&conn).unwrap();
        let dict = Arc::new(CurrentDict::load(&conn).unwrap());
        let mut writer = Writer {
            next_trace_id: next_trace_id(&conn).unwrap(),
            checkpoints: checkpointer::start(&path, dict.clone(), None).unwrap(),
            dict,
            conn,
        };
        let feedback = |id: &str| NewFeedback {
            id: Some(id.into()),
            run_id: "1111111111111111".into(),
            key: "k".into(),
            score: Some(1.0),
            ..NewFeedback::default()
        };
        let job = |op| WriteJob {
            op,
            reply: oneshot::channel().0,
        };
        let row = |trace: &str| SpanRow::encode(span(trace, "1", None, 5), None).unwrap();
        let jobs = vec![
            job(WriteOp::Spans(vec![row("a")])),
            job(WriteOp::CreateFeedback("p".into(), feedback("f1"))),
            // The same feedback id in another project is refused...
            job(WriteOp::CreateFeedback("q".into(), feedback("f1"))),
            // ...and only that job fails.
            job(WriteOp::Spans(vec![row("b")])),
        ];
        let results = commit_batch(&mut writer, &jobs);
        assert!(matches!(results[0], Ok(WriteReply::Spans(o)) if o.inserted == 1));
        assert!(matches!(results[1], Ok(WriteReply::Feedback(Some(_)))));
        assert!(
            matches!(results[2], Err(StoreError::Invalid(_))),
            "{:?}",
            results[2].as_ref().err()
        );
        assert!(matches!(results[3], Ok(WriteReply::Spans(o)) if o.inserted == 1));
        let count = |sql: &str| -> i64 { writer.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count("SELECT count(*) FROM traces"), 2);
        assert_eq!(count("SELECT count(*) FROM spans"), 2);
        assert_eq!(
            count("SELECT count(*) FROM feedback WHERE project = 'p'"),
            1
        );
        // Trace ids stay unique and in arrival order, whatever the retries.
        assert_eq!(count("SELECT count(DISTINCT trace) FROM spans"), 2);
    }

    #[tokio::test]
    async fn feedback_is_found_through_its_run() {
        let (_dir, store) = store();
        let root = span("c", "1", None, 0);
        store.write_spans(vec![root.clone()]).await.unwrap();
        let f = store
            .create_feedback(
                "p",
                NewFeedback {
                    run_id: root.span_id.clone(),
                    key: "user_satisfaction".into(),
                    score: Some(1.0),
                    comment: Some("great".into()),
                    ..NewFeedback::default()
                },
            )
            .await
            .unwrap();
        let by_trace = FeedbackFilter {
            trace_id: Some(root.trace_id.clone()),
            ..FeedbackFilter::default()
        };
        let listed = store.list_feedback("p", by_trace.clone()).await.unwrap();
        assert_eq!(listed, vec![f.clone()]);
        let updated = store
            .update_feedback(
                "p",
                &f.id,
                FeedbackUpdate {
                    score: Some(0.0),
                    ..FeedbackUpdate::default()
                },
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(updated.score, Some(0.0));
        assert_eq!(updated.comment.as_deref(), Some("great"));
        assert!(!store.delete_feedback("other", &f.id).await.unwrap());
        assert!(store.delete_feedback("p", &f.id).await.unwrap());
        assert!(store.list_feedback("p", by_trace).await.unwrap().is_empty());
    }
}
