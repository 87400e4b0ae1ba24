//! Timing algorithms over a trace's spans: clock-skew adjustment, client/server pairs with
//! their network gaps, and the critical path.
//!
//! The algorithms work on `SpanTiming`s indexed like `TraceSkeleton::spans` (parents by index),
//! in any time unit; [`TraceTiming`] runs them on a skeleton once (per trace and per setting of
//! the skew switch), in O(n log n), so the dashboard's rows only look values up.

use crate::span::SpanKind;
use crate::trace::TraceSkeleton;

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
        let parent = |i: usize| spans[i].parent.filter(|&p| p < n && p != i);
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

/// A stretch of time during which one span was what the trace waited on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CriticalSection {
    pub span: usize,
    pub start: i64,
    pub end: i64,
}

/// The critical path of the tree under `root`: the chain of work that determined its end
/// time, found as Jaeger does by walking back from the end, always into the child that
/// finished last before the current point. Children are first clipped to their parent's
/// time (a child running past its parent did not hold the parent up).
///
/// Returns sections from the end of the trace backwards; each span's share of the critical
/// path is the sum of its sections. O(n log n): each span's children are sorted once by end,
/// and since the point being explained only moves back, each child is passed over once.
pub fn critical_path(spans: &[SpanTiming], root: usize) -> Vec<CriticalSection> {
    if root >= spans.len() {
        return Vec::new();
    }
    let mut children = Children::of_spans(spans);
    // Clip every span into its parent's (clipped) window; drop those entirely outside.
    let mut window: Vec<Option<(i64, i64)>> = vec![None; spans.len()];
    window[root] = Some((spans[root].start, spans[root].end.max(spans[root].start)));
    let mut stack = vec![root];
    let mut visited = vec![false; spans.len()];
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut visited[i], true) {
            continue;
        }
        let Some((ps, pe)) = window[i] else { continue };
        for &c in children.of(i) {
            let c = c as usize;
            let (s, e) = (spans[c].start.max(ps), spans[c].end.min(pe));
            if s <= e && spans[c].start <= pe && spans[c].end >= ps {
                window[c] = Some((s, e));
                stack.push(c);
            }
        }
    }
    // Candidates per span: children on the path's tree, latest end first (ties: input
    // order), those outside it (no window) last. Only visited spans are ever explained.
    for i in (0..spans.len()).filter(|&i| visited[i]) {
        crate::sort::sort_by_key(children.of_mut(i), |&c| match window[c as usize] {
            Some((_, end)) => (false, std::cmp::Reverse(end), c),
            None => (true, std::cmp::Reverse(0), c),
        });
    }
    // Per span: how many of its sorted children have been passed over or taken.
    let mut next = vec![0usize; spans.len()];

    let mut sections = Vec::new();
    let mut current = root;
    // The time up to which the current span is being explained.
    let mut until = window[root].map_or(0, |w| w.1);
    let mut steps = 0;
    loop {
        steps += 1;
        if steps > 4 * spans.len() + 4 {
            break; // malformed input; never loop forever
        }
        let Some((start, _)) = window[current] else {
            break;
        };
        // The child that finished last, at or before `until`; children ending later can
        // never qualify again (`until` only decreases for this span).
        let kids = children.of(current);
        while next[current] < kids.len()
            && window[kids[next[current]] as usize].is_some_and(|(_, e)| e > until)
        {
            next[current] += 1;
        }
        let last_child = kids
            .get(next[current])
            .map(|&c| c as usize)
            .and_then(|c| window[c].map(|(_, e)| (c, e)));
        if last_child.is_some() {
            next[current] += 1;
        }
        match last_child {
            Some((c, e)) => {
                if e < until {
                    sections.push(CriticalSection {
                        span: current,
                        start: e,
                        end: until,
                    });
                }
                current = c;
                until = e;
            }
            None => {
                if start < until {
                    sections.push(CriticalSection {
                        span: current,
                        start,
                        end: until,
                    });
                }
                // Back up to the parent, explaining the time before this span started.
                if current == root {
                    break;
                }
                let Some(parent) = spans[current].parent else {
                    break;
                };
                until = until.min(start);
                current = parent;
            }
        }
    }
    sections
}

/// Each span's time on the critical path (index → total), for listing shares.
pub fn critical_time_by_span(sections: &[CriticalSection], span_count: usize) -> Vec<i64> {
    let mut total = vec![0i64; span_count];
    for s in sections {
        if let Some(t) = total.get_mut(s.span) {
            *t += s.end - s.start;
        }
    }
    total
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

/// Everything the trace page shows about timing, computed once per trace and skew setting
/// from the skeleton (times in µs after `TraceSkeleton::start_ns`).
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
    /// The span whose critical path is shown (the longest root), and its duration.
    pub critical_root: Option<usize>,
    pub critical_total_us: i64,
    /// Critical sections ordered by span, then start: a span's are found by binary search.
    sections: Vec<CriticalSection>,
    /// Spans on the critical path in the order the trace ran them, with their time on it.
    pub critical_spans: Vec<(usize, i64)>,
}

impl TraceTiming {
    pub fn compute(skeleton: &TraceSkeleton, skew_adjusted: bool) -> TraceTiming {
        let n = skeleton.spans.len();
        let raw: Vec<SpanTiming> = skeleton
            .spans
            .iter()
            .enumerate()
            .map(|(i, s)| SpanTiming {
                parent: s.parent().filter(|&p| p < n && p != i),
                start: s.start_us(),
                end: s.end_us(),
                service: s.service_index() as u32,
                kind: s.kind(),
            })
            .collect();
        let mut shift_us = if skew_adjusted {
            clock_skew_shifts(&raw)
        } else {
            Vec::new()
        };
        if shift_us.iter().all(|&d| d == 0) {
            shift_us = Vec::new();
        }
        // Shifted in place: one array of the spans' timing, not two.
        let mut spans = raw;
        for (s, &d) in spans.iter_mut().zip(&shift_us) {
            s.start += d;
            s.end += d;
        }
        let shift_of = |i: usize| shift_us.get(i).copied().unwrap_or(0);
        let extent_us = trace_extent(&spans).unwrap_or_else(|| {
            let summary = &skeleton.summary;
            (0, (summary.end_ns - summary.start_ns).max(0) / 1_000)
        });
        let adjusted_count = (0..n)
            .filter(|&i| shift_of(i) != spans[i].parent.map_or(0, shift_of))
            .count();

        // A client's role names its first server (in span order).
        let mut calls: Vec<(u32, CallRole)> = Vec::new();
        for (i, s) in spans.iter().enumerate() {
            let Some(p) = s.parent else { continue };
            let client = &spans[p];
            if s.kind == SpanKind::Server
                && client.kind == SpanKind::Client
                && s.service != client.service
            {
                calls.push((
                    i as u32,
                    CallRole::Server {
                        client: p,
                        gap: NetworkGap {
                            request: s.start - client.start,
                            response: client.end - s.end,
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

        // The longest span without a parent (orphans only when no true root exists).
        let critical_root = (0..n)
            .filter(|&i| spans[i].parent.is_none())
            .max_by_key(|&i| {
                let orphan = skeleton.orphans.contains_key(&(i as u32));
                (!orphan, spans[i].duration(), std::cmp::Reverse(i))
            });
        let mut sections = critical_root.map_or_else(Vec::new, |r| critical_path(&spans, r));
        let critical_total_us = critical_root.map_or(0, |r| spans[r].duration());
        drop(spans);
        crate::sort::sort_by_key(&mut sections, |s| (s.span, s.start));
        // Per span on the path: its first section's start and its total time on it.
        let mut critical_spans: Vec<(usize, i64)> = Vec::new();
        let mut first_start: Vec<i64> = Vec::new();
        for s in &sections {
            match critical_spans.last_mut() {
                Some((span, total)) if *span == s.span => *total += s.end - s.start,
                _ => {
                    critical_spans.push((s.span, s.end - s.start));
                    first_start.push(s.start);
                }
            }
        }
        let mut order: Vec<usize> = (0..critical_spans.len())
            .filter(|&k| critical_spans[k].1 > 0)
            .collect();
        crate::sort::sort_by_key(&mut order, |&k| (first_start[k], critical_spans[k].0));
        let critical_spans = order.into_iter().map(|k| critical_spans[k]).collect();

        TraceTiming {
            skew_adjusted,
            extent_us,
            shift_us,
            adjusted_count,
            calls,
            critical_root,
            critical_total_us,
            sections,
            critical_spans,
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

    /// A span's stretches on the critical path, earliest first.
    pub fn critical_sections(&self, span: usize) -> &[CriticalSection] {
        let from = self.sections.partition_point(|s| s.span < span);
        let to = self.sections.partition_point(|s| s.span <= span);
        &self.sections[from..to]
    }

    /// A span's time on the critical path.
    pub fn critical_us(&self, span: usize) -> i64 {
        self.critical_sections(span)
            .iter()
            .map(|s| s.end - s.start)
            .sum()
    }

    /// A span's share of the critical root's duration (0..1).
    pub fn critical_share(&self, span: usize) -> f64 {
        let t = self.critical_us(span);
        if self.critical_total_us <= 0 {
            0.0
        } else {
            t as f64 / self.critical_total_us as f64
        }
    }

    /// The whole trace's duration as shown (µs): the extent's width.
    pub fn duration_us(&self) -> i64 {
        self.extent_us.1 - self.extent_us.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(parent: Option<usize>, start: i64, end: i64, service: u32) -> SpanTiming {
        SpanTiming {
            parent,
            start,
            end,
            service,
            kind: SpanKind::Internal,
        }
    }

    #[test]
    fn clocks_that_agree_change_nothing() {
        let spans = [
            span(None, 0, 100, 0),
            span(Some(0), 10, 40, 1), // another service, inside its parent
            span(Some(1), 12, 30, 1),
        ];
        assert_eq!(clock_skew_shifts(&spans), vec![0, 0, 0]);
    }

    #[test]
    fn a_server_span_early_by_a_skewed_clock_is_centred_in_its_client() {
        // The client waits 10..50; the server's clock runs 100 behind: it says -80..-60.
        let spans = [
            span(None, 0, 100, 0),
            span(Some(0), 10, 50, 0),   // client span, service 0
            span(Some(1), -80, -60, 1), // server span, service 1
            span(Some(2), -75, -65, 1), // its child, same clock
        ];
        let shifts = clock_skew_shifts(&spans);
        // Centred: (40 - 20) / 2 = 10 of latency each side → starts at 20.
        assert_eq!(shifts[2], 100);
        assert_eq!(spans[2].start + shifts[2], 20);
        assert_eq!(
            shifts[3], shifts[2],
            "descendants on the same clock move along"
        );
        assert_eq!(shifts[0], 0);
        assert_eq!(shifts[1], 0);
    }

    #[test]
    fn a_child_longer_than_its_parent_only_moves_right() {
        let late = [span(None, 0, 10, 0), span(Some(0), 5, 50, 1)];
        assert_eq!(clock_skew_shifts(&late), vec![0, 0]);
        let early = [span(None, 0, 10, 0), span(Some(0), -5, 40, 1)];
        assert_eq!(clock_skew_shifts(&early), vec![0, 5]);
    }

    #[test]
    fn critical_path_of_a_sequence() {
        // root 0..100: a 10..40 then b 50..90.
        let spans = [
            span(None, 0, 100, 0),
            span(Some(0), 10, 40, 0),
            span(Some(0), 50, 90, 0),
        ];
        let sections = critical_path(&spans, 0);
        let by_span = critical_time_by_span(&sections, spans.len());
        assert_eq!(by_span, vec![10 + 10 + 10, 30, 40]);
        assert_eq!(
            by_span.iter().sum::<i64>(),
            100,
            "the path covers the whole trace"
        );
    }

    #[test]
    fn overlapping_parallel_children_only_the_last_to_finish_counts() {
        // root 0..100; parallel a 10..60, b 20..80, c 30..50. b finishes last: on the path
        // from 20 to 80. Before b started, no child had finished, so the root's own work
        // (0..20) is what the trace waited on; a and c never held it up.
        let spans = [
            span(None, 0, 100, 0),
            span(Some(0), 10, 60, 0),
            span(Some(0), 20, 80, 0),
            span(Some(0), 30, 50, 0),
        ];
        let sections = critical_path(&spans, 0);
        let by_span = critical_time_by_span(&sections, spans.len());
        assert_eq!(by_span, vec![20 + 20, 0, 60, 0]);
        assert_eq!(
            sections[0],
            CriticalSection {
                span: 0,
                start: 80,
                end: 100
            }
        );
    }

    #[test]
    fn nested_children_and_a_child_overrunning_its_parent() {
        // root 0..100 → a 10..90 → a1 20..95 (runs past a: clipped to 20..90).
        let spans = [
            span(None, 0, 100, 0),
            span(Some(0), 10, 90, 0),
            span(Some(1), 20, 95, 0),
        ];
        let by_span = critical_time_by_span(&critical_path(&spans, 0), spans.len());
        assert_eq!(by_span, vec![10 + 10, 10, 70]);
    }

    #[test]
    fn malformed_input_does_not_hang() {
        let spans = [span(Some(1), 0, 10, 0), span(Some(0), 0, 10, 0)];
        let _ = critical_path(&spans, 0);
        let _ = clock_skew_shifts(&spans);
        assert!(critical_path(&[], 0).is_empty());
    }

    #[test]
    fn asynchronous_hand_offs_are_not_adjusted() {
        let mut consumer = span(Some(0), 500, 600, 1);
        consumer.kind = SpanKind::Consumer;
        let spans = [span(None, 0, 100, 0), consumer];
        assert_eq!(clock_skew_shifts(&spans), vec![0, 0]);
    }

    #[test]
    fn a_zero_length_child_does_not_stall_the_walk() {
        // root 0..100 with an instant child at 50 and a child 10..40.
        let spans = [
            span(None, 0, 100, 0),
            span(Some(0), 10, 40, 0),
            span(Some(0), 50, 50, 0),
        ];
        let by_span = critical_time_by_span(&critical_path(&spans, 0), spans.len());
        assert_eq!(by_span, vec![70, 30, 0]);
    }

    #[test]
    fn a_very_wide_trace_is_walked_in_near_linear_time() {
        // 200,000 sequential children: quadratic work would take minutes.
        let n = 200_000;
        let mut spans = vec![span(None, 0, 2 * n as i64 + 1, 0)];
        spans.extend((0..n as i64).map(|k| span(Some(0), 2 * k + 1, 2 * k + 2, 0)));
        let started = std::time::Instant::now();
        let by_span = critical_time_by_span(&critical_path(&spans, 0), spans.len());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(by_span.iter().sum::<i64>(), 2 * n as i64 + 1);
        assert!(by_span[1..].iter().all(|&t| t == 1));
    }

    #[test]
    fn the_extent_holds_children_outside_their_root() {
        // A millisecond clock: the child starts 2 before its root, another ends 3 after it.
        let spans = [
            span(None, 0, 100, 0),
            span(Some(0), -2, 50, 0),
            span(Some(0), 60, 103, 0),
        ];
        assert_eq!(trace_extent(&spans), Some((-2, 103)));
        // A span with its end before its start counts as an instant.
        assert_eq!(trace_extent(&[span(None, 10, 5, 0)]), Some((10, 10)));
        assert_eq!(trace_extent(&[]), None);
    }

    mod on_a_skeleton {
        use super::super::*;
        use crate::span::{SpanStatus, SpanType};
        use crate::trace::{SkeletonSpanInput, TraceSummary};

        const MS: i64 = 1_000_000;

        fn input<'a>(
            id: &'a str,
            parent: Option<&'a str>,
            service: &'a str,
            kind: SpanKind,
            start_ms: i64,
            end_ms: i64,
        ) -> SkeletonSpanInput<'a> {
            SkeletonSpanInput {
                span_id: id,
                parent_span_id: parent,
                name: id,
                service,
                span_type: SpanType::Http,
                start_ns: 1_000 * MS + start_ms * MS,
                end_ns: 1_000 * MS + end_ms * MS,
                status: SpanStatus::Unset,
                tokens: 0,
                kind,
                cost: 0.0,
            }
        }

        /// gateway (0..100) calls orders (client 10..70); orders' clock runs 30 ms behind, so
        /// its server span says 0..40 (truly 15..55) and its db child 5..35.
        fn skewed() -> TraceSkeleton {
            TraceSkeleton::build(
                TraceSummary::default(),
                vec![
                    input("root", None, "gateway", SpanKind::Server, 0, 100),
                    input("call", Some("root"), "gateway", SpanKind::Client, 10, 70),
                    input("serve", Some("call"), "orders", SpanKind::Server, 0, 40),
                    input("db", Some("serve"), "orders", SpanKind::Internal, 5, 35),
                    input("after", Some("root"), "gateway", SpanKind::Internal, 75, 90),
                ],
            )
        }

        fn index(sk: &TraceSkeleton, id: &str) -> usize {
            sk.spans.iter().position(|s| s.span_id() == id).unwrap()
        }

        #[test]
        fn the_skewed_server_span_moves_into_its_client_with_its_children() {
            let sk = skewed();
            let t = TraceTiming::compute(&sk, true);
            let (serve, db) = (index(&sk, "serve"), index(&sk, "db"));
            // Centred: (60 - 40) / 2 = 10 ms each side → starts at 20 ms, i.e. +20 ms.
            assert_eq!(t.own_adjustment_us(&sk, serve), 20_000);
            assert_eq!(t.own_adjustment_us(&sk, db), 0, "moved along, not adjusted");
            assert_eq!(t.shift_us(db), 20_000);
            assert_eq!(t.adjusted_count, 1);
            let (s, e) = t.extent_us(&sk, serve);
            let (cs, ce) = t.extent_us(&sk, index(&sk, "call"));
            assert!(cs <= s && e <= ce);

            let off = TraceTiming::compute(&sk, false);
            assert!((0..sk.spans.len()).all(|i| off.shift_us(i) == 0));
            assert_eq!(off.adjusted_count, 0);
            assert_eq!(
                off.extent_us(&sk, serve),
                (sk.spans[serve].start_us(), sk.spans[serve].end_us())
            );
        }

        #[test]
        fn one_extent_for_header_ruler_and_bars_follows_the_adjustment() {
            // A JS SDK's millisecond clock: a child starts 2 ms before its root and another
            // ends 3 ms after it (one service: the adjustment leaves them).
            let sk = TraceSkeleton::build(
                TraceSummary::default(),
                vec![
                    input("root", None, "agent", SpanKind::Internal, 0, 100),
                    input("early", Some("root"), "agent", SpanKind::Internal, -2, 50),
                    input("late", Some("root"), "agent", SpanKind::Internal, 60, 103),
                ],
            );
            for skew in [true, false] {
                let t = TraceTiming::compute(&sk, skew);
                // Times are after the earliest start (the early child's).
                assert_eq!(t.extent_us, (0, 105_000));
                assert_eq!(t.duration_us(), 105_000);
                for i in 0..sk.spans.len() {
                    let (s, e) = t.extent_us(&sk, i);
                    assert!(t.extent_us.0 <= s && e <= t.extent_us.1);
                }
            }

            // Another service's clock 30 ms behind: its server span says -15..25 ms. As
            // recorded the trace spans 115 ms; adjusted, the span sits inside its client and
            // the trace is its root's 100 ms.
            let sk = TraceSkeleton::build(
                TraceSummary::default(),
                vec![
                    input("root", None, "gateway", SpanKind::Server, 0, 100),
                    input("call", Some("root"), "gateway", SpanKind::Client, 10, 70),
                    input("serve", Some("call"), "orders", SpanKind::Server, -15, 25),
                ],
            );
            let on = TraceTiming::compute(&sk, true);
            assert_eq!(on.extent_us, (15_000, 115_000));
            assert_eq!(on.duration_us(), 100_000);
            let off = TraceTiming::compute(&sk, false);
            assert_eq!(off.extent_us, (0, 115_000));
            // No spans: the summary's time.
            let empty = TraceSkeleton::build(
                TraceSummary {
                    start_ns: 5 * MS,
                    end_ns: 12 * MS,
                    ..TraceSummary::default()
                },
                Vec::new(),
            );
            assert_eq!(TraceTiming::compute(&empty, true).extent_us, (0, 7_000));
        }

        #[test]
        fn client_server_pairs_across_services_carry_their_gaps() {
            let sk = skewed();
            let (call, serve) = (index(&sk, "call"), index(&sk, "serve"));
            let t = TraceTiming::compute(&sk, true);
            assert_eq!(t.call_role(call), CallRole::Client { server: serve });
            assert_eq!(
                t.call_role(serve),
                CallRole::Server {
                    client: call,
                    gap: NetworkGap {
                        request: 10_000,
                        response: 10_000
                    }
                }
            );
            assert_eq!(t.call_role(index(&sk, "db")), CallRole::None);
            // Unadjusted, the gaps show the disagreeing clocks.
            let off = TraceTiming::compute(&sk, false);
            assert_eq!(
                off.call_role(serve),
                CallRole::Server {
                    client: call,
                    gap: NetworkGap {
                        request: -10_000,
                        response: 30_000
                    }
                }
            );
        }

        #[test]
        fn the_critical_path_lists_spans_in_order_with_shares_of_the_whole() {
            let sk = skewed();
            let t = TraceTiming::compute(&sk, true);
            assert_eq!(t.critical_root, Some(index(&sk, "root")));
            assert_eq!(t.critical_total_us, 100_000);
            let order: Vec<&str> = t
                .critical_spans
                .iter()
                .map(|&(i, _)| sk.spans[i].span_id())
                .collect();
            // root 0..10, call 10..20, serve 20..25, db 25..55, serve 55..60, call 60..70,
            // root 70..75, after 75..90, root 90..100.
            assert_eq!(order, vec!["root", "call", "serve", "db", "after"]);
            let shares: f64 = t
                .critical_spans
                .iter()
                .map(|&(i, _)| t.critical_share(i))
                .sum();
            assert!((shares - 1.0).abs() < 1e-9);
            assert_eq!(t.critical_us(index(&sk, "db")), 30_000);
            let root_sections = t.critical_sections(index(&sk, "root"));
            assert_eq!(root_sections.len(), 3);
            assert!(root_sections.windows(2).all(|w| w[0].start < w[1].start));
            assert_eq!(t.extent_us, (0, 100_000));
        }
    }
}
