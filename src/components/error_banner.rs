//! A banner for a failed request: what failed, the detail, and whether we are retrying.

use leptos::prelude::*;

use super::icons::AlertIcon;

#[component]
pub fn ErrorBanner(
    #[prop(into)] title: String,
    #[prop(into, optional)] detail: String,
    /// Tell the user the page is retrying by itself.
    #[prop(optional)]
    retrying: bool,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="error-banner" role="alert">
            <span class="error-icon"><AlertIcon/></span>
            <div class="error-text">
                <strong>{title}</strong>
                {(!detail.is_empty()).then(|| view! { <span class="error-detail">{detail}</span> })}
                {retrying.then(|| view! {
                    <span class="error-retry"><span class="spinner"></span>"Retrying every few seconds…"</span>
                })}
            </div>
            <div class="error-actions">{children.map(|c| c())}</div>
        </div>
    }
}
