//! What the two create forms of `/queues` (annotation and pairwise queues) share: fields bound
//! to signals, the request sent once the form checks, its refusal shown, the list reloaded.

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::ApiError;

/// A create form's state: a request under way, the last refusal.
#[derive(Clone, Copy)]
pub struct CreateForm {
    pub saving: RwSignal<bool>,
    error: RwSignal<Option<String>>,
}

impl CreateForm {
    pub fn new() -> CreateForm {
        CreateForm {
            saving: RwSignal::new(false),
            error: RwSignal::new(None),
        }
    }

    /// Sends the request `request` makes of what the form gives, once it checks (`checked`:
    /// the form's value or its refusal); then `done` with whether it was stored (a list to
    /// reload, fields to clear), a refusal shown as "Couldn't create the queue: why".
    pub fn send<V, T, Fut>(
        self,
        checked: Result<V, String>,
        request: impl FnOnce(V) -> Fut,
        done: impl FnOnce(bool) + 'static,
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
            if let Err(e) = &result {
                self.error
                    .try_set(Some(format!("Couldn't create the queue: {}", e.detail())));
            }
            done(result.is_ok());
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
