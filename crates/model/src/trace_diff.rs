//! Two traces' trees aligned row by row, for comparing them: spans are matched by their path
//! of names and types (siblings with the same name and type paired in start order); what one
//! trace has and the other lacks gets a row of its own, placed where it happened. Model calls
//! left over pair by type alone, in order: their names carry the model ("chat gpt-4o"), and
//! swapping the model is what an A/B variant often does.

use std::collections::{HashMap, VecDeque};

use crate::span::SpanType;
use crate::trace::TraceSkeleton;
use crate::trace_tags::is_model_call;
use crate::tree::{Node, TraceTree};

/// One row of an aligned pair of trees: tree positions in A and B (a position in
/// [`TraceTree`]); one side is `None` when the span is only in the other trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiffRow {
    pub depth: u32,
    pub a: Option<usize>,
    pub b: Option<usize>,
}

/// Which traces a row's span is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Both,
    OnlyA,
    OnlyB,
}

impl DiffRow {
    pub fn presence(&self) -> Presence {
        match (self.a, self.b) {
            (Some(_), Some(_)) => Presence::Both,
            (Some(_), None) => Presence::OnlyA,
            _ => Presence::OnlyB,
        }
    }
}

/// A side of the comparison: a skeleton and its tree.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    pub skeleton: &'a TraceSkeleton,
    pub tree: &'a TraceTree,
}

impl Side<'_> {
    /// What two nodes must share to be matched: the span's name and type (a missing parent
    /// matches another missing parent).
    fn key(&self, pos: usize) -> (&str, u8) {
        match self.tree.node(pos) {
            Node::Span(i) => {
                let span = &self.skeleton.spans[i];
                (self.skeleton.name_of(span), span.span_type().code())
            }
            Node::Missing(_) => ("", u8::MAX),
        }
    }

    /// The span's type when it is a model call (paired by type when its name differs).
    fn model_call(&self, pos: usize) -> Option<SpanType> {
        match self.tree.node(pos) {
            Node::Span(i) => Some(self.skeleton.spans[i].span_type()).filter(|t| is_model_call(*t)),
            Node::Missing(_) => None,
        }
    }

    fn top_level(&self) -> Vec<usize> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < self.tree.len() {
            out.push(pos);
            pos = self.tree.subtree_end(pos);
        }
        out
    }

    fn children(&self, pos: Option<usize>) -> Vec<usize> {
        pos.map_or_else(Vec::new, |p| self.tree.children(p).collect())
    }
}

/// The aligned rows of two traces, in pre-order (a parent before its children). Built without
/// recursion, in time proportional to the two traces' sizes.
pub fn align(a: Side<'_>, b: Side<'_>) -> Vec<DiffRow> {
    let (a_top, b_top) = (a.top_level(), b.top_level());
    // Two single roots are compared whatever their names: the reader chose these two traces.
    let top = if a_top.len() == 1 && b_top.len() == 1 {
        vec![(Some(a_top[0]), Some(b_top[0]))]
    } else {
        pair_siblings(a, &a_top, b, &b_top)
    };
    let mut rows = Vec::with_capacity(a.tree.len().max(b.tree.len()));
    // Pending rows, last on top: each one, when emitted, pushes its children's pairs.
    let mut stack: Vec<(u32, Option<usize>, Option<usize>)> =
        top.into_iter().rev().map(|(x, y)| (0, x, y)).collect();
    while let Some((depth, x, y)) = stack.pop() {
        rows.push(DiffRow { depth, a: x, b: y });
        let pairs = pair_siblings(a, &a.children(x), b, &b.children(y));
        stack.extend(pairs.into_iter().rev().map(|(x, y)| (depth + 1, x, y)));
    }
    rows
}

type Pair = (Option<usize>, Option<usize>);

/// Siblings paired by name and type, in order; A's order kept, each span only in B placed
/// after the B sibling it followed.
fn pair_siblings(a: Side<'_>, a_list: &[usize], b: Side<'_>, b_list: &[usize]) -> Vec<Pair> {
    if a_list.is_empty() || b_list.is_empty() {
        return a_list
            .iter()
            .map(|&x| (Some(x), None))
            .chain(b_list.iter().map(|&y| (None, Some(y))))
            .collect();
    }
    let mut by_key: HashMap<(&str, u8), VecDeque<usize>> = HashMap::new();
    for &y in b_list {
        by_key.entry(b.key(y)).or_default().push_back(y);
    }
    let mut partner: Vec<Option<usize>> = a_list
        .iter()
        .map(|&x| by_key.get_mut(&a.key(x)).and_then(VecDeque::pop_front))
        .collect();
    // Model calls whose names differ (another model) pair by type, in order.
    let mut spare_calls: HashMap<SpanType, VecDeque<usize>> = HashMap::new();
    for y in by_key.into_values().flatten() {
        if let Some(t) = b.model_call(y) {
            spare_calls.entry(t).or_default().push_back(y);
        }
    }
    for spare in spare_calls.values_mut() {
        spare.make_contiguous().sort_unstable();
    }
    for (slot, &x) in partner.iter_mut().zip(a_list) {
        if slot.is_none() {
            *slot = a
                .model_call(x)
                .and_then(|t| spare_calls.get_mut(&t))
                .and_then(VecDeque::pop_front);
        }
    }
    let matched: std::collections::HashSet<usize> = partner.iter().flatten().copied().collect();
    // B-only spans, attached to the matched B sibling before them (or to the front).
    let mut front = Vec::new();
    let mut followers: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut last_matched = None;
    for &y in b_list {
        if matched.contains(&y) {
            last_matched = Some(y);
        } else {
            match last_matched {
                Some(m) => followers.entry(m).or_default().push(y),
                None => front.push(y),
            }
        }
    }
    let mut out: Vec<Pair> = front.into_iter().map(|y| (None, Some(y))).collect();
    for (&x, y) in a_list.iter().zip(partner) {
        out.push((Some(x), y));
        if let Some(after) = y.and_then(|y| followers.remove(&y)) {
            out.extend(after.into_iter().map(|y| (None, Some(y))));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::{SpanKind, SpanStatus, SpanType};
    use crate::trace::{SkeletonSpanInput, TraceSummary};

    /// A skeleton from `(id, parent, name, start)` rows (type from the name's first letter:
    /// `l…` LLM, `t…` tool, else chain).
    fn skeleton(spans: &[(&str, Option<&str>, &str, i64)]) -> TraceSkeleton {
        let inputs = spans
            .iter()
            .map(|&(id, parent, name, start)| SkeletonSpanInput {
                span_id: id,
                parent_span_id: parent,
                name,
                service: "svc",
                span_type: match name.as_bytes()[0] {
                    b'l' => SpanType::Llm,
                    b't' => SpanType::Tool,
                    _ => SpanType::Chain,
                },
                start_ns: start * 1000,
                end_ns: start * 1000 + 500,
                status: SpanStatus::Ok,
                tokens: 0,
                kind: SpanKind::Internal,
                cost: 0.0,
            })
            .collect();
        TraceSkeleton::build(TraceSummary::default(), inputs)
    }

    /// Rows as `"depth:a-name|b-name"` (`-` for a missing side).
    fn render(a: &TraceSkeleton, b: &TraceSkeleton) -> Vec<String> {
        let (ta, tb) = (TraceTree::build(a), TraceTree::build(b));
        let name = |s: &TraceSkeleton, t: &TraceTree, pos: Option<usize>| {
            pos.and_then(|p| t.span_at(p))
                .map_or("-".to_string(), |i| s.name_of(&s.spans[i]).to_string())
        };
        align(
            Side {
                skeleton: a,
                tree: &ta,
            },
            Side {
                skeleton: b,
                tree: &tb,
            },
        )
        .iter()
        .map(|r| format!("{}:{}|{}", r.depth, name(a, &ta, r.a), name(b, &tb, r.b)))
        .collect()
    }

    #[test]
    fn matches_by_path_and_marks_what_only_one_side_has() {
        let a = skeleton(&[
            ("r", None, "main_agent", 0),
            ("p", Some("r"), "planning_agent", 1),
            ("e", Some("r"), "execution_agent", 2),
            ("s1", Some("e"), "sub_agent_1", 3),
            ("s2", Some("e"), "sub_agent_2", 4),
            ("y", Some("r"), "synthesis_agent", 9),
        ]);
        let b = skeleton(&[
            ("R", None, "main_agent", 0),
            ("P", Some("R"), "planning_agent", 1),
            ("X", Some("R"), "review_agent", 2),
            ("E", Some("R"), "execution_agent", 3),
            ("S1", Some("E"), "sub_agent_1", 4),
            ("Y", Some("R"), "synthesis_agent", 9),
        ]);
        assert_eq!(
            render(&a, &b),
            [
                "0:main_agent|main_agent",
                "1:planning_agent|planning_agent",
                "1:-|review_agent",
                "1:execution_agent|execution_agent",
                "2:sub_agent_1|sub_agent_1",
                "2:sub_agent_2|-",
                "1:synthesis_agent|synthesis_agent",
            ]
        );
    }

    #[test]
    fn repeated_siblings_pair_in_order_and_types_must_agree() {
        let a = skeleton(&[
            ("r", None, "agent", 0),
            ("l1", Some("r"), "llm", 1),
            ("t1", Some("r"), "tool", 2),
            ("l2", Some("r"), "llm", 3),
        ]);
        let b = skeleton(&[
            ("R", None, "agent", 0),
            ("L1", Some("R"), "llm", 1),
            ("T1", Some("R"), "tool", 2),
            ("L2", Some("R"), "llm", 3),
            ("T2", Some("R"), "tool", 4),
            ("L3", Some("R"), "llm", 5),
        ]);
        assert_eq!(
            render(&a, &b),
            [
                "0:agent|agent",
                "1:llm|llm",
                "1:tool|tool",
                "1:llm|llm",
                "1:-|tool",
                "1:-|llm",
            ]
        );
    }

    #[test]
    fn model_calls_of_another_model_pair_by_type_but_tools_do_not() {
        let a = skeleton(&[
            ("r", None, "agent", 0),
            ("l1", Some("r"), "llm gpt-4o", 1),
            ("t1", Some("r"), "tool search", 2),
            ("l2", Some("r"), "llm gpt-4o", 3),
        ]);
        let b = skeleton(&[
            ("R", None, "agent", 0),
            ("L1", Some("R"), "llm claude", 1),
            ("T1", Some("R"), "tool calculator", 2),
            ("L2", Some("R"), "llm gpt-4o", 3),
        ]);
        assert_eq!(
            render(&a, &b),
            [
                "0:agent|agent",
                "1:llm gpt-4o|llm gpt-4o",
                "1:tool search|-",
                "1:llm gpt-4o|llm claude",
                "1:-|tool calculator",
            ]
        );
    }

    #[test]
    fn single_roots_compare_whatever_their_names_and_empty_sides_work() {
        let a = skeleton(&[("r", None, "run v1", 0), ("c", Some("r"), "llm", 1)]);
        let b = skeleton(&[("R", None, "run v2", 0), ("C", Some("R"), "llm", 1)]);
        assert_eq!(render(&a, &b), ["0:run v1|run v2", "1:llm|llm"]);
        let empty = skeleton(&[]);
        assert_eq!(render(&a, &empty), ["0:run v1|-", "1:llm|-"]);
        assert!(render(&empty, &empty).is_empty());
    }

    #[test]
    fn deep_traces_align_without_recursion() {
        let ids: Vec<String> = (0..50_000).map(|i| format!("s{i}")).collect();
        let spans: Vec<(&str, Option<&str>, &str, i64)> = (0..ids.len())
            .map(|i| {
                let parent = i.checked_sub(1).map(|p| ids[p].as_str());
                (ids[i].as_str(), parent, "chain", i as i64)
            })
            .collect();
        let a = skeleton(&spans);
        let b = skeleton(&spans[..40_000]);
        let (ta, tb) = (TraceTree::build(&a), TraceTree::build(&b));
        let rows = align(
            Side {
                skeleton: &a,
                tree: &ta,
            },
            Side {
                skeleton: &b,
                tree: &tb,
            },
        );
        assert_eq!(rows.len(), 50_000);
        assert_eq!(rows[39_999].presence(), Presence::Both);
        assert_eq!(rows[40_000].presence(), Presence::OnlyA);
        assert_eq!(rows[49_999].depth, 49_999);
    }
}
