//! How every page loads data: `Latest` runs a request, drops the answers to any request
//! started after it, and retries a transient failure (collector unreachable, 5xx) every
//! `RETRY` while the request is still the latest. On it: `Loader` (one value, `Remote`) and
//! `Pager` (a list with "Load more"). Errors reach the page as `ApiError`, shown by
//! `ErrorBanner` (retrying or not).

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::error_banner::ErrorBanner;
use crate::api::ApiError;

/// How long to wait before asking an unreachable collector again.
pub const RETRY: Duration = Duration::from_secs(3);

/// The latest of a series of requests (a page's inputs changed, a list was reloaded): starting
/// one makes the answers to the ones before it stale.
#[derive(Clone, Copy)]
pub struct Latest(StoredValue<u64>);

impl Default for Latest {
    fn default() -> Self {
        Latest::new()
    }
}

impl Latest {
    pub fn new() -> Latest {
        Latest(StoredValue::new(0))
    }

    /// Starts a new request: from now on only answers to it count.
    pub fn next(self) -> u64 {
        let ticket = self.0.get_value() + 1;
        self.0.set_value(ticket);
        ticket
    }

    /// The latest request, for a follow-up that belongs to it (the next page of a list).
    pub fn current(self) -> u64 {
        self.0.get_value()
    }

    fn is_current(self, ticket: u64) -> bool {
        self.0.try_get_value() == Some(ticket)
    }

    /// Runs `fetch` for request `ticket` and hands its answer to `answer` if the request is
    /// still the latest (else drops it). A transient failure is handed on too (the page says
    /// it is retrying), then asked again after `RETRY` while the request is still the latest.
    pub fn fetch<T, F, Fut, A>(self, ticket: u64, fetch: F, answer: A)
    where
        T: 'static,
        F: Fn() -> Fut + Clone + 'static,
        Fut: Future<Output = Result<T, ApiError>> + 'static,
        A: Fn(Result<T, ApiError>) + Clone + 'static,
    {
        // Only this attempt is compiled per call site; the task, the timer and the retry are
        // compiled once (`run`).
        let attempt: Attempt = Rc::new(move || -> Pin<Box<dyn Future<Output = bool>>> {
            let (fetch, answer) = (fetch.clone(), answer.clone());
            Box::pin(async move {
                let result = fetch().await;
                if !self.is_current(ticket) {
                    return false;
                }
                let retry = matches!(&result, Err(e) if e.is_transient());
                answer(result);
                retry
            })
        });
        self.run(ticket, attempt);
    }

    fn run(self, ticket: u64, attempt: Attempt) {
        spawn_local(async move {
            if attempt().await {
                set_timeout(
                    move || {
                        if self.is_current(ticket) {
                            self.run(ticket, attempt);
                        }
                    },
                    RETRY,
                );
            }
        });
    }
}

/// One try of a request: whether it failed in a way worth trying again.
type Attempt = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = bool>>>>;

#[derive(Debug, Clone, PartialEq)]
pub enum Remote<T> {
    Loading,
    Ready(T),
    Failed(ApiError),
}

impl<T> Remote<T> {
    /// What a part of a page shows: the value's view once ready; before, `loading` (a muted
    /// line); on failure, the error's banner (saying so when it retries by itself).
    pub fn view(self, loading: &'static str, ready: impl FnOnce(T) -> AnyView) -> AnyView {
        match self {
            Remote::Loading => view! { <p class="muted">{loading}</p> }.into_any(),
            Remote::Failed(e) => view! {
                <ErrorBanner title=e.title() detail=e.detail() retrying=e.is_transient()/>
            }
            .into_any(),
            Remote::Ready(value) => ready(value),
        }
    }
}

/// A value fetched from the API, reloaded when the page's inputs change.
pub struct Loader<T: Send + Sync + 'static> {
    pub state: RwSignal<Remote<T>>,
    latest: Latest,
}

impl<T: Send + Sync + 'static> Clone for Loader<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static> Copy for Loader<T> {}

impl<T: Send + Sync + Clone + 'static> Loader<T> {
    pub fn new() -> Loader<T> {
        Loader {
            state: RwSignal::new(Remote::Loading),
            latest: Latest::new(),
        }
    }

    /// Starts a new request (older answers are ignored from now on). With `keep`, the value
    /// shown stays until the answer replaces it (no flash of skeleton on a filter change).
    pub fn load<F, Fut>(self, keep: bool, fetch: F)
    where
        F: Fn() -> Fut + Clone + 'static,
        Fut: Future<Output = Result<T, ApiError>> + 'static,
    {
        let ticket = self.latest.next();
        if !keep || !matches!(self.state.get_untracked(), Remote::Ready(_)) {
            self.state.set(Remote::Loading);
        }
        self.latest.fetch(ticket, fetch, move |result| {
            self.state.set(match result {
                Ok(value) => Remote::Ready(value),
                Err(error) => Remote::Failed(error),
            })
        });
    }
}

/// One page of a list, as the pager needs it.
pub struct PageOf<T> {
    pub rows: Vec<T>,
    pub total: u64,
    /// The server stopped counting (a text search's cap): there are at least `total`.
    pub total_approximate: bool,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Loading,
    Ready,
    Failed(ApiError),
}

/// A list loaded a page at a time ("Load more" follows the cursor).
pub struct Pager<T: Send + Sync + 'static> {
    pub rows: RwSignal<Vec<T>>,
    pub total: RwSignal<Option<u64>>,
    /// `total` is a lower bound (the server stopped counting).
    pub approximate: RwSignal<bool>,
    pub next_cursor: RwSignal<Option<String>>,
    pub phase: RwSignal<Phase>,
    pub more: RwSignal<Phase>,
    latest: Latest,
}

impl<T: Send + Sync + 'static> Clone for Pager<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static> Copy for Pager<T> {}

impl<T: Send + Sync + Clone + 'static> Pager<T> {
    pub fn new() -> Pager<T> {
        Pager {
            rows: RwSignal::new(Vec::new()),
            total: RwSignal::new(None),
            approximate: RwSignal::new(false),
            next_cursor: RwSignal::new(None),
            phase: RwSignal::new(Phase::Loading),
            more: RwSignal::new(Phase::Ready),
            latest: Latest::new(),
        }
    }

    /// Loads the first page for new inputs; the rows shown stay (dimmed) until it arrives.
    pub fn reload<F, Fut>(self, fetch: F)
    where
        F: Fn(Option<String>) -> Fut + Clone + 'static,
        Fut: Future<Output = Result<PageOf<T>, ApiError>> + 'static,
    {
        let ticket = self.latest.next();
        self.more.set(Phase::Ready);
        self.phase.set(Phase::Loading);
        self.fetch(ticket, None, fetch);
    }

    /// Nothing to load (the inputs are invalid): no rows, and no request in flight.
    pub fn clear(self) {
        self.latest.next();
        self.rows.set(Vec::new());
        self.total.set(None);
        self.approximate.set(false);
        self.next_cursor.set(None);
        self.more.set(Phase::Ready);
        self.phase.set(Phase::Ready);
    }

    /// Appends the next page.
    pub fn load_more<F, Fut>(self, fetch: F)
    where
        F: Fn(Option<String>) -> Fut + Clone + 'static,
        Fut: Future<Output = Result<PageOf<T>, ApiError>> + 'static,
    {
        let Some(cursor) = self.next_cursor.get_untracked() else {
            return;
        };
        self.more.set(Phase::Loading);
        self.fetch(self.latest.current(), Some(cursor), fetch);
    }

    fn fetch<F, Fut>(self, ticket: u64, cursor: Option<String>, fetch: F)
    where
        F: Fn(Option<String>) -> Fut + Clone + 'static,
        Fut: Future<Output = Result<PageOf<T>, ApiError>> + 'static,
    {
        let append = cursor.is_some();
        let request = move || fetch(cursor.clone());
        self.latest
            .fetch(ticket, request, move |result| match result {
                Ok(page) => {
                    if append {
                        self.rows.update(|rows| rows.extend(page.rows));
                        self.more.set(Phase::Ready);
                    } else {
                        self.rows.set(page.rows);
                        self.phase.set(Phase::Ready);
                    }
                    self.total.set(Some(page.total));
                    self.approximate.set(page.total_approximate);
                    self.next_cursor.set(page.next_cursor);
                }
                Err(error) if append => self.more.set(Phase::Failed(error)),
                Err(error) => self.phase.set(Phase::Failed(error)),
            });
    }

    /// Nothing to show yet: the first load is under way (or retrying).
    pub fn show_skeleton(self) -> bool {
        self.rows.with(Vec::is_empty)
            && match self.phase.get() {
                Phase::Loading => true,
                Phase::Failed(e) => e.is_transient(),
                Phase::Ready => false,
            }
    }

    /// Rows of an older query are shown while the new one loads or fails.
    pub fn stale(self) -> bool {
        !matches!(self.phase.get(), Phase::Ready) && !self.show_skeleton()
    }

    pub fn ready_and_empty(self) -> bool {
        matches!(self.phase.get(), Phase::Ready) && self.rows.with(Vec::is_empty)
    }
}

/// "Showing 50 of 674 · Load more" ("of at least 1,000" where the server stopped counting),
/// with the state of the next page's request.
#[component]
pub fn LoadMore(
    shown: Signal<usize>,
    total: Signal<Option<u64>>,
    /// `total` is a lower bound.
    #[prop(optional)]
    approximate: Option<Signal<bool>>,
    has_more: Signal<bool>,
    state: Signal<Phase>,
    on_more: Callback<()>,
) -> impl IntoView {
    move || {
        if !has_more.get() {
            return None;
        }
        let shown = shown.get() as u64;
        let total = total.get().unwrap_or(shown);
        let state = state.get();
        Some(view! {
            <div class="load-more">
                <span class="muted">{format!(
                    "Showing {} of {}{}",
                    crate::text::thousands(shown),
                    if approximate.is_some_and(|a| a.get()) { "at least " } else { "" },
                    crate::text::thousands(total),
                )}</span>
                <button type="button" class="button" on:click=move |_| on_more.run(())
                    disabled=matches!(state, Phase::Loading)>
                    {match state {
                        Phase::Loading => "Loading…",
                        Phase::Failed(_) => "Retry loading more",
                        Phase::Ready => "Load more",
                    }}
                </button>
                {match state {
                    Phase::Failed(e) => Some(view! { <span class="error-inline">{e.title()}</span> }),
                    _ => None,
                }}
            </div>
        })
    }
}
