//! The API key of this browser session: kept in sessionStorage, sent with every request,
//! asked for (through the shell) when the collector refuses a request without one.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use gloo_net::http::Request;
use leptos::prelude::{RwSignal, Set, Update};
use skein_model::live::StreamTicket;
use skein_model::query::encode_pairs;
use skein_model::ProjectInfo;

use super::{answer, send_json, unreachable, ApiError};
use crate::links;

const KEY_STORAGE: &str = "skein.apiKey";
pub(super) const KEY_HEADER: &str = "x-api-key";

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

/// After a 403: tells the shell which project the key cannot see.
pub(super) fn key_forbidden(url: &str) {
    if let (Some(signals), Some(project)) = (SIGNALS.with(Cell::get), project_in(url)) {
        signals.forbidden.try_set(Some(project));
    }
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
pub(super) async fn key_refused(sent: Option<&str>) {
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
