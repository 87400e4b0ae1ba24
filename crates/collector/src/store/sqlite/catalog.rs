//! What is stored, for the pickers: projects, services, tag keys and values with their counts
//! (kept by the writer in `services` and `tag_values`).

use rusqlite::{params, Connection};
use skein_model::catalog::FIELD_VALUE_TRACES;
use skein_model::{FieldValueInfo, ProjectInfo, ServiceInfo, TagKeyInfo, TagValueInfo, ValueField};

use crate::store::StoreResult;

pub(super) fn projects(conn: &Connection) -> StoreResult<Vec<ProjectInfo>> {
    let mut stmt = conn.prepare(
        "SELECT project, count(*), sum(span_count), max(end_ns) FROM traces \
         GROUP BY project ORDER BY project",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(ProjectInfo {
                name: r.get(0)?,
                trace_count: r.get::<_, i64>(1)? as u64,
                span_count: r.get::<_, i64>(2)? as u64,
                last_seen_ns: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The names of the projects with traces, sorted: one probe of `traces_by_id` per project
/// (each step seeks the first name after the last), not a pass over the traces.
pub(super) fn project_names(conn: &Connection) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE names(name) AS ( \
             SELECT min(project) FROM traces \
             UNION ALL \
             SELECT (SELECT min(project) FROM traces WHERE project > names.name) FROM names \
             WHERE names.name IS NOT NULL \
         ) SELECT name FROM names WHERE name IS NOT NULL",
    )?;
    let names = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}

pub(super) fn services(conn: &Connection, project: &str) -> StoreResult<Vec<ServiceInfo>> {
    let mut stmt = conn.prepare(
        "SELECT name, span_count, error_count FROM services WHERE project = ?1 \
         ORDER BY span_count DESC, name",
    )?;
    let rows = stmt
        .query_map(params![project], |r| {
            Ok(ServiceInfo {
                name: r.get(0)?,
                span_count: r.get::<_, i64>(1)? as u64,
                error_count: r.get::<_, i64>(2)? as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub(super) fn tag_keys(conn: &Connection, project: &str) -> StoreResult<Vec<TagKeyInfo>> {
    let mut stmt = conn.prepare(
        "SELECT key, sum(trace_count) AS n FROM tag_values WHERE project = ?1 \
         GROUP BY key HAVING n > 0 ORDER BY n DESC, key LIMIT 500",
    )?;
    let rows = stmt
        .query_map(params![project], |r| {
            Ok(TagKeyInfo {
                key: r.get(0)?,
                trace_count: r.get::<_, i64>(1)? as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The values of a tag key starting with `prefix` (as typed: `%` and `_` are plain
/// characters), most used first.
pub(super) fn tag_values(
    conn: &Connection,
    project: &str,
    key: &str,
    prefix: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<TagValueInfo>> {
    let pattern = format!(
        "{}%",
        prefix
            .unwrap_or("")
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let limit = limit.clamp(1, 1000);
    let mut stmt = conn.prepare(
        "SELECT value, trace_count FROM tag_values WHERE project = ?1 AND key = ?2 \
         AND trace_count > 0 AND value LIKE ?3 ESCAPE '\\' \
         ORDER BY trace_count DESC, value LIMIT ?4",
    )?;
    let rows = stmt
        .query_map(params![project, key, pattern, limit], |r| {
            Ok(TagValueInfo {
                value: r.get(0)?,
                trace_count: r.get::<_, i64>(1)? as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The values of a span field starting with `prefix` among the spans of the project's latest
/// `FIELD_VALUE_TRACES` traces (by start, through `traces_by_start`), most used first.
pub(super) fn field_values(
    conn: &Connection,
    project: &str,
    field: ValueField,
    prefix: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<FieldValueInfo>> {
    let column = match field {
        ValueField::Model => "ifnull(f.model, '')",
        ValueField::Name => "s.name",
    };
    let limit = limit.clamp(1, 1000);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT v, count(*) AS n FROM (SELECT {column} AS v \
         FROM (SELECT id FROM traces WHERE project = ?1 ORDER BY start_ns DESC LIMIT ?2) t \
         JOIN spans s ON s.trace = t.id LEFT JOIN span_facts f ON f.span = s.id) \
         WHERE v != '' AND substr(v, 1, length(?3)) = ?3 \
         GROUP BY v ORDER BY n DESC, v LIMIT ?4"
    ))?;
    let rows = stmt
        .query_map(
            params![project, FIELD_VALUE_TRACES, prefix.unwrap_or(""), limit],
            |r| {
                Ok(FieldValueInfo {
                    value: r.get(0)?,
                    span_count: r.get::<_, i64>(1)? as u64,
                })
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
