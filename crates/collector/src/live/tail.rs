//! One stream's reader: reads the spans received after its cursor a bounded page at a time,
//! skips what it already sent (a store may show a span late, within its settle window, or
//! twice), and turns the rest into events: each new span passing the filter, or each trace
//! that got new spans and passes the trace list's query (`skein_model::live`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use skein_model::filter::{self, Expr};
use skein_model::live::{StreamKind, SPAN_EVENT, TRACE_EVENT};
use skein_model::span_list::SpanRow;
use skein_model::TraceQuery;

use crate::store::{ReceivedSpan, Store, StoreResult};

/// Stored spans read at once: one page of a poll.
pub const PAGE: u32 = 500;
/// Traces remembered as having matched `filter` (their later spans need not match).
const MATCHED_TRACES: usize = 10_000;
/// Span keys remembered as sent, within the store's settle window.
const SENT_KEYS: usize = 100_000;

/// What a stream sends.
#[derive(Debug, Clone)]
pub struct Selection {
    pub kind: StreamKind,
    /// On the span (`kind=spans`), or on any span of the trace (`kind=traces`).
    pub filter: Option<Expr>,
    /// The trace list's other conditions (`kind=traces`).
    pub traces: TraceQuery,
}

/// An event to send: its SSE name, id (the receive cursor of its newest span) and JSON data.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    pub name: &'static str,
    pub id: i64,
    pub data: String,
}

/// A set that forgets its oldest entries past `cap`.
struct Recent {
    order: VecDeque<String>,
    set: HashSet<String>,
    cap: usize,
}

impl Recent {
    fn new(cap: usize) -> Recent {
        Recent {
            order: VecDeque::new(),
            set: HashSet::new(),
            cap,
        }
    }

    fn contains(&self, key: &str) -> bool {
        self.set.contains(key)
    }

    fn insert(&mut self, key: &str) {
        if self.set.insert(key.to_string()) {
            self.order.push_back(key.to_string());
            while self.order.len() > self.cap {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

pub struct Tail {
    store: Arc<dyn Store>,
    project: String,
    selection: Selection,
    /// Spans at or below this were sent before the stream (re)started, or were older than it.
    floor: i64,
    /// The furthest the store has been read.
    cursor: i64,
    /// Where the next page starts when the last one stopped at its limit.
    next_page: Option<i64>,
    /// Span keys sent with their cursor, pruned below `cursor - settle`.
    sent: HashMap<(String, String), i64>,
    matched: Recent,
}

impl Tail {
    /// A reader sending what is received after `floor` (a `Last-Event-ID`, or the head).
    pub fn new(store: Arc<dyn Store>, project: String, selection: Selection, floor: i64) -> Tail {
        Tail {
            store,
            project,
            selection,
            floor,
            cursor: floor,
            next_page: None,
            sent: HashMap::new(),
            matched: Recent::new(MATCHED_TRACES),
        }
    }

    /// True when the last read stopped at its limit: read again without waiting.
    pub fn has_more(&self) -> bool {
        self.next_page.is_some()
    }

    /// Reads one page and returns its events, oldest first.
    pub async fn read(&mut self) -> StoreResult<Vec<LiveEvent>> {
        let settle = self.store.receive_settle().max(0);
        let after = self
            .next_page
            .unwrap_or_else(|| self.floor.max(self.cursor.saturating_sub(settle)));
        let batch = self
            .store
            .received_spans(&self.project, after, PAGE)
            .await?;
        self.cursor = self.cursor.max(batch.scanned_to);
        self.next_page = batch.more.then_some(batch.scanned_to);
        let fresh: Vec<ReceivedSpan> = batch
            .spans
            .into_iter()
            .filter(|r| r.seq > self.floor)
            .filter(|r| {
                let key = (r.span.trace_id.clone(), r.span.span_id.clone());
                self.sent.insert(key, r.seq).is_none()
            })
            .collect();
        let horizon = self.cursor.saturating_sub(settle);
        self.sent.retain(|_, seq| *seq >= horizon);
        if self.sent.len() > SENT_KEYS {
            // Past the bound a resent span is the lesser harm than unbounded memory.
            self.sent.clear();
        }
        match self.selection.kind {
            StreamKind::Spans => Ok(self.span_events(&fresh)),
            StreamKind::Traces => self.trace_events(&fresh).await,
        }
    }

    fn passes(&self, r: &ReceivedSpan) -> bool {
        self.selection
            .filter
            .as_ref()
            .is_none_or(|f| filter::matches(f, &r.span))
    }

    fn span_events(&self, fresh: &[ReceivedSpan]) -> Vec<LiveEvent> {
        fresh
            .iter()
            .filter(|r| self.passes(r))
            .filter_map(|r| {
                Some(LiveEvent {
                    name: SPAN_EVENT,
                    id: r.seq,
                    data: serde_json::to_string(&SpanRow::of_span(&r.span)).ok()?,
                })
            })
            .collect()
    }

    /// One event per trace that got new spans and passes: its summary now, with the cursor of
    /// its newest span in this page (so a resume after an earlier event still sends it).
    async fn trace_events(&mut self, fresh: &[ReceivedSpan]) -> StoreResult<Vec<LiveEvent>> {
        let mut newest: Vec<(String, i64)> = Vec::new();
        for r in fresh {
            let trace = &r.span.trace_id;
            if self.passes(r) {
                self.matched.insert(trace);
            }
            match newest.iter_mut().find(|(t, _)| t == trace) {
                Some((_, seq)) => *seq = (*seq).max(r.seq),
                None => newest.push((trace.clone(), r.seq)),
            }
        }
        newest.retain(|(t, _)| self.matched.contains(t));
        if newest.is_empty() {
            return Ok(Vec::new());
        }
        newest.sort_by_key(|(_, seq)| *seq);
        let ids: Vec<String> = newest.iter().map(|(t, _)| t.clone()).collect();
        let summaries = self.store.trace_summaries(&self.project, &ids).await?;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        Ok(newest
            .iter()
            .filter_map(|(trace, seq)| {
                let summary = summaries.iter().find(|s| &s.trace_id == trace)?;
                if !self.selection.traces.admits(summary, now_ms) {
                    return None;
                }
                Some(LiveEvent {
                    name: TRACE_EVENT,
                    id: *seq,
                    data: serde_json::to_string(summary).ok()?,
                })
            })
            .collect())
    }
}
