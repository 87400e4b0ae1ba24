//! Selecting rows of the trace list to compare two of them: a checkbox per row, and a small
//! bar saying what is selected with "Compare" (`/compare?a=&b=`) once two are. Selecting a
//! third trace lets go of the first one selected.

use leptos::prelude::*;

use crate::links;

/// The selected trace ids, oldest first (at most two).
#[derive(Clone, Copy)]
pub struct Selection(pub RwSignal<Vec<String>>);

impl Selection {
    pub fn new() -> Selection {
        Selection(RwSignal::new(Vec::new()))
    }

    fn toggle(self, trace_id: &str, on: bool) {
        self.0.update(|ids| {
            ids.retain(|id| id != trace_id);
            if on {
                ids.push(trace_id.to_string());
                if ids.len() > 2 {
                    ids.remove(0);
                }
            }
        });
    }
}

/// The row's checkbox cell.
#[component]
pub fn SelectCell(selection: Selection, trace_id: String, name: String) -> impl IntoView {
    let id = trace_id.clone();
    let checked = move || selection.0.with(|ids| ids.contains(&id));
    let toggle =
        move |ev: leptos::ev::Event| selection.toggle(&trace_id, event_target_checked(&ev));
    view! {
        <td class="col-select">
            <input type="checkbox" class="row-select" prop:checked=checked on:change=toggle
                aria-label=format!("Select {name} to compare")/>
        </td>
    }
}

/// The bar above the list while traces are selected.
#[component]
pub fn SelectionBar(selection: Selection, project: Memo<String>) -> impl IntoView {
    move || {
        let ids = selection.0.get();
        if ids.is_empty() {
            return None;
        }
        let action = match ids.as_slice() {
            [a, b] => view! {
                <a class="button" data-testid="compare-selected"
                    href=links::compare_href(&project.get(), a, b, None)>"Compare"</a>
            }
            .into_any(),
            _ => view! { <span class="muted">"Select one more trace to compare them."</span> }
                .into_any(),
        };
        let clear = move |_| selection.0.set(Vec::new());
        Some(view! {
            <div class="selection-bar" role="status" data-testid="selection-bar">
                <span>{if ids.len() == 1 { "1 trace selected".to_string() } else { format!("{} traces selected", ids.len()) }}</span>
                {action}
                <button type="button" class="link-button" on:click=clear>"Clear"</button>
            </div>
        })
    }
}
