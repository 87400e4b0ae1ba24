use super::*;

fn run(id: &str, input: Option<&str>, tags: &[(&str, &str)]) -> Candidate {
    Candidate {
        trace_id: id.to_string(),
        input_key: input.map(str::to_string),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

#[test]
fn pairs_match_on_input_first_then_tags_then_at_random() {
    let a = [
        run("a1", Some("hello"), &[("variant", "A"), ("tier", "free")]),
        run("a2", Some("bye"), &[("variant", "A"), ("tier", "pro")]),
        run("a3", None, &[("variant", "A"), ("tier", "gold")]),
    ];
    let b = [
        run("b1", None, &[("variant", "B"), ("tier", "pro")]),
        run("b2", Some("hello"), &[("variant", "B"), ("tier", "pro")]),
        run("b3", Some("other"), &[("variant", "B")]),
    ];
    let pairs = draw_pairs("q", &a, &b, 10, 7);
    let got: Vec<(&str, &str, Matched)> = pairs
        .iter()
        .map(|p| (p.a.as_str(), p.b.as_str(), p.matched))
        .collect();
    assert_eq!(
        got,
        vec![
            ("a1", "b2", Matched::Input),
            // `variant` tells the cohorts apart: not a match; `tier` is.
            ("a2", "b1", Matched::Tags),
            ("a3", "b3", Matched::Random),
        ]
    );
    assert_eq!(pairs[1].a_tags.get("tier").map(String::as_str), Some("pro"));
}

#[test]
fn at_most_n_pairs_and_no_run_twice() {
    let a: Vec<Candidate> = (0..50).map(|i| run(&format!("a{i}"), None, &[])).collect();
    let b: Vec<Candidate> = (0..30).map(|i| run(&format!("b{i}"), None, &[])).collect();
    let pairs = draw_pairs("q", &a, &b, 40, 1);
    assert_eq!(pairs.len(), 30, "one pair per B run at most");
    let mut bs: Vec<&str> = pairs.iter().map(|p| p.b.as_str()).collect();
    bs.sort();
    bs.dedup();
    assert_eq!(bs.len(), 30);
    assert_eq!(draw_pairs("q", &a, &b, 5, 1).len(), 5);
    assert_eq!(
        draw_pairs("q", &a, &b, 40, 1),
        pairs,
        "the same seed draws the same"
    );
}

#[test]
fn sides_are_stable_and_shuffled() {
    let lefts = (0..200)
        .filter(|i| a_on_left("queue", &format!("a{i}"), &format!("b{i}")))
        .count();
    assert!(
        (70..=130).contains(&lefts),
        "A on the left {lefts} times of 200"
    );
    assert_eq!(a_on_left("q", "x", "y"), a_on_left("q", "x", "y"));
}

#[test]
fn a_pick_of_a_side_is_the_cohort_shown_there() {
    let mut pair = draw_pairs("q", &[run("a", None, &[])], &[run("b", None, &[])], 1, 0)
        .pop()
        .unwrap();
    for a_left in [true, false] {
        pair.a_on_left = a_left;
        let item = PairItem::new("q", pair.clone(), 1, 0);
        let blind = item.blind();
        let (a_side, b_side) = if a_left {
            (Pick::Left, Pick::Right)
        } else {
            (Pick::Right, Pick::Left)
        };
        assert_eq!(if a_left { &blind.left } else { &blind.right }, "a");
        assert_eq!(a_side.winner(&pair), Winner::A);
        assert_eq!(b_side.winner(&pair), Winner::B);
        assert_eq!(Pick::Tie.winner(&pair), Winner::Tie);
        assert_eq!(item.item.id, "1", "the id does not tell the sides");
    }
}

#[test]
fn results_are_grouped_by_a_tag_the_runs_share() {
    let judgement = |tier_a: &str, tier_b: &str, winner: Winner| Judgement {
        queue_id: "q".into(),
        pair_id: "1".into(),
        reviewer: "r".into(),
        winner,
        pair: Pair {
            a: "a".into(),
            b: "b".into(),
            a_on_left: true,
            matched: Matched::Tags,
            a_tags: [("tier".to_string(), tier_a.to_string())].into(),
            b_tags: [("tier".to_string(), tier_b.to_string())].into(),
        },
        created_ms: 0,
    };
    let js = [
        judgement("free", "free", Winner::B),
        judgement("free", "free", Winner::B),
        judgement("free", "free", Winner::A),
        judgement("pro", "pro", Winner::Tie),
        judgement("pro", "free", Winner::A),
    ];
    let groups = results_by_group(&js, Some("tier"));
    let names: Vec<&str> = groups.iter().map(|g| g.group.as_str()).collect();
    assert_eq!(names, vec![DIFFERS, "free", "pro"]);
    let free = &groups[1];
    assert_eq!(
        free.counts,
        PairwiseCounts {
            a_wins: 1,
            b_wins: 2,
            ties: 0
        }
    );
    assert_eq!(free.result.unwrap().b_preferred, 2.0 / 3.0);
    assert!(groups[2].result.is_none(), "ties only: no test");
    let all = results_by_group(&js, None);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].counts.total(), 5);
    assert_eq!(group_of(&js[0].pair, "missing"), NO_VALUE);
}

#[test]
fn new_queues_are_checked() {
    let ok = NewPairwiseQueue {
        name: "A vs B".into(),
        description: String::new(),
        cohort_a: "filter=ab_test_variant%3DA".into(),
        cohort_b: "filter=ab_test_variant%3DB".into(),
        pairs: Some(20),
    };
    assert_eq!(check_new_queue(&ok), Ok(()));
    let same = NewPairwiseQueue {
        cohort_b: ok.cohort_a.clone(),
        ..ok.clone()
    };
    assert!(check_new_queue(&same).unwrap_err().contains("same"));
    let none = NewPairwiseQueue {
        pairs: Some(0),
        ..ok.clone()
    };
    assert!(check_new_queue(&none).unwrap_err().contains("pairs"));
    let empty = NewPairwiseQueue {
        cohort_a: " ".into(),
        ..ok
    };
    assert!(check_new_queue(&empty).unwrap_err().contains("cohort_a"));
}

#[test]
fn results_queries_round_trip() {
    let q = ResultsQuery {
        queue: Some("q 1".into()),
        group_by: Some("user tier".into()),
    };
    assert_eq!(ResultsQuery::from_query_string(&q.to_query_string()), q);
    assert_eq!(
        ResultsQuery::from_query_string("?group_by=&queue=x&metric=count"),
        ResultsQuery {
            queue: Some("x".into()),
            group_by: None
        }
    );
    assert_eq!(
        cohort_label("?tag=variant%3DA&filter=name%20%3D%3D%20%22x%22"),
        "variant=A & filter=name == \"x\""
    );
    assert_eq!(input_key(" hi "), input_key("hi"));
    assert_ne!(input_key("hi"), input_key("ho"));
}
