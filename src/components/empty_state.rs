//! A calm, centred message for "nothing here", with what to do next.

use leptos::prelude::*;

use super::icons::InboxIcon;

#[component]
pub fn EmptyState(
    #[prop(into)] title: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="empty-state" role="status">
            <div class="empty-icon"><InboxIcon/></div>
            <h2>{title}</h2>
            <div class="empty-body">{children.map(|c| c())}</div>
        </div>
    }
}
