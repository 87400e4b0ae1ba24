//! The default engine: one SQLite file (WAL) under the data dir, no set-up.
//!
//! - `schema`: the layout and its migrations;
//! - `writer`: the one writer thread (group commit) and its jobs;
//! - `traces`: spans in, and the trace summaries folded from them; `pieces`: spans that arrive
//!   in pieces;
//! - `feedback`, `score_configs`, `queues`, `keys`: feedback records; score configs and feedback
//!   settings; annotation queues; projects and API keys;
//! - `readers`: the pool of read-only connections; `read_api`: the store contract's reads, each
//!   answered by one of `list`, `reads`, `catalog`, `metrics`, `sessions`, `service_graph`;
//! - `codec`: span bodies (zstd with a trained dictionary); `checkpointer`: WAL checkpoints on
//!   their own thread.
//!
//! A span is one row with its full body last, encoded on the caller's thread; `traces` holds
//! one summary row per trace, folded as spans arrive in any order; metadata tags are kept per
//! trace (`trace_tags`), with counts per value (`tag_values`) for suggestions.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::Connection;
use skein_model::span::Span;
use skein_model::{Feedback, FeedbackUpdate, NewFeedback};
use tokio::sync::{mpsc, oneshot};

use super::keys::{KeyInfo, KeyStore, KeyTable, NewKey, StoredKey};
use super::{
    EngineInfo, FeedbackFilter, FeedbackStore, ReceivedBatch, SpanStore, Store, StoreError,
    StoreResult, WriteOutcome,
};

mod catalog;
mod checkpointer;
mod codec;
mod cohort;
mod error;
mod expire;
mod feedback;
mod keys;
mod leased;
mod list;
mod metrics;
mod pairwise;
mod pieces;
mod queues;
mod read_api;
mod readers;
mod reads;
mod received;
mod schema;
mod score_configs;
#[cfg(test)]
mod search_pages;
mod service_graph;
mod sessions;
mod span_facts;
mod span_list;
mod span_metrics;
mod span_text;
mod traces;
mod writer;

pub use keys::SqliteKeys;

use crate::clock::now_ms;
use codec::{CurrentDict, SpanRow};
use readers::ReaderPool;
use writer::{writer_loop, WriteJob, WriteOp, WriteReply, Writer};

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
    keys: SqliteKeys,
    writer: mpsc::UnboundedSender<WriteJob>,
    queued_spans: Arc<AtomicUsize>,
    max_queued_spans: usize,
    readers: Arc<ReaderPool>,
    /// The dictionary bodies are compressed with (trained by the checkpoint thread).
    dict: Arc<CurrentDict>,
    /// Requests being encoded at once (`encode_rows`): one per core.
    encoders: tokio::sync::Semaphore,
    /// Set while the last write failed for lack of disk space (`Store::disk_full`).
    disk_full: AtomicBool,
    /// The writer's count of spans waiting for the full-text index (`Writer::unindexed`).
    unindexed: Arc<AtomicUsize>,
    /// `projects()` as last read, until the next write of spans.
    projects: Arc<catalog::ProjectsCache>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database and starts the writer thread.
    pub fn open(options: SqliteOptions) -> StoreResult<SqliteStore> {
        if let Some(dir) = options.path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Internal(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
        let mut conn = Connection::open(&options.path)?;
        schema::configure_writer(&conn)?;
        // Before `migrate`: a migration may look runs up in `span_lookup`.
        pieces::ensure_schema(&conn)?;
        schema::migrate(&mut conn)?;
        let next_trace_id = schema::next_trace_id(&conn)?;
        let unindexed = span_text::pending(&conn)?;
        let dict = Arc::new(CurrentDict::load(&conn)?);

        // Unbounded channel, bounded by `queued_spans`: the limit is in spans, not requests.
        let (tx, rx) = mpsc::unbounded_channel();
        let queued_spans = Arc::new(AtomicUsize::new(0));
        let queued = queued_spans.clone();
        let unindexed = Arc::new(AtomicUsize::new(unindexed));
        let waiting = unindexed.clone();
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
                    unindexed: waiting.load(Ordering::Relaxed),
                    waiting,
                };
                writer_loop(&mut writer, rx, queued, max_batch)
            })
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;

        Ok(SqliteStore {
            keys: SqliteKeys::new(&options.path),
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
            disk_full: AtomicBool::new(false),
            unindexed,
            projects: Arc::default(),
        })
    }

    async fn submit(&self, op: WriteOp) -> StoreResult<WriteReply> {
        let job_spans = match &op {
            WriteOp::Spans(rows) => rows.len(),
            WriteOp::Pieces(spans) => spans.len(),
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
            return Err(StoreError::queue_full());
        }
        Ok(places)
    }

    async fn send(&self, op: WriteOp, mut places: QueuePlaces) -> StoreResult<WriteReply> {
        let (reply, answer) = oneshot::channel();
        let changes_traces = matches!(
            op,
            WriteOp::Spans(_) | WriteOp::Pieces(_) | WriteOp::Expire(_)
        );
        let job = WriteJob { op, reply };
        debug_assert_eq!(job.span_count(), places.n);
        if self.writer.send(job).is_err() {
            return Err(StoreError::Closed);
        }
        // The writer gives the places back once the job is committed.
        places.n = 0;
        let answered = if changes_traces {
            self.projects.after_write(answer).await
        } else {
            answer.await
        };
        let (result, op) = answered.map_err(|_| StoreError::Closed)?;
        drop(op);
        self.note_disk(&result);
        result
    }

    /// Keeps `disk_full` up to date with the last write's outcome, and says in the log when the
    /// disk fills up and when writes resume.
    fn note_disk<T>(&self, result: &StoreResult<T>) {
        let full = matches!(result, Err(e) if e.is_disk_full());
        if !full && result.is_err() {
            return;
        }
        if self.disk_full.swap(full, Ordering::Relaxed) != full {
            let path = self.readers.path.display();
            if full {
                tracing::error!(
                    "the disk holding {path} is full: writes are refused (503 + Retry-After) until space is freed"
                );
            } else {
                tracing::warn!("the disk holding {path} has room again: writes resume");
            }
        }
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || pool.with(f))
            .await
            .map_err(|e| StoreError::Internal(format!("read task failed: {e}")))?
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
    .map_err(|e| StoreError::Internal(format!("encoding task failed: {e}")))?
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// The writer answered a job with a reply of another kind: a bug, not a client's error.
fn unexpected_reply() -> StoreError {
    StoreError::Internal("unexpected writer reply".into())
}

#[async_trait]
impl SpanStore for SqliteStore {
    async fn write_spans(&self, spans: Vec<Span>) -> StoreResult<WriteOutcome> {
        if spans.is_empty() {
            return Ok(WriteOutcome::default());
        }
        // The places in the queue first: a refused request costs no encoding.
        let places = self.reserve(spans.len())?;
        let rows = encode_rows(spans, &self.dict, &self.encoders).await?;
        match self.send(WriteOp::Spans(rows), places).await? {
            WriteReply::Spans(outcome) => Ok(outcome),
            _ => Err(unexpected_reply()),
        }
    }

    async fn write_span_pieces(&self, pieces: Vec<Span>) -> StoreResult<WriteOutcome> {
        if pieces.is_empty() {
            return Ok(WriteOutcome::default());
        }
        match self.submit(WriteOp::Pieces(pieces)).await? {
            WriteReply::Spans(outcome) => Ok(outcome),
            _ => Err(unexpected_reply()),
        }
    }

    async fn pieced_spans(
        &self,
        project: Option<&str>,
        span_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<Span>> {
        let (project, span_id) = (project.map(str::to_string), span_id.to_string());
        self.read(move |c| reads::pieced_spans(c, project.as_deref(), &span_id, limit))
            .await
    }

    async fn trace_spans(&self, project: &str, trace_id: &str) -> StoreResult<Vec<Span>> {
        let (project, trace_id) = (project.to_string(), trace_id.to_string());
        self.read(move |c| reads::trace_spans(c, &project, &trace_id))
            .await
    }

    async fn received_spans(
        &self,
        project: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<ReceivedBatch> {
        let project = project.to_string();
        self.read(move |c| received::received_spans(c, &project, after, limit))
            .await
    }

    async fn receive_head(&self) -> StoreResult<i64> {
        self.read(received::receive_head).await
    }

    async fn expire_before(&self, cutoff_ns: i64) -> StoreResult<u64> {
        let mut removed = 0;
        loop {
            match self.submit(WriteOp::Expire(cutoff_ns)).await? {
                WriteReply::Expired(n) => {
                    removed += n;
                    if n < expire::TRACES_PER_JOB as u64 {
                        return Ok(removed);
                    }
                }
                _ => return Err(unexpected_reply()),
            }
        }
    }
}

#[async_trait]
impl FeedbackStore for SqliteStore {
    async fn create_feedback(&self, project: &str, feedback: NewFeedback) -> StoreResult<Feedback> {
        match self
            .submit(WriteOp::CreateFeedback(project.to_string(), feedback))
            .await?
        {
            WriteReply::Feedback(Some(f)) => Ok(f),
            _ => Err(unexpected_reply()),
        }
    }

    async fn update_feedback(
        &self,
        project: &str,
        id: &str,
        update: FeedbackUpdate,
    ) -> StoreResult<Option<Feedback>> {
        let op = WriteOp::UpdateFeedback(project.to_string(), id.to_string(), update);
        match self.submit(op).await? {
            WriteReply::Feedback(f) => Ok(f),
            _ => Err(unexpected_reply()),
        }
    }

    async fn import_feedback(&self, feedback: Feedback) -> StoreResult<()> {
        match self.submit(WriteOp::ImportFeedback(feedback)).await? {
            WriteReply::Deleted(_) => Ok(()),
            _ => Err(unexpected_reply()),
        }
    }

    async fn delete_feedback(&self, project: &str, id: &str) -> StoreResult<bool> {
        match self
            .submit(WriteOp::DeleteFeedback(project.to_string(), id.to_string()))
            .await?
        {
            WriteReply::Deleted(d) => Ok(d),
            _ => Err(unexpected_reply()),
        }
    }

    async fn list_feedback(
        &self,
        project: &str,
        filter: FeedbackFilter,
    ) -> StoreResult<Vec<Feedback>> {
        let project = project.to_string();
        self.read(move |c| feedback::list(c, &project, &filter))
            .await
    }

    async fn read_feedback(&self, project: &str, id: &str) -> StoreResult<Option<Feedback>> {
        let (project, id) = (project.to_string(), id.to_string());
        self.read(move |c| feedback::read(c, &project, &id)).await
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn create_project(&self, name: &str) -> StoreResult<bool> {
        self.keys.create_project(name).await
    }

    async fn list_projects(&self) -> StoreResult<Vec<String>> {
        self.keys.list_projects().await
    }

    async fn project_created_ms(&self, name: &str) -> StoreResult<Option<i64>> {
        self.keys.project_created_ms(name).await
    }

    async fn create_key(&self, project: &str, label: &str) -> StoreResult<NewKey> {
        self.keys.create_key(project, label).await
    }

    async fn revoke_key(&self, id: &str) -> StoreResult<bool> {
        self.keys.revoke_key(id).await
    }

    async fn list_keys(&self) -> StoreResult<Vec<KeyInfo>> {
        self.keys.list_keys().await
    }

    async fn key_table(&self) -> StoreResult<KeyTable> {
        self.keys.key_table().await
    }

    async fn export_keys(&self) -> StoreResult<Vec<StoredKey>> {
        self.keys.export_keys().await
    }

    async fn import_key(&self, key: StoredKey) -> StoreResult<()> {
        self.keys.import_key(key).await
    }
}

impl Store for SqliteStore {
    fn engine(&self) -> EngineInfo {
        EngineInfo {
            engine: "sqlite",
            version: rusqlite::version().to_string(),
            location: self.readers.path.display().to_string(),
        }
    }

    fn disk_full(&self) -> bool {
        self.disk_full.load(Ordering::Relaxed)
    }

    fn search_index_waiting(&self) -> u64 {
        self.unindexed.load(Ordering::Relaxed) as u64
    }
}

#[cfg(test)]
mod conformance {
    use std::sync::Arc;

    use super::{SqliteOptions, SqliteStore};
    use crate::store::Store;

    async fn open() -> (tempfile::TempDir, Arc<dyn Store>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(SqliteOptions::new(dir.path().join("skein.db")))
            .expect("open the store");
        (dir, Arc::new(store))
    }

    crate::store_suite!(open);
}
