//! The timing switches over the waterfall: the critical path (its highlight, and the list of
//! its spans) and the clock-skew adjustment. The list is opened rarely: its code is a chunk of
//! its own (`critical_list`), fetched on the button's first click.

use std::sync::OnceLock;

use leptos::prelude::*;
use leptos::wasm_split::{self as split, wasm_split, SplitLoaderError};
use skein_model::format;
use skein_model::format::fixed;
use skein_model::palette::service_hue;
use wasm_bindgen::JsCast;

use super::state::Ex;
use crate::components::lazy::toggle_part;
use crate::text;

/// Most critical-path spans listed at once (the rest are summed up below the list).
const CRITICAL_LIST_MAX: usize = 200;

/// The list's code: draws the open list (`close` closes it).
type ListCode = fn(Ex, Callback<()>) -> AnyView;

/// The code once loaded (for the rest of the visit).
static LOADED: OnceLock<ListCode> = OnceLock::new();

#[wasm_split(critical_list, wasm_split_path = split, fallible)]
fn list_code() -> Result<ListCode, SplitLoaderError> {
    Ok(|ex, close| view! { <CriticalList ex=ex close=move || close.run(())/> }.into_any())
}

/// The timing switches: the critical path (highlight, and its list), and the clock-skew
/// adjustment (shown when the trace needs one).
#[component]
pub fn TimingTools(ex: Ex) -> impl IntoView {
    let list_open = RwSignal::new(false);
    let code = RwSignal::new(LOADED.get().copied());
    // A failed load (the collector away: it serves the chunks) says so; a click tries again.
    let unloaded = RwSignal::new(false);
    let toggle_list = move |_| toggle_part(list_open, &LOADED, list_code, code, unloaded);
    let close = Callback::new(move |()| list_open.set(false));
    let list = move || {
        list_open.get().then(|| match code.get() {
            Some(draw) => draw(ex, close),
            None => {
                let (class, text) = if unloaded.get() {
                    (
                        "fb-error",
                        "Couldn't load the list: is the collector running?",
                    )
                } else {
                    ("muted", "Loading the critical path…")
                };
                view! {
                    <div class="crit-pop" role="dialog" aria-label="Critical path">
                        <p class=class>{text}</p>
                    </div>
                }
                .into_any()
            }
        })
    };
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
                    on:click=toggle_list>
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
            {list}
        </div>
    }
}

pub fn checked(ev: &leptos::ev::Event) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .is_some_and(|i| i.checked())
}

/// The critical path's spans in the order they ran, each with its share of the trace's
/// duration; choosing one selects it.
#[component]
pub fn CriticalList(ex: Ex, close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    // The list needs the path even while its highlight is off.
    Effect::new(move |_| ex.request_critical(ex.skew_on.get()));
    let items = move || {
        let path = ex.critical_path().unwrap_or_default();
        let skeleton = ex.skeleton.get_value();
        let total = path.total_us;
        let shown: Vec<usize> = path.spans().take(CRITICAL_LIST_MAX).collect();
        let count = path.spans().len();
        let rest = count.saturating_sub(shown.len());
        let head = format!(
            "{} across the trace's {}",
            text::plural(count as u64, "span", "spans"),
            format::duration_ns(total * 1_000)
        );
        let rows = shown
            .into_iter()
            .map(|i| {
                let us = path.time_us(i);
                let span = &skeleton.spans[i];
                let name = skeleton.name_of(span).to_string();
                let service = skeleton.service_of(span).to_string();
                let share = path.share(i);
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
