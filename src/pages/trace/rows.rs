//! The virtualized rows: only the ones in view (plus a few) are in the DOM, at a fixed height,
//! whatever the trace's size; and the status bar below them.

mod dom;
mod slot;

use std::cell::RefCell;
use std::rc::Rc;

use leptos::html::Div;
use leptos::prelude::*;
use skein_model::format::{fixed, plain};
use skein_model::scale;
use skein_model::sort;
use skein_model::tree::TreeView;
use wasm_bindgen::JsCast;

use super::row::{RowKey, RowView};
use super::ruler::tick_count;
use super::state::{Ex, ROW_H};
use super::timeline::wheel_zoom;
use crate::text;
use slot::{Icons, RowSlot};

/// Rows drawn above and below the visible ones, so a fast scroll does not show gaps.
const OVERSCAN: usize = 8;

/// Rows a viewport of this height shows, the one cut at the bottom included.
fn shown_rows(viewport_h: f64) -> usize {
    (viewport_h / ROW_H).ceil() as usize + 1
}

/// The virtualized rows.
#[component]
pub fn Rows(ex: Ex) -> impl IntoView {
    let most_shown = StoredValue::new(0usize);
    let slice = Memo::new(move |_| {
        let top = ex.scroll_top.get();
        let h = ex.viewport_h.get();
        let selected = ex.selected.get();
        let window = ex.window.get();
        let epoch = ex.find_epoch.get();
        let skew = ex.skew_on.get();
        // Drawn once computed (after the first paint).
        let critical = ex.critical_on.get() && ex.critical_path().is_some();
        let bar_w = ex.bar_w.get();
        ex.matches.with(|matches| {
            ex.view.with(|v| {
                let n = v.len();
                let first = ((top / ROW_H).floor().max(0.0) as usize).min(n);
                let shown = shown_rows(h);
                let start = first.saturating_sub(OVERSCAN);
                let end = (first + shown + OVERSCAN).min(n);
                // Row r is drawn by element r % slots: a scroll of a few rows redraws only the
                // rows that came into view, the others keep their elements untouched.
                // As many slots as the most rows shown yet need: when the viewport turns out
                // smaller than guessed (its first measure) every row keeps its element.
                let most = most_shown.get_value().max(shown);
                most_shown.set_value(most);
                let slots = most + 2 * OVERSCAN;
                let mut drawn = vec![None; slots];
                for r in start..end {
                    drawn[r % slots] = Some(r);
                }
                let keys = drawn
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
                    .collect::<Vec<Option<RowKey>>>();
                Window {
                    keys,
                    shown: (first as u32, (first + shown).min(n) as u32),
                }
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
    // One element per slot, made once; each is drawn again only when what its row shows
    // changes, and then only what differs is written (`row_slot`). After a scroll of a few
    // rows only the slots of the rows that came into view are.
    let canvas = NodeRef::<Div>::new();
    let slots: Rc<RefCell<Slots>> = Rc::default();
    // The slots' badges are made in the explorer's owner (they read its context and live as
    // long as it does), held weakly: an owner runs its cleanups (the explorer's keyboard
    // listener, its effects) only when dropped, and a strong one held here would keep a
    // replaced explorer's alive and reacting to keys and URL changes beside the new one.
    let owner = Owner::current().map(|owner| owner.downgrade());
    // The rows drawn, top to bottom (for `aria-owns`).
    let drawn_rows = RwSignal::new(Vec::<u32>::new());
    let draw = {
        let slots = slots.clone();
        move |canvas: &web_sys::Element, window: &Window, all: bool| -> Option<u64> {
            let owner = owner.as_ref().and_then(|owner| owner.upgrade())?;
            let later = owner.with(|| slots.borrow_mut().draw(ex, canvas, window, all));
            let rows = slots.borrow().rows();
            if drawn_rows.try_with_untracked(|drawn| *drawn != rows) == Some(true) {
                drawn_rows.set(rows);
            }
            later
        }
    };
    {
        let slots = slots.clone();
        Effect::new(move |_| {
            let Some(canvas) = canvas.get() else {
                return;
            };
            let Some(later) = slice.with(|window| draw(&canvas, window, false)) else {
                return;
            };
            // A jump drew only the rows in view: the rows around them are drawn two frames
            // later, unless the rows have moved again by then (a scroll that keeps jumping
            // never waits for rows it would not show).
            let (slots, draw) = (slots.clone(), draw.clone());
            request_animation_frame(move || {
                request_animation_frame(move || {
                    if slots.borrow().generation != later {
                        return;
                    }
                    slice.try_with_untracked(|window| draw(&canvas, window, true));
                });
            });
        });
    }
    // Clicks on the rows, handled once for every slot.
    let clicked = move |ev: &web_sys::MouseEvent| -> Option<(usize, bool)> {
        let target = ev.target()?.dyn_into::<web_sys::Element>().ok()?;
        let row = target.closest(".span-row").ok().flatten()?;
        let pos = slots.borrow().pos_of(&row)?;
        let on_twisty = target.closest("button.twisty").ok().flatten().is_some();
        Some((pos, on_twisty))
    };
    let on_click = {
        let clicked = clicked.clone();
        move |ev: web_sys::MouseEvent| match clicked(&ev) {
            Some((pos, true)) => ex.toggle(pos),
            Some((pos, false)) => {
                ex.selected.set(Some(pos));
                if ex.tree.with_value(|t| t.span_at(pos).is_some()) {
                    ex.detail_open.set(true);
                }
            }
            None => {}
        }
    };
    let on_dblclick = move |ev: web_sys::MouseEvent| {
        if let Some((pos, _)) = clicked(&ev) {
            ex.toggle(pos);
        }
    };
    let grid = move || {
        scale::ticks(ex.window.get(), ex.whole().start, tick_count(ex))
            .into_iter()
            .filter(|t| (0.0..=1.0).contains(&t.frac))
            .map(|t| view! { <span class="grid-line" style=format!("left: {}%", fixed(t.frac * 100.0, 3))></span> })
            .collect_view()
    };
    // The row elements are in slot order, not top to bottom: assistive technology reads the
    // rows in the order this lists.
    let reading_order = move || {
        drawn_rows.with(|rows| {
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
                <div class="rows-canvas" style=height node_ref=canvas
                    on:click=on_click on:dblclick=on_dblclick>
                    <div class="grid-lines" aria-hidden="true">{grid}</div>
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

/// Below the rows: what is shown, and the keyboard.
#[component]
pub fn StatusBar(ex: Ex) -> impl IntoView {
    let total = ex.tree.with_value(|t| t.len());
    let announced = ex.skeleton.with_value(|sk| sk.summary.span_count);
    let shown = move || {
        let visible = ex.view.with(TreeView::len);
        if !ex.complete {
            format!(
                "{} of {} spans loaded…",
                text::thousands(total as u64),
                text::thousands(announced)
            )
        } else if visible == total {
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

/// The rows a scroll position draws: each slot's row (`None`: the slot is empty) and the rows
/// in view, `shown.0..shown.1`; the others are the overscan around them.
#[derive(Clone, PartialEq)]
struct Window {
    keys: Vec<Option<RowKey>>,
    shown: (u32, u32),
}

/// The row slots, each made when it first draws a row, and the icons they share.
#[derive(Default)]
struct Slots {
    icons: Option<Icons>,
    slots: Vec<Option<RowSlot>>,
    /// What each slot was last told to draw.
    keys: Vec<Option<RowKey>>,
    /// Counts the draws: rows left for later are drawn only if no draw came after.
    generation: u64,
}

impl Slots {
    /// Draws the slots whose row changed. When more rows change than are in view (a jump: a
    /// fast scroll, a zoom, the first draw), only the rows in view are drawn unless `all`;
    /// the others are detached and left for a later call. Returns the generation to pass
    /// back then, if any were left.
    fn draw(
        &mut self,
        ex: Ex,
        canvas: &web_sys::Element,
        window: &Window,
        all: bool,
    ) -> Option<u64> {
        self.generation += 1;
        if self.icons.is_none() {
            self.icons = Icons::new().ok();
        }
        let icons = self.icons.as_ref()?;
        let drawn = &window.keys;
        self.slots.truncate(drawn.len());
        self.keys.truncate(drawn.len());
        self.slots.resize_with(drawn.len(), || None);
        self.keys.resize(drawn.len(), None);
        let (top, bottom) = window.shown;
        let changed = self.keys.iter().zip(drawn).filter(|(a, b)| a != b).count();
        let jump = !all && changed > (bottom - top) as usize;
        let mut left = false;
        for ((slot, last), key) in self.slots.iter_mut().zip(&mut self.keys).zip(drawn) {
            if last == key {
                continue;
            }
            let later = jump && key.is_some_and(|k| k.row < top || k.row >= bottom);
            if slot.is_none() && key.is_some() && !later {
                *slot = RowSlot::new(icons).ok();
            }
            let Some(slot) = slot else {
                left |= later;
                continue;
            };
            if later {
                // The row it shows has left the window; the one it will show is out of view.
                slot.draw(canvas, icons, None);
                *last = None;
                left = true;
            } else {
                *last = *key;
                slot.draw(canvas, icons, key.map(|k| RowView::of(ex, k)));
            }
        }
        left.then_some(self.generation)
    }

    /// The rows drawn, top to bottom.
    fn rows(&self) -> Vec<u32> {
        let mut rows: Vec<u32> = self.keys.iter().flatten().map(|k| k.row).collect();
        sort::sort_u32(&mut rows);
        rows
    }

    /// The tree position a row element draws.
    fn pos_of(&self, row: &web_sys::Element) -> Option<usize> {
        self.slots
            .iter()
            .flatten()
            .find(|s| s.row.is_same_node(Some(row)))?
            .pos
    }
}
