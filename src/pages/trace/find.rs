//! Find: the query box, matching in the skeleton at once (names, services, types, ids) and on
//! the collector (any text the spans hold), and the query marked in the rows' names. The
//! collector's search is used only once something is typed: its code is a chunk of its own
//! (`trace_search`), fetched with the first query.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{self as split, wasm_split, SplitLoaderError};
use leptos_router::hooks::use_location;
use skein_model::sort;
use skein_model::tree;
use wasm_bindgen::JsCast;

use super::state::Ex;
use crate::api;
use crate::components::icons::SearchIcon;
use crate::links;
use crate::text;

const FIND_DEBOUNCE: Duration = Duration::from_millis(120);

/// Applies a find query: matches, the filter if on, and scrolls to the first match.
pub fn apply_find(ex: Ex, query: String) {
    let first = apply_find_in_place(ex, query);
    if let Some(pos) = first {
        let tree = ex.tree.get_value();
        let row = ex.view.try_update(|v| v.reveal(&tree, pos)).flatten();
        if let Some(row) = row {
            ex.scroll_to_row(row, true);
        }
    }
}

/// Applies a find query without moving: matches and the filter if on; the first match.
pub fn apply_find_in_place(ex: Ex, query: String) -> Option<usize> {
    let matches = {
        let tree = ex.tree.get_value();
        ex.skeleton
            .with_value(|sk| tree::find_with(sk, &tree, &query, &lowercase))
    };
    let first = matches.first().map(|&m| m as usize);
    if !query.is_empty() {
        start_collector_search(ex, query.clone());
    }
    ex.query.set(query);
    ex.find_epoch.update(|e| *e = e.wrapping_add(1));
    ex.matches.set(Arc::new(matches));
    ex.refilter();
    first
}

/// The collector search's code: asks for the query's matches and adds them.
type SearchCode = fn(Ex, String);

/// The code once loaded (for the rest of the visit).
static SEARCH: OnceLock<SearchCode> = OnceLock::new();

#[wasm_split(trace_search, wasm_split_path = split, fallible)]
fn search_code() -> Result<SearchCode, SplitLoaderError> {
    Ok(|ex, query| spawn_local(search_collector(ex, query)))
}

/// Starts the collector's search for `query`, loading its code first on the first query. Local
/// matches stand on their own if the code or the answer cannot be had.
fn start_collector_search(ex: Ex, query: String) {
    if let Some(search) = SEARCH.get() {
        return search(ex, query);
    }
    spawn_local(async move {
        if let Ok(search) = search_code().await {
            SEARCH.get_or_init(|| search)(ex, query);
        }
    });
}

/// Asks the collector for spans holding the query in any text (attributes, input,
/// output…), and adds them to the matches if the query is still the one shown. Local
/// matches stand on their own if the collector cannot answer.
fn search_collector(ex: Ex, query: String) -> impl std::future::Future<Output = ()> {
    let project = ex.project.get_value();
    let trace_id = ex.skeleton.with_value(|sk| sk.summary.trace_id.clone());
    async move {
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
                .filter(|(_, s)| ids.contains(&*s.span_id()))
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
    }
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
pub fn split_match(label: &str, query: &str) -> (String, Option<String>, String) {
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

/// The find box: the query (applied after a pause in typing), the match count and steps, and
/// "Only matches".
#[component]
pub fn FindBox(ex: Ex) -> impl IntoView {
    // A trace opened from a searched list (`?find=`) starts with the searched text found;
    // one loaded again (it grew) keeps the text it had (`kept`).
    let raw = ex.find_text;
    if raw.with_untracked(String::is_empty) {
        if let Some(text) = links::find_param(&use_location().search.get_untracked()) {
            raw.set(text.clone());
            request_animation_frame(move || apply_find(ex, text));
        }
    }
    let pending = StoredValue::new_local(None::<TimeoutHandle>);
    let schedule = move |text: String, delay: Duration| {
        if let Some(h) = pending.try_get_value().flatten() {
            h.clear();
        }
        let handle = set_timeout_with_handle(
            move || {
                if ex.query.try_get_untracked().as_deref() != Some(text.trim()) {
                    apply_find(ex, text.trim().to_string());
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
                apply_find(ex, text);
            }
            ex.step_match(!ev.shift_key());
        }
        "Escape" => {
            ev.prevent_default();
            raw.set(String::new());
            apply_find(ex, String::new());
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
    view! {
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
    }
}
