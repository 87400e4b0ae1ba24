//! The tree and waterfall, Jaeger-style: an indented, collapsible tree on the left and bars on a
//! shared time ruler on the right, one row per visible node. Rows are virtualized: only the ones
//! in view (plus a few) are in the DOM, at a fixed height, whatever the trace's size. Collapse
//! state and the visible rows live in `skein_model::tree::TreeView`, which changes only the
//! range a collapse or expand touches.
//!
//! Also here: the toolbar (find, expand/collapse, levels, zoom), the minimap and ruler (drag to
//! zoom), keyboard navigation, and the `?span=` URL sync.

use std::time::Duration;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use super::detail::LazyDetailPanel;
use super::keyboard::on_key;
use super::rows::{Rows, StatusBar};
use super::state::Ex;
use super::timeline::TimelineHead;
use super::toolbar::Toolbar;
use super::Loaded;
use crate::components::empty_state::EmptyState;
use crate::links::trace_span_href;
use crate::perf;

/// The explorer's state for a loaded trace, made before the page's parts (the header shows
/// its duration): the skew switch writes the URL.
pub fn explorer_state(
    loaded: &Loaded,
    project: String,
    trace_id: String,
    span_in_url: Memo<Option<String>>,
    skew_in_url: Memo<bool>,
) -> Ex {
    let navigate = use_navigate();
    let set_skew = {
        let project = project.clone();
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
    Ex::new(loaded, project, skew_in_url, set_skew)
}

#[component]
pub fn Explorer(
    ex: Ex,
    project: String,
    trace_id: String,
    span_in_url: Memo<Option<String>>,
) -> impl IntoView {
    let navigate = use_navigate();

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
    // Measured when the viewport and the ruler are first laid out and whenever they change
    // size (the window's, the detail panel opened or closed): a ResizeObserver's callback comes after the frame's layout, before its paint, so
    // the sizes are read without forcing a layout of the page just built. The rows are drawn
    // first for the window's height (more than the viewport's, so none is missing), and a
    // smaller viewport only leaves the rows below it undrawn (`Rows`).
    let observed = StoredValue::new_local(Observed::new(measure));
    Effect::new(move |_| {
        let Some(viewport) = ex.viewport.get() else {
            return;
        };
        let ruler = document().query_selector(".explorer .ruler").ok().flatten();
        observed.with_value(|o| {
            if let Some(o) = o {
                o.observer.observe(&viewport);
                if let Some(ruler) = &ruler {
                    o.observer.observe(ruler);
                }
            }
        });
    });
    request_animation_frame(move || {
        // Loaded again (the trace grew): where the explorer it replaces was scrolled.
        if let Some(top) = ex.kept_scroll.try_update_value(Option::take).flatten() {
            if let Some(el) = ex.viewport.get_untracked() {
                el.set_scroll_top(top.round() as i32);
                ex.scroll_top.set(f64::from(el.scroll_top()));
            }
        } else if let Some(pos) = initial_pos {
            if let Some(row) = ex.view.with_untracked(|v| v.row_of(pos)) {
                ex.scroll_to_row(row, true);
            }
        }
        // The whole trace painted (its first rows alone are only marked).
        let complete = ex.complete;
        set_timeout(
            move || {
                if complete {
                    perf::mark("skein:trace-painted");
                    perf::measure(
                        "skein:trace-load",
                        "skein:trace-requested",
                        "skein:trace-painted",
                    );
                } else {
                    perf::mark("skein:trace-first-rows");
                }
                // What the first screen does not need comes now (the minimap's shape, the
                // project list).
                ex.painted.set(true);
                perf::painted();
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
            <LazyDetailPanel ex=ex project=project.clone() trace_id=trace_id.clone()/>
        </div>
    }
}

/// A ResizeObserver calling `measure`, disconnected when dropped (with the explorer).
struct Observed {
    observer: web_sys::ResizeObserver,
    _callback: Closure<dyn FnMut()>,
}

impl Observed {
    fn new(measure: impl Fn() + 'static) -> Option<Observed> {
        let callback = Closure::<dyn FnMut()>::new(measure);
        let observer = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()).ok()?;
        Some(Observed {
            observer,
            _callback: callback,
        })
    }
}

impl Drop for Observed {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}
