//! Light/dark theme: `data-theme` on `<html>`, remembered in localStorage, and following
//! the system's `prefers-color-scheme` until the user picks one.

use leptos::prelude::*;

use super::icons::{MoonIcon, SunIcon};

const STORAGE_KEY: &str = "skein-theme";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

fn stored() -> Option<Theme> {
    let storage = window().local_storage().ok().flatten()?;
    match storage.get_item(STORAGE_KEY).ok().flatten()?.as_str() {
        "light" => Some(Theme::Light),
        "dark" => Some(Theme::Dark),
        _ => None,
    }
}

fn system() -> Theme {
    let dark = window()
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches());
    if dark {
        Theme::Dark
    } else {
        Theme::Light
    }
}

fn apply(theme: Theme) {
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-theme", theme.as_str());
    }
}

/// The current theme, shared through context.
#[derive(Clone, Copy)]
pub struct ThemeState(pub RwSignal<Theme>);

impl ThemeState {
    pub fn init() -> ThemeState {
        let theme = RwSignal::new(stored().unwrap_or_else(system));
        Effect::new(move |_| apply(theme.get()));
        ThemeState(theme)
    }
}

#[component]
pub fn ThemeToggle() -> impl IntoView {
    let ThemeState(theme) = use_context::<ThemeState>().unwrap_or_else(ThemeState::init);
    let toggle = move |_| {
        let next = match theme.get_untracked() {
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Light,
        };
        theme.set(next);
        if let Some(storage) = window().local_storage().ok().flatten() {
            let _ = storage.set_item(STORAGE_KEY, next.as_str());
        }
    };
    let label = move || match theme.get() {
        Theme::Light => "Switch to dark theme",
        Theme::Dark => "Switch to light theme",
    };
    view! {
        <button type="button" class="icon-button theme-toggle" on:click=toggle
            title=label aria-label=label>
            {move || match theme.get() {
                Theme::Light => view! { <MoonIcon/> }.into_any(),
                Theme::Dark => view! { <SunIcon/> }.into_any(),
            }}
        </button>
    }
}
