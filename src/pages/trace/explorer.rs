//! The tree and waterfall, Jaeger-style: an indented, collapsible tree on the left and bars on a
//! shared time ruler on the right, one row per visible node. Rows are virtualized: only the ones
//! in view (plus a few) are in the DOM, at a fixed height, whatever the trace's size. Collapse
//! state and the visible rows live in `skein_model::tree::TreeView`, which changes only the
//! range a collapse or expand touches.
//!
//! Also here: the toolbar (find, expand/collapse, levels, zoom), the minimap and ruler (drag to
//! zoom), keyboard navigation, and the `?span=` URL sync.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use leptos::either::Either;
use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use skein_model::format;
use skein_model::format::{fixed, plain};
use skein_model::num::clamp;
use skein_model::palette::service_hue;
use skein_model::scale::{self, TimeWindow};
use skein_model::sort;
use skein_model::timing::{CallRole, TraceTiming};
use skein_model::tree::{self, Node, TraceTree, TreeView};
use skein_model::{SpanType, TraceSkeleton};
use wasm_bindgen::JsCast;

use super::detail::DetailPanel;
use super::{perf, trace_span_href, Loaded};
use crate::api;
use crate::components::empty_state::EmptyState;
use crate::components::feedback::FeedbackBadge;
use crate::components::icons::{AlertIcon, SearchIcon};
use crate::components::span_type::SpanTypeIcon;
use crate::text;

/// Every row is this tall (px): row `r` sits at `r * ROW_H`.
pub const ROW_H: f64 = 28.0;
/// Rows drawn above and below the visible ones, so a fast scroll does not show gaps.
const OVERSCAN: usize = 8;
const INDENT_PX: usize = 14;
/// Indentation stops growing here; deeper rows show their depth as a number.
const MAX_INDENT_DEPTH: usize = 32;
const MINIMAP_BUCKETS: usize = 200;
const FIND_DEBOUNCE: Duration = Duration::from_millis(120);

/// The explorer's state: cheap copyable handles, shared by its parts.
#[derive(Clone, Copy)]
pub struct Ex {
    pub skeleton: StoredValue<Arc<TraceSkeleton>>,
    pub tree: StoredValue<Arc<TraceTree>>,
    /// Collapse state and visible rows.
    pub view: RwSignal<TreeView>,
    /// The selected node's position.
    pub selected: RwSignal<Option<usize>>,
    pub detail_open: RwSignal<bool>,
    /// The find query as applied (debounced), and its matches (positions, ascending).
    pub query: RwSignal<String>,
    pub find_epoch: RwSignal<u32>,
    pub matches: RwSignal<Arc<Vec<u32>>>,
    pub only_matches: RwSignal<bool>,
    /// The stretch of time the waterfall shows, and the whole trace.
    pub window: RwSignal<TimeWindow>,
    pub whole: TimeWindow,
    pub scroll_top: RwSignal<f64>,
    pub viewport_h: RwSignal<f64>,
    /// The waterfall's width in px (rounded), for what fits beside a bar.
    pub bar_w: RwSignal<u32>,
    pub viewport: NodeRef<Div>,
    pub find_input: NodeRef<leptos::html::Input>,
    /// The clock-skew adjustment is applied (from the URL: `skew=off` turns it off).
    pub skew_on: Memo<bool>,
    /// Writes the skew setting to the URL.
    pub set_skew: Callback<bool>,
    /// The critical path is drawn on the bars.
    pub critical_on: RwSignal<bool>,
    /// The project, for the find box's search on the collector.
    project: StoredValue<String>,
    /// Timing with the adjustment (computed with the trace), and without (when first asked).
    adjusted: StoredValue<Arc<TraceTiming>>,
    unadjusted: StoredValue<Option<Arc<TraceTiming>>>,
}

impl Ex {
    fn new(loaded: &Loaded, project: String, skew_on: Memo<bool>, set_skew: Callback<bool>) -> Ex {
        let adjusted = TraceTiming::compute(&loaded.skeleton, true);
        // The whole trace as recorded and as adjusted: toggling the adjustment keeps the scale.
        let recorded = TimeWindow::of_trace(&loaded.skeleton);
        let whole = match adjusted.bounds_us(&loaded.skeleton) {
            Some((lo, hi)) => {
                TimeWindow::new(recorded.start.min(lo as f64), recorded.end.max(hi as f64))
            }
            None => recorded,
        };
        Ex {
            skeleton: StoredValue::new(loaded.skeleton.clone()),
            tree: StoredValue::new(loaded.tree.clone()),
            view: RwSignal::new(TreeView::new(&loaded.tree)),
            selected: RwSignal::new(None),
            detail_open: RwSignal::new(false),
            query: RwSignal::new(String::new()),
            find_epoch: RwSignal::new(0),
            matches: RwSignal::new(Arc::new(Vec::new())),
            only_matches: RwSignal::new(false),
            window: RwSignal::new(whole),
            whole,
            scroll_top: RwSignal::new(0.0),
            viewport_h: RwSignal::new(900.0),
            bar_w: RwSignal::new(800),
            viewport: NodeRef::new(),
            find_input: NodeRef::new(),
            skew_on,
            set_skew,
            critical_on: RwSignal::new(true),
            project: StoredValue::new(project),
            adjusted: StoredValue::new(Arc::new(adjusted)),
            unadjusted: StoredValue::new(None),
        }
    }

    /// The trace's timing as shown (tracks the skew setting).
    pub fn timing(&self) -> Arc<TraceTiming> {
        self.timing_for(self.skew_on.get())
    }

    /// The trace's timing with the adjustment on or off, each computed once.
    pub fn timing_for(&self, skew: bool) -> Arc<TraceTiming> {
        if skew {
            return self.adjusted.get_value();
        }
        if let Some(timing) = self.unadjusted.get_value() {
            return timing;
        }
        let timing = Arc::new(
            self.skeleton
                .with_value(|sk| TraceTiming::compute(sk, false)),
        );
        self.unadjusted.set_value(Some(timing.clone()));
        timing
    }

    /// Spans the adjustment moves (whatever the setting).
    pub fn skewed_count(&self) -> usize {
        self.adjusted.with_value(|t| t.adjusted_count)
    }

    pub fn span_id(&self, pos: usize) -> Option<String> {
        let tree = self.tree.get_value();
        let i = tree.span_at(pos)?;
        self.skeleton
            .with_value(|sk| sk.spans.get(i).map(|s| s.span_id().to_string()))
    }

    /// The detail panel is open on a selected node.
    pub fn detail_shown(&self) -> bool {
        self.detail_open.get() && self.selected.with(Option::is_some)
    }

    fn position_of_id(&self, id: &str) -> Option<usize> {
        let i = self.skeleton.with_value(|sk| tree::span_index(sk, id))?;
        self.tree.with_value(|t| t.position_of(i))
    }

    /// The selected row, or the row of its nearest visible ancestor.
    fn current_row(&self) -> Option<usize> {
        let pos = self.selected.get_untracked()?;
        let tree = self.tree.get_value();
        self.view.with_untracked(|v| {
            v.row_of(pos)
                .or_else(|| tree.ancestors(pos).find_map(|a| v.row_of(a)))
        })
    }

    fn set_collapsed(&self, pos: usize, collapsed: bool) {
        let tree = self.tree.get_value();
        if self.view.with_untracked(|v| v.is_collapsed(pos)) != collapsed {
            self.view.update(|v| v.set_collapsed(&tree, pos, collapsed));
        }
    }

    fn toggle(&self, pos: usize) {
        let collapsed = self.view.with_untracked(|v| v.is_collapsed(pos));
        self.set_collapsed(pos, !collapsed);
    }

    /// Selects a node, expanding what hides it, and scrolls it into view.
    pub fn go_to(&self, pos: usize, center: bool) {
        let tree = self.tree.get_value();
        let row = match self.view.with_untracked(|v| v.row_of(pos)) {
            Some(row) => Some(row),
            None => self.view.try_update(|v| v.reveal(&tree, pos)).flatten(),
        };
        self.selected.set(Some(pos));
        if let Some(row) = row {
            self.scroll_to_row(row, center);
        }
    }

    /// Scrolls so that `row` is in view (centred, or just inside the nearest edge), once the
    /// DOM has caught up with the latest rows.
    fn scroll_to_row(&self, row: usize, center: bool) {
        let ex = *self;
        request_animation_frame(move || {
            let Some(el) = ex.viewport.get_untracked() else {
                return;
            };
            let h = f64::from(el.client_height());
            let st = f64::from(el.scroll_top());
            let top = row as f64 * ROW_H;
            let target = if center {
                (top - h / 2.0 + ROW_H / 2.0).max(0.0)
            } else if top < st {
                top
            } else if top + ROW_H > st + h {
                top + ROW_H - h
            } else {
                return;
            };
            el.set_scroll_top(target.round() as i32);
            ex.scroll_top.set(f64::from(el.scroll_top()));
        });
    }

    fn select_row(&self, row: usize) {
        if let Some(pos) = self.view.with_untracked(|v| v.position(row)) {
            self.selected.set(Some(pos));
            self.scroll_to_row(row, false);
        }
    }

    fn move_by(&self, delta: isize) {
        let n = self.view.with_untracked(TreeView::len);
        if n == 0 {
            return;
        }
        let row = match self.current_row() {
            Some(r) => (r as isize + delta).clamp(0, n as isize - 1) as usize,
            None if delta >= 0 => 0,
            None => n - 1,
        };
        self.select_row(row);
    }

    fn page_rows(&self) -> isize {
        ((self.viewport_h.get_untracked() / ROW_H).floor() as isize - 1).max(1)
    }

    /// Left: collapse an open node, else go to its parent.
    fn left(&self) {
        let Some(pos) = self.selected.get_untracked() else {
            return self.move_by(0);
        };
        let tree = self.tree.get_value();
        if tree.has_children(pos) && !self.view.with_untracked(|v| v.is_collapsed(pos)) {
            self.set_collapsed(pos, true);
        } else if let Some(parent) = tree.parent(pos) {
            self.go_to(parent, false);
        }
    }

    /// Right: expand a closed node, else go to its first child.
    fn right(&self) {
        let Some(pos) = self.selected.get_untracked() else {
            return self.move_by(0);
        };
        let tree = self.tree.get_value();
        if !tree.has_children(pos) {
            return;
        }
        if self.view.with_untracked(|v| v.is_collapsed(pos)) {
            self.set_collapsed(pos, false);
        } else {
            self.move_by(1);
        }
    }

    /// Applies a find query: matches, the filter if on, and scrolls to the first match.
    fn apply_find(&self, query: String) {
        let matches = {
            let tree = self.tree.get_value();
            self.skeleton
                .with_value(|sk| tree::find_with(sk, &tree, &query, &lowercase))
        };
        let first = matches.first().map(|&m| m as usize);
        if !query.is_empty() {
            self.search_collector(query.clone());
        }
        self.query.set(query);
        self.find_epoch.update(|e| *e = e.wrapping_add(1));
        self.matches.set(Arc::new(matches));
        self.refilter();
        if let Some(pos) = first {
            let tree = self.tree.get_value();
            let row = self.view.try_update(|v| v.reveal(&tree, pos)).flatten();
            if let Some(row) = row {
                self.scroll_to_row(row, true);
            }
        }
    }

    /// Asks the collector for spans holding the query in any text (attributes, input,
    /// output…), and adds them to the matches if the query is still the one shown. Local
    /// matches stand on their own if the collector cannot answer.
    fn search_collector(&self, query: String) {
        let ex = *self;
        let project = self.project.get_value();
        let trace_id = self.skeleton.with_value(|sk| sk.summary.trace_id.clone());
        spawn_local(async move {
            let Ok(found) = api::trace_search(&project, &trace_id, &query).await else {
                return;
            };
            if ex.query.try_get_untracked().as_deref() != Some(query.as_str())
                || found.span_ids.is_empty()
            {
                return;
            }
            let ids: HashSet<&str> = found.span_ids.iter().map(String::as_str).collect();
            let tree = ex.tree.get_value();
            let mut merged: Vec<u32> = ex.skeleton.with_value(|sk| {
                sk.spans
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| ids.contains(s.span_id()))
                    .filter_map(|(i, _)| tree.position_of(i))
                    .map(|p| p as u32)
                    .collect()
            });
            ex.matches
                .with_untracked(|m| merged.extend(m.iter().copied()));
            sort::sort_u32(&mut merged);
            merged.dedup();
            if ex.matches.with_untracked(|m| m.len()) == merged.len() {
                return;
            }
            let first_new = ex.matches.with_untracked(|m| m.is_empty());
            ex.matches.set(Arc::new(merged));
            ex.find_epoch.update(|e| *e = e.wrapping_add(1));
            ex.refilter();
            if first_new {
                if let Some(pos) = ex.matches.with_untracked(|m| m.first().copied()) {
                    let row = ex
                        .view
                        .try_update(|v| v.reveal(&tree, pos as usize))
                        .flatten();
                    if let Some(row) = row {
                        ex.scroll_to_row(row, true);
                    }
                }
            }
        });
    }

    fn refilter(&self) {
        let tree = self.tree.get_value();
        let keep = if self.only_matches.get_untracked() && !self.query.get_untracked().is_empty() {
            Some(
                self.matches
                    .with_untracked(|m| tree::keep_matches(&tree, m)),
            )
        } else {
            None
        };
        if keep.is_none() && !self.view.with_untracked(TreeView::is_filtered) {
            return;
        }
        self.view.update(|v| v.set_filter(&tree, keep));
    }

    fn step_match(&self, forward: bool) {
        let next = self
            .matches
            .with_untracked(|m| tree::step_match(m, self.selected.get_untracked(), forward));
        if let Some(pos) = next {
            self.go_to(pos, true);
        }
    }
}

#[component]
pub fn Explorer(
    loaded: Loaded,
    project: String,
    trace_id: String,
    span_in_url: Memo<Option<String>>,
    skew_in_url: Memo<bool>,
) -> impl IntoView {
    let navigate = use_navigate();
    let set_skew = {
        let (project, trace_id, navigate) = (project.clone(), trace_id.clone(), navigate.clone());
        Callback::new(move |on: bool| {
            navigate(
                &trace_span_href(
                    &project,
                    &trace_id,
                    span_in_url.get_untracked().as_deref(),
                    on,
                ),
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..NavigateOptions::default()
                },
            );
        })
    };
    let ex = Ex::new(&loaded, project.clone(), skew_in_url, set_skew);

    // A span named in the URL opens at once: selected, revealed, its detail shown.
    let initial = span_in_url.get_untracked();
    let initial_pos = initial.as_deref().and_then(|id| ex.position_of_id(id));
    if let Some(pos) = initial_pos {
        let tree = ex.tree.get_value();
        ex.view.update_untracked(|v| {
            v.reveal(&tree, pos);
        });
        ex.selected.set(Some(pos));
        ex.detail_open.set(true);
    }
    // What the URL says, as last written or read here: the URL effect below only acts on
    // changes from elsewhere (back/forward, an edited link).
    let written = StoredValue::new(initial_pos.and(initial));

    {
        let (project, trace_id) = (project.clone(), trace_id.clone());
        Effect::new(move |_| {
            let want = if ex.detail_open.get() {
                ex.selected.get().and_then(|p| ex.span_id(p))
            } else {
                None
            };
            if want != written.get_value() && want != span_in_url.get_untracked() {
                written.set_value(want.clone());
                navigate(
                    &trace_span_href(
                        &project,
                        &trace_id,
                        want.as_deref(),
                        ex.skew_on.get_untracked(),
                    ),
                    NavigateOptions {
                        replace: true,
                        scroll: false,
                        ..NavigateOptions::default()
                    },
                );
            } else {
                written.set_value(want);
            }
        });
    }
    Effect::new(move |_| {
        let param = span_in_url.get();
        if param == written.get_value() {
            return;
        }
        written.set_value(param.clone());
        match param.as_deref().and_then(|id| ex.position_of_id(id)) {
            Some(pos) => {
                ex.detail_open.set(true);
                ex.go_to(pos, true);
            }
            None => ex.detail_open.set(false),
        }
    });

    // Keyboard: anywhere on the page but in a text field or the detail panel.
    let keys = window_event_listener(leptos::ev::keydown, move |ev| on_key(ex, &ev));
    on_cleanup(move || keys.remove());

    let measure = move || {
        if let Some(el) = ex.viewport.get_untracked() {
            let h = f64::from(el.client_height());
            if h > 0.0 {
                ex.viewport_h.set(h);
            }
            ex.scroll_top.set(f64::from(el.scroll_top()));
        }
        let ruler = document().query_selector(".explorer .ruler").ok().flatten();
        if let Some(w) = ruler.map(|r| r.client_width()).filter(|&w| w > 0) {
            // Rounded, so that a pixel's change does not redraw every row.
            let w = (w as u32 / 16) * 16;
            if ex.bar_w.get_untracked() != w {
                ex.bar_w.set(w);
            }
        }
    };
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    // Opening or closing the detail panel changes the waterfall's width.
    Effect::new(move |_| {
        ex.detail_shown();
        request_animation_frame(measure);
    });
    on_cleanup(move || resize.remove());
    request_animation_frame(move || {
        measure();
        if let Some(pos) = initial_pos {
            if let Some(row) = ex.view.with_untracked(|v| v.row_of(pos)) {
                ex.scroll_to_row(row, true);
            }
        }
        set_timeout(
            || {
                perf::mark("skein:trace-painted");
                perf::measure(
                    "skein:trace-load",
                    "skein:trace-requested",
                    "skein:trace-painted",
                );
            },
            Duration::ZERO,
        );
    });

    let empty = ex.tree.with_value(|t| t.is_empty());

    view! {
        <div class="explorer" class:with-detail=move || ex.detail_shown()>
            <div class="explorer-main">
                <Toolbar ex=ex/>
                {if empty {
                    Either::Left(view! {
                        <EmptyState title="This trace has no spans">
                            <p>"Its summary exists, but none of its spans are stored."</p>
                        </EmptyState>
                    })
                } else {
                    Either::Right(view! {
                        <TimelineHead ex=ex/>
                        <Rows ex=ex/>
                        <StatusBar ex=ex/>
                    })
                }}
            </div>
            <DetailPanel ex=ex project=project.clone() trace_id=trace_id.clone()/>
        </div>
    }
}

fn on_key(ex: Ex, ev: &web_sys::KeyboardEvent) {
    if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.default_prevented() {
        return;
    }
    let key = ev.key();
    let target = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
    let tag = target
        .as_ref()
        .map(|el| el.tag_name().to_ascii_uppercase())
        .unwrap_or_default();
    let in_field = matches!(tag.as_str(), "INPUT" | "TEXTAREA" | "SELECT");
    let in_panel = target
        .as_ref()
        .and_then(|el| el.closest(".detail-panel").ok().flatten())
        .is_some();
    if key == "Escape" && !in_field {
        if ex.detail_open.get_untracked() {
            ex.detail_open.set(false);
            ev.prevent_default();
        }
        return;
    }
    if in_field || in_panel {
        return;
    }
    // Enter and space on a focused button or link are that control's.
    if matches!(tag.as_str(), "BUTTON" | "A") && matches!(key.as_str(), "Enter" | " ") {
        return;
    }
    match key.as_str() {
        "ArrowDown" | "j" => ex.move_by(1),
        "ArrowUp" | "k" => ex.move_by(-1),
        "ArrowLeft" | "h" => ex.left(),
        "ArrowRight" | "l" => ex.right(),
        "PageDown" => ex.move_by(ex.page_rows()),
        "PageUp" => ex.move_by(-ex.page_rows()),
        "Home" => ex.move_by(isize::MIN / 2),
        "End" => ex.move_by(isize::MAX / 2),
        "Enter" => {
            if ex.selected.get_untracked().is_none() {
                ex.move_by(0);
            }
            ex.detail_open.set(true);
        }
        "n" => ex.step_match(true),
        "N" => ex.step_match(false),
        "/" => {
            if let Some(input) = ex.find_input.get_untracked() {
                let _ = input.focus();
                input.select();
            }
        }
        _ => return,
    }
    ev.prevent_default();
}

#[component]
fn Toolbar(ex: Ex) -> impl IntoView {
    let max_depth = ex.tree.with_value(|t| t.max_depth());
    let raw = RwSignal::new(String::new());
    let pending = StoredValue::new_local(None::<TimeoutHandle>);
    let schedule = move |text: String, delay: Duration| {
        if let Some(h) = pending.try_get_value().flatten() {
            h.clear();
        }
        let handle = set_timeout_with_handle(
            move || {
                if ex.query.try_get_untracked().as_deref() != Some(text.trim()) {
                    ex.apply_find(text.trim().to_string());
                }
            },
            delay,
        )
        .ok();
        pending.try_set_value(handle);
    };
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        raw.set(text.clone());
        schedule(text, FIND_DEBOUNCE);
    };
    let on_find_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Enter" => {
            ev.prevent_default();
            // Apply a pending query first, then step.
            let text = raw.get_untracked().trim().to_string();
            if ex.query.get_untracked() != text {
                ex.apply_find(text);
            }
            ex.step_match(!ev.shift_key());
        }
        "Escape" => {
            ev.prevent_default();
            raw.set(String::new());
            ex.apply_find(String::new());
            if let Some(el) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = el.blur();
            }
        }
        _ => {}
    };
    let count = move || {
        if ex.query.with(String::is_empty) {
            return String::new();
        }
        let selected = ex.selected.get();
        ex.matches.with(|m| {
            if m.is_empty() {
                return "No matches".to_string();
            }
            let at = selected.and_then(|p| m.binary_search(&(p as u32)).ok());
            match at {
                Some(i) => format!(
                    "{} of {}",
                    text::thousands(i as u64 + 1),
                    text::thousands(m.len() as u64)
                ),
                None => text::plural(m.len() as u64, "match", "matches"),
            }
        })
    };
    let no_matches = move || ex.matches.with(|m| m.is_empty());
    let on_only = move |ev: leptos::ev::Event| {
        let checked = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .is_some_and(|i| i.checked());
        ex.only_matches.set(checked);
        ex.refilter();
    };
    let expand_all = move |_| {
        let tree = ex.tree.get_value();
        ex.view.update(|v| v.expand_all(&tree));
    };
    let collapse_all = move |_| {
        let tree = ex.tree.get_value();
        ex.view.update(|v| v.collapse_to_depth(&tree, 0));
    };
    let on_level = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let tree = ex.tree.get_value();
        match value.parse::<usize>() {
            Ok(level) if level >= 1 => ex.view.update(|v| v.collapse_to_depth(&tree, level - 1)),
            _ => ex.view.update(|v| v.expand_all(&tree)),
        }
        if let Some(select) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        {
            select.set_value("");
        }
    };
    let zoomed = move || ex.window.get().is_zoomed_in(ex.whole);
    let reset_zoom = move |_| ex.window.set(ex.whole);

    view! {
        <div class="explorer-toolbar" role="toolbar" aria-label="Trace tools">
            <div class="find">
                <label class="search-box find-box">
                    <SearchIcon/>
                    <input type="search" class="input" name="find" node_ref=ex.find_input
                        placeholder="Find spans…  ( / )" autocomplete="off"
                        aria-label="Find spans by name, service, type, id or any text they hold"
                        title="Matches span names, services, types (llm, tool…) and span ids at once, then any text the spans hold (attributes, input, output, events), found by the collector."
                        prop:value=move || raw.get() on:input=on_input on:keydown=on_find_key/>
                </label>
                {move || (!raw.with(String::is_empty)).then(|| view! {
                    <span class="find-count" class:find-none=no_matches aria-live="polite">{count}</span>
                    <button type="button" class="icon-button small" title="Previous match (Shift+Enter)"
                        aria-label="Previous match" disabled=no_matches on:click=move |_| ex.step_match(false)>
                        <span class="chevron up"></span>
                    </button>
                    <button type="button" class="icon-button small" title="Next match (Enter)"
                        aria-label="Next match" disabled=no_matches on:click=move |_| ex.step_match(true)>
                        <span class="chevron down"></span>
                    </button>
                })}
                <label class="check" title="Show only matching spans and their ancestors">
                    <input type="checkbox" name="only-matches" prop:checked=move || ex.only_matches.get()
                        on:change=on_only/>
                    "Only matches"
                </label>
            </div>
            <div class="toolbar-spacer"></div>
            <TimingTools ex=ex/>
            <div class="tree-tools">
                <button type="button" class="button small" on:click=expand_all title="Expand every span">"Expand all"</button>
                <button type="button" class="button small" on:click=collapse_all title="Show only the root">"Collapse all"</button>
                <select class="select small" name="levels" aria-label="Expand to level" on:change=on_level
                    title="Expand to a level, collapse what is deeper">
                    <option value="" selected=true>"Levels…"</option>
                    {(1..=(max_depth + 1).min(12))
                        .map(|l| view! { <option value=l.to_string()>{format!("Expand to level {l}")}</option> })
                        .collect_view()}
                    <option value="all">"Expand all levels"</option>
                </select>
                {move || zoomed().then(|| view! {
                    <button type="button" class="button small zoom-reset" on:click=reset_zoom
                        title="Show the whole trace again">"Reset zoom"</button>
                })}
            </div>
        </div>
    }
}

/// Most critical-path spans listed at once (the rest are summed up below the list).
const CRITICAL_LIST_MAX: usize = 200;

/// The timing switches: the critical path (highlight, and its list), and the clock-skew
/// adjustment (shown when the trace needs one).
#[component]
fn TimingTools(ex: Ex) -> impl IntoView {
    let list_open = RwSignal::new(false);
    let skewed = ex.skewed_count();
    let on_critical = move |ev: leptos::ev::Event| {
        ex.critical_on.set(checked(&ev));
    };
    let on_skew = move |ev: leptos::ev::Event| ex.set_skew.run(checked(&ev));
    let skew_title = format!(
        "{} timed by a clock that disagrees with its caller's (it starts before or ends after          the span that called it). Adjusted as Jaeger does: shifted into the caller, with its          service's spans below it. Uncheck to see the times as recorded.",
        text::plural(skewed as u64, "span was", "spans were")
    );
    // Close the list on Escape or a click elsewhere.
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && list_open.get_untracked() {
            list_open.set(false);
        }
    });
    let clicks = window_event_listener(leptos::ev::pointerdown, move |ev| {
        let inside = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest(".timing-tools").ok().flatten())
            .is_some();
        if !inside && list_open.get_untracked() {
            list_open.set(false);
        }
    });
    on_cleanup(move || {
        keys.remove();
        clicks.remove();
    });
    view! {
        <div class="timing-tools">
            <span class="critical-switch">
                <label class="check" title="Mark on the bars the chain of spans the trace's duration waited on">
                    <input type="checkbox" name="critical-path" prop:checked=move || ex.critical_on.get()
                        on:change=on_critical/>
                    <span class="crit-swatch" aria-hidden="true"></span>
                    "Critical path"
                </label>
                <button type="button" class="button small" aria-haspopup="dialog"
                    aria-expanded=move || list_open.get().to_string()
                    title="The critical path's spans, in order, with their share of the trace"
                    on:click=move |_| list_open.update(|o| *o = !*o)>
                    "List"
                </button>
            </span>
            {(skewed > 0).then(|| view! {
                <label class="check skew-switch" title=skew_title>
                    <input type="checkbox" name="skew" prop:checked=move || ex.skew_on.get()
                        on:change=on_skew/>
                    "Adjust clock skew"
                    <span class="check-count num">{skewed}</span>
                </label>
            })}
            {move || list_open.get().then(|| view! { <CriticalList ex=ex close=move || list_open.set(false)/> })}
        </div>
    }
}

fn checked(ev: &leptos::ev::Event) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .is_some_and(|i| i.checked())
}

/// The critical path's spans in the order they ran, each with its share of the trace's
/// duration; choosing one selects it.
#[component]
fn CriticalList(ex: Ex, close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let items = move || {
        let timing = ex.timing();
        let skeleton = ex.skeleton.get_value();
        let total = timing.critical_total_us;
        let shown: Vec<(usize, i64)> = timing
            .critical_spans
            .iter()
            .copied()
            .take(CRITICAL_LIST_MAX)
            .collect();
        let rest = timing.critical_spans.len().saturating_sub(shown.len());
        let head = format!(
            "{} across the trace's {}",
            text::plural(timing.critical_spans.len() as u64, "span", "spans"),
            format::duration_ns(total * 1_000)
        );
        let rows = shown
            .into_iter()
            .map(|(i, us)| {
                let span = &skeleton.spans[i];
                let name = skeleton.name_of(span).to_string();
                let service = skeleton.service_of(span).to_string();
                let share = timing.critical_share(i);
                let id = span.span_id().to_string();
                let hue = service_hue(&service);
                let go = move |_| {
                    let pos = ex.tree.with_value(|t| t.position_of(i));
                    if let Some(pos) = pos {
                        ex.detail_open.set(true);
                        ex.go_to(pos, true);
                    }
                    close();
                };
                view! {
                    <li>
                        <button type="button" class="crit-item" data-span-id=id on:click=go
                            style=format!("--svc-h: {hue}")>
                            <span class="svc-dot"></span>
                            <span class="crit-name">{if name.is_empty() { "(unnamed)".to_string() } else { name }}</span>
                            <span class="crit-service">{service}</span>
                            <span class="crit-share" aria-hidden="true">
                                <span style=format!("width: {}%", fixed(share * 100.0, 2))></span>
                            </span>
                            <span class="crit-pct num" data-testid="crit-share">{format!("{}%", fixed(share * 100.0, 1))}</span>
                            <span class="crit-time num">{format::duration_ns(us * 1_000)}</span>
                        </button>
                    </li>
                }
            })
            .collect_view();
        (head, rows, rest)
    };
    view! {
        <div class="crit-pop" role="dialog" aria-label="Critical path" data-testid="critical-list">
            {move || {
                let (head, rows, rest) = items();
                view! {
                    <div class="crit-pop-head">
                        <strong>"Critical path"</strong>
                        <span class="muted">{head}</span>
                    </div>
                    <ol class="crit-list">{rows}</ol>
                    {(rest > 0).then(|| view! {
                        <p class="crit-more muted">{format!("and {} more, each a smaller share", text::thousands(rest as u64))}</p>
                    })}
                }
            }}
        </div>
    }
}

/// Above the rows: the zoom state on the left; the minimap and the ruler over the waterfall.
#[component]
fn TimelineHead(ex: Ex) -> impl IntoView {
    let span_count = ex.skeleton.with_value(|sk| sk.spans.len());
    let window_label = move || {
        let w = ex.window.get();
        if w.is_zoomed_in(ex.whole) {
            format!(
                "{} – {} of {}",
                format::duration_ns((w.start * 1_000.0) as i64),
                format::duration_ns((w.end * 1_000.0) as i64),
                format::duration_ns((ex.whole.width() * 1_000.0) as i64)
            )
        } else {
            "Drag on the timeline or Ctrl+scroll to zoom".to_string()
        }
    };
    view! {
        <div class="timeline-head" on:wheel=move |ev| wheel_zoom(ex, &ev)>
            <div class="head-tree">
                <span class="head-title">{text::plural(span_count as u64, "span", "spans")}</span>
                <span class="head-zoom muted">{window_label}</span>
            </div>
            <div class="head-time">
                <Minimap ex=ex/>
                <Ruler ex=ex/>
            </div>
        </div>
    }
}

/// Ctrl+wheel (a trackpad's pinch arrives as one too) over the waterfall zooms its window
/// around the pointer; over the tree, and without Ctrl, the wheel scrolls as usual.
fn wheel_zoom(ex: Ex, ev: &web_sys::WheelEvent) {
    if !(ev.ctrl_key() || ev.meta_key()) {
        return;
    }
    let Some(ruler) = document().query_selector(".explorer .ruler").ok().flatten() else {
        return;
    };
    let rect = ruler.get_bounding_client_rect();
    let x = f64::from(ev.client_x());
    if x < rect.left() || rect.width() < 1.0 {
        return;
    }
    ev.prevent_default();
    let anchor = clamp((x - rect.left()) / rect.width(), 0.0, 1.0);
    // Lines and pages as pixels, then a smooth factor: a notch (~100 px) is about 22%.
    let pixels = match ev.delta_mode() {
        1 => ev.delta_y() * 16.0,
        2 => ev.delta_y() * 400.0,
        _ => ev.delta_y(),
    };
    let factor = clamp((pixels * 0.0025).exp(), 0.25, 4.0);
    let window = ex.window.get_untracked();
    let zoomed = window.zoom(factor, anchor, ex.whole);
    if zoomed != window {
        ex.window.set(zoomed);
    }
}

/// Drag across to pick a range of the element's width (fractions 0..1); a click without
/// a drag calls `on_click`.
#[component]
fn RangeSelect(
    #[prop(into)] class: String,
    #[prop(into)] title: String,
    on_pick: Callback<(f64, f64)>,
    #[prop(optional)] on_click: Option<Callback<f64>>,
    children: Children,
) -> impl IntoView {
    let drag = RwSignal::new(None::<(f64, f64)>);
    let el = NodeRef::<Div>::new();
    let frac = move |ev: &web_sys::PointerEvent| -> f64 {
        el.get_untracked()
            .map(|el| {
                let r = el.get_bounding_client_rect();
                clamp(
                    (f64::from(ev.client_x()) - r.left()) / r.width().max(1.0),
                    0.0,
                    1.0,
                )
            })
            .unwrap_or(0.0)
    };
    let down = move |ev: web_sys::PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        let f = frac(&ev);
        drag.set(Some((f, f)));
        if let Some(el) = el.get_untracked() {
            let _ = el.set_pointer_capture(ev.pointer_id());
        }
        ev.prevent_default();
    };
    let moved = move |ev: web_sys::PointerEvent| {
        if let Some((a, _)) = drag.get_untracked() {
            drag.set(Some((a, frac(&ev))));
        }
    };
    let up = move |ev: web_sys::PointerEvent| {
        if let Some((a, _)) = drag.get_untracked() {
            let b = frac(&ev);
            drag.set(None);
            if (a - b).abs() > 0.004 {
                on_pick.run((a, b));
            } else if let Some(click) = on_click {
                click.run(a);
            }
        }
    };
    let selection = move || {
        drag.get().map(|(a, b)| {
            let (l, r) = if a <= b { (a, b) } else { (b, a) };
            view! {
                <div class="range-sel" style=format!("left: {}%; width: {}%", fixed(l * 100.0, 3), fixed((r - l) * 100.0, 3))></div>
            }
        })
    };
    view! {
        <div class=class node_ref=el title=title on:pointerdown=down on:pointermove=moved on:pointerup=up
            on:pointercancel=move |_| drag.set(None)>
            {children()}
            {selection}
        </div>
    }
}

/// The whole trace in miniature: how many spans run over time, failures marked, the zoomed
/// window outlined. Drag to zoom; click to move the window.
#[component]
fn Minimap(ex: Ex) -> impl IntoView {
    let (path, errors) = ex.skeleton.with_value(|sk| {
        let profile = scale::activity(
            sk.spans.iter().map(|s| (s.start_us(), s.end_us())),
            ex.whole,
            MINIMAP_BUCKETS,
        );
        let max = profile.iter().copied().max().unwrap_or(1).max(1) as f64;
        // A step outline, numbers only (nothing from the trace reaches the markup).
        let mut d = String::from("M0 40");
        for (i, &c) in profile.iter().enumerate() {
            let y = 40.0 - (f64::from(c) / max).sqrt() * 38.0;
            d.push_str(&format!(" L{i} {} L{} {}", fixed(y, 1), i + 1, fixed(y, 1)));
        }
        d.push_str(&format!(" L{MINIMAP_BUCKETS} 40 Z"));
        let mut failed = [false; MINIMAP_BUCKETS];
        for s in sk.spans.iter().filter(|s| s.status().is_error()) {
            let b = (ex.whole.frac(s.start_us() as f64) * MINIMAP_BUCKETS as f64).floor();
            failed[(b.max(0.0) as usize).min(MINIMAP_BUCKETS - 1)] = true;
        }
        let errors: Vec<f64> = failed
            .iter()
            .enumerate()
            .filter(|(_, f)| **f)
            .map(|(i, _)| (i as f64 + 0.5) / MINIMAP_BUCKETS as f64)
            .collect();
        (d, errors)
    });
    let window_style = move || {
        let w = ex.window.get();
        let l = clamp(ex.whole.frac(w.start), 0.0, 1.0);
        let r = clamp(ex.whole.frac(w.end), 0.0, 1.0);
        format!(
            "left: {}%; width: {}%",
            fixed(l * 100.0, 3),
            fixed((r - l).max(0.002) * 100.0, 3)
        )
    };
    let pick = Callback::new(move |(a, b): (f64, f64)| {
        ex.window.set(ex.whole.select(a, b, ex.whole));
    });
    let click = Callback::new(move |at: f64| {
        let w = ex.window.get_untracked();
        if !w.is_zoomed_in(ex.whole) {
            return;
        }
        let center = ex.whole.at(at);
        ex.window.set(
            TimeWindow::new(center - w.width() / 2.0, center + w.width() / 2.0).within(ex.whole),
        );
    });
    let view_box = format!("0 0 {MINIMAP_BUCKETS} 40");
    view! {
        <RangeSelect class="minimap" title="The whole trace: drag to zoom, click to move the zoomed window"
            on_pick=pick on_click=click>
            <svg class="minimap-svg" viewBox=view_box preserveAspectRatio="none" aria-hidden="true">
                <path class="minimap-area" d=path/>
            </svg>
            {errors
                .into_iter()
                .map(|f| view! { <span class="minimap-error" style=format!("left: {}%", fixed(f * 100.0, 3))></span> })
                .collect_view()}
            <div class="minimap-window" class:zoomed=move || ex.window.get().is_zoomed_in(ex.whole)
                style=window_style></div>
        </RangeSelect>
    }
}

fn tick_count(ex: Ex) -> usize {
    if ex.detail_open.get() {
        5
    } else {
        8
    }
}

/// The time ruler over the waterfall; drag on it to zoom in.
#[component]
fn Ruler(ex: Ex) -> impl IntoView {
    let pick = Callback::new(move |(a, b): (f64, f64)| {
        let w = ex.window.get_untracked();
        ex.window.set(w.select(a, b, ex.whole));
    });
    let ticks = move || {
        scale::ticks(ex.window.get(), tick_count(ex))
            .into_iter()
            .filter(|t| (0.0..=1.0).contains(&t.frac))
            .map(|t| {
                let style = format!("left: {}%", fixed(t.frac * 100.0, 3));
                let edge = t.frac > 0.9;
                view! { <span class="tick" class:tick-end=edge style=style>{t.label}</span> }
            })
            .collect_view()
    };
    view! {
        <RangeSelect class="ruler" title="Drag to zoom into a time range" on_pick=pick>
            {ticks}
        </RangeSelect>
    }
}

/// The virtualized rows.
#[component]
fn Rows(ex: Ex) -> impl IntoView {
    let slice = Memo::new(move |_| {
        let top = ex.scroll_top.get();
        let h = ex.viewport_h.get();
        let selected = ex.selected.get();
        let window = ex.window.get();
        let epoch = ex.find_epoch.get();
        let skew = ex.skew_on.get();
        let critical = ex.critical_on.get();
        let bar_w = ex.bar_w.get();
        ex.matches.with(|matches| {
            ex.view.with(|v| {
                let n = v.len();
                let first = ((top / ROW_H).floor().max(0.0) as usize).min(n);
                let shown = (h / ROW_H).ceil() as usize + 1;
                let start = first.saturating_sub(OVERSCAN);
                let end = (first + shown + OVERSCAN).min(n);
                // Row r is drawn by element r % slots: a scroll of a few rows redraws only the
                // rows that came into view, the others keep their elements untouched.
                let slots = shown + 2 * OVERSCAN;
                let mut drawn = vec![None; slots];
                for r in start..end {
                    drawn[r % slots] = Some(r);
                }
                drawn
                    .into_iter()
                    .map(|r| {
                        let r = r?;
                        let pos = v.rows()[r];
                        Some(RowKey {
                            row: r as u32,
                            pos,
                            selected: selected == Some(pos as usize),
                            matched: matches.binary_search(&pos).is_ok(),
                            collapsed: v.is_collapsed(pos as usize),
                            epoch,
                            window: (window.start.to_bits(), window.end.to_bits()),
                            skew,
                            critical,
                            bar_w,
                        })
                    })
                    .collect::<Vec<Option<RowKey>>>()
            })
        })
    });
    let height = move || {
        format!(
            "height: {}px",
            plain(ex.view.with(TreeView::len) as f64 * ROW_H)
        )
    };
    let on_scroll = move |_| {
        if let Some(el) = ex.viewport.get_untracked() {
            ex.scroll_top.set(f64::from(el.scroll_top()));
        }
    };
    let grid = move || {
        scale::ticks(ex.window.get(), tick_count(ex))
            .into_iter()
            .filter(|t| (0.0..=1.0).contains(&t.frac))
            .map(|t| view! { <span class="grid-line" style=format!("left: {}%", fixed(t.frac * 100.0, 3))></span> })
            .collect_view()
    };
    // The row elements are in slot order, not top to bottom: assistive technology reads the
    // rows in the order this lists.
    let reading_order = move || {
        slice.with(|drawn| {
            let mut rows: Vec<u32> = drawn.iter().flatten().map(|k| k.row).collect();
            sort::sort_u32(&mut rows);
            rows.iter()
                .map(|r| format!("span-row-{r}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
    };
    let nothing_shown = move || {
        ex.only_matches.get()
            && !ex.query.with(String::is_empty)
            && ex.view.with(TreeView::is_empty)
    };
    view! {
        <div class="rows-wrap">
            <div class="rows-viewport" node_ref=ex.viewport on:scroll=on_scroll role="tree"
                aria-owns=reading_order
                on:wheel=move |ev| wheel_zoom(ex, &ev)
                aria-label="Spans" tabindex="0">
                <div class="rows-canvas" style=height>
                    <div class="grid-lines" aria-hidden="true">{grid}</div>
                    // Rebuilt in place, not keyed: an element that draws another row gets its
                    // attributes and text updated (only those that differ) rather than being
                    // replaced, and one whose row is unchanged is not touched, nor repainted.
                    {move || slice.get().into_iter().map(|item| item.map(|item| span_row(ex, item))).collect_view()}
                </div>
            </div>
            {move || nothing_shown().then(|| view! {
                <div class="rows-empty">
                    <p>{move || format!("No span matches “{}”.", ex.query.get())}</p>
                    <p class="muted">"Find looks at span names, services, types and ids, and at any text the spans hold."</p>
                </div>
            })}
        </div>
    }
}

/// What a drawn row shows. Rows have no reactive parts: when any of this changes for a row
/// (selection, a match, collapse, zoom, the query, a scroll), the rows are rebuilt, each DOM
/// attribute and text set only where it differs.
#[derive(Clone, Copy, PartialEq)]
struct RowKey {
    row: u32,
    pos: u32,
    selected: bool,
    matched: bool,
    collapsed: bool,
    /// Bumped on every find query (names show the query marked).
    epoch: u32,
    window: (u64, u64),
    /// The clock-skew adjustment and the critical-path highlight.
    skew: bool,
    critical: bool,
    bar_w: u32,
}

fn span_row(ex: Ex, key: RowKey) -> impl IntoView {
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
    let marks = tree
        .span_at(pos)
        .map(|i| RowTiming::of(&timing, &skeleton, i, key.critical, window))
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
fn segment(class: String, b: &scale::Bar, title: Option<String>) -> impl IntoView {
    view! { <span class=class style=bar_style(b) title=title></span> }
}

/// A row's small labelled mark (skew, call, tokens, cost…).
fn chip(
    class: &'static str,
    testid: Option<&'static str>,
    title: Option<String>,
    text: String,
) -> impl IntoView {
    view! { <span class=class data-testid=testid title=title>{text}</span> }
}

fn bar_style(b: &scale::Bar) -> String {
    format!(
        "left: {}%; width: {}%",
        fixed(b.left * 100.0, 3),
        fixed(b.width * 100.0, 3)
    )
}

/// What a span's row shows of the trace's timing: its clock-skew adjustment, its part in a
/// call across services, and its stretches on the critical path (bars in the window).
#[derive(Default)]
struct RowTiming {
    /// The span's own adjustment (µs; 0 when it only moved with its parent).
    skew_us: i64,
    /// Where the span was recorded, when adjusted.
    recorded: Option<scale::Bar>,
    call: CallRole,
    /// The service on the other side of the call.
    peer_service: String,
    /// The network gaps before and after a server span, with their classes.
    gaps: Vec<(scale::Bar, &'static str, String)>,
    critical: Vec<scale::Bar>,
    on_critical: bool,
}

impl RowTiming {
    fn of(
        timing: &TraceTiming,
        skeleton: &TraceSkeleton,
        i: usize,
        critical: bool,
        window: TimeWindow,
    ) -> RowTiming {
        let segment = |a: i64, b: i64| window.bar(a as f64, b as f64, 0.0);
        let span = &skeleton.spans[i];
        let skew_us = timing.own_adjustment_us(skeleton, i);
        let recorded = (skew_us != 0)
            .then(|| segment(span.start_us(), span.end_us()))
            .flatten();
        let call = timing.call_role(i);
        let (peer_service, gaps) = match call {
            CallRole::Server { client, .. } => {
                let (client_start, client_end) = timing.extent_us(skeleton, client);
                let (start, end) = timing.extent_us(skeleton, i);
                let mut gaps = Vec::new();
                if start > client_start {
                    let title = format!(
                        "Request over the network: {}",
                        format::signed_duration_ns((start - client_start) * 1_000)
                    );
                    gaps.extend(
                        segment(client_start, start).map(|b| (b, "net-gap request", title)),
                    );
                }
                if client_end > end {
                    let title = format!(
                        "Response over the network: {}",
                        format::signed_duration_ns((client_end - end) * 1_000)
                    );
                    gaps.extend(segment(end, client_end).map(|b| (b, "net-gap response", title)));
                }
                (
                    skeleton.service_of(&skeleton.spans[client]).to_string(),
                    gaps,
                )
            }
            CallRole::Client { server } => (
                skeleton.service_of(&skeleton.spans[server]).to_string(),
                Vec::new(),
            ),
            CallRole::None => (String::new(), Vec::new()),
        };
        let sections = timing.critical_sections(i);
        RowTiming {
            skew_us,
            recorded,
            call,
            peer_service,
            gaps,
            critical: if critical {
                sections
                    .iter()
                    .filter_map(|s| segment(s.start, s.end))
                    .collect()
            } else {
                Vec::new()
            },
            on_critical: critical && !sections.is_empty(),
        }
    }
}

fn tree_has_span(ex: Ex, pos: usize) -> bool {
    ex.tree.with_value(|t| t.span_at(pos).is_some())
}

/// `str::to_lowercase`, by the browser's `toLowerCase` (the same Unicode mapping) for
/// non-ASCII text, so that core's case tables stay out of the page's wasm.
pub fn lowercase(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    wasm_bindgen::JsValue::from_str(text)
        .unchecked_into::<JsText>()
        .to_lower_case()
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    type JsText;
    #[wasm_bindgen(method, js_name = toLowerCase)]
    fn to_lower_case(this: &JsText) -> String;
}

/// The label split around the find query's first occurrence (all plain text).
fn split_match(label: &str, query: &str) -> (String, Option<String>, String) {
    let q = lowercase(query.trim());
    let lower = lowercase(label);
    // Lowercasing may change byte lengths (rare scripts): then nothing is marked.
    if !q.is_empty() && lower.len() == label.len() {
        if let Some(at) = lower.find(&q) {
            let end = at + q.len();
            if label.is_char_boundary(at) && label.is_char_boundary(end) {
                return (
                    label[..at].to_string(),
                    Some(label[at..end].to_string()),
                    label[end..].to_string(),
                );
            }
        }
    }
    (label.to_string(), None, String::new())
}

/// Below the rows: what is shown, and the keyboard.
#[component]
fn StatusBar(ex: Ex) -> impl IntoView {
    let total = ex.tree.with_value(|t| t.len());
    let shown = move || {
        let visible = ex.view.with(TreeView::len);
        if visible == total {
            format!("{} rows", text::thousands(total as u64))
        } else {
            format!(
                "{} of {} rows shown",
                text::thousands(visible as u64),
                text::thousands(total as u64)
            )
        }
    };
    view! {
        <div class="status-bar">
            <span class="num" data-testid="rows-shown">{shown}</span>
            <span class="keys muted">
                <kbd>"↑"</kbd><kbd>"↓"</kbd>" or "<kbd>"j"</kbd><kbd>"k"</kbd>" move · "
                <kbd>"←"</kbd><kbd>"→"</kbd>" fold · "
                <kbd>"Enter"</kbd>" details · "
                <kbd>"/"</kbd>" find · "
                <kbd>"n"</kbd>" next match"
            </span>
        </div>
    }
}
