//! The pages (the routes in `app.rs`) are lazily loaded wasm chunks (cut by
//! scripts/build-wasm.sh). The collector serves the chunks, so when it can't be reached a page
//! says so like any failed request, and loads itself once it answers again.

use std::future::Future;
use std::pin::Pin;

use leptos::either::Either;
use leptos::prelude::*;
use leptos::task::spawn_local_scoped;
use leptos::wasm_split::SplitLoaderError;

use super::error_banner::ErrorBanner;
use super::remote::RETRY;
use crate::api;

type Pending<T> = Pin<Box<dyn Future<Output = Result<T, SplitLoaderError>>>>;
/// Fetches the page's chunk (and the chunks it shares with other pages).
pub type LoadCode = fn() -> Pending<()>;
/// Builds the page from its loaded chunk.
pub type RenderPage = fn() -> Pending<AnyView>;

/// The page, once its code is loaded; if that fails, a notice that retries by itself.
pub async fn open_page(title: &'static str, load: LoadCode, render: RenderPage) -> AnyView {
    if load().await.is_ok() {
        if let Ok(page) = render().await {
            return page;
        }
    }
    view! { <CodeUnreachable title load render/> }.into_any()
}

#[component]
fn CodeUnreachable(title: &'static str, load: LoadCode, render: RenderPage) -> impl IntoView {
    // The page, built once its code is loaded; `ready` then shows it.
    let page = StoredValue::new_local(None::<AnyView>);
    let ready = RwSignal::new(false);
    // The page is built in this component's place in the tree, where the router's context is.
    let owner = Owner::current().unwrap_or_default();
    retry_until_loaded(owner, load, render, page, ready);
    let error = api::unreachable("this page's code did not load");
    move || match ready
        .get()
        .then(|| page.try_update_value(Option::take))
        .flatten()
        .flatten()
    {
        Some(page) => Either::Left(page),
        None => Either::Right(view! {
            <div class="page">
                <h1>{title}</h1>
                <ErrorBanner title=error.title() detail=error.detail() retrying=true>
                    // A collector upgraded since this page was loaded no longer has its code.
                    <button type="button" class="button" on:click=|_| reload()>"Reload"</button>
                </ErrorBanner>
            </div>
        }),
    }
}

fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

/// Tries to load the code every few seconds while the notice is on screen.
fn retry_until_loaded(
    owner: Owner,
    load: LoadCode,
    render: RenderPage,
    page: StoredValue<Option<AnyView>, LocalStorage>,
    ready: RwSignal<bool>,
) {
    set_timeout(
        move || {
            // Disposed: the user went to another page.
            if ready.try_get_untracked().is_none() {
                return;
            }
            let scope = owner.clone();
            let attempt = async move {
                if load().await.is_err() {
                    return retry_until_loaded(scope, load, render, page, ready);
                }
                if let Ok(view) = render().await {
                    page.try_set_value(Some(view));
                    ready.try_set(true);
                }
            };
            owner.with(|| spawn_local_scoped(attempt));
        },
        RETRY,
    );
}

/// Opens or closes a rarely used part whose code is a chunk of its own, loading the code on
/// first opening: once loaded it is kept in `kept` for the rest of the visit and set into
/// `code`; a failed load (the collector away: it serves the chunks) sets `failed`, and the next
/// opening tries again.
pub fn toggle_part<C, Fut>(
    open: RwSignal<bool>,
    kept: &'static std::sync::OnceLock<C>,
    load: fn() -> Fut,
    code: RwSignal<Option<C>>,
    failed: RwSignal<bool>,
) where
    C: Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<C, SplitLoaderError>> + 'static,
{
    let opening = !open.get_untracked();
    open.set(opening);
    if !opening || code.get_untracked().is_some() {
        return;
    }
    failed.set(false);
    leptos::task::spawn_local(async move {
        match load().await {
            Ok(loaded) => {
                code.try_set(Some(*kept.get_or_init(|| loaded)));
            }
            Err(_) => {
                failed.try_set(true);
            }
        }
    });
}
