//! The LangSmith SDK's run reads, served from Skein's store under `/api/langsmith`:
//! `POST /runs/query` (what `Client.list_runs` and `read_run(load_child_runs=True)` send) and
//! `GET /runs/{id}`, each run with its feedback stats and token totals (`rollups`). Routes are
//! registered by `super::router`; projects as sessions are `sessions`.

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Map, Value};
use skein_model::filter::{Expr, Field, Op, Value as FilterValue};
use skein_model::span::Span;
use skein_model::{Feedback, TraceQuery};

use crate::store::FeedbackFilter;
use uuid::Uuid;

use super::params::json_object;
use super::projects::{locate_run, project_by_uuid};
use super::rollups;
use super::run_filter::RunFilters;
use super::{as_run, ids, run};
use crate::context::{AppState, KeyScope};
use crate::error::{ApiError, ApiResult};
use crate::ingest::body::JsonBody;

/// Runs answered per `/runs/query` page unless the query asks for fewer.
const DEFAULT_RUN_LIMIT: usize = 100;
const MAX_RUN_LIMIT: usize = 1000;
/// Traces read per step while filling a page of runs from a project.
const TRACES_PER_STEP: u32 = 50;
/// Most sessions (projects) one `/runs/query` may name.
const MAX_QUERY_SESSIONS: usize = 100;
/// Most run ids one `/runs/query` may name.
const MAX_QUERY_RUN_IDS: usize = 1000;

/// `GET /runs/{id}`.
pub async fn read_run(
    State(state): State<AppState>,
    scope: KeyScope,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let uuid = ids::parse_uuid(&id)
        .ok_or_else(|| ApiError::BadRequest(format!("run id {id:?} is not a UUID")))?;
    let span =
        locate_run(&state, &scope, &uuid).await?.ok_or_else(|| {
            match ids::synthetic_span(&uuid) {
                Some(span_id) => ApiError::NotFound(format!(
            "run {uuid} is span {span_id}, which came through OTLP: read it with its trace \
             (list_runs(trace_id=...)) or at /api/v1/traces/<trace id>/spans/{span_id}"
        )),
                None => ApiError::NotFound(format!("no run {uuid}")),
            }
        })?;
    scope.allows(&span.project)?;
    let mut run = as_run::run_of(&span);
    rollups::fill_one(&state, &span, &mut run).await?;
    Ok(Json(run))
}

fn uuid_list(value: Option<&Value>, what: &str) -> ApiResult<Vec<Uuid>> {
    let items: Vec<&Value> = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    items
        .into_iter()
        .map(|v| {
            v.as_str()
                .and_then(ids::parse_uuid)
                .ok_or_else(|| ApiError::BadRequest(format!("{what} {v} is not a UUID")))
        })
        .collect()
}

/// Where a page of a project listing stands: `t:<session index>:<trace cursor>`, or
/// `o:<offset>` into a fully read list.
enum Cursor {
    Traces {
        session: usize,
        trace: Option<String>,
    },
    Offset(usize),
}

impl Cursor {
    fn parse(text: Option<&str>) -> ApiResult<Option<Cursor>> {
        let Some(text) = text.filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let bad = || ApiError::BadRequest(format!("cursor {text:?} is not one this API gave"));
        if let Some(rest) = text.strip_prefix("o:") {
            return Ok(Some(Cursor::Offset(rest.parse().map_err(|_| bad())?)));
        }
        let rest = text.strip_prefix("t:").ok_or_else(bad)?;
        let (session, trace) = rest.split_once(':').ok_or_else(bad)?;
        Ok(Some(Cursor::Traces {
            session: session.parse().map_err(|_| bad())?,
            trace: Some(trace.to_string()).filter(|t| !t.is_empty()),
        }))
    }
}

/// Which runs a query keeps, besides where they are looked for.
struct RunFilter {
    is_root: Option<bool>,
    run_types: Vec<String>,
    error: Option<bool>,
    start_ns: Option<i64>,
    /// Runs that started before this (exclusive).
    start_before_ns: Option<i64>,
    parent: Option<Uuid>,
}

impl RunFilter {
    fn keep(&self, run: &Value) -> bool {
        let parent = run.get("parent_run_id").and_then(Value::as_str);
        if let Some(root) = self.is_root {
            if root != parent.is_none() {
                return false;
            }
        }
        if let Some(p) = &self.parent {
            if parent.and_then(ids::parse_uuid) != Some(*p) {
                return false;
            }
        }
        if !self.run_types.is_empty()
            && !run
                .get("run_type")
                .and_then(Value::as_str)
                .is_some_and(|t| self.run_types.iter().any(|w| w == t))
        {
            return false;
        }
        if let Some(error) = self.error {
            if error != (run.get("status").and_then(Value::as_str) == Some("error")) {
                return false;
            }
        }
        if let Some(start) = self.start_ns {
            if run
                .get("start_time")
                .and_then(run::parse_time)
                .is_none_or(|t| t < start)
            {
                return false;
            }
        }
        if let Some(before) = self.start_before_ns {
            if run
                .get("start_time")
                .and_then(run::parse_time)
                .is_none_or(|t| t >= before)
            {
                return false;
            }
        }
        true
    }
}

/// The name a filter pins exactly (`eq(name, "x")`, alone or in an `and`), used to narrow
/// the trace list before runs are read.
fn pinned_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Compare {
            field: Field::Name,
            op: Op::Eq,
            value: FilterValue::Text(v),
        } => Some(v.clone()),
        Expr::And(items) => items.iter().find_map(pinned_name),
        _ => None,
    }
}

/// The feedback of a trace, when the filters ask about feedback.
async fn filter_feedback(
    state: &AppState,
    filters: &RunFilters,
    project: &str,
    trace_id: &str,
) -> ApiResult<Vec<Feedback>> {
    if !filters.needs_feedback() {
        return Ok(Vec::new());
    }
    let which = FeedbackFilter {
        trace_id: Some(trace_id.to_string()),
        ..FeedbackFilter::default()
    };
    Ok(state.store.list_feedback(project, which).await?)
}

/// The runs of `spans` (all of one trace, `trace`) that pass `filters`.
async fn passing_runs(
    state: &AppState,
    filters: &RunFilters,
    spans: &[Span],
    trace: &[Span],
) -> ApiResult<Vec<Value>> {
    let feedback = match spans.first() {
        Some(s) => filter_feedback(state, filters, &s.project, &s.trace_id).await?,
        None => Vec::new(),
    };
    Ok(as_run::runs_of(spans)
        .into_iter()
        .zip(spans)
        .filter(|(_, span)| filters.keep(span, trace, &feedback))
        .map(|(run, _)| run)
        .collect())
}

/// `POST /runs/query`.
pub async fn query_runs(
    State(state): State<AppState>,
    scope: KeyScope,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let q = &json_object(&body, "a run query")?;
    let (runs, next) = run_query(&state, &scope, q).await?;
    Ok(Json(json!({"runs": runs, "cursors": {"next": next}})))
}

/// The runs a query (the fields of `POST /runs/query`, plus `max_start_time`) selects, as
/// LangSmith runs with their feedback stats and token totals, and the next page's cursor.
pub(super) async fn run_query(
    state: &AppState,
    scope: &KeyScope,
    q: &Map<String, Value>,
) -> ApiResult<(Vec<Value>, Option<String>)> {
    let present = |k: &str| q.get(k).is_some_and(|v| !v.is_null());
    for unsupported in ["query", "reference_example"] {
        if present(unsupported) {
            return Err(ApiError::BadRequest(format!(
                "run queries with \"{unsupported}\" are not supported by Skein yet"
            )));
        }
    }
    let filters = RunFilters::parse(q)?;
    let run_types = match q.get("run_type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    };
    let time = |field: &str| -> ApiResult<Option<i64>> {
        match q.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => run::parse_time(v).map(Some).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "{field} {v} is not a timestamp between 1900 and 2200"
                ))
            }),
        }
    };
    let start_ns = time("start_time")?;
    let start_before_ns = time("max_start_time")?;
    let parent = uuid_list(q.get("parent_run"), "parent_run")?
        .into_iter()
        .next();
    let filter = RunFilter {
        is_root: q.get("is_root").and_then(Value::as_bool),
        run_types,
        error: q.get("error").and_then(Value::as_bool),
        start_ns,
        start_before_ns,
        parent,
    };
    let limit = q
        .get("limit")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_RUN_LIMIT, |l| l as usize)
        .clamp(1, MAX_RUN_LIMIT);
    let cursor = Cursor::parse(q.get("cursor").and_then(Value::as_str))?;
    let mut sessions = uuid_list(q.get("session"), "session")?;
    sessions.extend(uuid_list(q.get("session_id"), "session_id")?);
    if sessions.len() > MAX_QUERY_SESSIONS {
        return Err(ApiError::BadRequest(format!(
            "a run query names at most {MAX_QUERY_SESSIONS} sessions, not {}",
            sessions.len()
        )));
    }
    let run_ids = uuid_list(q.get("id"), "id")?;
    if run_ids.len() > MAX_QUERY_RUN_IDS {
        return Err(ApiError::BadRequest(format!(
            "a run query names at most {MAX_QUERY_RUN_IDS} run ids, not {}",
            run_ids.len()
        )));
    }
    let trace = uuid_list(q.get("trace"), "trace")?
        .into_iter()
        .next()
        .or(uuid_list(q.get("trace_id"), "trace_id")?.into_iter().next());

    // By run ids, by trace or by parent: a bounded list, paged by offset.
    if !run_ids.is_empty() || trace.is_some() || parent.is_some() {
        let mut runs = Vec::new();
        if !run_ids.is_empty() {
            let mut seen = HashSet::new();
            let mut spans = Vec::new();
            for id in run_ids {
                if let Some(span) = locate_run(state, scope, &id).await? {
                    if seen.insert(id) {
                        scope.allows(&span.project)?;
                        spans.push(span);
                    }
                }
            }
            let mut kept = Vec::with_capacity(spans.len());
            for span in spans {
                let trace = if filters.needs_trace() {
                    state
                        .store
                        .trace_spans(&span.project, &span.trace_id)
                        .await?
                } else {
                    Vec::new()
                };
                let feedback =
                    filter_feedback(state, &filters, &span.project, &span.trace_id).await?;
                if filters.keep(&span, &trace, &feedback) {
                    kept.push(span);
                }
            }
            runs = kept.iter().map(as_run::run_of).collect();
            rollups::fill_many(state, &kept, &mut runs).await?;
        } else {
            // The trace's root run has the trace's UUID; the parent's trace holds its children.
            let anchor = trace.or(parent).ok_or_else(|| {
                ApiError::BadRequest("a run query needs a trace or a parent_run".into())
            })?;
            if let Some((project, trace_id)) =
                find_trace(state, scope, &anchor, trace.is_some(), &sessions).await?
            {
                scope.allows(&project)?;
                let spans = state.store.trace_spans(&project, &trace_id).await?;
                runs = passing_runs(state, &filters, &spans, &spans).await?;
                rollups::fill_from_spans(state, &project, &trace_id, &spans, &mut runs).await?;
            }
        }
        runs.retain(|r| {
            filter.keep(r)
                && (sessions.is_empty()
                    || r.get("session_id")
                        .and_then(Value::as_str)
                        .and_then(ids::parse_uuid)
                        .is_some_and(|s| sessions.contains(&s)))
        });
        runs.sort_by(by_dotted_order);
        let offset = match cursor {
            Some(Cursor::Offset(o)) => o,
            None => 0,
            Some(Cursor::Traces { .. }) => {
                return Err(ApiError::BadRequest(
                    "cursor is not one this query gave".into(),
                ))
            }
        };
        let next = (runs.len() > offset + limit).then(|| format!("o:{}", offset + limit));
        let page: Vec<Value> = runs.into_iter().skip(offset).take(limit).collect();
        return Ok((page, next));
    }

    // A whole project (or several), newest traces first, a page of runs at a time.
    if sessions.is_empty() {
        return Err(ApiError::BadRequest(
            "a run query needs a session (project), a trace, a parent_run or run ids".into(),
        ));
    }
    let names = session_names(state, scope, &sessions).await?;
    for name in names.iter().flatten() {
        scope.allows(name)?;
    }
    let (mut session_index, mut trace_cursor) = match cursor {
        None => (0, None),
        Some(Cursor::Traces { session, trace }) => (session, trace),
        Some(Cursor::Offset(_)) => {
            return Err(ApiError::BadRequest(
                "cursor is not one this query gave".into(),
            ))
        }
    };
    let name_filter = filters.filter.as_ref().and_then(pinned_name);
    let mut runs = Vec::new();
    let mut next = None;
    while session_index < names.len() {
        let Some(project) = &names[session_index] else {
            session_index += 1;
            trace_cursor = None;
            continue;
        };
        let query = TraceQuery {
            limit: Some(TRACES_PER_STEP),
            cursor: trace_cursor.clone(),
            // A substring match in the store, exact below: only a narrowing.
            name: name_filter.clone().filter(|_| filter.is_root == Some(true)),
            // The text index: only the traces that can hold a passing run are read.
            filter: filters.trace_narrowing(),
            ..TraceQuery::default()
        };
        let page = state.store.list_traces(project, &query).await?;
        for summary in &page.traces {
            // Only the root is read, unless the filters look at the rest of the trace.
            let roots_only = filter.is_root == Some(true) && !filters.needs_trace();
            let spans: Vec<Span> = if roots_only {
                let Some(root) = &summary.root_span_id else {
                    continue;
                };
                state
                    .store
                    .span(project, &summary.trace_id, root)
                    .await?
                    .into_iter()
                    .collect()
            } else {
                state.store.trace_spans(project, &summary.trace_id).await?
            };
            let mut trace_runs = passing_runs(state, &filters, &spans, &spans).await?;
            trace_runs.retain(|r| filter.keep(r));
            if !trace_runs.is_empty() {
                let stats = rollups::feedback_stats(state, project, &summary.trace_id).await?;
                let mut tokens = rollups::subtree_tokens_of_spans(&spans);
                if roots_only {
                    // The root alone was read: the trace's total is the summary's.
                    for span in &spans {
                        if summary.total_tokens() > 0 {
                            tokens
                                .entry(span.span_id.clone())
                                .or_insert(summary.total_tokens());
                        }
                    }
                }
                rollups::apply(&mut trace_runs, &stats, &tokens);
            }
            trace_runs.sort_by(by_dotted_order);
            runs.extend(trace_runs);
        }
        match page.next_cursor {
            Some(c) => trace_cursor = Some(c),
            None => {
                session_index += 1;
                trace_cursor = None;
            }
        }
        if runs.len() >= limit {
            if session_index < names.len() {
                next = Some(format!(
                    "t:{session_index}:{}",
                    trace_cursor.clone().unwrap_or_default()
                ));
            }
            break;
        }
    }
    Ok((runs, next))
}

/// Execution order within a trace, as LangSmith sorts runs.
fn by_dotted_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    let order = |r: &Value| {
        r.get("dotted_order")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    order(a).cmp(&order(b))
}

/// The project names of session UUIDs (`None` for an unknown one, or one the key may not
/// see, kept for cursor positions).
async fn session_names(
    state: &AppState,
    scope: &KeyScope,
    sessions: &[Uuid],
) -> ApiResult<Vec<Option<String>>> {
    let mut out = Vec::with_capacity(sessions.len());
    for s in sessions {
        out.push(project_by_uuid(state, scope, s).await?);
    }
    Ok(out)
}

/// The (project, Skein trace id) of a trace named by its root run's UUID (`is_trace`), or of
/// the trace a run belongs to.
async fn find_trace(
    state: &AppState,
    scope: &KeyScope,
    anchor: &Uuid,
    is_trace: bool,
    sessions: &[Uuid],
) -> ApiResult<Option<(String, String)>> {
    if let Some(span) = locate_run(state, scope, anchor).await? {
        return Ok(Some((span.project, span.trace_id)));
    }
    if !is_trace {
        return Ok(None);
    }
    // The root has not arrived (or the trace came through OTLP): look in the named projects,
    // else in every project the key may see, for a trace with this id.
    let trace_hex = ids::trace_hex(anchor);
    let candidates: Vec<String> = if !sessions.is_empty() {
        session_names(state, scope, sessions)
            .await?
            .into_iter()
            .flatten()
            .collect()
    } else if let Some(own) = scope.project() {
        vec![own.to_string()]
    } else {
        state.store.project_names().await?
    };
    for project in candidates {
        if state.store.trace(&project, &trace_hex).await?.is_some() {
            return Ok(Some((project, trace_hex)));
        }
    }
    Ok(None)
}
