//! The explorer's keyboard: anywhere on the page but in a text field or the detail panel.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::state::Ex;

pub fn on_key(ex: Ex, ev: &web_sys::KeyboardEvent) {
    if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.default_prevented() {
        return;
    }
    let key = ev.key();
    let target = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
    let tag = target
        .as_ref()
        .map(|el| el.tag_name().to_ascii_uppercase())
        .unwrap_or_default();
    let in_field = matches!(tag.as_str(), "INPUT" | "TEXTAREA" | "SELECT");
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
