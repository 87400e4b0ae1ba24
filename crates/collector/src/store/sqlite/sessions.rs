//! Sessions and users on SQLite, aggregated from the `traces` summary rows (one per trace, with
//! the trace's session and user), never from spans: a session list is one `GROUP BY` over the
//! traces the filters select, materialised once for the page and the total. A session's page
//! reads its traces through `traces_by_session`, and each root span's input and output from
//! that one span's body (`codec::decode`). Past a few million traces, a `sessions` summary
//! table kept up to date by the write path (as `traces` is), indexed by last activity, would
//! make the unfiltered list an index range scan (bench/README.md has the figures).

use std::collections::HashMap;

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use skein_model::sessions::{
    self, CursorKey, GroupCursor, SessionDetail, SessionPage, SessionQuery, SessionRequest,
    SessionSort, SessionSummary, TraceAggregate, UserDetail, UserPage, UserSummary,
};
use skein_model::trace::FeedbackStat;

use super::list::{trace_filter, trace_from_row, TRACE_COLUMNS};
use super::span_list::trace_list_filter;
use super::{codec, feedback};
use crate::store::{StoreError, StoreResult};

/// What the traces are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Session,
    User,
}

impl Group {
    fn column(self) -> &'static str {
        match self {
            Group::Session => "t.session_id",
            Group::User => "t.user_id",
        }
    }

    /// The second column of a group row: a session's user, a user's number of sessions.
    fn extra(self) -> &'static str {
        match self {
            Group::Session => "max(t.user_id)",
            Group::User => "count(DISTINCT t.session_id)",
        }
    }
}

/// One aggregated group, before feedback is added.
struct GroupRow {
    id: String,
    /// A session's user.
    user: Option<String>,
    /// A user's session count.
    sessions: u64,
    stats: TraceAggregate,
}

/// The sort key's SQL over the `grp` CTE, whether it is REAL, and whether it descends.
fn sort_key(sort: SessionSort, group: Group) -> (&'static str, bool, bool) {
    match sort {
        SessionSort::LastDesc => ("grp.last_start", false, true),
        SessionSort::FirstAsc => ("grp.first_start", false, false),
        SessionSort::RequestsDesc => ("grp.requests", false, true),
        SessionSort::DurationDesc => ("grp.duration", false, true),
        SessionSort::TokensDesc => ("(grp.input_tokens + grp.output_tokens)", false, true),
        SessionSort::CostDesc => ("grp.cost", true, true),
        SessionSort::ErrorsDesc => ("grp.errors", false, true),
        SessionSort::SessionsDesc => match group {
            Group::User => ("grp.extra", false, true),
            Group::Session => ("grp.requests", false, true),
        },
    }
}

fn cursor_key_of(row: &GroupRow, sort: SessionSort, group: Group) -> CursorKey {
    let s = &row.stats;
    match sort {
        SessionSort::LastDesc => CursorKey::Int(s.last_start_ns),
        SessionSort::FirstAsc => CursorKey::Int(s.first_start_ns),
        SessionSort::RequestsDesc => CursorKey::Int(s.request_count as i64),
        SessionSort::DurationDesc => CursorKey::Int(s.total_duration_ns),
        SessionSort::TokensDesc => CursorKey::Int(s.total_tokens()),
        SessionSort::CostDesc => CursorKey::Real(s.cost),
        SessionSort::ErrorsDesc => CursorKey::Int(s.error_count as i64),
        SessionSort::SessionsDesc => match group {
            Group::User => CursorKey::Int(row.sessions as i64),
            Group::Session => CursorKey::Int(s.request_count as i64),
        },
    }
}

/// The trace filter of a session or user query (its tags and time range; a session list's
/// user), plus a fixed session or user when given.
///
/// A fixed session or user is written `unlikely(t.session_id = ?)`: without statistics,
/// SQLite (3.40 to 3.50) prefers scanning the project's primary-key range to the
/// `traces_by_session`/`traces_by_user` index for a plain equality (25 ms instead of 1 ms for
/// a user with 575 of 75k traces); the hint makes the index the obvious choice.
fn filter_of(
    project: &str,
    q: &SessionQuery,
    group: Group,
    session_id: Option<&str>,
    user_id: Option<&str>,
) -> (String, Vec<SqlValue>) {
    let (mut sql, mut args) = trace_filter(project, &q.requests());
    if let Some(s) = session_id {
        sql.push_str(" AND unlikely(t.session_id = ?)");
        args.push(s.to_string().into());
    }
    let user = user_id.map(str::to_string).or_else(|| {
        (group == Group::Session)
            .then(|| q.user_id.clone())
            .flatten()
    });
    if let Some(u) = user {
        sql.push_str(" AND unlikely(t.user_id = ?)");
        args.push(u.into());
    }
    sql.push_str(&format!(" AND {} IS NOT NULL", group.column()));
    (sql, args)
}

const GROUP_COLUMNS: &str = "id, extra, requests, first_start, last_start, last_end, duration, \
    spans, errors, input_tokens, output_tokens, cost";

fn group_from_row(row: &Row<'_>, group: Group) -> rusqlite::Result<GroupRow> {
    let (user, sessions) = match group {
        Group::Session => (row.get::<_, Option<String>>(1)?, 0),
        Group::User => (None, row.get::<_, i64>(1)?.max(0) as u64),
    };
    Ok(GroupRow {
        id: row.get(0)?,
        user,
        sessions,
        stats: TraceAggregate {
            request_count: row.get::<_, i64>(2)?.max(0) as u64,
            first_start_ns: row.get(3)?,
            last_start_ns: row.get(4)?,
            last_end_ns: row.get(5)?,
            total_duration_ns: row.get(6)?,
            span_count: row.get::<_, i64>(7)?.max(0) as u64,
            error_count: row.get::<_, i64>(8)?.max(0) as u64,
            input_tokens: row.get(9)?,
            output_tokens: row.get(10)?,
            cost: row.get(11)?,
            feedback: Vec::new(),
        },
    })
}

/// A page of groups matching the filter, the number of all of them, and the next cursor.
///
/// `GROUP BY +col`: grouping by the bare column lets SQLite walk `traces_by_session` in
/// session order to save a sort, then fetch every trace row through the primary key; reading
/// the project's (or the filter's) rows in their own order and sorting the groups is faster
/// (75k traces: 0.18 s instead of 0.28 s for every session; 25 ms instead of 0.21 s for one
/// user's sessions).
fn list_groups(
    conn: &Connection,
    filter: (String, Vec<SqlValue>),
    group: Group,
    sort: SessionSort,
    cursor: Option<&str>,
    limit: u32,
) -> StoreResult<(Vec<GroupRow>, u64, Option<String>)> {
    let (filter, filter_args) = filter;
    let mut args = filter_args.clone();
    let col = group.column();
    let (key, real, descending) = sort_key(sort, group);
    let mut sql = format!(
        "WITH grp AS MATERIALIZED (SELECT {col} AS id, {extra} AS extra, count(*) AS requests, \
         min(t.start_ns) AS first_start, max(t.start_ns) AS last_start, max(t.end_ns) AS last_end, \
         sum(t.duration_ns) AS duration, sum(t.span_count) AS spans, \
         sum(t.error_count > 0) AS errors, sum(t.input_tokens) AS input_tokens, \
         sum(t.output_tokens) AS output_tokens, sum(t.cost) AS cost \
         FROM traces t WHERE {filter} GROUP BY +{col}) \
         SELECT {GROUP_COLUMNS}, (SELECT count(*) FROM grp) FROM grp",
        extra = group.extra(),
    );
    if let Some(cursor) = cursor {
        let c = GroupCursor::parse(cursor).ok_or_else(|| {
            StoreError::Invalid(format!("cursor {cursor:?} is not one this API gave"))
        })?;
        let op = if descending { "<" } else { ">" };
        sql.push_str(&format!(" WHERE ({key}, grp.id) {op} (?, ?)"));
        args.push(match (c.key, real) {
            (CursorKey::Int(v), false) => v.into(),
            (CursorKey::Real(v), true) => v.into(),
            _ => {
                return Err(StoreError::Invalid(format!(
                    "cursor {cursor:?} belongs to another sort order"
                )))
            }
        });
        args.push(c.id.into());
    }
    let dir = if descending { "DESC" } else { "ASC" };
    sql.push_str(&format!(
        " ORDER BY {key} {dir}, grp.id {dir} LIMIT {}",
        limit + 1
    ));
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args.iter()))?;
    let mut groups = Vec::new();
    let mut total = 0u64;
    while let Some(row) = rows.next()? {
        total = row.get::<_, i64>(12)?.max(0) as u64;
        groups.push(group_from_row(row, group)?);
    }
    let next = if groups.len() > limit as usize {
        groups.truncate(limit as usize);
        groups.last().map(|g| {
            GroupCursor {
                key: cursor_key_of(g, sort, group),
                id: g.id.clone(),
            }
            .to_string()
        })
    } else {
        None
    };
    if groups.is_empty() && cursor.is_some() {
        // Past the last page: no row carried the total, which still describes the whole list.
        total = conn
            .query_row(
                &format!("SELECT count(DISTINCT {col}) FROM traces t WHERE {filter}"),
                params_from_iter(filter_args.iter()),
                |r| r.get::<_, i64>(0),
            )?
            .max(0) as u64;
    }
    Ok((groups, total, next))
}

/// Feedback per group and key over the traces of `ids` that match the filter: records with a
/// trace id, and records naming only a run, placed through the run's span. `CROSS JOIN` keeps
/// SQLite's join order: from the groups' traces (`traces_by_session`/`traces_by_user`) into
/// `feedback_by_trace`; left to itself the planner scanned all of the project's feedback
/// (140 ms instead of 1 ms for a session with 62k feedback records in the project).
fn group_feedback(
    conn: &Connection,
    filter: &(String, Vec<SqlValue>),
    group: Group,
    ids: &[String],
) -> StoreResult<HashMap<String, Vec<FeedbackStat>>> {
    let mut out: HashMap<String, Vec<FeedbackStat>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let col = group.column();
    let marks = vec!["?"; ids.len()].join(", ");
    let (sql_filter, filter_args) = filter;
    let by_trace = format!(
        "SELECT {col} AS id, f.key AS key, count(*) AS n, count(f.score) AS scored, \
                total(f.score) AS total \
         FROM traces t CROSS JOIN feedback f ON f.project = t.project AND f.trace_id = t.trace_id \
         WHERE {sql_filter} AND {col} IN ({marks}) GROUP BY 1, 2"
    );
    // Feedback carries its run's trace (resolved when written, or when the run arrives), so
    // the trace id alone finds it.
    let args: Vec<SqlValue> = filter_args
        .iter()
        .cloned()
        .chain(ids.iter().map(|id| SqlValue::from(id.clone())))
        .collect();
    let sql = format!("{by_trace} ORDER BY 1, 2");
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    while let Some(row) = rows.next()? {
        let scored: i64 = row.get(3)?;
        let total: f64 = row.get(4)?;
        out.entry(row.get(0)?).or_default().push(FeedbackStat {
            key: row.get(1)?,
            count: row.get::<_, i64>(2)?.max(0) as u64,
            mean: (scored > 0).then(|| total / scored as f64),
        });
    }
    Ok(out)
}

pub(super) fn list_sessions(
    conn: &Connection,
    project: &str,
    q: &SessionQuery,
) -> StoreResult<SessionPage> {
    // One read transaction: the page and its feedback come from the same snapshot.
    let tx = conn.unchecked_transaction()?;
    list_sessions_in(&tx, project, q)
}

/// The session list, inside the caller's transaction.
fn list_sessions_in(tx: &Connection, project: &str, q: &SessionQuery) -> StoreResult<SessionPage> {
    trace_list_filter(&q.requests())?;
    let filter = filter_of(project, q, Group::Session, None, None);
    let (rows, total, next_cursor) = list_groups(
        tx,
        filter.clone(),
        Group::Session,
        q.sort,
        q.cursor.as_deref(),
        q.limit(),
    )?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut feedback = group_feedback(tx, &filter, Group::Session, &ids)?;
    let sessions = rows
        .into_iter()
        .map(|mut r| {
            r.stats.feedback = feedback.remove(&r.id).unwrap_or_default();
            SessionSummary {
                session_id: r.id,
                user_id: r.user,
                stats: r.stats,
            }
        })
        .collect();
    Ok(SessionPage {
        sessions,
        total,
        next_cursor,
    })
}

pub(super) fn list_users(
    conn: &Connection,
    project: &str,
    q: &SessionQuery,
) -> StoreResult<UserPage> {
    trace_list_filter(&q.requests())?;
    let tx = conn.unchecked_transaction()?;
    let filter = filter_of(project, q, Group::User, None, None);
    let (rows, total, next_cursor) = list_groups(
        &tx,
        filter.clone(),
        Group::User,
        q.sort,
        q.cursor.as_deref(),
        q.limit(),
    )?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut feedback = group_feedback(&tx, &filter, Group::User, &ids)?;
    let users = rows
        .into_iter()
        .map(|mut r| {
            r.stats.feedback = feedback.remove(&r.id).unwrap_or_default();
            UserSummary {
                user_id: r.id,
                session_count: r.sessions,
                stats: r.stats,
            }
        })
        .collect();
    Ok(UserPage {
        users,
        total,
        next_cursor,
    })
}

/// The aggregate of one session or user over all of its traces.
fn one_group(
    conn: &Connection,
    project: &str,
    group: Group,
    id: &str,
) -> StoreResult<Option<GroupRow>> {
    let everything = SessionQuery::default();
    let filter = match group {
        Group::Session => filter_of(project, &everything, group, Some(id), None),
        Group::User => filter_of(project, &everything, group, None, Some(id)),
    };
    let (mut rows, _, _) =
        list_groups(conn, filter.clone(), group, SessionSort::LastDesc, None, 1)?;
    let Some(mut row) = rows.pop() else {
        return Ok(None);
    };
    row.stats.feedback = group_feedback(conn, &filter, group, &[id.to_string()])?
        .remove(id)
        .unwrap_or_default();
    Ok(Some(row))
}

pub(super) fn session(
    conn: &Connection,
    project: &str,
    session_id: &str,
) -> StoreResult<Option<SessionDetail>> {
    let tx = conn.unchecked_transaction()?;
    let Some(group) = one_group(&tx, project, Group::Session, session_id)? else {
        return Ok(None);
    };
    let max = SessionDetail::MAX_REQUESTS;
    let mut traces = tx
        .prepare_cached(&format!(
            "SELECT {TRACE_COLUMNS} FROM traces WHERE project = ?1 AND session_id = ?2 \
             ORDER BY start_ns, trace_id LIMIT ?3"
        ))?
        .query_map(params![project, session_id, max as i64 + 1], trace_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    let truncated = traces.len() > max;
    traces.truncate(max);
    feedback::add_summaries(&tx, project, &mut traces)?;

    let mut io = tx.prepare_cached(
        "SELECT s.body FROM traces t JOIN spans s ON s.trace = t.id \
         WHERE t.project = ?1 AND t.trace_id = ?2 AND s.span_id = ?3",
    )?;
    let mut requests = Vec::with_capacity(traces.len());
    for trace in traces {
        let body: Option<Vec<u8>> = match &trace.root_span_id {
            Some(root) => io
                .query_row(params![project, trace.trace_id, root], |r| r.get(0))
                .optional()?,
            None => None,
        };
        let (input, output) = match body {
            Some(body) => {
                let span = codec::decode(&tx, &body)?;
                (span.input, span.output)
            }
            None => (None, None),
        };
        requests.push(SessionRequest::of(
            trace,
            input.as_deref(),
            output.as_deref(),
        ));
    }
    sessions::order_requests(&mut requests);
    Ok(Some(SessionDetail {
        summary: SessionSummary {
            session_id: group.id,
            user_id: group.user,
            stats: group.stats,
        },
        requests,
        truncated,
    }))
}

pub(super) fn user(
    conn: &Connection,
    project: &str,
    user_id: &str,
    q: &SessionQuery,
) -> StoreResult<Option<UserDetail>> {
    let tx = conn.unchecked_transaction()?;
    let Some(group) = one_group(&tx, project, Group::User, user_id)? else {
        return Ok(None);
    };
    let mut q = q.clone();
    q.user_id = Some(user_id.to_string());
    let sessions = list_sessions_in(&tx, project, &q)?;
    let requests_without_session: i64 = tx
        .prepare_cached(
            "SELECT count(*) FROM traces t WHERE t.project = ?1 AND unlikely(t.user_id = ?2) \
             AND t.session_id IS NULL",
        )?
        .query_row(params![project, user_id], |r| r.get(0))?;
    Ok(Some(UserDetail {
        summary: UserSummary {
            user_id: group.id,
            session_count: group.sessions,
            stats: group.stats,
        },
        sessions,
        requests_without_session: requests_without_session.max(0) as u64,
    }))
}
