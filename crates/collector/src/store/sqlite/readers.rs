//! Reads run on a small pool of read-only connections, which WAL lets run alongside the
//! writer.

use std::path::PathBuf;
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use crate::store::StoreResult;

pub(super) struct ReaderPool {
    pub(super) path: PathBuf,
    pub(super) idle: Mutex<Vec<Connection>>,
    pub(super) max_idle: usize,
}

impl ReaderPool {
    pub(super) fn with<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
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
                super::codec::register_unpack(&c)?;
                super::span_text::register(&c)?;
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
