//! Projects and API keys in the SQLite file (`KeyStore`). The `skein` CLI writes them while the
//! server runs, each call on a short-lived connection of its own; the server only reads them.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::now_ms;
use crate::store::keys::{new_secret, ActiveKey, KeyInfo, KeyStore, KeyTable, NewKey, StoredKey};
use crate::store::{StoreError, StoreResult};

/// The keys of one SQLite file. Cheap: it holds only the path.
#[derive(Debug, Clone)]
pub struct SqliteKeys {
    db: PathBuf,
}

impl SqliteKeys {
    pub fn new(db: impl Into<PathBuf>) -> SqliteKeys {
        SqliteKeys { db: db.into() }
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Path) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| StoreError::Internal(format!("key task failed: {e}")))?
    }
}

#[async_trait]
impl KeyStore for SqliteKeys {
    async fn create_project(&self, name: &str) -> StoreResult<bool> {
        let name = name.to_string();
        self.run(move |db| create_project(db, &name)).await
    }

    async fn list_projects(&self) -> StoreResult<Vec<String>> {
        self.run(list_projects).await
    }

    async fn project_created_ms(&self, name: &str) -> StoreResult<Option<i64>> {
        let name = name.to_string();
        self.run(move |db| project_created_ms(db, &name)).await
    }

    async fn create_key(&self, project: &str, label: &str) -> StoreResult<NewKey> {
        let (project, label) = (project.to_string(), label.to_string());
        self.run(move |db| create_key(db, &project, &label)).await
    }

    async fn revoke_key(&self, id: &str) -> StoreResult<bool> {
        let id = id.to_string();
        self.run(move |db| revoke_key(db, &id)).await
    }

    async fn list_keys(&self) -> StoreResult<Vec<KeyInfo>> {
        self.run(list_keys).await
    }

    async fn export_keys(&self) -> StoreResult<Vec<StoredKey>> {
        self.run(|db| {
            if !db.exists() {
                return Ok(Vec::new());
            }
            let conn = open(db)?;
            let mut stmt = conn.prepare(
                "SELECT id, project, label, created_ms, revoked_ms, secret_sha256 FROM api_keys \
                 ORDER BY project, created_ms, id",
            )?;
            let keys = stmt
                .query_map([], |r| {
                    let revoked_ms: Option<i64> = r.get(4)?;
                    Ok(StoredKey {
                        info: KeyInfo {
                            id: r.get(0)?,
                            project: r.get(1)?,
                            label: r.get(2)?,
                            created_ms: r.get(3)?,
                            revoked: revoked_ms.is_some(),
                        },
                        secret_sha256: r.get(5)?,
                        revoked_ms,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(keys)
        })
        .await
    }

    async fn import_key(&self, key: StoredKey) -> StoreResult<()> {
        self.run(move |db| {
            let conn = open(db)?;
            conn.execute(
                "INSERT OR IGNORE INTO api_keys (id, project, label, secret_sha256, created_ms, \
                 revoked_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    key.info.id,
                    key.info.project,
                    key.info.label,
                    key.secret_sha256,
                    key.info.created_ms,
                    key.revoked_ms
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn key_table(&self) -> StoreResult<KeyTable> {
        self.run(|db| {
            // A file that does not exist yet has no keys: reading must not create it.
            if !db.exists() {
                return Ok(KeyTable::default());
            }
            let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            read_keys(&conn)
        })
        .await
    }
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS registered_projects (
        name TEXT PRIMARY KEY,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS api_keys (
        id TEXT PRIMARY KEY,
        project TEXT NOT NULL,
        label TEXT NOT NULL,
        secret_sha256 TEXT NOT NULL UNIQUE,
        created_ms INTEGER NOT NULL,
        revoked_ms INTEGER
    );";

/// Opens the database for key management, creating the file and the tables if needed.
fn open(db: &Path) -> StoreResult<Connection> {
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Internal(format!("cannot create {}: {e}", dir.display())))?;
    }
    let conn = Connection::open(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

fn create_project(db: &Path, name: &str) -> StoreResult<bool> {
    let conn = open(db)?;
    let n = conn.execute(
        "INSERT OR IGNORE INTO registered_projects (name, created_ms) VALUES (?1, ?2)",
        params![name, now_ms()],
    )?;
    Ok(n > 0)
}

fn list_projects(db: &Path) -> StoreResult<Vec<String>> {
    let conn = open(db)?;
    let mut stmt = conn.prepare("SELECT name FROM registered_projects ORDER BY name")?;
    let names = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}

fn project_created_ms(db: &Path, name: &str) -> StoreResult<Option<i64>> {
    let conn = open(db)?;
    Ok(conn
        .query_row(
            "SELECT created_ms FROM registered_projects WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )
        .optional()?)
}

/// Creates a key for an existing project.
fn create_key(db: &Path, project: &str, label: &str) -> StoreResult<NewKey> {
    let conn = open(db)?;
    let exists: Option<String> = conn
        .query_row(
            "SELECT name FROM registered_projects WHERE name = ?1",
            params![project],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Err(StoreError::NotFound(format!(
            "no project {project:?}: create it first with `skein project create {project}`"
        )));
    }
    let (secret, hash, id) = new_secret();
    let created_ms = now_ms();
    conn.execute(
        "INSERT INTO api_keys (id, project, label, secret_sha256, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, project, label, hash, created_ms],
    )?;
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

/// Revokes a key by id; false if there is no such key (or it was already revoked).
fn revoke_key(db: &Path, id: &str) -> StoreResult<bool> {
    let conn = open(db)?;
    let n = conn.execute(
        "UPDATE api_keys SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
        params![id, now_ms()],
    )?;
    Ok(n > 0)
}

fn list_keys(db: &Path) -> StoreResult<Vec<KeyInfo>> {
    let conn = open(db)?;
    let mut stmt = conn.prepare(
        "SELECT id, project, label, created_ms, revoked_ms IS NOT NULL FROM api_keys ORDER BY project, created_ms",
    )?;
    let keys = stmt
        .query_map([], |r| {
            Ok(KeyInfo {
                id: r.get(0)?,
                project: r.get(1)?,
                label: r.get(2)?,
                created_ms: r.get(3)?,
                revoked: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(keys)
}

/// Reads the key table. A database where keys were never created has no such table: that
/// reads as no keys required.
fn read_keys(conn: &Connection) -> StoreResult<KeyTable> {
    let exists: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'api_keys'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Ok(KeyTable::default());
    }
    let required: bool = conn.query_row("SELECT count(*) > 0 FROM api_keys", [], |r| r.get(0))?;
    let mut stmt = conn.prepare(
        "SELECT secret_sha256, project, id, label FROM api_keys WHERE revoked_ms IS NULL",
    )?;
    let active = stmt
        .query_map([], |r| {
            let (id, label): (String, String) = (r.get(2)?, r.get(3)?);
            Ok(ActiveKey::new(r.get(0)?, r.get(1)?, &id, &label))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(KeyTable { required, active })
}
