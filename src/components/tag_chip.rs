//! A `key: value` tag; optionally a button that filters by it.

use leptos::prelude::*;

use super::icons::escape_into;

#[component]
pub fn TagChip(
    key: String,
    value: String,
    /// When given, the chip is a button that calls it with (key, value).
    #[prop(optional)]
    on_pick: Option<Callback<(String, String)>>,
) -> impl IntoView {
    let body = {
        let (key, value) = (key.clone(), value.clone());
        move || {
            view! {
                <span class="chip-text">
                    <span class="tag-key">{key.clone()}</span>
                    <span class="tag-sep">": "</span>
                    <span class="tag-val">{value.clone()}</span>
                </span>
            }
        }
    };
    match on_pick {
        Some(pick) => {
            let title = format!("Filter by {key} = {value}");
            view! {
                <button type="button" class="tag-chip tag-chip-button" title=title
                    on:click=move |ev| {
                        ev.stop_propagation();
                        pick.run((key.clone(), value.clone()));
                    }>
                    {body()}
                </button>
            }
            .into_any()
        }
        None => {
            let title = format!("{key}: {value}");
            view! { <span class="tag-chip" title=title>{body()}</span> }.into_any()
        }
    }
}

/// A `TagChip` without `on_pick`, as markup (text escaped), for lists drawn as markup.
pub fn tag_chip_markup(key: &str, value: &str, out: &mut String) {
    out.push_str(r#"<span class="tag-chip" title=""#);
    escape_into(out, &format!("{key}: {value}"));
    out.push_str(r#""><span class="chip-text"><span class="tag-key">"#);
    escape_into(out, key);
    out.push_str(r#"</span><span class="tag-sep">: </span><span class="tag-val">"#);
    escape_into(out, value);
    out.push_str("</span></span></span>");
}
