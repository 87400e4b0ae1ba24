//! The trace list: the SQL of `TraceQuery` over the `traces` summary rows and the tag index,
//! counted and paged by cursor.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use skein_model::span::{SpanStatus, SpanType};
use skein_model::trace_fold::TraceFold;
use skein_model::{StatusFilter, TracePage, TraceQuery, TraceSort, TraceSummary};

use super::{feedback, now_ms};
use crate::store::{StoreError, StoreResult};

/// A trace's summary columns. Its services and tags come from its fold (`traces.fold`), or, for
/// a trace written before folds were kept, from the `services` and `tags` columns.
pub(super) const TRACE_COLUMNS: &str =
    "trace_id, root_name, root_span_id, start_ns, end_ns, span_count, \
    error_count, status, services, tags, session_id, user_id, input_tokens, output_tokens, cost, \
    duration_ns, root_span_type, (SELECT fold FROM trace_folds WHERE trace_folds.trace = id)";

/// The number of columns in `TRACE_COLUMNS` (the next one is the caller's).
pub(super) const TRACE_COLUMN_COUNT: usize = 18;

pub(super) fn trace_from_row(row: &Row<'_>) -> rusqlite::Result<TraceSummary> {
    let fold: Option<TraceFold> = row
        .get::<_, Option<String>>(17)?
        .and_then(|f| serde_json::from_str(&f).ok());
    let (services, tags) = match fold {
        Some(fold) => {
            let summary = fold.summary("");
            (summary.services, summary.tags)
        }
        None => {
            let services: String = row.get(8)?;
            let tags: String = row.get(9)?;
            (
                serde_json::from_str(&services).unwrap_or_default(),
                serde_json::from_str(&tags).unwrap_or_default(),
            )
        }
    };
    let root_span_id: Option<String> = row.get(2)?;
    Ok(TraceSummary {
        trace_id: row.get(0)?,
        root_name: row.get(1)?,
        has_root: root_span_id.is_some(),
        root_span_id,
        start_ns: row.get(3)?,
        end_ns: row.get(4)?,
        span_count: row.get::<_, i64>(5)? as u64,
        error_count: row.get::<_, i64>(6)? as u64,
        status: SpanStatus::from_code(row.get::<_, i64>(7)? as u8),
        services,
        tags,
        session_id: row.get(10)?,
        user_id: row.get(11)?,
        input_tokens: row.get(12)?,
        output_tokens: row.get(13)?,
        cost: row.get(14)?,
        root_span_type: row.get::<_, Option<u8>>(16)?.map(SpanType::from_code),
        feedback: Vec::new(),
    })
}

/// The WHERE clause and parameters of a trace query (without the cursor).
pub(super) fn trace_filter(project: &str, q: &TraceQuery) -> (String, Vec<SqlValue>) {
    trace_filter_narrowed(project, q, &|_| true)
}

/// `trace_filter`, the traces narrowed by a searched text's candidates only where `narrow_by`
/// says (`span_list::push_trace_list_filter`).
fn trace_filter_narrowed(
    project: &str,
    q: &TraceQuery,
    narrow_by: &dyn Fn(&str) -> bool,
) -> (String, Vec<SqlValue>) {
    let mut sql = String::from("t.project = ?");
    let mut args: Vec<SqlValue> = vec![project.to_string().into()];
    if let Some(from) = q.start_from_ms(now_ms()) {
        sql.push_str(" AND t.start_ns >= ?");
        args.push(from.saturating_mul(1_000_000).into());
    }
    if let Some(to) = q.to_ms {
        sql.push_str(" AND t.start_ns < ?");
        args.push(to.saturating_mul(1_000_000).into());
    }
    if let Some(name) = &q.name {
        sql.push_str(" AND t.root_name LIKE ? ESCAPE '\\'");
        let escaped = name
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        args.push(format!("%{escaped}%").into());
    }
    match q.status {
        Some(StatusFilter::Error) => sql.push_str(" AND t.error_count > 0"),
        Some(StatusFilter::Ok) => sql.push_str(" AND t.error_count = 0"),
        None => {}
    }
    if let Some(ms) = q.min_duration_ms {
        sql.push_str(" AND t.duration_ns >= ?");
        args.push(((ms * 1e6) as i64).into());
    }
    if let Some(ms) = q.max_duration_ms {
        sql.push_str(" AND t.duration_ns <= ?");
        args.push(((ms * 1e6) as i64).into());
    }
    if let Some(s) = &q.session_id {
        sql.push_str(" AND t.session_id = ?");
        args.push(s.clone().into());
    }
    if let Some(u) = &q.user_id {
        sql.push_str(" AND t.user_id = ?");
        args.push(u.clone().into());
    }
    for tag in &q.tags {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM trace_tags g WHERE g.trace = t.id \
             AND g.key = ? AND g.value = ?)",
        );
        args.push(tag.key.clone().into());
        args.push(tag.value.clone().into());
    }
    super::span_list::push_trace_list_filter(q, &mut sql, &mut args, narrow_by);
    (sql, args)
}

/// Cursor: `<sort key>.<trace id>` of the last row of the previous page.
fn parse_cursor(cursor: &str) -> StoreResult<(i64, String)> {
    cursor
        .split_once('.')
        .and_then(|(k, id)| Some((k.parse().ok()?, id.to_string())))
        .ok_or_else(|| StoreError::Invalid(format!("cursor {cursor:?} is not one this API gave")))
}

/// Of a query's tag filters, the one matching the fewest traces (from the `tag_values`
/// counts) and that number: the tag to read the matches from.
fn rarest_tag(
    conn: &Connection,
    project: &str,
    q: &TraceQuery,
) -> StoreResult<Option<(usize, i64)>> {
    let mut rarest: Option<(usize, i64)> = None;
    let mut stmt = conn.prepare_cached(
        "SELECT trace_count FROM tag_values WHERE project = ?1 AND key = ?2 AND value = ?3",
    )?;
    for (i, tag) in q.tags.iter().enumerate() {
        let n: i64 = stmt
            .query_row(params![project, tag.key, tag.value], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        if rarest.is_none_or(|(_, m)| n < m) {
            rarest = Some((i, n));
        }
    }
    Ok(rarest)
}

/// The rows of `trace_tags` with one tag (`BY_TAG`), in trace id order.
const FROM_TAG: &str = "trace_tags g0 INDEXED BY trace_tags_by_value";
const BY_TAG: &str = "g0.project = ? AND g0.key = ? AND g0.value = ?";

/// The query without tag filter `i`, and the parameters of `BY_TAG` for that tag.
fn without_tag(project: &str, q: &TraceQuery, i: usize) -> (TraceQuery, Vec<SqlValue>) {
    let mut rest = q.clone();
    let tag = rest.tags.remove(i);
    let args = vec![project.to_string().into(), tag.key.into(), tag.value.into()];
    (rest, args)
}

/// The traces a query selects as SQL (`FROM`, `WHERE`, the parameters of the `WHERE`), `t`
/// being `traces`, in trace id order. With tag filters they are read from the rarest tag's rows
/// of `trace_tags_by_value` (its traces only, in id order) rather than by probing the tags of
/// every trace of the project: half the time of a cohort's spans at 1M spans.
pub(super) fn traces_in_order(
    conn: &Connection,
    project: &str,
    q: &TraceQuery,
) -> StoreResult<(String, String, Vec<SqlValue>)> {
    Ok(match rarest_tag(conn, project, q)? {
        Some((i, _)) => {
            let (rest, mut args) = without_tag(project, q, i);
            let (filter, filter_args) = trace_filter(project, &rest);
            args.extend(filter_args);
            (
                format!("{FROM_TAG} CROSS JOIN traces t ON t.id = g0.trace"),
                format!("{BY_TAG} AND {filter}"),
                args,
            )
        }
        None => {
            let (filter, args) = trace_filter(project, q);
            ("traces t".to_string(), filter, args)
        }
    })
}

/// True when the query filters on nothing but tags (whatever fields `TraceQuery` grows).
fn only_tag_filters(q: &TraceQuery) -> bool {
    TraceQuery {
        tags: Vec::new(),
        sort: TraceSort::default(),
        cursor: None,
        limit: None,
        ..q.clone()
    } == TraceQuery::default()
}

/// How many traces match: with tag filters, counted from the rarest tag's rows of
/// `trace_tags_by_value` (in trace id order, so the other filters' primary-key lookups are
/// sequential), joined to `traces` only when other filters need its columns. Measured at 1M
/// spans (75k traces): three tags 24 ms where scanning the traces took 50–80 ms, one tag 2 ms.
fn count_traces(conn: &Connection, project: &str, q: &TraceQuery) -> StoreResult<i64> {
    let Some((i, n)) = rarest_tag(conn, project, q)? else {
        let (filter, args) = trace_filter(project, q);
        return Ok(conn.query_row(
            &format!("SELECT count(*) FROM traces t WHERE {filter}"),
            params_from_iter(args.iter()),
            |r| r.get(0),
        )?);
    };
    if n == 0 {
        return Ok(0);
    }
    let (rest, mut args) = without_tag(project, q, i);
    let sql = if only_tag_filters(&rest) {
        let mut sql = format!("SELECT count(*) FROM {FROM_TAG} WHERE {BY_TAG}");
        for tag in &rest.tags {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM trace_tags g WHERE g.trace = g0.trace \
                 AND g.key = ? AND g.value = ?)",
            );
            args.push(tag.key.clone().into());
            args.push(tag.value.clone().into());
        }
        sql
    } else {
        let (filter, filter_args) = trace_filter(project, &rest);
        args.extend(filter_args);
        format!(
            "SELECT count(*) FROM {FROM_TAG} CROSS JOIN traces t ON t.id = g0.trace \
             WHERE {BY_TAG} AND {filter}"
        )
    };
    Ok(conn.query_row(&sql, params_from_iter(args.iter()), |r| r.get(0))?)
}

/// Below this many matches, a page is read from the rarest tag's rows and sorted, rather
/// than by scanning the traces in the page's order until it is full.
const FEW_TAGGED: i64 = 5_000;

/// The most traces a text search counts exactly when its texts have few candidates (the
/// traces are then read from the candidates': at most `FEW_CANDIDATES` rows); past it the total
/// says "at least".
pub(super) const SEARCH_COUNT_CAP: i64 = 10_000;

/// A searched text with at most this many candidate spans narrows the traces to the
/// candidates' (a row of `spans` read each, ~2 µs); with more, the traces are tested in the
/// list's order instead, and counted up to `COMMON_SEARCH_COUNT_CAP` only.
#[cfg(not(test))]
pub(super) const FEW_CANDIDATES: usize = 20_000;
/// Small in unit tests, whose stores are small.
#[cfg(test)]
pub(super) const FEW_CANDIDATES: usize = 500;

/// The most traces counted for a text with many candidates: each trace tested in the list's
/// order (its spans probed against the candidates) until this many pass.
pub(super) const COMMON_SEARCH_COUNT_CAP: i64 = 1_000;

/// The trace list under a text search: its filter (narrowed by the texts with few candidates),
/// the `FROM` that reads the traces in the list's order when a text is common, and how many
/// traces it counts at most.
fn searched_traces(
    conn: &Connection,
    project: &str,
    q: &TraceQuery,
    conditions: &super::span_list::TraceConditions,
    column: &str,
) -> StoreResult<(String, Vec<SqlValue>, String, i64)> {
    let mut common = Vec::new();
    for needle in conditions.required_searches() {
        if super::span_text::has_more_candidates(conn, needle, FEW_CANDIDATES)? {
            common.push(needle.to_string());
        }
    }
    let narrowed = conditions.required_searches().len() > common.len();
    let (filter, args) = trace_filter_narrowed(project, q, &|n| !common.iter().any(|c| c == n));
    Ok(if narrowed {
        (filter, args, "traces t".to_string(), SEARCH_COUNT_CAP)
    } else {
        // In the list's order, each trace tested until enough pass: otherwise the planner reads
        // every candidate trace (by rowid) and sorts them.
        let from = format!(
            "traces t INDEXED BY traces_by_{}",
            column.trim_end_matches("_ns")
        );
        (filter, args, from, COMMON_SEARCH_COUNT_CAP)
    })
}

pub(super) fn list_traces(
    conn: &Connection,
    project: &str,
    q: &TraceQuery,
) -> StoreResult<TracePage> {
    let conditions = super::span_list::trace_list_filter(q)?;
    let (column, descending) = match q.sort {
        TraceSort::StartDesc => ("start_ns", true),
        TraceSort::StartAsc => ("start_ns", false),
        TraceSort::DurationDesc => ("duration_ns", true),
        TraceSort::DurationAsc => ("duration_ns", false),
    };
    let dir = if descending { "DESC" } else { "ASC" };
    let rarest = rarest_tag(conn, project, q)?;
    let few_tagged = rarest.filter(|(_, n)| *n <= FEW_TAGGED);
    let (total, total_approximate, filter, args, from) = match few_tagged {
        None if conditions.searches() => {
            let (filter, args, from, cap) = searched_traces(conn, project, q, &conditions, column)?;
            let counted: i64 = conn.query_row(
                &format!(
                    "SELECT count(*) FROM (SELECT 1 FROM {from} WHERE {filter} LIMIT {})",
                    cap + 1
                ),
                params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let partial = super::span_text::waiting_beyond_checked(conn)?;
            (
                counted.min(cap),
                counted > cap || partial,
                filter,
                args,
                from,
            )
        }
        _ => {
            let total = count_traces(conn, project, q)?;
            let partial = conditions.searches() && super::span_text::waiting_beyond_checked(conn)?;
            let (filter, args) = match few_tagged {
                Some((i, _)) => {
                    let (rest, mut args) = without_tag(project, q, i);
                    let (filter, filter_args) = trace_filter(project, &rest);
                    args.extend(filter_args);
                    (format!("{BY_TAG} AND {filter}"), args)
                }
                None => trace_filter(project, q),
            };
            let from = if few_tagged.is_some() {
                format!("{FROM_TAG} CROSS JOIN traces t ON t.id = g0.trace")
            } else {
                "traces t".to_string()
            };
            (total, partial, filter, args, from)
        }
    };
    let mut sql = format!("SELECT {TRACE_COLUMNS} FROM {from} WHERE {filter}");
    let mut args = args;
    if let Some(cursor) = &q.cursor {
        let (key, id) = parse_cursor(cursor)?;
        let op = if descending { "<" } else { ">" };
        sql.push_str(&format!(" AND (t.{column}, t.trace_id) {op} (?, ?)"));
        args.push(key.into());
        args.push(id.into());
    }
    let limit = q.limit();
    sql.push_str(&format!(
        " ORDER BY t.{column} {dir}, t.trace_id {dir} LIMIT {}",
        limit + 1
    ));
    let mut stmt = conn.prepare(&sql)?;
    let mut traces = stmt
        .query_map(params_from_iter(args.iter()), trace_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if traces.len() > limit as usize {
        traces.truncate(limit as usize);
        traces.last().map(|t| {
            let key = if column == "start_ns" {
                t.start_ns
            } else {
                t.duration_ns()
            };
            format!("{key}.{}", t.trace_id)
        })
    } else {
        None
    };
    feedback::add_summaries(conn, project, &mut traces)?;
    Ok(TracePage {
        traces,
        total: total as u64,
        total_approximate,
        next_cursor,
    })
}
