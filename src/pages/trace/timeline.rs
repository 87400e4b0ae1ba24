//! Above the rows: the zoom state, the minimap and the ruler, Ctrl+wheel zoom, and the drag
//! to pick a range that both the minimap and the ruler use.

use leptos::html::Div;
use leptos::prelude::*;
use skein_model::format;
use skein_model::format::fixed;
use skein_model::num::clamp;

use super::minimap::Minimap;
use super::ruler::Ruler;
use super::state::Ex;
use crate::text;

/// Above the rows: the zoom state on the left; the minimap and the ruler over the waterfall.
#[component]
pub fn TimelineHead(ex: Ex) -> impl IntoView {
    let span_count = ex.skeleton.with_value(|sk| sk.spans.len());
    let window_label = move || {
        let (w, whole) = (ex.window.get(), ex.whole());
        if w.is_zoomed_in(whole) {
            // Read from the trace's start as shown, like the ruler.
            let ns = |us: f64| (us * 1_000.0) as i64;
            format!(
                "{} – {} of {}",
                format::duration_ns(ns(w.start - whole.start)),
                format::duration_ns(ns(w.end - whole.start)),
                format::duration_ns(ns(whole.width()))
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
pub fn wheel_zoom(ex: Ex, ev: &web_sys::WheelEvent) {
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
    let zoomed = window.zoom(factor, anchor, ex.whole_untracked());
    if zoomed != window {
        ex.window.set(zoomed);
    }
}

/// Drag across to pick a range of the element's width (fractions 0..1); a click without
/// a drag calls `on_click`.
#[component]
pub fn RangeSelect(
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
