//! The detail panel of the selected span. Its head (name, type, service, timing) comes from
//! the skeleton at once; the rest — input, output, attributes, events, exceptions, metadata,
//! tokens, cost — from `GET /api/v1/traces/{trace_id}/spans/{span_id}`, fetched only when the
//! span is selected with the panel open (debounced while the keyboard moves through rows) and
//! kept for the visit. The panel stays mounted while closed (hidden), so opening is instant.
//! The body's code is part of the trace page's wasm chunk: a chunk of its own cost more (another
//! module, more shared chunks, a second round trip on the first span opened) than it saved.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use leptos::either::{Either, EitherOf3, EitherOf4};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use skein_model::format;
use skein_model::format::fixed;
use skein_model::payload::{self, ChatMessage, Payload};
use skein_model::span::{Span, SpanEvent};
use skein_model::timing::CallRole;
use skein_model::tree::Node;

use super::explorer::Ex;
use super::{entity_href, perf};
use crate::api::{self, ApiError};
use crate::components::copy_button::CopyButton;
use crate::components::feedback::SpanFeedback;
use crate::components::icons::CloseIcon;
use crate::components::json_view::JsonView;
use crate::components::service_chip::ServiceChip;
use crate::components::span_type::{SpanTypeBadge, SpanTypeIcon};
use crate::components::status_badge::StatusBadge;
use crate::components::tag_chip::TagChip;
use crate::text;
use crate::time::full_time;

/// Wait this long after a selection before fetching (holding `j` fetches only where it stops).
const FETCH_DELAY: Duration = Duration::from_millis(90);
/// Characters of a long text shown before "show all".
const FIRST_CHARS: usize = 4_000;

#[derive(Clone)]
enum Fetch {
    Loading,
    Ready(Arc<Span>),
    Failed(ApiError),
}

/// What the skeleton says about the selected node, known without a fetch.
#[derive(Clone, PartialEq)]
struct Brief {
    pos: usize,
    /// None for a missing-parent placeholder.
    span_id: Option<String>,
    name: String,
    service: String,
    kind: skein_model::SpanType,
    failed: bool,
    start_us: i64,
    duration_us: i64,
    self_us: i64,
    tokens: i64,
    children: usize,
    missing_parent: Option<String>,
}

fn brief(ex: Ex, pos: usize) -> Brief {
    let tree = ex.tree.get_value();
    let skeleton = ex.skeleton.get_value();
    let (start_us, end_us) = tree.extent_us(&skeleton, pos);
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
                start_us,
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
            start_us,
            duration_us: end_us - start_us,
            self_us: 0,
            tokens: 0,
            children,
            missing_parent: None,
        },
    }
}

#[component]
pub fn DetailPanel(ex: Ex, project: String, trace_id: String) -> impl IntoView {
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

    let start_fetch = {
        let (project, trace_id) = (project.clone(), trace_id.clone());
        move |id: String| {
            let (project, trace_id) = (project.clone(), trace_id.clone());
            spawn_local(async move {
                perf::mark("skein:span-requested");
                let result = api::span(&project, &trace_id, &id).await;
                perf::mark("skein:span-fetched");
                perf::measure(
                    "skein:span-fetch",
                    "skein:span-requested",
                    "skein:span-fetched",
                );
                if selected
                    .try_with_untracked(|b| b.as_ref().and_then(|b| b.span_id.clone()))
                    .flatten()
                    .as_deref()
                    != Some(id.as_str())
                {
                    return; // another span is selected by now
                }
                match result {
                    Ok(span) => {
                        let span = Arc::new(span);
                        cache.update_value(|c| {
                            c.insert(id, span.clone());
                        });
                        set_fetch(Fetch::Ready(span));
                    }
                    Err(error) => set_fetch(Fetch::Failed(error)),
                }
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
                EitherOf4::D(view! { <SpanBody ex=ex span=span brief=b project=project.clone()/> })
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
                {move || feedback_span.get().map(|id| view! { <SpanFeedback span_id=id/> })}
                <For each=body_item key=|(seq, _, b): &(u32, Fetch, Brief)| (b.pos, *seq) children=body/>
            </div>
        </aside>
    }
}

#[component]
fn DetailHead(ex: Ex, brief: Brief) -> impl IntoView {
    let Brief {
        span_id,
        name,
        service,
        kind,
        failed,
        duration_us,
        ..
    } = brief.clone();
    let Some(span_id) = span_id else {
        return Either::Left(view! {
            <div class="detail-head">
                <div class="detail-title">
                    <span class="missing-icon" aria-hidden="true">"?"</span>
                    <h2>"Missing parent span"</h2>
                </div>
            </div>
        });
    };
    let trace_id = ex.skeleton.with_value(|sk| sk.summary.trace_id.clone());
    let label = if name.is_empty() {
        "(unnamed)".to_string()
    } else {
        name.clone()
    };
    Either::Right(view! {
        <div class="detail-head">
            <div class="detail-title">
                <SpanTypeIcon kind=kind/>
                <h2 title=name.clone()>{label}</h2>
            </div>
            <div class="detail-sub">
                <SpanTypeBadge kind=kind/>
                <ServiceChip name=service/>
                {failed.then(|| view! { <StatusBadge status=skein_model::SpanStatus::Error/> })}
                <span class="num detail-duration">{format::duration_ns(duration_us * 1_000)}</span>
            </div>
            <div class="detail-ids">
                <span class="id-line"><span class="muted">"Span "</span><code data-testid="detail-span-id">{span_id.clone()}</code>
                    <CopyButton text=span_id label="Copy span ID"/></span>
                <span class="id-line"><span class="muted">"Trace "</span><code>{trace_id.clone()}</code>
                    <CopyButton text=trace_id label="Copy trace ID"/></span>
            </div>
        </div>
    })
}

/// One line of `TimingNotes`: its kind (a CSS class), text, and a span it links to.
struct TimingNote {
    kind: &'static str,
    text: String,
    link: Option<(usize, String)>,
}

fn note(kind: &'static str, text: String, link: Option<(usize, String)>) -> TimingNote {
    TimingNote { kind, text, link }
}

/// What the trace's timing says about the selected span: its clock-skew adjustment, the call
/// across services it is part of (with the network gaps), and its share of the critical path.
#[component]
fn TimingNotes(ex: Ex, pos: usize) -> impl IntoView {
    move || {
        let timing = ex.timing();
        let skeleton = ex.skeleton.get_value();
        let i = ex.tree.with_value(|t| t.span_at(pos))?;
        let service_of = |j: usize| {
            let name = skeleton.service_of(&skeleton.spans[j]);
            if name.is_empty() {
                "an unknown service".to_string()
            } else {
                name.to_string()
            }
        };
        let mut notes: Vec<TimingNote> = Vec::new();

        let own = timing.own_adjustment_us(&skeleton, i);
        let shift = timing.shift_us.get(i).copied().unwrap_or(0);
        if own != 0 {
            notes.push(note(
                "skew",
                format!(
                    "Adjusted {} for clock skew: the clock of {} disagrees with its caller's, so the span was moved inside the span that called it.",
                    format::signed_duration_ns(own * 1_000),
                    service_of(i)
                ),
                None,
            ));
        } else if shift != 0 {
            notes.push(note(
                "skew",
                format!(
                    "Moved {} with its caller, whose clock was adjusted for skew.",
                    format::signed_duration_ns(shift * 1_000)
                ),
                None,
            ));
        } else if !timing.skew_adjusted {
            let would = ex.timing_for(true).own_adjustment_us(&skeleton, i);
            if would != 0 {
                notes.push(note(
                    "skew off",
                    format!(
                        "Shown as recorded: the clock-skew adjustment (off) would move it {}.",
                        format::signed_duration_ns(would * 1_000)
                    ),
                    None,
                ));
            }
        }

        let gap_text = |gap: skein_model::timing::NetworkGap| {
            format!(
                "request {}, response {} over the network",
                format::signed_duration_ns(gap.request * 1_000),
                format::signed_duration_ns(gap.response * 1_000)
            )
        };
        match timing.call_role(i) {
            CallRole::Server { client, gap } => notes.push(note(
                "call",
                format!("Called from {}: {}.", service_of(client), gap_text(gap)),
                Some((
                    client,
                    skeleton.name_of(&skeleton.spans[client]).to_string(),
                )),
            )),
            CallRole::Client { server } => {
                if let CallRole::Server { gap, .. } = timing.call_role(server) {
                    notes.push(note(
                        "call",
                        format!("Calls {}: {}.", service_of(server), gap_text(gap)),
                        Some((
                            server,
                            skeleton.name_of(&skeleton.spans[server]).to_string(),
                        )),
                    ));
                }
            }
            CallRole::None => {}
        }

        let critical = timing.critical_us.get(i).copied().unwrap_or(0);
        if critical > 0 {
            notes.push(note(
                "critical",
                format!(
                    "On the critical path for {}: {}% of the trace's duration.",
                    format::duration_ns(critical * 1_000),
                    fixed(timing.critical_share(i) * 100.0, 1)
                ),
                None,
            ));
        }
        (!notes.is_empty()).then(|| {
            view! {
                <ul class="timing-notes" data-testid="timing-notes">
                    {notes
                        .into_iter()
                        .map(|TimingNote { kind, text, link }| {
                            let link = link.map(|(j, name)| {
                                let go = move |_| {
                                    if let Some(p) = ex.tree.with_value(|t| t.position_of(j)) {
                                        ex.go_to(p, true);
                                    }
                                };
                                let label = if name.is_empty() { "(unnamed)".to_string() } else { name };
                                view! { <button type="button" class="link-button" on:click=go>{label}</button> }
                            });
                            view! {
                                <li class=format!("timing-note note-{}", kind.replace(' ', "-"))>
                                    <span class="note-dot" aria-hidden="true"></span>
                                    <span>{text}" "{link}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
        })
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
fn offset(us: i64) -> String {
    if us == 0 {
        "0 (trace start)".to_string()
    } else {
        format!("+{}", format::duration_ns(us * 1_000))
    }
}

#[component]
fn SpanBody(ex: Ex, span: Arc<Span>, brief: Brief, project: String) -> impl IntoView {
    let exceptions: Vec<SpanEvent> = span
        .events
        .iter()
        .filter(|e| e.name == "exception")
        .cloned()
        .collect();
    let events: Vec<SpanEvent> = span
        .events
        .iter()
        .filter(|e| e.name != "exception")
        .cloned()
        .collect();
    let parent = span.parent_span_id.clone().map(|id| {
        let pos = ex.tree.with_value(|t| t.parent(brief.pos));
        let in_trace = brief.missing_parent.is_none() && pos.is_some();
        (id, pos.filter(|_| in_trace))
    });
    let tokens = span.total_tokens();
    let attributes: Vec<(String, Value)> = span
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let resource: Vec<(String, Value)> = span
        .resource
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let tags: Vec<(String, String)> = span.tags.clone().into_iter().collect();
    let span_start = span.start_ns;

    // Facts as data, drawn by one loop.
    let mut facts: Vec<(&'static str, String, Option<&'static str>)> = vec![
        ("Start", offset(brief.start_us), None),
        ("Duration", format::duration_ns(span.duration_ns()), None),
        (
            "Self time",
            if brief.children > 0 {
                format!(
                    "{} · {}",
                    format::duration_ns(brief.self_us * 1_000),
                    text::plural(brief.children as u64, "child", "children")
                )
            } else {
                format::duration_ns(brief.self_us * 1_000)
            },
            None,
        ),
    ];
    if let Some(m) = &span.model {
        facts.push(("Model", m.clone(), None));
    }
    if let Some(t) = tokens {
        facts.push((
            "Tokens",
            format!(
                "{} ({} in · {} out)",
                text::thousands(t.max(0) as u64),
                text::thousands(span.input_tokens.unwrap_or(0).max(0) as u64),
                text::thousands(span.output_tokens.unwrap_or(0).max(0) as u64)
            ),
            Some("detail-tokens"),
        ));
    }
    if let Some(c) = span.cost {
        facts.push(("Cost", format::cost_usd(c), None));
    }
    facts.push(("Kind", span.kind.as_str().to_string(), None));
    facts.push(("Started at", full_time(span.start_ns), None));

    let error_section = (span.status.is_error() || !exceptions.is_empty()).then(|| {
        view! {
            <section class="detail-section error-section">
                <h3>"Error"</h3>
                {span.status_message.clone().map(|m| view! { <p class="status-message">{m}</p> })}
                {exceptions.into_iter().map(|e| view! { <Exception event=e/> }).collect_view()}
            </section>
        }
    });
    let mut links: Vec<(&'static str, String, String)> = Vec::new();
    if let Some(id) = &span.session_id {
        links.push(("Session", entity_href("sessions", &project, id), id.clone()));
    }
    if let Some(id) = &span.user_id {
        links.push(("User", entity_href("users", &project, id), id.clone()));
    }
    for l in &span.links {
        let href = format!(
            "{}?span={}",
            crate::links::trace_href(&project, &l.trace_id),
            skein_model::query::percent_encode(&l.span_id)
        );
        links.push((
            "Linked span",
            href,
            format!("{} / {}", l.trace_id, l.span_id),
        ));
    }
    let labels = span.labels.clone();
    let meta_section = (!tags.is_empty() || !labels.is_empty() || !links.is_empty()).then(|| {
        section(
            "Metadata".to_string(),
            true,
            "detail-metadata",
            view! {
                <div class="chips wrap">
                    {tags.into_iter().map(|(k, v)| view! { <TagChip key=k value=v/> }).collect_view()}
                    {labels.into_iter().map(|l| view! { <span class="label-chip">{l}</span> }).collect_view()}
                </div>
                <dl class="kv-grid">
                    {links.into_iter().map(|(label, href, text)| view! {
                        <dt>{label}</dt><dd class="mono"><a href=href>{text}</a></dd>
                    }).collect_view()}
                </dl>
            },
        )
    });
    let event_count = events.len();
    let events_section = (!events.is_empty()).then(|| {
        section(
            format!("Events ({event_count})"),
            true,
            "detail-events",
            view! {
                <ol class="events">
                    {events.into_iter().map(|e| {
                        let at = format!("+{}", format::duration_ns(e.time_ns - span_start));
                        let attrs: Vec<(String, Value)> = e.attributes.into_iter().collect();
                        view! {
                            <li class="event">
                                <div class="event-head"><span class="num muted">{at}</span><strong>{e.name}</strong></div>
                                {(!attrs.is_empty()).then(|| view! { <AttributeTable entries=attrs/> })}
                            </li>
                        }
                    }).collect_view()}
                </ol>
            },
        )
    });
    // Attribute tables: the span's own, then the resource's (closed).
    let tables = [
        (
            format!("Attributes ({})", attributes.len()),
            true,
            "detail-attributes",
            attributes,
        ),
        (
            format!("Resource ({})", resource.len()),
            false,
            "detail-resource",
            resource,
        ),
    ]
    .into_iter()
    .filter(|t| t.1 || !t.3.is_empty())
    .map(|(title, open, testid, entries)| {
        section(
            title,
            open,
            testid,
            view! { <AttributeTable entries=entries/> },
        )
    })
    .collect_view();
    let payloads = [
        ("Input", span.input.clone(), "detail-input"),
        ("Output", span.output.clone(), "detail-output"),
    ]
    .into_iter()
    .map(|(title, text, testid)| {
        section(
            title.to_string(),
            true,
            testid,
            view! { <PayloadView text=text/> },
        )
    })
    .collect_view();

    view! {
        <dl class="kv-grid detail-facts">
            {facts.into_iter().map(|(label, value, testid)| view! {
                <dt>{label}</dt><dd class="num" data-testid=testid>{value}</dd>
            }).collect_view()}
            {parent.map(|(id, pos)| view! {
                <dt>"Parent"</dt>
                <dd class="id-line">
                    <button type="button" class="link-button mono" title="Select the parent"
                        disabled=pos.is_none() on:click=move |_| if let Some(p) = pos { ex.go_to(p, true) }>{id.clone()}</button>
                    {pos.is_none().then(|| view! { <span class="hint">"never arrived"</span> })}
                    <CopyButton text=id.clone() label="Copy parent span ID"/>
                </dd>
            })}
        </dl>
        {error_section}
        {payloads}
        {meta_section}
        {tables}
        {events_section}
    }
}

/// A collapsible section of the panel.
fn section(title: String, open: bool, testid: &'static str, body: impl IntoView) -> impl IntoView {
    view! {
        <details class="detail-section" open=open data-testid=testid>
            <summary><h3>{title}</h3></summary>
            {body}
        </details>
    }
}

#[component]
fn Exception(event: SpanEvent) -> impl IntoView {
    let get = |k: &str| event.attributes.get(k).map(scalar_text).unwrap_or_default();
    let kind = get("exception.type");
    let message = get("exception.message");
    let stack = get("exception.stacktrace");
    view! {
        <div class="exception">
            <div class="exception-title">
                <strong>{if kind.is_empty() { "Exception".to_string() } else { kind }}</strong>
                {(!message.is_empty()).then(|| view! { <span>{format!(": {message}")}</span> })}
            </div>
            {(!stack.is_empty()).then(|| view! {
                <details class="stack" open=true>
                    <summary>"Stack trace"</summary>
                    <pre class="stacktrace">{stack}</pre>
                </details>
            })}
        </div>
    }
}

/// Attribute `key → value` rows: text wraps, JSON (objects, arrays, JSON in a string) folds.
#[component]
fn AttributeTable(entries: Vec<(String, Value)>) -> impl IntoView {
    if entries.is_empty() {
        return Either::Left(view! { <p class="muted empty-note">"None."</p> });
    }
    Either::Right(view! {
        <table class="attr-table">
            <tbody>
                {entries
                    .into_iter()
                    .map(|(k, v)| {
                        let json = match &v {
                            Value::String(s) if s.trim_start().starts_with(['{', '[']) => {
                                serde_json::from_str::<Value>(s).ok()
                            }
                            Value::Object(_) | Value::Array(_) => Some(v.clone()),
                            _ => None,
                        };
                        let value = match json {
                            Some(j) => Either::Left(view! { <JsonView value=j open_depth=0/> }),
                            None => {
                                Either::Right(view! { <LongText text=scalar_text(&v)/> })
                            }
                        };
                        view! {
                            <tr>
                                <th scope="row" class="mono" title=k.clone()>{k.clone()}</th>
                                <td>{value}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    })
}

/// A JSON scalar as text (strings unquoted); containers are shown by `JsonView` instead.
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        Value::Array(a) => format!("[{} items]", a.len()),
        Value::Object(o) => format!("{{{} keys}}", o.len()),
    }
}

/// Text that wraps, its start only when very long.
#[component]
fn LongText(text: String) -> impl IntoView {
    let total = text.chars().count();
    if total <= FIRST_CHARS {
        return Either::Left(view! { <span class="long-text">{text}</span> });
    }
    let all = RwSignal::new(false);
    let head: String = text.chars().take(FIRST_CHARS).collect();
    Either::Right(view! {
        <span class="long-text">{move || if all.get() { text.clone() } else { format!("{head}…") }}</span>
        {move || (!all.get()).then(|| view! {
            <button type="button" class="link-button" on:click=move |_| all.set(true)>
                {format!("Show all {} characters", text::thousands(total as u64))}
            </button>
        })}
    })
}

/// A span's input or output: a conversation, collapsible JSON, or wrapped text; with the raw
/// text a click away and a copy button.
#[component]
fn PayloadView(text: Option<String>) -> impl IntoView {
    let Some(text) = text else {
        return Either::Left(view! { <p class="muted empty-note">"Not recorded."</p> });
    };
    let raw = RwSignal::new(false);
    let parsed = payload::read(&text);
    let structured = !matches!(parsed, Payload::Text(_));
    // Raw is the text as recorded (what Copy copies, too).
    let pretty = text.clone();
    let kind = match &parsed {
        Payload::Chat(m) => text::plural(m.len() as u64, "message", "messages"),
        Payload::Json(_) => "JSON".to_string(),
        Payload::Text(t) => text::plural(t.chars().count() as u64, "character", "characters"),
    };
    // The formatted view is drawn once; the raw text only when asked for.
    let formatted = match parsed {
        Payload::Chat(messages) => EitherOf3::A(view! { <ChatView messages=messages/> }),
        Payload::Json(v) => EitherOf3::B(view! { <JsonView value=v/> }),
        Payload::Text(t) => {
            EitherOf3::C(view! { <div class="payload-text"><LongText text=t/></div> })
        }
    };
    let pretty_view = pretty.clone();
    Either::Right(view! {
        <div class="payload" class:show-raw=move || raw.get()>
            <div class="payload-tools">
                <span class="muted">{kind}</span>
                {structured.then(|| view! {
                    <button type="button" class="link-button" on:click=move |_| raw.update(|r| *r = !*r)>
                        {move || if raw.get() { "Formatted" } else { "Raw" }}
                    </button>
                })}
                <CopyButton text=pretty label="Copy"/>
            </div>
            <div class="payload-formatted">{formatted}</div>
            {move || raw.get().then(|| view! { <pre class="payload-raw">{pretty_view.clone()}</pre> })}
        </div>
    })
}

#[component]
fn ChatView(messages: Vec<ChatMessage>) -> impl IntoView {
    view! {
        <ol class="chat">
            {messages
                .into_iter()
                .map(|m| {
                    // Only known roles become class names; any other text stays text.
                    let role_class = match m.role.as_str() {
                        "system" | "developer" => "msg role-system",
                        "user" => "msg role-user",
                        "assistant" => "msg role-assistant",
                        "tool" | "function" => "msg role-tool",
                        _ => "msg role-other",
                    };
                    view! {
                        <li class=role_class>
                            <div class="msg-role">
                                {m.role.clone()}
                                {m.name.clone().map(|n| view! { <span class="msg-name">{n}</span> })}
                            </div>
                            {(!m.text.is_empty()).then(|| view! { <div class="msg-text"><LongText text=m.text.clone()/></div> })}
                            {m.extra
                                .into_iter()
                                .map(|v| view! { <div class="msg-extra"><JsonView value=v open_depth=1/></div> })
                                .collect_view()}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}
