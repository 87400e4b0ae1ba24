//! LangSmith feedback (`POST /feedback`, or a `feedback.<id>` part of a multipart upload)
//! stored through Skein's own feedback store, so it shows exactly like feedback given through
//! `/api/v1/feedback`: `run_id` is the run's span id, `trace_id` its trace id, `source` the
//! `feedback_source.type`.
//!
//! The project is the run's. A run the store does not have yet (the SDK sends runs from a
//! background thread, feedback at once) is located through the trace's root run, then through
//! the feedback's `session_id`. `POST /feedback` with none of those waits a moment for the run
//! and then answers 404, which the SDK retries (`create_feedback` retries on 404 with backoff);
//! a multipart part, which cannot be retried alone, is stored in the default project.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};
use skein_model::{Feedback, NewFeedback};
use uuid::Uuid;

use super::projects::{locate_run, project_by_uuid};
use super::{ids, run};
use crate::api::score_configs::checked_score;
use crate::context::{AppState, KeyScope};
use crate::error::ApiError;

const MAX_KEY_LEN: usize = 128;
pub(super) const MAX_COMMENT_LEN: usize = 16 * 1024;
/// How long `POST /feedback` waits for a run still on its way before answering 404.
const WAIT_FOR_RUN: Duration = Duration::from_millis(1500);

/// What to do when the run is nowhere to be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenUnknown {
    /// Wait a moment, then 404 so the SDK retries.
    WaitThenNotFound,
    /// Store it in the default project (nobody can resend it alone).
    StoreAnyway,
}

#[derive(Debug, Deserialize)]
struct LsFeedback {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    run_id: Option<String>,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    score: Option<Value>,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    correction: Option<Value>,
    #[serde(default)]
    feedback_source: Option<Value>,
    #[serde(default)]
    session_id: Option<String>,
}

fn uuid_field(value: Option<&str>, what: &str) -> Result<Option<Uuid>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => ids::parse_uuid(text)
            .map(Some)
            .ok_or_else(|| ApiError::BadRequest(format!("feedback {what} {text:?} is not a UUID"))),
    }
}

pub(super) fn score_of(score: Option<&Value>) -> Result<Option<f64>, ApiError> {
    let score = match score {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Bool(b)) => f64::from(u8::from(*b)),
        Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "feedback score must be a number or a boolean, not {other}"
            )))
        }
    };
    if !score.is_finite() {
        return Err(ApiError::BadRequest(
            "feedback score must be a finite number".into(),
        ));
    }
    Ok(Some(score))
}

/// Stores one LangSmith feedback record; answers it as LangSmith would.
pub async fn store(
    state: &AppState,
    scope: &KeyScope,
    body: Value,
    when_unknown: WhenUnknown,
) -> Result<Value, ApiError> {
    let fb: LsFeedback = serde_json::from_value(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid feedback: {e}")))?;
    let key = fb.key.as_deref().unwrap_or("").trim().to_string();
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(ApiError::BadRequest(format!(
            "feedback key must be 1 to {MAX_KEY_LEN} characters"
        )));
    }
    if fb
        .comment
        .as_ref()
        .is_some_and(|c| c.len() > MAX_COMMENT_LEN)
    {
        return Err(ApiError::BadRequest(format!(
            "feedback comment is longer than {MAX_COMMENT_LEN} bytes"
        )));
    }
    let score = score_of(fb.score.as_ref())?;
    let id = uuid_field(fb.id.as_deref(), "id")?;
    let trace = uuid_field(fb.trace_id.as_deref(), "trace_id")?;
    // As the SDK does: feedback on a trace is feedback on its root run.
    let run_id = uuid_field(fb.run_id.as_deref(), "run_id")?
        .or(trace)
        .ok_or_else(|| {
            ApiError::BadRequest(
                "feedback needs a run_id or trace_id (feedback on a whole project is not supported)"
                    .into(),
            )
        })?;
    let session = uuid_field(fb.session_id.as_deref(), "session_id")?;

    let mut found = locate_run(state, scope, &run_id).await?;
    if found.is_none()
        && trace.is_none()
        && session.is_none()
        && when_unknown == WhenUnknown::WaitThenNotFound
    {
        let deadline = tokio::time::Instant::now() + WAIT_FOR_RUN;
        while found.is_none() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            found = locate_run(state, scope, &run_id).await?;
        }
    }
    let (project, trace_hex) = match found {
        Some(span) => (span.project, Some(span.trace_id)),
        None => {
            let root = match trace {
                Some(t) => locate_run(state, scope, &t).await?,
                None => None,
            };
            let from_session = match (&root, session) {
                (None, Some(s)) => project_by_uuid(state, scope, &s).await?,
                _ => None,
            };
            let project = match (root, from_session) {
                (Some(root), _) => root.project,
                (None, Some(p)) => p,
                (None, None) if trace.is_some() || when_unknown == WhenUnknown::StoreAnyway => {
                    scope
                        .project()
                        .unwrap_or(skein_model::DEFAULT_PROJECT)
                        .to_string()
                }
                (None, None) => {
                    return Err(ApiError::NotFound(format!(
                        "no run {run_id} (yet): its runs may still be on their way; \
                         send trace_id or session_id with the feedback to store it at once"
                    )))
                }
            };
            (project, trace.as_ref().map(ids::trace_hex))
        }
    };
    scope.allows(&project)?;
    let value = fb.value.filter(|v| !v.is_null());
    let score = checked_score(state.store.as_ref(), &project, &key, score, value.as_ref()).await?;

    let source = fb.feedback_source.as_ref().and_then(Value::as_object);
    let new = NewFeedback {
        id: id.map(|u| u.to_string()),
        run_id: ids::span_hex(&run_id),
        trace_id: trace_hex,
        key,
        score,
        value,
        comment: fb.comment.filter(|c| !c.is_empty()),
        correction: fb.correction.filter(|v| !v.is_null()),
        source: source
            .and_then(|s| s.get("type"))
            .and_then(Value::as_str)
            .map(|t| t.chars().take(64).collect()),
        ..NewFeedback::default()
    };
    let stored = state.store.create_feedback(&project, new).await?;
    let metadata = source
        .and_then(|s| s.get("metadata"))
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    Ok(answer(&stored, &run_id, trace.as_ref(), metadata))
}

/// A stored feedback record as LangSmith answers it; unset optional fields are left out.
pub(super) fn answer(f: &Feedback, run: &Uuid, trace: Option<&Uuid>, metadata: Value) -> Value {
    let time = |ms: i64| run::format_time(ms.saturating_mul(1_000_000));
    let mut out = Map::new();
    out.insert("id".into(), f.id.clone().into());
    out.insert("created_at".into(), time(f.created_ms).into());
    out.insert("modified_at".into(), time(f.modified_ms).into());
    out.insert("run_id".into(), run.to_string().into());
    let trace = trace
        .copied()
        .or_else(|| f.trace_id.as_deref().and_then(ids::trace_uuid));
    // The SDK's schema wants the field, null or not.
    out.insert(
        "trace_id".into(),
        trace.map_or(Value::Null, |t| t.to_string().into()),
    );
    out.insert("key".into(), f.key.clone().into());
    for (name, value) in [
        ("score", f.score.map(Value::from)),
        ("value", f.value.clone()),
        ("comment", f.comment.clone().map(Value::from)),
        ("correction", f.correction.clone()),
    ] {
        if let Some(v) = value {
            out.insert(name.into(), v);
        }
    }
    out.insert(
        "feedback_source".into(),
        serde_json::json!({"type": f.source, "metadata": metadata}),
    );
    out.insert(
        "session_id".into(),
        ids::project_uuid(&f.project).to_string().into(),
    );
    Value::Object(out)
}
