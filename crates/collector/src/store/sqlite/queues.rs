//! Annotation queues in the SQLite file (schema 12): one row per queue and one per item, each
//! the model's type as JSON beside the columns the claims and counts select by (`holder`: the
//! item's lease holders between newlines, `QueueItem::holders_column`; `lease_expires_ms`:
//! when its last lease ends). Every write,
//! claims included, goes through the one writer thread: a claim reads and writes its item in
//! the writer's transaction, after every claim queued before it, so two claims never hold the
//! same item.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use skein_model::queue::{self, Finish, FinishError, ItemRef, Queue, QueueItem};

use super::leased;
use super::writer::{WriteOp, WriteReply};
use super::{to_json, unexpected_reply, SqliteStore};
use crate::store::queues::QueueStore;
use crate::store::StoreResult;

/// The tables (schema 12).
pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS queues (
        project TEXT NOT NULL,
        id TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        queue TEXT NOT NULL,
        PRIMARY KEY (project, id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS queue_items (
        project TEXT NOT NULL,
        queue_id TEXT NOT NULL,
        id TEXT NOT NULL,
        position INTEGER NOT NULL,
        status TEXT NOT NULL,
        holder TEXT NOT NULL DEFAULT '',
        lease_expires_ms INTEGER NOT NULL DEFAULT 0,
        item TEXT NOT NULL,
        PRIMARY KEY (project, queue_id, id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS queue_items_by_status
        ON queue_items (project, queue_id, status, position);";

/// A write of queues or items, for the writer thread.
pub(super) enum QueueWrite {
    Create(Queue),
    Delete {
        project: String,
        id: String,
    },
    Add {
        project: String,
        queue_id: String,
        targets: Vec<ItemRef>,
        reviews_needed: u32,
        now_ms: i64,
    },
    Claim {
        project: String,
        queue_id: String,
        reviewer: String,
        now_ms: i64,
        lease_ms: i64,
    },
    Finish {
        project: String,
        queue_id: String,
        item_id: String,
        reviewer: String,
        how: Finish,
        now_ms: i64,
    },
}

/// What a queue write did.
pub(super) enum QueueReply {
    Changed(bool),
    Added(u64),
    Claimed(Option<QueueItem>),
    Finished(Option<Result<QueueItem, FinishError>>),
}

fn put_item(conn: &Connection, project: &str, item: &QueueItem) -> StoreResult<()> {
    leased::put(conn, "queue_items", project, item)
}

/// The items a query of `item` texts selects.
fn items_of(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> StoreResult<Vec<QueueItem>> {
    leased::rows_of(conn, "queue item", sql, args)
}

fn item(
    conn: &Connection,
    project: &str,
    queue_id: &str,
    item_id: &str,
) -> StoreResult<Option<QueueItem>> {
    Ok(items_of(
        conn,
        "SELECT item FROM queue_items WHERE project = ?1 AND queue_id = ?2 AND id = ?3",
        params![project, queue_id, item_id],
    )?
    .pop())
}

fn add(
    conn: &Connection,
    project: &str,
    queue_id: &str,
    targets: &[ItemRef],
    reviews_needed: u32,
    now_ms: i64,
) -> StoreResult<u64> {
    let mut next: i64 = conn.query_row(
        "SELECT coalesce(max(position), 0) + 1 FROM queue_items \
         WHERE project = ?1 AND queue_id = ?2",
        params![project, queue_id],
        |r| r.get(0),
    )?;
    let mut added = 0;
    for target in targets {
        let new = QueueItem::new(queue_id, target.clone(), next, reviews_needed, now_ms);
        let exists = conn
            .prepare_cached(
                "SELECT 1 FROM queue_items WHERE project = ?1 AND queue_id = ?2 AND id = ?3",
            )?
            .query_row(params![project, queue_id, new.id], |_| Ok(()))
            .optional()?
            .is_some();
        if !exists {
            put_item(conn, project, &new)?;
            next += 1;
            added += 1;
        }
    }
    Ok(added)
}

/// The item `queue::choose_next` picks: the one the reviewer holds (found by the holders
/// column), else the first unfinished item by position that is open to them, read in order
/// until one is.
fn claim(
    conn: &Connection,
    project: &str,
    queue_id: &str,
    reviewer: &str,
    now_ms: i64,
    lease_ms: i64,
) -> StoreResult<Option<QueueItem>> {
    let held = items_of(
        conn,
        "SELECT item FROM queue_items WHERE project = ?1 AND queue_id = ?2 \
         AND status = 'in_progress' AND lease_expires_ms > ?4 AND instr(holder, ?3) > 0",
        params![project, queue_id, format!("\n{reviewer}\n"), now_ms],
    )?;
    let mut chosen = held.into_iter().find(|i| i.held_by(reviewer, now_ms));
    if chosen.is_none() {
        let mut stmt = conn.prepare_cached(
            "SELECT item FROM queue_items WHERE project = ?1 AND queue_id = ?2 \
             AND status IN ('pending', 'in_progress') ORDER BY position",
        )?;
        let mut rows = stmt.query(params![project, queue_id])?;
        while let Some(row) = rows.next()? {
            let text: String = row.get(0)?;
            let item: QueueItem = serde_json::from_str(&text)
                .map_err(|e| crate::store::leased::unreadable("queue item", e))?;
            if item.open_to(reviewer, now_ms) {
                chosen = Some(item);
                break;
            }
        }
    }
    let Some(chosen) = chosen else {
        return Ok(None);
    };
    let claimed = queue::claim(&chosen, reviewer, now_ms, lease_ms);
    put_item(conn, project, &claimed)?;
    Ok(Some(claimed))
}

pub(super) fn apply(conn: &Connection, write: &QueueWrite) -> StoreResult<QueueReply> {
    match write {
        QueueWrite::Create(q) => {
            let changed = conn.execute(
                "INSERT INTO queues (project, id, created_ms, queue) VALUES (?1, ?2, ?3, ?4)",
                params![q.project, q.id, q.created_ms, to_json(q)],
            )?;
            Ok(QueueReply::Changed(changed > 0))
        }
        QueueWrite::Delete { project, id } => {
            conn.execute(
                "DELETE FROM queue_items WHERE project = ?1 AND queue_id = ?2",
                params![project, id],
            )?;
            let changed = conn.execute(
                "DELETE FROM queues WHERE project = ?1 AND id = ?2",
                params![project, id],
            )?;
            Ok(QueueReply::Changed(changed > 0))
        }
        QueueWrite::Add {
            project,
            queue_id,
            targets,
            reviews_needed,
            now_ms,
        } => add(conn, project, queue_id, targets, *reviews_needed, *now_ms).map(QueueReply::Added),
        QueueWrite::Claim {
            project,
            queue_id,
            reviewer,
            now_ms,
            lease_ms,
        } => claim(conn, project, queue_id, reviewer, *now_ms, *lease_ms).map(QueueReply::Claimed),
        QueueWrite::Finish {
            project,
            queue_id,
            item_id,
            reviewer,
            how,
            now_ms,
        } => {
            let Some(stored) = item(conn, project, queue_id, item_id)? else {
                return Ok(QueueReply::Finished(None));
            };
            let finished = queue::finish(&stored, reviewer, *how, *now_ms);
            if let Ok(done) = &finished {
                put_item(conn, project, done)?;
            }
            Ok(QueueReply::Finished(Some(finished)))
        }
    }
}

fn read_queues(
    conn: &Connection,
    project: &str,
    id: Option<&str>,
    now_ms: i64,
) -> StoreResult<Vec<Queue>> {
    leased::read_queues(conn, "queues", "queue_items", project, id, now_ms)
}

impl SqliteStore {
    async fn write_queue(&self, write: QueueWrite) -> StoreResult<QueueReply> {
        match self.submit(WriteOp::Queues(write)).await? {
            WriteReply::Queues(reply) => Ok(reply),
            _ => Err(unexpected_reply()),
        }
    }
}

#[async_trait]
impl QueueStore for SqliteStore {
    async fn create_queue(&self, queue: Queue) -> StoreResult<()> {
        self.write_queue(QueueWrite::Create(queue)).await.map(drop)
    }

    async fn queues(&self, project: &str, now_ms: i64) -> StoreResult<Vec<Queue>> {
        let project = project.to_string();
        self.read(move |c| read_queues(c, &project, None, now_ms))
            .await
    }

    async fn queue(&self, project: &str, id: &str, now_ms: i64) -> StoreResult<Option<Queue>> {
        let (project, id) = (project.to_string(), id.to_string());
        self.read(move |c| Ok(read_queues(c, &project, Some(&id), now_ms)?.pop()))
            .await
    }

    async fn delete_queue(&self, project: &str, id: &str) -> StoreResult<bool> {
        let write = QueueWrite::Delete {
            project: project.to_string(),
            id: id.to_string(),
        };
        match self.write_queue(write).await? {
            QueueReply::Changed(changed) => Ok(changed),
            _ => Err(unexpected_reply()),
        }
    }

    async fn add_queue_items(
        &self,
        project: &str,
        queue_id: &str,
        targets: Vec<ItemRef>,
        reviews_needed: u32,
        now_ms: i64,
    ) -> StoreResult<u64> {
        let write = QueueWrite::Add {
            project: project.to_string(),
            queue_id: queue_id.to_string(),
            targets,
            reviews_needed,
            now_ms,
        };
        match self.write_queue(write).await? {
            QueueReply::Added(n) => Ok(n),
            _ => Err(unexpected_reply()),
        }
    }

    async fn queue_items(
        &self,
        project: &str,
        queue_id: &str,
        now_ms: i64,
    ) -> StoreResult<Vec<QueueItem>> {
        let (project, queue_id) = (project.to_string(), queue_id.to_string());
        let items = self
            .read(move |c| {
                items_of(
                    c,
                    "SELECT item FROM queue_items WHERE project = ?1 AND queue_id = ?2 \
                     ORDER BY position",
                    params![project, queue_id],
                )
            })
            .await?;
        Ok(items.into_iter().map(|i| i.as_of(now_ms)).collect())
    }

    async fn queue_item(
        &self,
        project: &str,
        queue_id: &str,
        item_id: &str,
        now_ms: i64,
    ) -> StoreResult<Option<QueueItem>> {
        let (project, queue_id, item_id) = (
            project.to_string(),
            queue_id.to_string(),
            item_id.to_string(),
        );
        let found = self
            .read(move |c| item(c, &project, &queue_id, &item_id))
            .await?;
        Ok(found.map(|i| i.as_of(now_ms)))
    }

    async fn claim_queue_item(
        &self,
        project: &str,
        queue_id: &str,
        reviewer: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Option<QueueItem>> {
        let write = QueueWrite::Claim {
            project: project.to_string(),
            queue_id: queue_id.to_string(),
            reviewer: reviewer.to_string(),
            now_ms,
            lease_ms,
        };
        match self.write_queue(write).await? {
            QueueReply::Claimed(item) => Ok(item),
            _ => Err(unexpected_reply()),
        }
    }

    async fn finish_queue_item(
        &self,
        project: &str,
        queue_id: &str,
        item_id: &str,
        reviewer: &str,
        how: Finish,
        now_ms: i64,
    ) -> StoreResult<Option<Result<QueueItem, FinishError>>> {
        let write = QueueWrite::Finish {
            project: project.to_string(),
            queue_id: queue_id.to_string(),
            item_id: item_id.to_string(),
            reviewer: reviewer.to_string(),
            how,
            now_ms,
        };
        match self.write_queue(write).await? {
            QueueReply::Finished(result) => Ok(result),
            _ => Err(unexpected_reply()),
        }
    }
}
