//! Live tail: what a stream (`GET /api/v1/stream`) needs besides the store.
//!
//! A stream reads the spans the store received after its cursor (`SpanStore::received_spans`),
//! so it sees every collector's writes on a shared store; `LiveHub` wakes the streams of this
//! collector as soon as its own writes are acknowledged, and between wakes each stream reads
//! again every `POLL_EVERY` for the writes of other collectors. `tail` decides what to send.

pub mod tail;
pub mod ticket;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// How often an idle stream reads the store for spans written through other collectors.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// Streams open at once on one collector, unless configured.
pub const DEFAULT_MAX_STREAMS: usize = 64;

/// The notification from the write paths to the streams, and the cap on open streams.
pub struct LiveHub {
    written: watch::Sender<u64>,
    streams: Arc<Semaphore>,
}

impl LiveHub {
    pub fn new(max_streams: usize) -> LiveHub {
        LiveHub {
            written: watch::channel(0).0,
            streams: Arc::new(Semaphore::new(max_streams)),
        }
    }

    /// Called once spans are acknowledged (durably stored): every stream reads at once.
    pub fn spans_stored(&self) {
        self.written.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// What a stream waits on for `spans_stored`.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.written.subscribe()
    }

    /// A place for one more stream, held for as long as it is open; 503 when all are taken.
    pub fn open_stream(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.streams
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Overloaded {
                reason: "too many live streams are open on this collector".into(),
                retry_after_secs: 5,
            })
    }
}

impl Default for LiveHub {
    fn default() -> Self {
        LiveHub::new(DEFAULT_MAX_STREAMS)
    }
}
