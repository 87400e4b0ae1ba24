//! Retention: traces that started before a cutoff leave with everything that hangs on them
//! (spans, folds, tags, run lookups, feedback), and the counts kept for the pickers (services,
//! tag values) lose their share. A bounded number of traces per writer job, so that a large
//! expiry does not hold the writer for long; the caller repeats until nothing is left.

use rusqlite::{params, Connection};

use super::traces::TagCounts;
use crate::store::StoreResult;

/// Most traces removed in one writer job.
pub(super) const TRACES_PER_JOB: i64 = 2_000;

/// Removes up to `TRACES_PER_JOB` traces that started before `cutoff_ns`; how many it removed.
pub(super) fn expire(conn: &Connection, cutoff_ns: i64) -> StoreResult<u64> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS expired (id INTEGER PRIMARY KEY, project TEXT NOT NULL, \
         trace_id TEXT NOT NULL); DELETE FROM temp.expired;",
    )?;
    let n = conn.execute(
        "INSERT INTO temp.expired (id, project, trace_id) \
         SELECT id, project, trace_id FROM traces WHERE start_ns < ?1 LIMIT ?2",
        params![cutoff_ns, TRACES_PER_JOB],
    )?;
    if n == 0 {
        return Ok(0);
    }

    // The pickers' counts lose the expired traces' share.
    let mut services = conn.prepare(
        "SELECT e.project, s.service, count(*), sum(s.status = 2) FROM temp.expired e \
         JOIN spans s ON s.trace = e.id GROUP BY 1, 2",
    )?;
    let shares = services
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut less = conn.prepare_cached(
        "UPDATE services SET span_count = max(0, span_count - ?3), \
         error_count = max(0, error_count - ?4) WHERE project = ?1 AND name = ?2",
    )?;
    for (project, service, spans, errors) in shares {
        less.execute(params![project, service, spans, errors])?;
    }
    let mut tags = conn.prepare(
        "SELECT g.project, g.key, g.value, count(*) FROM temp.expired e \
         JOIN trace_tags g ON g.trace = e.id GROUP BY 1, 2, 3",
    )?;
    let mut counts = TagCounts::default();
    for row in tags.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })? {
        let (project, key, value, n) = row?;
        counts.add(&project, &key, &value, -n);
    }
    counts.flush(conn)?;

    conn.execute_batch(
        "DELETE FROM trace_tags WHERE trace IN (SELECT id FROM temp.expired);
         DELETE FROM span_lookup WHERE EXISTS (SELECT 1 FROM temp.expired e \
             WHERE e.project = span_lookup.project AND e.trace_id = span_lookup.trace_id);
         DELETE FROM feedback WHERE EXISTS (SELECT 1 FROM temp.expired e \
             WHERE e.project = feedback.project AND e.trace_id = feedback.trace_id);
         DELETE FROM span_changes WHERE span IN \
             (SELECT s.id FROM spans s WHERE s.trace IN (SELECT id FROM temp.expired));
         DELETE FROM spans WHERE trace IN (SELECT id FROM temp.expired);
         DELETE FROM trace_folds WHERE trace IN (SELECT id FROM temp.expired);
         DELETE FROM traces WHERE id IN (SELECT id FROM temp.expired);
         DELETE FROM temp.expired;",
    )?;
    Ok(n as u64)
}
