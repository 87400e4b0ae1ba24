//! API keys in the browser: the prompt shown when the collector answers 401, the top bar's
//! "Forget key", and the notice for a project the key can't see (403). The key itself lives
//! in sessionStorage (see `api`): a reload keeps it, a new browser session asks again.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use skein_model::query::{encode_pairs, parse_query_string};
use skein_model::{ProjectInfo, TraceQuery};

use crate::api::{self, ApiError, KeyNeeded, KeySignals};
use crate::{links, text};

/// What the shell knows about the session's key, shared through context.
#[derive(Clone, Copy)]
pub struct KeyState {
    pub signals: KeySignals,
    /// A key is kept for this session (the top bar offers to forget it).
    pub has_key: RwSignal<bool>,
}

impl KeyState {
    pub fn init() -> KeyState {
        let state = KeyState {
            signals: KeySignals {
                needed: RwSignal::new(None),
                forbidden: RwSignal::new(None),
            },
            has_key: RwSignal::new(api::stored_key().is_some()),
        };
        api::set_key_signals(state.signals);
        state
    }
}

/// The project the page URL names explicitly, if any (none means "the default", which a key
/// for another project reads as "mine").
fn named_project(search: &str) -> Option<String> {
    parse_query_string(search)
        .into_iter()
        .find(|(k, v)| k == "project" && !v.trim().is_empty())
        .map(|(_, v)| v)
}

/// The same page in another project.
fn with_project(path: &str, search: &str, project: &str) -> String {
    let mut pairs: Vec<(String, String)> = parse_query_string(search)
        .into_iter()
        .filter(|(k, _)| k != "project")
        .collect();
    pairs.insert(0, ("project".to_string(), project.to_string()));
    format!(
        "{path}?{}",
        encode_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    )
}

/// Where a page opened without naming a project goes when the key can't see the default
/// one: the same page in the key's first project.
fn keys_project_href(path: &str, search: &str, projects: &[ProjectInfo]) -> Option<String> {
    if named_project(search).is_some() {
        return None;
    }
    let current = links::project_of(search);
    if projects.iter().any(|p| p.name == current) {
        return None;
    }
    projects
        .first()
        .map(|first| with_project(path, search, &first.name))
}

fn replace() -> NavigateOptions {
    NavigateOptions {
        replace: true,
        ..Default::default()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Check {
    Idle,
    Checking,
    Refused(String),
    Failed(ApiError),
}

/// The key prompt: a centred card over the page while a request waits for a key.
#[component]
pub fn KeyPrompt() -> impl IntoView {
    let state = expect_context::<KeyState>();
    let needed = state.signals.needed;
    let check = RwSignal::new(Check::Idle);
    let input = NodeRef::<leptos::html::Input>::new();
    // Capture the router's hooks here: the submit handler runs outside the component.
    let location = use_location();
    let navigate = use_navigate();

    Effect::new(move |_| {
        if needed.get().is_some() {
            if let Some(el) = input.get() {
                let _ = el.focus();
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(key) = input
            .get_untracked()
            .map(|el| el.value().trim().to_string())
        else {
            return;
        };
        if key.is_empty() {
            check.set(Check::Refused("Paste a key first.".to_string()));
            return;
        }
        check.set(Check::Checking);
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::check_key(&key).await {
                Ok(projects) => {
                    if let Some(href) = keys_project_href(
                        &location.pathname.get_untracked(),
                        &location.search.get_untracked(),
                        &projects,
                    ) {
                        navigate(&href, replace());
                    }
                    if let Some(el) = input.get_untracked() {
                        el.set_value("");
                    }
                    check.set(Check::Idle);
                    state.has_key.set(true);
                    api::accept_key(&key);
                }
                Err(ApiError::Status { status: 401, .. }) => check.set(Check::Refused(
                    "The collector doesn't know this key, or it was revoked. Check that it was copied whole."
                        .to_string(),
                )),
                Err(error) => check.set(Check::Failed(error)),
            }
        });
    };

    let message = move || {
        let (title, detail) = match check.get() {
            Check::Idle | Check::Checking => return None,
            Check::Refused(why) => ("Key refused.".to_string(), why),
            Check::Failed(error) => (format!("{}.", error.title()), error.detail()),
        };
        Some(view! {
            <p class="key-error" role="alert"><strong>{title}</strong>" "{detail}</p>
        })
    };
    let lead = move || {
        match needed.get() {
        Some(KeyNeeded::Refused) => {
            "The key this browser session was using is no longer accepted (it may have been revoked). Enter another one."
        }
        _ => "This Skein keeps its traces behind API keys. Enter a key to see the projects it gives access to.",
    }
    };

    move || {
        needed.get()?;
        let submit = submit.clone();
        Some(view! {
            <div class="key-backdrop">
                <form class="key-card" on:submit=submit role="dialog" aria-modal="true"
                    aria-labelledby="key-title">
                    <h1 id="key-title">"API key needed"</h1>
                    <p>{lead}</p>
                    <p class="muted">
                        "Whoever runs the collector creates one with "
                        <code>"skein key create --project NAME"</code>
                        ". It is kept for this browser session only: a new session asks again."
                    </p>
                    <label class="key-field">
                        <span>"API key"</span>
                        <input node_ref=input class="input" type="password" name="api-key" autocomplete="off"
                            spellcheck="false" placeholder="skein_…" aria-label="API key"
                            class:invalid=move || matches!(check.get(), Check::Refused(_))
                            on:input=move |_| {
                                if !matches!(check.get_untracked(), Check::Checking) {
                                    check.set(Check::Idle);
                                }
                            }/>
                    </label>
                    {message}
                    <div class="key-actions">
                        <button type="submit" class="button primary"
                            disabled=move || matches!(check.get(), Check::Checking)>
                            {move || if matches!(check.get(), Check::Checking) { "Checking…" } else { "Open Skein" }}
                        </button>
                    </div>
                </form>
            </div>
        })
    }
}

/// "Forget key" in the top bar: drops the session's key and starts over, so the next page
/// asks for one (to switch keys, or leave a shared screen).
#[component]
pub fn ForgetKeyButton() -> impl IntoView {
    let state = expect_context::<KeyState>();
    let forget = move |_| {
        api::forget_key();
        state.has_key.set(false);
        let _ = window().location().reload();
    };
    view! {
        <Show when=move || state.has_key.get()>
            <button type="button" class="button key-forget" on:click=forget
                title="Forget this browser session's API key and enter another">
                "Forget key"
            </button>
        </Show>
    }
}

/// Shown instead of the page when the key can't see the page's project (403): the projects it
/// can see, and a way to use another key.
#[component]
pub fn ForbiddenNotice() -> impl IntoView {
    let state = expect_context::<KeyState>();
    let location = use_location();
    let current = Memo::new(move |_| links::project_of(&location.search.get()));
    let forbidden = Memo::new(move |_| {
        state
            .signals
            .forbidden
            .get()
            .is_some_and(|p| p == current.get())
    });
    let navigate = use_navigate();
    let projects = RwSignal::new(None::<Vec<ProjectInfo>>);
    Effect::new(move |_| {
        if forbidden.get() {
            let navigate = navigate.clone();
            spawn_local(async move {
                if let Ok(list) = api::projects().await {
                    if let Some(href) = keys_project_href(
                        &location.pathname.get_untracked(),
                        &location.search.get_untracked(),
                        &list,
                    ) {
                        navigate(&href, replace());
                    }
                    projects.try_set(Some(list));
                }
            });
        }
    });
    let forget = move |_| {
        api::forget_key();
        let _ = window().location().reload();
    };
    let choices = move || {
        let list = projects.get()?;
        Some(if list.is_empty() {
            view! { <p class="muted">"This key can't see any project yet."</p> }.into_any()
        } else {
            view! {
                <p>"Projects this key can see:"</p>
                <ul class="forbidden-projects">
                    {list
                        .into_iter()
                        .map(|p| {
                            let href = links::list_href(&p.name, &TraceQuery::default());
                            let count = text::plural(p.trace_count, "trace", "traces");
                            view! {
                                <li><a href=href>{p.name}</a>" "<span class="muted">{count}</span></li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any()
        })
    };
    view! {
        <Show when=move || forbidden.get()>
            <section class="forbidden-card" role="alert">
                <h1>"This key can't see project " <code>{move || current.get()}</code></h1>
                <p class="muted">
                    "An API key reads one project. Pick one of its projects here or in the Project menu above, or use another key."
                </p>
                {choices}
                <button type="button" class="button" on:click=forget>"Use another key"</button>
            </section>
        </Show>
    }
}
