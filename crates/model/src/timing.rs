//! Timing algorithms over a trace's spans: clock-skew adjustment and the critical path.
//!
//! Both work on `SpanTiming`s indexed like `TraceSkeleton::spans` (parents by index), in any
//! time unit, so the dashboard runs them on the skeleton it already holds.

/// What the algorithms need of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanTiming {
    pub parent: Option<usize>,
    pub start: i64,
    pub end: i64,
    /// Which clock the span was timed by: spans of one service share a clock.
    pub service: u32,
}

impl SpanTiming {
    pub fn duration(&self) -> i64 {
        (self.end - self.start).max(0)
    }
}

/// Children of each span, in input order.
fn children_of(spans: &[SpanTiming]) -> Vec<Vec<usize>> {
    let mut children = vec![Vec::new(); spans.len()];
    for (i, s) in spans.iter().enumerate() {
        if let Some(p) = s.parent.filter(|&p| p < spans.len() && p != i) {
            children[p].push(i);
        }
    }
    children
}

/// Spans in parent-before-child order (roots first), visiting each span once even if the
/// parent links contain a cycle.
fn top_down(spans: &[SpanTiming], children: &[Vec<usize>]) -> Vec<usize> {
    let mut order = Vec::with_capacity(spans.len());
    let mut seen = vec![false; spans.len()];
    let roots = spans
        .iter()
        .enumerate()
        .filter(|(i, s)| s.parent.is_none_or(|p| p >= spans.len() || p == *i))
        .map(|(i, _)| i);
    let mut stack: Vec<usize> = roots.collect();
    stack.reverse();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        order.push(i);
        stack.extend(children[i].iter().rev().copied());
    }
    order
}

/// Clock-skew adjustment, as Jaeger does it: where a span was timed by another clock than its
/// parent (another service), and it starts before or ends after its parent, it is shifted to
/// sit centred inside the parent; its descendants on the same clock move with it. A child
/// longer than its parent is only moved right, to start with it. Spans that fit are left alone.
///
/// Returns the shift to add to each span's start and end (0 for most).
pub fn clock_skew_shifts(spans: &[SpanTiming]) -> Vec<i64> {
    let children = children_of(spans);
    let mut shift = vec![0i64; spans.len()];
    for i in top_down(spans, &children) {
        let Some(p) = spans[i].parent.filter(|&p| p < spans.len() && p != i) else {
            continue;
        };
        let (child, parent) = (spans[i], spans[p]);
        if child.service == parent.service {
            shift[i] = shift[p];
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
/// path is the sum of its sections.
pub fn critical_path(spans: &[SpanTiming], root: usize) -> Vec<CriticalSection> {
    if root >= spans.len() {
        return Vec::new();
    }
    let children = children_of(spans);
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
        for &c in &children[i] {
            let (s, e) = (spans[c].start.max(ps), spans[c].end.min(pe));
            if s <= e && spans[c].start <= pe && spans[c].end >= ps {
                window[c] = Some((s, e));
                stack.push(c);
            }
        }
    }

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
        // The child that finished last, at or before `until`.
        let last_child = children[current]
            .iter()
            .filter_map(|&c| window[c].map(|(s, e)| (c, s, e)))
            .filter(|&(_, _, e)| e <= until)
            .max_by_key(|&(c, _, e)| (e, std::cmp::Reverse(c)));
        match last_child {
            Some((c, _, e)) => {
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
                until = start;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn span(parent: Option<usize>, start: i64, end: i64, service: u32) -> SpanTiming {
        SpanTiming {
            parent,
            start,
            end,
            service,
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
}
