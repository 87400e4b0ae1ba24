//! The span tree of a trace skeleton, for the trace explorer: built once in pre-order with
//! subtree sizes, so that everything the page does afterwards is proportional to what is on
//! screen, not to the trace.
//!
//! - [`TraceTree`]: every node (span, or a placeholder for a parent that never arrived) at a
//!   *position* in depth-first pre-order, children in start order, with its depth, parent and
//!   subtree size. A node's descendants are the positions `pos + 1 .. pos + size`.
//! - [`TreeView`]: collapse state and the visible rows (positions, ascending). Collapsing a node
//!   removes one contiguous range of rows; expanding it inserts only its newly visible
//!   descendants, skipping collapsed subtrees whole.
//! - [`find`]: spans whose name, service, type or id match a query, and the rows to keep when
//!   only matches (and their ancestors) are shown.

use crate::trace::TraceSkeleton;

mod find;
pub use self::find::{find, find_with, keep_matches, span_index, step_match};

const NONE: u32 = u32::MAX;

/// What sits at a tree position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// A span: its index in `TraceSkeleton::spans`.
    Span(usize),
    /// A stand-in for a parent span that never arrived: its index in
    /// [`TraceTree::placeholders`]; its children are the orphans that name it.
    Missing(usize),
}

/// A parent span that never arrived, shown so that its orphans are not dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// The span id the orphans name as their parent.
    pub parent_id: String,
    /// The time its orphans cover (µs after the skeleton's start).
    pub start_us: i64,
    pub end_us: i64,
}

/// A trace's spans as a tree in depth-first pre-order. Built without recursion (a 100k-deep
/// chain is fine) and total on malformed input: a parent index out of range makes a root, and
/// spans caught in a parent cycle are shown as roots after everything else.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceTree {
    /// Per position: the span index, or `span_count + placeholder index`. Empty when every
    /// position holds the span of its own index (spans in display order, as the binary
    /// skeleton sends them, and no placeholder): then `pos_of_span` is empty too.
    node: Vec<u32>,
    depth: Vec<u32>,
    /// Subtree size, the node itself included.
    size: Vec<u32>,
    /// The parent's position, or `NONE` for a root.
    parent: Vec<u32>,
    /// Number of direct children.
    children: Vec<u32>,
    /// Span index → position.
    pos_of_span: Vec<u32>,
    span_count: usize,
    placeholders: Vec<Placeholder>,
    roots: usize,
    max_depth: u32,
}

impl TraceTree {
    pub fn build(skeleton: &TraceSkeleton) -> TraceTree {
        TraceTree::build_in_display_order(skeleton)
            .unwrap_or_else(|| TraceTree::build_any(skeleton))
    }

    /// The tree of spans that are already in display order, as the binary skeleton sends
    /// them (every span's parent is an earlier span still open: the one before it or one of
    /// that one's ancestors) and have no missing parent: one pass, with neither child lists
    /// nor a walk, which on a 100k-span trace is most of the build's time. `None` for spans
    /// in any other order.
    fn build_in_display_order(skeleton: &TraceSkeleton) -> Option<TraceTree> {
        if !skeleton.orphans.is_empty() {
            return None;
        }
        let spans = &skeleton.spans;
        let n = spans.len();
        let mut depth: Vec<u32> = Vec::with_capacity(n);
        let mut parent: Vec<u32> = Vec::with_capacity(n);
        let mut size = vec![1u32; n];
        let mut children = vec![0u32; n];
        // The spans whose subtrees are still open, root first.
        let mut open: Vec<u32> = Vec::new();
        let (mut roots, mut max_depth) = (0, 0);
        for (i, span) in spans.iter().enumerate() {
            match span.parent().filter(|&p| p < n && p != i) {
                None => {
                    for a in open.drain(..) {
                        size[a as usize] = (i - a as usize) as u32;
                    }
                    roots += 1;
                    depth.push(0);
                    parent.push(NONE);
                }
                Some(p) => {
                    while *open.last()? as usize != p {
                        let a = open.pop()? as usize;
                        size[a] = (i - a) as u32;
                    }
                    let d = depth[p] + 1;
                    max_depth = max_depth.max(d);
                    depth.push(d);
                    parent.push(p as u32);
                    children[p] += 1;
                }
            }
            open.push(i as u32);
        }
        for a in open {
            size[a as usize] = (n - a as usize) as u32;
        }
        Some(TraceTree {
            node: Vec::new(),
            depth,
            size,
            parent,
            children,
            pos_of_span: Vec::new(),
            span_count: n,
            placeholders: Vec::new(),
            roots,
            max_depth,
        })
    }

    /// The tree of spans in any order (children sorted by span index), missing parents
    /// stood in for.
    fn build_any(skeleton: &TraceSkeleton) -> TraceTree {
        let spans = &skeleton.spans;
        let n = spans.len();

        // Orphans grouped by the parent id they name, groups in order of their first orphan.
        let mut placeholders: Vec<Placeholder> = Vec::new();
        let mut orphan_group = vec![NONE; n];
        {
            let mut group_of: std::collections::HashMap<&str, u32> =
                std::collections::HashMap::new();
            let mut orphans: Vec<(usize, &str)> = skeleton
                .orphans
                .iter()
                .map(|(&i, id)| (i as usize, id.as_str()))
                .filter(|&(i, _)| i < n && spans[i].parent().is_none())
                .collect();
            crate::sort::sort_by_key(&mut orphans, |&(i, _)| i);
            for (i, id) in orphans {
                let g = *group_of.entry(id).or_insert_with(|| {
                    placeholders.push(Placeholder {
                        parent_id: id.to_string(),
                        start_us: i64::MAX,
                        end_us: i64::MIN,
                    });
                    (placeholders.len() - 1) as u32
                });
                orphan_group[i] = g;
                let p = &mut placeholders[g as usize];
                p.start_us = p.start_us.min(spans[i].start_us());
                p.end_us = p.end_us.max(spans[i].end_us());
            }
        }
        let total = n + placeholders.len();

        // Each node's parent node (span or placeholder), then children in compact
        // (CSR) form: span indexes ascend, so children come in start order.
        let parent_node: Vec<u32> = (0..n)
            .map(|i| match spans[i].parent() {
                Some(p) if p < n && p != i => p as u32,
                _ if orphan_group[i] != NONE => (n as u32) + orphan_group[i],
                _ => NONE,
            })
            .collect();
        drop(orphan_group);
        let mut first = vec![0u32; total + 1];
        for &p in &parent_node {
            if p != NONE {
                first[p as usize + 1] += 1;
            }
        }
        for i in 0..total {
            first[i + 1] += first[i];
        }
        let mut fill = first.clone();
        let mut kids = vec![0u32; n];
        for (i, &p) in parent_node.iter().enumerate() {
            if p != NONE {
                kids[fill[p as usize] as usize] = i as u32;
                fill[p as usize] += 1;
            }
        }
        drop(fill);
        // The roots in index order, so that the parents can go before the walk (at a million
        // spans, each array dropped early is 4 MB less at the peak of wasm memory).
        let roots: Vec<u32> = (0..n as u32)
            .filter(|&i| parent_node[i as usize] == NONE)
            .collect();
        drop(parent_node);
        let children_of = |node: usize| &kids[first[node] as usize..first[node + 1] as usize];

        let mut tree = TraceTree {
            node: Vec::with_capacity(total),
            depth: Vec::with_capacity(total),
            size: Vec::new(),
            parent: Vec::with_capacity(total),
            children: Vec::new(),
            pos_of_span: vec![NONE; n],
            span_count: n,
            placeholders,
            roots: 0,
            max_depth: 0,
        };
        let mut seen = vec![false; total];
        let mut stack: Vec<(u32, u32, u32)> = Vec::new();
        let mut visit = |root: usize, tree: &mut TraceTree, seen: &mut Vec<bool>| {
            if seen[root] {
                return;
            }
            tree.roots += 1;
            stack.push((root as u32, 0, NONE));
            while let Some((node, depth, parent)) = stack.pop() {
                let node_i = node as usize;
                if std::mem::replace(&mut seen[node_i], true) {
                    continue;
                }
                let pos = tree.node.len() as u32;
                if node_i < n {
                    tree.pos_of_span[node_i] = pos;
                }
                tree.node.push(node);
                tree.depth.push(depth);
                tree.parent.push(parent);
                let kids = children_of(node_i);
                tree.max_depth = tree.max_depth.max(depth);
                for &c in kids.iter().rev() {
                    stack.push((c, depth + 1, pos));
                }
            }
        };
        for &i in &roots {
            visit(i as usize, &mut tree, &mut seen);
        }
        for g in n..total {
            visit(g, &mut tree, &mut seen);
        }
        // Whatever is left sits in a parent cycle.
        for i in 0..n {
            visit(i, &mut tree, &mut seen);
        }
        drop((roots, seen, stack, kids, first));
        let len = tree.node.len();
        let in_order = tree.node.iter().enumerate().all(|(p, &v)| p == v as usize);
        if in_order && tree.placeholders.is_empty() {
            tree.node = Vec::new();
            tree.pos_of_span = Vec::new();
        }
        // Sizes and child counts from the placed nodes (in a parent cycle, a node's listed
        // child may have been placed elsewhere first).
        let mut size = vec![1u32; len];
        let mut placed = vec![0u32; len];
        for pos in (0..len).rev() {
            let p = tree.parent[pos];
            if p != NONE {
                size[p as usize] += size[pos];
                placed[p as usize] += 1;
            }
        }
        tree.size = size;
        tree.children = placed;
        tree
    }

    /// Number of positions (spans and placeholders).
    pub fn len(&self) -> usize {
        self.size.len()
    }

    pub fn is_empty(&self) -> bool {
        self.size.is_empty()
    }

    pub fn node(&self, pos: usize) -> Node {
        let v = if self.node.is_empty() {
            assert!(pos < self.size.len(), "position {pos} out of the tree");
            pos
        } else {
            self.node[pos] as usize
        };
        if v < self.span_count {
            Node::Span(v)
        } else {
            Node::Missing(v - self.span_count)
        }
    }

    /// The span at a position (none for a placeholder).
    pub fn span_at(&self, pos: usize) -> Option<usize> {
        match self.node(pos) {
            Node::Span(i) => Some(i),
            Node::Missing(_) => None,
        }
    }

    pub fn position_of(&self, span: usize) -> Option<usize> {
        if self.node.is_empty() {
            return (span < self.size.len()).then_some(span);
        }
        self.pos_of_span
            .get(span)
            .filter(|&&p| p != NONE)
            .map(|&p| p as usize)
    }

    pub fn depth(&self, pos: usize) -> usize {
        self.depth[pos] as usize
    }

    pub fn max_depth(&self) -> usize {
        self.max_depth as usize
    }

    /// The node and all its descendants.
    pub fn subtree_size(&self, pos: usize) -> usize {
        self.size[pos] as usize
    }

    /// One past the last descendant's position.
    pub fn subtree_end(&self, pos: usize) -> usize {
        pos + self.size[pos] as usize
    }

    pub fn parent(&self, pos: usize) -> Option<usize> {
        let p = self.parent[pos];
        (p != NONE).then_some(p as usize)
    }

    pub fn child_count(&self, pos: usize) -> usize {
        self.children[pos] as usize
    }

    pub fn has_children(&self, pos: usize) -> bool {
        self.size[pos] > 1
    }

    /// Direct children's positions, in order.
    pub fn children(&self, pos: usize) -> impl Iterator<Item = usize> + '_ {
        let end = self.subtree_end(pos);
        let mut next = pos + 1;
        std::iter::from_fn(move || {
            (next < end).then(|| {
                let c = next;
                next += self.size[c] as usize;
                c
            })
        })
    }

    /// Parent, grandparent… up to the root.
    pub fn ancestors(&self, pos: usize) -> impl Iterator<Item = usize> + '_ {
        let mut at = self.parent[pos];
        std::iter::from_fn(move || {
            (at != NONE).then(|| {
                let p = at as usize;
                at = self.parent[p];
                p
            })
        })
    }

    /// Number of top-level nodes (roots, orphan placeholders, cycle entries).
    pub fn root_count(&self) -> usize {
        self.roots
    }

    pub fn placeholders(&self) -> &[Placeholder] {
        &self.placeholders
    }

    /// The time a node covers (µs after the skeleton's start).
    pub fn extent_us(&self, skeleton: &TraceSkeleton, pos: usize) -> (i64, i64) {
        match self.node(pos) {
            Node::Span(i) => {
                let s = &skeleton.spans[i];
                (s.start_us(), s.end_us())
            }
            Node::Missing(g) => {
                let p = &self.placeholders[g];
                (p.start_us, p.end_us)
            }
        }
    }

    /// A span's self time: its duration minus the time covered by at least one direct child
    /// (children clipped to the span, overlaps counted once).
    pub fn self_time_us(&self, skeleton: &TraceSkeleton, pos: usize) -> i64 {
        let (start, end) = self.extent_us(skeleton, pos);
        let mut spans: Vec<(i64, i64)> = self
            .children(pos)
            .map(|c| self.extent_us(skeleton, c))
            .map(|(s, e)| (s.max(start), e.min(end)))
            .filter(|(s, e)| s < e)
            .collect();
        crate::sort::sort(&mut spans);
        let mut covered = 0;
        let mut cursor = start;
        for (s, e) in spans {
            let s = s.max(cursor);
            if e > s {
                covered += e - s;
                cursor = e;
            }
        }
        (end - start - covered).max(0)
    }
}

/// Which nodes are collapsed, optionally a filter, and the rows that are visible as a result:
/// positions in ascending order (pre-order is display order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TreeView {
    collapsed: Vec<bool>,
    /// When set, only these positions may show (matches and their ancestors).
    keep: Option<Vec<bool>>,
    rows: Vec<u32>,
}

impl TreeView {
    /// Everything expanded.
    pub fn new(tree: &TraceTree) -> TreeView {
        let mut view = TreeView {
            collapsed: vec![false; tree.len()],
            keep: None,
            rows: Vec::new(),
        };
        view.recompute(tree);
        view
    }

    /// The visible rows (positions, ascending).
    pub fn rows(&self) -> &[u32] {
        &self.rows
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The position shown at a row.
    pub fn position(&self, row: usize) -> Option<usize> {
        self.rows.get(row).map(|&p| p as usize)
    }

    /// The row showing a position, if it is visible.
    pub fn row_of(&self, pos: usize) -> Option<usize> {
        self.rows.binary_search(&(pos as u32)).ok()
    }

    pub fn is_collapsed(&self, pos: usize) -> bool {
        self.collapsed.get(pos).copied().unwrap_or(false)
    }

    pub fn is_filtered(&self) -> bool {
        self.keep.is_some()
    }

    fn kept(&self, pos: usize) -> bool {
        self.keep.as_ref().is_none_or(|k| k[pos])
    }

    /// The visible nodes under `pos` (not `pos` itself), skipping collapsed and filtered-out
    /// subtrees whole: work proportional to the rows produced.
    fn visible_under(&self, tree: &TraceTree, pos: usize, out: &mut Vec<u32>) {
        let end = tree.subtree_end(pos);
        let mut at = pos + 1;
        while at < end {
            if !self.kept(at) {
                at = tree.subtree_end(at);
                continue;
            }
            out.push(at as u32);
            at = if self.collapsed[at] {
                tree.subtree_end(at)
            } else {
                at + 1
            };
        }
    }

    /// Rebuilds the rows from the collapse state (after a change that touches every row).
    pub fn recompute(&mut self, tree: &TraceTree) {
        let mut rows = Vec::new();
        let mut at = 0;
        while at < tree.len() {
            if !self.kept(at) {
                at = tree.subtree_end(at);
                continue;
            }
            rows.push(at as u32);
            at = if self.collapsed[at] {
                tree.subtree_end(at)
            } else {
                at + 1
            };
        }
        self.rows = rows;
    }

    /// Collapses or expands one node. Only its own range of rows changes: collapsing drains
    /// the visible descendants (found by binary search), expanding inserts them.
    pub fn set_collapsed(&mut self, tree: &TraceTree, pos: usize, collapsed: bool) {
        if pos >= tree.len() || self.collapsed[pos] == collapsed || !tree.has_children(pos) {
            return;
        }
        self.collapsed[pos] = collapsed;
        let Some(row) = self.row_of(pos) else {
            return; // hidden under a collapsed ancestor: only its state changes
        };
        if collapsed {
            let end = tree.subtree_end(pos) as u32;
            let last = self.rows.partition_point(|&p| p < end);
            self.rows.drain(row + 1..last);
        } else {
            let mut under = Vec::new();
            self.visible_under(tree, pos, &mut under);
            self.rows.splice(row + 1..row + 1, under);
        }
    }

    pub fn toggle(&mut self, tree: &TraceTree, pos: usize) {
        let collapsed = self.is_collapsed(pos);
        self.set_collapsed(tree, pos, !collapsed);
    }

    pub fn expand_all(&mut self, tree: &TraceTree) {
        self.collapsed.iter_mut().for_each(|c| *c = false);
        self.recompute(tree);
    }

    /// Collapses every node at `depth` or deeper (0: only the roots show); shallower nodes
    /// are expanded.
    pub fn collapse_to_depth(&mut self, tree: &TraceTree, depth: usize) {
        for pos in 0..tree.len() {
            self.collapsed[pos] = tree.depth(pos) >= depth && tree.has_children(pos);
        }
        self.recompute(tree);
    }

    /// Expands the ancestors of `pos` so that it is visible (if the filter keeps it).
    /// Returns its row.
    pub fn reveal(&mut self, tree: &TraceTree, pos: usize) -> Option<usize> {
        if pos >= tree.len() {
            return None;
        }
        let mut hidden: Vec<usize> = tree.ancestors(pos).filter(|&a| self.collapsed[a]).collect();
        // Top-down, so each expansion inserts rows under an already visible node.
        hidden.reverse();
        for a in hidden {
            self.set_collapsed(tree, a, false);
        }
        self.row_of(pos)
    }

    /// Shows only the kept positions (see [`keep_matches`]), or everything with `None`.
    pub fn set_filter(&mut self, tree: &TraceTree, keep: Option<Vec<bool>>) {
        self.keep = keep.filter(|k| k.len() == tree.len());
        self.recompute(tree);
    }
}

#[cfg(test)]
mod tests;
