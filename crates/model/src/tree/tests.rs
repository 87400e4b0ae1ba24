use super::*;
use crate::span::SpanType;
use crate::trace::SkeletonSpan;
use std::collections::BTreeMap;

/// Spans `s0, s1…` with the given parents (-1: none), each starting at its index and
/// lasting 10 µs.
fn skeleton(parents: &[i32]) -> TraceSkeleton {
    TraceSkeleton {
        spans: parents
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                SkeletonSpan(
                    format!("{i:016x}").into(),
                    p,
                    i as u32,
                    0,
                    11,
                    i as i64,
                    10,
                    0,
                    0,
                    0,
                    0.0,
                )
            })
            .collect(),
        names: (0..parents.len()).map(|i| format!("s{i}")).collect(),
        services: vec!["svc".into()],
        ..TraceSkeleton::default()
    }
}

fn order(tree: &TraceTree) -> Vec<(Node, usize)> {
    (0..tree.len())
        .map(|p| (tree.node(p), tree.depth(p)))
        .collect()
}

fn spans_of(tree: &TraceTree, rows: &[u32]) -> Vec<usize> {
    rows.iter()
        .map(|&p| tree.span_at(p as usize).expect("a span row"))
        .collect()
}

#[test]
fn pre_order_in_start_order_with_sizes() {
    // 0 ─┬─ 1 ─┬─ 3
    //    │     └─ 4
    //    └─ 2
    let sk = skeleton(&[-1, 0, 0, 1, 1]);
    let tree = TraceTree::build(&sk);
    use Node::Span as S;
    assert_eq!(
        order(&tree),
        vec![(S(0), 0), (S(1), 1), (S(3), 2), (S(4), 2), (S(2), 1)]
    );
    assert_eq!(tree.subtree_size(0), 5);
    assert_eq!(tree.subtree_size(1), 3);
    assert_eq!(tree.subtree_size(4), 1);
    assert_eq!(tree.child_count(0), 2);
    assert_eq!(tree.children(0).collect::<Vec<_>>(), vec![1, 4]);
    assert_eq!(tree.children(1).collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(tree.ancestors(3).collect::<Vec<_>>(), vec![1, 0]);
    assert_eq!(tree.position_of(2), Some(4));
    assert_eq!(tree.parent(4), Some(0));
    assert_eq!(tree.max_depth(), 2);
    assert_eq!(tree.root_count(), 1);
}

#[test]
fn orphans_sit_under_one_placeholder_per_missing_parent() {
    // 0 is the root; 1 and 3 name the missing parent "aa…", 2 names "bb…"; 4 is a child of 3.
    let mut sk = skeleton(&[-1, -1, -1, -1, 3]);
    sk.orphans = BTreeMap::from([
        (1, "aaaaaaaaaaaaaaaa".to_string()),
        (2, "bbbbbbbbbbbbbbbb".to_string()),
        (3, "aaaaaaaaaaaaaaaa".to_string()),
    ]);
    let tree = TraceTree::build(&sk);
    use Node::{Missing as M, Span as S};
    assert_eq!(
        order(&tree),
        vec![
            (S(0), 0),
            (M(0), 0),
            (S(1), 1),
            (S(3), 1),
            (S(4), 2),
            (M(1), 0),
            (S(2), 1)
        ]
    );
    assert_eq!(tree.placeholders()[0].parent_id, "aaaaaaaaaaaaaaaa");
    assert_eq!(tree.extent_us(&sk, 1), (1, 13), "the orphans' time");
    assert_eq!(tree.root_count(), 3);
    assert_eq!(tree.len(), 7);
}

#[test]
fn bad_parents_and_cycles_still_show_every_span_once() {
    // 1 points past the end, 2 at itself, 3 and 4 at each other.
    let sk = skeleton(&[-1, 99, 2, 4, 3]);
    let tree = TraceTree::build(&sk);
    let mut shown: Vec<usize> = (0..tree.len()).filter_map(|p| tree.span_at(p)).collect();
    shown.sort();
    assert_eq!(shown, vec![0, 1, 2, 3, 4]);
    // Sizes stay consistent: every subtree fits in the tree.
    for pos in 0..tree.len() {
        assert!(tree.subtree_end(pos) <= tree.len());
        assert_eq!(tree.children(pos).count(), tree.child_count(pos));
    }
}

#[test]
fn a_100k_deep_chain_builds_without_recursion() {
    let parents: Vec<i32> = (0..100_000).map(|i| i - 1).collect();
    let tree = TraceTree::build(&skeleton(&parents));
    assert_eq!(tree.len(), 100_000);
    assert_eq!(tree.depth(99_999), 99_999);
    assert_eq!(tree.subtree_size(0), 100_000);
}

#[test]
fn collapse_and_expand_change_only_their_range() {
    // 0 ─┬─ 1 ─┬─ 3 ── 5
    //    │     └─ 4
    //    └─ 2
    let sk = skeleton(&[-1, 0, 0, 1, 1, 3]);
    let tree = TraceTree::build(&sk);
    let mut view = TreeView::new(&tree);
    assert_eq!(spans_of(&tree, view.rows()), vec![0, 1, 3, 5, 4, 2]);

    let p1 = tree.position_of(1).unwrap();
    view.set_collapsed(&tree, p1, true);
    assert_eq!(spans_of(&tree, view.rows()), vec![0, 1, 2]);
    // Collapsing a hidden node only records it.
    let p3 = tree.position_of(3).unwrap();
    view.set_collapsed(&tree, p3, true);
    assert_eq!(spans_of(&tree, view.rows()), vec![0, 1, 2]);
    // Expanding 1 brings back its children, but not 3's (still collapsed).
    view.toggle(&tree, p1);
    assert_eq!(spans_of(&tree, view.rows()), vec![0, 1, 3, 4, 2]);
    let mut fresh = view.clone();
    fresh.recompute(&tree);
    assert_eq!(fresh.rows(), view.rows(), "incremental = recomputed");

    // A leaf does not collapse.
    let p2 = tree.position_of(2).unwrap();
    view.toggle(&tree, p2);
    assert!(!view.is_collapsed(p2));

    // reveal() expands what hides a node.
    view.collapse_to_depth(&tree, 0);
    assert_eq!(spans_of(&tree, view.rows()), vec![0]);
    let p5 = tree.position_of(5).unwrap();
    let row = view.reveal(&tree, p5).unwrap();
    assert_eq!(view.position(row), Some(p5));
    assert_eq!(spans_of(&tree, view.rows()), vec![0, 1, 3, 5, 4, 2]);

    view.collapse_to_depth(&tree, 1);
    assert_eq!(spans_of(&tree, view.rows()), vec![0, 1, 2]);
    view.expand_all(&tree);
    assert_eq!(view.len(), 6);
}

#[test]
fn incremental_changes_agree_with_a_full_recompute() {
    // A pseudo-random tree of 3,000 spans, random toggles.
    let mut seed = 7u64;
    let mut rand = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let parents: Vec<i32> = (0..3_000)
        .map(|i| if i == 0 { -1 } else { rand(i) as i32 })
        .collect();
    let tree = TraceTree::build(&skeleton(&parents));
    let mut view = TreeView::new(&tree);
    for _ in 0..2_000 {
        let pos = rand(tree.len());
        view.toggle(&tree, pos);
        if rand(50) == 0 {
            let mut fresh = view.clone();
            fresh.recompute(&tree);
            assert_eq!(fresh.rows(), view.rows());
        }
    }
    let mut fresh = view.clone();
    fresh.recompute(&tree);
    assert_eq!(fresh.rows(), view.rows());
    assert!(view.rows().windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn collapsing_in_a_huge_trace_touches_only_its_range() {
    // 100k spans: a root with 1,000 children of 99 leaves each. Collapsing and expanding
    // one child is fast (a debug build does it in well under a millisecond).
    let mut parents = vec![-1i32];
    for b in 0..1_000 {
        let batch = parents.len() as i32;
        parents.push(0);
        let _ = b;
        parents.extend(std::iter::repeat_n(batch, 99));
    }
    let sk = skeleton(&parents);
    let tree = TraceTree::build(&sk);
    let mut view = TreeView::new(&tree);
    assert_eq!(view.len(), 100_001);
    let child = tree.children(0).nth(500).unwrap();
    let started = std::time::Instant::now();
    for _ in 0..100 {
        view.set_collapsed(&tree, child, true);
        view.set_collapsed(&tree, child, false);
    }
    let each = started.elapsed() / 200;
    assert_eq!(view.len(), 100_001);
    view.set_collapsed(&tree, child, true);
    assert_eq!(view.len(), 100_001 - 99);
    assert_eq!(view.row_of(child), Some(1 + 500 * 100));
    assert!(
        each < std::time::Duration::from_millis(5),
        "{each:?} per toggle"
    );
}

#[test]
fn find_matches_names_services_types_and_ids() {
    let mut sk = skeleton(&[-1, 0, 0, 1]);
    sk.names = vec![
        "main_agent".into(),
        "chat gpt-4o".into(),
        "web_search".into(),
        "Parse".into(),
    ];
    sk.services = vec!["agent-service".into(), "search-service".into()];
    sk.spans[2].3 = 1;
    sk.spans[1].4 = SpanType::Llm.code();
    let tree = TraceTree::build(&sk);
    let spans = |q: &str| {
        find(&sk, &tree, q)
            .into_iter()
            .map(|p| tree.span_at(p as usize).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(spans("AGENT"), vec![0, 1, 3], "name or service, any case");
    assert_eq!(spans("search"), vec![2]);
    assert_eq!(spans("llm"), vec![1], "a type by its name");
    assert_eq!(spans("parse"), vec![3]);
    assert_eq!(spans("0000000000000002"), vec![2], "a span id");
    assert!(spans("  ").is_empty());
    assert!(spans("nothing").is_empty());
}

#[test]
fn only_matches_keeps_their_ancestors() {
    // 0 ─┬─ 1 ── 3
    //    └─ 2 ── 4
    let sk = skeleton(&[-1, 0, 0, 1, 2]);
    let tree = TraceTree::build(&sk);
    let p3 = tree.position_of(3).unwrap() as u32;
    let keep = keep_matches(&tree, &[p3]);
    let mut view = TreeView::new(&tree);
    view.set_filter(&tree, Some(keep));
    assert_eq!(spans_of(&tree, view.rows()), vec![0, 1, 3]);
    assert!(view.is_filtered());
    // Expanding under a filter still shows only kept nodes.
    let p0 = tree.position_of(0).unwrap();
    view.set_collapsed(&tree, p0, true);
    view.set_collapsed(&tree, p0, false);
    assert_eq!(spans_of(&tree, view.rows()), vec![0, 1, 3]);
    view.set_filter(&tree, None);
    assert_eq!(view.len(), 5);
}

#[test]
fn stepping_through_matches_wraps_around() {
    let m = [2, 5, 9];
    assert_eq!(step_match(&m, None, true), Some(2));
    assert_eq!(step_match(&m, None, false), Some(9));
    assert_eq!(step_match(&m, Some(2), true), Some(5));
    assert_eq!(step_match(&m, Some(3), true), Some(5));
    assert_eq!(step_match(&m, Some(9), true), Some(2));
    assert_eq!(step_match(&m, Some(5), false), Some(2));
    assert_eq!(step_match(&m, Some(2), false), Some(9));
    assert_eq!(step_match(&[], Some(2), false), None);
}

#[test]
fn self_time_subtracts_the_union_of_children() {
    // Parent 0..100; children 10..40 and 30..50 (overlap) and 90..120 (runs past).
    let mut sk = skeleton(&[-1, 0, 0, 0]);
    for (i, (s, d)) in [(0, 100), (10, 30), (30, 20), (90, 30)].iter().enumerate() {
        sk.spans[i].5 = *s;
        sk.spans[i].6 = *d;
    }
    let tree = TraceTree::build(&sk);
    assert_eq!(tree.self_time_us(&sk, 0), 100 - 40 - 10);
    assert_eq!(tree.self_time_us(&sk, 1), 30);
    assert_eq!(span_index(&sk, "0000000000000003"), Some(3));
    assert_eq!(span_index(&sk, "0000000000000009"), None);
}

#[test]
fn spans_in_display_order_build_the_same_tree_in_one_pass() {
    let mut rng = crate::random::SplitMix::new(20);
    for case in 0..200 {
        let n = 1 + (rng.next_u64() % 60) as usize;
        // Random parents (earlier spans, some roots), then the spans put in display order
        // by the general build, as the binary skeleton sends them.
        let parents: Vec<i32> = (0..n)
            .map(|i| match rng.next_u64() % 8 {
                _ if i == 0 => -1,
                0 => -1,
                1 if case % 3 == 0 => 1000,
                _ => (rng.next_u64() % i as u64) as i32,
            })
            .collect();
        let general = TraceTree::build_any(&skeleton(&parents));
        let order: Vec<usize> = (0..n).map(|p| general.span_at(p).unwrap()).collect();
        let mut index_of = vec![0i32; n];
        for (pos, &i) in order.iter().enumerate() {
            index_of[i] = pos as i32;
        }
        let in_order: Vec<i32> = order
            .iter()
            .map(|&i| match parents[i] {
                p if p >= 0 && (p as usize) < n => index_of[p as usize],
                p => p,
            })
            .collect();
        let sk = skeleton(&in_order);
        let one_pass = TraceTree::build_in_display_order(&sk).expect("in display order");
        assert_eq!(
            one_pass,
            TraceTree::build_any(&sk),
            "case {case}: {in_order:?}"
        );
        assert_eq!(TraceTree::build(&sk), one_pass);
    }
}

#[test]
fn spans_out_of_display_order_take_the_general_build() {
    // 2's parent 1 is closed once 3 (under 0) has come; 4 names a later parent.
    for parents in [vec![-1, 0, 1, 0, 3, 1], vec![-1, 0, 0, -1, 5, 3]] {
        let sk = skeleton(&parents);
        assert_eq!(TraceTree::build_in_display_order(&sk), None, "{parents:?}");
        assert_eq!(TraceTree::build(&sk), TraceTree::build_any(&sk));
    }
}
