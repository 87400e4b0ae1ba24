//! The detail panel of the selected span. Its head (name, type, service, timing) comes from
//! the skeleton at once; the rest — input, output, attributes, events, exceptions, metadata,
//! tokens, cost — from `GET /api/v1/traces/{trace_id}/spans/{span_id}`, fetched only when the
//! span is selected with the panel open (debounced while the keyboard moves through rows) and
//! kept for the visit. The panel stays mounted while closed (hidden), so opening is instant.
//! The body's code is a chunk of its own (`body_code`), loaded with the first span's fetch; the
//! panel's own (`span_detail`) is one too, loaded once the rows are painted.

mod attributes;
mod body;
mod body_code;
mod head;
pub(crate) mod io;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use leptos::either::{Either, EitherOf4};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{self as split, wasm_split, SplitLoaderError};
use skein_model::format;
use skein_model::span::Span;
use skein_model::tree::Node;

use super::state::Ex;
use crate::api::ApiError;
use crate::components::icons::CloseIcon;
use crate::components::remote::Latest;
use crate::perf;
use crate::text;

use head::{DetailHead, TimingNotes};

/// Wait this long after a selection before fetching (holding `j` fetches only where it stops).
const FETCH_DELAY: Duration = Duration::from_millis(90);

#[derive(Clone)]
enum Fetch {
    Loading,
    Ready(Arc<Span>),
    Failed(ApiError),
}

/// What the skeleton says about the selected node, known without a fetch.
#[derive(Clone, PartialEq)]
pub struct Brief {
    pub pos: usize,
    /// None for a missing-parent placeholder.
    pub span_id: Option<String>,
    pub name: String,
    pub service: String,
    pub kind: skein_model::SpanType,
    pub failed: bool,
    pub start_us: i64,
    pub duration_us: i64,
    pub self_us: i64,
    pub tokens: i64,
    pub children: usize,
    pub missing_parent: Option<String>,
}

fn brief(ex: Ex, pos: usize) -> Brief {
    let tree = ex.tree.get_value();
    let skeleton = ex.skeleton.get_value();
    let (start_us, end_us) = tree.extent_us(&skeleton, pos);
    // The start as the waterfall shows it: adjusted when that is on, read from the trace's start.
    let timing = ex.timing();
    let origin = timing.extent_us.0;
    let self_us = tree.self_time_us(&skeleton, pos);
    let children = tree.child_count(pos);
    match tree.node(pos) {
        Node::Span(i) => {
            let s = &skeleton.spans[i];
            Brief {
                pos,
                span_id: Some(s.span_id().to_string()),
                name: skeleton.name_of(s).to_string(),
                service: skeleton.service_of(s).to_string(),
                kind: s.span_type(),
                failed: s.status().is_error(),
                start_us: timing.extent_us(&skeleton, i).0 - origin,
                duration_us: s.duration_us(),
                self_us,
                tokens: s.tokens(),
                children,
                missing_parent: skeleton.orphans.get(&(i as u32)).cloned(),
            }
        }
        Node::Missing(g) => Brief {
            pos,
            span_id: None,
            name: tree.placeholders()[g].parent_id.clone(),
            service: String::new(),
            kind: skein_model::SpanType::Internal,
            failed: false,
            start_us: start_us - origin,
            duration_us: end_us - start_us,
            self_us: 0,
            tokens: 0,
            children,
            missing_parent: None,
        },
    }
}

/// The panel's code: draws the panel of the trace (`project`, `trace_id`).
type PanelCode = fn(Ex, String, String) -> AnyView;

/// The code once loaded (for the rest of the visit).
static PANEL: OnceLock<PanelCode> = OnceLock::new();

#[wasm_split(span_detail, wasm_split_path = split, fallible)]
fn panel_code() -> Result<PanelCode, SplitLoaderError> {
    Ok(|ex, project, trace_id| view! { <DetailPanel ex project trace_id/> }.into_any())
}

/// The detail panel, its code loaded after the rows' first frame (the first paint does not
/// wait for it; a click finds it there). Until it is here, an open panel says it is loading,
/// or that the code did not load: opening it again tries again.
#[component]
pub fn LazyDetailPanel(ex: Ex, project: String, trace_id: String) -> impl IntoView {
    let code = RwSignal::new(PANEL.get().copied());
    let failed = RwSignal::new(false);
    let load = move || {
        spawn_local(async move {
            match panel_code().await {
                Ok(loaded) => {
                    code.try_set(Some(*PANEL.get_or_init(|| loaded)));
                }
                Err(_) => {
                    failed.try_set(true);
                }
            }
        })
    };
    if code.get_untracked().is_none() {
        request_animation_frame(move || set_timeout(load, Duration::ZERO));
    }
    Effect::new(move |_| {
        if ex.detail_open.get() && failed.get_untracked() {
            failed.set(false);
            load();
        }
    });
    move || match code.get() {
        Some(draw) => Either::Left(draw(ex, project.clone(), trace_id.clone())),
        None => Either::Right(view! {
            <aside class="detail-panel" class:hidden=move || !ex.detail_shown()
                aria-label="Span detail" data-testid="detail-panel">
                {move || if failed.get() {
                    Either::Left(view! {
                        <div class="detail-error" role="alert">
                            <strong>"Couldn't load the span detail"</strong>
                            <span class="muted">"Is the collector running? Close and open the panel to try again."</span>
                        </div>
                    })
                } else {
                    Either::Right(view! { <BodyLoading/> })
                }}
            </aside>
        }),
    }
}

#[component]
fn DetailPanel(ex: Ex, project: String, trace_id: String) -> impl IntoView {
    let cache = StoredValue::new(HashMap::<String, Arc<Span>>::new());
    // The fetch state with a sequence number: each change is a new body (keyed, not diffed).
    let fetch = RwSignal::new((0u32, Fetch::Loading));
    let set_fetch = move |f: Fetch| {
        fetch.update(|(seq, state)| {
            *seq = seq.wrapping_add(1);
            *state = f;
        })
    };
    let pending = StoredValue::new_local(None::<TimeoutHandle>);
    let selected = Memo::new(move |_| ex.selected.get().map(|pos| brief(ex, pos)));
    let current_id =
        move || selected.with_untracked(|b| b.as_ref().and_then(|b| b.span_id.clone()));

    // Each selection is a new request: an answer for a span no longer selected is dropped.
    let latest = Latest::new();
    let start_fetch = {
        let (project, trace_id) = (project.clone(), trace_id.clone());
        move |id: String| {
            let ticket = latest.next();
            let (project, trace_id) = (project.clone(), trace_id.clone());
            let request = {
                let id = id.clone();
                move || {
                    let (project, trace_id, id) = (project.clone(), trace_id.clone(), id.clone());
                    async move {
                        perf::mark("skein:span-requested");
                        let result = body_code::fetch_span(project, trace_id, id).await;
                        perf::mark("skein:span-fetched");
                        perf::measure(
                            "skein:span-fetch",
                            "skein:span-requested",
                            "skein:span-fetched",
                        );
                        result
                    }
                }
            };
            latest.fetch(ticket, request, move |result| match result {
                Ok(span) => {
                    let span = Arc::new(span);
                    cache.update_value(|c| {
                        c.insert(id.clone(), span.clone());
                    });
                    set_fetch(Fetch::Ready(span));
                }
                Err(error) => set_fetch(Fetch::Failed(error)),
            });
        }
    };

    {
        let start_fetch = start_fetch.clone();
        Effect::new(move |_| {
            let Some(id) = selected.with(|b| b.as_ref().and_then(|b| b.span_id.clone())) else {
                return;
            };
            let open = ex.detail_open.get();
            latest.next();
            if let Some(h) = pending.try_get_value().flatten() {
                h.clear();
            }
            if let Some(span) = cache.with_value(|c| c.get(&id).cloned()) {
                set_fetch(Fetch::Ready(span));
                return;
            }
            set_fetch(Fetch::Loading);
            // Closed: nothing is fetched (the keyboard may move through many rows).
            if !open {
                return;
            }
            let start_fetch = start_fetch.clone();
            let handle = set_timeout_with_handle(move || start_fetch(id), FETCH_DELAY).ok();
            pending.try_set_value(handle);
        });
    }
    let retry = move |_| {
        if let Some(id) = current_id() {
            set_fetch(Fetch::Loading);
            start_fetch(id);
        }
    };
    let close = move |_| ex.detail_open.set(false);
    let feedback_span =
        Memo::new(move |_| selected.with(|b| b.as_ref().and_then(|b| b.span_id.clone())));
    // The rating widget comes with the body's code: it shows once a fetch has loaded that.
    let code_ready = Memo::new(move |_| {
        fetch.track();
        body_code::loaded().is_some()
    });
    let feedback = move || {
        let span_id = feedback_span.get()?;
        if !code_ready.get() {
            return None;
        }
        body_code::loaded().map(|code| (code.feedback)(span_id))
    };

    let body_item = move || {
        let b = selected.get()?;
        let (seq, state) = fetch.get();
        Some((seq, state, b))
    };
    let body = move |(_, state, b): (u32, Fetch, Brief)| {
        if b.span_id.is_none() {
            return EitherOf4::A(view! { <PlaceholderBody brief=b/> });
        }
        match state {
            Fetch::Loading => EitherOf4::B(view! { <BodyLoading/> }),
            Fetch::Failed(error) => {
                let retry = retry.clone();
                EitherOf4::C(view! {
                    <div class="detail-error" role="alert">
                        <strong>{if error.is_not_found() { "This span's details are not stored".to_string() } else { error.title() }}</strong>
                        <span class="muted">{error.detail()}</span>
                        <button type="button" class="button small" on:click=retry>"Try again"</button>
                    </div>
                })
            }
            Fetch::Ready(span) => {
                // Ready: the fetch went through the body's code, so it is loaded.
                match body_code::loaded() {
                    Some(code) => EitherOf4::D((code.render)(ex, span, b, project.clone())),
                    None => EitherOf4::B(view! { <BodyLoading/> }),
                }
            }
        }
    };

    view! {
        <aside class="detail-panel" class:hidden=move || !ex.detail_shown() aria-label="Span detail"
            data-testid="detail-panel">
            <button type="button" class="icon-button detail-close" title="Close (Esc)"
                aria-label="Close the detail panel" on:click=close>
                <CloseIcon/>
            </button>
            {move || selected.get().map(|b| view! { <DetailHead ex=ex brief=b/> })}
            {move || selected.get().map(|b| view! { <TimingNotes ex=ex pos=b.pos/> })}
            <div class="detail-body">
                {feedback}
                <For each=body_item key=|(seq, _, b): &(u32, Fetch, Brief)| (b.pos, *seq) children=body/>
            </div>
        </aside>
    }
}

#[component]
fn BodyLoading() -> impl IntoView {
    view! {
        <div class="detail-loading" aria-busy="true" aria-label="Loading the span">
            {[70, 45, 90, 60, 80, 35, 75]
                .into_iter()
                .map(|w| view! { <span class="shimmer" style=format!("width: {w}%")></span> })
                .collect_view()}
        </div>
    }
}

#[component]
fn PlaceholderBody(brief: Brief) -> impl IntoView {
    view! {
        <section class="detail-section">
            <p>
                "Span " <code>{brief.name.clone()}</code> " is named as the parent of "
                {text::plural(brief.children as u64, "span", "spans")}
                " in this trace, but it never arrived: it may have been dropped, sampled out, or be still on its way."
            </p>
            <p class="muted">"Its orphans are kept here, under this placeholder, instead of being dropped."</p>
            <dl class="kv-grid">
                <dt>"Orphans cover"</dt><dd class="num">{format::duration_ns(brief.duration_us * 1_000)}</dd>
                <dt>"From"</dt><dd class="num">{offset(brief.start_us)}</dd>
            </dl>
        </section>
    }
}

/// `+12.3 ms` after the trace's start.
pub fn offset(us: i64) -> String {
    match us {
        0 => "0 (trace start)".to_string(),
        // A placeholder's recorded time may lie before the adjusted trace's start.
        ..0 => format::signed_duration_ns(us * 1_000),
        _ => format!("+{}", format::duration_ns(us * 1_000)),
    }
}
