//! One trace's feedback, shared by the rating widget and the badges: loaded once, changed
//! optimistically (shown at once, rolled back with an error if the collector refuses). The
//! load's code (the request and the records' decoding) is a chunk of its own
//! (`trace_feedback`): the trace page shows its rows first, the badges when the records come.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{self as split, wasm_split, SplitLoaderError};
use skein_model::sort;
use skein_model::{Feedback, FeedbackUpdate, NewFeedback, ScoreConfig, ScoreConfigList};

use super::configs;
use crate::api::{self, ApiError};
use crate::components::remote::Latest;
use crate::time::now_ms;

/// A record as the page holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub record: Feedback,
    /// Sent, not yet confirmed by the collector.
    pub pending: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    Loading,
    Ready,
    Failed(ApiError),
}

/// The feedback of one trace, shared by the widget and the badges.
#[derive(Clone, Copy)]
pub struct TraceFeedback {
    project: StoredValue<String>,
    pub trace_id: StoredValue<String>,
    pub items: RwSignal<Vec<Item>>,
    pub loaded: RwSignal<Loaded>,
    next_temp: StoredValue<u64>,
    latest: Latest,
    /// The project's score configs (empty until loaded, or if they cannot be: the widget then
    /// rates freely and the collector still checks).
    configs: RwSignal<ScoreConfigList>,
    /// The configs were asked for (by the first widget shown).
    configs_asked: StoredValue<bool>,
}

/// The load's code: a trace's feedback records.
type LoadCode =
    fn(String, String) -> Pin<Box<dyn Future<Output = Result<Vec<Feedback>, ApiError>>>>;

#[wasm_split(trace_feedback, wasm_split_path = split, fallible)]
fn load_code() -> Result<LoadCode, SplitLoaderError> {
    Ok(|project, trace_id| Box::pin(async move { api::trace_feedback(&project, &trace_id).await }))
}

/// A trace's feedback records, its code loaded first (once a visit: the loader keeps it).
async fn load_feedback(project: String, trace_id: String) -> Result<Vec<Feedback>, ApiError> {
    let code = load_code()
        .await
        .map_err(|_| api::unreachable("the feedback's code did not load"))?;
    code(project, trace_id).await
}

impl TraceFeedback {
    /// Creates the store for a trace and loads it (`provide` it where it is shared).
    pub fn new(project: String, trace_id: String) -> TraceFeedback {
        let store = TraceFeedback {
            project: StoredValue::new(project),
            trace_id: StoredValue::new(trace_id),
            items: RwSignal::new(Vec::new()),
            loaded: RwSignal::new(Loaded::Loading),
            next_temp: StoredValue::new(0),
            latest: Latest::new(),
            configs: RwSignal::new(ScoreConfigList::default()),
            configs_asked: StoredValue::new(false),
        };
        store.reload();
        store
    }

    /// Shares the store with the widget and the badges below.
    pub fn provide(self) {
        provide_context(self);
    }

    /// Whether this is the store of that trace.
    pub fn is_of(self, project: &str, trace_id: &str) -> bool {
        self.project.with_value(|p| p == project) && self.trace_id.with_value(|t| t == trace_id)
    }

    pub fn from_context() -> Option<TraceFeedback> {
        use_context::<TraceFeedback>()
    }

    /// (Re)loads the trace's feedback; records still being saved are kept.
    pub fn reload(self) {
        let (project, trace_id) = (self.project.get_value(), self.trace_id.get_value());
        let fetch = move || load_feedback(project.clone(), trace_id.clone());
        self.latest
            .fetch(self.latest.next(), fetch, move |result| match result {
                Ok(list) => {
                    self.items.try_update(|items| {
                        let pending: Vec<Item> = items.drain(..).filter(|i| i.pending).collect();
                        items.extend(list.into_iter().map(|record| Item {
                            record,
                            pending: false,
                        }));
                        items.extend(pending);
                    });
                    self.loaded.try_set(Loaded::Ready);
                }
                Err(e) => {
                    self.loaded.try_set(Loaded::Failed(e));
                }
            });
    }

    /// Loads the project's score configs, once: the rating widget needs them, the badges do
    /// not.
    pub fn want_configs(self) {
        if !self.configs_asked.get_value() {
            self.configs_asked.set_value(true);
            self.reload_configs();
        }
    }

    /// (Re)loads the project's score configs.
    pub fn reload_configs(self) {
        let project = self.project.get_value();
        spawn_local(async move {
            if let Ok(list) = configs::score_configs(project).await {
                self.configs.try_set(list);
            }
        });
    }

    /// The config of `key`, if the project has one (reactive).
    pub fn config(&self, key: &str) -> Option<ScoreConfig> {
        self.configs.with(|list| list.get(key).cloned())
    }

    /// The project's configured keys, in key order (reactive).
    pub fn configured_keys(&self) -> Vec<String> {
        self.configs
            .with(|list| list.configs.iter().map(|c| c.key.clone()).collect())
    }

    /// The records on one span, oldest first (reactive).
    pub fn for_span(&self, span_id: &str) -> Vec<Item> {
        self.items.with(|items| {
            items
                .iter()
                .filter(|i| i.record.run_id.eq_ignore_ascii_case(span_id))
                .cloned()
                .collect()
        })
    }

    /// The keys used in this trace (reactive).
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .items
            .with(|items| items.iter().map(|i| i.record.key.clone()).collect());
        sort::sort(&mut keys);
        keys.dedup();
        keys
    }

    /// Saves a new record: shown at once, replaced by the stored one, or removed again with
    /// `on_error` told why.
    pub fn create(self, new: NewFeedback, on_error: impl Fn(String) + 'static) {
        let n = self.next_temp.get_value() + 1;
        self.next_temp.set_value(n);
        let temp_id = format!("pending-{n}");
        let now = now_ms();
        let optimistic = Feedback {
            id: temp_id.clone(),
            project: self.project.get_value(),
            run_id: new.run_id.clone(),
            trace_id: new.trace_id.clone(),
            key: new.key.clone(),
            score: new.score,
            value: new.value.clone(),
            comment: new.comment.clone(),
            correction: None,
            source: new.source.clone().unwrap_or_else(|| "app".into()),
            queue_id: None,
            reviewer: None,
            created_ms: now,
            modified_ms: now,
        };
        self.items.update(|items| {
            items.push(Item {
                record: optimistic,
                pending: true,
            })
        });
        let project = self.project.get_value();
        spawn_local(async move {
            let result = api::create_feedback(&project, &new).await;
            self.items.try_update(|items| {
                let at = items.iter().position(|i| i.record.id == temp_id);
                match (&result, at) {
                    (Ok(saved), Some(at)) => {
                        items[at] = Item {
                            record: saved.clone(),
                            pending: false,
                        }
                    }
                    (Err(_), Some(at)) => {
                        items.remove(at);
                    }
                    _ => {}
                }
            });
            if let Err(e) = result {
                // Refused: perhaps by a config changed since the page loaded.
                if matches!(e, ApiError::Status { status: 400, .. }) {
                    self.reload_configs();
                }
                on_error(describe("Couldn't save the feedback", &e));
            }
        });
    }

    /// Changes a record: shown at once, rolled back on failure.
    pub fn update(self, id: String, update: FeedbackUpdate, on_error: impl Fn(String) + 'static) {
        let Some(before) = self
            .items
            .with_untracked(|items| items.iter().find(|i| i.record.id == id).cloned())
        else {
            return;
        };
        let mut changed = before.record.clone();
        if let Some(key) = &update.key {
            changed.key = key.clone();
        }
        if update.score.is_some() {
            changed.score = update.score;
        }
        if let Some(comment) = &update.comment {
            changed.comment = (!comment.is_empty()).then(|| comment.clone());
        }
        self.replace(&id, changed, true);
        let project = self.project.get_value();
        spawn_local(async move {
            match api::update_feedback(&project, &id, &update).await {
                Ok(saved) => self.replace(&id, saved, false),
                Err(e) => {
                    self.replace(&id, before.record, false);
                    on_error(describe("Couldn't change the feedback", &e));
                }
            }
        });
    }

    /// Deletes a record: gone at once, back on failure.
    pub fn delete(self, id: String, on_error: impl Fn(String) + 'static) {
        let Some((at, before)) = self.items.with_untracked(|items| {
            items
                .iter()
                .position(|i| i.record.id == id)
                .map(|at| (at, items[at].clone()))
        }) else {
            return;
        };
        self.items.update(|items| {
            items.remove(at);
        });
        let project = self.project.get_value();
        spawn_local(async move {
            // A record that is already gone is what we wanted.
            match api::delete_feedback(&project, &id).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    self.items.try_update(|items| {
                        let at = at.min(items.len());
                        items.insert(at, before);
                    });
                    on_error(describe("Couldn't delete the feedback", &e));
                }
            }
        });
    }

    fn replace(&self, id: &str, record: Feedback, pending: bool) {
        self.items.try_update(|items| {
            if let Some(item) = items.iter_mut().find(|i| i.record.id == id) {
                *item = Item { record, pending };
            }
        });
    }
}

pub fn describe(what: &str, e: &ApiError) -> String {
    format!("{what}: {} — {}", e.title(), e.detail())
}
