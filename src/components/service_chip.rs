//! A service name on its stable colour (see `skein_model::palette`).

use leptos::prelude::*;
use skein_model::palette::service_hue;

use super::icons::escape_into;

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

/// `ServiceChip` as markup (text escaped), for lists drawn as markup.
pub fn service_chip_markup(name: &str, out: &mut String) {
    out.push_str(&format!(
        r#"<span class="svc-chip" style="--svc-h: {}" title=""#,
        service_hue(name)
    ));
    escape_into(out, name);
    out.push_str(r#""><span class="svc-dot"></span><span class="svc-name">"#);
    escape_into(out, if name.is_empty() { "unknown" } else { name });
    out.push_str("</span></span>");
}
