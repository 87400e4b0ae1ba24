//! The default backend: one SQLite file (WAL) under the data dir.
//!
//! Writes go through one writer thread that commits whatever is queued in a single
//! transaction (group commit), each request in its own savepoint so a bad one cannot fail its
//! neighbours; a request is answered only after the commit. Reads use a small pool of
//! read-only connections, which WAL lets run alongside the writer.
//!
//! Schema, chosen from the measurements in TOOLCHAIN.md: a span is one row with its full JSON
//! body last (attributes as JSON, not per-attribute rows); `traces` holds one summary row per
//! trace, updated incrementally as spans arrive in any order; metadata tags are kept per trace
//! (`trace_tags`), not per span, with counts per value (`tag_values`) for suggestions.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension, Row};
use skein_model::metrics::{MetricQuery, MetricResponse};
use skein_model::span::{Span, SpanStatus};
use skein_model::{
    Feedback, FeedbackUpdate, NewFeedback, ProjectInfo, ServiceInfo, SkeletonSpanInput,
    StatusFilter, TagKeyInfo, TagValueInfo, TracePage, TraceQuery, TraceSkeleton, TraceSort,
    TraceSummary,
};
use tokio::sync::{mpsc, oneshot};

use super::{FeedbackFilter, SpanMerge, Store, StoreError, StoreResult, WriteOutcome};

pub mod keys;
mod lookup;
mod metrics;
mod sessions;
mod upsert;

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
}

impl SqliteOptions {
    pub fn new(path: impl Into<PathBuf>) -> SqliteOptions {
        SqliteOptions {
            path: path.into(),
            max_queued_spans: 200_000,
            max_batch_spans: 20_000,
            read_connections: 4,
        }
    }
}

pub struct SqliteStore {
    writer: mpsc::UnboundedSender<WriteJob>,
    queued_spans: Arc<AtomicUsize>,
    max_queued_spans: usize,
    readers: Arc<ReaderPool>,
}

enum WriteOp {
    Spans(Vec<Span>),
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
    reply: oneshot::Sender<StoreResult<WriteReply>>,
}

impl WriteJob {
    fn span_count(&self) -> usize {
        match &self.op {
            WriteOp::Spans(spans) | WriteOp::Upsert(spans, _) => spans.len(),
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
        migrate(&mut conn)?;
        upsert::ensure_schema(&conn)?;

        // Unbounded channel, bounded by `queued_spans`: the limit is in spans, not requests.
        let (tx, rx) = mpsc::unbounded_channel();
        let queued_spans = Arc::new(AtomicUsize::new(0));
        let queued = queued_spans.clone();
        let max_batch = options.max_batch_spans.max(1);
        std::thread::Builder::new()
            .name("skein-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, queued, max_batch))
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
        })
    }

    async fn submit(&self, op: WriteOp) -> StoreResult<WriteReply> {
        let (reply, answer) = oneshot::channel();
        let job = WriteJob { op, reply };
        let n = job.span_count();
        let before = self.queued_spans.fetch_add(n, Ordering::SeqCst);
        if before > 0 && before + n > self.max_queued_spans {
            self.queued_spans.fetch_sub(n, Ordering::SeqCst);
            return Err(StoreError::Overloaded {
                retry_after_secs: 1,
            });
        }
        if self.writer.send(job).is_err() {
            self.queued_spans.fetch_sub(n, Ordering::SeqCst);
            return Err(StoreError::Closed);
        }
        answer.await.map_err(|_| StoreError::Closed)?
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

fn configure_writer(conn: &Connection) -> StoreResult<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a commit is on disk (fsync of the WAL) before the request is acknowledged. Group
    // commit keeps that to one fsync per batch.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    conn.pragma_update(None, "cache_size", -64_000)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

const SCHEMA_VERSION: i64 = 1;

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Backend(format!(
            "the database was written by a newer Skein (schema {version}, this one knows {SCHEMA_VERSION})"
        )));
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction()?;
    tx.execute_batch(
        r#"
        CREATE TABLE IF NOT EXISTS spans (
            id INTEGER PRIMARY KEY,
            project TEXT NOT NULL,
            trace_id TEXT NOT NULL,
            span_id TEXT NOT NULL,
            parent_span_id TEXT,
            name TEXT NOT NULL,
            span_type INTEGER NOT NULL,
            service TEXT NOT NULL,
            start_ns INTEGER NOT NULL,
            end_ns INTEGER NOT NULL,
            status INTEGER NOT NULL,
            tokens INTEGER NOT NULL,
            body TEXT NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS spans_by_trace ON spans (project, trace_id, span_id);

        CREATE TABLE IF NOT EXISTS traces (
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
            PRIMARY KEY (project, trace_id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS traces_by_start ON traces (project, start_ns, trace_id);
        CREATE INDEX IF NOT EXISTS traces_by_duration ON traces (project, duration_ns, trace_id);
        CREATE INDEX IF NOT EXISTS traces_by_session ON traces (project, session_id, start_ns);
        CREATE INDEX IF NOT EXISTS traces_by_user ON traces (project, user_id, start_ns);

        CREATE TABLE IF NOT EXISTS trace_tags (
            project TEXT NOT NULL,
            trace_id TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (project, trace_id, key)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS trace_tags_by_value ON trace_tags (project, key, value);

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
        "#,
    )?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Writing

fn writer_loop(
    mut conn: Connection,
    mut rx: mpsc::UnboundedReceiver<WriteJob>,
    queued: Arc<AtomicUsize>,
    max_batch: usize,
) {
    while let Some(first) = rx.blocking_recv() {
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
        let results = commit_batch(&mut conn, &jobs);
        queued.fetch_sub(batch_spans, Ordering::SeqCst);
        for (job, result) in jobs.into_iter().zip(results) {
            // The client may have gone away; its data is committed all the same.
            let _ = job.reply.send(result);
        }
    }
}

/// Runs every job in one transaction, each in a savepoint. If the commit itself fails, every
/// job gets the error (nothing of the batch was stored).
fn commit_batch(conn: &mut Connection, jobs: &[WriteJob]) -> Vec<StoreResult<WriteReply>> {
    let mut tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return jobs.iter().map(|_| Err(e.clone_error())).collect(),
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        let result = (|| {
            let sp = tx.savepoint()?;
            let reply = apply(&sp, &job.op)?;
            sp.commit()?;
            Ok(reply)
        })();
        results.push(result);
    }
    match tx.commit() {
        Ok(()) => results,
        Err(e) => jobs.iter().map(|_| Err(e.clone_error())).collect(),
    }
}

trait CloneError {
    fn clone_error(&self) -> StoreError;
}

impl CloneError for rusqlite::Error {
    fn clone_error(&self) -> StoreError {
        StoreError::Backend(self.to_string())
    }
}

fn apply(conn: &Connection, op: &WriteOp) -> StoreResult<WriteReply> {
    match op {
        WriteOp::Spans(spans) => insert_spans(conn, spans).map(WriteReply::Spans),
        WriteOp::Upsert(spans, merge) => {
            upsert::upsert_spans(conn, spans, *merge).map(WriteReply::Spans)
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

    fn add(&mut self, span: &Span) {
        self.start_ns = self.start_ns.min(span.start_ns);
        self.end_ns = self.end_ns.max(span.end_ns.max(span.start_ns));
        self.span_count += 1;
        if span.status.is_error() {
            self.error_count += 1;
        }
        push_unique(&mut self.services, &span.service, MAX_TRACE_SERVICES);
        for (k, v) in &span.tags {
            if self.tags.len() < MAX_TRACE_TAGS || self.tags.contains_key(k) {
                self.tags.entry(k.clone()).or_insert_with(|| v.clone());
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

// Not `or_default()`: `TraceDelta::new` starts from MAX/MIN times, `Default` from zeros.
#[allow(clippy::unwrap_or_default)]
fn insert_spans(conn: &Connection, spans: &[Span]) -> StoreResult<WriteOutcome> {
    let mut outcome = WriteOutcome::default();
    let mut deltas: HashMap<(&str, &str), TraceDelta> = HashMap::new();
    let mut services: HashMap<(&str, &str), (i64, i64)> = HashMap::new();
    {
        let mut insert = conn.prepare_cached(
            "INSERT OR IGNORE INTO spans (project, trace_id, span_id, parent_span_id, name, \
             span_type, service, start_ns, end_ns, status, tokens, body) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for span in spans {
            let body = serde_json::to_string(span)
                .map_err(|e| StoreError::Backend(format!("cannot encode span: {e}")))?;
            let n = insert.execute(params![
                span.project,
                span.trace_id,
                span.span_id,
                span.parent_span_id,
                span.name,
                span.span_type.code(),
                span.service,
                span.start_ns,
                span.end_ns,
                span.status.code(),
                span.total_tokens().unwrap_or(0),
                body,
            ])?;
            if n == 0 {
                outcome.duplicates += 1;
                continue;
            }
            outcome.inserted += 1;
            deltas
                .entry((&span.project, &span.trace_id))
                .or_insert_with(TraceDelta::new)
                .add(span);
            let counts = services
                .entry((&span.project, &span.service))
                .or_insert((0, 0));
            counts.0 += 1;
            counts.1 += i64::from(span.status.is_error());
        }
    }
    for ((project, trace_id), delta) in deltas {
        merge_trace(conn, project, trace_id, delta)?;
    }
    let mut upsert_service = conn.prepare_cached(
        "INSERT INTO services (project, name, span_count, error_count) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (project, name) DO UPDATE SET \
         span_count = span_count + excluded.span_count, error_count = error_count + excluded.error_count",
    )?;
    for ((project, name), (count, errors)) in services {
        upsert_service.execute(params![project, name, count, errors])?;
    }
    Ok(outcome)
}

/// The stored summary of a trace plus the bookkeeping needed to merge into it.
struct TraceRow {
    summary: TraceSummary,
    first_name_start_ns: i64,
}

fn merge_trace(
    conn: &Connection,
    project: &str,
    trace_id: &str,
    delta: TraceDelta,
) -> StoreResult<()> {
    let existing = conn
        .prepare_cached(&format!(
            "SELECT {TRACE_COLUMNS}, first_name_start_ns FROM traces WHERE project = ?1 AND trace_id = ?2"
        ))?
        .query_row(params![project, trace_id], |row| {
            Ok(TraceRow {
                summary: trace_from_row(row)?,
                first_name_start_ns: row.get(16)?,
            })
        })
        .optional()?;
    let old_tags = existing
        .as_ref()
        .map(|r| r.summary.tags.clone())
        .unwrap_or_default();
    let mut row = existing.unwrap_or_else(|| TraceRow {
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
    conn.prepare_cached(
        "INSERT OR REPLACE INTO traces (project, trace_id, root_name, root_span_id, start_ns, end_ns, \
         duration_ns, span_count, error_count, status, services, tags, session_id, user_id, \
         input_tokens, output_tokens, cost, first_name_start_ns) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )?
    .execute(params![
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
    ])?;

    for (key, value) in &t.tags {
        let old = old_tags.get(key);
        if old == Some(value) {
            continue;
        }
        conn.prepare_cached(
            "INSERT OR REPLACE INTO trace_tags (project, trace_id, key, value) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![project, trace_id, key, value])?;
        if let Some(old) = old {
            conn.prepare_cached(
                "UPDATE tag_values SET trace_count = trace_count - 1 \
                 WHERE project = ?1 AND key = ?2 AND value = ?3",
            )?
            .execute(params![project, key, old])?;
        }
        conn.prepare_cached(
            "INSERT INTO tag_values (project, key, value, trace_count) VALUES (?1, ?2, ?3, 1) \
             ON CONFLICT (project, key, value) DO UPDATE SET trace_count = trace_count + 1",
        )?
        .execute(params![project, key, value])?;
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
    let feedback = Feedback {
        id,
        project: project.to_string(),
        run_id: new.run_id.clone(),
        trace_id: new.trace_id.clone(),
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

const TRACE_COLUMNS: &str = "trace_id, root_name, root_span_id, start_ns, end_ns, span_count, \
    error_count, status, services, tags, session_id, user_id, input_tokens, output_tokens, cost, \
    duration_ns";

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
    if let Some(from) = q.from_ms {
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
            " AND EXISTS (SELECT 1 FROM trace_tags g WHERE g.project = t.project \
             AND g.trace_id = t.trace_id AND g.key = ? AND g.value = ?)",
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

fn list_traces_sync(conn: &Connection, project: &str, q: &TraceQuery) -> StoreResult<TracePage> {
    let (filter, args) = trace_filter(project, q);
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM traces t WHERE {filter}"),
        params_from_iter(args.iter()),
        |r| r.get(0),
    )?;

    let (column, descending) = match q.sort {
        TraceSort::StartDesc => ("start_ns", true),
        TraceSort::StartAsc => ("start_ns", false),
        TraceSort::DurationDesc => ("duration_ns", true),
        TraceSort::DurationAsc => ("duration_ns", false),
    };
    let mut sql = format!("SELECT {TRACE_COLUMNS} FROM traces t WHERE {filter}");
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
    let Some(summary) = conn
        .prepare_cached(&format!(
            "SELECT {TRACE_COLUMNS} FROM traces WHERE project = ?1 AND trace_id = ?2"
        ))?
        .query_row(params![project, trace_id], trace_from_row)
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
    }
    let mut stmt = conn.prepare_cached(
        "SELECT span_id, parent_span_id, name, service, span_type, start_ns, end_ns, status, tokens \
         FROM spans WHERE project = ?1 AND trace_id = ?2",
    )?;
    let raw = stmt
        .query_map(params![project, trace_id], |r| {
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
        match self.submit(WriteOp::Spans(spans)).await? {
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
            let body: Option<String> = c
                .prepare_cached(
                    "SELECT body FROM spans WHERE project = ?1 AND trace_id = ?2 AND span_id = ?3",
                )?
                .query_row(params![project, trace_id, span_id], |r| r.get(0))
                .optional()?;
            body.map(|b| {
                serde_json::from_str(&b)
                    .map_err(|e| StoreError::Backend(format!("stored span is unreadable: {e}")))
            })
            .transpose()
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
                // Feedback posted without a trace id is found through its run's span.
                sql.push_str(
                    " AND (f.trace_id = ? OR (f.trace_id IS NULL AND f.run_id IN \
                     (SELECT span_id FROM spans WHERE project = f.project AND trace_id = ?)))",
                );
                args.push(trace.clone().into());
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
