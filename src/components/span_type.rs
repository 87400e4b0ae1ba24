//! The span-type icon and badge: one colour and glyph per `SpanType`.

use leptos::prelude::*;
use skein_model::SpanType;

/// A 14px glyph for the span type, coloured by type (`.t-agent`, `.t-llm`…).
#[component]
pub fn SpanTypeIcon(kind: SpanType) -> impl IntoView {
    let glyph = match kind {
        SpanType::Agent => view! {
            <rect x="3" y="5" width="10" height="8" rx="2"/>
            <path d="M8 2.5V5M6 9h.01M10 9h.01"/>
        }
        .into_any(),
        SpanType::Llm => view! {
            <path d="M8 1.8l1.6 4.6 4.6 1.6-4.6 1.6L8 14.2l-1.6-4.6L1.8 8l4.6-1.6z"/>
        }
        .into_any(),
        SpanType::Tool => view! {
            <path d="M9.8 2.4a3.2 3.2 0 0 0-3.6 4.3L2.4 10.5a1.5 1.5 0 0 0 2.1 2.1l3.8-3.8a3.2 3.2 0 0 0 4.3-3.6l-2 2-1.8-.5-.5-1.8z"/>
        }
        .into_any(),
        SpanType::Chain => view! {
            <path d="M6.5 9.5l3-3"/>
            <path d="M7.2 4.8l1-1a2.5 2.5 0 0 1 3.5 3.5l-1 1"/>
            <path d="M8.8 11.2l-1 1a2.5 2.5 0 0 1-3.5-3.5l1-1"/>
        }
        .into_any(),
        SpanType::Retriever => view! {
            <circle cx="7" cy="7" r="4"/>
            <path d="M10 10l3.5 3.5"/>
        }
        .into_any(),
        SpanType::Embedding => view! {
            <path d="M3 13V3M3 13h10M3 13l7.5-7.5M7 5.5h3.5V9"/>
        }
        .into_any(),
        SpanType::Reranker => view! {
            <path d="M5 13V3M3 5l2-2 2 2M11 3v10M9 11l2 2 2-2"/>
        }
        .into_any(),
        SpanType::Guardrail => view! {
            <path d="M8 1.8l5 2v4c0 3-2.2 5.2-5 6.2-2.8-1-5-3.2-5-6.2v-4z"/>
        }
        .into_any(),
        SpanType::Evaluator => view! {
            <path d="M3 8.5l3 3 7-7"/>
        }
        .into_any(),
        SpanType::Http => view! {
            <circle cx="8" cy="8" r="5.5"/>
            <path d="M2.5 8h11M8 2.5c2.2 2.2 2.2 8.8 0 11M8 2.5c-2.2 2.2-2.2 8.8 0 11"/>
        }
        .into_any(),
        SpanType::Db => view! {
            <ellipse cx="8" cy="4" rx="5" ry="2"/>
            <path d="M3 4v8c0 1.1 2.2 2 5 2s5-.9 5-2V4M3 8c0 1.1 2.2 2 5 2s5-.9 5-2"/>
        }
        .into_any(),
        SpanType::Internal => view! {
            <circle cx="8" cy="8" r="3"/>
        }
        .into_any(),
        // A template with a slot being filled.
        SpanType::Prompt => view! {
            <path d="M4 2.5h5.5l2.5 2.5v8.5H4z"/>
            <path d="M6 8h4M6 10.5h2.5"/>
        }
        .into_any(),
    };
    view! {
        <svg class=format!("type-icon t-{}", kind.as_str()) viewBox="0 0 16 16"
            width="14" height="14" fill="none" stroke="currentColor" stroke-width="1.5"
            stroke-linecap="round" stroke-linejoin="round" role="img" aria-label=kind.as_str()>
            {glyph}
        </svg>
    }
}

/// A small coloured label with the type's name (`agent`, `llm`…).
#[component]
pub fn SpanTypeBadge(kind: SpanType) -> impl IntoView {
    view! {
        <span class=format!("type-badge t-{}", kind.as_str())>{kind.as_str()}</span>
    }
}
