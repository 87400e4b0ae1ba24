use super::*;

#[test]
fn query_round_trips_through_the_url() {
    let q = TraceQuery {
        tags: vec![
            TagFilter::parse("env=production").unwrap(),
            TagFilter::parse("note=a=b & c").unwrap(),
        ],
        from_ms: Some(1_700_000_000_000),
        range: RecentRange::Week,
        name: Some("main agent".into()),
        status: Some(StatusFilter::Error),
        min_duration_ms: Some(12.5),
        sort: TraceSort::DurationDesc,
        limit: Some(20),
        ..TraceQuery::default()
    };
    let text = q.to_query_string();
    assert!(text.contains("tag=env%3Dproduction"), "{text}");
    assert_eq!(TraceQuery::from_query_string(&text).unwrap(), q);
}

#[test]
fn the_filter_is_checked_by_the_collector_side_reader_only() {
    let link = "tag=env%3Dprod&filter=eq(name%2C&limit=5";
    let err = TraceQuery::from_query_string(link).unwrap_err();
    assert!(err.0.starts_with("filter: "), "{err}");
    // The list page's reader leaves it to the collector, and reads the rest alike.
    let from_link = |link| TraceQuery::from_link(link, |t| t.parse().ok());
    let q = from_link(link).unwrap();
    assert_eq!(q.filter.as_deref(), Some("eq(name,"));
    assert_eq!((q.tags.len(), q.limit), (1, Some(5)));
    let good = "filter=eq(name%2C%20%22chat%22)&sort=duration_desc&min_ms=1.5&max_ms=%202e3";
    assert_eq!(from_link(good), TraceQuery::from_query_string(good));
    assert!(from_link("limit=many").is_err());
    // The duration bounds are read by the reader given, and checked alike.
    for bad in ["min_ms=fast", "max_ms=inf", "min_ms=2e12"] {
        assert_eq!(
            from_link(bad).unwrap_err(),
            TraceQuery::from_query_string(bad).unwrap_err(),
            "{bad}"
        );
    }
}

#[test]
fn duration_filters_survive_their_own_round_trip() {
    for text in [
        "min_ms=1.23456789",
        "max_ms=0.0005",
        "min_ms=-3.9999999",
        "max_ms=999999999999.9999",
        "min_ms=123456789.0123",
        "max_ms=1e12",
    ] {
        let q = TraceQuery::from_query_string(text).unwrap();
        assert_eq!(
            TraceQuery::from_query_string(&q.to_query_string()).unwrap(),
            q,
            "{text} -> {}",
            q.to_query_string()
        );
    }
    let q = TraceQuery::from_query_string("min_ms=1.23456789").unwrap();
    assert_eq!(q.min_duration_ms, Some(1.235));
}

#[test]
fn bad_values_name_the_parameter() {
    let err = TraceQuery::from_query_string("from=yesterday").unwrap_err();
    assert!(err.0.contains("from"), "{err}");
    let err = TraceQuery::from_query_string("tag=novalue").unwrap_err();
    assert!(err.0.contains("key=value"), "{err}");
    let err = TraceQuery::from_query_string("min_ms=NaN").unwrap_err();
    assert!(err.0.contains("finite"), "{err}");
    assert!(TraceQuery::from_query_string("max_ms=inf").is_err());
    let err = TraceQuery::from_query_string("min_ms=6.8e63").unwrap_err();
    assert!(err.0.contains("min_ms"), "{err}");
    let err = TraceQuery::from_query_string("sort=sideways").unwrap_err();
    assert!(err.0.contains("sort"), "{err}");
    let err = TraceQuery::from_query_string("range=fortnight").unwrap_err();
    assert!(err.0.contains("range"), "{err}");
}

#[test]
fn a_recent_range_and_a_from_time_both_apply() {
    let now = 10 * 86_400_000;
    let day_ago = now - 86_400_000;
    let q = |from_ms, range| TraceQuery {
        from_ms,
        range,
        ..TraceQuery::default()
    };
    assert_eq!(q(None, RecentRange::All).start_from_ms(now), None);
    assert_eq!(q(None, RecentRange::Day).start_from_ms(now), Some(day_ago));
    assert_eq!(q(Some(5), RecentRange::All).start_from_ms(now), Some(5));
    assert_eq!(
        q(Some(5), RecentRange::Day).start_from_ms(now),
        Some(day_ago)
    );
    assert_eq!(
        q(Some(now - 5), RecentRange::Day).start_from_ms(now),
        Some(now - 5)
    );
    assert!(!q(None, RecentRange::All)
        .to_query_string()
        .contains("range"));
}

#[test]
fn decoding_tolerates_malformed_escapes() {
    assert_eq!(percent_decode("a%2"), "a%2");
    assert_eq!(percent_decode("100%"), "100%");
    assert_eq!(percent_decode("%zz"), "%zz");
    assert_eq!(percent_decode("a+b%20c"), "a b c");
    assert_eq!(percent_decode("%C3%A9"), "é");
}

#[test]
fn limit_is_clamped() {
    let q = TraceQuery::from_query_string("limit=100000").unwrap();
    assert_eq!(q.limit(), TraceQuery::MAX_LIMIT);
    assert_eq!(TraceQuery::default().limit(), TraceQuery::DEFAULT_LIMIT);
}

#[test]
fn span_conditions_round_trip_and_bad_ones_say_where() {
    let q = TraceQuery::from_query_string(
        "filter=eq(run_type,%22llm%22)&trace_filter=eq(tag.env,%22prod%22)&tree_filter=gt(attr.n,3)",
    )
    .unwrap();
    assert_eq!(q.filter.as_deref(), Some(r#"eq(run_type,"llm")"#));
    assert_eq!(q.trace_filter.as_deref(), Some(r#"eq(tag.env,"prod")"#));
    assert_eq!(q.tree_filter.as_deref(), Some("gt(attr.n,3)"));
    assert_eq!(TraceQuery::from_query_string(&q.to_query_string()), Ok(q));
    let err = TraceQuery::from_query_string("tree_filter=eq(nmae,1)").unwrap_err();
    assert!(err.0.starts_with("tree_filter: unknown field"), "{err}");
    assert!(err.0.contains("at character 4"), "{err}");
    assert_eq!(
        err.1,
        Some(FilterPosition {
            param: "tree_filter".into(),
            offset: 3,
            end: 7,
            char_offset: 3
        })
    );
    let blank = TraceQuery::from_query_string("trace_filter=%20").unwrap();
    assert_eq!(blank.trace_filter, None);
}
