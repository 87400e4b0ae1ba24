//! The run links the SDK makes, opened on Skein.
//!
//! `Client.get_run_url` writes `{host}/o/{tenant}/projects/p/{session}/r/{run}?poll=true`,
//! where `{host}` is `Client(web_url=...)`, else one derived from `LANGSMITH_ENDPOINT`
//! (`http://localhost`, without the port, for a local one: hence `web_url`). Skein serves that
//! path as a redirect to `{PREFIX}/runs/{run}/open`, which finds the run (it needs the
//! request's key, as every data read does) and redirects to its place on the trace page,
//! `/traces/{trace}?span={span}`. A run still on its way (`poll=true`) is waited for briefly.
//! A project's link (`TracerSession.url`, `{host}/o/{tenant}/projects/p/{session}`) leads the
//! same way to the project's trace list.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};

use skein_model::query::percent_encode;

use super::projects::{locate_run, project_by_uuid};
use super::{as_run, ids, PREFIX};
use crate::context::{AppState, KeyScope};
use crate::error::{ApiError, ApiResult};

/// How long opening a run waits for it to arrive.
const WAIT_FOR_RUN: Duration = Duration::from_millis(3000);

/// `GET /o/{tenant}/projects/p/{session}/r/{run}`: on to the run's opener, under the API.
pub async fn project_run_link(
    Path((_tenant, _session, run)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let run = ids::parse_uuid(&run)
        .ok_or_else(|| ApiError::BadRequest(format!("run id {run:?} is not a UUID")))?;
    Ok(Redirect::to(&format!("{PREFIX}/runs/{run}/open")).into_response())
}

/// `GET /o/{tenant}/projects/p/{session}`: on to the project's opener, under the API.
pub async fn project_link(Path((_tenant, session)): Path<(String, String)>) -> ApiResult<Response> {
    let session = ids::parse_uuid(&session)
        .ok_or_else(|| ApiError::BadRequest(format!("project id {session:?} is not a UUID")))?;
    Ok(Redirect::to(&format!("{PREFIX}/sessions/{session}/open")).into_response())
}

/// `GET {PREFIX}/sessions/{session}/open`: a redirect to the project's trace list.
pub async fn open_project(
    State(state): State<AppState>,
    scope: KeyScope,
    Path(session): Path<String>,
) -> ApiResult<Response> {
    let session = ids::parse_uuid(&session)
        .ok_or_else(|| ApiError::BadRequest(format!("project id {session:?} is not a UUID")))?;
    let project = project_by_uuid(&state, &scope, &session)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no project {session}")))?;
    scope.allows(&project)?;
    let mut path = "/traces".to_string();
    if project != skein_model::DEFAULT_PROJECT {
        path.push_str("?project=");
        path.push_str(&percent_encode(&project));
    }
    Ok(no_store(Redirect::to(&path).into_response()))
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET {PREFIX}/runs/{run}/open`: a redirect to the run on its trace page.
pub async fn open_run(
    State(state): State<AppState>,
    scope: KeyScope,
    Path(run): Path<String>,
) -> ApiResult<Response> {
    let run = ids::parse_uuid(&run)
        .ok_or_else(|| ApiError::BadRequest(format!("run id {run:?} is not a UUID")))?;
    let deadline = tokio::time::Instant::now() + WAIT_FOR_RUN;
    let mut found = locate_run(&state, &scope, &run).await?;
    while found.is_none() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        found = locate_run(&state, &scope, &run).await?;
    }
    let span = found.ok_or_else(|| ApiError::NotFound(format!("no run {run} (yet)")))?;
    scope.allows(&span.project)?;
    let mut response = Redirect::to(&as_run::trace_page(
        &span.project,
        &span.trace_id,
        &span.span_id,
    ))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
