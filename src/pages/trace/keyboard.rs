//! The explorer's keyboard: anywhere on the page but in a text field or the detail panel.

use leptos::prelude::*;

use super::state::Ex;
use crate::components::shortcuts::{is_field, key_target, not_a_shortcut};

pub fn on_key(ex: Ex, ev: &web_sys::KeyboardEvent) {
    if not_a_shortcut(ev) {
        return;
    }
    let key = ev.key();
    let (target, tag) = key_target(ev);
    let in_field = is_field(&tag);
    let in_panel = target
        .as_ref()
        .and_then(|el| el.closest(".detail-panel").ok().flatten())
        .is_some();
    if key == "Escape" && !in_field {
        if ex.detail_open.get_untracked() {
            ex.detail_open.set(false);
            ev.prevent_default();
        }
        return;
    }
    if in_field || in_panel {
        return;
    }
    // Enter and space on a focused button or link are that control's.
    if matches!(tag.as_str(), "BUTTON" | "A") && matches!(key.as_str(), "Enter" | " ") {
        return;
    }
    match key.as_str() {
        "ArrowDown" | "j" => ex.move_by(1),
        "ArrowUp" | "k" => ex.move_by(-1),
        "ArrowLeft" | "h" => ex.left(),
        "ArrowRight" | "l" => ex.right(),
        "PageDown" => ex.move_by(ex.page_rows()),
        "PageUp" => ex.move_by(-ex.page_rows()),
        "Home" => ex.move_by(isize::MIN / 2),
        "End" => ex.move_by(isize::MAX / 2),
        "Enter" => {
            if ex.selected.get_untracked().is_none() {
                ex.move_by(0);
            }
            ex.detail_open.set(true);
        }
        "n" => ex.step_match(true),
        "N" => ex.step_match(false),
        "/" => {
            if let Some(input) = ex.find_input.get_untracked() {
                let _ = input.focus();
                input.select();
            }
        }
        _ => return,
    }
    ev.prevent_default();
}
