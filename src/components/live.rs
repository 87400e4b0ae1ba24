//! Live tail in the browser: an `EventSource` on the collector's `GET /api/v1/stream`, its
//! events coalesced into batches drawn in an animation frame, at most one every `MIN_GAP_MS`
//! (so a thousand events a second cost a few updates, and only the newest `max_buffered` are
//! kept between them),
//! and the pieces a live list shows: the switch (a link: `live=1` is in the page URL), the
//! hold while the user reads the list (pointer over it, or scrolled down), and the
//! "N new — show" notice. Used by the trace list; made for any list of stream rows.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::api;
use crate::components::remote::Pager;
use skein_model::live::merge_newest_first;

/// How long to wait before opening a stream again after the collector refused it (busy, or
/// down); EventSource itself retries a stream that merely broke.
const REOPEN_AFTER: Duration = Duration::from_secs(5);
/// The least time between two batches handed to the page: a burst costs the page at most a
/// few updates a second, each drawn in an animation frame.
const MIN_GAP_MS: f64 = 200.0;
/// Scrolled further than this from the top, the user is reading: hold new rows.
const READING_SCROLL_PX: f64 = 40.0;

/// How a live stream is doing, for the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveStatus {
    Off,
    Connecting,
    Live,
    /// The stream broke or was refused: trying again.
    Retrying,
}

impl LiveStatus {
    pub fn label(self) -> &'static str {
        match self {
            LiveStatus::Off => "Live",
            LiveStatus::Connecting => "Live: connecting…",
            LiveStatus::Live => "Live",
            LiveStatus::Retrying => "Live: reconnecting…",
        }
    }

    /// The state's name for tests (`data-status`), lowercase ASCII (no Unicode case tables).
    pub fn name(self) -> &'static str {
        match self {
            LiveStatus::Off => "off",
            LiveStatus::Connecting => "connecting",
            LiveStatus::Live => "live",
            LiveStatus::Retrying => "retrying",
        }
    }
}

/// An open EventSource and the callbacks it holds; closed when dropped.
struct Open {
    source: web_sys::EventSource,
    _listeners: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// What the stream's callbacks share.
struct Feed<T> {
    buffer: RefCell<VecDeque<T>>,
    frame_asked: Cell<bool>,
    /// When the last batch was handed over (`performance.now()`).
    last_flush: Cell<f64>,
    max_buffered: usize,
    on_batch: Box<dyn Fn(Vec<T>)>,
    on_open: Box<dyn Fn()>,
    status: RwSignal<LiveStatus>,
}

impl<T: 'static> Feed<T> {
    fn push(self: &Rc<Self>, item: T) {
        {
            let mut buffer = self.buffer.borrow_mut();
            buffer.push_back(item);
            while buffer.len() > self.max_buffered {
                buffer.pop_front();
            }
        }
        if !self.frame_asked.replace(true) {
            let feed = self.clone();
            let in_frame = move || {
                request_animation_frame(move || {
                    feed.frame_asked.set(false);
                    feed.last_flush.set(now());
                    let batch: Vec<T> = feed.buffer.borrow_mut().drain(..).collect();
                    if !batch.is_empty() {
                        (feed.on_batch)(batch);
                    }
                })
            };
            let wait = self.last_flush.get() + MIN_GAP_MS - now();
            if wait > 0.0 {
                set_timeout(in_frame, Duration::from_millis(wait as u64));
            } else {
                in_frame();
            }
        }
    }
}

fn now() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

fn listener(f: impl FnMut(web_sys::Event) + 'static) -> Closure<dyn FnMut(web_sys::Event)> {
    Closure::<dyn FnMut(web_sys::Event)>::new(f)
}

/// Opens an EventSource on `url` while it is `Some` (again whenever it changes), hands each
/// animation frame's `event` events (their JSON data as `T`, oldest first) to `on_batch`, and
/// calls `on_open` each time the stream (re)opens (to catch up on what came before it). The
/// stream closes when `url` becomes `None` or the owner is cleaned up.
pub fn use_live_stream<T: DeserializeOwned + 'static>(
    url: Signal<Option<String>>,
    event: &'static str,
    max_buffered: usize,
    on_batch: impl Fn(Vec<T>) + 'static,
    on_open: impl Fn() + 'static,
) -> RwSignal<LiveStatus> {
    let status = RwSignal::new(LiveStatus::Off);
    let feed = Rc::new(Feed {
        buffer: RefCell::new(VecDeque::new()),
        frame_asked: Cell::new(false),
        last_flush: Cell::new(f64::NEG_INFINITY),
        max_buffered: max_buffered.max(1),
        on_batch: Box::new(on_batch),
        on_open: Box::new(on_open),
        status,
    });
    let open: StoredValue<Option<Open>, LocalStorage> = StoredValue::new_local(None);
    // Bumped on every (re)open: a timer of an older stream does nothing.
    let generation = StoredValue::new(0u64);
    let feed = StoredValue::new_local(feed);

    /// Opens the stream at `url` (with a ticket when the session has a key), unless a newer
    /// stream was asked for meanwhile.
    fn connect<T: DeserializeOwned + 'static>(
        url: String,
        event: &'static str,
        feed: StoredValue<Rc<Feed<T>>, LocalStorage>,
        open: StoredValue<Option<Open>, LocalStorage>,
        generation: StoredValue<u64>,
    ) {
        let Some(this) = generation.try_get_value() else {
            return;
        };
        open.set_value(None);
        let status = feed.with_value(|f| f.status);
        status.set(LiveStatus::Connecting);
        let retry_later = move |url: String| {
            status.try_set(LiveStatus::Retrying);
            set_timeout(
                move || {
                    if generation.try_get_value() == Some(this) {
                        connect(url, event, feed, open, generation);
                    }
                },
                REOPEN_AFTER,
            );
        };
        leptos::task::spawn_local(async move {
            let resolved = api::stream_url(&url).await;
            if generation.try_get_value() != Some(this) {
                return;
            }
            let Some(source) = resolved
                .ok()
                .and_then(|u| web_sys::EventSource::new(&u).ok())
            else {
                retry_later(url);
                return;
            };
            let on_open = listener(move |_| {
                status.set(LiveStatus::Live);
                feed.with_value(|f| (f.on_open)());
            });
            let on_event = listener(move |e: web_sys::Event| {
                let Some(text) = e
                    .dyn_ref::<web_sys::MessageEvent>()
                    .and_then(|m| m.data().as_string())
                else {
                    return;
                };
                if let Ok(item) = serde_json::from_str::<T>(&text) {
                    feed.with_value(|f| f.push(item));
                }
            });
            let source_for_error = source.clone();
            let on_error = listener(move |_| {
                status.set(LiveStatus::Retrying);
                // CLOSED: the collector refused the stream (busy, or the ticket expired) and
                // EventSource gives up: open it again later, with a new ticket. Otherwise
                // EventSource reconnects by itself (with Last-Event-ID).
                if source_for_error.ready_state() == web_sys::EventSource::CLOSED {
                    retry_later(url.clone());
                }
            });
            source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
            source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            let _ =
                source.add_event_listener_with_callback(event, on_event.as_ref().unchecked_ref());
            open.set_value(Some(Open {
                source,
                _listeners: vec![on_open, on_event, on_error],
            }));
        });
    }

    Effect::new(move |_| {
        generation.update_value(|g| *g += 1);
        match url.get() {
            Some(url) => connect(url, event, feed, open, generation),
            None => {
                open.set_value(None);
                status.set(LiveStatus::Off);
            }
        }
    });
    on_cleanup(move || {
        generation.update_value(|g| *g += 1);
        open.try_update_value(|o| *o = None);
    });
    status
}

/// Rows that arrived while the user was reading the list: held, not shown, until they ask
/// (or stop reading).
pub struct LiveHold<T: Send + Sync + 'static> {
    pub held: RwSignal<Vec<T>>,
    /// The pointer is over the list.
    pub hovering: RwSignal<bool>,
    /// The page is scrolled down from the top.
    pub scrolled: RwSignal<bool>,
}

impl<T: Send + Sync + 'static> Clone for LiveHold<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static> Copy for LiveHold<T> {}

impl<T: Send + Sync + Clone + 'static> LiveHold<T> {
    /// Watches the page's scroll for as long as the owner lives.
    pub fn new() -> LiveHold<T> {
        let hold = LiveHold {
            held: RwSignal::new(Vec::new()),
            hovering: RwSignal::new(false),
            scrolled: RwSignal::new(false),
        };
        let scroll = window_event_listener(leptos::ev::scroll, move |_| {
            let y = window().scroll_y().unwrap_or(0.0);
            hold.scrolled.set(y > READING_SCROLL_PX);
        });
        on_cleanup(move || scroll.remove());
        hold
    }

    pub fn paused(self) -> bool {
        self.hovering.get() || self.scrolled.get()
    }

    pub fn paused_untracked(self) -> bool {
        self.hovering.get_untracked() || self.scrolled.get_untracked()
    }

    /// The held rows, taken (the caller shows them).
    pub fn take(self) -> Vec<T> {
        let mut rows = Vec::new();
        self.held.update(|held| std::mem::swap(held, &mut rows));
        rows
    }
}

/// The Live switch: a link that turns `live=1` in the page URL on or off.
#[component]
pub fn LiveSwitch(
    on: Signal<bool>,
    status: RwSignal<LiveStatus>,
    /// The same page with live on when it is off, and off when on.
    toggle_href: Signal<String>,
) -> impl IntoView {
    let title = move || {
        if on.get() {
            "Stop showing new traces as they arrive"
        } else {
            "Show new traces as they arrive, without reloading"
        }
    };
    view! {
        <a class="button live-switch" class:live-on=move || on.get() href=move || toggle_href.get()
            role="switch" aria-checked=move || on.get().to_string() title=title
            data-testid="live-switch" data-status=move || status.get().name()>
            <span class="live-dot" aria-hidden="true"></span>
            {move || if on.get() { status.get().label() } else { LiveStatus::Off.label() }}
        </a>
    }
}

/// "N new — show": what arrived while the list was held.
#[component]
pub fn LiveNotice(count: Signal<usize>, on_show: Callback<()>) -> impl IntoView {
    move || {
        let n = count.get();
        (n > 0).then(|| {
            view! {
                <button type="button" class="live-notice" data-testid="live-new"
                    on:click=move |_| on_show.run(())>
                    {format!("{n} new — show")}
                </button>
            }
        })
    }
}

/// A live list: rows from the stream at `url` come in at the top of `list` (at most
/// `max_rows`, the total counting the new ones), held while the user reads; a (re)opened
/// stream calls `reopen` (what came before it is in the first page). Returns the hold, the
/// stream's state, and "show the held rows" (scrolled to the top).
pub fn use_live_list<T>(
    list: Pager<T>,
    url: Signal<Option<String>>,
    event: &'static str,
    key: fn(&T) -> &str,
    (max_rows, max_buffered): (usize, usize),
    reopen: impl Fn() + 'static,
) -> (LiveHold<T>, RwSignal<LiveStatus>, Callback<()>)
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    let hold = LiveHold::<T>::new();
    let show = move |batch: Vec<T>| {
        let mut fresh = 0;
        list.rows
            .update(|rows| fresh = merge_newest_first(rows, batch, key, max_rows));
        if fresh > 0 {
            list.total
                .update(|total| *total = total.map(|t| t + fresh as u64));
        }
    };
    let status = use_live_stream::<T>(
        url,
        event,
        max_buffered,
        move |batch| {
            if hold.paused_untracked() {
                hold.held.update(|held| {
                    merge_newest_first(held, batch, key, max_rows);
                });
            } else {
                show(batch);
            }
        },
        reopen,
    );
    Effect::new(move |_| {
        if !hold.paused() && hold.held.with(|h| !h.is_empty()) {
            show(hold.take());
        }
    });
    let show_held = Callback::new(move |_: ()| {
        show(hold.take());
        window().scroll_to_with_x_and_y(0.0, 0.0);
    });
    (hold, status, show_held)
}
