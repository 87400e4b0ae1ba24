//! The time ruler over the waterfall (and how many ticks it and the rows' grid lines show).

use leptos::prelude::*;
use skein_model::format::fixed;
use skein_model::scale;

use super::state::Ex;
use super::timeline::RangeSelect;

pub fn tick_count(ex: Ex) -> usize {
    if ex.detail_open.get() {
        5
    } else {
        8
    }
}

/// The time ruler over the waterfall; drag on it to zoom in.
#[component]
pub fn Ruler(ex: Ex) -> impl IntoView {
    let pick = Callback::new(move |(a, b): (f64, f64)| {
        let w = ex.window.get_untracked();
        ex.window.set(w.select(a, b, ex.whole_untracked()));
    });
    let ticks = move || {
        scale::ticks(ex.window.get(), ex.whole().start, tick_count(ex))
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
