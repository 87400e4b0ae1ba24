//! Blind pairwise review queues in the SQLite file (schema 15): a row per queue, per pair and
//! per judgement, each the model's type as JSON beside the columns claims, counts and results
//! select by. Every write goes through the one writer thread, so a claim reads and writes its
//! pair after every claim queued before it (two claims never hold one pair), and a judgement is
//! written in the same transaction as the pair it finishes.

use async_trait::async_trait;
use rusqlite::{params, Connection};
use skein_model::pairwise_queue::{Judgement, PairFinish, PairItem, PairwiseQueue};
use skein_model::queue::FinishError;

use super::leased;
use super::writer::{WriteOp, WriteReply};
use super::{to_json, unexpected_reply, SqliteStore};
use crate::store::pairwise::PairwiseStore;
use crate::store::StoreResult;

/// The tables (schema 15).
pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS pairwise_queues (
        project TEXT NOT NULL,
        id TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        queue TEXT NOT NULL,
        PRIMARY KEY (project, id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS pairwise_pairs (
        project TEXT NOT NULL,
        queue_id TEXT NOT NULL,
        id TEXT NOT NULL,
        position INTEGER NOT NULL,
        status TEXT NOT NULL,
        holder TEXT NOT NULL DEFAULT '',
        lease_expires_ms INTEGER NOT NULL DEFAULT 0,
        pair TEXT NOT NULL,
        PRIMARY KEY (project, queue_id, id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS pairwise_pairs_by_status
        ON pairwise_pairs (project, queue_id, status, position);
    CREATE TABLE IF NOT EXISTS pairwise_judgements (
        project TEXT NOT NULL,
        queue_id TEXT NOT NULL,
        pair_id TEXT NOT NULL,
        reviewer TEXT NOT NULL,
        winner TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        judgement TEXT NOT NULL,
        PRIMARY KEY (project, queue_id, pair_id)
    ) WITHOUT ROWID;";

/// A write of pairwise queues, pairs or judgements, for the writer thread.
pub(super) enum PairwiseWrite {
    Create(PairwiseQueue, Vec<PairItem>),
    Delete {
        project: String,
        id: String,
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
        pair_id: String,
        reviewer: String,
        how: PairFinish,
        now_ms: i64,
    },
}

/// What a pairwise write did.
pub(super) enum PairwiseReply {
    Changed(bool),
    Claimed(Option<PairItem>),
    Finished(Option<Result<PairItem, FinishError>>),
}

fn put_pair(conn: &Connection, project: &str, pair: &PairItem) -> StoreResult<()> {
    leased::put(conn, "pairwise_pairs", project, pair)
}

fn pairs_of(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> StoreResult<Vec<PairItem>> {
    leased::rows_of(conn, "pair", sql, args)
}

/// The candidates of `queue::choose_next` (what the reviewer holds, the first pending pair,
/// the first whose lease ran out); the model's rule picks among them.
fn claim(
    conn: &Connection,
    project: &str,
    queue_id: &str,
    reviewer: &str,
    now_ms: i64,
    lease_ms: i64,
) -> StoreResult<Option<PairItem>> {
    let mut candidates = pairs_of(
        conn,
        "SELECT pair FROM pairwise_pairs WHERE project = ?1 AND queue_id = ?2 \
         AND status = 'in_progress' AND instr(holder, ?3) > 0 AND lease_expires_ms > ?4",
        params![project, queue_id, format!("\n{reviewer}\n"), now_ms],
    )?;
    candidates.extend(pairs_of(
        conn,
        "SELECT pair FROM pairwise_pairs WHERE project = ?1 AND queue_id = ?2 \
         AND status = 'pending' ORDER BY position LIMIT 1",
        params![project, queue_id],
    )?);
    candidates.extend(pairs_of(
        conn,
        "SELECT pair FROM pairwise_pairs WHERE project = ?1 AND queue_id = ?2 \
         AND status = 'in_progress' AND lease_expires_ms <= ?3 ORDER BY position LIMIT 1",
        params![project, queue_id, now_ms],
    )?);
    let Some(claimed) = PairItem::claim_next(&candidates, reviewer, now_ms, lease_ms) else {
        return Ok(None);
    };
    put_pair(conn, project, &claimed)?;
    Ok(Some(claimed))
}

fn finish(
    conn: &Connection,
    project: &str,
    queue_id: &str,
    pair_id: &str,
    reviewer: &str,
    how: PairFinish,
    now_ms: i64,
) -> StoreResult<Option<Result<PairItem, FinishError>>> {
    let Some(stored) = pairs_of(
        conn,
        "SELECT pair FROM pairwise_pairs WHERE project = ?1 AND queue_id = ?2 AND id = ?3",
        params![project, queue_id, pair_id],
    )?
    .pop() else {
        return Ok(None);
    };
    let finished = match stored.finish(reviewer, how.how(), now_ms) {
        Ok(finished) => finished,
        Err(e) => return Ok(Some(Err(e))),
    };
    put_pair(conn, project, &finished)?;
    if let PairFinish::Judge(pick) = how {
        let judgement = Judgement::of(&finished, reviewer, pick, now_ms);
        conn.prepare_cached(
            "INSERT OR REPLACE INTO pairwise_judgements \
             (project, queue_id, pair_id, reviewer, winner, created_ms, judgement) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            project,
            queue_id,
            pair_id,
            reviewer,
            judgement.winner.as_str(),
            now_ms,
            to_json(&judgement)
        ])?;
    }
    Ok(Some(Ok(finished)))
}

pub(super) fn apply(conn: &Connection, write: &PairwiseWrite) -> StoreResult<PairwiseReply> {
    match write {
        PairwiseWrite::Create(q, pairs) => {
            let changed = conn.execute(
                "INSERT INTO pairwise_queues (project, id, created_ms, queue) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![q.project, q.id, q.created_ms, to_json(q)],
            )?;
            for pair in pairs {
                put_pair(conn, &q.project, pair)?;
            }
            Ok(PairwiseReply::Changed(changed > 0))
        }
        PairwiseWrite::Delete { project, id } => {
            conn.execute(
                "DELETE FROM pairwise_pairs WHERE project = ?1 AND queue_id = ?2",
                params![project, id],
            )?;
            let changed = conn.execute(
                "DELETE FROM pairwise_queues WHERE project = ?1 AND id = ?2",
                params![project, id],
            )?;
            Ok(PairwiseReply::Changed(changed > 0))
        }
        PairwiseWrite::Claim {
            project,
            queue_id,
            reviewer,
            now_ms,
            lease_ms,
        } => {
            claim(conn, project, queue_id, reviewer, *now_ms, *lease_ms).map(PairwiseReply::Claimed)
        }
        PairwiseWrite::Finish {
            project,
            queue_id,
            pair_id,
            reviewer,
            how,
            now_ms,
        } => finish(conn, project, queue_id, pair_id, reviewer, *how, *now_ms)
            .map(PairwiseReply::Finished),
    }
}

fn read_queues(
    conn: &Connection,
    project: &str,
    id: Option<&str>,
    now_ms: i64,
) -> StoreResult<Vec<PairwiseQueue>> {
    leased::read_queues(
        conn,
        "pairwise_queues",
        "pairwise_pairs",
        project,
        id,
        now_ms,
    )
}

fn read_judgements(
    conn: &Connection,
    project: &str,
    queue_id: Option<&str>,
) -> StoreResult<Vec<Judgement>> {
    leased::rows_of(
        conn,
        "judgement",
        "SELECT judgement FROM pairwise_judgements \
         WHERE project = ?1 AND (?2 IS NULL OR queue_id = ?2) ORDER BY created_ms, queue_id, pair_id",
        params![project, queue_id],
    )
}

impl SqliteStore {
    async fn write_pairwise(&self, write: PairwiseWrite) -> StoreResult<PairwiseReply> {
        match self.submit(WriteOp::Pairwise(write)).await? {
            WriteReply::Pairwise(reply) => Ok(reply),
            _ => Err(unexpected_reply()),
        }
    }
}

#[async_trait]
impl PairwiseStore for SqliteStore {
    async fn create_pairwise_queue(
        &self,
        queue: PairwiseQueue,
        pairs: Vec<PairItem>,
    ) -> StoreResult<()> {
        self.write_pairwise(PairwiseWrite::Create(queue, pairs))
            .await
            .map(drop)
    }

    async fn pairwise_queues(&self, project: &str, now_ms: i64) -> StoreResult<Vec<PairwiseQueue>> {
        let project = project.to_string();
        self.read(move |c| read_queues(c, &project, None, now_ms))
            .await
    }

    async fn pairwise_queue(
        &self,
        project: &str,
        id: &str,
        now_ms: i64,
    ) -> StoreResult<Option<PairwiseQueue>> {
        let (project, id) = (project.to_string(), id.to_string());
        self.read(move |c| Ok(read_queues(c, &project, Some(&id), now_ms)?.pop()))
            .await
    }

    async fn delete_pairwise_queue(&self, project: &str, id: &str) -> StoreResult<bool> {
        let write = PairwiseWrite::Delete {
            project: project.to_string(),
            id: id.to_string(),
        };
        match self.write_pairwise(write).await? {
            PairwiseReply::Changed(changed) => Ok(changed),
            _ => Err(unexpected_reply()),
        }
    }

    async fn claim_pair(
        &self,
        project: &str,
        queue_id: &str,
        reviewer: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Option<PairItem>> {
        let write = PairwiseWrite::Claim {
            project: project.to_string(),
            queue_id: queue_id.to_string(),
            reviewer: reviewer.to_string(),
            now_ms,
            lease_ms,
        };
        match self.write_pairwise(write).await? {
            PairwiseReply::Claimed(pair) => Ok(pair),
            _ => Err(unexpected_reply()),
        }
    }

    async fn finish_pair(
        &self,
        project: &str,
        queue_id: &str,
        pair_id: &str,
        reviewer: &str,
        how: PairFinish,
        now_ms: i64,
    ) -> StoreResult<Option<Result<PairItem, FinishError>>> {
        let write = PairwiseWrite::Finish {
            project: project.to_string(),
            queue_id: queue_id.to_string(),
            pair_id: pair_id.to_string(),
            reviewer: reviewer.to_string(),
            how,
            now_ms,
        };
        match self.write_pairwise(write).await? {
            PairwiseReply::Finished(result) => Ok(result),
            _ => Err(unexpected_reply()),
        }
    }

    async fn judgements(
        &self,
        project: &str,
        queue_id: Option<&str>,
    ) -> StoreResult<Vec<Judgement>> {
        let (project, queue_id) = (project.to_string(), queue_id.map(str::to_string));
        self.read(move |c| read_judgements(c, &project, queue_id.as_deref()))
            .await
    }
}
