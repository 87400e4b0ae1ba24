//! The filter box's checker, `skein_model::filter::parse`, as a wasm chunk of its own (cut by
//! scripts/build-wasm.sh): reading a whole expression pulls in core's float parser and
//! formatting and the Unicode case tables, which a list page should not download before its
//! filter box is used. The box loads it on first focus or typing, or at once when the page's
//! link carries a filter to check; a page reads its link's filter through it too
//! ([`link_filter_error`], [`searched_text`]), so no page links the parser itself.

use std::sync::OnceLock;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{self as split, wasm_split, SplitLoaderError};
use skein_model::filter::FilterError;

/// Checks an expression: `None` when it reads.
pub type Check = fn(&str) -> Option<FilterError>;

/// The checker once loaded (for every filter box of the visit).
static LOADED: OnceLock<Check> = OnceLock::new();

#[wasm_split(filter_check, wasm_split_path = split, fallible)]
fn checker() -> Result<Check, SplitLoaderError> {
    Ok(|text| skein_model::filter::parse(text).err())
}

/// The text an expression searches for (`search("...")`), from the same chunk.
#[wasm_split(filter_check, wasm_split_path = split, fallible)]
fn text_finder() -> Result<fn(&str) -> Option<String>, SplitLoaderError> {
    Ok(skein_model::filter::searched_text)
}

/// The checker if it is loaded already.
pub fn loaded() -> Option<Check> {
    LOADED.get().copied()
}

/// Loads the checker (once) and puts it in `into`; a failed load is retried by the next call.
pub fn load(into: RwSignal<Option<Check>>) {
    if let Some(check) = loaded() {
        into.try_set(Some(check));
        return;
    }
    spawn_local(async move {
        if let Ok(check) = checker().await {
            let check = *LOADED.get_or_init(|| check);
            into.try_set(Some(check));
        }
    });
}

/// Runs `then` with the checker, loading it first if need be.
pub fn with_checker(then: impl FnOnce(Check) + 'static) {
    match loaded() {
        Some(check) => then(check),
        None => spawn_local(async move {
            if let Ok(check) = checker().await {
                then(*LOADED.get_or_init(|| check));
            }
        }),
    }
}

/// Why the link's filter cannot be read, once the parser is loaded (`None` while it loads,
/// or for no filter or a readable one). The page fetches meanwhile: the collector checks the
/// filter too and answers 400 naming the problem.
pub fn link_filter_error(filter: Signal<Option<String>>) -> Memo<Option<FilterError>> {
    let check = RwSignal::new(loaded());
    Effect::new(move |_| {
        if filter.with(Option::is_some) && check.get_untracked().is_none() {
            load(check);
        }
    });
    Memo::new(move |_| {
        let check = check.get()?;
        filter.with(|f| f.as_deref().and_then(check))
    })
}

/// The text the filter searches for (`search("...")`), once the parser is loaded: what a
/// trace opened from a searched list finds.
pub fn searched_text(filter: Signal<Option<String>>) -> Memo<Option<String>> {
    let find = RwSignal::new(None::<fn(&str) -> Option<String>>);
    Effect::new(move |_| {
        if filter.with(Option::is_some) && find.get_untracked().is_none() {
            spawn_local(async move {
                if let Ok(f) = text_finder().await {
                    find.try_set(Some(f));
                }
            });
        }
    });
    Memo::new(move |_| {
        let find = find.get()?;
        filter.with(|f| f.as_deref().and_then(find))
    })
}
