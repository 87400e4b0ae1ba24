//! The filter bar of the session, user and service pages: tag filters as removable chips with
//! an add control, a time range and (for lists) the order. It edits the page URL only (a
//! `Scope`); the page reloads from the URL.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use skein_model::sessions::{RecentRange, Scope, SessionSort};
use skein_model::TagFilter;

use super::filter_bar::ClearFilters;
use super::tag_picker::TagFilters;
use crate::links;

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
            &links::page(
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

    let on_tags = {
        let set_scope = set_scope.clone();
        Callback::new(move |tags: Vec<TagFilter>| {
            let mut s = scope.get_untracked();
            s.tags = tags;
            set_scope(s);
        })
    };
    let filter_tags = Signal::derive(move || scope.get().tags);

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
    let filtered = Memo::new(move |_| {
        let s = scope.get();
        !s.tags.is_empty() || s.range != default_range || s.filter.is_some()
    });
    let clear = {
        let set_scope = set_scope.clone();
        Callback::new(move |_| {
            let s = scope.get_untracked();
            set_scope(Scope {
                sort: s.sort,
                range: default_range,
                ..Scope::default()
            })
        })
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
                <TagFilters project=project tags=filter_tags on_change=on_tags/>
                <ClearFilters shown=filtered on_clear=clear/>
            </div>
        </div>
    }
}
