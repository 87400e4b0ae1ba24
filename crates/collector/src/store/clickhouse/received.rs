//! Reads for the live stream: the spans received after a cursor. The cursor is a row's
//! `arrival` (microseconds, increasing within one collector): several collectors write with
//! their own clocks, and an insert becomes visible when ClickHouse has it, so a span may
//! appear below a cursor already read by up to `RECEIVE_SETTLE` (readers read that far back).

use super::client::{quote, RowExt};
use super::writer::arrivals;
use super::ClickhouseStore;
use crate::store::{ReceivedBatch, ReceivedSpan, StoreResult};

/// Most spans read at once, whatever the caller asks.
const MAX_READ: u32 = 1_000;

/// How late (µs) a span may appear below arrivals already seen: clock skew between collectors
/// plus the longest an acknowledged insert takes to become readable.
pub(super) const RECEIVE_SETTLE: i64 = 5_000_000;

impl ClickhouseStore {
    pub(super) async fn received(
        &self,
        project: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<ReceivedBatch> {
        let limit = limit.clamp(1, MAX_READ);
        let after = after.max(0);
        // Every version of a row as written (no FINAL): a retry is read again, and the reader
        // skips what it sent. `arrived` (the partition key) keeps older months unread.
        let rows = self
            .client
            .rows(&format!(
                "SELECT arrival, body FROM {} WHERE project = {} AND arrival > {after} \
                 AND arrived >= toDateTime({}) ORDER BY arrival LIMIT {limit}",
                self.layout.table("spans"),
                quote(project),
                after / 1_000_000
            ))
            .await?;
        let spans = Self::bodies(&rows)?;
        Ok(ReceivedBatch {
            scanned_to: rows.last().map_or(after, |r| r.i64_of("arrival")),
            more: rows.len() == limit as usize,
            spans: rows
                .iter()
                .zip(spans)
                .map(|(r, span)| ReceivedSpan {
                    seq: r.i64_of("arrival"),
                    span,
                })
                .collect(),
        })
    }

    /// Now, as an arrival: later than every arrival this collector has given.
    pub(super) fn received_head(&self) -> i64 {
        arrivals(1) as i64
    }
}
