//! A table row that opens its page on a click anywhere in it, as its main link does.

use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;

/// Opens `href()` on a click anywhere in a row, except on links and buttons inside it (they
/// do their own thing), and the selection box of a row that has one.
pub fn row_opener(
    href: impl Fn() -> String + 'static,
) -> impl Fn(leptos::ev::MouseEvent) + 'static {
    let navigate = use_navigate();
    move |ev: leptos::ev::MouseEvent| {
        let inner = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| {
                el.closest("a, button, input, label, .col-select")
                    .ok()
                    .flatten()
            });
        if inner.is_none() {
            navigate(&href(), Default::default());
        }
    }
}

/// `row_opener` for a row whose link does not change.
pub fn row_opener_to(href: &str) -> impl Fn(leptos::ev::MouseEvent) + 'static {
    let href = href.to_string();
    row_opener(move || href.clone())
}
