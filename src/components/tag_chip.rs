//! A `key: value` tag (optionally a button that filters by it), and an applied filter.

use leptos::prelude::*;

use skein_model::TagFilter;

use crate::components::icons::CloseIcon;
use crate::text;

/// How many of a row's tags a list shows as chips at most (the rest behind "+N").
pub const ROW_TAGS_SHOWN: usize = 2;

/// The characters of values a list cell shows whole: a tag past them goes behind "+N" rather
/// than cutting a value (a value is what tells rows apart).
const ROW_VALUE_CHARS: usize = 18;

#[component]
pub fn TagChip(
    key: String,
    value: String,
    /// When given, the chip is a button that calls it with (key, value).
    #[prop(optional)]
    on_pick: Option<Callback<(String, String)>>,
    /// Where space is short (a table cell): the value first and whole, then the key, which
    /// gives way (the tooltip always has both).
    #[prop(optional)]
    compact: bool,
) -> impl IntoView {
    let body = {
        let (key, value) = (key.clone(), value.clone());
        move || {
            if compact {
                view! {
                    <span class="chip-text value-first">
                        <span class="tag-val">{value.clone()}</span>
                        <span class="tag-key">{key.clone()}</span>
                    </span>
                }
                .into_any()
            } else {
                view! {
                    <span class="chip-text">
                        <span class="tag-key">{key.clone()}</span>
                        <span class="tag-sep">": "</span>
                        <span class="tag-val">{value.clone()}</span>
                    </span>
                }
                .into_any()
            }
        }
    };
    // A compact chip gives way down to its value's width (a value caps at 28ch), never less.
    let style = compact.then(|| format!("--value-chars: {}", value.chars().count().min(28)));
    match on_pick {
        Some(pick) => {
            let title = format!("{key}: {value}\nFilter by {key} = {value}");
            view! {
                <button type="button" class="tag-chip tag-chip-button" title=title style=style
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
            view! { <span class="tag-chip" title=title style=style>{body()}</span> }.into_any()
        }
    }
}

/// An applied `key = value` filter with a button that removes it.
#[component]
pub fn FilterChip(key: String, value: String, on_remove: Callback<()>) -> impl IntoView {
    let label = format!("Remove filter {key} = {value}");
    view! {
        <span class="filter-chip">
            <span class="chip-text">
                <span class="tag-key">{key}</span>
                <span class="filter-eq">" = "</span>
                <span class="tag-val">{value}</span>
            </span>
            <button type="button" class="chip-remove" title=label.clone() aria-label=label
                on:click=move |_| on_remove.run(())>
                <CloseIcon/>
            </button>
        </span>
    }
}

/// Applied tag filters as chips; removing one calls `on_remove` with its index.
#[component]
pub fn FilterChips(tags: Signal<Vec<TagFilter>>, on_remove: Callback<usize>) -> impl IntoView {
    move || {
        tags.get()
            .into_iter()
            .enumerate()
            .map(|(i, tag)| {
                let remove = Callback::new(move |_| on_remove.run(i));
                view! { <FilterChip key=tag.key value=tag.value on_remove=remove/> }
            })
            .collect_view()
    }
}

/// A list row's tags as compact chips, as many as fit whole (`text::fitting`) in the order given, then
/// "+N" with the rest in its tooltip; a chip filters by its tag.
#[component]
pub fn RowTagChips(
    tags: Vec<(String, String)>,
    on_pick: Callback<(String, String)>,
) -> impl IntoView {
    let fit = text::fitting(
        tags.iter().map(|(_, v)| v.chars().count()),
        ROW_TAGS_SHOWN,
        ROW_VALUE_CHARS,
    );
    let (shown, more) = text::shown_and_rest(&tags, fit);
    let rest = tags[shown.len()..]
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("\n");
    view! {
        {shown
            .into_iter()
            .map(|(k, v)| view! { <TagChip key=k value=v on_pick=on_pick compact=true/> })
            .collect_view()}
        {(more > 0).then(|| view! { <span class="more-chip" title=rest>{format!("+{more}")}</span> })}
    }
}
