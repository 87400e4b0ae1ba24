//! Small static inline SVG icons (16×16, drawn with `currentColor`).

use leptos::prelude::*;

#[component]
pub fn Logo() -> impl IntoView {
    view! {
        <svg class="logo" viewBox="0 0 20 20" width="20" height="20" aria-hidden="true" fill="none"
            stroke="currentColor" stroke-width="1.7" stroke-linecap="round">
            <path d="M3 6c4 0 4 8 8 8s4-8 6-8"/>
            <path d="M3 14c4 0 4-8 8-8s4 8 6 8" opacity="0.55"/>
        </svg>
    }
}

#[component]
pub fn SunIcon() -> impl IntoView {
    view! {
        <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" fill="none"
            stroke="currentColor" stroke-width="1.5" stroke-linecap="round">
            <circle cx="8" cy="8" r="3"/>
            <path d="M8 1.5v1.5M8 13v1.5M1.5 8H3M13 8h1.5M3.4 3.4l1 1M11.6 11.6l1 1M3.4 12.6l1-1M11.6 4.4l1-1"/>
        </svg>
    }
}

#[component]
pub fn MoonIcon() -> impl IntoView {
    view! {
        <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" fill="none"
            stroke="currentColor" stroke-width="1.5" stroke-linejoin="round">
            <path d="M13.5 9.5A5.5 5.5 0 0 1 6.5 2.5a5.5 5.5 0 1 0 7 7z"/>
        </svg>
    }
}

#[component]
pub fn SearchIcon() -> impl IntoView {
    view! {
        <svg class="input-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"
            fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round">
            <circle cx="7" cy="7" r="4.5"/>
            <path d="M10.5 10.5L14 14"/>
        </svg>
    }
}

#[component]
pub fn CloseIcon() -> impl IntoView {
    view! {
        <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" fill="none"
            stroke="currentColor" stroke-width="1.8" stroke-linecap="round">
            <path d="M4 4l8 8M12 4l-8 8"/>
        </svg>
    }
}

#[component]
pub fn PlusIcon() -> impl IntoView {
    view! {
        <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" fill="none"
            stroke="currentColor" stroke-width="1.8" stroke-linecap="round">
            <path d="M8 3v10M3 8h10"/>
        </svg>
    }
}

#[component]
pub fn AlertIcon() -> impl IntoView {
    view! {
        <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" fill="none"
            stroke="currentColor" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round">
            <path d="M8 1.8L15 14H1z"/>
            <path d="M8 6.5v3.2M8 11.8v.2"/>
        </svg>
    }
}

#[component]
pub fn InboxIcon() -> impl IntoView {
    view! {
        <svg viewBox="0 0 24 24" width="36" height="36" aria-hidden="true" fill="none"
            stroke="currentColor" stroke-width="1.3" stroke-linecap="round" stroke-linejoin="round">
            <path d="M3 13l3-8h12l3 8v6H3z"/>
            <path d="M3 13h5l1 2.5h6l1-2.5h5"/>
        </svg>
    }
}

#[component]
pub fn ArrowLeftIcon() -> impl IntoView {
    view! {
        <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" fill="none"
            stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round">
            <path d="M13 8H3M7 4L3 8l4 4"/>
        </svg>
    }
}

/// A trace (a small hierarchy), where the root span's type is not known.
#[component]
pub fn TraceIcon() -> impl IntoView {
    view! {
        <svg class="type-icon t-trace" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"
            fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round"
            stroke-linejoin="round">
            <path d="M2.5 3.5h5M4.5 3.5v9M4.5 8h5M4.5 12.5h5"/>
            <path d="M11.5 8h2M11.5 12.5h2" opacity="0.6"/>
        </svg>
    }
}
