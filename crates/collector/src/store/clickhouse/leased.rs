//! The tables of leased work in ClickHouse (`queues`/`queue_items`,
//! `pairwise_queues`/`pairwise_pairs`): each queue's versions and each held row's, by project,
//! queue and id (the latest version wins; a deleted queue is a version marked deleted), each
//! the model's JSON beside the columns claims and counts select by (`holder`: the lease
//! holders between newlines, `QueueItem::holders_column`; `lease_expires_ms`: when the last
//! lease ends). `queues.rs` says what a claim on them guarantees.

use serde_json::json;
use skein_model::queue::{self, ItemStatus};

use super::client::{quote, RowExt};
use super::writer::arrivals;
use super::ClickhouseStore;
use crate::store::leased::{unknown_status, unreadable, LeasedRow, StoredQueue};
use crate::store::{StoreError, StoreResult};

pub(super) fn as_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(format!("as JSON: {e}")))
}

impl ClickhouseStore {
    /// The latest versions of a queue's rows in `table` passing `condition` (on the row's
    /// columns), ordered by `order`, at most `limit`.
    pub(super) async fn select_leased<T: LeasedRow>(
        &self,
        table: &str,
        project: &str,
        queue_id: &str,
        condition: &str,
        order: &str,
        limit: Option<u32>,
    ) -> StoreResult<Vec<T>> {
        // FINAL folds versions; only key columns filter inside it, so that no older version
        // is selected by a condition its newer version no longer meets.
        let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
        let column = T::COLUMN;
        let rows = self
            .client
            .rows(&format!(
                "SELECT {column} FROM (SELECT {column}, position, status, holder, \
                 lease_expires_ms FROM {} FINAL WHERE project = {} AND queue_id = {}) \
                 WHERE {condition} ORDER BY {order}{limit}",
                self.layout.table(table),
                quote(project),
                quote(queue_id)
            ))
            .await?;
        rows.iter()
            .map(|r| serde_json::from_str(&r.str_of(column)).map_err(|e| unreadable(T::WHAT, e)))
            .collect()
    }

    /// Writes `rows` into `table`, their versions from `version` on.
    pub(super) async fn write_leased<T: LeasedRow>(
        &self,
        table: &str,
        project: &str,
        rows: &[T],
        version: u64,
    ) -> StoreResult<()> {
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let item = row.item();
            let mut written = json!({
                "project": project,
                "queue_id": item.queue_id,
                "id": item.id,
                "position": item.position,
                "status": item.status.as_str(),
                "holder": item.holders_column(),
                "lease_expires_ms": item.lease_expires_ms(),
                "version": version + i as u64,
            });
            written[T::COLUMN] = json!(as_json(row)?);
            out.push(written);
        }
        if out.is_empty() {
            return Ok(());
        }
        self.client
            .insert(&self.layout.table(table), &out, self.quorum)
            .await
    }

    /// A row of `table` as last written, with its version.
    pub(super) async fn stored_leased<T: LeasedRow>(
        &self,
        table: &str,
        project: &str,
        queue_id: &str,
        id: &str,
    ) -> StoreResult<Option<(T, u64)>> {
        let column = T::COLUMN;
        let rows = self
            .client
            .rows(&format!(
                "SELECT {column}, version FROM {} FINAL WHERE project = {} AND queue_id = {} \
                 AND id = {}",
                self.layout.table(table),
                quote(project),
                quote(queue_id),
                quote(id)
            ))
            .await?;
        match rows.first() {
            Some(r) => {
                let row =
                    serde_json::from_str(&r.str_of(column)).map_err(|e| unreadable(T::WHAT, e))?;
                Ok(Some((row, r.i64_of("version") as u64)))
            }
            None => Ok(None),
        }
    }

    /// Writes a new version of a row and reads it back: false when another writer's version
    /// is the latest.
    pub(super) async fn write_leased_and_confirm<T: LeasedRow>(
        &self,
        table: &str,
        project: &str,
        row: &T,
    ) -> StoreResult<bool> {
        let version = arrivals(1);
        self.write_leased(table, project, std::slice::from_ref(row), version)
            .await?;
        let item = row.item();
        let latest = self
            .stored_leased::<T>(table, project, &item.queue_id, &item.id)
            .await?;
        Ok(latest.is_some_and(|(_, v)| v == version))
    }

    /// The live queues of `queues_table` (one when `id` is given), with the counts at
    /// `now_ms` of their rows in `rows_table`.
    pub(super) async fn read_stored_queues<Q: StoredQueue>(
        &self,
        queues_table: &str,
        rows_table: &str,
        project: &str,
        id: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<Vec<Q>> {
        let p = quote(project);
        let one = id.map(|id| format!(" AND id = {}", quote(id)));
        let rows = self
            .client
            .rows(&format!(
                "SELECT queue FROM (SELECT queue, created_ms, id, deleted FROM {} FINAL \
                 WHERE project = {p}{}) WHERE deleted = 0 ORDER BY created_ms, id",
                self.layout.table(queues_table),
                one.as_deref().unwrap_or("")
            ))
            .await?;
        let mut queues = rows
            .iter()
            .map(|r| serde_json::from_str::<Q>(&r.str_of("queue")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| unreadable(Q::WHAT, e))?;
        if queues.is_empty() {
            return Ok(queues);
        }
        let of_queue = id.map(|id| format!(" AND queue_id = {}", quote(id)));
        let counts = self
            .client
            .rows(&format!(
                "SELECT queue_id, status, lease_expires_ms > {now_ms} AS live, count() AS n \
                 FROM (SELECT queue_id, status, lease_expires_ms FROM {} FINAL \
                 WHERE project = {p}{}) GROUP BY queue_id, status, live",
                self.layout.table(rows_table),
                of_queue.as_deref().unwrap_or("")
            ))
            .await?;
        for row in &counts {
            let status = row.str_of("status");
            let status =
                ItemStatus::parse(&status).ok_or_else(|| unknown_status(rows_table, &status))?;
            let live = row.i64_of("live") != 0;
            let state = queue::state_at(status, live.then_some(now_ms + 1), now_ms);
            let queue_id = row.str_of("queue_id");
            if let Some(q) = queues.iter_mut().find(|q| q.id() == queue_id) {
                q.counts_mut()
                    .add_many(state, row.i64_of("n").max(0) as u64);
            }
        }
        Ok(queues)
    }

    /// A new version of a queue in `table` (marked deleted, or not).
    pub(super) async fn write_queue_version<Q: StoredQueue>(
        &self,
        table: &str,
        queue: &Q,
        deleted: bool,
    ) -> StoreResult<()> {
        let row = json!({
            "project": queue.project(),
            "id": queue.id(),
            "created_ms": queue.created_ms(),
            "queue": as_json(queue)?,
            "deleted": u8::from(deleted),
            "version": arrivals(1),
        });
        self.client
            .insert(&self.layout.table(table), &[row], self.quorum)
            .await
    }
}
