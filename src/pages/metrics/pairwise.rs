//! The metrics page's pairwise panel: a blind pairwise review queue's judgements per group of
//! the page's group-by tag: how often B's run was preferred over A's with its 95% Wilson
//! interval, the exact sign test's p-value with ties left out, the tie rate and n. The
//! collector adds the judgements up (`GET /api/v1/pairwise/results`); the statistics are
//! `skein_model::pairwise`. The panel's code (`results`: the project's pairwise queues, their
//! results, the picker) is a chunk of its own, fetched after the page's first frame: the
//! charts do not wait for it, and it shows nothing for a project without pairwise queues.

mod results;

use std::sync::OnceLock;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{self as split, wasm_split, SplitLoaderError};

/// What the panel is drawn from.
#[derive(Clone, Copy)]
pub struct PanelProps {
    project: Memo<String>,
    group_by: Signal<Option<String>>,
    chosen: Signal<Option<String>>,
    choose: Callback<String>,
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
    let code = RwSignal::new(LOADED.get().copied());
    if code.get_untracked().is_none() {
        let load = move || {
            spawn_local(async move {
                // A failed load (the collector away) leaves the panel out, as a failed list does.
                if let Ok(loaded) = panel_code().await {
                    code.try_set(Some(*LOADED.get_or_init(|| loaded)));
                }
            })
        };
        request_animation_frame(move || set_timeout(load, Duration::ZERO));
    }
    let props = PanelProps {
        project,
        group_by,
        chosen,
        choose,
    };
    move || code.get().map(|draw| draw(props))
}
