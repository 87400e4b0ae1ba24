//! The collector's JSON API, as the dashboard uses it. Same origin as the page; every
//! call names the project. URLs are built in `links`.
//!
//! Every request carries the browser session's API key (`x-api-key`, kept in sessionStorage)
//! when there is one. A 401 asks the shell to prompt for a key and waits: the request is sent
//! again once a key is accepted, so pages never see it. A 403 (the key is for another project)
//! is told to the shell, which offers the key's projects, and returned to the page as usual.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use gloo_net::http::{Request, RequestBuilder, Response};
use leptos::prelude::{RwSignal, Set, Update};
use serde::de::DeserializeOwned;
use skein_model::live::StreamTicket;
use skein_model::metrics::{MetricQuery, MetricResponse};
use skein_model::query::encode_pairs;
use skein_model::queue::{
    AddItems, Added, Claim, Claimed, Completion, NewQueue, Queue, QueueItem, QueueList,
};
use skein_model::skeleton_wire;
use skein_model::{
    ErrorBody, Feedback, FeedbackList, FeedbackUpdate, NewFeedback, NewScoreConfig, ProjectInfo,
    ScoreConfig, ScoreConfigList, ScoreSettings, TagKeyInfo, TagValueInfo, TracePage, TraceQuery,
    TraceSkeleton,
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
            ApiError::Status { status: 403, .. } => {
                "This API key can't see this project".to_string()
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

/// No answer from the collector, and `why` in a few words.
pub fn unreachable(why: &str) -> ApiError {
    ApiError::Unreachable(format!(
        "No answer from {} ({why}). Is the collector (skein serve) running?",
        origin()
    ))
}

// The API key of this browser session.

const KEY_STORAGE: &str = "skein.apiKey";
const KEY_HEADER: &str = "x-api-key";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// The key this browser session uses, if one was accepted.
pub fn stored_key() -> Option<String> {
    session_storage()?
        .get_item(KEY_STORAGE)
        .ok()
        .flatten()
        .filter(|k| !k.is_empty())
}

/// Drops the session's key; the next request that needs one asks again.
pub fn forget_key() {
    if let Some(storage) = session_storage() {
        let _ = storage.remove_item(KEY_STORAGE);
    }
}

/// Why the shell should ask for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyNeeded {
    /// The collector wants a key and this session has none.
    Missing,
    /// The session's key stopped working (revoked, or the data dir changed).
    Refused,
}

/// Where api.rs tells the shell what the user has to act on.
#[derive(Clone, Copy)]
pub struct KeySignals {
    pub needed: RwSignal<Option<KeyNeeded>>,
    /// The project a request was refused for (403).
    pub forbidden: RwSignal<Option<String>>,
}

thread_local! {
    static SIGNALS: Cell<Option<KeySignals>> = const { Cell::new(None) };
    /// Bumped each time a key is accepted; requests waiting for a key watch it.
    static KEY_GENERATION: Cell<u64> = const { Cell::new(0) };
    static KEY_WAITERS: RefCell<Vec<Waker>> = const { RefCell::new(Vec::new()) };
}

/// Called once by the shell.
pub fn set_key_signals(signals: KeySignals) {
    SIGNALS.with(|s| s.set(Some(signals)));
}

/// Keeps an accepted key for the browser session and sends the waiting requests again.
pub fn accept_key(key: &str) {
    if let Some(storage) = session_storage() {
        let _ = storage.set_item(KEY_STORAGE, key);
    }
    KEY_GENERATION.with(|g| g.set(g.get() + 1));
    for waker in KEY_WAITERS.with(|w| std::mem::take(&mut *w.borrow_mut())) {
        waker.wake();
    }
    if let Some(signals) = SIGNALS.with(Cell::get) {
        signals.needed.try_set(None);
    }
}

/// Resolves once a key is accepted after it was created.
struct KeyAccepted {
    generation: u64,
}

impl Future for KeyAccepted {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if KEY_GENERATION.with(Cell::get) > self.generation {
            Poll::Ready(())
        } else {
            KEY_WAITERS.with(|w| w.borrow_mut().push(cx.waker().clone()));
            Poll::Pending
        }
    }
}

/// After a 401 to a request sent with `sent`: forgets that key, and unless another key has
/// been accepted meanwhile, has the shell ask for one and waits for it.
async fn key_refused(sent: Option<&str>) {
    let stored = stored_key();
    if stored.is_some() && stored.as_deref() != sent {
        return;
    }
    forget_key();
    let generation = KEY_GENERATION.with(Cell::get);
    if let Some(signals) = SIGNALS.with(Cell::get) {
        let reason = if sent.is_some() {
            KeyNeeded::Refused
        } else {
            KeyNeeded::Missing
        };
        // A request sent without a key after another's key was refused (pages load their
        // code, then their data) keeps the prompt's "no longer accepted".
        signals.needed.try_update(|needed| {
            if needed.is_none() || reason == KeyNeeded::Refused {
                *needed = Some(reason);
            }
        });
    }
    KeyAccepted { generation }.await;
}

/// The `project` a request URL names.
fn project_in(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    skein_model::query::parse_query_string(query)
        .into_iter()
        .find(|(k, _)| k == "project")
        .map(|(_, v)| v)
}

/// Sends a request with the session's key (built afresh for each try), waiting out a 401
/// until a key is accepted, and telling the shell about a 403.
async fn send(method: &str, url: &str, json_body: Option<String>) -> Result<Response, ApiError> {
    loop {
        let key = stored_key();
        let mut builder: RequestBuilder = match method {
            "POST" => Request::post(url),
            "PATCH" => Request::patch(url),
            "PUT" => Request::put(url),
            "DELETE" => Request::delete(url),
            _ => Request::get(url),
        };
        builder = builder.header("accept", "application/json");
        if let Some(key) = &key {
            builder = builder.header(KEY_HEADER, key);
        }
        let request = match &json_body {
            Some(json) => builder
                .header("content-type", "application/json")
                .body(json.as_str()),
            None => builder.build(),
        }
        .map_err(|e| ApiError::Unexpected(e.to_string()))?;
        let response = request
            .send()
            .await
            .map_err(|e| unreachable(&e.to_string()))?;
        match response.status() {
            401 => key_refused(key.as_deref()).await,
            403 => {
                if let (Some(signals), Some(project)) = (SIGNALS.with(Cell::get), project_in(url)) {
                    signals.forbidden.try_set(Some(project));
                }
                return Ok(response);
            }
            _ => return Ok(response),
        }
    }
}

/// Tries a key without keeping it: the projects it can see, or why it was refused.
pub async fn check_key(key: &str) -> Result<Vec<ProjectInfo>, ApiError> {
    let url = links::api_projects();
    let response = Request::get(&url)
        .header("accept", "application/json")
        .header(KEY_HEADER, key)
        .send()
        .await
        .map_err(|e| unreachable(&e.to_string()))?;
    answer(&url, response).await
}

async fn get<T: DeserializeOwned>(url: String) -> Result<T, ApiError> {
    let body = get_body(&url).await?;
    parse(&url, &body)
}

/// The body of a successful GET. Not generic, unlike `get`: the request's code is compiled
/// once, not once per response type.
async fn get_body(url: &str) -> Result<String, ApiError> {
    let response = send("GET", url, None).await?;
    answer_body(response).await
}

/// Reads an answer: the collector's `{"error"}` for a failed status, else the JSON body.
async fn answer<T: DeserializeOwned>(url: &str, response: Response) -> Result<T, ApiError> {
    let body = answer_body(response).await?;
    parse(url, &body)
}

/// The body of an answer with a successful status.
async fn answer_body(response: Response) -> Result<String, ApiError> {
    check(&response).await?;
    response
        .text()
        .await
        .map_err(|e| unreachable(&e.to_string()))
}

/// The JSON body as `T`, or what is wrong with it.
fn parse<T: DeserializeOwned>(url: &str, body: &str) -> Result<T, ApiError> {
    serde_json::from_str(body).map_err(|e| {
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

/// Fetches `url` with the session's key and hands the answer to the browser as the file
/// `filename` (a plain link could not carry the key).
pub async fn download(url: &str, filename: &str) -> Result<(), ApiError> {
    let response = send("GET", url, None).await?;
    check(&response).await?;
    let bytes = response
        .binary()
        .await
        .map_err(|e| unreachable(&e.to_string()))?;
    save_file(&bytes, filename)
        .map_err(|e| ApiError::Unexpected(format!("saving {filename}: {e:?}")))
}

fn save_file(bytes: &[u8], filename: &str) -> Result<(), wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;
    use web_sys::{js_sys, Blob, HtmlAnchorElement, Url};
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let blob = Blob::new_with_u8_array_sequence(&parts)?;
    let href = Url::create_object_url_with_blob(&blob)?;
    let document = leptos::prelude::document();
    let anchor: HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    anchor.set_href(&href);
    anchor.set_download(filename);
    anchor.click();
    // Released once the browser has taken the file (released at once, a download may fail).
    leptos::prelude::set_timeout(
        move || {
            let _ = Url::revoke_object_url(&href);
        },
        std::time::Duration::from_secs(60),
    );
    Ok(())
}

pub async fn projects() -> Result<Vec<ProjectInfo>, ApiError> {
    get(links::api_projects()).await
}

pub async fn traces(project: &str, query: &TraceQuery) -> Result<TracePage, ApiError> {
    get(links::api_traces(project, query)).await
}

/// A trace's skeleton, fetched in the compact binary form: at a million spans it is a
/// fraction of the JSON's bytes and decodes straight into the skeleton's vectors.
pub async fn trace(project: &str, trace_id: &str) -> Result<TraceSkeleton, ApiError> {
    let url = links::api_trace_binary(project, trace_id);
    let response = send("GET", &url, None).await?;
    check(&response).await?;
    let bytes = response
        .binary()
        .await
        .map_err(|e| unreachable(&e.to_string()))?;
    skeleton_wire::decode(&bytes).map_err(|e| ApiError::Unexpected(format!("{url}: {e}")))
}

/// `GET /api/v1/traces/{trace_id}/spans/{span_id}`: one span in full (attributes, events,
/// input, output), fetched when the trace page selects it.
pub async fn span(
    project: &str,
    trace_id: &str,
    span_id: &str,
) -> Result<skein_model::span::Span, ApiError> {
    get(links::api_span(project, trace_id, span_id)).await
}

/// `GET /api/v1/traces/{trace_id}/search?q=`: the spans holding the text anywhere
/// (attributes, input, output, events), for the trace page's find box.
pub async fn trace_search(
    project: &str,
    trace_id: &str,
    q: &str,
) -> Result<skein_model::trace_search::TraceSearch, ApiError> {
    get(links::api_trace_search(project, trace_id, q)).await
}

pub async fn tags(project: &str) -> Result<Vec<TagKeyInfo>, ApiError> {
    get(links::api_tags(project)).await
}

pub async fn tag_values(project: &str, key: &str) -> Result<Vec<TagValueInfo>, ApiError> {
    get(links::api_tag_values(project, key)).await
}

/// `GET /api/v1/fields/{field}/values`: a span field's values in use (`model`, `name`).
pub async fn field_values(
    project: &str,
    field: skein_model::ValueField,
) -> Result<Vec<skein_model::FieldValueInfo>, ApiError> {
    get(links::api_field_values(project, field)).await
}

/// `GET /api/v1/metrics`: a metric's aggregates per group and time bucket.
pub async fn metrics(project: &str, query: &MetricQuery) -> Result<MetricResponse, ApiError> {
    get(links::api_metrics(project, &query.to_query_string())).await
}

/// `GET /api/v1/feedback?trace_id=`: every feedback record on a trace's spans.
pub async fn trace_feedback(project: &str, trace_id: &str) -> Result<Vec<Feedback>, ApiError> {
    let list: FeedbackList = get(links::api_feedback(project, None, Some(trace_id))).await?;
    Ok(list.feedback)
}

fn feedback_url(project: &str, id: Option<&str>) -> String {
    links::api_feedback(project, id, None)
}

async fn send_json<B: serde::Serialize, T: DeserializeOwned>(
    method: &str,
    url: String,
    body: &B,
) -> Result<T, ApiError> {
    let json = serde_json::to_string(body).map_err(|e| ApiError::Unexpected(e.to_string()))?;
    let response = send(method, &url, Some(json)).await?;
    answer(&url, response).await
}

/// The URL to open a live stream at (`GET /api/v1/stream?project=…`): with a ticket when this
/// session has a key, since an EventSource cannot send it (`POST /api/v1/stream/ticket`).
pub async fn stream_url(url: &str) -> Result<String, ApiError> {
    if stored_key().is_none() {
        return Ok(url.to_string());
    }
    let project = project_in(url).unwrap_or_default();
    let ticket_url = links::api_stream_ticket(&project);
    let answer: StreamTicket = send_json("POST", ticket_url, &()).await?;
    Ok(match answer.ticket {
        Some(ticket) => format!("{url}&{}", encode_pairs([("ticket", ticket.as_str())])),
        None => url.to_string(),
    })
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
    let response = send("DELETE", &feedback_url(project, Some(id)), None).await?;
    check(&response).await
}

// Annotation queues (`/api/v1/queues`).

fn queue_tail(id: &str, rest: &str) -> String {
    format!("/{}{rest}", skein_model::query::percent_encode(id))
}

pub async fn queues(project: &str) -> Result<QueueList, ApiError> {
    get(links::api_queues(project, "")).await
}

pub async fn queue(project: &str, id: &str) -> Result<Queue, ApiError> {
    get(links::api_queues(project, &queue_tail(id, ""))).await
}

/// `POST`: 201 and the stored queue.
pub async fn create_queue(project: &str, new: &NewQueue) -> Result<Queue, ApiError> {
    send_json("POST", links::api_queues(project, ""), new).await
}

/// `POST /{id}/items`: runs added to the queue.
pub async fn add_to_queue(project: &str, id: &str, add: &AddItems) -> Result<Added, ApiError> {
    send_json(
        "POST",
        links::api_queues(project, &queue_tail(id, "/items")),
        add,
    )
    .await
}

/// `POST /{id}/next`: the item the reviewer holds now (none when the queue is finished).
pub async fn claim_next(project: &str, id: &str, claim: &Claim) -> Result<Claimed, ApiError> {
    send_json(
        "POST",
        links::api_queues(project, &queue_tail(id, "/next")),
        claim,
    )
    .await
}

/// `POST /{id}/items/{item}/complete`: the scores stored as feedback, the item done.
pub async fn complete_item(
    project: &str,
    id: &str,
    item: &str,
    completion: &Completion,
) -> Result<serde_json::Value, ApiError> {
    let tail = queue_tail(
        id,
        &format!(
            "/items/{}/complete",
            skein_model::query::percent_encode(item)
        ),
    );
    send_json("POST", links::api_queues(project, &tail), completion).await
}

/// `POST /{id}/items/{item}/skip`.
pub async fn skip_item(
    project: &str,
    id: &str,
    item: &str,
    claim: &Claim,
) -> Result<QueueItem, ApiError> {
    let tail = queue_tail(
        id,
        &format!("/items/{}/skip", skein_model::query::percent_encode(item)),
    );
    send_json("POST", links::api_queues(project, &tail), claim).await
}

// Score configs (`/api/v1/score-configs`, `/api/v1/score-settings`).

/// The project's configs and settings.
pub async fn score_configs(project: &str) -> Result<ScoreConfigList, ApiError> {
    get(links::api_score_configs(project, None)).await
}

/// `POST`: 201 and the stored config.
pub async fn create_score_config(
    project: &str,
    new: &NewScoreConfig,
) -> Result<ScoreConfig, ApiError> {
    send_json("POST", links::api_score_configs(project, None), new).await
}

/// `PUT /{id}`: the config as changed.
pub async fn update_score_config(
    project: &str,
    id: &str,
    new: &NewScoreConfig,
) -> Result<ScoreConfig, ApiError> {
    send_json("PUT", links::api_score_configs(project, Some(id)), new).await
}

/// `DELETE /{id}`: 204.
pub async fn delete_score_config(project: &str, id: &str) -> Result<(), ApiError> {
    let response = send("DELETE", &links::api_score_configs(project, Some(id)), None).await?;
    check(&response).await
}

pub async fn set_score_settings(
    project: &str,
    settings: &ScoreSettings,
) -> Result<ScoreSettings, ApiError> {
    send_json("PUT", links::api_score_settings(project), settings).await
}

// Sessions, users and the service graph (`GET /api/v1/sessions`, `/users`, `/services/graph`).

pub async fn sessions(
    project: &str,
    query: &skein_model::sessions::SessionQuery,
) -> Result<skein_model::sessions::SessionPage, ApiError> {
    get(links::api_sessions(
        "sessions",
        project,
        None,
        &query.to_query_string(),
    ))
    .await
}

pub async fn session(
    project: &str,
    session_id: &str,
) -> Result<skein_model::sessions::SessionDetail, ApiError> {
    get(links::api_sessions(
        "sessions",
        project,
        Some(session_id),
        "",
    ))
    .await
}

pub async fn users(
    project: &str,
    query: &skein_model::sessions::SessionQuery,
) -> Result<skein_model::sessions::UserPage, ApiError> {
    get(links::api_sessions(
        "users",
        project,
        None,
        &query.to_query_string(),
    ))
    .await
}

pub async fn user(
    project: &str,
    user_id: &str,
    query: &skein_model::sessions::SessionQuery,
) -> Result<skein_model::sessions::UserDetail, ApiError> {
    get(links::api_sessions(
        "users",
        project,
        Some(user_id),
        &query.to_query_string(),
    ))
    .await
}

pub async fn service_graph(
    project: &str,
    query: &skein_model::service_graph::ServiceGraphQuery,
) -> Result<skein_model::service_graph::ServiceGraph, ApiError> {
    get(links::api_service_graph(project, &query.to_query_string())).await
}

/// `GET /api/v1/spans`: a page of the project's spans across traces, for the `/spans` page.
pub async fn spans(
    project: &str,
    view: &links::SpanListView,
    cursor: Option<&str>,
) -> Result<skein_model::span_list::SpanPage, ApiError> {
    get(links::api_spans(project, view, cursor)).await
}

/// `GET /api/v1/services`: the project's services (filter suggestions).
pub async fn services(project: &str) -> Result<Vec<skein_model::ServiceInfo>, ApiError> {
    get(links::api_services(project)).await
}

/// `GET /api/v1/compare/cohorts`: two cohorts of traces compared span name by span name.
pub async fn compare_cohorts(
    project: &str,
    query: &skein_model::cohort::CohortQuery,
) -> Result<skein_model::cohort::CohortComparison, ApiError> {
    get(links::api_cohorts(project, query)).await
}

// Blind pairwise review queues (`/api/v1/pairwise`).

use skein_model::pairwise_queue as pq;

fn pairwise_tail(id: &str, rest: &str) -> String {
    format!("/{}{rest}", skein_model::query::percent_encode(id))
}

pub async fn pairwise_queues(project: &str) -> Result<pq::PairwiseQueueList, ApiError> {
    get(links::api_pairwise(project, "", "")).await
}

pub async fn pairwise_queue(project: &str, id: &str) -> Result<pq::PairwiseQueue, ApiError> {
    get(links::api_pairwise(project, &pairwise_tail(id, ""), "")).await
}

/// `POST`: 201 and the stored queue, its pairs drawn.
pub async fn create_pairwise_queue(
    project: &str,
    new: &pq::NewPairwiseQueue,
) -> Result<pq::PairwiseQueue, ApiError> {
    send_json("POST", links::api_pairwise(project, "", ""), new).await
}

/// `POST /{id}/next`: the pair the reviewer holds now (none when the queue is finished).
pub async fn claim_pair(
    project: &str,
    id: &str,
    claim: &Claim,
) -> Result<pq::ClaimedPair, ApiError> {
    let url = links::api_pairwise(project, &pairwise_tail(id, "/next"), "");
    send_json("POST", url, claim).await
}

/// `POST /{id}/pairs/{pair}/judge`.
pub async fn judge_pair(
    project: &str,
    id: &str,
    pair: &str,
    judge: &pq::Judge,
) -> Result<pq::BlindPair, ApiError> {
    let rest = format!("/pairs/{}/judge", skein_model::query::percent_encode(pair));
    let url = links::api_pairwise(project, &pairwise_tail(id, &rest), "");
    send_json("POST", url, judge).await
}

/// `POST /{id}/pairs/{pair}/skip`.
pub async fn skip_pair(
    project: &str,
    id: &str,
    pair: &str,
    claim: &Claim,
) -> Result<pq::BlindPair, ApiError> {
    let rest = format!("/pairs/{}/skip", skein_model::query::percent_encode(pair));
    let url = links::api_pairwise(project, &pairwise_tail(id, &rest), "");
    send_json("POST", url, claim).await
}

/// `GET /results`: judgements per group of a tag.
pub async fn pairwise_results(
    project: &str,
    query: &pq::ResultsQuery,
) -> Result<pq::PairwiseResults, ApiError> {
    get(links::api_pairwise(
        project,
        "/results",
        &query.to_query_string(),
    ))
    .await
}
