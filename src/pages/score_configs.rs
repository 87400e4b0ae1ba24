//! `/settings/scores`: the project's score configs (what each feedback key means: a number in
//! a range, named categories, or thumbs), created, edited and deleted here, and whether the
//! project accepts feedback under configured keys only. The rating widget and the metrics page
//! read the same configs; the collector checks every feedback record against them.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_location;
use skein_model::format::plain;
use skein_model::score_config::check_config;
use skein_model::{
    Category, NewScoreConfig, ScoreConfig, ScoreConfigList, ScoreKind, ScoreSettings,
};

use crate::api::{self, ApiError};
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::components::feedback::score::parse_score;
use crate::links;

/// The form's fields, as typed.
#[derive(Clone, Copy)]
struct Form {
    /// The config being edited (its id), or none for a new one.
    editing: RwSignal<Option<String>>,
    key: RwSignal<String>,
    /// `numeric`, `categorical` or `boolean`.
    kind: RwSignal<String>,
    min: RwSignal<String>,
    max: RwSignal<String>,
    step: RwSignal<String>,
    /// One category a line: `label = score`.
    categories: RwSignal<String>,
    description: RwSignal<String>,
    comment_asked: RwSignal<bool>,
}

impl Form {
    fn new() -> Form {
        let form = Form {
            editing: RwSignal::new(None),
            key: RwSignal::new(String::new()),
            kind: RwSignal::new(String::new()),
            min: RwSignal::new(String::new()),
            max: RwSignal::new(String::new()),
            step: RwSignal::new(String::new()),
            categories: RwSignal::new(String::new()),
            description: RwSignal::new(String::new()),
            comment_asked: RwSignal::new(false),
        };
        form.clear();
        form
    }

    fn clear(&self) {
        self.editing.set(None);
        self.key.set(String::new());
        self.kind.set("numeric".into());
        self.min.set("1".into());
        self.max.set("5".into());
        self.step.set("1".into());
        self.categories.set(String::new());
        self.description.set(String::new());
        self.comment_asked.set(false);
    }

    /// Fills the form with a stored config, to edit it.
    fn load(&self, c: &ScoreConfig) {
        self.clear();
        self.editing.set(Some(c.id.clone()));
        self.key.set(c.key.clone());
        self.description.set(c.description.clone());
        self.comment_asked.set(c.comment_asked);
        match &c.kind {
            ScoreKind::Numeric { min, max, step } => {
                self.kind.set("numeric".into());
                self.min.set(plain(*min));
                self.max.set(plain(*max));
                self.step.set(step.map(plain).unwrap_or_default());
            }
            ScoreKind::Categorical { categories } => {
                self.kind.set("categorical".into());
                let lines: Vec<String> = categories
                    .iter()
                    .map(|c| format!("{} = {}", c.label, plain(c.score)))
                    .collect();
                self.categories.set(lines.join("\n"));
            }
            ScoreKind::Boolean => self.kind.set("boolean".into()),
        }
    }

    /// The config the form describes, or what is wrong with it.
    fn read(&self) -> Result<NewScoreConfig, String> {
        let number = |what: &str, text: String| {
            parse_score(text.trim()).ok_or_else(|| format!("{what} must be a number"))
        };
        let kind = match self.kind.get_untracked().as_str() {
            "numeric" => ScoreKind::Numeric {
                min: number("Min", self.min.get_untracked())?,
                max: number("Max", self.max.get_untracked())?,
                step: match self.step.get_untracked().trim() {
                    "" => None,
                    s => Some(number("Step", s.to_string())?),
                },
            },
            "categorical" => {
                let mut categories = Vec::new();
                for line in self.categories.get_untracked().lines() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let (label, score) = line.rsplit_once('=').ok_or_else(|| {
                        format!(
                            "write each category as label = score, not {:?}",
                            line.trim()
                        )
                    })?;
                    categories.push(Category {
                        label: label.trim().to_string(),
                        score: number(&format!("The score of {}", label.trim()), score.into())?,
                    });
                }
                ScoreKind::Categorical { categories }
            }
            _ => ScoreKind::Boolean,
        };
        let config = NewScoreConfig {
            key: self.key.get_untracked().trim().to_string(),
            kind,
            description: self.description.get_untracked().trim().to_string(),
            comment_asked: self.comment_asked.get_untracked(),
        };
        check_config(&config)?;
        Ok(config)
    }
}

fn kind_name(kind: &ScoreKind) -> &'static str {
    match kind {
        ScoreKind::Numeric { .. } => "Numeric",
        ScoreKind::Categorical { .. } => "Categorical",
        ScoreKind::Boolean => "Thumbs",
    }
}

fn describe(what: &str, e: &ApiError) -> String {
    format!("{what}: {}", e.detail())
}

#[component]
pub fn ScoreConfigsPage() -> impl IntoView {
    let location = use_location();
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let list = RwSignal::new(None::<Result<ScoreConfigList, ApiError>>);
    let reload = move || {
        let project = project.get_untracked();
        spawn_local(async move {
            let result = api::score_configs(&project).await;
            list.try_set(Some(result));
        });
    };
    Effect::new(move |_| {
        project.track();
        reload();
    });
    let form = Form::new();
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let confirming = RwSignal::new(None::<String>);

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let config = match form.read() {
            Ok(c) => c,
            Err(message) => {
                error.set(Some(message));
                return;
            }
        };
        error.set(None);
        saving.set(true);
        let (project, editing) = (project.get_untracked(), form.editing.get_untracked());
        spawn_local(async move {
            let result = match &editing {
                Some(id) => api::update_score_config(&project, id, &config).await,
                None => api::create_score_config(&project, &config).await,
            };
            saving.try_set(false);
            match result {
                Ok(_) => {
                    form.clear();
                    reload();
                }
                Err(e) => {
                    error.try_set(Some(describe("Couldn't save the score config", &e)));
                }
            }
        });
    };
    let delete = move |id: String| {
        confirming.set(None);
        let project = project.get_untracked();
        spawn_local(async move {
            match api::delete_score_config(&project, &id).await {
                Ok(()) => reload(),
                Err(e) => {
                    error.try_set(Some(describe("Couldn't delete the score config", &e)));
                }
            }
        });
    };
    let only = move || list.with(|l| matches!(l, Some(Ok(l)) if l.settings.configured_keys_only));
    let toggle_only = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        let project = project.get_untracked();
        spawn_local(async move {
            let settings = ScoreSettings {
                configured_keys_only: on,
            };
            match api::set_score_settings(&project, &settings).await {
                Ok(saved) => {
                    list.try_update(|l| {
                        if let Some(Ok(l)) = l {
                            l.settings = saved;
                        }
                    });
                }
                Err(e) => {
                    error.try_set(Some(describe("Couldn't change the setting", &e)));
                    reload();
                }
            }
        });
    };

    let table = move || {
        match list.get() {
        None => view! { <p class="muted">"Loading score configs…"</p> }.into_any(),
        Some(Err(e)) => view! { <ErrorBanner title=e.title() detail=e.detail()/> }.into_any(),
        Some(Ok(l)) if l.configs.is_empty() => view! {
            <EmptyState title="No score configs yet">
                <p>"Feedback keys mean whatever each rater thinks. Configure a key below: a number in a range, named categories, or thumbs up and down."</p>
            </EmptyState>
        }
        .into_any(),
        Some(Ok(l)) => {
            let rows = l
                .configs
                .into_iter()
                .map(|c| config_row(c, form, confirming, delete))
                .collect_view();
            view! {
                <div class="table-wrap">
                    <table class="data-table sc-table" data-testid="score-configs">
                        <thead><tr>
                            <th>"Key"</th><th>"Type"</th><th>"Allowed"</th>
                            <th>"Comment"</th><th>"Description"</th><th></th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }
            .into_any()
        }
    }
    };

    view! {
        <div class="page settings-page">
            <div class="page-head">
                <h1>"Score configs"</h1>
                <span class="result-count">{move || format!("project {}", project.get())}</span>
            </div>
            <label class="sc-only">
                <input type="checkbox" name="configured-keys-only" prop:checked=only
                    on:change=toggle_only/>
                <span>"Accept feedback under configured keys only"</span>
                <span class="muted">" (otherwise any key is accepted, and configured keys are checked)"</span>
            </label>
            {table}
            {move || error.get().map(|message| view! {
                <div class="fb-error" role="alert" data-testid="settings-error">
                    <span>{message}</span>
                    <button type="button" class="link-button" on:click=move |_| error.set(None)>"Dismiss"</button>
                </div>
            })}
            {config_form(form, saving, save, error)}
        </div>
    }
}

fn config_row(
    c: ScoreConfig,
    form: Form,
    confirming: RwSignal<Option<String>>,
    delete: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = StoredValue::new(c.id.clone());
    let stored = StoredValue::new(c.clone());
    let actions = move || {
        if confirming.get().as_deref() == Some(id.get_value().as_str()) {
            view! {
                <span class="fb-confirm">"Delete?"</span>
                <button type="button" class="link-button danger" name="confirm-delete"
                    on:click=move |_| delete(id.get_value())>"Yes"</button>
                <button type="button" class="link-button"
                    on:click=move |_| confirming.set(None)>"No"</button>
            }
            .into_any()
        } else {
            view! {
                <button type="button" class="link-button" name="edit-config"
                    on:click=move |_| form.load(&stored.get_value())>"Edit"</button>
                <button type="button" class="link-button danger" name="delete-config"
                    on:click=move |_| confirming.set(Some(id.get_value()))>"Delete"</button>
            }
            .into_any()
        }
    };
    view! {
        <tr data-key=c.key.clone()>
            <td class="sc-key">{c.key.clone()}</td>
            <td>{kind_name(&c.kind)}</td>
            <td class="sc-allowed">{c.kind.allowed()}</td>
            <td>{if c.comment_asked { "asked" } else { "optional" }}</td>
            <td class="sc-description">{c.description.clone()}</td>
            <td class="sc-actions">{actions}</td>
        </tr>
    }
}

fn config_form(
    form: Form,
    saving: RwSignal<bool>,
    save: impl Fn(leptos::ev::SubmitEvent) + 'static,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let text = |signal: RwSignal<String>, name: &'static str, label: &'static str| {
        view! {
            <label class="sc-field">
                <span class="fb-label">{label}</span>
                <input class="input" name=name prop:value=move || signal.get()
                    on:input=move |ev| signal.set(event_target_value(&ev))/>
            </label>
        }
    };
    let fields = move || match form.kind.get().as_str() {
        "numeric" => view! {
            <div class="sc-row">
                {text(form.min, "config-min", "Min")}
                {text(form.max, "config-max", "Max")}
                {text(form.step, "config-step", "Step (empty: any)")}
            </div>
        }
        .into_any(),
        "categorical" => view! {
            <label class="sc-field sc-wide">
                <span class="fb-label">"Categories, one a line: label = score"</span>
                <textarea class="input sc-categories" name="config-categories" rows="4"
                    placeholder="correct = 1\npartly = 0.5\nwrong = 0"
                    prop:value=move || form.categories.get()
                    on:input=move |ev| form.categories.set(event_target_value(&ev))></textarea>
            </label>
        }
        .into_any(),
        _ => view! { <p class="muted">"Thumbs up is stored as score 1, thumbs down as 0."</p> }
            .into_any(),
    };
    let heading = move || match form.editing.get() {
        Some(_) => format!("Edit {}", form.key.get()),
        None => "New score config".to_string(),
    };
    view! {
        <form class="sc-form" data-testid="score-config-form" on:submit=save>
            <h2>{heading}</h2>
            <div class="sc-row">
                <label class="sc-field">
                    <span class="fb-label">"Feedback key"</span>
                    <input class="input" name="config-key" placeholder="user_satisfaction"
                        prop:value=move || form.key.get() prop:readOnly=move || form.editing.get().is_some()
                        on:input=move |ev| form.key.set(event_target_value(&ev))/>
                </label>
                <label class="sc-field">
                    <span class="fb-label">"Type"</span>
                    <select class="select" name="config-type" prop:value=move || form.kind.get()
                        on:change=move |ev| form.kind.set(event_target_value(&ev))>
                        <option value="numeric">"Numeric"</option>
                        <option value="categorical">"Categorical"</option>
                        <option value="boolean">"Thumbs (boolean)"</option>
                    </select>
                </label>
            </div>
            {fields}
            <label class="sc-field sc-wide">
                <span class="fb-label">"Description (shown to raters)"</span>
                <input class="input" name="config-description" prop:value=move || form.description.get()
                    on:input=move |ev| form.description.set(event_target_value(&ev))/>
            </label>
            <label class="sc-check">
                <input type="checkbox" name="config-comment-asked" prop:checked=move || form.comment_asked.get()
                    on:change=move |ev| form.comment_asked.set(event_target_checked(&ev))/>
                <span>"Ask raters for a comment"</span>
            </label>
            <div class="sc-row">
                <button type="submit" class="button primary" name="save-config"
                    disabled=move || saving.get()>
                    {move || if form.editing.get().is_some() { "Save changes" } else { "Create" }}
                </button>
                {move || form.editing.get().map(|_| view! {
                    <button type="button" class="button" on:click=move |_| {
                        form.clear();
                        error.set(None);
                    }>"Cancel"</button>
                })}
            </div>
        </form>
    }
}
