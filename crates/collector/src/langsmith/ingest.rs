//! The LangSmith SDK's writes: `/info`, runs (multipart, batch, single post and patch), feedback
//! and the SDK's OTel mode. Each run becomes a span piece (`run`); all pieces of a request are
//! checked against the content limits and the key's project before any is stored.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::multipart::{self, Op, Part, Skipped};
use super::projects::{check_project, locate_run, project_by_uuid, remember_project};
use super::{feedback, ids, run};
use crate::context::{AppState, KeyScope};
use crate::error::ApiError;
use crate::ingest::body::{read_limited, require_json};
use crate::ingest::limits;
use crate::ingest::otlp;

/// Chooses what `/info` tells the SDK to send (see the module docs).
pub const INGEST_ENV: &str = "SKEIN_LANGSMITH_INGEST";
/// The LangSmith server version announced: at least 0.8.10, so the SDK sends feedback along
/// with runs in multipart uploads, and 0.16.0, the version whose v2 runs API (`client.runs`:
/// query, retrieve, get_url) Skein serves (`v2`), so the SDK does not warn that the backend is
/// too old. Not 0.16.14 or 0.18 (annotation queue items, address resolution): Skein has
/// neither, and the SDK keeps warning before those.
pub const ANNOUNCED_VERSION: &str = "0.16.0";
/// Most parts in one multipart upload (the SDK sends at most `size_limit` runs of ~6 parts).
const MAX_PARTS: usize = 100_000;
/// Most runs the SDK is told to put in one upload.
const BATCH_SIZE_LIMIT: usize = 100;
/// Most bytes the SDK is told to put in one upload (before compression).
const BATCH_SIZE_LIMIT_BYTES: usize = 20 << 20;

/// What `/info` announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestMode {
    MultipartZstd,
    Multipart,
    Batch,
}

impl IngestMode {
    pub fn parse(text: &str) -> Option<IngestMode> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "multipart-zstd" | "zstd" => Some(IngestMode::MultipartZstd),
            "multipart" | "multipart-plain" => Some(IngestMode::Multipart),
            "batch" => Some(IngestMode::Batch),
            _ => None,
        }
    }

    /// From `SKEIN_LANGSMITH_INGEST`; an unknown value is reported and the default used.
    pub fn from_env() -> IngestMode {
        let text = std::env::var(INGEST_ENV).unwrap_or_default();
        IngestMode::parse(&text).unwrap_or_else(|| {
            tracing::warn!(value = %text, "{INGEST_ENV} is not multipart-zstd, multipart or batch; using multipart-zstd");
            IngestMode::MultipartZstd
        })
    }
}

pub(super) async fn info(
    Extension(mode): Extension<IngestMode>,
    State(state): State<AppState>,
) -> Json<Value> {
    let size_limit_bytes = BATCH_SIZE_LIMIT_BYTES.min(state.limits.max_body_bytes);
    Json(json!({
        "version": ANNOUNCED_VERSION,
        "license_expiration_time": null,
        "batch_ingest_config": {
            "use_multipart_endpoint": mode != IngestMode::Batch,
            "scale_up_qsize_trigger": 1000,
            "scale_up_nthreads_limit": 16,
            "scale_down_nempty_trigger": 4,
            "size_limit": BATCH_SIZE_LIMIT,
            "size_limit_bytes": size_limit_bytes,
        },
        "instance_flags": {
            "zstd_compression_enabled": mode == IngestMode::MultipartZstd,
        },
        "customer_info": null,
        "skein": {"version": env!("CARGO_PKG_VERSION")},
    }))
}

/// What an upload did, in the 202 answer (the SDK reads none of it; people and tests do).
/// Its size is bounded whatever the upload held: the reasons of the first few skipped parts,
/// and how many there were in all.
#[derive(Debug, Default)]
struct Report {
    runs: usize,
    feedback: usize,
    skipped: Skipped,
}

impl Report {
    fn answer(self) -> Response {
        if !self.skipped.is_empty() {
            // One line per upload, however many parts it skipped.
            tracing::warn!(
                skipped = self.skipped.total,
                first = %self.skipped.summary(3),
                "LangSmith upload: {} parts skipped",
                self.skipped.total
            );
        }
        (
            StatusCode::ACCEPTED,
            Json(json!({
                "runs": self.runs,
                "feedback": self.feedback,
                "skipped": self.skipped.first,
                "skipped_total": self.skipped.total,
            })),
        )
            .into_response()
    }

    /// Nothing usable and something refused: the client should hear it as an error.
    fn nothing_usable(&self) -> bool {
        self.runs == 0 && self.feedback == 0 && !self.skipped.is_empty()
    }
}

/// One piece of a run: fields from a `post` or `patch` (a whole run or a single field).
struct Piece {
    op: Op,
    run: Uuid,
    fields: Map<String, Value>,
}

/// Merges the pieces of each run (a `patch` over its `post`), maps them to spans and stores
/// them. Pieces that cannot be used are reported in `report.skipped`.
async fn ingest_pieces(
    state: &AppState,
    scope: &KeyScope,
    headers: &HeaderMap,
    pieces: Vec<Piece>,
    mut attachments: HashMap<Uuid, Vec<Value>>,
    report: &mut Report,
) -> Result<(), ApiError> {
    // Session UUIDs already resolved in this request: each is looked up once.
    let mut sessions: HashMap<Uuid, Option<String>> = HashMap::new();
    // Before anything is stored: a run over the limits refuses the whole request.
    limits::check_runs(
        pieces.iter().map(|p| (&p.run, &p.fields)),
        &state.limits.content,
        "the upload",
    )?;
    let mut order: Vec<Uuid> = Vec::new();
    let mut by_run: HashMap<Uuid, [Option<Map<String, Value>>; 2]> = HashMap::new();
    for piece in pieces {
        let slots = by_run.entry(piece.run).or_insert_with(|| {
            order.push(piece.run);
            [None, None]
        });
        let slot = &mut slots[usize::from(piece.op == Op::Patch)];
        match slot {
            Some(fields) => run::overlay(fields, piece.fields),
            None => *slot = Some(piece.fields),
        }
    }
    for run_id in attachments.keys() {
        if !by_run.contains_key(run_id) {
            report.skipped.push(format!(
                "attachment for run {run_id}, which is not in this upload"
            ));
        }
    }

    let header_project = headers
        .get("langsmith-project")
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .and_then(|p| check_project(p).ok());
    let now_ns = now_ns();
    let mut spans = Vec::new();
    for run_id in order {
        let Some([post, patch]) = by_run.remove(&run_id) else {
            continue;
        };
        let mut fields = post.unwrap_or_default();
        if let Some(patch) = patch {
            run::overlay(&mut fields, patch);
        }
        let named = match fields.get("session_name").and_then(Value::as_str) {
            Some(name) => match check_project(name) {
                Ok(p) => Some(p),
                Err(why) => {
                    report.skipped.push(format!("run {run_id}: {why}"));
                    continue;
                }
            },
            None => None,
        };
        let by_session = match (&named, fields.get("session_id").and_then(Value::as_str)) {
            (None, Some(session)) => match ids::parse_uuid(session) {
                Some(uuid) => match sessions.get(&uuid) {
                    Some(known) => known.clone(),
                    None => {
                        let found = project_by_uuid(state, scope, &uuid).await?;
                        sessions.insert(uuid, found.clone());
                        found
                    }
                },
                None => None,
            },
            _ => None,
        };
        // A piece that names neither project nor trace (a bare PATCH) belongs where the run
        // already is.
        let trace = match run::trace_of(&run_id, &fields) {
            Ok(t) => t,
            Err(e) => {
                report.skipped.push(e.to_string());
                continue;
            }
        };
        let stored = if (named.is_none() && by_session.is_none()) || trace.is_none() {
            locate_run(state, scope, &run_id).await?
        } else {
            None
        };
        if trace.is_none() {
            match stored
                .as_ref()
                .and_then(|s| s.attributes.get(run::ATTR_TRACE_ID))
            {
                Some(t) => {
                    fields.insert("trace_id".into(), t.clone());
                }
                None => {
                    report.skipped.push(format!(
                        "run {run_id}: no trace_id or dotted_order, and no stored run to take them from"
                    ));
                    continue;
                }
            }
        }
        let project = named
            .or(by_session)
            .or_else(|| stored.map(|s| s.project))
            .or_else(|| header_project.clone())
            .or_else(|| scope.project().map(str::to_string))
            .unwrap_or_else(|| skein_model::DEFAULT_PROJECT.to_string());
        scope.allows(&project)?;
        remember_project(&project);
        let files = attachments.remove(&run_id).unwrap_or_default();
        match run::to_span(&run_id, &fields, &project, &files, now_ns) {
            Ok(span) => spans.push(span),
            Err(e) => report.skipped.push(e.to_string()),
        }
    }
    report.runs = spans.len();
    state.store.write_span_pieces(spans).await?;
    state.live.spans_stored();
    Ok(())
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

async fn read_body(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let raw = read_limited(body, state.limits).await?;
    multipart::decode_body(headers, raw, state.limits)
}

/// The body of a JSON endpoint: declared JSON (`require_json`), then read as `read_body`.
async fn read_json_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, ApiError> {
    require_json(headers)?;
    read_body(state, headers, body).await
}

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}

pub(super) async fn runs_multipart(
    State(state): State<AppState>,
    scope: KeyScope,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let boundary = multipart::boundary(&headers)?;
    let bytes = read_body(&state, &headers, body).await?;
    let parsed = multipart::parse(bytes, &boundary, MAX_PARTS).await;
    let mut report = Report {
        skipped: parsed.skipped,
        ..Report::default()
    };
    let mut pieces = Vec::new();
    let mut attachments: HashMap<Uuid, Vec<Value>> = HashMap::new();
    let mut feedback = Vec::new();
    for part in parsed.parts {
        match part {
            Part::Run { op, run, fields } => pieces.push(Piece { op, run, fields }),
            Part::Attachment { run, info } => attachments.entry(run).or_default().push(info),
            Part::Feedback(value) => feedback.push(value),
        }
    }
    ingest_pieces(&state, &scope, &headers, pieces, attachments, &mut report).await?;
    // After the runs: feedback in the same upload is usually about them.
    for value in feedback {
        match feedback::store(&state, &scope, value, feedback::WhenUnknown::StoreAnyway).await {
            Ok(_) => report.feedback += 1,
            Err(ApiError::Store(e)) => return Err(ApiError::Store(e)),
            Err(e) => report.skipped.push(format!("feedback: {e}")),
        }
    }
    if let Some(broken) = parsed.broken {
        return Err(ApiError::BadRequest(format!(
            "{broken}; the {} runs and {} feedback records before it were stored",
            report.runs, report.feedback
        )));
    }
    if report.nothing_usable() {
        return Err(ApiError::BadRequest(format!(
            "nothing in the upload could be used: {}",
            report.skipped.summary(5)
        )));
    }
    Ok(report.answer())
}

/// The runs of a JSON list, each with its `id`.
fn pieces_of(list: Option<&Value>, op: Op, report: &mut Report) -> Result<Vec<Piece>, ApiError> {
    let items = match list {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "\"post\" and \"patch\" must be lists of runs".into(),
            ))
        }
    };
    let mut pieces = Vec::new();
    for item in items {
        let Some(fields) = item.as_object() else {
            report.skipped.push("a run that is not a JSON object");
            continue;
        };
        match fields
            .get("id")
            .and_then(Value::as_str)
            .and_then(ids::parse_uuid)
        {
            Some(run) => pieces.push(Piece {
                op,
                run,
                fields: fields.clone(),
            }),
            None => report
                .skipped
                .push(format!("a run without a UUID id: {:?}", fields.get("id"))),
        }
    }
    Ok(pieces)
}

pub(super) async fn runs_batch(
    State(state): State<AppState>,
    scope: KeyScope,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_json_body(&state, &headers, body).await?;
    let value = parse_json(&bytes)?;
    let Some(batch) = value.as_object() else {
        return Err(ApiError::BadRequest(
            "a batch is a JSON object {\"post\": [...], \"patch\": [...]}".into(),
        ));
    };
    let mut report = Report::default();
    let mut pieces = pieces_of(batch.get("post"), Op::Post, &mut report)?;
    pieces.extend(pieces_of(batch.get("patch"), Op::Patch, &mut report)?);
    ingest_pieces(
        &state,
        &scope,
        &headers,
        pieces,
        HashMap::new(),
        &mut report,
    )
    .await?;
    if report.nothing_usable() {
        return Err(ApiError::BadRequest(format!(
            "no run in the batch could be used: {}",
            report.skipped.summary(5)
        )));
    }
    Ok(report.answer())
}

/// `POST /runs` and `PATCH /runs/{id}` (`Client(auto_batch_tracing=False)`).
async fn single_run(
    state: &AppState,
    scope: &KeyScope,
    headers: &HeaderMap,
    body: Body,
    op: Op,
    path_id: Option<&str>,
) -> Result<Response, ApiError> {
    let bytes = read_json_body(state, headers, body).await?;
    let Value::Object(fields) = parse_json(&bytes)? else {
        return Err(ApiError::BadRequest("a run is a JSON object".into()));
    };
    let body_id = fields.get("id").and_then(Value::as_str);
    let run = match (path_id, body_id) {
        (Some(p), Some(b)) if ids::parse_uuid(p) != ids::parse_uuid(b) => {
            return Err(ApiError::BadRequest(format!(
                "the run id in the path ({p}) and in the body ({b}) differ"
            )))
        }
        (Some(id), _) | (None, Some(id)) => ids::parse_uuid(id)
            .ok_or_else(|| ApiError::BadRequest(format!("run id {id:?} is not a UUID")))?,
        (None, None) => {
            return Err(ApiError::BadRequest(
                "a run needs an \"id\" (a UUID)".into(),
            ))
        }
    };
    let mut report = Report::default();
    ingest_pieces(
        state,
        scope,
        headers,
        vec![Piece { op, run, fields }],
        HashMap::new(),
        &mut report,
    )
    .await?;
    if report.runs == 0 {
        return Err(ApiError::BadRequest(report.skipped.summary(5)));
    }
    Ok(report.answer())
}

pub(super) async fn create_run(
    State(state): State<AppState>,
    scope: KeyScope,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    single_run(&state, &scope, &headers, body, Op::Post, None).await
}

pub(super) async fn update_run(
    State(state): State<AppState>,
    scope: KeyScope,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    single_run(&state, &scope, &headers, body, Op::Patch, Some(&id)).await
}

pub(super) async fn create_feedback(
    State(state): State<AppState>,
    scope: KeyScope,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let bytes = read_json_body(&state, &headers, body).await?;
    let value = parse_json(&bytes)?;
    feedback::store(
        &state,
        &scope,
        value,
        feedback::WhenUnknown::WaitThenNotFound,
    )
    .await
    .map(Json)
}

/// The SDK's OTel mode: OTLP as `/v1/traces` takes it, the project named by `langsmith-project`.
pub(super) async fn otel_traces(
    state: State<AppState>,
    scope: KeyScope,
    mut headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let project = headers
        .get("langsmith-project")
        .map(|v| {
            std::str::from_utf8(v.as_bytes())
                .map_err(|_| "langsmith-project is not UTF-8 text".to_string())
                .and_then(check_project)
        })
        .transpose()
        .map_err(ApiError::BadRequest)?;
    if let Some(project) = project {
        scope.allows(&project)?;
        if !headers.contains_key(skein_model::PROJECT_HEADER) {
            let value = HeaderValue::from_bytes(project.as_bytes())
                .map_err(|_| ApiError::BadRequest("langsmith-project is not valid text".into()))?;
            headers.insert(skein_model::PROJECT_HEADER, value);
        }
    }
    otlp::export(state, scope, headers, body).await
}
