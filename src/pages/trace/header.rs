//! The trace header: root name, status, duration, span count, services (the waterfall's colour
//! legend), tokens, cost, tags, and links to the trace's session and user.

use std::sync::Arc;

use leptos::prelude::*;
use skein_model::format;
use skein_model::sort;
use skein_model::TraceSkeleton;

use crate::components::add_to_queue::{AddToQueue, QueueRuns};
use crate::components::copy_button::CopyButton;
use crate::components::download_button::DownloadButton;
use crate::components::service_chip::ServiceChip;
use crate::components::span_type::SpanTypeIcon;
use crate::components::status_badge::StatusBadge;
use crate::components::tag_chip::TagChip;
use crate::links;
use crate::text;
use crate::time::{full_time, local_time, now_ms, use_clock};

#[component]
pub fn TraceHeader(
    skeleton: Arc<TraceSkeleton>,
    project: String,
    /// The whole trace as the waterfall shows it (earliest start to latest end, adjusted for
    /// clock skew when that is on), which may differ from the root's own duration.
    duration_ns: Signal<i64>,
) -> impl IntoView {
    let clock = use_clock();
    let summary = skeleton.summary.clone();
    let root = skeleton.spans.iter().find(|s| s.parent().is_none());
    let root_type = root.map(|s| s.span_type()).unwrap_or_default();
    let title = if summary.root_name.is_empty() {
        "(unnamed trace)".to_string()
    } else {
        summary.root_name.clone()
    };
    let start_ms = summary.start_ns / 1_000_000;
    let tokens = summary.total_tokens();
    let tags: Vec<(String, String)> = summary.tags.clone().into_iter().collect();
    // Services in the trace, most spans first: the legend of the waterfall's colours.
    let mut per_service = vec![0u64; skeleton.services.len()];
    for s in &skeleton.spans {
        if let Some(c) = per_service.get_mut(s.service_index()) {
            *c += 1;
        }
    }
    let mut services: Vec<(String, u64)> =
        skeleton.services.iter().cloned().zip(per_service).collect();
    sort::sort_by(&mut services, |a, b| {
        b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0))
    });
    let orphans = skeleton.orphans.len();
    let dash = |v: String, some: bool| if some { v } else { "—".to_string() };
    let root_duration = root.map(|s| format::duration_ns(s.duration_us() * 1_000));
    let duration_title = match root_duration {
        Some(d) => {
            format!("From the first span's start to the last span's end (the root span: {d})")
        }
        None => "From the first span's start to the last span's end".to_string(),
    };
    let facts: Vec<(&'static str, String, String)> = vec![
        ("Spans", text::thousands(summary.span_count), String::new()),
        (
            "Tokens",
            dash(format::count(tokens), tokens > 0),
            format!(
                "{} input + {} output",
                text::thousands(summary.input_tokens.max(0) as u64),
                text::thousands(summary.output_tokens.max(0) as u64)
            ),
        ),
        (
            "Cost",
            dash(format::cost_usd(summary.cost), summary.cost > 0.0),
            String::new(),
        ),
    ];
    let mut link_rows: Vec<(&'static str, String, String)> = Vec::new();
    if let Some(id) = &summary.session_id {
        link_rows.push(("Session", links::session(&project, id), id.clone()));
    }
    if let Some(id) = &summary.user_id {
        link_rows.push(("User", links::user(&project, id), id.clone()));
    }

    let export_url = links::api_trace_export(&project, &summary.trace_id);
    let compare_href = links::compare_pick_href(&project, &summary.trace_id, &summary.root_name);
    let export_file = format!("trace-{}.otlp.json", summary.trace_id);
    view! {
        <header class="trace-header">
            <div class="trace-title">
                <SpanTypeIcon kind=root_type/>
                <h1 title=summary.root_name.clone()>{title}</h1>
                <StatusBadge status=summary.status error_count=summary.error_count/>
                {(!summary.has_root).then(|| view! {
                    <span class="hint" title="The root span has not arrived (yet)">"no root"</span>
                })}
                <div class="trace-actions">
                    <a class="button" data-testid="compare-with" href=compare_href
                        title="Pick another trace (by default one with the same name) and compare the two span by span">"Compare with…"</a>
                    <DownloadButton label="Export" testid="trace-export"
                        url=export_url filename=export_file
                        title="The whole trace as an OTLP/JSON file: send it to any OTLP endpoint's /v1/traces to load it there"/>
                    <AddToQueue project=project.clone() runs=QueueRuns::Trace(summary.trace_id.clone())/>
                </div>
            </div>
            <dl class="trace-meta">
                <div><dt>"Duration"</dt><dd class="num" data-testid="trace-duration" title=duration_title>
                    {move || format::duration_ns(duration_ns.get())}</dd></div>
                {facts.into_iter().map(|(label, value, title)| view! {
                    <div><dt>{label}</dt><dd class="num" title=title>{value}</dd></div>
                }).collect_view()}
                <div><dt>"Started"</dt>
                    <dd title=full_time(summary.start_ns)>{local_time(summary.start_ns, now_ms())}
                        <span class="muted">" · " {move || text::relative(start_ms, clock.get())}</span></dd></div>
                {link_rows.into_iter().map(|(label, href, id)| view! {
                    <div><dt>{label}</dt><dd class="mono ellipsis"><a href=href title=id.clone()>{id.clone()}</a></dd></div>
                }).collect_view()}
                <div><dt>"Trace ID"</dt><dd class="mono id-line">{summary.trace_id.clone()}
                    <CopyButton text=summary.trace_id.clone() label="Copy trace ID"/></dd></div>
            </dl>
            <div class="trace-chips">
                <span class="filter-label">"Services"</span>
                <div class="chips legend" aria-label="Service colours">
                    {services
                        .into_iter()
                        .map(|(name, count)| {
                            let title = format!("{}: {}", if name.is_empty() { "unknown" } else { &name }, text::plural(count, "span", "spans"));
                            view! { <span class="legend-item" title=title><ServiceChip name=name/></span> }
                        })
                        .collect_view()}
                </div>
            </div>
            {(!tags.is_empty()).then(|| view! {
                <div class="trace-chips">
                    <span class="filter-label">"Tags"</span>
                    <div class="chips">
                        {tags.into_iter().map(|(k, v)| view! { <TagChip key=k value=v/> }).collect_view()}
                    </div>
                </div>
            })}
            {(orphans > 0).then(|| view! {
                <p class="orphan-note">
                    {format!(
                        "{} whose parent never arrived {} shown under a “missing parent” placeholder.",
                        text::plural(orphans as u64, "span", "spans"),
                        if orphans == 1 { "is" } else { "are" }
                    )}
                </p>
            })}
        </header>
    }
}
