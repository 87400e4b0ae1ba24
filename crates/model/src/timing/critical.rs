//! The critical path: the chain of spans a trace's end waited on, found as Jaeger does.
//!
//! [`CriticalPath`] is what the trace page shows, computed apart from [`super::TraceTiming`]
//! (only when the path is shown): its sections are kept per span in one array (no sort of the
//! sections: the walk finds them latest first, and two walks place them), and the walk's own
//! arrays are a few integers a span.

use super::{Children, SpanTiming, TraceTiming};
use crate::trace::TraceSkeleton;

const NONE: u32 = u32::MAX;

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
    let parents: Vec<u32> = spans
        .iter()
        .map(|s| s.parent.map_or(NONE, |p| p as u32))
        .collect();
    let times = spans.iter().map(|s| (s.start, s.end)).collect();
    let mut sections = Vec::new();
    if let Some(walk) = Walk::new(parents, times, root) {
        walk.run(&mut |span, start, end| sections.push(CriticalSection { span, start, end }));
    }
    sections
}

/// The spans' parents and clipped windows, ready to be walked from `root`.
struct Walk {
    parents: Vec<u32>,
    /// Per span: its time clipped into its parent's clipped window (valid where `inside`).
    window: Vec<(i64, i64)>,
    /// The span is on the root's tree and overlaps its parent's window.
    inside: Vec<bool>,
    /// Children, each span's sorted latest end first (ties: input order), those outside last.
    children: Children,
    root: usize,
}

impl Walk {
    /// `parents[i]`: the parent's index or `NONE`; `times[i]`: start and end. `None` when the
    /// root is out of range.
    fn new(parents: Vec<u32>, mut window: Vec<(i64, i64)>, root: usize) -> Option<Walk> {
        let n = parents.len();
        if root >= n {
            return None;
        }
        let parent = |i: usize| Some(parents[i] as usize).filter(|&p| p < n && p != i);
        let mut children = Children::of_parents(n, parent);
        // Clip every span into its parent's (clipped) window; drop those entirely outside.
        let mut inside = vec![false; n];
        let (rs, re) = window[root];
        window[root] = (rs, re.max(rs));
        inside[root] = true;
        let mut visited = vec![false; n];
        let mut stack = vec![root];
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut visited[i], true) || !inside[i] {
                continue;
            }
            let (ps, pe) = window[i];
            for &c in children.of(i) {
                let c = c as usize;
                let (cs, ce) = window[c];
                let (s, e) = (cs.max(ps), ce.min(pe));
                if s <= e && cs <= pe && ce >= ps && !visited[c] {
                    window[c] = (s, e);
                    inside[c] = true;
                    stack.push(c);
                }
            }
        }
        drop(visited);
        // Only spans inside are ever explained: only their children need an order.
        for i in (0..n).filter(|&i| inside[i]) {
            crate::sort::sort_by_key(children.of_mut(i), |&c| {
                let c = c as usize;
                if inside[c] {
                    (false, std::cmp::Reverse(window[c].1), c)
                } else {
                    (true, std::cmp::Reverse(0), c)
                }
            });
        }
        Some(Walk {
            parents,
            window,
            inside,
            children,
            root,
        })
    }

    /// Walks back from the root's end, handing each section to `emit` (span, start, end),
    /// latest first. Each call walks afresh.
    fn run(&self, emit: &mut dyn FnMut(usize, i64, i64)) {
        let n = self.parents.len();
        // Per span: how many of its sorted children have been passed over or taken.
        let mut next = vec![0u32; n];
        let mut current = self.root;
        // The time up to which the current span is being explained.
        let mut until = self.window[self.root].1;
        let mut steps = 0;
        loop {
            steps += 1;
            if steps > 4 * n + 4 || !self.inside[current] {
                break; // malformed input; never loop forever
            }
            let start = self.window[current].0;
            // The child that finished last, at or before `until`; children ending later can
            // never qualify again (`until` only decreases for this span).
            let kids = self.children.of(current);
            let mut k = next[current] as usize;
            while k < kids.len()
                && self.inside[kids[k] as usize]
                && self.window[kids[k] as usize].1 > until
            {
                k += 1;
            }
            let last_child = kids.get(k).map(|&c| c as usize).filter(|&c| self.inside[c]);
            next[current] = (k + usize::from(last_child.is_some())) as u32;
            match last_child {
                Some(c) => {
                    let e = self.window[c].1;
                    if e < until {
                        emit(current, e, until);
                    }
                    current = c;
                    until = e;
                }
                None => {
                    if start < until {
                        emit(current, start, until);
                    }
                    // Back up to the parent, explaining the time before this span started.
                    let parent = self.parents[current] as usize;
                    if current == self.root || parent >= n {
                        break;
                    }
                    until = until.min(start);
                    current = parent;
                }
            }
        }
    }
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

/// A trace's critical path as the trace page shows it (times in µs after
/// `TraceSkeleton::start_ns`, adjusted as the timing it was computed from).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CriticalPath {
    /// The span whose critical path this is (the longest root), and its duration.
    pub root: Option<usize>,
    pub total_us: i64,
    /// Span `i`'s sections are `sections[first[i]..first[i + 1]]`, earliest first (empty
    /// when no span is on the path).
    first: Vec<u32>,
    sections: Vec<(i64, i64)>,
    /// The spans on the path in the order the trace ran them (by their first section).
    order: Vec<u32>,
}

impl CriticalPath {
    /// The critical path of the longest root (a true root before an orphan), with the times
    /// `timing` shows.
    pub fn compute(skeleton: &TraceSkeleton, timing: &TraceTiming) -> CriticalPath {
        let spans = &skeleton.spans;
        let n = spans.len();
        let parents: Vec<u32> = (0..n)
            .map(|i| {
                spans[i]
                    .parent()
                    .filter(|&p| p < n && p != i)
                    .map_or(NONE, |p| p as u32)
            })
            .collect();
        let times: Vec<(i64, i64)> = (0..n).map(|i| timing.extent_us(skeleton, i)).collect();
        let root = (0..n).filter(|&i| parents[i] == NONE).max_by_key(|&i| {
            let orphan = skeleton.orphans.contains_key(&(i as u32));
            let (start, end) = times[i];
            (!orphan, (end - start).max(0), std::cmp::Reverse(i))
        });
        let Some(walk) = root.and_then(|r| Walk::new(parents, times, r)) else {
            return CriticalPath::default();
        };
        let (start, end) = walk.window[walk.root];
        // First walk: how many sections each span has; second: each in its place, filled
        // from the back (the walk finds them latest first).
        let mut first = vec![0u32; n + 1];
        walk.run(&mut |span, _, _| first[span + 1] += 1);
        for i in 0..n {
            first[i + 1] += first[i];
        }
        let mut fill: Vec<u32> = first[1..].to_vec();
        let mut sections = vec![(0i64, 0i64); first[n] as usize];
        let mut order = Vec::new();
        walk.run(&mut |span, s, e| {
            fill[span] -= 1;
            sections[fill[span] as usize] = (s, e);
            if fill[span] == first[span] {
                order.push(span as u32);
            }
        });
        order.reverse();
        CriticalPath {
            root,
            total_us: end - start,
            first,
            sections,
            order,
        }
    }

    /// A span's stretches on the critical path (start, end), earliest first.
    pub fn sections(&self, span: usize) -> &[(i64, i64)] {
        match (self.first.get(span), self.first.get(span + 1)) {
            (Some(&from), Some(&to)) => &self.sections[from as usize..to as usize],
            _ => &[],
        }
    }

    /// A span's time on the critical path.
    pub fn time_us(&self, span: usize) -> i64 {
        self.sections(span).iter().map(|(s, e)| e - s).sum()
    }

    /// A span's share of the critical root's duration (0..1).
    pub fn share(&self, span: usize) -> f64 {
        if self.total_us <= 0 {
            0.0
        } else {
            self.time_us(span) as f64 / self.total_us as f64
        }
    }

    /// The spans on the path, in the order the trace ran them.
    pub fn spans(&self) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.order.iter().map(|&i| i as usize)
    }
}
