//! The store's one error type. Each engine converts its driver's errors into these kinds inside
//! its own folder (`sqlite/error.rs`), so nothing above the store sees a driver's error, and
//! `crate::error` maps each kind to one HTTP answer.

/// The reason of `StoreError::disk_full`.
const DISK_FULL: &str = "the store's disk is full";

/// What went wrong, by what the client should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A request the store cannot carry out as asked (a bad cursor, a feedback id another
    /// project uses, too many buckets): the client must change it.
    #[error("{0}")]
    Invalid(String),
    /// The thing named is not there.
    #[error("{0}")]
    NotFound(String),
    /// The store cannot take more now (a full write queue, a full disk, a slow engine): the
    /// client should retry after the given time. `reason` is said to the client.
    #[error("{reason}; retry in {retry_after_secs} s")]
    Overloaded {
        reason: String,
        retry_after_secs: u64,
    },
    #[error("the store is shutting down")]
    Closed,
    /// Anything else. The text is for the log: clients are told only that storage failed.
    #[error("storage error: {0}")]
    Internal(String),
}

impl StoreError {
    /// A full write queue: the client should retry soon.
    pub fn queue_full() -> StoreError {
        StoreError::Overloaded {
            reason: "the write queue is full".into(),
            retry_after_secs: 1,
        }
    }

    /// The disk the store writes to is full: nothing was stored, and a retry once space is
    /// freed will succeed.
    pub fn disk_full() -> StoreError {
        StoreError::Overloaded {
            reason: DISK_FULL.into(),
            retry_after_secs: 30,
        }
    }

    /// Whether this is `disk_full()`.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Overloaded { reason, .. } if reason == DISK_FULL)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
