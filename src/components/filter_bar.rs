//! The trace list's filter bar: tag filters as removable chips with an add control, a status
//! select, a time range (recent presets or a custom from/to), a latency range, a debounced
//! name search and the sort order. It edits the page URL only; the page reloads from the URL.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use skein_model::format::plain;
use skein_model::sessions::RecentRange;
use skein_model::{StatusFilter, TagFilter, TraceQuery, TraceSort};

use super::icons::SearchIcon;
use super::tag_picker::TagFilters;
use crate::{links, time};

const SEARCH_DEBOUNCE: Duration = Duration::from_millis(300);

/// Opens the list for `query` (replacing the history entry for keystroke-level changes).
pub fn go_to_list(
    navigate: &impl Fn(&str, NavigateOptions),
    project: &str,
    query: &TraceQuery,
    replace: bool,
) {
    // A live list stays live as its filters change.
    let live = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|search| links::live_param(search.trim_start_matches('?')));
    navigate(
        &links::with_live(&links::list_href(project, query), live),
        NavigateOptions {
            replace,
            scroll: false,
            ..NavigateOptions::default()
        },
    );
}

#[component]
pub fn FilterBar(project: Memo<String>, query: Memo<TraceQuery>) -> impl IntoView {
    let navigate = use_navigate();
    let set_query = {
        let navigate = navigate.clone();
        move |q: TraceQuery, replace: bool| {
            go_to_list(&navigate, &project.get_untracked(), &q, replace)
        }
    };

    // Tag chips.
    let on_tags = {
        let set_query = set_query.clone();
        Callback::new(move |tags: Vec<TagFilter>| {
            let mut q = query.get_untracked();
            q.tags = tags;
            set_query(q, false);
        })
    };
    let filter_tags = Signal::derive(move || query.get().tags);

    // Status and sort.
    let on_status = {
        let set_query = set_query.clone();
        move |ev: leptos::ev::Event| {
            let mut q = query.get_untracked();
            q.status = match event_target_value(&ev).as_str() {
                "ok" => Some(StatusFilter::Ok),
                "error" => Some(StatusFilter::Error),
                _ => None,
            };
            set_query(q, false);
        }
    };
    let status_value = move || match query.get().status {
        Some(StatusFilter::Ok) => "ok",
        Some(StatusFilter::Error) => "error",
        None => "",
    };
    let on_sort = {
        let set_query = set_query.clone();
        move |ev: leptos::ev::Event| {
            let mut q = query.get_untracked();
            q.sort = TraceSort::parse(&event_target_value(&ev)).unwrap_or_default();
            set_query(q, false);
        }
    };

    // Time range: a recent preset (kept relative in the URL), or a custom from/to.
    let custom_open = RwSignal::new(false);
    let is_custom = move || {
        let q = query.get();
        custom_open.get() || q.from_ms.is_some() || q.to_ms.is_some()
    };
    let range_value = move || {
        if is_custom() {
            "custom".to_string()
        } else {
            query.get().range.as_str().to_string()
        }
    };
    let on_range = {
        let set_query = set_query.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            if value == "custom" {
                custom_open.set(true);
                return;
            }
            custom_open.set(false);
            let mut q = query.get_untracked();
            q.range = RecentRange::parse(&value).unwrap_or_default();
            q.from_ms = None;
            q.to_ms = None;
            set_query(q, false);
        }
    };
    let on_bound = {
        let set_query = set_query.clone();
        move |is_from: bool, ev: leptos::ev::Event| {
            let ms = time::parse_datetime_input(&event_target_value(&ev));
            let mut q = query.get_untracked();
            q.range = RecentRange::All;
            if is_from {
                q.from_ms = ms;
            } else {
                q.to_ms = ms;
            }
            set_query(q, false);
        }
    };
    let on_from = {
        let on_bound = on_bound.clone();
        move |ev| on_bound(true, ev)
    };
    let on_to = move |ev| on_bound(false, ev);

    // Latency range in milliseconds, applied when a field is left or Enter is pressed.
    let on_latency = {
        let set_query = set_query.clone();
        move |is_min: bool, ev: leptos::ev::Event| {
            let text = event_target_value(&ev);
            let ms = crate::number::parse_finite(text.trim()).filter(|v| *v >= 0.0);
            let mut q = query.get_untracked();
            if is_min {
                q.min_duration_ms = ms;
            } else {
                q.max_duration_ms = ms;
            }
            if q != query.get_untracked() {
                set_query(q, false);
            }
        }
    };
    let on_min = {
        let on_latency = on_latency.clone();
        move |ev| on_latency(true, ev)
    };
    let on_max = move |ev| on_latency(false, ev);
    let number = |v: Option<f64>| v.map(plain).unwrap_or_default();

    // Name search, debounced; the URL is replaced, not pushed, while typing.
    let pending = StoredValue::new_local(None::<TimeoutHandle>);
    let on_search = {
        let set_query = set_query.clone();
        move |ev: leptos::ev::Event| {
            let text = event_target_value(&ev);
            if let Some(handle) = pending.try_get_value().flatten() {
                handle.clear();
            }
            let set_query = set_query.clone();
            let handle = set_timeout_with_handle(
                move || {
                    let Some(mut q) = query.try_get_untracked() else {
                        return;
                    };
                    let name = text.trim();
                    q.name = (!name.is_empty()).then(|| name.to_string());
                    if q != query.get_untracked() {
                        set_query(q, true);
                    }
                },
                SEARCH_DEBOUNCE,
            )
            .ok();
            pending.try_set_value(handle);
        }
    };

    let filtered = Memo::new(move |_| links::has_filters(&query.get()));
    let clear = {
        let set_query = set_query.clone();
        Callback::new(move |_| set_query(links::without_filters(&query.get_untracked()), false))
    };

    view! {
        <div class="filter-bar">
            <div class="filter-row">
                <label class="search-box">
                    <SearchIcon/>
                    <input type="search" class="input" name="name" placeholder="Search root span name…"
                        aria-label="Search by root span name"
                        prop:value=move || query.get().name.unwrap_or_default()
                        on:input=on_search/>
                </label>
                <select class="select" name="status" aria-label="Status" on:change=on_status
                    prop:value=status_value>
                    <option value="">"Any status"</option>
                    <option value="ok">"OK"</option>
                    <option value="error">"Error"</option>
                </select>
                <select class="select" name="range" aria-label="Time range" on:change=on_range
                    prop:value=range_value>
                    {RecentRange::ALL
                        .into_iter()
                        .map(|r| view! { <option value=r.as_str()>{r.label()}</option> })
                        .collect_view()}
                    <option value="custom">"Custom range…"</option>
                </select>
                <Show when=is_custom>
                    <span class="range-inputs">
                        <input type="datetime-local" class="input" name="from" aria-label="From"
                            prop:value=move || query.get().from_ms.map(time::datetime_input_value).unwrap_or_default()
                            on:change=on_from.clone()/>
                        <span class="range-sep">"–"</span>
                        <input type="datetime-local" class="input" name="to" aria-label="To"
                            prop:value=move || query.get().to_ms.map(time::datetime_input_value).unwrap_or_default()
                            on:change=on_to.clone()/>
                    </span>
                </Show>
                <span class="latency-inputs" title="Root span duration, in milliseconds">
                    <input type="number" class="input" name="min_ms" min="0" step="any"
                        placeholder="Min ms" aria-label="Minimum duration (ms)"
                        prop:value=move || number(query.get().min_duration_ms)
                        on:change=on_min/>
                    <span class="range-sep">"–"</span>
                    <input type="number" class="input" name="max_ms" min="0" step="any"
                        placeholder="Max ms" aria-label="Maximum duration (ms)"
                        prop:value=move || number(query.get().max_duration_ms)
                        on:change=on_max/>
                </span>
                <select class="select" name="sort" aria-label="Sort" on:change=on_sort
                    prop:value=move || query.get().sort.as_str()>
                    <option value="start_desc">"Newest first"</option>
                    <option value="start_asc">"Oldest first"</option>
                    <option value="duration_desc">"Slowest first"</option>
                    <option value="duration_asc">"Fastest first"</option>
                </select>
                <ClearFilters shown=filtered on_clear=clear/>
            </div>
            <div class="filter-row tag-row">
                <span class="filter-label">"Tags"</span>
                <TagFilters project=project tags=filter_tags on_change=on_tags/>
            </div>
        </div>
    }
}

/// "Clear filters", shown while a bar has any.
#[component]
pub fn ClearFilters(shown: Memo<bool>, on_clear: Callback<()>) -> impl IntoView {
    view! {
        <Show when=move || shown.get()>
            <button type="button" class="link-button clear-filters" on:click=move |_| on_clear.run(())>
                "Clear filters"
            </button>
        </Show>
    }
}
