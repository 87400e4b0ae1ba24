use super::*;

#[test]
fn query_round_trips_through_the_url() {
    let q = CohortQuery::from_query_string(
        "a.tag=ab_test_variant%3DA&b.tag=ab_test_variant%3DB&b.status=error&by=tokens&a.limit=5",
    )
    .unwrap();
    assert_eq!(q.a.tags[0].value, "A");
    assert_eq!(q.b.tags[0].value, "B");
    assert_eq!(q.b.status, Some(crate::StatusFilter::Error));
    assert_eq!(q.a.limit, None, "a list's page means nothing here");
    assert_eq!(q.by, CohortMeasure::Tokens);
    let text = q.to_query_string();
    assert_eq!(CohortQuery::from_query_string(&text).unwrap(), q);
    // A whole list query as one value.
    let whole = CohortQuery::from_query_string("a=tag%3Denv%253Dprod%26range%3D24h").unwrap();
    assert_eq!(whole.a.tags[0].to_string(), "env=prod");
    assert_eq!(whole.a.range, crate::sessions::RecentRange::Day);
    assert_eq!(whole.b, TraceQuery::default());
    // A page's link: the same query, the filters left unchecked.
    let link = "a.tag=v%3DA&a.filter=eq(nope%2C%201)&b.range=24h&by=cost";
    let q = CohortQuery::from_link(link, |s| s.parse().ok()).unwrap();
    assert_eq!(q.a.filter.as_deref(), Some("eq(nope, 1)"));
    assert_eq!(
        (q.a.tags[0].value.as_str(), q.by),
        ("A", CohortMeasure::Cost)
    );
    assert!(CohortQuery::from_query_string(link).is_err());
}

#[test]
fn bad_values_name_the_cohort_and_parameter() {
    let err = CohortQuery::from_query_string("b.from=yesterday").unwrap_err();
    assert!(err.0.starts_with("b.from"), "{err}");
    let err = CohortQuery::from_query_string("by=speed").unwrap_err();
    assert!(err.0.contains("by"), "{err}");
}

#[test]
fn self_time_takes_the_lesser_cover() {
    // Sequential children 0-10 and 20-30 in a 0-40 span: 20 covered.
    assert_eq!(self_time_ns(0, 40, 20, 0, 30), 20);
    // Parallel children 0-30 and 0-30: covered 30 (not 60).
    assert_eq!(self_time_ns(0, 40, 60, 0, 30), 10);
    // A child running past its parent counts only within it.
    assert_eq!(self_time_ns(0, 40, 100, 10, 110), 10);
    assert_eq!(self_time_ns(0, 40, 0, 0, 0), 40);
}

fn name(n: &str, traces_with: u64, self_ms: &[f64]) -> NameAggregates {
    NameAggregates {
        name: n.into(),
        span_type: SpanType::Agent,
        service: "svc".into(),
        spans: self_ms.len() as u64,
        traces_with,
        duration_ms_sum: self_ms.iter().sum(),
        p50_ms: 0.0,
        p95_ms: 0.0,
        self_ms: Moments::from_values(self_ms),
        tokens: Moments::default(),
        cost: Moments::default(),
        errors: Moments::default(),
    }
}

#[test]
fn rows_sort_by_contribution_and_missing_traces_count_zero() {
    let traces = |n: u64| Moments::new(n, 0.0, 0.0);
    let a = CohortAggregates {
        duration_ms: traces(20),
        names: vec![name("slow", 10, &[10.0; 10]), name("same", 20, &[5.0; 20])],
        ..Default::default()
    };
    let b = CohortAggregates {
        duration_ms: traces(10),
        names: vec![name("slow", 10, &[30.0; 10]), name("new", 5, &[2.0; 5])],
        ..Default::default()
    };
    let c = compare(CohortMeasure::Duration, &a, &b);
    let names: Vec<&str> = c.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["slow", "same", "new"]);
    // A: 100 ms over 20 traces = 5 per trace; B: 300 over 10 = 30.
    assert_eq!(c.rows[0].contribution, 25.0);
    assert_eq!(c.rows[0].a.as_ref().unwrap().self_ms_per_trace, 5.0);
    // "same" is missing in B: B − A = 0 − 5.
    assert_eq!(c.rows[1].contribution, -5.0);
    assert!(c.rows[1].b.is_none());
    assert_eq!(c.rows[2].contribution, 1.0);
    // Welch over per-trace values where A has 10 of 20 traces at 10 and 10 at 0.
    match &c.rows[0].self_ms_per_trace {
        Significance::Tested { p_value, .. } => assert!(*p_value < 1e-6),
        other => panic!("{other:?}"),
    }
}

#[test]
fn significance_is_b_minus_a() {
    let a = Moments::from_values(&(0..12).map(f64::from).collect::<Vec<_>>());
    let b = Moments::from_values(&(0..12).map(|i| f64::from(i) + 3.0).collect::<Vec<_>>());
    let s = Significance::of_means(&a, &b);
    assert!((s.difference() - 3.0).abs() < 1e-12);
    let r = Significance::of_rates(10, 100, 30, 100);
    assert!((r.difference() - 0.2).abs() < 1e-12);
    assert!(r.p_value().unwrap() < 0.01);
    let few = Significance::of_rates(0, 3, 1, 3);
    assert!(few.p_value().is_none());
}
