//! The filter bar of the session, user and service pages: tag filters as removable chips with
//! an add control, a time range and (for lists) the order. It edits the page URL only (a
//! `Scope`); the page reloads from the URL.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use skein_model::sessions::{RecentRange, Scope, SessionSort};
use skein_model::{TagFilter, TagKeyInfo, TagValueInfo};

use super::hrefs;
use super::icons::{CloseIcon, PlusIcon};
use crate::api::{self, ApiError};
use crate::text;

#[component]
pub fn ScopeBar(
    project: Memo<String>,
    scope: Memo<Scope>,
    /// The page's path (`/sessions`): changes navigate there.
    path: &'static str,
    default_range: RecentRange,
    /// The ranges offered.
    ranges: &'static [RecentRange],
    /// The orders offered; none hides the sort control.
    #[prop(optional)]
    sorts: &'static [SessionSort],
) -> impl IntoView {
    let navigate = use_navigate();
    let set_scope = move |s: Scope| {
        navigate(
            &hrefs::page(
                path,
                &project.get_untracked(),
                &s.to_query_string(default_range),
            ),
            NavigateOptions {
                scroll: false,
                ..NavigateOptions::default()
            },
        )
    };

    let remove_tag = {
        let set_scope = set_scope.clone();
        move |index: usize| {
            let mut s = scope.get_untracked();
            if index < s.tags.len() {
                s.tags.remove(index);
            }
            set_scope(s);
        }
    };
    let chips = move || {
        let remove_tag = remove_tag.clone();
        scope
            .get()
            .tags
            .into_iter()
            .enumerate()
            .map(move |(i, tag)| {
                let remove_tag = remove_tag.clone();
                let label = format!("Remove filter {} = {}", tag.key, tag.value);
                view! {
                    <span class="filter-chip">
                        <span class="chip-text">
                            <span class="tag-key">{tag.key}</span>
                            <span class="filter-eq">" = "</span>
                            <span class="tag-val">{tag.value}</span>
                        </span>
                        <button type="button" class="chip-remove" title=label.clone() aria-label=label
                            on:click=move |_| remove_tag(i)>
                            <CloseIcon/>
                        </button>
                    </span>
                }
            })
            .collect_view()
    };

    let on_range = {
        let set_scope = set_scope.clone();
        move |ev: leptos::ev::Event| {
            let mut s = scope.get_untracked();
            s.range = RecentRange::parse(&event_target_value(&ev)).unwrap_or(default_range);
            set_scope(s);
        }
    };
    let on_sort = {
        let set_scope = set_scope.clone();
        move |ev: leptos::ev::Event| {
            let mut s = scope.get_untracked();
            s.sort = SessionSort::parse(&event_target_value(&ev)).unwrap_or_default();
            set_scope(s);
        }
    };
    let add_tag = {
        let set_scope = set_scope.clone();
        Callback::new(move |(key, value): (String, String)| {
            let mut s = scope.get_untracked();
            let tag = TagFilter { key, value };
            if !s.tags.contains(&tag) {
                s.tags.push(tag);
                set_scope(s);
            }
        })
    };
    let filtered = Memo::new(move |_| {
        let s = scope.get();
        !s.tags.is_empty() || s.range != default_range
    });
    let clear = {
        let set_scope = set_scope.clone();
        move |_| {
            let s = scope.get_untracked();
            set_scope(Scope {
                sort: s.sort,
                range: default_range,
                tags: Vec::new(),
            })
        }
    };

    view! {
        <div class="filter-bar scope-bar">
            <div class="filter-row">
                <select class="select" name="range" aria-label="Time range" on:change=on_range
                    prop:value=move || scope.get().range.as_str()>
                    {ranges
                        .iter()
                        .map(|r| view! { <option value=r.as_str()>{r.label()}</option> })
                        .collect_view()}
                </select>
                {(!sorts.is_empty()).then(|| view! {
                    <select class="select" name="sort" aria-label="Sort" on:change=on_sort
                        prop:value=move || scope.get().sort.as_str()>
                        {sorts
                            .iter()
                            .map(|s| view! { <option value=s.as_str()>{s.label()}</option> })
                            .collect_view()}
                    </select>
                })}
                <span class="filter-label scope-tags-label">"Tags"</span>
                {chips}
                <AddTag project=project on_add=add_tag/>
                <Show when=move || filtered.get()>
                    <button type="button" class="link-button clear-filters" on:click=clear.clone()>
                        "Clear filters"
                    </button>
                </Show>
            </div>
        </div>
    }
}

/// Pick a tag key (from `GET /api/v1/tags`), then one of its values; picking the value adds
/// the filter.
#[component]
fn AddTag(project: Memo<String>, on_add: Callback<(String, String)>) -> impl IntoView {
    let open = RwSignal::new(false);
    let keys = RwSignal::new(None::<Result<Vec<TagKeyInfo>, ApiError>>);
    let key = RwSignal::new(String::new());
    // Values are kept with their key: a slow answer for an older key is ignored.
    let values = RwSignal::new(None::<(String, Result<Vec<TagValueInfo>, ApiError>)>);

    let open_picker = move |_| {
        open.set(true);
        key.set(String::new());
        values.set(None);
        keys.set(None);
        let project = project.get_untracked();
        spawn_local(async move {
            let result = api::tags(&project).await;
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
            return;
        }
        let project = project.get_untracked();
        spawn_local(async move {
            let result = api::tag_values(&project, &k).await;
            if key.try_get_untracked().as_deref() == Some(k.as_str()) {
                values.try_set(Some((k, result)));
            }
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

    let key_options = move || match keys.get() {
        None => view! { <option value="" disabled=true>"Loading keys…"</option> }.into_any(),
        Some(Err(e)) => view! {
            <option value="" disabled=true>{format!("Couldn't load keys: {}", e.title())}</option>
        }
        .into_any(),
        Some(Ok(list)) if list.is_empty() => {
            view! { <option value="" disabled=true>"No tags in this project yet"</option> }
                .into_any()
        }
        Some(Ok(list)) => list
            .into_iter()
            .map(|k| {
                let label = format!("{} ({})", k.key, text::thousands(k.trace_count));
                view! { <option value=k.key>{label}</option> }
            })
            .collect_view()
            .into_any(),
    };
    let value_options = move || match values.get() {
        None => view! { <option value="" disabled=true>"Loading values…"</option> }.into_any(),
        Some((_, Err(e))) => view! {
            <option value="" disabled=true>{format!("Couldn't load values: {}", e.title())}</option>
        }
        .into_any(),
        Some((_, Ok(list))) => list
            .into_iter()
            .map(|v| {
                let label = format!("{} ({})", v.value, text::thousands(v.trace_count));
                view! { <option value=v.value>{label}</option> }
            })
            .collect_view()
            .into_any(),
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
