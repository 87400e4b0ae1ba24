//! The span body's code — the span's fetch and decoding, input and output (conversations,
//! JSON), attributes, events, exceptions, and the rating widget — as a wasm chunk of its own (cut by
//! scripts/build-wasm.sh): opening a trace draws the tree without it, and it loads alongside
//! the first selected span's fetch (which waits for it), so the detail's first answer costs the
//! longer of the two, not their sum.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use leptos::prelude::*;
use leptos::wasm_split::{self as split, wasm_split, SplitLoaderError};
use skein_model::span::Span;

use super::super::state::Ex;
use super::body::SpanBody;
use super::Brief;
use crate::api::{self, ApiError};
use crate::components::feedback::SpanFeedback;

pub type SpanFetch = Pin<Box<dyn Future<Output = Result<Span, ApiError>>>>;

/// The chunk's entry points.
#[derive(Clone, Copy)]
pub struct BodyCode {
    /// `GET` a span (project, trace id, span id).
    pub fetch: fn(String, String, String) -> SpanFetch,
    /// The body of a fetched span.
    pub render: fn(Ex, Arc<Span>, Brief, String) -> AnyView,
    /// The rating widget for a span (by id): not needed before a span is opened either.
    pub feedback: fn(String) -> AnyView,
}

/// The code once loaded (for the rest of the visit).
static LOADED: OnceLock<BodyCode> = OnceLock::new();

#[wasm_split(span_body, wasm_split_path = split, fallible)]
fn body_code() -> Result<BodyCode, SplitLoaderError> {
    Ok(BodyCode {
        fetch: |project, trace_id, span_id| {
            Box::pin(async move { api::span(&project, &trace_id, &span_id).await })
        },
        render: |ex, span, brief, project| {
            view! { <SpanBody ex=ex span=span brief=brief project=project/> }.into_any()
        },
        feedback: |span_id| view! { <SpanFeedback span_id=span_id/> }.into_any(),
    })
}

/// The code if it is loaded already.
pub fn loaded() -> Option<BodyCode> {
    LOADED.get().copied()
}

/// Fetches a span, loading the code first if need be; a failed load reads as the collector
/// being away (it serves the chunks), and the next selection or "Try again" retries it.
pub async fn fetch_span(
    project: String,
    trace_id: String,
    span_id: String,
) -> Result<Span, ApiError> {
    let code = match loaded() {
        Some(code) => code,
        None => match body_code().await {
            Ok(code) => *LOADED.get_or_init(|| code),
            Err(_) => return Err(api::unreachable("the span detail's code did not load")),
        },
    };
    (code.fetch)(project, trace_id, span_id).await
}
