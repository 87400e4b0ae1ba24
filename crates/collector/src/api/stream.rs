//! `GET /api/v1/stream?kind=traces|spans&filter=EXPR&trace_filter=EXPR&tree_filter=EXPR`: live
//! tail as server-sent events.
//!
//! - `kind=spans`: a `span` event (a `SpanRow`) per new span passing `filter` whose trace's
//!   root passes `trace_filter` and which has a span passing `tree_filter`, as on the span
//!   list; a span whose trace passes only once a later span of it arrives (its root) is sent
//!   then;
//! - `kind=traces` (the default): a `trace` event (a `TraceSummary`) each time a trace gets new
//!   spans and passes the trace list's query as the list decides it (`filter`, `trace_filter`,
//!   `tree_filter`, `tag`, `name`, `status`, `range`, ...): a trace is first announced when it
//!   first passes (its root, or its matching span, may come after other spans), then again as
//!   it changes. A span written again with changes (a LangSmith run's patch), or whose
//!   feedback changed, is new again.
//!
//! Events come within a second of the spans being acknowledged, by any collector on the same
//! store. Each has an id; a client that reconnects with `Last-Event-ID` (EventSource does by
//! itself; or `?last_event_id=`) gets what it missed, at least once (`live::tail`). Idle streams get a keep-alive comment.
//! Beyond the collector's cap on open streams: 503 with `Retry-After`. A browser, whose
//! EventSource cannot send a key, opens it with a ticket (`POST /api/v1/stream/ticket`).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use skein_model::live::{StreamKind, StreamTicket};
use skein_model::query::parse_query_string;
use skein_model::TraceQuery;
use tokio::sync::{watch, OwnedSemaphorePermit};

use super::spans::expression;
use crate::context::{AppState, Project};
use crate::error::ApiError;
use crate::live::tail::{LiveEvent, Selection, Tail};
use crate::live::POLL_EVERY;

/// How often an idle stream sends a comment: keeps proxies from closing it, and finds a client
/// that went away (the write fails, and the stream ends).
const KEEP_ALIVE: Duration = Duration::from_secs(10);
/// How long EventSource waits before reconnecting.
const RECONNECT: Duration = Duration::from_secs(1);
/// The least time between two reads of one stream: a busy ingest wakes streams at every
/// acknowledged request, and each stream then reads at most this often.
const MIN_READ_GAP: Duration = Duration::from_millis(100);
/// How long a stream waits after the store failed a read before reading again.
const AFTER_FAILURE: Duration = Duration::from_secs(2);

fn selection(pairs: &[(String, String)]) -> Result<Selection, ApiError> {
    let value = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let kind = match value("kind").filter(|v| !v.is_empty()) {
        None => StreamKind::Traces,
        Some(v) => StreamKind::parse(v).ok_or_else(|| {
            ApiError::BadRequest(format!("kind must be traces or spans, not {v:?}"))
        })?,
    };
    // Each expression checked here: a 400 names the parameter and the place in it.
    let filter = expression("filter", value("filter").unwrap_or(""))?;
    let text_of = |param: &'static str| -> Result<Option<String>, ApiError> {
        let text = value(param).unwrap_or("");
        Ok(expression(param, text)?.map(|_| text.to_string()))
    };
    let (trace_filter, tree_filter) = (text_of("trace_filter")?, text_of("tree_filter")?);
    let traces = match kind {
        StreamKind::Traces => TraceQuery::from_pairs(
            pairs
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "cursor" | "limit" | "sort"))
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .map_err(ApiError::from)?,
        StreamKind::Spans => TraceQuery {
            trace_filter,
            tree_filter,
            ..TraceQuery::default()
        },
    };
    Ok(Selection {
        kind,
        filter,
        traces,
    })
}

/// The id a reconnecting client sends back.
fn last_event_id(headers: &HeaderMap, pairs: &[(String, String)]) -> Result<Option<i64>, ApiError> {
    let given = headers
        .get("last-event-id")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
        .or_else(|| {
            pairs
                .iter()
                .find(|(k, _)| k == "last_event_id")
                .map(|(_, v)| v.trim().to_string())
        })
        .filter(|v| !v.is_empty());
    given
        .map(|id| {
            id.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ApiError::BadRequest(format!("Last-Event-ID {id:?} is not one this stream gave"))
            })
        })
        .transpose()
}

struct Open {
    tail: Tail,
    woken: watch::Receiver<u64>,
    pending: VecDeque<LiveEvent>,
    started: bool,
    last_read: tokio::time::Instant,
    /// The stream's place under the cap, given back when the client goes (the body is dropped).
    _permit: OwnedSemaphorePermit,
}

fn sse_event(e: LiveEvent) -> Event {
    Event::default()
        .event(e.name)
        .id(e.id.to_string())
        .data(e.data)
}

async fn next_event(mut open: Open) -> Option<(Result<Event, Infallible>, Open)> {
    if !open.started {
        // At once: the client knows the stream is open, and how soon to reconnect.
        open.started = true;
        return Some((Ok(Event::default().comment("live").retry(RECONNECT)), open));
    }
    loop {
        if let Some(e) = open.pending.pop_front() {
            return Some((Ok(sse_event(e)), open));
        }
        if !open.tail.has_more() {
            tokio::select! {
                woke = open.woken.changed() => if woke.is_err() {
                    tokio::time::sleep(POLL_EVERY).await;
                },
                _ = tokio::time::sleep(POLL_EVERY) => {}
            }
            tokio::time::sleep_until(open.last_read + MIN_READ_GAP).await;
        }
        open.last_read = tokio::time::Instant::now();
        match open.tail.read().await {
            Ok(events) => open.pending.extend(events),
            Err(e) => {
                tracing::warn!(error = %e, "a live stream's read failed; reading again soon");
                tokio::time::sleep(AFTER_FAILURE).await;
            }
        }
    }
}

/// `POST /api/v1/stream/ticket?project=P`: a ticket for opening streams of the project in a
/// browser, whose EventSource cannot send the key (`live::ticket`); none without keys.
pub async fn ticket(Project(project): Project, headers: HeaderMap) -> Json<StreamTicket> {
    Json(StreamTicket {
        ticket: crate::auth::stream_ticket(&headers, &project),
    })
}

pub async fn stream(
    State(state): State<AppState>,
    Project(project): Project,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pairs = parse_query_string(query.as_deref().unwrap_or(""));
    let selection = selection(&pairs)?;
    // A filter the store cannot compile is refused now, not at every read.
    state
        .store
        .trace_summaries(&project, &[], &selection.traces)
        .await
        .map_err(ApiError::from)?;
    let last = last_event_id(&headers, &pairs)?;
    let permit = state.live.open_stream()?;
    let mut woken = state.live.subscribe();
    woken.borrow_and_update();
    let floor = match last {
        Some(id) => id,
        None => state.store.receive_head().await.map_err(ApiError::from)?,
    };
    let open = Open {
        tail: Tail::new(state.store.clone(), project, selection, floor),
        woken,
        pending: VecDeque::new(),
        started: false,
        last_read: tokio::time::Instant::now(),
        _permit: permit,
    };
    let events = futures_util::stream::unfold(open, next_event);
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response())
}
