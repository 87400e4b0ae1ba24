//! The feedback widget's icons.

use leptos::prelude::*;

#[component]
pub fn ThumbUpIcon() -> impl IntoView {
    view! {
        <svg class="fb-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
            <path d="M5 7v7H2.5A.5.5 0 0 1 2 13.5v-6A.5.5 0 0 1 2.5 7H5zm1 7V7l2.6-4.6a1.2 1.2 0 0 1 2.2.8L10.3 6h3a1.5 1.5 0 0 1 1.5 1.8l-1 5A1.5 1.5 0 0 1 12.3 14H6z"
                fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round"/>
        </svg>
    }
}

#[component]
pub fn ThumbDownIcon() -> impl IntoView {
    view! {
        <svg class="fb-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
            <g transform="rotate(180 8 8)">
                <path d="M5 7v7H2.5A.5.5 0 0 1 2 13.5v-6A.5.5 0 0 1 2.5 7H5zm1 7V7l2.6-4.6a1.2 1.2 0 0 1 2.2.8L10.3 6h3a1.5 1.5 0 0 1 1.5 1.8l-1 5A1.5 1.5 0 0 1 12.3 14H6z"
                    fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round"/>
            </g>
        </svg>
    }
}

#[component]
pub fn NoteIcon() -> impl IntoView {
    view! {
        <svg class="fb-icon" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
            <path d="M2.5 3h11a.5.5 0 0 1 .5.5v7a.5.5 0 0 1-.5.5H7l-3 2.5V11H2.5a.5.5 0 0 1-.5-.5v-7a.5.5 0 0 1 .5-.5z"
                fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round"/>
        </svg>
    }
}
