//! The explorer's state: the trace, its tree and the view of it (collapse, selection, find,
//! zoom, scroll), as cheap copyable handles shared by the explorer's parts, and the moves the
//! keyboard and clicks make on it. No network here: what needs the collector is in `find`.

use std::sync::Arc;
use std::time::Duration;

use leptos::html::Div;
use leptos::prelude::*;
use skein_model::scale::TimeWindow;
use skein_model::timing::{CriticalPath, TraceTiming};
use skein_model::tree::{self, TraceTree, TreeView};
use skein_model::TraceSkeleton;

use super::Loaded;
use crate::perf;

/// Every row is this tall (px): row `r` sits at `r * ROW_H`.
pub const ROW_H: f64 = 28.0;

fn whole_of(timing: &TraceTiming) -> TimeWindow {
    let (start, end) = timing.extent_us;
    TimeWindow::new(start as f64, end as f64)
}

/// The explorer's state: cheap copyable handles, shared by its parts.
#[derive(Clone, Copy)]
pub struct Ex {
    pub skeleton: StoredValue<Arc<TraceSkeleton>>,
    pub tree: StoredValue<Arc<TraceTree>>,
    /// Every span has arrived (else the first rows are shown while the rest arrives).
    pub complete: bool,
    /// Collapse state and visible rows.
    pub view: RwSignal<TreeView>,
    /// The selected node's position.
    pub selected: RwSignal<Option<usize>>,
    pub detail_open: RwSignal<bool>,
    /// The find box's text as typed; the query as applied (debounced), and its matches
    /// (positions, ascending).
    pub find_text: RwSignal<String>,
    pub query: RwSignal<String>,
    pub find_epoch: RwSignal<u32>,
    pub matches: RwSignal<Arc<Vec<u32>>>,
    pub only_matches: RwSignal<bool>,
    /// The stretch of time the waterfall shows (the whole trace, `whole()`, unless zoomed).
    pub window: RwSignal<TimeWindow>,
    pub scroll_top: RwSignal<f64>,
    /// The scroll position kept from the explorer this one replaces (`kept`), applied once
    /// the rows are drawn.
    pub kept_scroll: StoredValue<Option<f64>>,
    pub viewport_h: RwSignal<f64>,
    /// The first rows have been painted: what the first screen can do without comes after.
    pub painted: RwSignal<bool>,
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
    pub project: StoredValue<String>,
    /// Timing with the adjustment (computed with the trace), and without (when first asked).
    adjusted: StoredValue<Arc<TraceTiming>>,
    unadjusted: StoredValue<Option<Arc<TraceTiming>>>,
    /// The critical path with the adjustment and without, each computed once it is shown,
    /// after the rows are painted (a million spans' path takes a while); `critical_epoch`
    /// tells the rows one has arrived.
    critical_paths: StoredValue<[Option<Arc<CriticalPath>>; 2]>,
    critical_epoch: RwSignal<u32>,
}

impl Ex {
    pub fn new(
        loaded: &Loaded,
        project: String,
        skew_on: Memo<bool>,
        set_skew: Callback<bool>,
    ) -> Ex {
        let adjusted = TraceTiming::compute(&loaded.skeleton, true);
        let whole = whole_of(&adjusted);
        let ex = Ex {
            skeleton: StoredValue::new(loaded.skeleton.clone()),
            tree: StoredValue::new(loaded.tree.clone()),
            complete: loaded.complete,
            view: RwSignal::new(TreeView::new(&loaded.tree)),
            selected: RwSignal::new(None),
            detail_open: RwSignal::new(false),
            find_text: RwSignal::new(String::new()),
            query: RwSignal::new(String::new()),
            find_epoch: RwSignal::new(0),
            matches: RwSignal::new(Arc::new(Vec::new())),
            only_matches: RwSignal::new(false),
            window: RwSignal::new(whole),
            scroll_top: RwSignal::new(0.0),
            kept_scroll: StoredValue::new(None),
            // The window's height until the viewport is measured (more than the viewport's,
            // so that the first rows drawn fill it).
            viewport_h: RwSignal::new(
                window()
                    .inner_height()
                    .ok()
                    .and_then(|h| h.as_f64())
                    .filter(|h| *h > 0.0)
                    .unwrap_or(900.0),
            ),
            painted: RwSignal::new(false),
            bar_w: RwSignal::new(800),
            viewport: NodeRef::new(),
            find_input: NodeRef::new(),
            skew_on,
            set_skew,
            critical_on: RwSignal::new(true),
            project: StoredValue::new(project),
            adjusted: StoredValue::new(Arc::new(adjusted)),
            unadjusted: StoredValue::new(None),
            critical_paths: StoredValue::new([None, None]),
            critical_epoch: RwSignal::new(0),
        };
        // The critical path, once shown: computed after the next frame is painted.
        Effect::new(move |_| {
            let skew = ex.skew_on.get();
            if ex.critical_on.get() {
                ex.request_critical(skew);
            }
        });
        // The window follows the skew setting: the whole trace again, unless zoomed in
        // (then kept, inside the new whole).
        let shown = StoredValue::new(whole);
        Effect::new(move |_| {
            let whole = ex.whole();
            let before = shown.get_value();
            if whole == before {
                return;
            }
            shown.set_value(whole);
            let w = ex.window.get_untracked();
            ex.window.set(if w.is_zoomed_in(before) {
                w.within(whole)
            } else {
                whole
            });
        });
        ex
    }

    /// The whole trace as shown (tracks the skew setting): the extent every bar, the ruler and
    /// the minimap are drawn in, and the header's duration.
    pub fn whole(&self) -> TimeWindow {
        whole_of(&self.timing())
    }

    pub fn whole_untracked(&self) -> TimeWindow {
        whole_of(&self.timing_for(self.skew_on.get_untracked()))
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

    /// The critical path as shown (tracks the skew setting and its arrival); none until it
    /// has been computed.
    pub fn critical_path(&self) -> Option<Arc<CriticalPath>> {
        self.critical_epoch.track();
        self.critical_path_for(self.skew_on.get())
    }

    /// The critical path for a skew setting, untracked; none until computed.
    pub fn critical_path_for(&self, skew: bool) -> Option<Arc<CriticalPath>> {
        self.critical_paths
            .try_with_value(|paths| paths[usize::from(skew)].clone())
            .flatten()
    }

    /// Has the critical path for a skew setting computed after the next frame is painted,
    /// unless it is there already.
    pub fn request_critical(&self, skew: bool) {
        if self.critical_path_for(skew).is_none() {
            let ex = *self;
            request_animation_frame(move || {
                set_timeout(move || ex.compute_critical(skew), Duration::ZERO);
            });
        }
    }

    /// Computes the critical path for a skew setting, unless it is there already (or the
    /// explorer is gone), and marks the first for benchmarks (`skein:trace-critical`).
    fn compute_critical(&self, skew: bool) {
        if self.critical_paths.try_get_value().is_none() || self.critical_path_for(skew).is_some() {
            return;
        }
        let timing = self.timing_for(skew);
        let path = self
            .skeleton
            .with_value(|sk| Arc::new(CriticalPath::compute(sk, &timing)));
        let first = self
            .critical_paths
            .try_update_value(|paths| {
                paths[usize::from(skew)] = Some(path);
                paths.iter().flatten().count() == 1
            })
            .unwrap_or(false);
        self.critical_epoch.try_update(|e| *e += 1);
        if first && self.complete {
            perf::mark("skein:trace-critical");
            perf::measure(
                "skein:trace-critical-path",
                "skein:trace-painted",
                "skein:trace-critical",
            );
        }
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

    pub fn position_of_id(&self, id: &str) -> Option<usize> {
        let i = self.skeleton.with_value(|sk| tree::span_index(sk, id))?;
        self.tree.with_value(|t| t.position_of(i))
    }

    /// The selected row, or the row of its nearest visible ancestor.
    pub fn current_row(&self) -> Option<usize> {
        let pos = self.selected.get_untracked()?;
        let tree = self.tree.get_value();
        self.view.with_untracked(|v| {
            v.row_of(pos)
                .or_else(|| tree.ancestors(pos).find_map(|a| v.row_of(a)))
        })
    }

    pub fn set_collapsed(&self, pos: usize, collapsed: bool) {
        let tree = self.tree.get_value();
        if self.view.with_untracked(|v| v.is_collapsed(pos)) != collapsed {
            self.view.update(|v| v.set_collapsed(&tree, pos, collapsed));
        }
    }

    pub fn toggle(&self, pos: usize) {
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
    pub fn scroll_to_row(&self, row: usize, center: bool) {
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

    pub fn select_row(&self, row: usize) {
        if let Some(pos) = self.view.with_untracked(|v| v.position(row)) {
            self.selected.set(Some(pos));
            self.scroll_to_row(row, false);
        }
    }

    pub fn move_by(&self, delta: isize) {
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

    pub fn page_rows(&self) -> isize {
        ((self.viewport_h.get_untracked() / ROW_H).floor() as isize - 1).max(1)
    }

    /// Left: collapse an open node, else go to its parent.
    pub fn left(&self) {
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
    pub fn right(&self) {
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

    pub fn refilter(&self) {
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

    pub fn step_match(&self, forward: bool) {
        let next = self
            .matches
            .with_untracked(|m| tree::step_match(m, self.selected.get_untracked(), forward));
        if let Some(pos) = next {
            self.go_to(pos, true);
        }
    }
}
