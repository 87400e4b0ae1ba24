//! WAL checkpoints off the writer thread.
//!
//! With SQLite's automatic checkpoints, the commit that crosses 1,000 WAL pages copies them
//! all into the database file and fsyncs it before the writer can go on: measured at 1M
//! spans, a quarter of the writer's time went to `pwrite`. Here the writer's connection has
//! `wal_autocheckpoint=0`; this thread, on its own connection, runs a PASSIVE checkpoint after
//! commits (copying what is committed, never blocking the writer nor readers), at most every
//! `MIN_INTERVAL`. SQLite starts the WAL over at the next write once a checkpoint has copied
//! all of it; under sustained load that rarely happens between two commits, so when the WAL
//! has grown past `MAX_WAL_FRAMES`, the writer itself runs a RESTART checkpoint before its next
//! batch (`Handle::restart_if_long`), which only has the last few commits left to copy.
//!
//! The same thread trains the span bodies' compression dictionary once the database holds
//! enough spans (`codec::train`): it is woken after commits anyway, and has its own connection.
//!
//! Durability does not depend on any of this: a commit is fsynced in the WAL before it is
//! acknowledged; a checkpoint fsyncs the database file before SQLite reuses the WAL.

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::codec::{self, CurrentDict};
use crate::store::{StoreError, StoreResult};

/// Passive checkpoints run at most this often.
const MIN_INTERVAL: Duration = Duration::from_millis(50);

/// The WAL's length, in pages, past which the writer restarts it (with 16 KiB pages, 256 MiB).
const MAX_WAL_FRAMES: i64 = 16_384;

/// The writer's side: it reports commits and, when the WAL is long, restarts it.
pub(super) struct Handle {
    wake: SyncSender<()>,
    /// Pages in the WAL as of the last checkpoint (either thread's).
    wal_frames: Arc<AtomicI64>,
}

impl Handle {
    /// Tells the checkpointer there is something new to copy (never blocks).
    pub fn committed(&self) {
        match self.wake.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
        }
    }

    /// On the writer, between batches: when the WAL has grown past its bound, a RESTART
    /// checkpoint (copies what the passive ones have not, waits for readers of the old WAL
    /// to finish), so that the next commit writes at the start of the WAL again.
    pub fn restart_if_long(&self, conn: &Connection) {
        if self.wal_frames.load(Ordering::Relaxed) <= MAX_WAL_FRAMES {
            return;
        }
        match checkpoint(conn, "RESTART") {
            Ok((busy, log, _)) => {
                // Busy: a reader held the old WAL; the checkpointer will report again.
                self.wal_frames
                    .store(if busy { log } else { 0 }, Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "WAL restart checkpoint failed"),
        }
    }
}

/// Starts the checkpointer thread for the database at `path`. It ends when the writer drops
/// its `Handle`. Once `dictionary_after` spans are stored, it trains a dictionary into `dict`.
pub(super) fn start(
    path: &Path,
    dict: Arc<CurrentDict>,
    dictionary_after: Option<u64>,
) -> StoreResult<Handle> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // The checkpoint fsyncs the database file before the WAL may be reused.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    let (wake, woken) = sync_channel(1);
    let wal_frames = Arc::new(AtomicI64::new(0));
    let frames = wal_frames.clone();
    std::thread::Builder::new()
        .name("skein-sqlite-checkpoint".into())
        .spawn(move || {
            let mut training = dictionary_after.map(|after| Training {
                dict,
                at_spans: after.max(1) as i64,
            });
            run(&conn, &woken, &frames, &mut training)
        })
        .map_err(|e| StoreError::Internal(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(Handle { wake, wal_frames })
}

/// When to train the body dictionary.
struct Training {
    dict: Arc<CurrentDict>,
    /// Train once `spans` holds this many rows (doubled after a failed attempt).
    at_spans: i64,
}

impl Training {
    /// True once there is a dictionary (nothing left to do).
    fn step(&mut self, conn: &Connection) -> bool {
        if !self.dict.is_none() {
            return true;
        }
        let spans: Option<i64> = conn
            .query_row("SELECT max(id) FROM spans", [], |r| r.get(0))
            .unwrap_or(None);
        if spans.unwrap_or(0) < self.at_spans {
            return false;
        }
        match codec::train(conn, &self.dict) {
            Ok(true) => return true,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "training a compression dictionary failed"),
        }
        self.at_spans = self.at_spans.saturating_mul(2);
        false
    }
}

fn run(
    conn: &Connection,
    woken: &Receiver<()>,
    wal_frames: &AtomicI64,
    training: &mut Option<Training>,
) {
    let mut last = Instant::now() - MIN_INTERVAL;
    loop {
        match woken.recv_timeout(Duration::from_secs(5)) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let since = last.elapsed();
        if since < MIN_INTERVAL {
            std::thread::sleep(MIN_INTERVAL - since);
        }
        last = Instant::now();
        match checkpoint(conn, "PASSIVE") {
            Ok((_, log, _)) => wal_frames.store(log.max(0), Ordering::Relaxed),
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
        }
        if training.as_mut().is_some_and(|t| t.step(conn)) {
            *training = None;
        }
    }
}

/// `PRAGMA wal_checkpoint(mode)`: (busy, pages in the WAL, pages checkpointed).
fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<(bool, i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok((r.get::<_, i64>(0)? != 0, r.get(1)?, r.get(2)?))
    })
}
