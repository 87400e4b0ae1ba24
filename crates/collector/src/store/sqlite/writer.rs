//! The one writer thread: every write goes through it. It commits whatever is queued in a
//! single transaction (group commit); if that fails, each job is retried in a transaction of its
//! own, so a bad one cannot fail its neighbours. A job is answered only after its commit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use skein_model::span::Span;
use skein_model::{Feedback, FeedbackUpdate, NewFeedback};
use tokio::sync::{mpsc, oneshot};

use super::checkpointer;
use super::codec::{CurrentDict, SpanRow};
use super::pairwise::{self, PairwiseReply, PairwiseWrite};
use super::queues::{self, QueueReply, QueueWrite};
use super::score_configs::{self, ScoreConfigWrite};
use super::{expire, feedback, pieces, schema, span_text, traces};
use crate::store::{StoreResult, WriteOutcome};

pub(super) enum WriteOp {
    /// Spans already encoded by the caller (`SpanRow::encode`).
    Spans(Vec<SpanRow>),
    Pieces(Vec<Span>),
    CreateFeedback(String, NewFeedback),
    ImportFeedback(Feedback),
    /// Removes traces that started before this time (ns), a bounded number at a time.
    Expire(i64),
    UpdateFeedback(String, String, FeedbackUpdate),
    DeleteFeedback(String, String),
    ScoreConfigs(ScoreConfigWrite),
    Queues(QueueWrite),
    Pairwise(PairwiseWrite),
}

// One short-lived reply per write job: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum WriteReply {
    Spans(WriteOutcome),
    Feedback(Option<Feedback>),
    Deleted(bool),
    /// Traces removed.
    Expired(u64),
    Queues(QueueReply),
    Pairwise(PairwiseReply),
}

pub(super) struct WriteJob {
    pub(super) op: WriteOp,
    /// The outcome, and the job's op handed back: the requester frees it, not the writer.
    pub(super) reply: oneshot::Sender<(StoreResult<WriteReply>, WriteOp)>,
}

impl WriteJob {
    pub(super) fn span_count(&self) -> usize {
        match &self.op {
            WriteOp::Spans(rows) => rows.len(),
            WriteOp::Pieces(spans) => spans.len(),
            _ => 1,
        }
    }
}

/// What the writer thread owns.
pub(super) struct Writer {
    pub(super) conn: Connection,
    /// The id the next new trace gets (see `next_trace_id`).
    pub(super) next_trace_id: i64,
    pub(super) checkpoints: checkpointer::Handle,
    pub(super) dict: Arc<CurrentDict>,
    /// About how many spans wait for the full-text index (`span_text`): counted up by the
    /// spans written, down by those indexed, exact again whenever the queue runs empty.
    pub(super) unindexed: usize,
    /// `unindexed`, for readers (`Store::search_index_waiting`).
    pub(super) waiting: Arc<AtomicUsize>,
}

impl Writer {
    fn set_unindexed(&mut self, spans: usize) {
        self.unindexed = spans;
        self.waiting.store(spans, Ordering::Relaxed);
    }
}

/// How long no write arrives before the writer indexes queued span texts.
const IDLE_BEFORE_INDEXING: Duration = Duration::from_millis(100);
/// Until then, how often it looks for a write (the most a write waits for it).
const IDLE_POLL: Duration = Duration::from_millis(2);
/// How long catching up waits for readers to restart a long WAL.
const CATCH_UP_BUSY_TIMEOUT: Duration = Duration::from_millis(100);

pub(super) fn writer_loop(
    writer: &mut Writer,
    mut rx: mpsc::UnboundedReceiver<WriteJob>,
    queued: Arc<AtomicUsize>,
    max_batch: usize,
) {
    let mut last_write = Instant::now();
    loop {
        let first = match rx.try_recv() {
            Ok(job) => job,
            Err(mpsc::error::TryRecvError::Disconnected) => break,
            // Nothing has been written for a while: the full-text index catches up, a chunk
            // at a time. Meanwhile (ingest pauses between a client's requests), a short wait
            // for the next write: indexing between the batches of a burst would slow it.
            Err(mpsc::error::TryRecvError::Empty) if writer.unindexed > 0 => {
                if last_write.elapsed() >= IDLE_BEFORE_INDEXING {
                    index_chunk(writer);
                } else {
                    std::thread::sleep(IDLE_POLL);
                }
                continue;
            }
            Err(mpsc::error::TryRecvError::Empty) => match rx.blocking_recv() {
                Some(job) => job,
                None => break,
            },
        };
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
        last_write = Instant::now();
        writer.checkpoints.committed();
        queued.fetch_sub(batch_spans, Ordering::SeqCst);
        for (job, result) in jobs.into_iter().zip(results) {
            if let Ok(WriteReply::Spans(outcome)) = &result {
                writer.set_unindexed(writer.unindexed + outcome.inserted + outcome.merged);
            }
            // The client may have gone away; its data is committed all the same.
            let _ = job.reply.send((result, job.op));
        }
        // Past its bound the queue is worked down after every write, not only when idle.
        while writer.unindexed > span_text::max_pending_spans() {
            if !index_chunk(writer) {
                break;
            }
        }
    }
}

/// Moves the next chunk of queued texts into the full-text index, in a transaction of its
/// own. A failure is logged and leaves the texts queued (still found by a search); the writer
/// tries again later (false).
fn index_chunk(writer: &mut Writer) -> bool {
    // Merging the index writes several times the text into the WAL: it is started over as
    // before a write, but waiting only briefly for readers (a search scanning a long queue
    // holds its snapshot for seconds, and the catch-up would wait on every one).
    if writer.conn.busy_timeout(CATCH_UP_BUSY_TIMEOUT).is_ok() {
        writer.checkpoints.restart_if_long(&writer.conn);
        if let Err(e) = writer.conn.busy_timeout(schema::WRITER_BUSY_TIMEOUT) {
            tracing::warn!(error = %e, "cannot set the writer's busy timeout");
        }
    }
    let result = (|| -> StoreResult<span_text::Indexed> {
        let tx = writer
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let indexed = span_text::index_pending(&tx, span_text::INDEX_CHUNK)?;
        tx.commit()?;
        Ok(indexed)
    })();
    writer.checkpoints.committed();
    match result {
        Ok(indexed) if indexed.caught_up => writer.set_unindexed(0),
        Ok(indexed) => {
            writer.set_unindexed(writer.unindexed.saturating_sub(indexed.spans).max(1));
        }
        Err(e) => {
            tracing::warn!(error = %e, "indexing queued span texts failed");
            // Not again at once: the next write (or restart) retries (the queue still waits).
            writer.unindexed = 0;
            return false;
        }
    }
    true
}

/// Runs every job in one transaction. If anything fails, that transaction is rolled back and
/// each job runs again in a transaction of its own, so that only the failing one fails.
/// (Savepoints per job would do the same in one pass, but cost every batch: SQLite copies
/// each page a savepoint touches again, a tenth of the writer's time at 1M spans.)
pub(super) fn commit_batch(writer: &mut Writer, jobs: &[WriteJob]) -> Vec<StoreResult<WriteReply>> {
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
    *next_trace_id = (*next_trace_id).max(schema::next_trace_id(&tx)?);
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
        WriteOp::Spans(rows) => {
            traces::insert_spans(conn, next_trace_id, rows).map(WriteReply::Spans)
        }
        WriteOp::Pieces(spans) => {
            pieces::write_pieces(conn, next_trace_id, dict, spans).map(WriteReply::Spans)
        }
        WriteOp::CreateFeedback(project, new) => {
            feedback::insert(conn, project, new).map(|f| WriteReply::Feedback(Some(f)))
        }
        WriteOp::ImportFeedback(f) => feedback::write(conn, f).map(|()| WriteReply::Deleted(false)),
        WriteOp::Expire(cutoff) => expire::expire(conn, *cutoff).map(WriteReply::Expired),
        WriteOp::UpdateFeedback(project, id, update) => {
            feedback::update(conn, project, id, update).map(WriteReply::Feedback)
        }
        WriteOp::DeleteFeedback(project, id) => {
            feedback::delete(conn, project, id).map(WriteReply::Deleted)
        }
        WriteOp::ScoreConfigs(write) => score_configs::apply(conn, write).map(WriteReply::Deleted),
        WriteOp::Queues(write) => queues::apply(conn, write).map(WriteReply::Queues),
        WriteOp::Pairwise(write) => pairwise::apply(conn, write).map(WriteReply::Pairwise),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rusqlite::Connection;
    use skein_model::span::Span;
    use skein_model::NewFeedback;
    use tokio::sync::oneshot;

    use super::*;
    use crate::store::StoreError;

    fn span(trace: &str) -> Span {
        Span {
            project: "p".into(),
            trace_id: trace.repeat(32),
            span_id: "1".repeat(16),
            name: "root".into(),
            service: "svc".into(),
            start_ns: 5,
            end_ns: 10,
            ..Span::default()
        }
    }

    #[test]
    fn a_failing_job_fails_alone_in_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("skein.db");
        let mut conn = Connection::open(&path).unwrap();
        schema::configure_writer(&conn).unwrap();
        pieces::ensure_schema(&conn).unwrap();
        schema::migrate(&mut conn).unwrap();
        let dict = Arc::new(CurrentDict::load(&conn).unwrap());
        let mut writer = Writer {
            next_trace_id: schema::next_trace_id(&conn).unwrap(),
            checkpoints: checkpointer::start(&path, dict.clone(), None).unwrap(),
            dict,
            conn,
            unindexed: 0,
            waiting: Arc::default(),
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
        let row = |trace: &str| SpanRow::encode(span(trace), None).unwrap();
        // Feedback of project "q" cannot be written on this connection...
        writer
            .conn
            .execute_batch(
                "CREATE TEMP TRIGGER refuse_q BEFORE INSERT ON main.feedback \
                 WHEN NEW.project = 'q' BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        let jobs = vec![
            job(WriteOp::Spans(vec![row("a")])),
            job(WriteOp::CreateFeedback("p".into(), feedback("f1"))),
            job(WriteOp::CreateFeedback("q".into(), feedback("f1"))),
            // ...and only that job fails.
            job(WriteOp::Spans(vec![row("b")])),
        ];
        let results = commit_batch(&mut writer, &jobs);
        assert!(matches!(results[0], Ok(WriteReply::Spans(o)) if o.inserted == 1));
        assert!(matches!(results[1], Ok(WriteReply::Feedback(Some(_)))));
        assert!(
            matches!(results[2], Err(StoreError::Internal(_))),
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
}
