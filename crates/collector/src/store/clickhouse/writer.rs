//! Spans into ClickHouse. ClickHouse wants few large inserts, so requests queue for one writer
//! task that sends whatever is queued as one INSERT (as SQLite's writer commits one
//! transaction), and answers each request once ClickHouse has acknowledged that insert (on a
//! cluster, through the Distributed table synchronously and on a quorum of replicas). A failed
//! insert fails every request in it: nothing is acknowledged that was not stored.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use skein_model::span::Span;
use tokio::sync::{mpsc, oneshot};

use super::client::Client;
use super::span_row::{encode_receipt, encode_span, span_column_list, RECEIPT_COLUMNS};
use super::splits::{mark_splits, SplitTables};
use crate::store::{StoreError, StoreResult};

/// Versions of a span written as it arrived (`write_spans`): the first arrival ranks highest,
/// so a retry or a later copy never replaces what was acknowledged first.
const FIRST_ARRIVAL: u64 = 1 << 62;

/// The version of a span folded from its pieces: above every plain version, and higher for a
/// fold of a later piece, or of more pieces with the same latest one, so that of two folds
/// written concurrently the one that saw more wins.
pub(super) fn piece_version(latest_arrival_us: u64, pieces: usize) -> u64 {
    FIRST_ARRIVAL
        .saturating_add(latest_arrival_us.saturating_mul(4096))
        .saturating_add(pieces.min(4095) as u64)
}

/// Arrival ticks for `n` spans: microseconds since the epoch, one distinct tick per span and
/// increasing within this process, so that spans keep their arrival order (within a request
/// too) and a later arrival always ranks after an earlier one.
pub(super) fn arrivals(n: usize) -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let n = n.max(1) as u64;
    let mut last = LAST.load(Ordering::SeqCst);
    loop {
        let first = now.max(last + 1);
        match LAST.compare_exchange(last, first + n - 1, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return first,
            Err(seen) => last = seen,
        }
    }
}

/// Past this many, the writer forgets the projects it has inserted (and inserts them again).
const MAX_REMEMBERED_PROJECTS: usize = 10_000;

/// Where the writer inserts.
pub(super) struct Tables {
    pub spans: String,
    /// The projects with spans.
    pub projects: String,
    /// The receive log (`span_row::encode_receipt`).
    pub received: String,
    /// What the split traces are found in and named in (`splits::mark_splits`).
    pub splits: SplitTables,
}

struct Job {
    /// The rows as RowBinary (`span_row`), encoded on the caller's task.
    encoded: Vec<u8>,
    /// Their receipts as RowBinary.
    received: Vec<u8>,
    rows: usize,
    /// The projects of the rows.
    projects: Vec<String>,
    /// The traces of the rows (project, trace id).
    traces: Vec<(String, String)>,
    reply: oneshot::Sender<StoreResult<()>>,
}

/// The queue in front of the writer task.
pub(super) struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
    queued: Arc<AtomicUsize>,
    max_queued: usize,
}

impl Writer {
    /// Starts the writer task on the current runtime.
    pub(super) fn start(
        client: Client,
        tables: Tables,
        quorum: u32,
        max_queued: usize,
        max_batch: usize,
    ) -> Writer {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        tokio::spawn(write_loop(
            client,
            tables,
            quorum,
            rx,
            queued.clone(),
            max_batch.max(1),
        ));
        Writer {
            jobs: tx,
            queued,
            max_queued,
        }
    }

    /// Writes spans (first arrival wins) and returns once ClickHouse has them.
    pub(super) async fn write(&self, spans: &[Span]) -> StoreResult<()> {
        let n = spans.len();
        let before = self.queued.fetch_add(n, Ordering::SeqCst);
        if before > 0 && before + n > self.max_queued {
            self.queued.fetch_sub(n, Ordering::SeqCst);
            return Err(StoreError::queue_full());
        }
        let first = arrivals(n);
        let mut encoded = Vec::with_capacity(n * 1024);
        let mut received = Vec::with_capacity(n * 64);
        for (i, span) in spans.iter().enumerate() {
            let arrival = first + i as u64;
            encode_span(&mut encoded, span, false, FIRST_ARRIVAL - arrival, arrival);
            let receipt = (
                span.project.as_str(),
                span.trace_id.as_str(),
                span.span_id.as_str(),
            );
            encode_receipt(&mut received, receipt, arrival);
        }
        let mut projects: Vec<String> = spans.iter().map(|s| s.project.clone()).collect();
        projects.sort_unstable();
        projects.dedup();
        let mut traces: Vec<(String, String)> = spans
            .iter()
            .map(|s| (s.project.clone(), s.trace_id.clone()))
            .collect();
        traces.sort_unstable();
        traces.dedup();
        let (reply, answer) = oneshot::channel();
        let job = Job {
            encoded,
            received,
            rows: n,
            projects,
            traces,
            reply,
        };
        if self.jobs.send(job).is_err() {
            self.queued.fetch_sub(n, Ordering::SeqCst);
            return Err(StoreError::Closed);
        }
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

async fn write_loop(
    client: Client,
    tables: Tables,
    quorum: u32,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    queued: Arc<AtomicUsize>,
    max_batch: usize,
) {
    // The projects this writer has inserted into `projects`, whose rows nothing deletes: a
    // batch inserts only names new to it (a part and its merges an insert saved).
    let mut written_projects: HashSet<String> = HashSet::new();
    while let Some(mut first) = jobs.recv().await {
        let mut rows = first.rows;
        let mut body = std::mem::take(&mut first.encoded);
        let mut received = std::mem::take(&mut first.received);
        let mut batch = vec![first];
        while rows < max_batch {
            match jobs.try_recv() {
                Ok(mut job) => {
                    rows += job.rows;
                    body.append(&mut job.encoded);
                    received.append(&mut job.received);
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        let mut projects: Vec<&String> = batch
            .iter()
            .flat_map(|j| &j.projects)
            .filter(|p| !written_projects.contains(*p))
            .collect();
        projects.sort_unstable();
        projects.dedup();
        let (columns, structure) = span_column_list();
        let mut result = client
            .insert_row_binary(&tables.spans, (&columns, &structure), body, quorum)
            .await;
        if result.is_ok() {
            // Before any client is answered: a trace read as one row must be one.
            let traces: Vec<(String, String)> = batch
                .iter()
                .flat_map(|j| j.traces.iter().cloned())
                .collect();
            result = mark_splits(&client, &tables.splits, &traces, quorum).await;
        }
        if result.is_ok() {
            // After the spans: a stream that reads a span's receipt finds the span.
            result = client
                .insert_row_binary(&tables.received, RECEIPT_COLUMNS, received, quorum)
                .await;
        }
        if result.is_ok() && !projects.is_empty() {
            // The projects with spans, for lookups that must not scan the spans.
            let names: Vec<Value> = projects.iter().map(|p| json!({ "name": p })).collect();
            result = client.insert(&tables.projects, &names, quorum).await;
            if result.is_ok() {
                if written_projects.len() + projects.len() > MAX_REMEMBERED_PROJECTS {
                    written_projects.clear();
                }
                written_projects.extend(projects.into_iter().cloned());
            }
        }
        queued.fetch_sub(rows, Ordering::SeqCst);
        for job in batch {
            let answer = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(clone_error(e)),
            };
            // The client may have gone; the insert stands (or failed) all the same.
            let _ = job.reply.send(answer);
        }
    }
}

fn clone_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Invalid(m) => StoreError::Invalid(m.clone()),
        StoreError::NotFound(m) => StoreError::NotFound(m.clone()),
        StoreError::Overloaded {
            reason,
            retry_after_secs,
        } => StoreError::Overloaded {
            reason: reason.clone(),
            retry_after_secs: *retry_after_secs,
        },
        StoreError::Closed => StoreError::Closed,
        StoreError::Internal(m) => StoreError::Internal(m.clone()),
    }
}
