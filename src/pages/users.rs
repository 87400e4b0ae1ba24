//! `/users`: every user with their sessions and aggregates, filtered by tags and time.

use leptos::prelude::*;
use skein_model::sessions::{SessionSort, UserSummary};

use crate::api;
use crate::components::remote::PageOf;
use crate::components::scoped_list::{scoped_list_page, ListPage};
use crate::components::session_table::{UserHead, UserRow, USER_COLUMNS};

const USER_SORTS: &[SessionSort] = &[
    SessionSort::LastDesc,
    SessionSort::FirstAsc,
    SessionSort::SessionsDesc,
    SessionSort::RequestsDesc,
    SessionSort::DurationDesc,
    SessionSort::TokensDesc,
    SessionSort::CostDesc,
    SessionSort::ErrorsDesc,
];

#[component]
pub fn UsersPage() -> impl IntoView {
    let page = ListPage {
        title: "Users",
        one: "user",
        many: "users",
        path: "/users",
        sorts: USER_SORTS,
        columns: USER_COLUMNS,
        no_match: "No request with a user matches all of the filters above. Try another time range or remove a tag filter.",
        demo_hint: false,
    };
    let fetch = |project: String, query| async move {
        api::users(&project, &query).await.map(PageOf::from)
    };
    scoped_list_page(
        page,
        fetch,
        |u: &UserSummary| &u.stats,
        |u| u.user_id.clone(),
        |feedback_key| view! { <UserHead feedback_key=feedback_key/> }.into_any(),
        |u, project, feedback_key| view! { <UserRow user=u project=project feedback_key=feedback_key/> },
    )
}
