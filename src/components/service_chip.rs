//! A service name on its stable colour (see `skein_model::palette`).

use leptos::prelude::*;
use skein_model::palette::service_hue;

#[component]
pub fn ServiceChip(name: String) -> impl IntoView {
    // Only the number reaches the style attribute; the name is a text node.
    let style = format!("--svc-h: {}", service_hue(&name));
    let label = if name.is_empty() {
        "unknown".to_string()
    } else {
        name.clone()
    };
    view! {
        <span class="svc-chip" style=style title=name>
            <span class="svc-dot"></span>
            <span class="svc-name">{label}</span>
        </span>
    }
}
