//! `/sessions`: every session with its aggregates, filtered by tags and time, sorted.

use leptos::prelude::*;
use skein_model::sessions::{SessionSort, SessionSummary};

use crate::api;
use crate::components::remote::PageOf;
use crate::components::scoped_list::{scoped_list_page, ListPage};
use crate::components::session_table::{session_columns, SessionHead, SessionRow};

pub const SESSION_SORTS: &[SessionSort] = &[
    SessionSort::LastDesc,
    SessionSort::FirstAsc,
    SessionSort::RequestsDesc,
    SessionSort::DurationDesc,
    SessionSort::TokensDesc,
    SessionSort::CostDesc,
    SessionSort::ErrorsDesc,
];

#[component]
pub fn SessionsPage() -> impl IntoView {
    let page = ListPage {
        title: "Sessions",
        one: "session",
        many: "sessions",
        path: "/sessions",
        sorts: SESSION_SORTS,
        columns: session_columns(true),
        no_match: "No request in a session matches all of the filters above. Try another time range or remove a tag filter.",
        demo_hint: true,
    };
    let fetch = |project: String, query| async move {
        api::sessions(&project, &query).await.map(PageOf::from)
    };
    scoped_list_page(
        page,
        fetch,
        |s: &SessionSummary| &s.stats,
        |s| s.session_id.clone(),
        |feedback_key| view! { <SessionHead show_user=true feedback_key=feedback_key/> }.into_any(),
        |s, project, feedback_key| {
            view! { <SessionRow session=s project=project show_user=true feedback_key=feedback_key/> }
        },
    )
}
