//! What the two lists of `/queues` (annotation and pairwise queues) share: the project's list
//! loaded and reloaded, its table, and the create form: fields bound to signals, the request
//! sent once the form checks, its refusal shown, the fields cleared and the list reloaded.

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::ApiError;
use crate::components::empty_state::EmptyState;
use crate::components::remote::Loader;

/// A project's queues of one kind: loaded now and whenever the project changes; `reload`
/// loads them again (after a queue is created).
pub fn project_list<T, Fut>(
    project: Memo<String>,
    fetch: fn(String) -> Fut,
) -> (Loader<T>, Callback<()>)
where
    T: Send + Sync + Clone + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let list = Loader::<T>::new();
    let reload = Callback::new(move |()| {
        let project = project.get_untracked();
        list.load(true, move || fetch(project.clone()));
    });
    Effect::new(move |_| {
        project.track();
        reload.run(());
    });
    (list, reload)
}

/// A table of queues: the header's cells, then one row a queue; without any, the shared
/// empty state (`empty`: its title and what such a queue is for).
pub fn queue_table<R: IntoView + 'static>(
    testid: &'static str,
    head: impl IntoView,
    rows: Vec<R>,
    empty: (&'static str, &'static str),
) -> AnyView {
    if rows.is_empty() {
        let (title, hint) = empty;
        return view! { <EmptyState title=title><p>{hint}</p></EmptyState> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data-table queue-table" data-testid=testid>
                <thead><tr>{head}</tr></thead>
                <tbody>{rows.collect_view()}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A create form's state: a request under way, the last refusal, the list to reload after it.
#[derive(Clone, Copy)]
pub struct CreateForm {
    pub saving: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    reload: Callback<()>,
}

impl CreateForm {
    pub fn new(reload: Callback<()>) -> CreateForm {
        CreateForm {
            saving: RwSignal::new(false),
            error: RwSignal::new(None),
            reload,
        }
    }

    /// Sends the request `request` makes of what the form gives, once it checks (`checked`:
    /// the form's value or its refusal); once stored, empties the fields `clear` and reloads
    /// the list; a refusal shows as "Couldn't create the queue: why".
    pub fn send<V, T, Fut>(
        self,
        checked: Result<V, String>,
        request: impl FnOnce(V) -> Fut,
        clear: Vec<RwSignal<String>>,
    ) where
        T: 'static,
        Fut: Future<Output = Result<T, ApiError>> + 'static,
    {
        let value = match checked {
            Ok(value) => value,
            Err(message) => {
                self.error.set(Some(message));
                return;
            }
        };
        self.error.set(None);
        self.saving.set(true);
        let sent = request(value);
        spawn_local(async move {
            let result = sent.await;
            self.saving.try_set(false);
            match result {
                Ok(_) => clear.iter().for_each(|field| {
                    field.try_set(String::new());
                }),
                Err(e) => {
                    self.error
                        .try_set(Some(format!("Couldn't create the queue: {}", e.detail())));
                }
            }
            self.reload.run(());
        });
    }

    /// The last refusal, under the form (`testid` names it for tests).
    pub fn error_note(self, testid: &'static str) -> impl IntoView {
        move || {
            self.error.get().map(|message| {
                view! {
                    <div class="fb-error" role="alert" data-testid=testid><span>{message}</span></div>
                }
            })
        }
    }
}

/// What a field takes: text, or a whole number from `min` (to `max`).
#[derive(Clone, Copy)]
pub enum Kind {
    Text,
    Number {
        min: &'static str,
        max: Option<&'static str>,
    },
}

/// A labelled input bound to `value`.
pub fn field(
    label: &'static str,
    name: &'static str,
    placeholder: impl Into<Signal<String>>,
    kind: Kind,
    value: RwSignal<String>,
) -> impl IntoView {
    let placeholder = placeholder.into();
    let (kind, min, max) = match kind {
        Kind::Text => ("text", None, None),
        Kind::Number { min, max } => ("number", Some(min), max),
    };
    view! {
        <label class="fb-field">
            <span class="fb-label">{label}</span>
            <input class="input" name=name type=kind min=min max=max placeholder=move || placeholder.get()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))/>
        </label>
    }
}
