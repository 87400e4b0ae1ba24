//! Projects and API keys in the SQLite file. The `skein` CLI writes them with a short-lived
//! connection of its own (the running server need not be stopped); the server only reads them.
//! A key is stored as the SHA-256 of its secret: the secret is shown once, at creation.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::store::{StoreError, StoreResult};

/// Every secret starts with this, so a leaked one is recognisable (and greppable).
pub const SECRET_PREFIX: &str = "skein_";

/// A key as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub id: String,
    pub project: String,
    pub label: String,
    pub created_ms: i64,
    pub revoked: bool,
}

/// A key just created: the only time its secret exists outside the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub info: KeyInfo,
    pub secret: String,
}

/// The hex SHA-256 of a secret, as stored and looked up.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
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
            .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", dir.display())))?;
    }
    let conn = Connection::open(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

pub fn create_project(db: &Path, name: &str) -> StoreResult<bool> {
    let conn = open(db)?;
    let n = conn.execute(
        "INSERT OR IGNORE INTO registered_projects (name, created_ms) VALUES (?1, ?2)",
        params![name, now_ms()],
    )?;
    Ok(n > 0)
}

pub fn list_projects(db: &Path) -> StoreResult<Vec<String>> {
    let conn = open(db)?;
    let mut stmt = conn.prepare("SELECT name FROM registered_projects ORDER BY name")?;
    let names = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}

/// Creates a key for an existing project.
pub fn create_key(db: &Path, project: &str, label: &str) -> StoreResult<NewKey> {
    let conn = open(db)?;
    let exists: Option<String> = conn
        .query_row(
            "SELECT name FROM registered_projects WHERE name = ?1",
            params![project],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Err(StoreError::Invalid(format!(
            "no project {project:?}: create it first with `skein project create {project}`"
        )));
    }
    // 256 random bits (two v4 UUIDs' worth of the OS generator).
    let random = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let secret = format!("{SECRET_PREFIX}{random}");
    let id = format!("key_{}", &random[..12]);
    let created_ms = now_ms();
    conn.execute(
        "INSERT INTO api_keys (id, project, label, secret_sha256, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, project, label, hash_secret(&secret), created_ms],
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
pub fn revoke_key(db: &Path, id: &str) -> StoreResult<bool> {
    let conn = open(db)?;
    let n = conn.execute(
        "UPDATE api_keys SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
        params![id, now_ms()],
    )?;
    Ok(n > 0)
}

pub fn list_keys(db: &Path) -> StoreResult<Vec<KeyInfo>> {
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

/// What the server needs of the key table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyTable {
    /// True once any key was ever created: from then on every data request needs a key, even
    /// after the last one is revoked (revoking must never open a Skein up).
    pub required: bool,
    /// The active keys: secret hash → project.
    pub active: Vec<(String, String)>,
}

/// Reads the key table. A database where keys were never created has no such table: that
/// reads as no keys required.
pub fn read_keys(conn: &Connection) -> StoreResult<KeyTable> {
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
    let mut stmt =
        conn.prepare("SELECT secret_sha256, project FROM api_keys WHERE revoked_ms IS NULL")?;
    let active = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(KeyTable { required, active })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stored_hashed_and_can_be_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("skein.db");
        assert!(
            create_key(&db, "team-a", "ci").is_err(),
            "needs the project first"
        );
        assert!(create_project(&db, "team-a").unwrap());
        assert!(!create_project(&db, "team-a").unwrap());
        let key = create_key(&db, "team-a", "ci").unwrap();
        assert!(key.secret.starts_with(SECRET_PREFIX));

        let conn = Connection::open(&db).unwrap();
        let table = read_keys(&conn).unwrap();
        assert!(table.required);
        assert_eq!(
            table.active,
            vec![(hash_secret(&key.secret), "team-a".to_string())]
        );
        let stored: String = conn
            .query_row(
                "SELECT group_concat(secret_sha256) FROM api_keys",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            !stored.contains(&key.secret),
            "the secret itself is never stored"
        );

        assert!(revoke_key(&db, &key.info.id).unwrap());
        assert!(!revoke_key(&db, &key.info.id).unwrap());
        let table = read_keys(&conn).unwrap();
        assert!(table.active.is_empty());
        assert!(
            table.required,
            "revoking the last key must not open Skein up"
        );
        assert!(list_keys(&db).unwrap()[0].revoked);
    }
}
