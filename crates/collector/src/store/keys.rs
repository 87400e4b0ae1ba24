//! Projects and API keys: the `KeyStore` every engine implements, so that keys live in
//! whichever engine holds the data, and the rules for secrets. A key is stored as the SHA-256 of
//! its secret (shown once, at creation); its public id is random and independent of the
//! secret, so listing keys reveals nothing of any secret.

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::StoreResult;

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

/// A key as stored (its secret's hash, never the secret), to move keys between engines
/// (`skein migrate`): a moved key keeps working with the secret its user has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub info: KeyInfo,
    pub secret_sha256: String,
    /// When it was revoked (Unix ms); none while active.
    pub revoked_ms: Option<i64>,
}

/// What the server checks requests against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyTable {
    /// True once any key was ever created: from then on every data request needs a key, even
    /// after the last one is revoked (revoking must never open a Skein up).
    pub required: bool,
    /// The active keys.
    pub active: Vec<ActiveKey>,
}

/// An active key as requests are checked against it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ActiveKey {
    pub secret_sha256: String,
    pub project: String,
    /// Who uses it, as the key names them: its label, else its id. A queue's reviewer with
    /// this key is this name, whatever the request claims.
    pub holder: String,
}

impl ActiveKey {
    pub fn new(secret_sha256: String, project: String, id: &str, label: &str) -> ActiveKey {
        let label = label.trim();
        ActiveKey {
            secret_sha256,
            project,
            holder: if label.is_empty() { id } else { label }.to_string(),
        }
    }
}

/// A fresh key's secret, its hash (what is stored) and its public id: 256 random bits of the
/// OS generator for the secret, another 48 for the id.
pub fn new_secret() -> (String, String, String) {
    let random = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let secret = format!("{SECRET_PREFIX}{random}");
    let id = format!("key_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let hash = hash_secret(&secret);
    (secret, hash, id)
}

/// The hex SHA-256 of a secret, as stored and looked up.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// Registers a project (a key needs one); false if it already exists.
    async fn create_project(&self, name: &str) -> StoreResult<bool>;

    async fn list_projects(&self) -> StoreResult<Vec<String>>;

    /// When a registered project was registered (Unix ms); none for a project never registered.
    async fn project_created_ms(&self, name: &str) -> StoreResult<Option<i64>>;

    /// Creates a key for a registered project (`StoreError::NotFound` for another).
    async fn create_key(&self, project: &str, label: &str) -> StoreResult<NewKey>;

    /// Revokes a key by id; false if there is no such active key.
    async fn revoke_key(&self, id: &str) -> StoreResult<bool>;

    async fn list_keys(&self) -> StoreResult<Vec<KeyInfo>>;

    /// The table requests are checked against (read often: the server caches it briefly).
    async fn key_table(&self) -> StoreResult<KeyTable>;

    /// Every key as stored, revoked ones too.
    async fn export_keys(&self) -> StoreResult<Vec<StoredKey>>;

    /// Stores a key exported from another store as it was (an id already here is left as it
    /// is); its project must be registered.
    async fn import_key(&self, key: StoredKey) -> StoreResult<()>;
}
