use super::*;

fn demo() -> (Vec<&'static str>, Vec<(usize, usize)>) {
    // Sorted by name, as the API returns them.
    let names = vec![
        "agent-service",     // 0
        "analytics-service", // 1
        "api-gateway",       // 2
        "auth-service",      // 3
        "cache-service",     // 4
        "model-service",     // 5
        "search-service",    // 6
        "tool-service",      // 7
    ];
    let edges = vec![(0, 5), (0, 7), (2, 0), (2, 1), (2, 3), (7, 4), (7, 6)];
    (names, edges)
}

#[test]
fn the_seed_services_fall_into_four_layers() {
    let (names, edges) = demo();
    let g = layout(names.len(), &edges, &LayoutOptions::default());
    let layer_of = |name: &str| g.nodes[names.iter().position(|n| *n == name).unwrap()].layer;
    assert_eq!(layer_of("api-gateway"), 0);
    for s in ["auth-service", "agent-service", "analytics-service"] {
        assert_eq!(layer_of(s), 1, "{s}");
    }
    assert_eq!(layer_of("model-service"), 2);
    assert_eq!(layer_of("tool-service"), 2);
    assert_eq!(layer_of("search-service"), 3);
    assert_eq!(layer_of("cache-service"), 3);
    // Every edge runs left to right, from the caller's right side to the callee's left.
    for (i, &(a, b)) in edges.iter().enumerate() {
        let c = g.edges[i].expect("a curve");
        assert!(!c.back);
        assert_eq!(c.points[0].0, g.nodes[a].x + g.nodes[a].width);
        assert_eq!(c.points[3].0, g.nodes[b].x);
    }
    assert!(g.width > 0.0 && g.height > 0.0);
}

#[test]
fn nodes_do_not_overlap_and_fit_the_canvas() {
    let (names, edges) = demo();
    let g = layout(names.len(), &edges, &LayoutOptions::default());
    for (i, a) in g.nodes.iter().enumerate() {
        assert!(a.x >= 0.0 && a.y >= 0.0);
        assert!(a.x + a.width <= g.width && a.y + a.height <= g.height);
        for b in &g.nodes[i + 1..] {
            let apart = a.x + a.width <= b.x
                || b.x + b.width <= a.x
                || a.y + a.height <= b.y
                || b.y + b.height <= a.y;
            assert!(apart, "{a:?} overlaps {b:?}");
        }
    }
}

#[test]
fn children_sit_near_their_callers() {
    // The tool-service's callees sit next to each other, beside the tool-service.
    let (names, edges) = demo();
    let g = layout(names.len(), &edges, &LayoutOptions::default());
    let tool = g.nodes[7];
    let (search, cache) = (g.nodes[6], g.nodes[4]);
    let mid = (search.y + cache.y) / 2.0;
    assert!(
        (mid - tool.y).abs() <= tool.height + 34.0,
        "{tool:?} {search:?} {cache:?}"
    );
}

#[test]
fn the_layout_is_deterministic() {
    let (names, edges) = demo();
    let a = layout(names.len(), &edges, &LayoutOptions::default());
    let b = layout(names.len(), &edges, &LayoutOptions::default());
    assert_eq!(a, b);
    // Duplicate edges change nothing.
    let mut doubled = edges.clone();
    doubled.extend(edges.iter().copied());
    let c = layout(names.len(), &doubled, &LayoutOptions::default());
    assert_eq!(a.nodes, c.nodes);
}

#[test]
fn cycles_are_broken_and_drawn_below() {
    // a → b → c → a, and a → c.
    let edges = [(0, 1), (1, 2), (2, 0), (0, 2)];
    let g = layout(3, &edges, &LayoutOptions::default());
    let layers: Vec<usize> = g.nodes.iter().map(|b| b.layer).collect();
    assert_eq!(layers, vec![0, 1, 2]);
    let back: Vec<bool> = g.edges.iter().map(|e| e.unwrap().back).collect();
    assert_eq!(back, vec![false, false, true, false]);
    let curve = g.edges[2].unwrap();
    let lowest = g.nodes.iter().map(|b| b.y + b.height).fold(0.0, f64::max);
    assert!(
        curve.points[1].1 > lowest,
        "the back edge loops below the nodes"
    );
    assert!(curve.points[1].1 <= g.height);
}

#[test]
fn odd_input_is_tolerated() {
    let g = layout(0, &[], &LayoutOptions::default());
    assert!(g.nodes.is_empty());
    assert_eq!((g.width, g.height), (0.0, 0.0));
    // Self-calls and out-of-range indexes get no curve; lone nodes sit in layer 0.
    let g = layout(2, &[(0, 0), (0, 5)], &LayoutOptions::default());
    assert_eq!(g.edges, vec![None, None]);
    assert_eq!(g.nodes[0].layer, 0);
    assert_eq!(g.nodes[1].layer, 0);
    assert_ne!(g.nodes[0].y, g.nodes[1].y);
}

#[test]
fn path_data_is_numbers_only() {
    let g = layout(2, &[(0, 1)], &LayoutOptions::default());
    let path = g.edges[0].unwrap().path();
    assert!(path.starts_with("M "));
    assert!(path
        .chars()
        .all(|c| c.is_ascii_digit() || " .,-MC".contains(c)));
}

#[test]
fn stats_and_ranges() {
    let s = CallStats::from_durations(vec![50, 10, 40, 20, 30], 1);
    assert_eq!(s.calls, 5);
    assert_eq!(s.p50_ns, Some(30));
    assert_eq!(s.p95_ns, Some(48));
    assert!((s.error_rate() - 0.2).abs() < 1e-12);
    assert_eq!(CallStats::from_durations(vec![], 0).p95_ns, None);
    assert_eq!(CallStats::default().error_rate(), 0.0);

    let q = ServiceGraphQuery::from_query_string("tag=env%3Dprod&from=10&to=20").unwrap();
    assert_eq!(q.resolve(0), Ok((10, 20)));
    assert_eq!(
        ServiceGraphQuery::from_query_string(&q.to_query_string()),
        Ok(q)
    );
    let now = 1_000 * DEFAULT_RANGE_MS;
    assert_eq!(
        ServiceGraphQuery::default().resolve(now),
        Ok((now - DEFAULT_RANGE_MS, now))
    );
    let wide = ServiceGraphQuery {
        from_ms: Some(0),
        to_ms: Some(MAX_RANGE_MS + 1),
        ..Default::default()
    };
    assert!(wide.resolve(now).is_err());
    let backwards = ServiceGraphQuery {
        from_ms: Some(5),
        to_ms: Some(5),
        ..Default::default()
    };
    assert!(backwards.resolve(now).is_err());
    assert!(ServiceGraphQuery::from_query_string("from=x").is_err());
}
