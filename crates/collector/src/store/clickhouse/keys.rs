//! Projects and API keys in ClickHouse (`KeyStore`): every collector of a cluster reads the same
//! keys. A key's versions fold by `version`; revoking writes a version with `revoked_ms` set.

use async_trait::async_trait;
use serde_json::json;

use super::client::{quote, RowExt};
use super::writer::arrivals;
use super::ClickhouseStore;
use crate::store::keys::{new_secret, ActiveKey, KeyInfo, KeyStore, KeyTable, NewKey, StoredKey};
use crate::store::{StoreError, StoreResult};

fn now_ms() -> i64 {
    (arrivals(1) / 1000) as i64
}

impl ClickhouseStore {
    async fn key_rows(&self, condition: &str) -> StoreResult<Vec<serde_json::Value>> {
        self.client
            .rows(&format!(
                "SELECT id, project, label, secret_sha256, created_ms, revoked_ms FROM {} FINAL \
                 WHERE {condition} ORDER BY project, created_ms, id",
                self.layout.table("api_keys")
            ))
            .await
    }

    async fn project_exists(&self, name: &str) -> StoreResult<bool> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT count() AS n FROM {} FINAL WHERE name = {}",
                self.layout.table("projects"),
                quote(name)
            ))
            .await?;
        Ok(rows.first().is_some_and(|r| r.i64_of("n") > 0))
    }
}

fn info_of(row: &serde_json::Value) -> KeyInfo {
    KeyInfo {
        id: row.str_of("id"),
        project: row.str_of("project"),
        label: row.str_of("label"),
        created_ms: row.i64_of("created_ms"),
        revoked: row.i64_of("revoked_ms") != 0,
    }
}

#[async_trait]
impl KeyStore for ClickhouseStore {
    async fn create_project(&self, name: &str) -> StoreResult<bool> {
        if self.project_exists(name).await? {
            return Ok(false);
        }
        let row = json!({"name": name, "created_ms": now_ms()});
        self.client
            .insert(&self.layout.table("projects"), &[row], self.quorum)
            .await?;
        Ok(true)
    }

    async fn list_projects(&self) -> StoreResult<Vec<String>> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT name FROM {} FINAL ORDER BY name",
                self.layout.table("projects")
            ))
            .await?;
        Ok(rows.iter().map(|r| r.str_of("name")).collect())
    }

    async fn project_created_ms(&self, name: &str) -> StoreResult<Option<i64>> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT min(created_ms) AS created_ms, count() AS n FROM {} FINAL WHERE name = {}",
                self.layout.table("projects"),
                quote(name)
            ))
            .await?;
        Ok(rows
            .first()
            .filter(|r| r.i64_of("n") > 0)
            .map(|r| r.i64_of("created_ms")))
    }

    async fn create_key(&self, project: &str, label: &str) -> StoreResult<NewKey> {
        if !self.project_exists(project).await? {
            return Err(StoreError::NotFound(format!(
                "no project {project:?}: create it first with `skein project create {project}`"
            )));
        }
        let (secret, hash, id) = new_secret();
        let created_ms = now_ms();
        let row = json!({
            "id": id, "project": project, "label": label, "secret_sha256": hash,
            "created_ms": created_ms, "revoked_ms": 0, "version": arrivals(1),
        });
        self.client
            .insert(&self.layout.table("api_keys"), &[row], self.quorum)
            .await?;
        Ok(NewKey {
            info: KeyInfo {
                id,
                project: project.to_string(),
                label: label.to_string(),
                created_ms,
                revoked: false,
            },
            secret,
        })
    }

    async fn revoke_key(&self, id: &str) -> StoreResult<bool> {
        let rows = self
            .key_rows(&format!("id = {} AND revoked_ms = 0", quote(id)))
            .await?;
        let Some(row) = rows.first() else {
            return Ok(false);
        };
        let revoked = json!({
            "id": row.str_of("id"), "project": row.str_of("project"), "label": row.str_of("label"),
            "secret_sha256": row.str_of("secret_sha256"), "created_ms": row.i64_of("created_ms"),
            "revoked_ms": now_ms().max(1), "version": arrivals(1),
        });
        self.client
            .insert(&self.layout.table("api_keys"), &[revoked], self.quorum)
            .await?;
        Ok(true)
    }

    async fn list_keys(&self) -> StoreResult<Vec<KeyInfo>> {
        Ok(self.key_rows("1").await?.iter().map(info_of).collect())
    }

    async fn export_keys(&self) -> StoreResult<Vec<StoredKey>> {
        Ok(self
            .key_rows("1")
            .await?
            .iter()
            .map(|r| {
                let revoked_ms = r.i64_of("revoked_ms");
                StoredKey {
                    info: info_of(r),
                    secret_sha256: r.str_of("secret_sha256"),
                    revoked_ms: (revoked_ms != 0).then_some(revoked_ms),
                }
            })
            .collect())
    }

    async fn import_key(&self, key: StoredKey) -> StoreResult<()> {
        let exists = !self
            .key_rows(&format!("id = {}", quote(&key.info.id)))
            .await?
            .is_empty();
        if exists {
            return Ok(());
        }
        let row = json!({
            "id": key.info.id, "project": key.info.project, "label": key.info.label,
            "secret_sha256": key.secret_sha256, "created_ms": key.info.created_ms,
            "revoked_ms": key.revoked_ms.unwrap_or(0), "version": arrivals(1),
        });
        self.client
            .insert(&self.layout.table("api_keys"), &[row], self.quorum)
            .await
    }

    async fn key_table(&self) -> StoreResult<KeyTable> {
        let rows = self.key_rows("1").await?;
        Ok(KeyTable {
            required: !rows.is_empty(),
            active: rows
                .iter()
                .filter(|r| r.i64_of("revoked_ms") == 0)
                .map(|r| {
                    ActiveKey::new(
                        r.str_of("secret_sha256"),
                        r.str_of("project"),
                        &r.str_of("id"),
                        &r.str_of("label"),
                    )
                })
                .collect(),
        })
    }
}
