//! What the filter box suggests: functions and fields of the language (`filter::FIELDS`), the
//! project's tag keys (as `tag.<key>`), and stored values (tag values, services, models, span
//! names; span types), fetched from the catalog API once per project and key (or field) while
//! the box is in use.

use leptos::prelude::*;
use skein_model::filter::complete::{self, Completion, Slot, ValueSource, FUNCTIONS};
use skein_model::filter::FIELDS;
use skein_model::{FieldValueInfo, ServiceInfo, TagKeyInfo, TagValueInfo, ValueField};

use super::remote::Latest;
use crate::{api, text};

/// The most suggestions listed at once.
const MAX_SHOWN: usize = 8;

/// One line of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// What is inserted (a value unquoted: `accept` quotes it unless `bare`).
    pub text: String,
    pub detail: String,
    pub bare: bool,
}

/// Stored names and values of a project, fetched as the box needs them.
#[derive(Clone, Copy)]
pub struct Catalog {
    project: Memo<String>,
    tag_keys: RwSignal<Option<Vec<TagKeyInfo>>>,
    services: RwSignal<Option<Vec<ServiceInfo>>>,
    /// Values of the keys asked for so far (a few keys: a list, not a map).
    tag_values: RwSignal<Vec<(String, Vec<TagValueInfo>)>>,
    /// Values of the span fields asked for so far (`model`, `name`).
    field_values: RwSignal<Vec<(ValueField, Vec<FieldValueInfo>)>>,
    /// The project the lists above belong to.
    loaded_for: StoredValue<Option<String>>,
    latest: Latest,
}

impl Catalog {
    pub fn new(project: Memo<String>) -> Catalog {
        Catalog {
            project,
            tag_keys: RwSignal::new(None),
            services: RwSignal::new(None),
            tag_values: RwSignal::new(Vec::new()),
            field_values: RwSignal::new(Vec::new()),
            loaded_for: StoredValue::new(None),
            latest: Latest::new(),
        }
    }

    /// Fetches the keys and services of the current project, unless already there.
    pub fn load(self) {
        let project = self.project.get_untracked();
        if self.loaded_for.get_value().as_deref() == Some(project.as_str()) {
            return;
        }
        self.loaded_for.set_value(Some(project.clone()));
        self.tag_keys.set(None);
        self.services.set(None);
        self.tag_values.set(Vec::new());
        self.field_values.set(Vec::new());
        let ticket = self.latest.next();
        let keys_project = project.clone();
        self.latest.fetch(
            ticket,
            move || {
                let project = keys_project.clone();
                async move { api::tags(&project).await }
            },
            move |result| {
                self.tag_keys.try_set(Some(result.unwrap_or_default()));
            },
        );
        self.latest.fetch(
            ticket,
            move || {
                let project = project.clone();
                async move { api::services(&project).await }
            },
            move |result| {
                self.services.try_set(Some(result.unwrap_or_default()));
            },
        );
    }

    /// Fetches what suggestions at `at` need that is not there yet (a tag key's or a span
    /// field's values).
    pub fn prefetch(self, at: &Completion) {
        if let Slot::Value { field, .. } = &at.slot {
            match complete::value_source(field) {
                ValueSource::TagValues(key) => self.want_values(&key),
                ValueSource::SpanValues(field) => self.want_field_values(field),
                _ => {}
            }
        }
    }

    /// Fetches a span field's values once.
    fn want_field_values(self, field: ValueField) {
        if self
            .field_values
            .with_untracked(|all| all.iter().any(|(f, _)| *f == field))
        {
            return;
        }
        // Marked as asked at once, so that a keystroke does not ask again meanwhile.
        self.field_values
            .update(|all| all.push((field, Vec::new())));
        let project = self.project.get_untracked();
        self.latest.fetch(
            self.latest.current(),
            move || {
                let project = project.clone();
                async move { api::field_values(&project, field).await }
            },
            move |result| {
                let values = result.unwrap_or_default();
                self.field_values.try_update(|all| {
                    if let Some(entry) = all.iter_mut().find(|(f, _)| *f == field) {
                        entry.1 = values;
                    }
                });
            },
        );
    }

    /// Fetches a tag key's values once.
    fn want_values(self, key: &str) {
        if self
            .tag_values
            .with_untracked(|all| all.iter().any(|(k, _)| k == key))
        {
            return;
        }
        // Marked as asked at once, so that a keystroke does not ask again meanwhile.
        self.tag_values
            .update(|all| all.push((key.to_string(), Vec::new())));
        let project = self.project.get_untracked();
        let key = key.to_string();
        let request_key = key.clone();
        self.latest.fetch(
            self.latest.current(),
            move || {
                let (project, key) = (project.clone(), request_key.clone());
                async move { api::tag_values(&project, &key).await }
            },
            move |result| {
                let values = result.unwrap_or_default();
                self.tag_values.try_update(|all| {
                    if let Some(entry) = all.iter_mut().find(|(k, _)| *k == key) {
                        entry.1 = values;
                    }
                });
            },
        );
    }

    /// The suggestions for a place in the text (tracks the lists it reads).
    pub fn suggest(self, at: &Completion) -> Vec<Suggestion> {
        let prefix = at.prefix.as_str();
        match &at.slot {
            Slot::Function => complete::rank(prefix, FUNCTIONS, |f| f.0, MAX_SHOWN)
                .into_iter()
                .map(|(name, about)| plain(name, about))
                .collect(),
            Slot::Field => {
                let mut all: Vec<Suggestion> =
                    FIELDS.iter().map(|f| plain(f.name, f.about)).collect();
                self.tag_keys.with(|keys| {
                    all.extend(keys.iter().flatten().map(|k| Suggestion {
                        text: format!("tag.{}", k.key),
                        detail: format!("tag · {}", text::plural(k.trace_count, "trace", "traces")),
                        bare: false,
                    }))
                });
                owned(complete::rank(prefix, &all, |s| &s.text, MAX_SHOWN))
            }
            Slot::Value { field, quoted, .. } => {
                let all = self.values_of(field);
                let mut shown = owned(complete::rank(prefix, &all, |s| &s.text, MAX_SHOWN));
                // Inside quotes, a bare literal would be text: offer it quoted.
                if *quoted {
                    shown.iter_mut().for_each(|s| s.bare = false);
                }
                shown
            }
        }
    }

    fn values_of(self, field: &str) -> Vec<Suggestion> {
        let counted = |value: &str, n: u64| Suggestion {
            text: value.to_string(),
            detail: text::plural(n, "trace", "traces"),
            bare: false,
        };
        match complete::value_source(field) {
            ValueSource::TagValues(key) => self.tag_values.with(|all| {
                all.iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, values)| {
                        values
                            .iter()
                            .map(|v| counted(&v.value, v.trace_count))
                            .collect()
                    })
                    .unwrap_or_default()
            }),
            ValueSource::TagKeys => self.tag_keys.with(|keys| {
                keys.iter()
                    .flatten()
                    .map(|k| counted(&k.key, k.trace_count))
                    .collect()
            }),
            ValueSource::Services => self.services.with(|services| {
                services
                    .iter()
                    .flatten()
                    .map(|s| Suggestion {
                        text: s.name.clone(),
                        detail: text::plural(s.span_count, "span", "spans"),
                        bare: false,
                    })
                    .collect()
            }),
            ValueSource::SpanValues(field) => self.field_values.with(|all| {
                all.iter()
                    .find(|(f, _)| *f == field)
                    .map(|(_, values)| {
                        values
                            .iter()
                            .map(|v| Suggestion {
                                text: v.value.clone(),
                                detail: text::plural(v.span_count, "span", "spans"),
                                bare: false,
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            }),
            ValueSource::Fixed(values) => values.iter().map(|v| plain(v, "")).collect(),
            ValueSource::Bare(values) => values
                .iter()
                .map(|v| Suggestion {
                    bare: true,
                    ..plain(v, "")
                })
                .collect(),
            ValueSource::None => Vec::new(),
        }
    }
}

fn plain(text: &str, detail: &str) -> Suggestion {
    Suggestion {
        text: text.to_string(),
        detail: detail.to_string(),
        bare: false,
    }
}

fn owned(items: Vec<&Suggestion>) -> Vec<Suggestion> {
    items.into_iter().cloned().collect()
}
