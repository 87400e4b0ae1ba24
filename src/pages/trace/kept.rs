//! What the explorer keeps when the trace it shows is loaded again (a trace in progress grows
//! as its spans arrive, and each burst of them loads it anew): the find text and its matches,
//! "Only matches", the selection and its detail panel, what is collapsed, the zoom and the
//! scroll position. Nodes are kept by span id: positions change as spans arrive.

use leptos::prelude::*;
use skein_model::scale::TimeWindow;

use super::find::apply_find_in_place;
use super::state::Ex;

/// The view of one trace, taken from an explorer before the trace is loaded again.
#[derive(Clone, Debug)]
pub struct Kept {
    trace_id: String,
    find_text: String,
    only_matches: bool,
    selected: Option<String>,
    detail_open: bool,
    collapsed: Vec<String>,
    /// The window shown when zoomed in (else the whole trace again, which may have grown).
    zoom: Option<TimeWindow>,
    critical_on: bool,
    scroll_top: f64,
}

/// The view `ex` shows now; `None` once it is gone.
pub fn keep(ex: Ex) -> Option<Kept> {
    let tree = ex.tree.try_get_value()?;
    let collapsed = ex.view.try_with_untracked(|v| {
        (0..tree.len())
            .filter(|&pos| tree.has_children(pos) && v.is_collapsed(pos))
            .filter_map(|pos| ex.span_id(pos))
            .collect()
    })?;
    let window = ex.window.try_get_untracked()?;
    Some(Kept {
        trace_id: ex.skeleton.with_value(|sk| sk.summary.trace_id.clone()),
        find_text: ex.find_text.try_get_untracked()?,
        only_matches: ex.only_matches.try_get_untracked()?,
        selected: ex
            .selected
            .try_get_untracked()?
            .and_then(|pos| ex.span_id(pos)),
        detail_open: ex.detail_open.try_get_untracked()?,
        collapsed,
        zoom: window.is_zoomed_in(ex.whole_untracked()).then_some(window),
        critical_on: ex.critical_on.try_get_untracked()?,
        scroll_top: ex.scroll_top.try_get_untracked()?,
    })
}

/// Shows `kept` in `ex`, a new explorer of the same trace (of another: nothing changes);
/// the scroll position is applied once its rows are drawn (`Ex::kept_scroll`).
pub fn restore(ex: Ex, kept: Kept) {
    if ex
        .skeleton
        .with_value(|sk| sk.summary.trace_id != kept.trace_id)
    {
        return;
    }
    let tree = ex.tree.get_value();
    let positions: Vec<usize> = kept
        .collapsed
        .iter()
        .filter_map(|id| ex.position_of_id(id))
        .collect();
    if !positions.is_empty() {
        ex.view.update_untracked(|v| {
            for pos in positions {
                v.set_collapsed(&tree, pos, true);
            }
        });
    }
    ex.critical_on.set(kept.critical_on);
    if let Some(zoom) = kept.zoom {
        ex.window.set(zoom.within(ex.whole_untracked()));
    }
    ex.only_matches.set(kept.only_matches);
    ex.find_text.set(kept.find_text.clone());
    apply_find_in_place(ex, kept.find_text.trim().to_string());
    if let Some(pos) = kept
        .selected
        .as_deref()
        .and_then(|id| ex.position_of_id(id))
    {
        ex.view.update_untracked(|v| {
            v.reveal(&tree, pos);
        });
        ex.selected.set(Some(pos));
        ex.detail_open.set(kept.detail_open);
    }
    ex.kept_scroll.set_value(Some(kept.scroll_top));
}
