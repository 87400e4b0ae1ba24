//! Score configs and a project's feedback settings: the `ScoreConfigStore` every engine
//! implements. What a config may be and how feedback is checked against it are rules of
//! `skein_model::score_config`; the store only keeps them.
//!
//! Review work (annotation queues, pairwise queues) will be a store of its own beside this one:
//! a queue's ratings are ordinary feedback records, checked against these configs like any.

use async_trait::async_trait;
use skein_model::{ScoreConfig, ScoreConfigList, ScoreSettings};

use super::StoreResult;

#[async_trait]
pub trait ScoreConfigStore: Send + Sync + 'static {
    /// The project's configs, ordered by key, and its settings (the defaults when never set):
    /// everything feedback is checked against, in one read (every feedback write makes it).
    async fn score_configs(&self, project: &str) -> StoreResult<ScoreConfigList>;

    /// Stores a config, replacing the one of the same project and key (its id and creation
    /// time are the caller's to keep).
    async fn put_score_config(&self, config: ScoreConfig) -> StoreResult<()>;

    /// Removes the project's config of `key`; true when there was one. Feedback already given
    /// under the key stays as it is.
    async fn delete_score_config(&self, project: &str, key: &str) -> StoreResult<bool>;

    async fn set_score_settings(&self, project: &str, settings: ScoreSettings) -> StoreResult<()>;
}
