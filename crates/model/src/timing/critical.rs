//! The critical path: the chain of spans a trace's end waited on, found as Jaeger does.

use super::{Children, SpanTiming};

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
