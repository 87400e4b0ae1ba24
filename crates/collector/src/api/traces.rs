//! `/api/v1/traces`: the list (and its download), one trace's skeleton, one span in full, find
//! in a trace, a trace exported as OTLP.

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::Json;
use futures_util::StreamExt;
use skein_model::query::parse_query_string;
use skein_model::skeleton_wire;
use skein_model::span::{is_valid_hex_id, Span};
use skein_model::trace_search::{self, TraceSearch};
use skein_model::{TracePage, TraceQuery};

use crate::context::{AppState, Project};
use crate::error::{ApiError, ApiResult};
use crate::export;
use crate::export::list::{self, ListFormat};
use crate::store::StoreError;

pub async fn list(
    State(state): State<AppState>,
    Project(project): Project,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<TracePage>> {
    let query = TraceQuery::from_query_string(query.as_deref().unwrap_or(""))?;
    Ok(Json(state.store.list_traces(&project, &query).await?))
}

fn check_trace_id(trace_id: &str) -> ApiResult<String> {
    let id = trace_id.to_ascii_lowercase();
    if !is_valid_hex_id(&id, 32) {
        return Err(ApiError::BadRequest(format!(
            "trace id {trace_id:?} is not 32 hex characters"
        )));
    }
    Ok(id)
}

/// A trace of this many spans has its first rows sent before the whole of it is read (the
/// trace page draws them first from about this size on).
const HEAD_FROM_SPANS: usize = 20_000;

/// A piece of the binary skeleton, or why the rest of it cannot come.
type Piece = Result<Bytes, std::io::Error>;

/// `GET /api/v1/traces/{trace_id}`: the skeleton as JSON, or in the compact binary form
/// (`skein_model::skeleton_wire`) when asked with `?format=binary` or `Accept` naming its type.
pub async fn skeleton(
    State(state): State<AppState>,
    Project(project): Project,
    Path(trace_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> ApiResult<axum::response::Response> {
    let id = check_trace_id(&trace_id)?;
    let binary = wants_binary(query.as_deref(), &headers)?;
    let not_found = || ApiError::NotFound(format!("no trace {id} in project {project:?}"));
    if !binary {
        let skeleton = state
            .store
            .trace(&project, &id)
            .await?
            .ok_or_else(not_found)?;
        return Ok(Json(skeleton).into_response());
    }
    // In pieces, the top of the tree first: the page draws the first rows from the first
    // piece while the rest is on its way. A big trace's first rows are read apart and sent
    // while the whole trace is read; the rest is ordered and encoded off the async workers
    // (a million spans take a CPU tenth of a second), each piece sent once encoded.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Piece>(2);
    let head = state
        .store
        .trace_head(&project, &id, skeleton_wire::FIRST_CHUNK, HEAD_FROM_SPANS)
        .await?;
    match head {
        None => {
            let skeleton = state
                .store
                .trace(&project, &id)
                .await?
                .ok_or_else(not_found)?;
            tokio::task::spawn_blocking(move || {
                send_pieces(skeleton_wire::Pieces::new(skeleton), &sender)
            });
        }
        Some(head) => {
            // The channel is empty: the first piece always fits.
            let _ = sender.try_send(Ok(Bytes::from(skeleton_wire::encode_head(&head))));
            let store = state.store.clone();
            tokio::spawn(async move {
                let skeleton = match store.trace(&project, &id).await {
                    Ok(Some(skeleton)) => skeleton,
                    Ok(None) => {
                        let gone = std::io::Error::other("the trace was removed while sent");
                        let _ = sender.send(Err(gone)).await;
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "a trace's skeleton ended early");
                        let _ = sender.send(Err(std::io::Error::other(e.to_string()))).await;
                        return;
                    }
                };
                tokio::task::spawn_blocking(move || {
                    let pieces = skeleton_wire::Pieces::after_head(skeleton, &head);
                    if !pieces.continue_head() {
                        tracing::debug!(trace = %id, "the trace changed after its first rows were sent");
                    }
                    send_pieces(pieces, &sender)
                });
            });
        }
    }
    // Fused: a compressing layer may poll the body again after its end.
    let body = Body::from_stream(
        futures_util::stream::unfold(receiver, |mut receiver| async move {
            let piece = receiver.recv().await?;
            Some((piece, receiver))
        })
        .fuse(),
    );
    Ok((
        [
            (header::CONTENT_TYPE, skeleton_wire::CONTENT_TYPE),
            (header::VARY, "accept"),
        ],
        body,
    )
        .into_response())
}

/// Encodes and sends pieces one by one until the last or until the client has gone.
fn send_pieces(pieces: skeleton_wire::Pieces, sender: &tokio::sync::mpsc::Sender<Piece>) {
    for piece in pieces {
        if sender.blocking_send(Ok(Bytes::from(piece))).is_err() {
            break;
        }
    }
}

/// `format=json` (the default) or `format=binary`; without `format=`, `Accept` decides.
fn wants_binary(query: Option<&str>, headers: &HeaderMap) -> ApiResult<bool> {
    let format = parse_query_string(query.unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "format")
        .map(|(_, v)| v);
    match format.as_deref() {
        Some(skeleton_wire::FORMAT) => Ok(true),
        Some("json") => Ok(false),
        Some(other) => Err(ApiError::BadRequest(format!(
            "format {other:?} is not one of json, {}",
            skeleton_wire::FORMAT
        ))),
        None => Ok(headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains(skeleton_wire::CONTENT_TYPE))),
    }
}

pub async fn span(
    State(state): State<AppState>,
    Project(project): Project,
    Path((trace_id, span_id)): Path<(String, String)>,
) -> ApiResult<Json<Span>> {
    let trace_id = check_trace_id(&trace_id)?;
    let span_id = span_id.to_ascii_lowercase();
    if !is_valid_hex_id(&span_id, 16) {
        return Err(ApiError::BadRequest(format!(
            "span id {span_id:?} is not 16 hex characters"
        )));
    }
    state
        .store
        .span(&project, &trace_id, &span_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no span {span_id} in trace {trace_id}")))
}

/// `GET /api/v1/traces/{trace_id}/search?q=`: the spans holding `q` anywhere in their text
/// (`skein_model::trace_search`), as the store finds them.
pub async fn search(
    State(state): State<AppState>,
    Project(project): Project,
    Path(trace_id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<TraceSearch>> {
    let trace_id = check_trace_id(&trace_id)?;
    let raw = parse_query_string(query.as_deref().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let needle = trace_search::normalize_query(&raw).map_err(ApiError::BadRequest)?;
    let span_ids = state
        .store
        .search_trace(&project, &trace_id, &needle)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no trace {trace_id} in project {project:?}")))?;
    Ok(Json(TraceSearch {
        query: raw.trim().to_string(),
        span_ids,
    }))
}

/// `GET /api/v1/traces/{trace_id}/export`: the whole trace as an OTLP/JSON export request, as a
/// file to download; sending it to `/v1/traces` stores the same trace again.
pub async fn export(
    State(state): State<AppState>,
    Project(project): Project,
    Path(trace_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let id = check_trace_id(&trace_id)?;
    let spans = state.store.trace_spans(&project, &id).await?;
    if spans.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no trace {id} in project {project:?}"
        )));
    }
    let request = export::otlp::trace_request(&spans);
    let body = serde_json::to_vec(&request)
        .map_err(|e| StoreError::Internal(format!("writing trace {id} as OTLP JSON: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"trace-{id}.otlp.json\""),
            ),
        ],
        body,
    ))
}

/// `GET /api/v1/traces/export?format=csv|jsonl&…`: every trace the list's filters select (the
/// list's query; `cursor` and `limit` are the export's own), streamed a page at a time as a
/// file to download. The first page is read before answering, so a bad query or a busy store
/// gets its status; a failure later ends the download early.
pub async fn export_list(
    State(state): State<AppState>,
    Project(project): Project,
    RawQuery(query): RawQuery,
) -> ApiResult<impl IntoResponse> {
    let raw = query.unwrap_or_default();
    let format_name = parse_query_string(&raw)
        .into_iter()
        .find(|(k, _)| k == "format")
        .map_or_else(|| "csv".to_string(), |(_, v)| v);
    let format = ListFormat::parse(&format_name).map_err(ApiError::BadRequest)?;
    let mut query = TraceQuery::from_query_string(&raw)?;
    query.cursor = None;
    query.limit = Some(TraceQuery::MAX_LIMIT);
    let first = state.store.list_traces(&project, &query).await?;
    let mut head = Vec::new();
    if format == ListFormat::Csv {
        head.extend_from_slice(list::csv_header().as_bytes());
    }
    list::write_rows(format, &first.traces, &mut head);
    let pages = futures_util::stream::unfold(
        (state, project.clone(), query, first.next_cursor),
        move |(state, project, mut query, cursor)| async move {
            let cursor = cursor?;
            query.cursor = Some(cursor);
            match state.store.list_traces(&project, &query).await {
                Ok(page) => {
                    let mut out = Vec::new();
                    list::write_rows(format, &page.traces, &mut out);
                    Some((
                        Ok::<_, StoreError>(Bytes::from(out)),
                        (state, project, query, page.next_cursor),
                    ))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "trace list download ended early");
                    Some((Err(e), (state, project, query, None)))
                }
            }
        },
    );
    let body = futures_util::stream::once(async move { Ok::<_, StoreError>(Bytes::from(head)) })
        .chain(pages)
        // The compression layer may poll a body again after its end: a fused stream stays ended.
        .fuse();
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"traces-{}.{}\"",
                    list::file_safe(&project),
                    format.extension()
                ),
            ),
        ],
        Body::from_stream(body),
    ))
}
