//! The collector's JSON API, as the dashboard uses it. Same origin as the page; every
//! call names the project. URLs are built in `links`.

use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use skein_model::metrics::{MetricQuery, MetricResponse};
use skein_model::query::encode_pairs;
use skein_model::{
    ErrorBody, Feedback, FeedbackList, FeedbackUpdate, NewFeedback, ProjectInfo, TagKeyInfo,
    TagValueInfo, TracePage, TraceQuery, TraceSkeleton,
};

use crate::links;

/// Why a call failed, told apart because the page reacts differently to each.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No answer (the collector is down, or a proxy in front of it says so): retry.
    Unreachable(String),
    /// The collector answered with an error status and its message.
    Status { status: u16, message: String },
    /// The answer was not what the API promises (another server on the address?).
    Unexpected(String),
}

impl ApiError {
    /// Worth trying again by itself (the problem may go away without the user).
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Unreachable(_) => true,
            ApiError::Status { status, .. } => *status >= 500,
            ApiError::Unexpected(_) => true,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::Status { status: 404, .. })
    }

    /// A one-line headline for a banner.
    pub fn title(&self) -> String {
        match self {
            ApiError::Unreachable(_) => "Can't reach the Skein collector".to_string(),
            ApiError::Status { status, .. } if *status >= 500 => {
                "The Skein collector had a problem".to_string()
            }
            ApiError::Status { .. } => "The Skein collector refused the request".to_string(),
            ApiError::Unexpected(_) => "Unexpected answer from the collector".to_string(),
        }
    }

    /// The detail: the collector's own message, or what went wrong on the way.
    pub fn detail(&self) -> String {
        match self {
            ApiError::Unreachable(why) => why.clone(),
            ApiError::Status { status, message } => format!("{message} (HTTP {status})"),
            ApiError::Unexpected(why) => why.clone(),
        }
    }
}

/// The page's origin, for messages.
fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_else(|| "this address".to_string())
}

fn unreachable(why: &str) -> ApiError {
    ApiError::Unreachable(format!(
        "No answer from {} ({why}). Is the collector (skein serve) running?",
        origin()
    ))
}

async fn get<T: DeserializeOwned>(url: String) -> Result<T, ApiError> {
    let response = Request::get(&url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| unreachable(&e.to_string()))?;
    answer(&url, response).await
}

/// Reads an answer: the collector's `{"error"}` for a failed status, else the JSON body.
async fn answer<T: DeserializeOwned>(url: &str, response: Response) -> Result<T, ApiError> {
    check(&response).await?;
    let body = response
        .text()
        .await
        .map_err(|e| unreachable(&e.to_string()))?;
    serde_json::from_str(&body).map_err(|e| {
        if body.trim_start().starts_with('<') {
            ApiError::Unexpected(format!(
                "{url} answered with a web page, not JSON: is the collector serving this dashboard?"
            ))
        } else {
            ApiError::Unexpected(format!("{url}: {e}"))
        }
    })
}

/// `Err` for a failed status, with the collector's message.
async fn check(response: &Response) -> Result<(), ApiError> {
    let status = response.status();
    if !response.ok() {
        let body = response.text().await.unwrap_or_default();
        match serde_json::from_str::<ErrorBody>(&body) {
            Ok(error) => {
                return Err(ApiError::Status {
                    status,
                    message: error.error,
                })
            }
            // The collector always explains its errors in JSON: a bare 5xx comes from a
            // proxy or gateway (`trunk serve`, nginx…) that could not reach it.
            Err(_) if status >= 500 => {
                return Err(unreachable(&format!("HTTP {status} from a proxy")));
            }
            Err(_) => {
                return Err(ApiError::Status {
                    status,
                    message: response.status_text(),
                })
            }
        }
    }
    Ok(())
}

pub async fn projects() -> Result<Vec<ProjectInfo>, ApiError> {
    get(links::api_projects()).await
}

pub async fn traces(project: &str, query: &TraceQuery) -> Result<TracePage, ApiError> {
    get(links::api_traces(project, query)).await
}

pub async fn trace(project: &str, trace_id: &str) -> Result<TraceSkeleton, ApiError> {
    get(links::api_trace(project, trace_id)).await
}

/// `GET /api/v1/traces/{trace_id}/spans/{span_id}`: one span in full (attributes, events,
/// input, output), fetched when the trace page selects it.
pub async fn span(
    project: &str,
    trace_id: &str,
    span_id: &str,
) -> Result<skein_model::span::Span, ApiError> {
    use skein_model::query::{encode_pairs, percent_encode};
    get(format!(
        "/api/v1/traces/{}/spans/{}?{}",
        percent_encode(trace_id),
        percent_encode(span_id),
        encode_pairs([("project", project)])
    ))
    .await
}

pub async fn tags(project: &str) -> Result<Vec<TagKeyInfo>, ApiError> {
    get(links::api_tags(project)).await
}

pub async fn tag_values(project: &str, key: &str) -> Result<Vec<TagValueInfo>, ApiError> {
    get(links::api_tag_values(project, key)).await
}

/// `GET /api/v1/metrics`: a metric's aggregates per group and time bucket.
pub async fn metrics(project: &str, query: &MetricQuery) -> Result<MetricResponse, ApiError> {
    get(format!(
        "/api/v1/metrics?{}&{}",
        encode_pairs([("project", project)]),
        query.to_query_string()
    ))
    .await
}

/// `GET /api/v1/feedback?trace_id=`: every feedback record on a trace's spans.
pub async fn trace_feedback(project: &str, trace_id: &str) -> Result<Vec<Feedback>, ApiError> {
    let list: FeedbackList = get(format!(
        "/api/v1/feedback?{}",
        encode_pairs([("project", project), ("trace_id", trace_id)])
    ))
    .await?;
    Ok(list.feedback)
}

fn feedback_url(project: &str, id: Option<&str>) -> String {
    let path = match id {
        Some(id) => format!(
            "/api/v1/feedback/{}",
            skein_model::query::percent_encode(id)
        ),
        None => "/api/v1/feedback".to_string(),
    };
    format!("{path}?{}", encode_pairs([("project", project)]))
}

async fn send_json<B: serde::Serialize, T: DeserializeOwned>(
    method: &str,
    url: String,
    body: &B,
) -> Result<T, ApiError> {
    let builder = match method {
        "PATCH" => Request::patch(&url),
        _ => Request::post(&url),
    };
    let response = builder
        .header("accept", "application/json")
        .json(body)
        .map_err(|e| ApiError::Unexpected(e.to_string()))?
        .send()
        .await
        .map_err(|e| unreachable(&e.to_string()))?;
    answer(&url, response).await
}

/// `POST /api/v1/feedback`: 201 and the stored record.
pub async fn create_feedback(project: &str, new: &NewFeedback) -> Result<Feedback, ApiError> {
    send_json("POST", feedback_url(project, None), new).await
}

/// `PATCH /api/v1/feedback/{id}`: the record as changed.
pub async fn update_feedback(
    project: &str,
    id: &str,
    update: &FeedbackUpdate,
) -> Result<Feedback, ApiError> {
    send_json("PATCH", feedback_url(project, Some(id)), update).await
}

/// `DELETE /api/v1/feedback/{id}`: 204.
pub async fn delete_feedback(project: &str, id: &str) -> Result<(), ApiError> {
    let response = Request::delete(&feedback_url(project, Some(id)))
        .send()
        .await
        .map_err(|e| unreachable(&e.to_string()))?;
    check(&response).await
}

// Sessions, users and the service graph (`GET /api/v1/sessions`, `/users`, `/services/graph`).

fn with_query(path: String, project: &str, query: &str) -> String {
    let project = skein_model::query::encode_pairs([("project", project)]);
    if query.is_empty() {
        format!("{path}?{project}")
    } else {
        format!("{path}?{project}&{query}")
    }
}

pub async fn sessions(
    project: &str,
    query: &skein_model::sessions::SessionQuery,
) -> Result<skein_model::sessions::SessionPage, ApiError> {
    get(with_query(
        "/api/v1/sessions".into(),
        project,
        &query.to_query_string(),
    ))
    .await
}

pub async fn session(
    project: &str,
    session_id: &str,
) -> Result<skein_model::sessions::SessionDetail, ApiError> {
    use skein_model::query::percent_encode;
    get(with_query(
        format!("/api/v1/sessions/{}", percent_encode(session_id)),
        project,
        "",
    ))
    .await
}

pub async fn users(
    project: &str,
    query: &skein_model::sessions::SessionQuery,
) -> Result<skein_model::sessions::UserPage, ApiError> {
    get(with_query(
        "/api/v1/users".into(),
        project,
        &query.to_query_string(),
    ))
    .await
}

pub async fn user(
    project: &str,
    user_id: &str,
    query: &skein_model::sessions::SessionQuery,
) -> Result<skein_model::sessions::UserDetail, ApiError> {
    use skein_model::query::percent_encode;
    get(with_query(
        format!("/api/v1/users/{}", percent_encode(user_id)),
        project,
        &query.to_query_string(),
    ))
    .await
}

pub async fn service_graph(
    project: &str,
    query: &skein_model::service_graph::ServiceGraphQuery,
) -> Result<skein_model::service_graph::ServiceGraph, ApiError> {
    get(with_query(
        "/api/v1/services/graph".into(),
        project,
        &query.to_query_string(),
    ))
    .await
}
