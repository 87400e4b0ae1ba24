//! A run's trace as a compact tree beside its conversation (the review pages): every span
//! indented under its parent with its type, name and duration, the one under review marked,
//! each a link to that span on the trace page. Only the first `SHOWN` rows are drawn; the
//! trace page has the rest.

use leptos::prelude::*;
use leptos::task::spawn_local;
use skein_model::format::duration_ns;
use skein_model::tree::{Node, TraceTree};
use skein_model::TraceSkeleton;

use crate::api::{self, ApiError};
use crate::components::span_type::SpanTypeBadge;
use crate::links;

/// Rows drawn at most: a review needs the shape of the run, not every span of a huge one.
const SHOWN: usize = 60;

/// One drawn row.
struct Row {
    depth: usize,
    span_id: Option<String>,
    name: String,
    kind: skein_model::SpanType,
    duration_ns: i64,
    failed: bool,
}

fn rows_of(skeleton: &TraceSkeleton) -> (Vec<Row>, usize) {
    let tree = TraceTree::build(skeleton);
    let rows = (0..tree.len().min(SHOWN))
        .map(|pos| match tree.node(pos) {
            Node::Span(i) => {
                let span = &skeleton.spans[i];
                Row {
                    depth: tree.depth(pos),
                    span_id: Some(span.span_id().to_string()),
                    name: skeleton.name_of(span).to_string(),
                    kind: span.span_type(),
                    duration_ns: span.duration_us().saturating_mul(1_000),
                    failed: span.status().is_error(),
                }
            }
            Node::Missing(_) => Row {
                depth: tree.depth(pos),
                span_id: None,
                name: "(a parent span that never arrived)".into(),
                kind: skein_model::SpanType::Internal,
                duration_ns: 0,
                failed: false,
            },
        })
        .collect();
    (rows, tree.len())
}

/// The trace `trace_id` as a compact tree, `marked` (a span id) highlighted.
#[component]
pub fn CompactTree(project: String, trace_id: String, marked: Option<String>) -> impl IntoView {
    let loaded = RwSignal::new(None::<Result<TraceSkeleton, ApiError>>);
    {
        let (project, trace_id) = (project.clone(), trace_id.clone());
        spawn_local(async move {
            loaded.try_set(Some(api::trace(&project, &trace_id).await));
        });
    }
    move || match loaded.get() {
        None => view! { <p class="muted compact-tree-note">"Loading the tree…"</p> }.into_any(),
        Some(Err(e)) => {
            view! { <p class="muted compact-tree-note">{format!("No tree: {}", e.detail())}</p> }
                .into_any()
        }
        Some(Ok(skeleton)) => {
            let (rows, total) = rows_of(&skeleton);
            // The run's root is marked when the item is a whole trace.
            let marked = marked
                .clone()
                .or_else(|| rows.first().and_then(|r| r.span_id.clone()));
            let items = rows
                .into_iter()
                .map(|row| {
                    let is_marked = row.span_id.is_some() && row.span_id == marked;
                    let href = row.span_id.as_deref().map(|s| {
                        links::trace_span_href(&project, &trace_id, Some(s), true)
                    });
                    view! {
                        <li class="compact-tree-row" class:marked=is_marked class:failed=row.failed
                            style=format!("padding-left: {}rem", row.depth as f64 * 0.9)>
                            <SpanTypeBadge kind=row.kind/>
                            <a class="compact-tree-name" href=href title=row.name.clone()>{row.name.clone()}</a>
                            <span class="compact-tree-duration">{duration_ns(row.duration_ns)}</span>
                        </li>
                    }
                })
                .collect_view();
            let more = (total > SHOWN).then(|| {
                let href = links::trace_href(&project, &trace_id);
                view! {
                    <p class="muted compact-tree-note">
                        {format!("{} more spans · ", total - SHOWN)}
                        <a href=href>"open the trace"</a>
                    </p>
                }
            });
            view! {
                <section class="compact-tree" data-testid="compact-tree">
                    <h4>"Run tree"</h4>
                    <ul>{items}</ul>
                    {more}
                </section>
            }
            .into_any()
        }
    }
}
