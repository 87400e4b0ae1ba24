//! Score configs: what a feedback key means in a project, so that everyone rating runs agrees
//! on it. A key is numeric (a range, optionally in steps), categorical (named values, each
//! mapped to a score) or boolean (thumbs up or down, scores 1 and 0). A project may also accept
//! configured keys only.
//!
//! `check_feedback` is the one rule every path feedback enters by applies (Skein's API, the
//! LangSmith API and its multipart uploads); `check_config` is what a config itself must be.
//! Both answer a sentence naming the key and what is allowed, shown as is to the user.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::format::plain;

/// Longest feedback key (as the feedback API accepts it).
pub const MAX_KEY_LEN: usize = 128;
/// Longest description of a config.
pub const MAX_DESCRIPTION_LEN: usize = 2000;
/// Longest category label.
pub const MAX_LABEL_LEN: usize = 64;
/// Most categories in one config (a row of buttons, each with a digit shortcut).
pub const MAX_CATEGORIES: usize = 20;
/// Most configs in one project: every feedback write reads them all.
pub const MAX_CONFIGS: usize = 200;

/// One named value of a categorical key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub label: String,
    pub score: f64,
}

/// What kind of value a key takes (`"type"` on the wire).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ScoreKind {
    /// A number from `min` to `max` (inclusive), in multiples of `step` from `min` if given.
    Numeric {
        min: f64,
        max: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<f64>,
    },
    /// One of named values, each stored as its score.
    Categorical { categories: Vec<Category> },
    /// Thumbs up (score 1) or down (score 0).
    Boolean,
}

/// A stored config (`GET /api/v1/score-configs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreConfig {
    pub id: String,
    pub project: String,
    pub key: String,
    #[serde(flatten)]
    pub kind: ScoreKind,
    #[serde(default)]
    pub description: String,
    /// Whether the rating widget asks for a comment along with the score.
    #[serde(default)]
    pub comment_asked: bool,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// `POST /api/v1/score-configs`, `PUT /api/v1/score-configs/{id or key}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewScoreConfig {
    pub key: String,
    #[serde(flatten)]
    pub kind: ScoreKind,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub comment_asked: bool,
}

/// A project's settings for feedback keys (`GET`/`PUT /api/v1/score-settings`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreSettings {
    /// Feedback under a key without a config is refused.
    #[serde(default)]
    pub configured_keys_only: bool,
}

/// A project's configs (ordered by key) and settings: everything a feedback write is checked
/// against.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreConfigList {
    pub configs: Vec<ScoreConfig>,
    #[serde(default)]
    pub settings: ScoreSettings,
}

impl ScoreConfigList {
    pub fn get(&self, key: &str) -> Option<&ScoreConfig> {
        self.configs.iter().find(|c| c.key == key)
    }

    /// The config named by its id, else by its key.
    pub fn find(&self, id_or_key: &str) -> Option<&ScoreConfig> {
        self.configs
            .iter()
            .find(|c| c.id == id_or_key)
            .or_else(|| self.get(id_or_key))
    }

    /// The scores of `key` that have names, in score order: a categorical key's categories, a
    /// boolean key's thumbs; none for a numeric key or a key without a config. For charts,
    /// which label these values on their axes.
    pub fn named_scores(&self, key: &str) -> Vec<(f64, String)> {
        let mut named: Vec<(f64, String)> = match self.get(key).map(|c| &c.kind) {
            Some(ScoreKind::Categorical { categories }) => categories
                .iter()
                .map(|c| (c.score, c.label.clone()))
                .collect(),
            Some(ScoreKind::Boolean) => {
                vec![(0.0, "thumbs down".into()), (1.0, "thumbs up".into())]
            }
            _ => Vec::new(),
        };
        named.sort_by(|a, b| a.0.total_cmp(&b.0));
        named
    }

    /// Checks feedback under `key` against the project's configs and settings (see
    /// `check_feedback`); a key without a config keeps its score, unless the project accepts
    /// configured keys only.
    pub fn check(
        &self,
        key: &str,
        score: Option<f64>,
        value: Option<&Value>,
    ) -> Result<Option<f64>, String> {
        match self.get(key) {
            Some(config) => check_feedback(config, score, value).map(Some),
            None if self.settings.configured_keys_only => {
                let keys: Vec<&str> = self.configs.iter().map(|c| c.key.as_str()).collect();
                Err(if keys.is_empty() {
                    format!(
                        "feedback key {key:?} has no score config, and this project accepts \
                         configured keys only (none is configured yet)"
                    )
                } else {
                    format!(
                        "feedback key {key:?} has no score config, and this project accepts \
                         configured keys only: {}",
                        keys.join(", ")
                    )
                })
            }
            None => Ok(score),
        }
    }
}

impl ScoreKind {
    /// What the key allows, as the end of a sentence: `a number from 1 to 5 in steps of 1`.
    pub fn allowed(&self) -> String {
        match self {
            ScoreKind::Numeric { min, max, step } => {
                let range = format!("a number from {} to {}", plain(*min), plain(*max));
                match step {
                    Some(step) => format!("{range} in steps of {}", plain(*step)),
                    None => range,
                }
            }
            ScoreKind::Categorical { categories } => {
                let names: Vec<String> = categories
                    .iter()
                    .map(|c| format!("{} ({})", c.label, plain(c.score)))
                    .collect();
                format!("one of: {}", names.join(", "))
            }
            ScoreKind::Boolean => "thumbs up or down: a score of 1 or 0 (or true/false)".into(),
        }
    }

    /// The category a score stands for (categorical keys only).
    pub fn category_of(&self, score: f64) -> Option<&Category> {
        match self {
            ScoreKind::Categorical { categories } => {
                categories.iter().find(|c| same_number(c.score, score))
            }
            _ => None,
        }
    }

    /// The values a numeric key can take, when it has a step and at most `limit` of them
    /// (for step buttons); none otherwise.
    pub fn steps(&self, limit: usize) -> Option<Vec<f64>> {
        let ScoreKind::Numeric {
            min,
            max,
            step: Some(step),
        } = self
        else {
            return None;
        };
        let count = ((max - min) / step + 1e-9).floor() as usize + 1;
        (count <= limit).then(|| (0..count).map(|i| min + i as f64 * step).collect())
    }

    /// A score as the key names it: a category's label, up/down, or the number.
    pub fn label(&self, score: f64) -> String {
        match self {
            ScoreKind::Categorical { .. } => self
                .category_of(score)
                .map_or_else(|| plain(score), |c| c.label.clone()),
            ScoreKind::Boolean if same_number(score, 1.0) => "thumbs up".into(),
            ScoreKind::Boolean if same_number(score, 0.0) => "thumbs down".into(),
            _ => plain(score),
        }
    }
}

/// Two scores equal as a user would type them (`0.1 + 0.2` is `0.3`).
fn same_number(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Checks feedback against its key's config; the score to store (a category's or thumb's
/// score when the feedback names it by its value). Feedback gives its score as `score`, or
/// as `value`: a number, a category's label, or true/false for a boolean key. A refusal names
/// the key and what it allows.
pub fn check_feedback(
    config: &ScoreConfig,
    score: Option<f64>,
    value: Option<&Value>,
) -> Result<f64, String> {
    let refuse = |got: String| {
        Err(format!(
            "{} must be {} (got {got})",
            config.key,
            config.kind.allowed()
        ))
    };
    let value = value.filter(|v| !v.is_null());
    let got_value = || match value {
        Some(Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
        None => "no score".into(),
    };
    match &config.kind {
        ScoreKind::Numeric { min, max, step } => {
            let Some(s) = score.or_else(|| value.and_then(Value::as_f64)) else {
                return refuse(got_value());
            };
            let in_range = s >= *min - 1e-9 && s <= *max + 1e-9;
            let on_step = step.is_none_or(|step| {
                let k = ((s - min) / step).round();
                same_number(s, min + k * step)
            });
            if in_range && on_step && s.is_finite() {
                Ok(s)
            } else {
                refuse(plain(s))
            }
        }
        ScoreKind::Categorical { categories } => {
            let by_value = match value {
                Some(Value::String(label)) => {
                    match categories.iter().find(|c| c.label == label.trim()) {
                        Some(c) => Some(c),
                        None => return refuse(got_value()),
                    }
                }
                Some(Value::Number(n)) if score.is_none() => match n.as_f64() {
                    Some(v) => match config.kind.category_of(v) {
                        Some(c) => Some(c),
                        None => return refuse(plain(v)),
                    },
                    None => return refuse(got_value()),
                },
                _ => None,
            };
            match (score, by_value) {
                (Some(s), Some(c)) if !same_number(s, c.score) => refuse(format!(
                    "the score {} with the value {:?}, which is {}",
                    plain(s),
                    c.label,
                    plain(c.score)
                )),
                (_, Some(c)) => Ok(c.score),
                (Some(s), None) => match config.kind.category_of(s) {
                    Some(c) => Ok(c.score),
                    None => refuse(plain(s)),
                },
                (None, None) => refuse(got_value()),
            }
        }
        ScoreKind::Boolean => {
            let by_value = match value {
                Some(Value::Bool(b)) => Some(f64::from(u8::from(*b))),
                Some(Value::Number(n)) => n.as_f64(),
                Some(_) => return refuse(got_value()),
                None => None,
            };
            let s = match (score, by_value) {
                (Some(s), Some(v)) if !same_number(s, v) => {
                    return refuse(format!(
                        "the score {} with the value {}",
                        plain(s),
                        got_value()
                    ))
                }
                (Some(s), _) | (None, Some(s)) => s,
                (None, None) => return refuse(got_value()),
            };
            if same_number(s, 1.0) {
                Ok(1.0)
            } else if same_number(s, 0.0) {
                Ok(0.0)
            } else {
                refuse(plain(s))
            }
        }
    }
}

/// Checks a config as written by a user; the reason it cannot be stored.
pub fn check_config(config: &NewScoreConfig) -> Result<(), String> {
    let key = config.key.trim();
    if key.is_empty() || key.len() > MAX_KEY_LEN || key.len() != config.key.len() {
        return Err(format!(
            "a score config's key must be 1 to {MAX_KEY_LEN} characters, without spaces around it"
        ));
    }
    if key.chars().any(char::is_control) {
        return Err("a score config's key must not contain control characters".into());
    }
    if config.description.len() > MAX_DESCRIPTION_LEN {
        return Err(format!(
            "the description of {key} is longer than {MAX_DESCRIPTION_LEN} bytes"
        ));
    }
    match &config.kind {
        ScoreKind::Numeric { min, max, step } => {
            if !min.is_finite() || !max.is_finite() || min >= max {
                return Err(format!(
                    "{key}: a numeric score needs a finite min below a finite max (got {} to {})",
                    plain(*min),
                    plain(*max)
                ));
            }
            if let Some(step) = step {
                if !step.is_finite() || *step <= 0.0 || *step > max - min {
                    return Err(format!(
                        "{key}: the step must be a positive number no larger than max − min \
                         (got {})",
                        plain(*step)
                    ));
                }
                let steps = (max - min) / step;
                if !same_number(steps, steps.round()) {
                    return Err(format!(
                        "{key}: the range {} to {} is not a whole number of steps of {}",
                        plain(*min),
                        plain(*max),
                        plain(*step)
                    ));
                }
            }
        }
        ScoreKind::Categorical { categories } => {
            if categories.len() < 2 || categories.len() > MAX_CATEGORIES {
                return Err(format!(
                    "{key}: a categorical score needs 2 to {MAX_CATEGORIES} categories (got {})",
                    categories.len()
                ));
            }
            for (i, c) in categories.iter().enumerate() {
                let label = c.label.trim();
                if label.is_empty() || label.len() > MAX_LABEL_LEN || label.len() != c.label.len() {
                    return Err(format!(
                        "{key}: category labels must be 1 to {MAX_LABEL_LEN} characters, \
                         without spaces around them (got {:?})",
                        c.label
                    ));
                }
                if !c.score.is_finite() {
                    return Err(format!(
                        "{key}: the score of {label} must be a finite number"
                    ));
                }
                if let Some(other) = categories[..i].iter().find(|o| o.label == c.label) {
                    return Err(format!("{key}: two categories are named {:?}", other.label));
                }
                if let Some(other) = categories[..i]
                    .iter()
                    .find(|o| same_number(o.score, c.score))
                {
                    return Err(format!(
                        "{key}: {} and {} have the same score {} (each category needs its own)",
                        other.label,
                        label,
                        plain(c.score)
                    ));
                }
            }
        }
        ScoreKind::Boolean => {}
    }
    Ok(())
}

#[cfg(test)]
#[path = "score_config_tests.rs"]
mod tests;
