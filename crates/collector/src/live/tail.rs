//! One stream's reader: reads the spans received after its cursor a bounded page at a time,
//! skips what it already sent (a store may show a span late, within its settle window, or
//! twice), and turns the rest into events: each new span passing the filter whose trace passes
//! the stream's trace conditions, or each trace that got new spans and passes the trace list's
//! query. Trace conditions are the store's to decide (`QueryStore::trace_summaries`, compiled
//! as the list compiles them), asked once a page for the traces the page touched.
//!
//! An event's id is where a stream resumed with it as `Last-Event-ID` reads again from: its
//! span's cursor, or just below the oldest span still held (`kind=spans`), so that a reconnect
//! while a span waits for its trace to pass reads that span again and sends it when the trace
//! does. Delivery is at least once: the resumed stream may send again what was sent after the
//! held span (a list keys its rows by span). A span held longer than `HOLD_RESUME` no longer
//! holds ids back: a reconnect re-reads at most that much.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use skein_model::filter::{self, Expr};
use skein_model::live::{StreamKind, SPAN_EVENT, TRACE_EVENT};
use skein_model::span_list::SpanRow;
use skein_model::TraceQuery;

use crate::store::{ReceivedSpan, Store, StoreResult};

/// Stored spans read at once: one page of a poll.
pub const PAGE: u32 = 500;
/// Traces remembered as passing the trace conditions (`kind=spans`): not asked again.
const MATCHED_TRACES: usize = 10_000;
/// Spans held while their trace does not pass yet (its root or matching span may come later).
const HELD_SPANS: usize = 10_000;
/// How long a held span keeps the ids of later events below its cursor.
const HOLD_RESUME: Duration = Duration::from_secs(60);
/// Span versions remembered as sent, within the store's settle window.
const SENT_KEYS: usize = 100_000;

/// What a stream sends.
#[derive(Debug, Clone)]
pub struct Selection {
    pub kind: StreamKind,
    /// On the span itself (`kind=spans`).
    pub filter: Option<Expr>,
    /// The trace list's query (its `filter`, `trace_filter`, `tree_filter`, tags, status...):
    /// a trace event is sent for a trace passing all of it; a span event only for a span whose
    /// trace passes it (`kind=spans`: `trace_filter` and `tree_filter`).
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
    /// Span versions sent (trace, span, cursor), pruned below `cursor - settle`: a version read
    /// again is skipped, a later version of the span (a LangSmith patch) is sent.
    sent: HashSet<(String, String, i64)>,
    /// `kind=spans`: traces that passed the trace conditions.
    matched: Recent,
    /// `kind=spans`: spans passing `filter` whose trace did not pass yet, oldest first, with
    /// when they were first held.
    held: VecDeque<(ReceivedSpan, Instant)>,
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
            sent: HashSet::new(),
            matched: Recent::new(MATCHED_TRACES),
            held: VecDeque::new(),
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
        let mut fresh: Vec<ReceivedSpan> = batch
            .spans
            .into_iter()
            .filter(|r| r.seq > self.floor)
            .filter(|r| {
                self.sent
                    .insert((r.span.trace_id.clone(), r.span.span_id.clone(), r.seq))
            })
            .collect();
        // A span written twice within the page (created, then patched) is sent once, as read.
        let latest: HashMap<(&str, &str), i64> = fresh
            .iter()
            .map(|r| ((r.span.trace_id.as_str(), r.span.span_id.as_str()), r.seq))
            .collect();
        let keep: Vec<bool> = fresh
            .iter()
            .map(|r| {
                latest.get(&(r.span.trace_id.as_str(), r.span.span_id.as_str())) == Some(&r.seq)
            })
            .collect();
        let mut keep = keep.into_iter();
        fresh.retain(|_| keep.next().unwrap_or(true));
        let horizon = self.cursor.saturating_sub(settle);
        self.sent.retain(|(_, _, seq)| *seq >= horizon);
        if self.sent.len() > SENT_KEYS {
            // Past the bound a resent span is the lesser harm than unbounded memory.
            self.sent.clear();
        }
        match self.selection.kind {
            StreamKind::Spans => self.span_events(fresh).await,
            StreamKind::Traces => self.trace_events(&fresh).await,
        }
    }

    fn passes(&self, r: &ReceivedSpan) -> bool {
        self.selection
            .filter
            .as_ref()
            .is_none_or(|f| filter::matches(f, &r.span))
    }

    /// Each new span passing `filter` whose trace passes the trace conditions; a span whose
    /// trace does not pass yet is held (boundedly) and sent once the trace passes, when a
    /// later span of it (its root, a matching child) arrives.
    async fn span_events(&mut self, fresh: Vec<ReceivedSpan>) -> StoreResult<Vec<LiveEvent>> {
        let touched: HashSet<String> = fresh.iter().map(|r| r.span.trace_id.clone()).collect();
        let passing: Vec<ReceivedSpan> = fresh.into_iter().filter(|r| self.passes(r)).collect();
        let mut out = if self.selection.traces == TraceQuery::default() {
            passing
        } else {
            let mut asked: Vec<String> = Vec::new();
            let unmatched = |t: &String| !self.matched.contains(t);
            for trace in passing.iter().map(|r| &r.span.trace_id).chain(
                self.held
                    .iter()
                    .map(|(r, _)| &r.span.trace_id)
                    .filter(|t| touched.contains(*t)),
            ) {
                if unmatched(trace) && !asked.contains(trace) {
                    asked.push(trace.clone());
                }
            }
            if !asked.is_empty() {
                for summary in self
                    .store
                    .trace_summaries(&self.project, &asked, &self.selection.traces)
                    .await?
                {
                    self.matched.insert(&summary.trace_id);
                }
            }
            let now = Instant::now();
            let (ready, still): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
                .into_iter()
                .chain(passing.into_iter().map(|r| (r, now)))
                .partition(|(r, _)| self.matched.contains(&r.span.trace_id));
            self.held = still.into();
            while self.held.len() > HELD_SPANS {
                self.held.pop_front();
            }
            latest_versions(ready.into_iter().map(|(r, _)| r).collect())
        };
        out.sort_by_key(|r| r.seq);
        // Below the oldest span still held (recently): a resume reads it again.
        let resume_below = self
            .held
            .iter()
            .filter(|(_, since)| since.elapsed() < HOLD_RESUME)
            .map(|(r, _)| r.seq)
            .min();
        Ok(out
            .iter()
            .filter_map(|r| {
                Some(LiveEvent {
                    name: SPAN_EVENT,
                    id: resume_below.map_or(r.seq, |held| r.seq.min(held - 1)),
                    data: serde_json::to_string(&SpanRow::of_span(&r.span)).ok()?,
                })
            })
            .collect())
    }

    /// One event per trace that got new spans and passes the trace list's query (decided by
    /// the store, as the list decides): its summary now, with the cursor of its newest span in
    /// this page (so a resume after an earlier event still sends it).
    async fn trace_events(&mut self, fresh: &[ReceivedSpan]) -> StoreResult<Vec<LiveEvent>> {
        let mut newest: HashMap<&str, i64> = HashMap::new();
        for r in fresh {
            let seq = newest.entry(r.span.trace_id.as_str()).or_insert(r.seq);
            *seq = (*seq).max(r.seq);
        }
        if newest.is_empty() {
            return Ok(Vec::new());
        }
        let mut order: Vec<(&str, i64)> = newest.into_iter().collect();
        order.sort_by_key(|(_, seq)| *seq);
        let ids: Vec<String> = order.iter().map(|(t, _)| t.to_string()).collect();
        let summaries = self
            .store
            .trace_summaries(&self.project, &ids, &self.selection.traces)
            .await?;
        Ok(order
            .iter()
            .filter_map(|(trace, seq)| {
                let summary = summaries.iter().find(|s| s.trace_id == *trace)?;
                Some(LiveEvent {
                    name: TRACE_EVENT,
                    id: *seq,
                    data: serde_json::to_string(summary).ok()?,
                })
            })
            .collect())
    }
}

/// Each span once, in its latest version: a span held, then written again (patched, rated)
/// before its trace passed, is sent as it is now.
fn latest_versions(mut spans: Vec<ReceivedSpan>) -> Vec<ReceivedSpan> {
    let mut newest: HashMap<(String, String), i64> = HashMap::new();
    for r in &spans {
        let seq = newest
            .entry((r.span.trace_id.clone(), r.span.span_id.clone()))
            .or_insert(r.seq);
        *seq = (*seq).max(r.seq);
    }
    spans
        .retain(|r| newest.get(&(r.span.trace_id.clone(), r.span.span_id.clone())) == Some(&r.seq));
    spans
}
