//! The tables of leased work in the SQLite file (`queues`/`queue_items`,
//! `pairwise_queues`/`pairwise_pairs`): a row per queue and per held row, each the model's
//! JSON beside the columns claims and counts select by (`holder`: the lease holders between
//! newlines, `QueueItem::holders_column`; `lease_expires_ms`: when the last lease ends).

use std::collections::HashMap;

use rusqlite::{params, Connection};
use serde::de::DeserializeOwned;
use skein_model::queue::{self, ItemStatus, QueueCounts};

use super::to_json;
use crate::store::leased::{unknown_status, unreadable, LeasedRow, StoredQueue};
use crate::store::StoreResult;

/// Writes `row` (a new one or a new state of it) into `table`.
pub(super) fn put<T: LeasedRow>(
    conn: &Connection,
    table: &str,
    project: &str,
    row: &T,
) -> StoreResult<()> {
    let item = row.item();
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO {table} \
         (project, queue_id, id, position, status, holder, lease_expires_ms, {}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        T::COLUMN
    ))?
    .execute(params![
        project,
        item.queue_id,
        item.id,
        item.position,
        item.status.as_str(),
        item.holders_column(),
        item.lease_expires_ms(),
        to_json(row)
    ])?;
    Ok(())
}

/// What a query of one JSON column selects, read as the model's `what`.
pub(super) fn rows_of<T: DeserializeOwned>(
    conn: &Connection,
    what: &str,
    sql: &str,
    args: impl rusqlite::Params,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(args)?;
    let mut read = Vec::new();
    while let Some(row) = rows.next()? {
        let text: String = row.get(0)?;
        read.push(serde_json::from_str(&text).map_err(|e| unreadable(what, e))?);
    }
    Ok(read)
}

/// The queues of `queues_table` (one when `id` is given), with the counts at `now_ms` of
/// their rows in `rows_table`.
pub(super) fn read_queues<Q: StoredQueue>(
    conn: &Connection,
    queues_table: &str,
    rows_table: &str,
    project: &str,
    id: Option<&str>,
    now_ms: i64,
) -> StoreResult<Vec<Q>> {
    let mut counts = counts(conn, rows_table, project, id, now_ms)?;
    let mut queues: Vec<Q> = rows_of(
        conn,
        Q::WHAT,
        &format!(
            "SELECT queue FROM {queues_table} WHERE project = ?1 AND (?2 IS NULL OR id = ?2) \
             ORDER BY created_ms, id"
        ),
        params![project, id],
    )?;
    for q in &mut queues {
        *q.counts_mut() = counts.remove(q.id()).unwrap_or_default();
    }
    Ok(queues)
}

/// Each queue's counts at `now_ms`, by queue id (of one queue when `queue_id` is given).
fn counts(
    conn: &Connection,
    rows_table: &str,
    project: &str,
    queue_id: Option<&str>,
    now_ms: i64,
) -> StoreResult<HashMap<String, QueueCounts>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT queue_id, status, lease_expires_ms > ?3, count(*) FROM {rows_table} \
         WHERE project = ?1 AND (?2 IS NULL OR queue_id = ?2) GROUP BY 1, 2, 3"
    ))?;
    let mut rows = stmt.query(params![project, queue_id, now_ms])?;
    let mut counts: HashMap<String, QueueCounts> = HashMap::new();
    while let Some(row) = rows.next()? {
        let queue_id: String = row.get(0)?;
        let status: String = row.get(1)?;
        let live: bool = row.get(2)?;
        let n: i64 = row.get(3)?;
        let status =
            ItemStatus::parse(&status).ok_or_else(|| unknown_status(rows_table, &status))?;
        let state = queue::state_at(status, live.then_some(now_ms + 1), now_ms);
        counts
            .entry(queue_id)
            .or_default()
            .add_many(state, n.max(0) as u64);
    }
    Ok(counts)
}
