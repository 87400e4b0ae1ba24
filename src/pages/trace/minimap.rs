//! The minimap: the whole trace's activity over time, failures marked, the zoomed window
//! outlined.

use leptos::prelude::*;
use skein_model::format::fixed;
use skein_model::num::clamp;
use skein_model::scale::{self, TimeWindow};

use super::state::Ex;
use super::timeline::RangeSelect;

const MINIMAP_BUCKETS: usize = 200;

/// The whole trace in miniature: how many spans run over time, failures marked, the zoomed
/// window outlined. Drag to zoom; click to move the window.
#[component]
pub fn Minimap(ex: Ex) -> impl IntoView {
    // Drawn from the spans as shown (adjusted or not), over the whole trace as shown.
    // Drawn once the rows are painted: a pass over every span the first screen can do without.
    let profile = Memo::new(move |_| {
        if !ex.painted.get() {
            return (String::new(), Vec::new());
        }
        let (timing, whole) = (ex.timing(), ex.whole());
        ex.skeleton.with_value(|sk| {
            let shown = |i: usize| timing.extent_us(sk, i);
            let counts = scale::activity((0..sk.spans.len()).map(shown), whole, MINIMAP_BUCKETS);
            let max = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
            // A step outline, numbers only (nothing from the trace reaches the markup).
            let mut d = String::from("M0 40");
            for (i, &c) in counts.iter().enumerate() {
                let y = 40.0 - (f64::from(c) / max).sqrt() * 38.0;
                d.push_str(&format!(" L{i} {} L{} {}", fixed(y, 1), i + 1, fixed(y, 1)));
            }
            d.push_str(&format!(" L{MINIMAP_BUCKETS} 40 Z"));
            let mut failed = [false; MINIMAP_BUCKETS];
            for i in (0..sk.spans.len()).filter(|&i| sk.spans[i].status().is_error()) {
                let b = (whole.frac(shown(i).0 as f64) * MINIMAP_BUCKETS as f64).floor();
                failed[(b.max(0.0) as usize).min(MINIMAP_BUCKETS - 1)] = true;
            }
            let errors: Vec<f64> = failed
                .iter()
                .enumerate()
                .filter(|(_, f)| **f)
                .map(|(i, _)| (i as f64 + 0.5) / MINIMAP_BUCKETS as f64)
                .collect();
            (d, errors)
        })
    });
    let path = move || profile.with(|p| p.0.clone());
    let errors = move || {
        profile.with(|p| {
            p.1.iter()
                .map(|f| view! { <span class="minimap-error" style=format!("left: {}%", fixed(f * 100.0, 3))></span> })
                .collect_view()
        })
    };
    let window_style = move || {
        let (w, whole) = (ex.window.get(), ex.whole());
        let l = clamp(whole.frac(w.start), 0.0, 1.0);
        let r = clamp(whole.frac(w.end), 0.0, 1.0);
        format!(
            "left: {}%; width: {}%",
            fixed(l * 100.0, 3),
            fixed((r - l).max(0.002) * 100.0, 3)
        )
    };
    let pick = Callback::new(move |(a, b): (f64, f64)| {
        let whole = ex.whole_untracked();
        ex.window.set(whole.select(a, b, whole));
    });
    let click = Callback::new(move |at: f64| {
        let (w, whole) = (ex.window.get_untracked(), ex.whole_untracked());
        if !w.is_zoomed_in(whole) {
            return;
        }
        let center = whole.at(at);
        ex.window
            .set(TimeWindow::new(center - w.width() / 2.0, center + w.width() / 2.0).within(whole));
    });
    let view_box = format!("0 0 {MINIMAP_BUCKETS} 40");
    view! {
        <RangeSelect class="minimap" title="The whole trace: drag to zoom, click to move the zoomed window"
            on_pick=pick on_click=click>
            <svg class="minimap-svg" viewBox=view_box preserveAspectRatio="none" aria-hidden="true">
                <path class="minimap-area" d=path/>
            </svg>
            {errors}
            <div class="minimap-window" class:zoomed=move || ex.window.get().is_zoomed_in(ex.whole())
                style=window_style></div>
        </RangeSelect>
    }
}
