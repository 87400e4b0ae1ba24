//! A button that downloads an API answer as a file (with the session's key, which a plain
//! link could not send), saying while it works and when it failed. The download's code (the
//! request, the file handed to the browser) is a chunk of its own (`download`), fetched on the
//! first click: the pages that show the button rarely use it.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{self as split, wasm_split, SplitLoaderError};

use crate::api::{self, ApiError};

/// The download's code: fetches `url` and saves it as `filename`.
type DownloadCode = fn(String, String) -> Pin<Box<dyn Future<Output = Result<(), ApiError>>>>;

#[wasm_split(download, wasm_split_path = split, fallible)]
fn download_code() -> Result<DownloadCode, SplitLoaderError> {
    Ok(|url, filename| Box::pin(async move { api::download(&url, &filename).await }))
}

/// Loads the download's code (once a visit: the loader keeps it), then downloads.
async fn download(url: String, filename: String) -> Result<(), ApiError> {
    let code = download_code()
        .await
        .map_err(|_| api::unreachable("the download's code did not load"))?;
    code(url, filename).await
}

#[derive(Clone, PartialEq)]
enum State {
    Idle,
    Working,
    Failed(String),
}

/// `url` and `filename` are read when clicked (a list's current filters).
#[component]
pub fn DownloadButton(
    label: &'static str,
    #[prop(into)] url: Signal<String>,
    #[prop(into)] filename: Signal<String>,
    /// What the tooltip says the file holds.
    title: &'static str,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    let state = RwSignal::new(State::Idle);
    let click = move |_| {
        if state.get_untracked() == State::Working {
            return;
        }
        state.set(State::Working);
        let (url, filename) = (url.get_untracked(), filename.get_untracked());
        spawn_local(async move {
            let done = match download(url, filename).await {
                Ok(()) => State::Idle,
                Err(e) => State::Failed(e.detail()),
            };
            state.try_set(done);
        });
    };
    let tooltip = move || match state.get() {
        State::Failed(why) => format!("Download failed: {why}"),
        _ => title.to_string(),
    };
    view! {
        <button type="button" class="button download-button" data-testid=testid
            class:failed=move || matches!(state.get(), State::Failed(_))
            disabled=move || state.get() == State::Working
            title=tooltip on:click=click>
            {move || match state.get() {
                State::Working => "Preparing…",
                State::Failed(_) => "Retry download",
                State::Idle => label,
            }}
        </button>
    }
}
