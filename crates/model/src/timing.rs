//! Timing algorithms over a trace's spans: clock-skew adjustment, client/server pairs with
//! their network gaps, and the critical path.
//!
//! The algorithms work on `SpanTiming`s indexed like `TraceSkeleton::spans` (parents by index),
//! in any time unit; [`TraceTiming`] runs them on a skeleton once (per trace and per setting of
//! the skew switch), in O(n log n), so the dashboard's rows only look values up.

use crate::span::SpanKind;
use crate::trace::TraceSkeleton;

mod critical;
pub use self::critical::{critical_path, critical_time_by_span, CriticalPath, CriticalSection};

/// What the algorithms need of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanTiming {
    pub parent: Option<usize>,
    pub start: i64,
    pub end: i64,
    /// Which clock the span was timed by: spans of one service share a clock.
    pub service: u32,
    pub kind: SpanKind,
}

impl SpanTiming {
    pub fn duration(&self) -> i64 {
        (self.end - self.start).max(0)
    }
}

/// Children of each span, in input order, in one array (`kids[first[i]..first[i + 1]]`):
/// two integers a span, where a vector per span would cost a million allocations.
struct Children {
    first: Vec<u32>,
    kids: Vec<u32>,
}

impl Children {
    fn of_spans(spans: &[SpanTiming]) -> Children {
        let n = spans.len();
        Children::of_parents(n, |i| spans[i].parent.filter(|&p| p < n && p != i))
    }

    /// From each span's parent (in range, never the span itself).
    fn of_parents(n: usize, parent: impl Fn(usize) -> Option<usize>) -> Children {
        let mut first = vec![0u32; n + 1];
        for i in 0..n {
            if let Some(p) = parent(i) {
                first[p + 1] += 1;
            }
        }
        for i in 0..n {
            first[i + 1] += first[i];
        }
        let mut fill = first.clone();
        let mut kids = vec![0u32; first[n] as usize];
        for i in 0..n {
            if let Some(p) = parent(i) {
                kids[fill[p] as usize] = i as u32;
                fill[p] += 1;
            }
        }
        Children { first, kids }
    }

    fn of(&self, i: usize) -> &[u32] {
        &self.kids[self.first[i] as usize..self.first[i + 1] as usize]
    }

    fn of_mut(&mut self, i: usize) -> &mut [u32] {
        &mut self.kids[self.first[i] as usize..self.first[i + 1] as usize]
    }
}

/// Spans in parent-before-child order (roots first), visiting each span once even if the
/// parent links contain a cycle.
fn top_down(spans: &[SpanTiming], children: &Children) -> Vec<u32> {
    let mut order = Vec::with_capacity(spans.len());
    let mut seen = vec![false; spans.len()];
    let roots = spans
        .iter()
        .enumerate()
        .filter(|(i, s)| s.parent.is_none_or(|p| p >= spans.len() || p == *i))
        .map(|(i, _)| i as u32);
    let mut stack: Vec<u32> = roots.collect();
    stack.reverse();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i as usize], true) {
            continue;
        }
        order.push(i);
        stack.extend(children.of(i as usize).iter().rev().copied());
    }
    order
}

/// A message consumed or produced asynchronously may legitimately run outside its parent:
/// its time says nothing about clocks.
fn is_async_edge(child: &SpanTiming, parent: &SpanTiming) -> bool {
    child.kind == SpanKind::Consumer || parent.kind == SpanKind::Producer
}

/// Clock-skew adjustment, as Jaeger does it: where a span was timed by another clock than its
/// parent (another service), and it starts before or ends after its parent, it is shifted to
/// sit centred inside the parent; its descendants on the same clock move with it. A child
/// longer than its parent is only moved right, to start with it. Spans that fit are left
/// alone, and so are asynchronous (producer/consumer) hand-offs.
///
/// Returns the shift to add to each span's start and end (0 for most).
pub fn clock_skew_shifts(spans: &[SpanTiming]) -> Vec<i64> {
    let children = Children::of_spans(spans);
    let mut shift = vec![0i64; spans.len()];
    for i in top_down(spans, &children) {
        let i = i as usize;
        let Some(p) = spans[i].parent.filter(|&p| p < spans.len() && p != i) else {
            continue;
        };
        let (child, parent) = (spans[i], spans[p]);
        if child.service == parent.service {
            shift[i] = shift[p];
            continue;
        }
        if is_async_edge(&child, &parent) {
            continue;
        }
        let parent_start = parent.start + shift[p];
        let parent_end = parent.end + shift[p];
        shift[i] = if child.duration() > parent.duration() {
            (parent_start - child.start).max(0)
        } else if child.start >= parent_start && child.end <= parent_end {
            0
        } else {
            let latency = (parent.duration() - child.duration()) / 2;
            parent_start + latency - child.start
        };
    }
    shift
}

/// The trace's extent: the earliest start to the latest end over all spans (as given, i.e.
/// adjusted when the shifts were added), or `None` for no spans. A child that starts before
/// or ends after its root (millisecond clocks, a skew the adjustment leaves) widens it, so
/// that one extent holds every bar the waterfall draws.
pub fn trace_extent(spans: &[SpanTiming]) -> Option<(i64, i64)> {
    spans
        .iter()
        .map(|s| (s.start, s.end.max(s.start)))
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
}

/// The network between a client span and the server span it called, as the two services'
/// clocks (adjusted, when the adjustment is on) tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkGap {
    /// Server start − client start: the request on its way (negative: clocks disagree).
    pub request: i64,
    /// Client end − server end: the response on its way back.
    pub response: i64,
}

/// A span's part in a call across a service boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CallRole {
    #[default]
    None,
    /// A client span that called a server span (the first, if it called several) in
    /// another service.
    Client { server: usize },
    /// A server span called by a client span of another service.
    Server { client: usize, gap: NetworkGap },
}

/// What the trace page shows about timing, computed once per trace and skew setting from the
/// skeleton (times in µs after `TraceSkeleton::start_ns`); the critical path is apart
/// ([`CriticalPath`]), computed only when shown.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceTiming {
    /// Whether the clock-skew adjustment is applied.
    pub skew_adjusted: bool,
    /// The whole trace as shown (µs, see [`trace_extent`]): the header's duration, the
    /// ruler's span and the waterfall's full width. Without spans, the summary's.
    pub extent_us: (i64, i64),
    /// Per span: added to its start and end; empty when no span moved (the adjustment off,
    /// or clocks that agree): a million spans need no 8 MB of zeros.
    shift_us: Vec<i64>,
    /// Spans whose own clock was adjusted (their shift differs from their parent's).
    pub adjusted_count: usize,
    /// The spans with a role in a client/server pair, by span index (most spans have none).
    calls: Vec<(u32, CallRole)>,
}

impl TraceTiming {
    pub fn compute(skeleton: &TraceSkeleton, skew_adjusted: bool) -> TraceTiming {
        let spans = &skeleton.spans;
        let n = spans.len();
        let parent_of = |i: usize| spans[i].parent().filter(|&p| p < n && p != i);
        // Only a span timed by another service's clock than its parent's can be shifted: a
        // trace of one service (most agent traces) skips the adjustment's ordering pass.
        let crosses_services = (0..n).any(|i| {
            parent_of(i).is_some_and(|p| spans[i].service_index() != spans[p].service_index())
        });
        // The spans' timing as the skew adjustment needs it: held only while it runs.
        let mut shift_us = if skew_adjusted && crosses_services {
            let raw: Vec<SpanTiming> = (0..n)
                .map(|i| SpanTiming {
                    parent: parent_of(i),
                    start: spans[i].start_us(),
                    end: spans[i].end_us(),
                    service: spans[i].service_index() as u32,
                    kind: spans[i].kind(),
                })
                .collect();
            clock_skew_shifts(&raw)
        } else {
            Vec::new()
        };
        if shift_us.iter().all(|&d| d == 0) {
            shift_us = Vec::new();
        }
        let shift_of = |i: usize| shift_us.get(i).copied().unwrap_or(0);
        let shown = |i: usize| {
            let d = shift_of(i);
            (spans[i].start_us() + d, spans[i].end_us() + d)
        };
        let extent_us = (0..n)
            .map(|i| {
                let (start, end) = shown(i);
                (start, end.max(start))
            })
            .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
            .unwrap_or_else(|| {
                let summary = &skeleton.summary;
                (0, (summary.end_ns - summary.start_ns).max(0) / 1_000)
            });
        // Nothing moved, or a one-service trace: no pass over the spans for what they
        // cannot have (an adjusted clock, a call to another service).
        let adjusted_count = if shift_us.is_empty() {
            0
        } else {
            (0..n)
                .filter(|&i| shift_of(i) != parent_of(i).map_or(0, shift_of))
                .count()
        };

        // A client's role names its first server (in span order).
        let mut calls: Vec<(u32, CallRole)> = Vec::new();
        for i in (0..n).filter(|_| crosses_services) {
            let Some(p) = parent_of(i) else { continue };
            let (server, client) = (&spans[i], &spans[p]);
            if server.kind() == SpanKind::Server
                && client.kind() == SpanKind::Client
                && server.service_index() != client.service_index()
            {
                let ((start, end), (client_start, client_end)) = (shown(i), shown(p));
                calls.push((
                    i as u32,
                    CallRole::Server {
                        client: p,
                        gap: NetworkGap {
                            request: start - client_start,
                            response: client_end - end,
                        },
                    },
                ));
                calls.push((p as u32, CallRole::Client { server: i }));
            }
        }
        // One role a span: a server's (a span called by another service may itself call
        // a third), else a client's of its first server.
        crate::sort::sort_by_key(&mut calls, |&(i, role)| match role {
            CallRole::Client { server } => (i, 1, server),
            _ => (i, 0, 0),
        });
        calls.dedup_by_key(|(i, _)| *i);

        TraceTiming {
            skew_adjusted,
            extent_us,
            shift_us,
            adjusted_count,
            calls,
        }
    }

    /// A span's start and end as shown (µs), adjusted when the adjustment is on.
    pub fn extent_us(&self, skeleton: &TraceSkeleton, span: usize) -> (i64, i64) {
        let s = &skeleton.spans[span];
        let d = self.shift_us(span);
        (s.start_us() + d, s.end_us() + d)
    }

    /// What was added to a span's start and end (0 when it was not moved).
    pub fn shift_us(&self, span: usize) -> i64 {
        self.shift_us.get(span).copied().unwrap_or(0)
    }

    /// The adjustment made at this span for its own clock (0 when it only moved along with
    /// its parent, or was not moved).
    pub fn own_adjustment_us(&self, skeleton: &TraceSkeleton, span: usize) -> i64 {
        let parent = skeleton.spans[span]
            .parent()
            .map_or(0, |p| self.shift_us(p));
        self.shift_us(span) - parent
    }

    pub fn call_role(&self, span: usize) -> CallRole {
        self.calls
            .binary_search_by_key(&span, |&(i, _)| i as usize)
            .map_or(CallRole::None, |k| self.calls[k].1)
    }

    /// The whole trace's duration as shown (µs): the extent's width.
    pub fn duration_us(&self) -> i64 {
        self.extent_us.1 - self.extent_us.0
    }
}

#[cfg(test)]
mod tests;
