//! Score configs and feedback settings in ClickHouse (schema 4): each config's versions in
//! `score_configs` by project and key (the latest wins; a deletion is a version marked
//! deleted), each project's settings' versions in `score_settings`; both the model's types as
//! JSON, so that a field added needs no migration. Sharded by project: a project's configs are
//! read from one shard.

use async_trait::async_trait;
use serde_json::json;
use skein_model::{ScoreConfig, ScoreConfigList, ScoreSettings};

use super::client::{quote, RowExt};
use super::writer::arrivals;
use super::ClickhouseStore;
use crate::store::score_configs::ScoreConfigStore;
use crate::store::{StoreError, StoreResult};

impl ClickhouseStore {
    async fn write_config_row(
        &self,
        project: &str,
        key: &str,
        config: &str,
        deleted: bool,
    ) -> StoreResult<()> {
        let row = json!({
            "project": project,
            "key": key,
            "config": config,
            "deleted": u8::from(deleted),
            "version": arrivals(1),
        });
        self.client
            .insert(&self.layout.table("score_configs"), &[row], self.quorum)
            .await
    }
}

fn unreadable(what: &str, project: &str, e: serde_json::Error) -> StoreError {
    StoreError::Internal(format!("a stored {what} of {project:?} is unreadable: {e}"))
}

#[async_trait]
impl ScoreConfigStore for ClickhouseStore {
    async fn score_configs(&self, project: &str) -> StoreResult<ScoreConfigList> {
        let p = quote(project);
        let rows = self
            .client
            .rows(&format!(
                "SELECT config FROM {} FINAL WHERE project = {p} AND deleted = 0 ORDER BY key",
                self.layout.table("score_configs")
            ))
            .await?;
        let configs = rows
            .iter()
            .map(|r| serde_json::from_str::<ScoreConfig>(&r.str_of("config")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| unreadable("score config", project, e))?;
        let rows = self
            .client
            .rows(&format!(
                "SELECT settings FROM {} FINAL WHERE project = {p}",
                self.layout.table("score_settings")
            ))
            .await?;
        let settings = match rows.first() {
            Some(r) => serde_json::from_str(&r.str_of("settings"))
                .map_err(|e| unreadable("setting", project, e))?,
            None => ScoreSettings::default(),
        };
        Ok(ScoreConfigList { configs, settings })
    }

    async fn put_score_config(&self, config: ScoreConfig) -> StoreResult<()> {
        let text = serde_json::to_string(&config)
            .map_err(|e| StoreError::Internal(format!("a score config as JSON: {e}")))?;
        self.write_config_row(&config.project, &config.key, &text, false)
            .await
    }

    async fn delete_score_config(&self, project: &str, key: &str) -> StoreResult<bool> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT count() AS n FROM {} FINAL WHERE project = {} AND key = {} AND deleted = 0",
                self.layout.table("score_configs"),
                quote(project),
                quote(key)
            ))
            .await?;
        let found = rows.first().is_some_and(|r| r.i64_of("n") > 0);
        if !found {
            return Ok(false);
        }
        self.write_config_row(project, key, "", true).await?;
        Ok(true)
    }

    async fn set_score_settings(&self, project: &str, settings: ScoreSettings) -> StoreResult<()> {
        let text = serde_json::to_string(&settings)
            .map_err(|e| StoreError::Internal(format!("feedback settings as JSON: {e}")))?;
        let row = json!({"project": project, "settings": text, "version": arrivals(1)});
        self.client
            .insert(&self.layout.table("score_settings"), &[row], self.quorum)
            .await
    }
}
