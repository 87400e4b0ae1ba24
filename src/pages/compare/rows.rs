//! The aligned rows of the two traces, virtualized (only the rows in view are in the page):
//! name, A and B durations and the difference, tokens, and both bars on one time scale.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use skein_model::format;
use skein_model::trace_diff::{DiffRow, Presence};
use skein_model::SkeletonSpan;

use super::summary::change_class;
use super::Comparison;
use crate::components::span_type::SpanTypeIcon;
use crate::links;

/// A row's height in pixels (the CSS's `.compare-row` height).
const ROW_PX: f64 = 28.0;
/// Rows drawn above and below the ones in view.
const OVERSCAN: usize = 10;
/// The most rows in view at once (the list is at most 70vh of a tall screen).
const MAX_VISIBLE: usize = 48;

#[component]
pub fn CompareRows(
    comparison: Comparison,
    project: String,
    selected: Memo<Option<usize>>,
) -> impl IntoView {
    let scroll_top = RwSignal::new(0.0_f64);
    let total = comparison.rows.len();
    // One time scale for both waterfalls: the longer trace fills the width.
    let scale_us = (comparison.a.skeleton.summary.duration_ns())
        .max(comparison.b.skeleton.summary.duration_ns())
        .max(1_000) as f64
        / 1_000.0;
    let window = Memo::new(move |_| {
        let first = ((scroll_top.get() / ROW_PX) as usize).saturating_sub(OVERSCAN);
        first..(first + MAX_VISIBLE + 2 * OVERSCAN).min(total)
    });
    let navigate = use_navigate();
    let (a_id, b_id) = (
        comparison.a.skeleton.summary.trace_id.clone(),
        comparison.b.skeleton.summary.trace_id.clone(),
    );
    let open = Callback::new(move |index: usize| {
        let href = links::compare_href(&project, &a_id, &b_id, Some(index));
        navigate(&href, Default::default());
    });
    let rows = comparison.rows.clone();
    view! {
        <section class="compare-table" aria-label="The two traces span by span">
            <div class="compare-row compare-head" role="row">
                <span class="c-name">"Span"</span>
                <span class="c-num">"A"</span>
                <span class="c-num">"B"</span>
                <span class="c-num">"B − A"</span>
                <span class="c-num">"Tokens A / B"</span>
                <span class="c-bars">"Waterfall (A above B, one scale)"</span>
            </div>
            <div class="compare-rows" data-testid="compare-rows"
                on:scroll=move |ev| scroll_top.set(event_target::<web_sys::Element>(&ev).scroll_top() as f64)>
                <div class="compare-rows-inner" style=format!("height: {}px", total as f64 * ROW_PX)>
                    <For each=move || window.get() key=|i| *i children=move |i: usize| {
                        let row = rows[i];
                        view! {
                            <CompareRow index=i row=row comparison=comparison.clone() scale_us=scale_us
                                selected=Signal::derive(move || selected.get() == Some(i)) open=open/>
                        }
                    }/>
                </div>
            </div>
        </section>
    }
}

#[component]
fn CompareRow(
    index: usize,
    row: DiffRow,
    comparison: Comparison,
    scale_us: f64,
    selected: Signal<bool>,
    open: Callback<usize>,
) -> impl IntoView {
    let a = comparison.a.span_at(row.a).cloned();
    let b = comparison.b.span_at(row.b).cloned();
    let (side, span) = match (&a, &b) {
        (Some(s), _) => (&comparison.a, s.clone()),
        (None, Some(s)) => (&comparison.b, s.clone()),
        (None, None) => (&comparison.a, placeholder()),
    };
    let name = side.skeleton.name_of(&span).to_string();
    let name = match &b {
        // A model call paired with another model's: both names.
        Some(other) if a.is_some() && comparison.b.skeleton.name_of(other) != name => {
            format!("{name} → {}", comparison.b.skeleton.name_of(other))
        }
        _ if name.is_empty() => "(missing parent)".to_string(),
        _ => name,
    };
    let presence = row.presence();
    let (class, note) = match presence {
        Presence::Both => ("compare-row", None),
        Presence::OnlyA => ("compare-row only-a", Some("only in A")),
        Presence::OnlyB => ("compare-row only-b", Some("only in B")),
    };
    let dur = |s: &Option<SkeletonSpan>| {
        s.as_ref().map_or("—".to_string(), |s| {
            format::duration_ns(s.duration_us() * 1_000)
        })
    };
    let delta = match (&a, &b) {
        (Some(x), Some(y)) => {
            let d = (y.duration_us() - x.duration_us()) * 1_000;
            let class = change_class(x.duration_us() as f64, y.duration_us() as f64);
            Some((format::signed_duration_ns(d), class))
        }
        _ => None,
    };
    let tokens = |s: &Option<SkeletonSpan>| {
        s.as_ref()
            .map(|s| s.tokens())
            .filter(|t| *t > 0)
            .map_or("—".to_string(), format::count)
    };
    let tokens_text = format!("{} / {}", tokens(&a), tokens(&b));
    let bar = |s: &Option<SkeletonSpan>, which: &'static str| {
        s.as_ref().map(|s| {
            let left = s.start_us() as f64 / scale_us * 100.0;
            let width = (s.duration_us() as f64 / scale_us * 100.0).max(0.3);
            let failed = s.status().is_error();
            let title = format!(
                "{which}: {} at +{}",
                format::duration_ns(s.duration_us() * 1_000),
                format::duration_ns((s.start_us() * 1_000).max(0))
            );
            view! {
                <span class=format!("c-bar c-bar-{}", which.to_ascii_lowercase()) class:error=failed title=title
                    style=format!("left: {left:.3}%; width: {:.3}%", width.min(100.0 - left.min(100.0)))></span>
            }
        })
    };
    let indent = format!("padding-left: {}px", 6 + row.depth.min(40) * 14);
    let title = format!("{name} ({})", span.span_type().as_str());
    view! {
        <div class=class class:selected=move || selected.get() role="row" tabindex="0"
            style=format!("top: {}px", index as f64 * ROW_PX)
            data-testid="compare-row"
            on:click=move |_| open.run(index)
            on:keydown=move |ev| if ev.key() == "Enter" { open.run(index) }>
            <span class="c-name" style=indent title=title>
                <SpanTypeIcon kind=span.span_type()/>
                <span class="c-name-text">{name}</span>
                {note.map(|n| view! { <span class="presence">{n}</span> })}
            </span>
            <span class="c-num">{dur(&a)}</span>
            <span class="c-num">{dur(&b)}</span>
            <span class="c-num">{delta.map(|(text, class)| view! { <span class=class>{text}</span> })}</span>
            <span class="c-num muted">{tokens_text}</span>
            <span class="c-bars">
                {bar(&a, "A")}
                {bar(&b, "B")}
            </span>
        </div>
    }
}

/// What a row shows for a missing parent's stand-in (no span on either side).
fn placeholder() -> SkeletonSpan {
    SkeletonSpan(Default::default(), -1, u32::MAX, 0, 0, 0, 0, 0, 0, 0, 0.0)
}
