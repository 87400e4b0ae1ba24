//! What a page's keyboard shortcuts have to tell apart: a key pressed with a modifier or
//! already handled (not a shortcut), and a key typed into a form field.

use wasm_bindgen::JsCast;

/// A key pressed with Ctrl, ⌘ or Alt, or handled already: the browser's or a field's, not a
/// page's shortcut.
pub fn not_a_shortcut(ev: &web_sys::KeyboardEvent) -> bool {
    ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.default_prevented()
}

/// The element a key was pressed in, and its tag name in upper case.
pub fn key_target(ev: &web_sys::KeyboardEvent) -> (Option<web_sys::Element>, String) {
    let target = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
    let tag = target
        .as_ref()
        .map(|el| el.tag_name().to_ascii_uppercase())
        .unwrap_or_default();
    (target, tag)
}

/// Whether a tag name is a form field's, where keys are typed text.
pub fn is_field(tag: &str) -> bool {
    matches!(tag, "INPUT" | "TEXTAREA" | "SELECT")
}
