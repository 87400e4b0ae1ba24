//! A skeleton's spans in display order: the tree's depth-first pre-order (the top of the tree
//! first, children in start order, orphans under their missing parent's stand-in, spans in a
//! parent cycle last), as the trace page shows its rows. The binary wire form sends the spans
//! in this order, so that its first chunk is the first screen of rows.

use crate::trace::TraceSkeleton;
use crate::tree::TraceTree;

impl TraceSkeleton {
    /// The same trace with its spans in display order and its names and services in order of
    /// first use (so that the first spans need only the first names). Parents and orphans
    /// follow their spans; a skeleton already in this form comes back unchanged.
    pub fn in_display_order(&self) -> TraceSkeleton {
        self.clone().into_display_order()
    }

    /// [`in_display_order`](Self::in_display_order), the spans moved in place (a million
    /// spans are no second copy of themselves).
    pub fn into_display_order(mut self) -> TraceSkeleton {
        let tree = TraceTree::build(&self);
        let n = self.spans.len();
        // order[k]: the span shown k-th.
        let order: Vec<u32> = (0..tree.len())
            .filter_map(|p| tree.span_at(p))
            .map(|i| i as u32)
            .collect();
        drop(tree);
        let mut new_index = vec![u32::MAX; n];
        for (k, &i) in order.iter().enumerate() {
            new_index[i as usize] = k as u32;
        }
        // Each cycle of the permutation by swaps along it: position k takes span order[k].
        let mut placed = vec![false; n];
        for first in 0..n {
            let mut k = first;
            while !placed[k] {
                placed[k] = true;
                let next = order[k] as usize;
                if next != first {
                    self.spans.swap(k, next);
                }
                k = next;
            }
        }
        drop(placed);
        drop(order);
        let mut names = Renumber::new(self.names.len());
        let mut services = Renumber::new(self.services.len());
        for s in &mut self.spans {
            s.1 = s
                .parent()
                .and_then(|p| new_index.get(p))
                .map_or(-1, |&p| p as i32);
            s.2 = names.index(s.2);
            s.3 = services.index(s.3);
        }
        self.orphans = std::mem::take(&mut self.orphans)
            .into_iter()
            .filter_map(|(i, id)| Some((*new_index.get(i as usize)?, id)))
            .collect();
        self.names = names.values(&self.names);
        self.services = services.values(&self.services);
        self
    }
}

/// Indexes into a table, renumbered in order of first use (an index out of the table's range
/// is kept as it is, past the used ones: it still names nothing).
struct Renumber {
    new: Vec<u32>,
    used: Vec<u32>,
}

impl Renumber {
    fn new(len: usize) -> Renumber {
        Renumber {
            new: vec![u32::MAX; len],
            used: Vec::new(),
        }
    }

    fn index(&mut self, old: u32) -> u32 {
        let Some(slot) = self.new.get_mut(old as usize) else {
            return u32::MAX;
        };
        if *slot == u32::MAX {
            *slot = self.used.len() as u32;
            self.used.push(old);
        }
        *slot
    }

    fn values(&self, table: &[String]) -> Vec<String> {
        self.used
            .iter()
            .map(|&old| table[old as usize].clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::span::{SpanKind, SpanStatus, SpanType};
    use crate::trace::{SkeletonSpanInput, TraceSkeleton, TraceSummary};
    use crate::tree::TraceTree;

    fn input<'a>(
        id: &'a str,
        parent: Option<&'a str>,
        name: &'a str,
        start: i64,
    ) -> SkeletonSpanInput<'a> {
        SkeletonSpanInput {
            span_id: id,
            parent_span_id: parent,
            name,
            service: if start % 2 == 0 { "even" } else { "odd" },
            span_type: SpanType::Chain,
            start_ns: start * 1_000,
            end_ns: start * 1_000 + 50_000,
            status: SpanStatus::Unset,
            tokens: start,
            kind: SpanKind::Internal,
            cost: 0.0,
        }
    }

    #[test]
    fn spans_come_top_of_the_tree_first_with_their_parents_and_orphans() {
        // By start: root 0, a 1, b 2, a1 3, lost 4 (orphan), b1 5, lost2 6 (same missing parent).
        let sk = TraceSkeleton::build(
            TraceSummary::default(),
            vec![
                input("b1", Some("b"), "leaf", 5),
                input("a", Some("root"), "step", 1),
                input("root", None, "run", 0),
                input("lost", Some("gone"), "orphan", 4),
                input("b", Some("root"), "step", 2),
                input("a1", Some("a"), "leaf", 3),
                input("lost2", Some("gone"), "orphan", 6),
            ],
        );
        let shown = sk.in_display_order();
        let ids: Vec<String> = shown
            .spans
            .iter()
            .map(|s| s.span_id().to_string())
            .collect();
        assert_eq!(ids, ["root", "a", "a1", "b", "b1", "lost", "lost2"]);
        let parent_ids: Vec<Option<String>> = shown
            .spans
            .iter()
            .map(|s| s.parent().map(|p| shown.spans[p].span_id().to_string()))
            .collect();
        let none = None::<String>;
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            parent_ids,
            [
                none.clone(),
                some("root"),
                some("a"),
                some("root"),
                some("b"),
                none.clone(),
                none
            ]
        );
        assert_eq!(shown.names, ["run", "step", "leaf", "orphan"]);
        assert_eq!(shown.name_of(&shown.spans[2]), "leaf");
        assert_eq!(shown.service_of(&shown.spans[2]), "odd");
        assert_eq!(shown.spans[2].tokens(), 3);
        assert_eq!(
            shown
                .orphans
                .iter()
                .map(|(&i, p)| (i, p.as_str()))
                .collect::<Vec<_>>(),
            [(5, "gone"), (6, "gone")]
        );
        // The same rows as before, now at positions equal to their indexes.
        let tree = TraceTree::build(&shown);
        let spans: Vec<Option<usize>> = (0..tree.len()).map(|p| tree.span_at(p)).collect();
        assert_eq!(
            spans,
            [
                Some(0),
                Some(1),
                Some(2),
                Some(3),
                Some(4),
                None,
                Some(5),
                Some(6)
            ]
        );
        assert_eq!(shown.in_display_order(), shown);
        // Without orphans, every position holds the span of its index (no permutation kept).
        let mut whole = shown.clone();
        whole.spans.truncate(5);
        whole.orphans.clear();
        let tree = TraceTree::build(&whole);
        assert_eq!(tree.len(), 5);
        for i in 0..5 {
            assert_eq!((tree.span_at(i), tree.position_of(i)), (Some(i), Some(i)));
        }
        assert_eq!(tree.position_of(5), None);
        assert_eq!(tree.subtree_size(0), 5);
        assert_eq!(tree.children(0).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(
            TraceSkeleton::default().in_display_order(),
            TraceSkeleton::default()
        );
    }

    #[test]
    fn spans_moved_in_place_are_the_rows_the_tree_shows() {
        // A deep and wide tree whose start order is far from its display order (children
        // start in reverse), a cycle and an orphan: long permutation cycles.
        let ids: Vec<String> = (0..2_000).map(|i| format!("{i:016x}")).collect();
        let mut inputs: Vec<SkeletonSpanInput> = (0..ids.len())
            .map(|i| {
                let parent = (i > 0).then(|| ids[(i - 1) / 3].as_str());
                input(&ids[i], parent, ["a", "b", "c"][i % 3], (5_000 - i) as i64)
            })
            .collect();
        inputs[1_998].parent_span_id = Some(ids[1_999].as_str());
        inputs[1_999].parent_span_id = Some(ids[1_998].as_str());
        inputs[1_000].parent_span_id = Some("gone");
        let sk = TraceSkeleton::build(TraceSummary::default(), inputs);
        let tree = TraceTree::build(&sk);
        let shown = sk.clone().into_display_order();
        let rows: Vec<usize> = (0..tree.len()).filter_map(|p| tree.span_at(p)).collect();
        assert_eq!(rows.len(), sk.spans.len());
        for (k, &i) in rows.iter().enumerate() {
            let (a, b) = (&shown.spans[k], &sk.spans[i]);
            assert_eq!(a.0, b.0, "row {k}");
            assert_eq!(shown.name_of(a), sk.name_of(b));
            assert_eq!(
                a.parent().map(|p| shown.spans[p].0.clone()),
                b.parent().map(|p| sk.spans[p].0.clone())
            );
        }
        assert_eq!(shown, sk.in_display_order());
        assert_eq!(shown.orphans.len(), 1);
    }
}
