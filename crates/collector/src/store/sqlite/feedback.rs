//! Feedback on runs: records written by the writer, read by the trace list, the metrics and
//! the API. A record names its run (span) and takes the run's trace, now or when the run arrives
//! (`attach_waiting`). `feedback_scores`, the per-trace rollup the metrics read, is kept by
//! triggers (`metrics::FEEDBACK_SCORES`).

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use std::collections::HashMap;

use skein_model::trace::FeedbackStat;
use skein_model::{Feedback, FeedbackUpdate, NewFeedback, TraceSummary};

use super::codec::SpanRow;
use super::{now_ms, to_json};
use crate::store::{FeedbackFilter, StoreResult};

pub(super) fn insert(conn: &Connection, project: &str, new: &NewFeedback) -> StoreResult<Feedback> {
    let now = now_ms();
    let id = new
        .id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let created_ms = conn
        .query_row(
            "SELECT created_ms FROM feedback WHERE id = ?1 AND project = ?2",
            params![id, project],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .unwrap_or(now);
    let trace_id = match &new.trace_id {
        Some(t) => Some(t.clone()),
        None => trace_of_run(conn, project, &new.run_id)?,
    };
    let feedback = Feedback {
        id,
        project: project.to_string(),
        run_id: new.run_id.clone(),
        trace_id,
        key: new.key.clone(),
        score: new.score,
        value: new.value.clone(),
        comment: new.comment.clone(),
        correction: new.correction.clone(),
        source: new.source.clone().unwrap_or_else(|| "api".into()),
        queue_id: new.queue_id.clone(),
        reviewer: new.reviewer.clone(),
        created_ms,
        modified_ms: now,
    };
    write(conn, &feedback)?;
    Ok(feedback)
}

/// The trace of span `run_id` in `project`, if it is stored: through `span_lookup` (LangSmith
/// runs, by key), else by the project's traces in `spans_by_trace` (spans have no index by
/// span id alone: it would slow every insert; feedback that names no trace is rare).
pub(super) fn trace_of_run(
    conn: &Connection,
    project: &str,
    run_id: &str,
) -> StoreResult<Option<String>> {
    let looked_up: Option<String> = conn
        .prepare_cached(
            "SELECT trace_id FROM span_lookup WHERE span_id = ?1 AND project = ?2 LIMIT 1",
        )?
        .query_row(params![run_id, project], |r| r.get(0))
        .optional()?;
    if looked_up.is_some() {
        return Ok(looked_up);
    }
    Ok(conn
        .prepare_cached(
            "SELECT t.trace_id FROM traces t JOIN spans s ON s.trace = t.id \
             WHERE t.project = ?1 AND s.span_id = ?2 LIMIT 1",
        )?
        .query_row(params![project, run_id], |r| r.get(0))
        .optional()?)
}

/// Feedback stored before its run arrived (the LangSmith SDK may send it first) gets the
/// run's trace as the run is inserted. Costs one probe of `feedback_waiting` per write
/// while no feedback waits (named: left alone, the planner scanned all of `feedback_by_trace`),
/// and one probe per span while some does.
pub(super) fn attach_waiting(conn: &Connection, rows: &[SpanRow]) -> StoreResult<()> {
    let waiting: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM feedback INDEXED BY feedback_waiting \
             WHERE trace_id IS NULL)",
        )?
        .query_row([], |r| r.get(0))?;
    if !waiting {
        return Ok(());
    }
    let mut attach = conn.prepare_cached(
        "UPDATE feedback SET trace_id = ?3 \
         WHERE project = ?1 AND run_id = ?2 AND trace_id IS NULL",
    )?;
    for row in rows {
        attach.execute(params![row.project, row.span_id, row.trace_id])?;
    }
    Ok(())
}

/// Writes a record, replacing the one of the same project and id (ids are scoped by project:
/// the same id in another project is another record); its run is received again.
pub(super) fn write(conn: &Connection, f: &Feedback) -> StoreResult<()> {
    super::received::feedback_changed(conn, &f.project, f.trace_id.as_deref(), &f.run_id)?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO feedback (id, project, run_id, trace_id, key, score, value, comment, \
         correction, source, created_ms, modified_ms, queue_id, reviewer) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        f.id,
        f.project,
        f.run_id,
        f.trace_id,
        f.key,
        f.score,
        f.value.as_ref().map(to_json),
        f.comment,
        f.correction.as_ref().map(to_json),
        f.source,
        f.created_ms,
        f.modified_ms,
        f.queue_id,
        f.reviewer,
    ])?;
    Ok(())
}

/// One record by its project and id (the table's key).
pub(super) fn read(conn: &Connection, project: &str, id: &str) -> StoreResult<Option<Feedback>> {
    Ok(conn
        .query_row(
            &format!("SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE project = ?1 AND id = ?2"),
            params![project, id],
            feedback_from_row,
        )
        .optional()?)
}

pub(super) fn update(
    conn: &Connection,
    project: &str,
    id: &str,
    update: &FeedbackUpdate,
) -> StoreResult<Option<Feedback>> {
    let Some(mut f) = conn
        .query_row(
            &format!("SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE project = ?1 AND id = ?2"),
            params![project, id],
            feedback_from_row,
        )
        .optional()?
    else {
        return Ok(None);
    };
    if let Some(key) = &update.key {
        f.key.clone_from(key);
    }
    if update.score.is_some() {
        f.score = update.score;
    }
    if update.value.is_some() {
        f.value.clone_from(&update.value);
    }
    if update.comment.is_some() {
        f.comment.clone_from(&update.comment);
    }
    f.modified_ms = now_ms();
    write(conn, &f)?;
    Ok(Some(f))
}

pub(super) fn delete(conn: &Connection, project: &str, id: &str) -> StoreResult<bool> {
    if let Some(f) = read(conn, project, id)? {
        super::received::feedback_changed(conn, project, f.trace_id.as_deref(), &f.run_id)?;
    }
    let n = conn.execute(
        "DELETE FROM feedback WHERE project = ?1 AND id = ?2",
        params![project, id],
    )?;
    Ok(n > 0)
}

/// The records the filter selects, oldest first.
pub(super) fn list(
    conn: &Connection,
    project: &str,
    filter: &FeedbackFilter,
) -> StoreResult<Vec<Feedback>> {
    let mut sql = format!("SELECT {FEEDBACK_COLUMNS} FROM feedback f WHERE f.project = ?");
    let mut args: Vec<SqlValue> = vec![project.to_string().into()];
    if let Some(run) = &filter.run_id {
        sql.push_str(" AND f.run_id = ?");
        args.push(run.clone().into());
    }
    if let Some(trace) = &filter.trace_id {
        // Feedback gets its run's trace when written, or when its run arrives.
        sql.push_str(" AND f.trace_id = ?");
        args.push(trace.clone().into());
    }
    if let Some(key) = &filter.key {
        sql.push_str(" AND f.key = ?");
        args.push(key.clone().into());
    }
    if let Some(queue_id) = &filter.queue_id {
        sql.push_str(" AND f.queue_id = ?");
        args.push(queue_id.clone().into());
    }
    let limit = filter.limit.unwrap_or(1000).clamp(1, 10_000);
    sql.push_str(&format!(" ORDER BY f.created_ms, f.id LIMIT {limit}"));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), feedback_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Fills `TraceSummary::feedback` for a page of the trace list: per trace and key, how many
/// feedback records and their mean score, through `feedback_by_trace`. Feedback posted with
/// only a run id has its run's trace from the moment the run is stored (`insert`,
/// `attach_waiting`), so the trace id alone finds all of it.
pub(super) fn add_summaries(
    conn: &Connection,
    project: &str,
    traces: &mut [TraceSummary],
) -> StoreResult<()> {
    if traces.is_empty() {
        return Ok(());
    }
    let marks = vec!["?"; traces.len()].join(", ");
    let sql = format!(
        "SELECT trace_id, key, count(*), avg(score) FROM feedback \
         WHERE project = ? AND trace_id IN ({marks}) \
         GROUP BY trace_id, key ORDER BY trace_id, key"
    );
    let args: Vec<SqlValue> = std::iter::once(SqlValue::from(project.to_string()))
        .chain(traces.iter().map(|t| SqlValue::from(t.trace_id.clone())))
        .collect();
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut by_trace: HashMap<String, Vec<FeedbackStat>> = HashMap::new();
    while let Some(row) = rows.next()? {
        let trace_id: String = row.get(0)?;
        by_trace.entry(trace_id).or_default().push(FeedbackStat {
            key: row.get(1)?,
            count: row.get::<_, i64>(2)?.max(0) as u64,
            mean: row.get(3)?,
        });
    }
    for t in traces {
        if let Some(stats) = by_trace.remove(&t.trace_id) {
            t.feedback = stats;
        }
    }
    Ok(())
}

const FEEDBACK_COLUMNS: &str = "id, project, run_id, trace_id, key, score, value, comment, \
    correction, source, created_ms, modified_ms, queue_id, reviewer";

fn feedback_from_row(row: &Row<'_>) -> rusqlite::Result<Feedback> {
    let value: Option<String> = row.get(6)?;
    let correction: Option<String> = row.get(8)?;
    Ok(Feedback {
        id: row.get(0)?,
        project: row.get(1)?,
        run_id: row.get(2)?,
        trace_id: row.get(3)?,
        key: row.get(4)?,
        score: row.get(5)?,
        value: value.and_then(|v| serde_json::from_str(&v).ok()),
        comment: row.get(7)?,
        correction: correction.and_then(|v| serde_json::from_str(&v).ok()),
        source: row.get(9)?,
        created_ms: row.get(10)?,
        modified_ms: row.get(11)?,
        queue_id: row.get(12)?,
        reviewer: row.get(13)?,
    })
}
