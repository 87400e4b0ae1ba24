//! One row of the explorer: the tree cell (indent, twisty, type, name, marks) and the bar cell
//! (the span's bar, its label, network gaps, critical-path stretches, recorded position).

use leptos::either::Either;
use leptos::prelude::*;
use skein_model::format;
use skein_model::format::{fixed, plain};
use skein_model::palette::service_hue;
use skein_model::scale;
use skein_model::timing::CallRole;
use skein_model::tree::Node;
use skein_model::SpanType;

use super::find::split_match;
use super::row_timing::RowTiming;
use super::state::{Ex, ROW_H};
use crate::components::feedback::FeedbackBadge;
use crate::components::icons::AlertIcon;
use crate::components::span_type::SpanTypeIcon;
use crate::text;

const INDENT_PX: usize = 14;
/// Indentation stops growing here; deeper rows show their depth as a number.
const MAX_INDENT_DEPTH: usize = 32;

/// What a drawn row shows. Rows have no reactive parts: when any of this changes for a row
/// (selection, a match, collapse, zoom, the query), that row is drawn anew.
#[derive(Clone, Copy, PartialEq)]
pub struct RowKey {
    pub row: u32,
    pub pos: u32,
    pub selected: bool,
    pub matched: bool,
    pub collapsed: bool,
    /// Bumped on every find query (names show the query marked).
    pub epoch: u32,
    pub window: (u64, u64),
    /// The clock-skew adjustment and the critical-path highlight.
    pub skew: bool,
    pub critical: bool,
    pub bar_w: u32,
}

pub fn span_row(ex: Ex, key: RowKey) -> impl IntoView {
    let RowKey {
        row,
        pos,
        selected,
        matched,
        collapsed,
        ..
    } = key;
    let pos = pos as usize;
    let tree = ex.tree.get_value();
    let skeleton = ex.skeleton.get_value();
    let depth = tree.depth(pos);
    let has_children = tree.has_children(pos);
    let descendants = tree.subtree_size(pos) - 1;
    let indent = format!("width: {}px", depth.min(MAX_INDENT_DEPTH) * INDENT_PX);
    let cost = tree.span_at(pos).map_or(0.0, |i| skeleton.spans[i].cost());
    let timing = ex.timing_for(key.skew);
    let (start_us, end_us) = match tree.span_at(pos) {
        Some(i) => timing.extent_us(&skeleton, i),
        None => tree.extent_us(&skeleton, pos),
    };
    let window = ex.window.get_untracked();
    let bar = window.bar(start_us as f64, end_us as f64, 0.002);
    let critical = key
        .critical
        .then(|| ex.critical_path_for(key.skew))
        .flatten();
    let marks = tree
        .span_at(pos)
        .map(|i| RowTiming::of(&timing, &skeleton, i, critical.as_deref(), window))
        .unwrap_or_default();

    let mut class = String::from("span-row");
    for (on, name) in [
        (selected, " selected"),
        (matched, " match"),
        (has_children && collapsed, " collapsed"),
    ] {
        if on {
            class.push_str(name);
        }
    }
    let (name, service, hue, kind, failed, tokens, duration, span_id, missing, show_service) =
        match tree.node(pos) {
            Node::Span(i) => {
                let span = &skeleton.spans[i];
                let service = skeleton.service_of(span).to_string();
                let parent_service = tree
                    .parent(pos)
                    .and_then(|p| tree.span_at(p))
                    .map(|p| skeleton.service_of(&skeleton.spans[p]));
                // The service is named where it changes (the root, a call into another one).
                let show_service = parent_service != Some(service.as_str());
                (
                    skeleton.name_of(span).to_string(),
                    service.clone(),
                    service_hue(&service),
                    span.span_type(),
                    span.status().is_error(),
                    span.tokens(),
                    format::duration_ns(span.duration_us() * 1_000),
                    Some(span.span_id().to_string()),
                    None,
                    show_service,
                )
            }
            Node::Missing(g) => {
                class.push_str(" placeholder-row");
                (
                    String::new(),
                    String::new(),
                    0,
                    SpanType::Internal,
                    false,
                    0,
                    String::new(),
                    None,
                    Some(tree.placeholders()[g].parent_id.clone()),
                    false,
                )
            }
        };
    if failed {
        class.push_str(" row-error");
    }
    if marks.on_critical {
        class.push_str(" on-critical");
    }
    let call_attr = match marks.call {
        CallRole::None => None,
        CallRole::Client { .. } => Some("client"),
        CallRole::Server { .. } => Some("server"),
    };
    let badge_id = span_id.clone();
    let label = match (&missing, name.is_empty()) {
        (Some(_), _) => "Missing parent ".to_string(),
        (None, true) => "(unnamed)".to_string(),
        (None, false) => name.clone(),
    };
    let title = match &missing {
        Some(id) => format!(
            "Span {id} is named as the parent of {} below, but never arrived",
            text::plural(tree.child_count(pos) as u64, "span", "spans")
        ),
        None => format!(
            "{label}\n{} · {} · {duration}",
            if service.is_empty() {
                "unknown service"
            } else {
                &service
            },
            kind.as_str()
        ),
    };
    let query = if matched {
        ex.query.get_untracked()
    } else {
        String::new()
    };
    let (before, marked, after) = split_match(&label, &query);
    let twisty_title = if collapsed {
        format!("Expand ({} below)", text::thousands(descendants as u64))
    } else {
        "Collapse".to_string()
    };
    let RowTiming {
        skew_us,
        recorded,
        call,
        peer_service,
        gaps,
        critical,
        ..
    } = marks;
    // The bar's pieces are `segment`s and the small marks `chip`s (one shape each).
    let mut before_bar: Vec<_> = recorded
        .map(|b| {
            segment(
                "bar-recorded".into(),
                &b,
                Some("Where the span's own clock put it".into()),
            )
        })
        .into_iter()
        .collect();
    let gap_bars: Vec<scale::Bar> = gaps.iter().map(|(b, ..)| *b).collect();
    before_bar.extend(
        gaps.into_iter()
            .map(|(b, class, title)| segment(class.into(), &b, Some(title))),
    );
    let critical_views: Vec<_> = critical
        .into_iter()
        .map(|b| segment("crit-seg".into(), &b, None))
        .collect();
    let skew_chip = (skew_us != 0).then(|| {
        let shift = format::signed_duration_ns(skew_us * 1_000);
        chip(
            "skew-mark",
            Some("skew-mark"),
            Some(format!(
                "Adjusted {shift} for clock skew: this service's clock disagrees with its caller's"
            )),
            format!("skew {shift}"),
        )
    });
    let call_chip = match call {
        CallRole::Server { gap, .. } => {
            let (request, response) = (
                format::signed_duration_ns(gap.request * 1_000),
                format::signed_duration_ns(gap.response * 1_000),
            );
            Some(chip(
                "call-mark server",
                Some("net-gap"),
                Some(format!("Called over the network from {peer_service}: request {request} (client start → server start), response {response} (server end → client end)")),
                format!("net {request} · {response}"),
            ))
        }
        CallRole::Client { .. } => Some(chip(
            "call-mark client",
            None,
            Some(format!("Client span: calls {peer_service}")),
            format!("→ {peer_service}"),
        )),
        CallRole::None => None,
    };

    let bar_view = bar.map(|b| {
        let mut bar_class = String::from("bar");
        for (on, name) in [
            (failed, " bar-error"),
            (missing.is_some(), " bar-missing"),
            (b.cut_left, " cut-left"),
            (b.cut_right, " cut-right"),
        ] {
            if on {
                bar_class.push_str(name);
            }
        }
        // The duration (with a call's note, where there is room for it) goes after the bar
        // and its network gaps, else before them, else (a bar across the whole width)
        // inside the bar's right end, without the note.
        let (left, right) = gap_bars
            .iter()
            .fold((b.left, b.left + b.width), |(l, r), g| {
                (l.min(g.left), r.max(g.left + g.width))
            });
        // About what the label takes (px), as a share of the waterfall's width.
        let note_px = match call {
            CallRole::Server { .. } => 170.0,
            CallRole::Client { .. } => 24.0 + 7.0 * peer_service.chars().count().min(24) as f64,
            CallRole::None => 0.0,
        };
        let note_room = (56.0 + note_px) / f64::from(key.bar_w.max(200));
        let (label_class, label_style, with_note) = if right + note_room <= 1.0 {
            (
                "bar-label",
                format!("left: {}%", fixed(right * 100.0, 3)),
                true,
            )
        } else if left >= note_room {
            (
                "bar-label",
                format!("right: {}%", fixed((1.0 - left) * 100.0, 3)),
                true,
            )
        } else if right <= 0.8 {
            (
                "bar-label",
                format!("left: {}%", fixed(right * 100.0, 3)),
                false,
            )
        } else if left >= 0.14 {
            (
                "bar-label",
                format!("right: {}%", fixed((1.0 - left) * 100.0, 3)),
                false,
            )
        } else {
            (
                "bar-label inside",
                format!("right: {}%", fixed((1.0 - b.left - b.width) * 100.0, 3)),
                false,
            )
        };
        let call_chip = call_chip.filter(|_| with_note);
        (
            segment(bar_class, &b, None),
            view! { <span class=label_class style=label_style>{duration.clone()}{call_chip}</span> },
        )
    });
    let (bar_segment, bar_label) = bar_view.unzip();
    view! {
        <div class=class role="treeitem" id=format!("span-row-{row}") data-span-id=span_id data-missing-parent=missing.clone()
            data-call=call_attr data-skew-us={(skew_us != 0).then(|| skew_us.to_string())}
            data-depth=depth aria-selected=selected.to_string()
            aria-expanded=has_children.then(|| (!collapsed).to_string())
            style=format!("transform: translateY({}px); --svc-h: {hue}", plain(f64::from(row) * ROW_H))
            on:click=move |_| {
                ex.selected.set(Some(pos));
                if tree_has_span(ex, pos) {
                    ex.detail_open.set(true);
                }
            }
            on:dblclick=move |_| ex.toggle(pos)>
            <div class="tree-cell" title=title>
                <span class="indent" style=indent></span>
                {if has_children {
                    Either::Left(view! {
                        <button type="button" class="twisty" tabindex="-1" title=twisty_title
                            aria-label=if collapsed { "Expand" } else { "Collapse" }
                            on:click=move |ev: leptos::ev::MouseEvent| {
                                ev.stop_propagation();
                                ex.toggle(pos);
                            }>
                            <span class=if collapsed { "chevron" } else { "chevron open" }></span>
                        </button>
                    })
                } else {
                    Either::Right(view! { <span class="twisty leaf" aria-hidden="true"></span> })
                }}
                {(depth > MAX_INDENT_DEPTH).then(|| chip("depth-note", None, Some("Nesting depth".into()), depth.to_string()))}
                {match &missing {
                    Some(_) => Either::Left(view! { <span class="missing-icon" aria-hidden="true">"?"</span> }),
                    None => Either::Right(view! { <SpanTypeIcon kind=kind/> }),
                }}
                <span class="name">
                    {before}
                    {marked.map(|m| view! { <mark>{m}</mark> })}
                    {after}
                    {missing.clone().map(|id| view! { <code>{id}</code> })}
                </span>
                {missing.is_some().then(|| chip("hint", None, None, "never arrived".into()))}
                {failed.then(|| view! { <span class="error-mark" title="This span failed"><AlertIcon/></span> })}
                {badge_id.map(|id| view! { <FeedbackBadge span_id=id/> })}
                {show_service.then(|| view! {
                    <span class="row-service"><span class="svc-dot"></span>
                        {if service.is_empty() { "unknown".to_string() } else { service.clone() }}</span>
                })}
                {(has_children && collapsed).then(|| chip(
                    "hidden-count",
                    None,
                    Some("Spans hidden below".into()),
                    format!("+{}", text::thousands(descendants as u64)),
                ))}
                <span class="row-spacer"></span>
                {skew_chip}
                {(tokens > 0).then(|| chip(
                    "row-tokens",
                    None,
                    Some("Input + output tokens".into()),
                    format!("{} tok", format::count(tokens)),
                ))}
                {(cost > 0.0).then(|| chip(
                    "row-cost",
                    None,
                    Some("This span's own cost".into()),
                    format::cost_usd(cost),
                ))}
            </div>
            <div class="bar-cell">{before_bar}{bar_segment}{bar_label}{critical_views}</div>
        </div>
    }
}

/// A row's bar or a stretch of it (network gap, critical path, recorded position).
pub fn segment(class: String, b: &scale::Bar, title: Option<String>) -> impl IntoView {
    view! { <span class=class style=bar_style(b) title=title></span> }
}

/// A row's small labelled mark (skew, call, tokens, cost…).
pub fn chip(
    class: &'static str,
    testid: Option<&'static str>,
    title: Option<String>,
    text: String,
) -> impl IntoView {
    view! { <span class=class data-testid=testid title=title>{text}</span> }
}

pub fn bar_style(b: &scale::Bar) -> String {
    format!(
        "left: {}%; width: {}%",
        fixed(b.left * 100.0, 3),
        fixed(b.width * 100.0, 3)
    )
}

pub fn tree_has_span(ex: Ex, pos: usize) -> bool {
    ex.tree.with_value(|t| t.span_at(pos).is_some())
}
