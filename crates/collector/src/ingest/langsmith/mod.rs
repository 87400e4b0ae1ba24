//! LangSmith's REST API as the unmodified LangSmith SDK uses it, under `/api/langsmith` on the
//! HTTP address: users set `LANGSMITH_ENDPOINT=http://localhost:8080/api/langsmith`.
//!
//! Ingest (this module): `GET /info`, `POST /runs/multipart` (plain or `Content-Encoding:
//! zstd`), `POST /runs/batch`, `POST /runs`, `PATCH /runs/{id}`, `POST /feedback` and
//! `POST /otel/v1/traces` (the SDK's OTel mode: OTLP with a `langsmith-project` header).
//! Reads (`crate::api::langsmith`): `GET /sessions`, `GET /sessions/{id}`, `POST /sessions`,
//! `POST /runs/query`, `GET /runs/{id}`.
//!
//! A run becomes a span (`run`), its ids are mapped deterministically (`ids`), and its pieces
//! (a `post`, later a `patch`, re-sent copies) are merged in the store (`Store::upsert_spans`
//! with `run::merge_spans`), so a run is one span however it arrives. A duplicate is success
//! (LangSmith's 409 means the same to the SDK). Feedback goes to Skein's feedback store
//! (`feedback`).
//!
//! What `/info` announces steers the SDK: multipart with zstd (the default), multipart
//! without compression, or `/runs/batch`. `SKEIN_LANGSMITH_INGEST` (`multipart-zstd`,
//! `multipart`, `batch`) chooses; the SDK's own `LANGSMITH_DISABLE_RUN_COMPRESSION=true`
//! turns zstd off on its side. Every mode is always accepted whatever `/info` said.

pub mod feedback;
pub mod ids;
pub mod multipart;
pub mod run;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{json, Map, Value};
use skein_model::span::Span;
use uuid::Uuid;

use self::multipart::{Op, Part};
use crate::api::langsmith as reads;
use crate::error::ApiError;
use crate::ingest::body::read_limited;
use crate::ingest::limits;
use crate::ingest::otlp;
use crate::server::AppState;

/// Where the API is served.
pub const PREFIX: &str = "/api/langsmith";
/// Chooses what `/info` tells the SDK to send (see the module docs).
pub const INGEST_ENV: &str = "SKEIN_LANGSMITH_INGEST";
/// The LangSmith server version announced: at least 0.8.10, so the SDK sends feedback along
/// with runs in multipart uploads; the SDK's captured behaviour is against this one.
pub const ANNOUNCED_VERSION: &str = "0.10.100";
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

/// The routes, all under `PREFIX`.
pub fn router() -> Router<AppState> {
    let route = |path: &str| format!("{PREFIX}{path}");
    Router::new()
        .route(&route("/info"), get(info))
        .route(&route("/runs/multipart"), post(runs_multipart))
        .route(&route("/runs/batch"), post(runs_batch))
        .route(&route("/runs/query"), post(reads::query_runs))
        .route(&route("/runs"), post(create_run))
        .route(&route("/runs/{id}"), get(reads::read_run).patch(update_run))
        .route(&route("/feedback"), post(create_feedback))
        .route(
            &route("/sessions"),
            get(reads::list_sessions).post(reads::create_session),
        )
        .route(&route("/sessions/{id}"), get(reads::read_session))
        .route(&route("/otel/v1/traces"), post(otel_traces))
        .layer(Extension(IngestMode::from_env()))
}

// ---------------------------------------------------------------------------------------------
// Keys and projects

/// The project the request's API key is for, when Skein has keys (set by `auth::require_key`,
/// which has already checked the key; clients cannot set it).
pub fn key_scope(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(crate::auth::SCOPE_HEADER)
        .and_then(|v| v.to_str().ok())
}

/// Whether a request whose key is scoped to `scope` may write to or read from `project`. Every
/// LangSmith handler calls it for each project it touches: the SDK names the project in each
/// run (`session_name`), so a run for another project than the key's is refused, not moved.
pub fn authorize(scope: Option<&str>, project: &str) -> Result<(), ApiError> {
    match scope {
        Some(scope) if scope != project => Err(ApiError::Forbidden(format!(
            "this API key is for project {scope:?}, not {project:?}"
        ))),
        _ => Ok(()),
    }
}

/// Longest project name accepted (as for `x-skein-project`).
const MAX_PROJECT_NAME: usize = 128;

/// A project name as the rest of Skein accepts it (see `server::project_from_headers`).
pub fn check_project(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_PROJECT_NAME || name.chars().any(char::is_control) {
        return Err(format!(
            "project name {name:?} must be 1 to {MAX_PROJECT_NAME} printable characters"
        ));
    }
    Ok(name.to_string())
}

/// Project names by their LangSmith UUID, as seen in uploads and listings. A name's UUID never
/// changes, so an entry never goes stale; it saves a scan of every trace (`Store::projects`)
/// each time the SDK names a project by UUID (every `list_runs` page does).
static PROJECT_NAMES: OnceLock<Mutex<HashMap<Uuid, String>>> = OnceLock::new();
/// Beyond this many names the cache starts over (a bound, not a working-set size).
const MAX_CACHED_PROJECTS: usize = 10_000;

pub fn remember_project(name: &str) {
    let names = PROJECT_NAMES.get_or_init(Default::default);
    if let Ok(mut names) = names.lock() {
        if names.len() >= MAX_CACHED_PROJECTS {
            names.clear();
        }
        names
            .entry(ids::project_uuid(name))
            .or_insert_with(|| name.to_string());
    }
}

fn cached_project(id: &Uuid) -> Option<String> {
    PROJECT_NAMES
        .get()
        .and_then(|names| names.lock().ok()?.get(id).cloned())
}

/// The project whose LangSmith UUID this is, among the projects that have data.
pub async fn project_by_uuid(state: &AppState, id: &Uuid) -> Result<Option<String>, ApiError> {
    if let Some(name) = cached_project(id) {
        return Ok(Some(name));
    }
    let projects = state.store.projects().await?;
    for p in &projects {
        remember_project(&p.name);
    }
    Ok(projects
        .into_iter()
        .map(|p| p.name)
        .find(|name| ids::project_uuid(name) == *id))
}

/// The span of a run, found by the run's UUID alone, in any project. The hash is checked
/// against the UUID kept in the span, so a collision across traces cannot mix runs up.
pub async fn locate_run(state: &AppState, run: &Uuid) -> Result<Option<Span>, ApiError> {
    let hashed = state.store.find_spans(&ids::span_hex(run), 10).await?;
    Ok(hashed.into_iter().find(|s| run::run_id_of(s) == *run))
}

// ---------------------------------------------------------------------------------------------
// Handlers

async fn info(
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
#[derive(Debug, Default)]
struct Report {
    runs: usize,
    feedback: usize,
    skipped: Vec<String>,
}

impl Report {
    fn answer(self) -> Response {
        for why in &self.skipped {
            tracing::warn!(reason = %why, "LangSmith upload: part skipped");
        }
        (
            StatusCode::ACCEPTED,
            Json(json!({
                "runs": self.runs,
                "feedback": self.feedback,
                "skipped": self.skipped,
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
    headers: &HeaderMap,
    pieces: Vec<Piece>,
    mut attachments: HashMap<Uuid, Vec<Value>>,
    report: &mut Report,
) -> Result<(), ApiError> {
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

    let key = key_scope(headers);
    let header_project = headers
        .get("langsmith-project")
        .and_then(|v| v.to_str().ok())
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
                Some(uuid) => project_by_uuid(state, &uuid).await?,
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
            locate_run(state, &run_id).await?
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
            .unwrap_or_else(|| skein_model::DEFAULT_PROJECT.to_string());
        authorize(key, &project)?;
        remember_project(&project);
        let files = attachments.remove(&run_id).unwrap_or_default();
        match run::to_span(&run_id, &fields, &project, &files, now_ns) {
            Ok(span) => spans.push(span),
            Err(e) => report.skipped.push(e.to_string()),
        }
    }
    report.runs = spans.len();
    state.store.upsert_spans(spans, run::merge_spans).await?;
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

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}

async fn runs_multipart(
    State(state): State<AppState>,
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
    ingest_pieces(&state, &headers, pieces, attachments, &mut report).await?;
    // After the runs: feedback in the same upload is usually about them.
    for value in feedback {
        match feedback::store(
            &state,
            key_scope(&headers),
            value,
            feedback::WhenUnknown::StoreAnyway,
        )
        .await
        {
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
            report.skipped.join("; ")
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
            report
                .skipped
                .push("a run that is not a JSON object".into());
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

async fn runs_batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(&state, &headers, body).await?;
    let value = parse_json(&bytes)?;
    let Some(batch) = value.as_object() else {
        return Err(ApiError::BadRequest(
            "a batch is a JSON object {\"post\": [...], \"patch\": [...]}".into(),
        ));
    };
    let mut report = Report::default();
    let mut pieces = pieces_of(batch.get("post"), Op::Post, &mut report)?;
    pieces.extend(pieces_of(batch.get("patch"), Op::Patch, &mut report)?);
    ingest_pieces(&state, &headers, pieces, HashMap::new(), &mut report).await?;
    if report.nothing_usable() {
        return Err(ApiError::BadRequest(format!(
            "no run in the batch could be used: {}",
            report.skipped.join("; ")
        )));
    }
    Ok(report.answer())
}

/// `POST /runs` and `PATCH /runs/{id}` (`Client(auto_batch_tracing=False)`).
async fn single_run(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    op: Op,
    path_id: Option<&str>,
) -> Result<Response, ApiError> {
    let bytes = read_body(state, headers, body).await?;
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
        headers,
        vec![Piece { op, run, fields }],
        HashMap::new(),
        &mut report,
    )
    .await?;
    if report.runs == 0 {
        return Err(ApiError::BadRequest(report.skipped.join("; ")));
    }
    Ok(report.answer())
}

async fn create_run(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    single_run(&state, &headers, body, Op::Post, None).await
}

async fn update_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    single_run(&state, &headers, body, Op::Patch, Some(&id)).await
}

async fn create_feedback(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let bytes = read_body(&state, &headers, body).await?;
    let value = parse_json(&bytes)?;
    feedback::store(
        &state,
        key_scope(&headers),
        value,
        feedback::WhenUnknown::WaitThenNotFound,
    )
    .await
    .map(Json)
}

/// The SDK's OTel mode: OTLP as `/v1/traces` takes it, the project named by `langsmith-project`.
async fn otel_traces(
    state: State<AppState>,
    mut headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let project = headers
        .get("langsmith-project")
        .and_then(|v| v.to_str().ok())
        .map(check_project)
        .transpose()
        .map_err(ApiError::BadRequest)?;
    authorize(
        key_scope(&headers),
        project.as_deref().unwrap_or(skein_model::DEFAULT_PROJECT),
    )?;
    if let Some(project) = project {
        if !headers.contains_key(skein_model::PROJECT_HEADER) {
            let value = HeaderValue::from_str(&project)
                .map_err(|_| ApiError::BadRequest("langsmith-project is not valid text".into()))?;
            headers.insert(skein_model::PROJECT_HEADER, value);
        }
    }
    otlp::export(state, headers, body).await
}
