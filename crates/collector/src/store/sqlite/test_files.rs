//! For the collector's integration tests that take a database file back to an older layout
//! (`tests/store_upgrades/`, `tests/skeleton_kinds.rs`, `tests/auth.rs`): statements run on
//! the file directly, while no collector has it open. Included by those tests with `#[path]`,
//! so that only the SQLite engine's folder speaks SQLite.
#![allow(dead_code)]

use std::path::Path;

fn open(db: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(db).unwrap_or_else(|e| panic!("{}: {e}", db.display()))
}

/// Runs statements separated by `;`; panics on error.
pub fn execute_batch(db: &Path, sql: &str) {
    open(db)
        .execute_batch(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Runs one statement with text parameters (`?1`, `?2`…); the rows changed, or SQLite's error.
pub fn execute(db: &Path, sql: &str, params: &[&str]) -> Result<usize, String> {
    open(db)
        .execute(sql, rusqlite::params_from_iter(params.iter()))
        .map_err(|e| e.to_string())
}

/// The integer a query's first row holds in its first column.
pub fn query_i64(db: &Path, sql: &str) -> i64 {
    open(db)
        .query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}
