//! Reads for the live stream: the spans received after a cursor, from the receive log
//! (`received`, ordered by project and arrival: a poll reads the rows after its cursor, not
//! the spans of the month). The cursor is a write's `arrival` (microseconds, increasing within
//! one collector): several collectors write with their own clocks, and an insert becomes
//! visible when ClickHouse has it, so a write may appear below a cursor already read by up to
//! `RECEIVE_SETTLE` (readers read that far back). Each write of a span has a receipt of its
//! own (a LangSmith run's patch too); the span is read as it is now.

use std::collections::HashMap;

use super::client::{quote, RowExt};
use super::traces::id_list;
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
        let project_is = format!("project = {}", quote(project));
        // A range of the primary key; `arrived` (the partition key) keeps older months unread.
        let receipts = self
            .client
            .rows(&format!(
                "SELECT arrival, trace_id, span_id FROM {} WHERE {project_is} \
                 AND arrival > {after} AND arrived >= toDateTime({}) ORDER BY arrival LIMIT {limit}",
                self.layout.table("received"),
                after / 1_000_000
            ))
            .await?;
        let scanned_to = receipts.last().map_or(after, |r| r.i64_of("arrival"));
        let more = receipts.len() == limit as usize;
        if receipts.is_empty() {
            return Ok(ReceivedBatch {
                spans: Vec::new(),
                scanned_to,
                more,
            });
        }
        let mut traces: Vec<String> = receipts.iter().map(|r| r.str_of("trace_id")).collect();
        traces.sort_unstable();
        traces.dedup();
        let mut span_ids: Vec<String> = receipts.iter().map(|r| r.str_of("span_id")).collect();
        span_ids.sort_unstable();
        span_ids.dedup();
        // The spans as they are now (folded), by their primary key.
        let rows = self
            .client
            .rows(&format!(
                "SELECT trace_id, span_id, body FROM {} WHERE {project_is} \
                 AND trace_id IN ({}) AND span_id IN ({})",
                self.spans(),
                id_list(&traces),
                id_list(&span_ids)
            ))
            .await?;
        let bodies = Self::bodies(&rows)?;
        let spans: HashMap<(String, String), _> = rows
            .iter()
            .map(|r| (r.str_of("trace_id"), r.str_of("span_id")))
            .zip(bodies)
            .collect();
        Ok(ReceivedBatch {
            // A span removed since (retention) is left out.
            spans: receipts
                .iter()
                .filter_map(|r| {
                    let span = spans.get(&(r.str_of("trace_id"), r.str_of("span_id")))?;
                    Some(ReceivedSpan {
                        seq: r.i64_of("arrival"),
                        span: span.clone(),
                    })
                })
                .collect(),
            scanned_to,
            more,
        })
    }

    /// Now, as an arrival: later than every arrival this collector has given.
    pub(super) fn received_head(&self) -> i64 {
        arrivals(1) as i64
    }
}
