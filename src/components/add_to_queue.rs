//! "Add to queue": a button that opens a small panel to put runs into an existing annotation
//! queue: the trace a trace page shows, the traces a trace list's filters select, or the spans
//! the spans page's filter selects (the panel says how many before anything is added, at most
//! `queue::MAX_ADD` of them). The panel is a wasm chunk of its own (`panel`), fetched on the
//! button's first click: most visits never open it.

mod panel;

use std::sync::OnceLock;

use leptos::prelude::*;
use leptos::wasm_split::{self as split, wasm_split, SplitLoaderError};
use skein_model::queue::{AddItems, MAX_ADD};

use super::lazy::toggle_part;
use crate::text;

/// What the button adds.
#[derive(Clone, PartialEq)]
pub enum QueueRuns {
    /// One trace.
    Trace(String),
    /// The traces of a trace-list query (its query string), `total` of them.
    Selected { query: String, total: Option<u64> },
    /// The spans of a span-list query (its query string), `total` of them.
    Spans { query: String, total: Option<u64> },
}

impl QueueRuns {
    fn request(&self) -> AddItems {
        match self {
            QueueRuns::Trace(id) => AddItems {
                trace_ids: vec![id.clone()],
                ..AddItems::default()
            },
            QueueRuns::Selected { query, .. } => AddItems {
                query: Some(query.clone()),
                limit: Some(MAX_ADD as u32),
                ..AddItems::default()
            },
            QueueRuns::Spans { query, .. } => AddItems {
                span_query: Some(query.clone()),
                limit: Some(MAX_ADD as u32),
                ..AddItems::default()
            },
        }
    }

    /// What one and several of the runs are called.
    fn nouns(&self) -> (&'static str, &'static str) {
        match self {
            QueueRuns::Trace(_) | QueueRuns::Selected { .. } => ("trace", "traces"),
            QueueRuns::Spans { .. } => ("span", "spans"),
        }
    }

    /// What the confirm button says.
    fn what(&self) -> String {
        let total = match self {
            QueueRuns::Trace(_) => return "Add this trace".into(),
            QueueRuns::Selected { total, .. } | QueueRuns::Spans { total, .. } => *total,
        };
        let (one, many) = self.nouns();
        match total {
            Some(n) if n > MAX_ADD as u64 => format!(
                "Add the first {} of {}",
                text::thousands(MAX_ADD as u64),
                text::plural(n, one, many)
            ),
            Some(n) => format!("Add {}", text::plural(n, one, many)),
            None => format!("Add the selected {many}"),
        }
    }
}

/// The panel's code: draws the open panel.
type PanelCode = fn(Signal<String>, Signal<QueueRuns>) -> AnyView;

/// The code once loaded (for the rest of the visit).
static LOADED: OnceLock<PanelCode> = OnceLock::new();

#[wasm_split(add_to_queue, wasm_split_path = split, fallible)]
fn panel_code() -> Result<PanelCode, SplitLoaderError> {
    Ok(|project, runs| view! { <panel::Panel project=project runs=runs/> }.into_any())
}

#[component]
pub fn AddToQueue(
    #[prop(into)] project: Signal<String>,
    /// Read when the panel opens and when confirmed (a list's current filters and count).
    #[prop(into)]
    runs: Signal<QueueRuns>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let code = RwSignal::new(LOADED.get().copied());
    // A failed load (the collector away: it serves the chunks) says so; a click tries again.
    let unloaded = RwSignal::new(false);
    let toggle = move |_| toggle_part(open, &LOADED, panel_code, code, unloaded);
    let panel = move || {
        if !open.get() {
            return None;
        }
        Some(match code.get() {
            Some(draw) => draw(project, runs),
            None if unloaded.get() => view! {
                <div class="panel add-to-queue-panel" data-testid="add-to-queue-panel">
                    <p class="fb-error" role="alert">"Couldn't load this panel: is the collector running?"</p>
                </div>
            }
            .into_any(),
            None => view! {
                <div class="panel add-to-queue-panel" data-testid="add-to-queue-panel">
                    <p class="muted">"Loading queues…"</p>
                </div>
            }
            .into_any(),
        })
    };
    view! {
        <div class="add-to-queue">
            <button type="button" class="button" data-testid="add-to-queue"
                aria-expanded=move || open.get().to_string() on:click=toggle
                title="Put these runs into an annotation queue for people to rate">"Add to queue"</button>
            {panel}
        </div>
    }
}
