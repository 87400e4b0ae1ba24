//! The span tree of a trace skeleton, flattened into display rows (depth-first, children in
//! start order), for the trace page's indented list.

use skein_model::TraceSkeleton;

/// One visible row: the span's index in `TraceSkeleton::spans` and its depth in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeRow {
    pub index: usize,
    pub depth: usize,
    /// Number of direct children.
    pub children: usize,
}

/// Flattens the skeleton depth-first from its roots (spans with no parent, and orphans),
/// keeping at most `cap` rows. Returns the rows and the number of spans in the tree.
///
/// Never recurses (a 100k-span chain must not overflow the stack) and survives malformed
/// input: out-of-range parents count as roots, and spans caught in a parent cycle are shown
/// as roots at the end.
pub fn flatten(skeleton: &TraceSkeleton, cap: usize) -> (Vec<TreeRow>, usize) {
    let n = skeleton.spans.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, span) in skeleton.spans.iter().enumerate() {
        match span.parent() {
            Some(p) if p < n && p != i => children[p].push(i),
            _ => roots.push(i),
        }
    }
    let mut rows = Vec::with_capacity(n.min(cap));
    let mut seen = vec![false; n];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut visit = |start: usize, rows: &mut Vec<TreeRow>, seen: &mut Vec<bool>| {
        stack.push((start, 0));
        while let Some((i, depth)) = stack.pop() {
            if seen[i] {
                continue;
            }
            seen[i] = true;
            if rows.len() < cap {
                rows.push(TreeRow {
                    index: i,
                    depth,
                    children: children[i].len(),
                });
            }
            for &c in children[i].iter().rev() {
                stack.push((c, depth + 1));
            }
        }
    };
    for &r in &roots {
        visit(r, &mut rows, &mut seen);
    }
    for i in 0..n {
        if !seen[i] {
            visit(i, &mut rows, &mut seen);
        }
    }
    (rows, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use skein_model::{SkeletonSpan, TraceSkeleton};

    fn skeleton(parents: &[i32]) -> TraceSkeleton {
        TraceSkeleton {
            spans: parents
                .iter()
                .enumerate()
                .map(|(i, &p)| SkeletonSpan(format!("s{i}"), p, 0, 0, 0, i as i64, 1, 0, 0))
                .collect(),
            ..TraceSkeleton::default()
        }
    }

    fn order(rows: &[TreeRow]) -> Vec<(usize, usize)> {
        rows.iter().map(|r| (r.index, r.depth)).collect()
    }

    #[test]
    fn depth_first_in_start_order() {
        // 0 ─┬─ 1 ── 3
        //    └─ 2
        let (rows, total) = flatten(&skeleton(&[-1, 0, 0, 1]), 100);
        assert_eq!(total, 4);
        assert_eq!(order(&rows), vec![(0, 0), (1, 1), (3, 2), (2, 1)]);
        assert_eq!(rows[0].children, 2);
    }

    #[test]
    fn orphans_bad_parents_and_cycles_still_show() {
        // 1 is an orphan root, 2 points past the end, 3 and 4 form a cycle.
        let (rows, total) = flatten(&skeleton(&[-1, -1, 99, 4, 3]), 100);
        assert_eq!(total, 5);
        let mut shown: Vec<usize> = rows.iter().map(|r| r.index).collect();
        shown.sort();
        assert_eq!(shown, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn capped_and_deep_chains_do_not_overflow() {
        let parents: Vec<i32> = (0..100_000).map(|i| i - 1).collect();
        let (rows, total) = flatten(&skeleton(&parents), 2_000);
        assert_eq!(total, 100_000);
        assert_eq!(rows.len(), 2_000);
        assert_eq!(rows[1_999].depth, 1_999);
    }
}
