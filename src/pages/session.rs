//! `/sessions/:session_id`: one session: its figures, its requests in order on one timeline
//! (each opens its trace), and the conversation, each turn's input and output as chat
//! bubbles. Inputs and outputs are untrusted text: rendered as text nodes only.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_params_map};
use skein_model::format;
use skein_model::format::fixed;
use skein_model::sessions::{timeline_ticks, SessionDetail, SessionRequest, TurnText};

use crate::api;
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::components::icons::ArrowLeftIcon;
use crate::components::remote::{Loader, Remote};
use crate::components::session_table::{cost_text, feedback_means, tokens_text};
use crate::components::status_badge::StatusBadge;
use crate::time::{full_time, local_time, use_clock};
use crate::{links, text};

/// Ticks on the timeline's ruler at most.
const MAX_TICKS: usize = 6;

#[component]
pub fn SessionPage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let session_id = Memo::new(move |_| params.read().get("session_id").unwrap_or_default());
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let loader = Loader::<SessionDetail>::new();
    Effect::new(move |_| {
        let (project, id) = (project.get(), session_id.get());
        loader.load(false, move || {
            let (project, id) = (project.clone(), id.clone());
            async move { api::session(&project, &id).await }
        });
    });

    let back = move || links::sessions(&project.get());
    let body = move || match loader.state.get() {
        Remote::Loading => view! { <SessionSkeleton/> }.into_any(),
        Remote::Failed(error) if error.is_not_found() => {
            let id = session_id.get();
            view! {
                <EmptyState title="No such session">
                    <p>"There is no session "<code>{id}</code>" in this project. It may belong to another project (see the switcher above)."</p>
                    <p><a href=back()>"All sessions"</a></p>
                </EmptyState>
            }
            .into_any()
        }
        Remote::Failed(error) => {
            let retrying = error.is_transient();
            view! {
                <ErrorBanner title=error.title() detail=error.detail() retrying=retrying/>
                {retrying.then(|| view! { <SessionSkeleton/> })}
            }
            .into_any()
        }
        Remote::Ready(detail) => view! { <SessionView detail=detail project=project/> }.into_any(),
    };

    view! {
        <div class="page session-page">
            <a class="back-link" href=back><ArrowLeftIcon/>"Sessions"</a>
            {body}
        </div>
    }
}

#[component]
fn SessionSkeleton() -> impl IntoView {
    view! {
        <div class="entity-header" aria-busy="true">
            <span class="shimmer" style="width: 240px; height: 16px"></span>
            <span class="shimmer" style="width: 70%"></span>
        </div>
        <div class="panel">
            {(0..5).map(|i| view! {
                <div class="req-row skeleton-line"><span class="shimmer" style=format!("width: {}%", 40 + i * 11)></span></div>
            }).collect_view()}
        </div>
    }
}

#[component]
fn SessionView(detail: SessionDetail, project: Memo<String>) -> impl IntoView {
    let clock = use_clock();
    let project_name = project.get_untracked();
    let summary = detail.summary.clone();
    let s = summary.stats.clone();
    let user = match summary.user_id.clone() {
        Some(u) => {
            let href = links::user(&project_name, &u);
            view! { <a class="user-link" href=href title=u.clone()>{u.clone()}</a> }.into_any()
        }
        None => view! { <span class="muted">"—"</span> }.into_any(),
    };
    let (tokens, tokens_title) = tokens_text(&s);
    let first = local_time(s.first_start_ns, clock.get_untracked());
    let last_ms = s.last_start_ns / 1_000_000;
    let ago = move || text::relative(last_ms, clock.get());
    let feedback = feedback_means(&s);
    let sequenced = detail.requests.iter().all(|r| r.sequence.is_some());
    let order_note = if sequenced {
        "in request_sequence order"
    } else {
        "in start-time order"
    };
    let truncated = detail.truncated;
    let status = if s.error_count > 0 {
        skein_model::SpanStatus::Error
    } else {
        skein_model::SpanStatus::Ok
    };

    view! {
        <header class="entity-header">
            <div class="entity-title">
                <span class="entity-kind">"Session"</span>
                <h1 title=summary.session_id.clone()>{summary.session_id.clone()}</h1>
                <StatusBadge status=status error_count=s.error_count/>
            </div>
            <dl class="entity-meta">
                <div><dt>"User"</dt><dd>{user}</dd></div>
                <div><dt>"Requests"</dt><dd class="num" data-testid="request-count">{text::thousands(s.request_count)}</dd></div>
                <div><dt>"Started"</dt><dd title=full_time(s.first_start_ns)>{first}</dd></div>
                <div><dt>"Last request"</dt><dd title=full_time(s.last_start_ns)>{ago}</dd></div>
                <div><dt>"Elapsed"</dt><dd class="num" title="From the first request's start to the last one's end">{format::duration_ns(s.elapsed_ns())}</dd></div>
                <div><dt>"Total time"</dt><dd class="num" title="Sum of the requests' durations">{format::duration_ns(s.total_duration_ns)}</dd></div>
                <div><dt>"Tokens"</dt><dd class="num" title=tokens_title>{tokens}</dd></div>
                <div><dt>"Cost"</dt><dd class="num">{cost_text(s.cost)}</dd></div>
                <div><dt>"Failed requests"</dt><dd class="num">{text::thousands(s.error_count)}</dd></div>
                {feedback}
            </dl>
        </header>
        {truncated.then(|| view! {
            <p class="cap-note">{format!("This session has more than {} requests; the first {} are shown.", SessionDetail::MAX_REQUESTS, SessionDetail::MAX_REQUESTS)}</p>
        })}
        <div class="session-grid">
            <section class="panel requests-panel" aria-label="Requests">
                <div class="panel-head">
                    <h2>"Requests"</h2>
                    <span class="muted">{order_note}</span>
                </div>
                <Timeline detail=detail.clone() project=project/>
            </section>
            <section class="panel conversation-panel" aria-label="Conversation">
                <div class="panel-head">
                    <h2>"Conversation"</h2>
                    <span class="muted">"each request's input and output"</span>
                </div>
                <Conversation requests=detail.requests.clone() project=project/>
            </section>
        </div>
    }
}

/// The requests in order, each on a row with its bar on the session's time axis.
#[component]
fn Timeline(detail: SessionDetail, project: Memo<String>) -> impl IntoView {
    let clock = use_clock();
    let origin = detail.summary.stats.first_start_ns;
    let span = (detail.summary.stats.last_end_ns - origin).max(1);
    let ticks = timeline_ticks(span, MAX_TICKS);
    let project_name = project.get_untracked();
    let rows = detail
        .requests
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let t = &r.trace;
            let href = links::trace_href(&project_name, &t.trace_id);
            let left = (t.start_ns - origin) as f64 / span as f64 * 100.0;
            let width = t.duration_ns() as f64 / span as f64 * 100.0;
            let bar_style = format!("left: {}%; width: {}%", fixed(left, 3), fixed(width, 3));
            let failed = t.error_count > 0 || t.status.is_error();
            let number = r.sequence.map_or_else(|| format!("{}", i + 1), |s| s.to_string());
            let offset = skein_model::sessions::offset_label((t.start_ns - origin) / 1_000_000_000);
            let started = local_time(t.start_ns, clock.get_untracked());
            let name = if t.root_name.is_empty() {
                "(unnamed)".to_string()
            } else {
                t.root_name.clone()
            };
            let bar_title = format!(
                "{name}: {} at {offset}",
                format::duration_ns(t.duration_ns())
            );
            let tokens = t.total_tokens();
            view! {
                <div class="req-row" class:row-error=failed data-trace-id=t.trace_id.clone()>
                    <span class="req-seq num" title="request_sequence">{number}</span>
                    <span class="req-name">
                        <a class="req-link" href=href title=t.root_name.clone()>{name}</a>
                    </span>
                    <span class="req-time" title=full_time(t.start_ns)>
                        <span class="time-main">{started}</span>
                        <span class="time-ago">{offset}</span>
                    </span>
                    <span class="req-dur num">{format::duration_ns(t.duration_ns())}</span>
                    <span class="req-tokens num">{if tokens > 0 { format::count(tokens) } else { "—".into() }}</span>
                    <span class="req-status"><StatusBadge status=t.status error_count=t.error_count/></span>
                    <span class="req-bar"><span class="track"><span class="bar" class:bar-error=failed style=bar_style title=bar_title></span></span></span>
                </div>
            }
        })
        .collect_view();
    view! {
        <div class="timeline" data-testid="session-timeline">
            <div class="req-row req-head">
                <span class="req-seq">"#"</span>
                <span class="req-name">"Request"</span>
                <span class="req-time">"Started"</span>
                <span class="req-dur">"Duration"</span>
                <span class="req-tokens">"Tokens"</span>
                <span class="req-status">"Status"</span>
                <span class="req-bar">
                    <span class="track ruler">
                        {ticks.into_iter().map(|tk| {
                            let style = format!("left: {}%", fixed(tk.frac * 100.0, 3));
                            view! { <span class="tick" style=style>{tk.label}</span> }
                        }).collect_view()}
                    </span>
                </span>
            </div>
            {rows}
        </div>
    }
}

/// Each request as a turn: the input as the user's bubble, the output as the reply.
#[component]
fn Conversation(requests: Vec<SessionRequest>, project: Memo<String>) -> impl IntoView {
    let project_name = project.get_untracked();
    let any_text = requests
        .iter()
        .any(|r| r.input.is_some() || r.output.is_some());
    if !any_text {
        return view! {
            <p class="conversation-empty muted">
                "No request in this session recorded an input or output on its root span ("
                <code>"input.value"</code>", "<code>"gen_ai.input.messages"</code>", LangSmith "
                <code>"inputs"</code>"…)."
            </p>
        }
        .into_any();
    }
    requests
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let href = links::trace_href(&project_name, &r.trace.trace_id);
            let number = r
                .sequence
                .map_or_else(|| format!("{}", i + 1), |s| s.to_string());
            let failed = r.trace.error_count > 0 || r.trace.status.is_error();
            let name = r.trace.root_name.clone();
            let empty = r.input.is_none() && r.output.is_none();
            view! {
                <div class="turn" data-trace-id=r.trace.trace_id.clone()>
                    <div class="turn-head">
                        <span class="turn-number">{format!("#{number}")}</span>
                        <a href=href title="Open the trace">{name}</a>
                        {failed.then(|| view! { <span class="status status-error"><span class="status-dot"></span>"error"</span> })}
                    </div>
                    {r.input.map(|t| view! { <Bubble text=t user=true/> })}
                    {r.output.map(|t| view! { <Bubble text=t user=false/> })}
                    {empty.then(|| view! { <p class="turn-none muted">"No input or output recorded."</p> })}
                </div>
            }
        })
        .collect_view()
        .into_any()
}

#[component]
fn Bubble(text: TurnText, user: bool) -> impl IntoView {
    let role = text
        .role
        .clone()
        .unwrap_or_else(|| if user { "input" } else { "output" }.to_string());
    view! {
        <div class="bubble" class:bubble-user=user class:bubble-reply=!user>
            <span class="bubble-role">{role}</span>
            <p class="bubble-text">{text.text}</p>
            {text.truncated.then(|| view! { <span class="bubble-cut muted">"(cut; the full text is on the trace)"</span> })}
        </div>
    }
}
