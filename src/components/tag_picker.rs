//! "Add filter" for tag filters: a tag key from the project's keys, then one of its values.
//! Shared by the trace list's filter bar, the metrics page and the scope bar of the session,
//! user and service pages.

use leptos::prelude::*;
use skein_model::{TagKeyInfo, TagValueInfo};

use super::icons::{CloseIcon, PlusIcon};
use super::remote::Latest;
use crate::api::{self, ApiError};
use crate::text;

/// Pick a tag key (from `GET /api/v1/tags`), then one of its values
/// (`GET /api/v1/tags/{key}/values`); picking the value adds the filter.
#[component]
pub fn AddTagFilter(project: Memo<String>, on_add: Callback<(String, String)>) -> impl IntoView {
    let open = RwSignal::new(false);
    let keys = RwSignal::new(None::<Result<Vec<TagKeyInfo>, ApiError>>);
    let key = RwSignal::new(String::new());
    // Values are kept with the key they belong to: a slow answer for an older key is ignored.
    let values = RwSignal::new(None::<(String, Result<Vec<TagValueInfo>, ApiError>)>);
    // A newer request (reopened, another key) drops the answers to older ones.
    let (keys_latest, values_latest) = (Latest::new(), Latest::new());

    let open_picker = move |_| {
        open.set(true);
        key.set(String::new());
        values.set(None);
        values_latest.next();
        keys.set(None);
        let project = project.get_untracked();
        let fetch = move || {
            let project = project.clone();
            async move { api::tags(&project).await }
        };
        keys_latest.fetch(keys_latest.next(), fetch, move |result| {
            keys.try_set(Some(result));
        });
    };
    let close = move || {
        open.set(false);
        key.set(String::new());
        values.set(None);
    };
    let on_key = move |ev: leptos::ev::Event| {
        let k = event_target_value(&ev);
        key.set(k.clone());
        values.set(None);
        if k.is_empty() {
            values_latest.next();
            return;
        }
        let project = project.get_untracked();
        let fetch = {
            let k = k.clone();
            move || {
                let (project, k) = (project.clone(), k.clone());
                async move { api::tag_values(&project, &k).await }
            }
        };
        values_latest.fetch(values_latest.next(), fetch, move |result| {
            values.try_set(Some((k.clone(), result)));
        });
    };
    let on_value = move |ev: leptos::ev::Event| {
        let v = event_target_value(&ev);
        let k = key.get_untracked();
        if !k.is_empty() && !v.is_empty() {
            on_add.run((k, v));
            close();
        }
    };

    let key_options = move || {
        match keys.get() {
        None => view! { <option value="" disabled=true>"Loading keys…"</option> }.into_any(),
        Some(Err(e)) => view! { <option value="" disabled=true>{format!("Couldn't load keys: {}", e.title())}</option> }.into_any(),
        Some(Ok(list)) if list.is_empty() => view! { <option value="" disabled=true>"No tags in this project yet"</option> }.into_any(),
        Some(Ok(list)) => list
            .into_iter()
            .map(|k| {
                let label = format!("{} ({})", k.key, text::thousands(k.trace_count));
                view! { <option value=k.key>{label}</option> }
            })
            .collect_view()
            .into_any(),
    }
    };
    let value_options = move || {
        match values.get() {
        None => view! { <option value="" disabled=true>"Loading values…"</option> }.into_any(),
        Some((_, Err(e))) => view! { <option value="" disabled=true>{format!("Couldn't load values: {}", e.title())}</option> }.into_any(),
        Some((_, Ok(list))) => list
            .into_iter()
            .map(|v| {
                let label = format!("{} ({})", v.value, text::thousands(v.trace_count));
                view! { <option value=v.value>{label}</option> }
            })
            .collect_view()
            .into_any(),
    }
    };

    view! {
        <Show
            when=move || open.get()
            fallback=move || view! {
                <button type="button" class="add-filter" on:click=open_picker>
                    <PlusIcon/>"Add filter"
                </button>
            }
        >
            <span class="tag-picker"
                on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { close() }>
                <select class="select" name="tag-key" aria-label="Tag key" on:change=on_key>
                    <option value="" selected=true>"Key…"</option>
                    {key_options}
                </select>
                <span class="filter-eq">"="</span>
                <select class="select" name="tag-value" aria-label="Tag value" on:change=on_value
                    disabled=move || key.get().is_empty()>
                    <option value="" selected=true>"Value…"</option>
                    {move || (!key.get().is_empty()).then(value_options)}
                </select>
                <button type="button" class="icon-button" title="Cancel" aria-label="Cancel"
                    on:click=move |_| close()>
                    <CloseIcon/>
                </button>
            </span>
        </Show>
    }
}
