//! The metrics page's pairwise panel: a blind pairwise review queue's judgements per group of
//! the page's group-by tag: how often B's run was preferred over A's with its 95% Wilson
//! interval, the exact sign test's p-value with ties left out, the tie rate and n. The
//! collector adds the judgements up (`GET /api/v1/pairwise/results`); the statistics are
//! `skein_model::pairwise`. The panel's code (`results`) is a chunk of its own, loaded once
//! the project turns out to have a pairwise queue.

mod results;

use std::sync::OnceLock;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{self as split, wasm_split, SplitLoaderError};
use skein_model::pairwise_queue::{PairwiseQueue, PairwiseQueueList};

use crate::api;
use crate::components::remote::{Loader, Remote};

/// What the panel is drawn from.
#[derive(Clone, Copy)]
pub struct PanelProps {
    project: Memo<String>,
    group_by: Signal<Option<String>>,
    chosen: Signal<Option<String>>,
    choose: Callback<String>,
    /// The project's pairwise queues, the newest first.
    queues: Memo<Vec<PairwiseQueue>>,
}

type PanelCode = fn(PanelProps) -> AnyView;

/// The code once loaded (for the rest of the visit).
static LOADED: OnceLock<PanelCode> = OnceLock::new();

#[wasm_split(pairwise_panel, wasm_split_path = split, fallible)]
fn panel_code() -> Result<PanelCode, SplitLoaderError> {
    Ok(results::panel)
}

/// The panel; nothing while the project has no pairwise queue. It shows the queue the URL
/// names (`chosen`), else the newest; a choice goes into the URL (`choose`).
#[component]
pub fn PairwisePanel(
    project: Memo<String>,
    group_by: Signal<Option<String>>,
    chosen: Signal<Option<String>>,
    choose: Callback<String>,
) -> impl IntoView {
    let list = Loader::<PairwiseQueueList>::new();
    Effect::new(move |_| {
        let project = project.get();
        list.load(true, move || {
            let project = project.clone();
            async move { api::pairwise_queues(&project).await }
        });
    });
    // The newest first: the one most likely asked about.
    let queues = Memo::new(move |_| match list.state.get() {
        Remote::Ready(l) => l.queues.into_iter().rev().collect(),
        _ => Vec::<PairwiseQueue>::new(),
    });
    let any = Memo::new(move |_| queues.with(|q| !q.is_empty()));
    let code = RwSignal::new(LOADED.get().copied());
    Effect::new(move |_| {
        if !any.get() || code.get_untracked().is_some() {
            return;
        }
        spawn_local(async move {
            // A failed load (the collector away) leaves the panel out, as a failed list does.
            if let Ok(loaded) = panel_code().await {
                code.try_set(Some(*LOADED.get_or_init(|| loaded)));
            }
        });
    });
    let props = PanelProps {
        project,
        group_by,
        chosen,
        choose,
        queues,
    };
    move || {
        if !any.get() {
            return None;
        }
        code.get().map(|draw| draw(props))
    }
}
