//! "Add filter" for tag filters: a tag key from the project's keys, then one of its values.
//! Shared by the trace list's filter bar, the metrics page and the scope bar of the session,
//! user and service pages.

use leptos::prelude::*;
use skein_model::{TagFilter, TagKeyInfo, TagValueInfo};

use super::icons::{CloseIcon, PlusIcon};
use super::remote::Latest;
use super::tag_chip::FilterChips;
use crate::api::{self, ApiError};
use crate::text;

/// A key's values as loaded.
pub type TagValues = Result<Vec<TagValueInfo>, ApiError>;

/// The project's tag keys (`GET /api/v1/tags`) and the values of the key chosen
/// (`GET /api/v1/tags/{key}/values`), each load dropping the answers to older ones.
#[derive(Clone, Copy)]
pub struct TagLists {
    pub keys: RwSignal<Option<Result<Vec<TagKeyInfo>, ApiError>>>,
    pub key: RwSignal<String>,
    /// Values are kept with the key they belong to: a slow answer for an older key is ignored.
    pub values: RwSignal<Option<(String, TagValues)>>,
    keys_latest: Latest,
    values_latest: Latest,
}

impl TagLists {
    pub fn new() -> TagLists {
        TagLists {
            keys: RwSignal::new(None),
            key: RwSignal::new(String::new()),
            values: RwSignal::new(None),
            keys_latest: Latest::new(),
            values_latest: Latest::new(),
        }
    }

    /// (Re)loads the project's keys.
    pub fn load_keys(self, project: String) {
        self.keys.set(None);
        let fetch = move || {
            let project = project.clone();
            async move { api::tags(&project).await }
        };
        let keys = self.keys;
        self.keys_latest
            .fetch(self.keys_latest.next(), fetch, move |result| {
                keys.try_set(Some(result));
            });
    }

    /// Chooses a key (empty: none) and loads its values; `loaded` sees them first.
    pub fn choose_key(
        self,
        project: String,
        key: String,
        loaded: impl Fn(&TagValues) + Clone + 'static,
    ) {
        self.key.set(key.clone());
        self.values.set(None);
        let ticket = self.values_latest.next();
        if key.is_empty() {
            return;
        }
        let fetch = {
            let key = key.clone();
            move || {
                let (project, key) = (project.clone(), key.clone());
                async move { api::tag_values(&project, &key).await }
            }
        };
        let values = self.values;
        self.values_latest.fetch(ticket, fetch, move |result| {
            loaded(&result);
            values.try_set(Some((key.clone(), result)));
        });
    }
}

impl Default for TagLists {
    fn default() -> Self {
        TagLists::new()
    }
}

/// Pick a tag key (from `GET /api/v1/tags`), then one of its values
/// (`GET /api/v1/tags/{key}/values`); picking the value adds the filter.
#[component]
pub fn AddTagFilter(project: Memo<String>, on_add: Callback<(String, String)>) -> impl IntoView {
    let open = RwSignal::new(false);
    let lists = TagLists::new();
    let TagLists {
        keys, key, values, ..
    } = lists;

    let open_picker = move |_| {
        open.set(true);
        let project = project.get_untracked();
        lists.choose_key(project.clone(), String::new(), |_| {});
        lists.load_keys(project);
    };
    let close = move || {
        open.set(false);
        key.set(String::new());
        values.set(None);
    };
    let on_key = move |ev: leptos::ev::Event| {
        lists.choose_key(project.get_untracked(), event_target_value(&ev), |_| {});
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

/// A bar's tag filters: the applied ones as removable chips, then "Add filter" (a tag already
/// applied is not added twice); `on_change` gets the new list.
#[component]
pub fn TagFilters(
    project: Memo<String>,
    tags: Signal<Vec<TagFilter>>,
    on_change: Callback<Vec<TagFilter>>,
) -> impl IntoView {
    let on_remove = Callback::new(move |index: usize| {
        let mut list = tags.get_untracked();
        if index < list.len() {
            list.remove(index);
            on_change.run(list);
        }
    });
    let on_add = Callback::new(move |(key, value): (String, String)| {
        let mut list = tags.get_untracked();
        let tag = TagFilter { key, value };
        if !list.contains(&tag) {
            list.push(tag);
            on_change.run(list);
        }
    });
    view! {
        <FilterChips tags=tags on_remove=on_remove/>
        <AddTagFilter project=project on_add=on_add/>
    }
}
