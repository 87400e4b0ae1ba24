use super::*;

fn span(id: &str, parent: Option<&str>, start: i64) -> Span {
    Span {
        trace_id: "t".repeat(32),
        span_id: id.into(),
        parent_span_id: parent.map(String::from),
        name: format!("span-{id}"),
        service: format!("svc-{id}"),
        start_ns: start,
        end_ns: start + 10,
        ..Span::default()
    }
}

/// A trace with a root, children that disagree on tags, session and user, an error,
/// tokens and cost, instrumentation keys, and more tag keys than a summary keeps.
fn spans() -> Vec<Span> {
    let mut root = span("r", None, 100);
    root.status = SpanStatus::Ok;
    root.tags.insert("env".into(), "prod".into());
    root.tags.insert("langgraph_step".into(), "0".into());
    root.tags.insert("_type".into(), "fake".into());
    for i in 0..80 {
        root.tags.insert(format!("k{i:02}"), "v".into());
    }
    root.user_id = Some("u-root".into());
    let mut early = span("a", Some("r"), 50);
    early.tags.insert("env".into(), "dev".into());
    early.tags.insert("step".into(), "1".into());
    early.session_id = Some("s-early".into());
    early.user_id = Some("u-early".into());
    early.input_tokens = Some(5);
    let mut late = span("b", Some("a"), 300);
    late.tags.insert("step".into(), "2".into());
    late.session_id = Some("s-late".into());
    late.status = SpanStatus::Error;
    late.output_tokens = Some(7);
    late.cost = Some(0.5);
    late.tags.insert("k99".into(), "v".into());
    let mut other = span("c", Some("r"), 300);
    other.service = "svc-a".into();
    vec![root, early, late, other]
}

fn fold_in_order(spans: &[&Span]) -> TraceFold {
    TraceFold::of_all(spans.iter().map(|s| SpanFacts::from(*s)))
}

#[test]
fn every_arrival_order_and_grouping_gives_the_same_summary() {
    let spans = spans();
    let reference = fold_in_order(&spans.iter().collect::<Vec<_>>()).summary("t");
    // Every order of the four spans...
    let mut orders = vec![vec![0usize, 1, 2, 3]];
    for _ in 0..23 {
        let mut next = orders.last().unwrap().clone();
        next_permutation(&mut next);
        orders.push(next);
    }
    for order in &orders {
        let ordered: Vec<&Span> = order.iter().map(|&i| &spans[i]).collect();
        assert_eq!(fold_in_order(&ordered).summary("t"), reference, "{order:?}");
        // ...and every split into two batches folded apart, then merged.
        for split in 0..=ordered.len() {
            let mut left = fold_in_order(&ordered[..split]);
            left.merge(fold_in_order(&ordered[split..]));
            assert_eq!(left.summary("t"), reference, "{order:?} split at {split}");
        }
    }
}

fn next_permutation(v: &mut [usize]) {
    let Some(i) = (0..v.len() - 1).rev().find(|&i| v[i] < v[i + 1]) else {
        v.reverse();
        return;
    };
    let j = (i + 1..v.len()).rev().find(|&j| v[j] > v[i]).unwrap();
    v.swap(i, j);
    v[i + 1..].reverse();
}

#[test]
fn the_root_speaks_for_the_trace_and_the_earliest_span_for_the_rest() {
    let spans = spans();
    let s = fold_in_order(&spans.iter().collect::<Vec<_>>()).summary("t");
    assert_eq!(s.root_name, "span-r");
    assert_eq!(s.root_span_id.as_deref(), Some("r"));
    assert!(s.has_root);
    assert_eq!((s.start_ns, s.end_ns), (50, 310));
    assert_eq!((s.span_count, s.error_count), (4, 1));
    assert_eq!(s.status, SpanStatus::Error);
    // The root's tags, not its children's, and none of instrumentation's own.
    assert_eq!(s.tags["env"], "prod");
    assert!(!s.tags.contains_key("step"));
    assert!(!s.tags.contains_key("langgraph_step"));
    assert!(!s.tags.contains_key("_type"));
    assert!(!s.tags.contains_key("k99"));
    assert_eq!(s.tags.len(), MAX_TRACE_TAGS);
    assert_eq!(s.user_id.as_deref(), Some("u-root"));
    assert_eq!(s.session_id.as_deref(), Some("s-early"));
    assert_eq!((s.input_tokens, s.output_tokens), (5, 7));
    assert_eq!(s.cost, 0.5);
    // The root's service first, then by each service's earliest span.
    assert_eq!(s.services, vec!["svc-r", "svc-a", "svc-b"]);
}

#[test]
fn without_its_root_a_trace_is_named_by_its_earliest_span() {
    let spans = spans();
    let s = fold_in_order(&[&spans[2], &spans[1]]).summary("t");
    assert_eq!(s.root_name, "span-a");
    assert!(!s.has_root);
    // ...and tagged by it (a root in a service that does not send here).
    assert_eq!(s.tags["env"], "dev");
    assert_eq!(s.tags["step"], "1");
    assert!(!s.tags.contains_key("k99"));
    assert_eq!(s.status, SpanStatus::Error);
    let s = fold_in_order(&[&spans[3]]).summary("t");
    assert_eq!(s.status, SpanStatus::Unset);
}

#[test]
fn the_empty_fold_is_the_identity_and_survives_a_round_trip() {
    let spans = spans();
    let mut fold = fold_in_order(&spans.iter().collect::<Vec<_>>());
    let before = fold.clone();
    fold.merge(TraceFold::default());
    assert_eq!(fold, before);
    let text = serde_json::to_string(&fold).unwrap();
    assert_eq!(serde_json::from_str::<TraceFold>(&text).unwrap(), fold);
}

#[test]
fn adding_a_span_is_merging_its_fold() {
    let spans = spans();
    for order in [[0usize, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]] {
        let mut added = TraceFold::default();
        let mut merged = TraceFold::default();
        for &i in &order {
            added.add(SpanFacts::from(&spans[i]));
            merged.merge(TraceFold::of(SpanFacts::from(&spans[i])));
        }
        assert_eq!(added, merged, "{order:?}");
    }
}

/// A LangGraph-like trace: a graph and a node that repeat their model call's usage, a
/// model call, and a tool that reports none.
fn usage_spans() -> Vec<Span> {
    let mut graph = span("g", None, 0);
    graph.span_type = SpanType::Chain;
    graph.input_tokens = Some(40);
    graph.output_tokens = Some(19);
    let mut node = span("n", Some("g"), 1);
    node.span_type = SpanType::Agent;
    node.input_tokens = Some(40);
    node.output_tokens = Some(19);
    node.cost = Some(0.2);
    let mut llm = span("l", Some("n"), 2);
    llm.span_type = SpanType::Llm;
    llm.input_tokens = Some(40);
    llm.output_tokens = Some(19);
    llm.cost = Some(0.1);
    let tool = span("t", Some("n"), 3);
    vec![graph, node, llm, tool]
}

#[test]
fn usage_is_counted_at_the_model_call_in_every_order_and_grouping() {
    let spans = usage_spans();
    let mut orders = vec![vec![0usize, 1, 2, 3]];
    for _ in 0..23 {
        let mut next = orders.last().unwrap().clone();
        next_permutation(&mut next);
        orders.push(next);
    }
    for order in &orders {
        let ordered: Vec<&Span> = order.iter().map(|&i| &spans[i]).collect();
        for split in 0..=ordered.len() {
            let mut left = fold_in_order(&ordered[..split]);
            left.merge(fold_in_order(&ordered[split..]));
            // Through storage too: an engine keeps the fold between batches.
            let stored: TraceFold =
                serde_json::from_str(&serde_json::to_string(&left).unwrap()).unwrap();
            let s = stored.summary("t");
            assert_eq!(
                (s.input_tokens, s.output_tokens),
                (40, 19),
                "{order:?}/{split}"
            );
            assert_eq!(s.cost, 0.1);
        }
    }
    // Before the model call arrives, the parents' usage is all there is; a parent's
    // usage counts while no model call reports any.
    let s = fold_in_order(&[&spans[0], &spans[3]]).summary("t");
    assert_eq!((s.input_tokens, s.output_tokens), (40, 19));
    let s = fold_in_order(&[&spans[1], &spans[3]]).summary("t");
    assert_eq!((s.input_tokens, s.output_tokens, s.cost), (40, 19, 0.2));
    // A model call that reports no tokens leaves the others' usage counted.
    let mut silent = spans[2].clone();
    silent.input_tokens = None;
    silent.output_tokens = None;
    let s = fold_in_order(&[&spans[1], &silent]).summary("t");
    assert_eq!((s.input_tokens, s.output_tokens), (40, 19));
}

#[test]
fn every_model_call_counts_embeddings_and_rerankers_too() {
    let mut spans = usage_spans();
    let mut embed = span("e", Some("g"), 5);
    embed.span_type = SpanType::Embedding;
    embed.input_tokens = Some(8);
    spans.push(embed);
    let s = fold_in_order(&spans.iter().collect::<Vec<_>>()).summary("t");
    assert_eq!((s.input_tokens, s.output_tokens), (48, 19));
}

#[test]
fn a_better_ranked_span_replaces_the_tags_and_a_worse_one_adds_none() {
    let mut child = span("c", Some("r"), 10);
    child.tags.insert("langgraph_node".into(), "writer".into());
    child.tags.insert("customer".into(), "acme".into());
    let mut root = span("r", None, 20);
    root.tags.insert("env".into(), "prod".into());
    root.tags.insert("logfire.msg".into(), "run".into());
    for order in [[&child, &root], [&root, &child]] {
        let mut added = TraceFold::default();
        let mut merged = TraceFold::default();
        for s in order {
            added.add(SpanFacts::from(s));
            merged.merge(TraceFold::of(SpanFacts::from(s)));
        }
        assert_eq!(added, merged);
        assert_eq!(
            added.tag_values(),
            BTreeMap::from([("env".to_string(), "prod".to_string())])
        );
    }
}

#[test]
fn a_non_finite_cost_is_left_out() {
    let mut s = span("x", None, 0);
    s.cost = Some(f64::INFINITY);
    assert_eq!(TraceFold::of(SpanFacts::from(&s)).cost, 0.0);
}
