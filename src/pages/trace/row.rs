//! What one row of the explorer shows, as text and flags: the tree cell (indent, twisty, type,
//! name, marks) and the bar cell (the span's bar, its label, network gaps, critical-path
//! stretches, recorded position). `row_slot` draws it.

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
use crate::text;

const INDENT_PX: usize = 14;
/// Indentation stops growing here; deeper rows show their depth as a number.
const MAX_INDENT_DEPTH: usize = 32;

/// What decides a drawn row: when any of this changes for a row (selection, a match,
/// collapse, zoom, the query), that row is drawn again.
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

/// The twisty before a row's name.
#[derive(Clone, PartialEq)]
pub enum Twisty {
    /// No children: a dot.
    Leaf,
    Open,
    /// Collapsed, with its button's title ("Expand (N below)").
    Closed(String),
}

/// A row's name: the find query's match marked, and a missing parent's id.
#[derive(Clone, PartialEq, Default)]
pub struct Name {
    pub before: String,
    pub marked: Option<String>,
    pub after: String,
    pub missing_id: Option<String>,
}

/// A small labelled mark (skew, call…).
#[derive(Clone, PartialEq)]
pub struct Chip {
    pub class: &'static str,
    pub testid: Option<&'static str>,
    pub title: String,
    pub text: String,
}

/// A positioned piece of the bar cell: the bar, a network gap, a critical-path stretch, the
/// recorded position.
#[derive(Clone, PartialEq)]
pub struct Segment {
    pub class: String,
    pub style: String,
    pub title: Option<String>,
}

/// The duration beside (or inside) the bar, with a call's note where there is room.
#[derive(Clone, PartialEq)]
pub struct Label {
    pub class: &'static str,
    pub style: String,
    pub text: String,
    pub chip: Option<Chip>,
}

/// What a drawn row shows.
#[derive(Clone, PartialEq)]
pub struct RowView {
    pub pos: usize,
    /// The row element's attributes.
    pub class: String,
    pub id: String,
    pub style: String,
    pub span_id: Option<String>,
    pub missing_parent: Option<String>,
    pub call: Option<&'static str>,
    pub skew_us: Option<String>,
    pub depth: String,
    pub selected: bool,
    /// `aria-expanded`: only rows with children have one.
    pub expanded: Option<bool>,
    /// The tree cell.
    pub title: String,
    pub indent: String,
    pub twisty: Twisty,
    pub depth_note: Option<String>,
    /// The span's type icon; none for a missing parent (a "?" instead).
    pub icon: Option<SpanType>,
    pub name: Name,
    pub failed: bool,
    /// The service, where it changes from the parent's.
    pub service: Option<String>,
    pub hidden_count: Option<String>,
    pub skew_chip: Option<Chip>,
    pub tokens: Option<String>,
    pub cost: Option<String>,
    /// The bar cell, in drawing order (later ones on top).
    pub segments: Vec<Segment>,
    pub label: Option<Label>,
}

impl RowView {
    pub fn of(ex: Ex, key: RowKey) -> RowView {
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
        let label = match (&missing, name.is_empty()) {
            (Some(_), _) => "Missing parent ".to_string(),
            (None, true) => "(unnamed)".to_string(),
            (None, false) => name,
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
        let twisty = match (has_children, collapsed) {
            (false, _) => Twisty::Leaf,
            (true, false) => Twisty::Open,
            (true, true) => Twisty::Closed(format!(
                "Expand ({} below)",
                text::thousands(descendants as u64)
            )),
        };
        let skew_us = marks.skew_us;
        let (segments, label) = bar_cell(bar, marks, failed, missing.is_some(), duration, key);
        RowView {
            pos,
            class,
            id: format!("span-row-{row}"),
            style: format!(
                "transform: translateY({}px); --svc-h: {hue}",
                plain(f64::from(row) * ROW_H)
            ),
            span_id,
            call: call_attr,
            skew_us: (skew_us != 0).then(|| skew_us.to_string()),
            depth: depth.to_string(),
            selected,
            expanded: has_children.then_some(!collapsed),
            title,
            indent: format!("width: {}px", depth.min(MAX_INDENT_DEPTH) * INDENT_PX),
            twisty,
            depth_note: (depth > MAX_INDENT_DEPTH).then(|| depth.to_string()),
            icon: missing.is_none().then_some(kind),
            name: Name {
                before,
                marked,
                after,
                missing_id: missing.clone(),
            },
            missing_parent: missing,
            failed,
            service: show_service.then(|| {
                if service.is_empty() {
                    "unknown".to_string()
                } else {
                    service
                }
            }),
            hidden_count: (has_children && collapsed)
                .then(|| format!("+{}", text::thousands(descendants as u64))),
            skew_chip: (skew_us != 0).then(|| {
                let shift = format::signed_duration_ns(skew_us * 1_000);
                Chip {
                    class: "skew-mark",
                    testid: Some("skew-mark"),
                    title: format!(
                        "Adjusted {shift} for clock skew: this service's clock disagrees with its caller's"
                    ),
                    text: format!("skew {shift}"),
                }
            }),
            tokens: (tokens > 0).then(|| format!("{} tok", format::count(tokens))),
            cost: (cost > 0.0).then(|| format::cost_usd(cost)),
            segments,
            label,
        }
    }
}

/// The bar cell: the recorded position and network gaps under the bar, the bar, the
/// critical path's stretches, and the label.
fn bar_cell(
    bar: Option<scale::Bar>,
    marks: RowTiming,
    failed: bool,
    missing: bool,
    duration: String,
    key: RowKey,
) -> (Vec<Segment>, Option<Label>) {
    let RowTiming {
        recorded,
        call,
        peer_service,
        gaps,
        critical,
        ..
    } = marks;
    let mut segments: Vec<Segment> = recorded
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
    segments.extend(
        gaps.into_iter()
            .map(|(b, class, title)| segment(class.into(), &b, Some(title))),
    );
    let call_chip = match call {
        CallRole::Server { gap, .. } => {
            let (request, response) = (
                format::signed_duration_ns(gap.request * 1_000),
                format::signed_duration_ns(gap.response * 1_000),
            );
            Some(Chip {
                class: "call-mark server",
                testid: Some("net-gap"),
                title: format!("Called over the network from {peer_service}: request {request} (client start → server start), response {response} (server end → client end)"),
                text: format!("net {request} · {response}"),
            })
        }
        CallRole::Client { .. } => Some(Chip {
            class: "call-mark client",
            testid: None,
            title: format!("Client span: calls {peer_service}"),
            text: format!("→ {peer_service}"),
        }),
        CallRole::None => None,
    };
    let label = bar.map(|b| {
        let mut bar_class = String::from("bar");
        for (on, name) in [
            (failed, " bar-error"),
            (missing, " bar-missing"),
            (b.cut_left, " cut-left"),
            (b.cut_right, " cut-right"),
        ] {
            if on {
                bar_class.push_str(name);
            }
        }
        segments.push(segment(bar_class, &b, None));
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
        let at_left = |x: f64| format!("left: {}%", fixed(x * 100.0, 3));
        let at_right = |x: f64| format!("right: {}%", fixed((1.0 - x) * 100.0, 3));
        let (class, style, with_note) = if right + note_room <= 1.0 {
            ("bar-label", at_left(right), true)
        } else if left >= note_room {
            ("bar-label", at_right(left), true)
        } else if right <= 0.8 {
            ("bar-label", at_left(right), false)
        } else if left >= 0.14 {
            ("bar-label", at_right(left), false)
        } else {
            ("bar-label inside", at_right(b.left + b.width), false)
        };
        Label {
            class,
            style,
            text: duration,
            chip: call_chip.filter(|_| with_note),
        }
    });
    // Drawn after the bar; below it (`.crit-seg` sits lower in the row), so never over it.
    segments.extend(
        critical
            .into_iter()
            .map(|b| segment("crit-seg".into(), &b, None)),
    );
    (segments, label)
}

fn segment(class: String, b: &scale::Bar, title: Option<String>) -> Segment {
    Segment {
        class,
        style: format!(
            "left: {}%; width: {}%",
            fixed(b.left * 100.0, 3),
            fixed(b.width * 100.0, 3)
        ),
        title,
    }
}
