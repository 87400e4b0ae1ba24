//! The filter box's checker, `skein_model::filter::parse`, as a wasm chunk of its own (cut by
//! scripts/build-wasm.sh): reading a whole expression pulls in core's float parser and
//! formatting and the Unicode case tables, which a list page should not download before its
//! filter box is used. The box loads it on first focus or typing, or at once when the page's
//! link carries a filter to check.

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
