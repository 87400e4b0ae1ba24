//! The detail panel's head: the span's name, type, service, duration and ids, and what the
//! trace's timing says about it.

use leptos::either::Either;
use leptos::prelude::*;
use skein_model::format;
use skein_model::format::fixed;
use skein_model::timing::CallRole;

use super::super::state::Ex;
use super::Brief;
use crate::components::copy_button::CopyButton;
use crate::components::service_chip::ServiceChip;
use crate::components::span_type::{SpanTypeBadge, SpanTypeIcon};
use crate::components::status_badge::StatusBadge;

#[component]
pub fn DetailHead(ex: Ex, brief: Brief) -> impl IntoView {
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
pub struct TimingNote {
    kind: &'static str,
    text: String,
    link: Option<(usize, String)>,
}

pub fn note(kind: &'static str, text: String, link: Option<(usize, String)>) -> TimingNote {
    TimingNote { kind, text, link }
}

/// What the trace's timing says about the selected span: its clock-skew adjustment, the call
/// across services it is part of (with the network gaps), and its share of the critical path.
#[component]
pub fn TimingNotes(ex: Ex, pos: usize) -> impl IntoView {
    // The share of the critical path is told even while its highlight is off.
    Effect::new(move |_| ex.request_critical(ex.skew_on.get()));
    move || {
        let timing = ex.timing();
        let path = ex.critical_path();
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
        let shift = timing.shift_us(i);
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

        let critical = path.as_ref().map_or(0, |p| p.time_us(i));
        if let Some(path) = path.filter(|_| critical > 0) {
            notes.push(note(
                "critical",
                format!(
                    "On the critical path for {}: {}% of the trace's duration.",
                    format::duration_ns(critical * 1_000),
                    fixed(path.share(i) * 100.0, 1)
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
