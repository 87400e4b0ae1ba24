//! The detail panel's body, once the span is fetched: facts, error, input and output,
//! metadata, attributes, resource, events.

use std::sync::Arc;

use leptos::either::Either;
use leptos::prelude::*;
use serde_json::Value;
use skein_model::format;
use skein_model::span::{Span, SpanEvent};

use super::super::state::Ex;
use super::attributes::{scalar_text, AttributeTable};
use super::io::InputOutput;
use super::{offset, Brief};
use crate::components::copy_button::CopyButton;
use crate::components::span_type::SpanTypeIcon;
use crate::components::tag_chip::TagChip;
use crate::links;
use crate::text;
use crate::time::full_time;

#[component]
pub fn SpanBody(ex: Ex, span: Arc<Span>, brief: Brief, project: String) -> impl IntoView {
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
    // The parent as the skeleton knows it (name and type), when it arrived.
    let parent = span.parent_span_id.clone().map(|id| {
        let pos = ex.tree.with_value(|t| t.parent(brief.pos));
        let in_trace = brief.missing_parent.is_none() && pos.is_some();
        let known = pos.filter(|_| in_trace).and_then(|p| {
            let i = ex.tree.with_value(|t| t.span_at(p))?;
            let (name, kind, trace_id) = ex.skeleton.with_value(|sk| {
                let s = &sk.spans[i];
                (
                    sk.name_of(s).to_string(),
                    s.span_type(),
                    sk.summary.trace_id.clone(),
                )
            });
            let href =
                links::trace_span_href(&project, &trace_id, Some(&id), ex.skew_on.get_untracked());
            Some((p, name, kind, href))
        });
        (id, known)
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
    let mut link_rows: Vec<(&'static str, String, String)> = Vec::new();
    if let Some(id) = &span.session_id {
        link_rows.push(("Session", links::session(&project, id), id.clone()));
    }
    if let Some(id) = &span.user_id {
        link_rows.push(("User", links::user(&project, id), id.clone()));
    }
    for l in &span.links {
        let href = links::trace_span_href(&project, &l.trace_id, Some(&l.span_id), true);
        link_rows.push((
            "Linked span",
            href,
            format!("{} / {}", l.trace_id, l.span_id),
        ));
    }
    let labels = span.labels.clone();
    let meta_section = (!tags.is_empty() || !labels.is_empty() || !link_rows.is_empty()).then(|| {
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
                    {link_rows.into_iter().map(|(label, href, text)| view! {
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

    view! {
        <dl class="kv-grid detail-facts">
            {facts.into_iter().map(|(label, value, testid)| view! {
                <dt>{label}</dt><dd class="num" data-testid=testid>{value}</dd>
            }).collect_view()}
            {parent.map(|(id, known)| view! {
                <dt>"Parent"</dt>
                <dd class="id-line">
                    {match known {
                        Some((pos, name, kind, href)) => Either::Left(view! {
                            <a class="parent-link" href=href data-testid="detail-parent"
                                title=format!("Select the parent ({} span {id})", kind.as_str())
                                on:click=move |ev| {
                                    ev.prevent_default();
                                    ex.go_to(pos, true);
                                }>
                                <SpanTypeIcon kind=kind/>
                                <span class="parent-name">{if name.is_empty() { "(unnamed)".to_string() } else { name }}</span>
                            </a>
                        }),
                        None => Either::Right(view! {
                            <code class="mono">{id.clone()}</code>
                            <span class="hint">"never arrived"</span>
                        }),
                    }}
                    <CopyButton text=id.clone() label="Copy parent span ID"/>
                </dd>
            })}
        </dl>
        {error_section}
        <InputOutput span=span.clone()/>
        {meta_section}
        {tables}
        {events_section}
    }
}

/// A collapsible section of the panel.
pub fn section(
    title: String,
    open: bool,
    testid: &'static str,
    body: impl IntoView,
) -> impl IntoView {
    view! {
        <details class="detail-section" open=open data-testid=testid>
            <summary><h3>{title}</h3></summary>
            {body}
        </details>
    }
}

#[component]
pub fn Exception(event: SpanEvent) -> impl IntoView {
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
