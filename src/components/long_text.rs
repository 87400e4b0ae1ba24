//! Text that may be very long (a prompt, a tool's answer): its start, and all of it on a click.

use leptos::either::Either;
use leptos::prelude::*;

use crate::text;

/// Text that wraps, its first `first_chars` characters only until "Show all" is clicked.
#[component]
pub fn LongText(
    text: String,
    #[prop(default = 4_000)] first_chars: usize,
    #[prop(default = "long-text")] class: &'static str,
    #[prop(default = "link-button")] button_class: &'static str,
) -> impl IntoView {
    let total = text.chars().count();
    if total <= first_chars {
        return Either::Left(view! { <span class=class>{text}</span> });
    }
    let all = RwSignal::new(false);
    let head: String = text.chars().take(first_chars).collect();
    Either::Right(view! {
        <span class=class>{move || if all.get() { text.clone() } else { format!("{head}…") }}</span>
        {move || (!all.get()).then(|| view! {
            <button type="button" class=button_class on:click=move |_| all.set(true)>
                {format!("Show all {} characters", text::thousands(total as u64))}
            </button>
        })}
    })
}
