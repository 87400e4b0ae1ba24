//! A small button that copies a text (an id, a payload) to the clipboard.

use leptos::prelude::*;

#[component]
pub fn CopyButton(
    #[prop(into)] text: String,
    /// What the button copies, for its title and screen readers.
    #[prop(into)]
    label: String,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |ev: leptos::ev::MouseEvent| {
        ev.stop_propagation();
        let Some(window) = web_sys::window() else {
            return;
        };
        // The clipboard is there on https and on localhost; elsewhere the button does nothing.
        let clipboard = window.navigator().clipboard();
        if clipboard.is_undefined() {
            return;
        }
        let _ = clipboard.write_text(&text);
        copied.set(true);
        set_timeout(
            move || {
                copied.try_set(false);
            },
            std::time::Duration::from_millis(1_400),
        );
    };
    let title = label.clone();
    view! {
        <button type="button" class="copy-button" class:copied=move || copied.get()
            title=title aria-label=label on:click=copy>
            // Both glyphs are drawn; the stylesheet shows the check while `copied`.
            <svg class="copy-icon" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" fill="none"
                stroke="currentColor" stroke-width="1.5" stroke-linejoin="round">
                <rect x="5" y="5" width="8.5" height="8.5" rx="1.5"/>
                <path d="M3 10.5V3.5A1 1 0 0 1 4 2.5h6.5"/>
            </svg>
            <svg class="copied-icon" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" fill="none"
                stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">
                <path d="M3 8.5l3 3 7-7"/>
            </svg>
        </button>
    }
}
