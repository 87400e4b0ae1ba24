//! A trace still in progress followed as it grows: the collector's live stream of its new
//! spans. Most traces opened are finished, so the stream's code is a chunk of its own
//! (`trace_live`), fetched only once the loaded trace turns out to be in progress.

use std::sync::OnceLock;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{self as split, wasm_split, SplitLoaderError};
use serde::de::IgnoredAny;
use skein_model::live::SPAN_EVENT;

use crate::components::live::use_live_stream;

/// Span events kept between two frames (only their arrival matters here).
const SPANS_BUFFERED: usize = 64;

/// The stream's code: follows `url` while it is set, calling `on_spans` for each burst of new
/// spans and `on_open` each time the stream opens.
type FollowCode = fn(Signal<Option<String>>, Callback<()>, Callback<()>);

/// The code once loaded (for the rest of the visit).
static LOADED: OnceLock<FollowCode> = OnceLock::new();

#[wasm_split(trace_live, wasm_split_path = split, fallible)]
fn follow_code() -> Result<FollowCode, SplitLoaderError> {
    Ok(|url, on_spans, on_open| {
        // A new span only says "fetch again": its row is skipped, not decoded (no `SpanRow`
        // decoder in the page).
        use_live_stream::<IgnoredAny>(
            url,
            SPAN_EVENT,
            SPANS_BUFFERED,
            move |_new_spans| on_spans.run(()),
            move || on_open.run(()),
        );
    })
}

/// Follows the stream at `url` (None: not in progress), under the current owner, once its code
/// is loaded: loaded the first time `url` is set. Without the code (the collector away) the
/// page shows the trace as loaded, as it does when the stream itself cannot open.
pub fn follow_trace(url: Memo<Option<String>>, on_spans: Callback<()>, on_open: Callback<()>) {
    let owner = Owner::current().unwrap_or_default();
    let started = StoredValue::new(false);
    Effect::new(move |_| {
        if url.with(Option::is_none) || started.get_value() {
            return;
        }
        started.set_value(true);
        if let Some(follow) = LOADED.get() {
            return follow(url.into(), on_spans, on_open);
        }
        let owner = owner.clone();
        spawn_local(async move {
            let Ok(follow) = follow_code().await else {
                started.try_set_value(false);
                return;
            };
            // The page may have been left while the code loaded.
            if url.try_get_untracked().is_some() {
                owner.with(|| LOADED.get_or_init(|| follow)(url.into(), on_spans, on_open));
            }
        });
    });
}
