//! Score configs and feedback settings in the SQLite file: one row per config (by project and
//! key) and one per project that changed its settings, each the model's type as JSON, so that a
//! field added to a config needs no migration. Written by the writer thread like feedback.

use async_trait::async_trait;
use rusqlite::{params, Connection};
use skein_model::{ScoreConfig, ScoreConfigList, ScoreSettings};

use super::writer::{WriteOp, WriteReply};
use super::{to_json, unexpected_reply, SqliteStore};
use crate::store::score_configs::ScoreConfigStore;
use crate::store::{StoreError, StoreResult};

/// The tables (schema 10).
pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS score_configs (
        project TEXT NOT NULL,
        key TEXT NOT NULL,
        config TEXT NOT NULL,
        PRIMARY KEY (project, key)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS score_settings (
        project TEXT NOT NULL PRIMARY KEY,
        settings TEXT NOT NULL
    ) WITHOUT ROWID;";

/// A write of configs or settings, for the writer thread.
pub(super) enum ScoreConfigWrite {
    Put(ScoreConfig),
    Delete { project: String, key: String },
    Settings(String, ScoreSettings),
}

/// Applies a write; true when it changed a row (a delete that found its config).
pub(super) fn apply(conn: &Connection, write: &ScoreConfigWrite) -> StoreResult<bool> {
    let changed = match write {
        ScoreConfigWrite::Put(config) => conn.execute(
            "INSERT OR REPLACE INTO score_configs (project, key, config) VALUES (?1, ?2, ?3)",
            params![config.project, config.key, to_json(config)],
        )?,
        ScoreConfigWrite::Delete { project, key } => conn.execute(
            "DELETE FROM score_configs WHERE project = ?1 AND key = ?2",
            params![project, key],
        )?,
        ScoreConfigWrite::Settings(project, settings) => conn.execute(
            "INSERT OR REPLACE INTO score_settings (project, settings) VALUES (?1, ?2)",
            params![project, to_json(settings)],
        )?,
    };
    Ok(changed > 0)
}

fn read(conn: &Connection, project: &str) -> StoreResult<ScoreConfigList> {
    let parse = |what: &str, text: &str| {
        StoreError::Internal(format!(
            "a stored {what} of {project:?} is unreadable: {text}"
        ))
    };
    let mut configs = Vec::new();
    let mut stmt =
        conn.prepare_cached("SELECT config FROM score_configs WHERE project = ?1 ORDER BY key")?;
    let mut rows = stmt.query(params![project])?;
    while let Some(row) = rows.next()? {
        let text: String = row.get(0)?;
        configs.push(
            serde_json::from_str::<ScoreConfig>(&text)
                .map_err(|e| parse("score config", &e.to_string()))?,
        );
    }
    let mut stmt = conn.prepare_cached("SELECT settings FROM score_settings WHERE project = ?1")?;
    let mut rows = stmt.query(params![project])?;
    let settings = match rows.next()? {
        Some(row) => {
            let text: String = row.get(0)?;
            serde_json::from_str(&text).map_err(|e| parse("setting", &e.to_string()))?
        }
        None => ScoreSettings::default(),
    };
    Ok(ScoreConfigList { configs, settings })
}

impl SqliteStore {
    async fn write_scores(&self, write: ScoreConfigWrite) -> StoreResult<bool> {
        match self.submit(WriteOp::ScoreConfigs(write)).await? {
            WriteReply::Deleted(changed) => Ok(changed),
            _ => Err(unexpected_reply()),
        }
    }
}

#[async_trait]
impl ScoreConfigStore for SqliteStore {
    async fn score_configs(&self, project: &str) -> StoreResult<ScoreConfigList> {
        let project = project.to_string();
        self.read(move |c| read(c, &project)).await
    }

    async fn put_score_config(&self, config: ScoreConfig) -> StoreResult<()> {
        self.write_scores(ScoreConfigWrite::Put(config))
            .await
            .map(drop)
    }

    async fn delete_score_config(&self, project: &str, key: &str) -> StoreResult<bool> {
        self.write_scores(ScoreConfigWrite::Delete {
            project: project.to_string(),
            key: key.to_string(),
        })
        .await
    }

    async fn set_score_settings(&self, project: &str, settings: ScoreSettings) -> StoreResult<()> {
        self.write_scores(ScoreConfigWrite::Settings(project.to_string(), settings))
            .await
            .map(drop)
    }
}
