//! SQLite's errors as the store's kinds: a full disk is a reason to retry later; anything else
//! is internal (its text goes to the log, not to clients).

use rusqlite::ErrorCode;

use crate::store::StoreError;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::disk_full(),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Overloaded {
                reason: "the database is busy".into(),
                retry_after_secs: 1,
            },
            _ => StoreError::Internal(e.to_string()),
        }
    }
}
