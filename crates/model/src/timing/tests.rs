use super::*;

fn span(parent: Option<usize>, start: i64, end: i64, service: u32) -> SpanTiming {
    SpanTiming {
        parent,
        start,
        end,
        service,
        kind: SpanKind::Internal,
    }
}

#[test]
fn clocks_that_agree_change_nothing() {
    let spans = [
        span(None, 0, 100, 0),
        span(Some(0), 10, 40, 1), // another service, inside its parent
        span(Some(1), 12, 30, 1),
    ];
    assert_eq!(clock_skew_shifts(&spans), vec![0, 0, 0]);
}

#[test]
fn a_server_span_early_by_a_skewed_clock_is_centred_in_its_client() {
    // The client waits 10..50; the server's clock runs 100 behind: it says -80..-60.
    let spans = [
        span(None, 0, 100, 0),
        span(Some(0), 10, 50, 0),   // client span, service 0
        span(Some(1), -80, -60, 1), // server span, service 1
        span(Some(2), -75, -65, 1), // its child, same clock
    ];
    let shifts = clock_skew_shifts(&spans);
    // Centred: (40 - 20) / 2 = 10 of latency each side → starts at 20.
    assert_eq!(shifts[2], 100);
    assert_eq!(spans[2].start + shifts[2], 20);
    assert_eq!(
        shifts[3], shifts[2],
        "descendants on the same clock move along"
    );
    assert_eq!(shifts[0], 0);
    assert_eq!(shifts[1], 0);
}

#[test]
fn a_child_longer_than_its_parent_only_moves_right() {
    let late = [span(None, 0, 10, 0), span(Some(0), 5, 50, 1)];
    assert_eq!(clock_skew_shifts(&late), vec![0, 0]);
    let early = [span(None, 0, 10, 0), span(Some(0), -5, 40, 1)];
    assert_eq!(clock_skew_shifts(&early), vec![0, 5]);
}

#[test]
fn critical_path_of_a_sequence() {
    // root 0..100: a 10..40 then b 50..90.
    let spans = [
        span(None, 0, 100, 0),
        span(Some(0), 10, 40, 0),
        span(Some(0), 50, 90, 0),
    ];
    let sections = critical_path(&spans, 0);
    let by_span = critical_time_by_span(&sections, spans.len());
    assert_eq!(by_span, vec![10 + 10 + 10, 30, 40]);
    assert_eq!(
        by_span.iter().sum::<i64>(),
        100,
        "the path covers the whole trace"
    );
}

#[test]
fn overlapping_parallel_children_only_the_last_to_finish_counts() {
    // root 0..100; parallel a 10..60, b 20..80, c 30..50. b finishes last: on the path
    // from 20 to 80. Before b started, no child had finished, so the root's own work
    // (0..20) is what the trace waited on; a and c never held it up.
    let spans = [
        span(None, 0, 100, 0),
        span(Some(0), 10, 60, 0),
        span(Some(0), 20, 80, 0),
        span(Some(0), 30, 50, 0),
    ];
    let sections = critical_path(&spans, 0);
    let by_span = critical_time_by_span(&sections, spans.len());
    assert_eq!(by_span, vec![20 + 20, 0, 60, 0]);
    assert_eq!(
        sections[0],
        CriticalSection {
            span: 0,
            start: 80,
            end: 100
        }
    );
}

#[test]
fn nested_children_and_a_child_overrunning_its_parent() {
    // root 0..100 → a 10..90 → a1 20..95 (runs past a: clipped to 20..90).
    let spans = [
        span(None, 0, 100, 0),
        span(Some(0), 10, 90, 0),
        span(Some(1), 20, 95, 0),
    ];
    let by_span = critical_time_by_span(&critical_path(&spans, 0), spans.len());
    assert_eq!(by_span, vec![10 + 10, 10, 70]);
}

#[test]
fn malformed_input_does_not_hang() {
    let spans = [span(Some(1), 0, 10, 0), span(Some(0), 0, 10, 0)];
    let _ = critical_path(&spans, 0);
    let _ = clock_skew_shifts(&spans);
    assert!(critical_path(&[], 0).is_empty());
}

#[test]
fn asynchronous_hand_offs_are_not_adjusted() {
    let mut consumer = span(Some(0), 500, 600, 1);
    consumer.kind = SpanKind::Consumer;
    let spans = [span(None, 0, 100, 0), consumer];
    assert_eq!(clock_skew_shifts(&spans), vec![0, 0]);
}

#[test]
fn a_zero_length_child_does_not_stall_the_walk() {
    // root 0..100 with an instant child at 50 and a child 10..40.
    let spans = [
        span(None, 0, 100, 0),
        span(Some(0), 10, 40, 0),
        span(Some(0), 50, 50, 0),
    ];
    let by_span = critical_time_by_span(&critical_path(&spans, 0), spans.len());
    assert_eq!(by_span, vec![70, 30, 0]);
}

#[test]
fn a_very_wide_trace_is_walked_in_near_linear_time() {
    // 200,000 sequential children: quadratic work would take minutes.
    let n = 200_000;
    let mut spans = vec![span(None, 0, 2 * n as i64 + 1, 0)];
    spans.extend((0..n as i64).map(|k| span(Some(0), 2 * k + 1, 2 * k + 2, 0)));
    let started = std::time::Instant::now();
    let by_span = critical_time_by_span(&critical_path(&spans, 0), spans.len());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(by_span.iter().sum::<i64>(), 2 * n as i64 + 1);
    assert!(by_span[1..].iter().all(|&t| t == 1));
}

#[test]
fn the_extent_holds_children_outside_their_root() {
    // A millisecond clock: the child starts 2 before its root, another ends 3 after it.
    let spans = [
        span(None, 0, 100, 0),
        span(Some(0), -2, 50, 0),
        span(Some(0), 60, 103, 0),
    ];
    assert_eq!(trace_extent(&spans), Some((-2, 103)));
    // A span with its end before its start counts as an instant.
    assert_eq!(trace_extent(&[span(None, 10, 5, 0)]), Some((10, 10)));
    assert_eq!(trace_extent(&[]), None);
}

mod on_a_skeleton {
    use super::super::*;
    use crate::span::{SpanStatus, SpanType};
    use crate::trace::{SkeletonSpanInput, TraceSummary};

    const MS: i64 = 1_000_000;

    fn input<'a>(
        id: &'a str,
        parent: Option<&'a str>,
        service: &'a str,
        kind: SpanKind,
        start_ms: i64,
        end_ms: i64,
    ) -> SkeletonSpanInput<'a> {
        SkeletonSpanInput {
            span_id: id,
            parent_span_id: parent,
            name: id,
            service,
            span_type: SpanType::Http,
            start_ns: 1_000 * MS + start_ms * MS,
            end_ns: 1_000 * MS + end_ms * MS,
            status: SpanStatus::Unset,
            tokens: 0,
            kind,
            cost: 0.0,
        }
    }

    /// gateway (0..100) calls orders (client 10..70); orders' clock runs 30 ms behind, so
    /// its server span says 0..40 (truly 15..55) and its db child 5..35.
    fn skewed() -> TraceSkeleton {
        TraceSkeleton::build(
            TraceSummary::default(),
            vec![
                input("root", None, "gateway", SpanKind::Server, 0, 100),
                input("call", Some("root"), "gateway", SpanKind::Client, 10, 70),
                input("serve", Some("call"), "orders", SpanKind::Server, 0, 40),
                input("db", Some("serve"), "orders", SpanKind::Internal, 5, 35),
                input("after", Some("root"), "gateway", SpanKind::Internal, 75, 90),
            ],
        )
    }

    fn index(sk: &TraceSkeleton, id: &str) -> usize {
        sk.spans.iter().position(|s| s.span_id() == id).unwrap()
    }

    #[test]
    fn the_skewed_server_span_moves_into_its_client_with_its_children() {
        let sk = skewed();
        let t = TraceTiming::compute(&sk, true);
        let (serve, db) = (index(&sk, "serve"), index(&sk, "db"));
        // Centred: (60 - 40) / 2 = 10 ms each side → starts at 20 ms, i.e. +20 ms.
        assert_eq!(t.own_adjustment_us(&sk, serve), 20_000);
        assert_eq!(t.own_adjustment_us(&sk, db), 0, "moved along, not adjusted");
        assert_eq!(t.shift_us(db), 20_000);
        assert_eq!(t.adjusted_count, 1);
        let (s, e) = t.extent_us(&sk, serve);
        let (cs, ce) = t.extent_us(&sk, index(&sk, "call"));
        assert!(cs <= s && e <= ce);

        let off = TraceTiming::compute(&sk, false);
        assert!((0..sk.spans.len()).all(|i| off.shift_us(i) == 0));
        assert_eq!(off.adjusted_count, 0);
        assert_eq!(
            off.extent_us(&sk, serve),
            (sk.spans[serve].start_us(), sk.spans[serve].end_us())
        );
    }

    #[test]
    fn one_extent_for_header_ruler_and_bars_follows_the_adjustment() {
        // A JS SDK's millisecond clock: a child starts 2 ms before its root and another
        // ends 3 ms after it (one service: the adjustment leaves them).
        let sk = TraceSkeleton::build(
            TraceSummary::default(),
            vec![
                input("root", None, "agent", SpanKind::Internal, 0, 100),
                input("early", Some("root"), "agent", SpanKind::Internal, -2, 50),
                input("late", Some("root"), "agent", SpanKind::Internal, 60, 103),
            ],
        );
        for skew in [true, false] {
            let t = TraceTiming::compute(&sk, skew);
            // Times are after the earliest start (the early child's).
            assert_eq!(t.extent_us, (0, 105_000));
            assert_eq!(t.duration_us(), 105_000);
            for i in 0..sk.spans.len() {
                let (s, e) = t.extent_us(&sk, i);
                assert!(t.extent_us.0 <= s && e <= t.extent_us.1);
            }
        }

        // Another service's clock 30 ms behind: its server span says -15..25 ms. As
        // recorded the trace spans 115 ms; adjusted, the span sits inside its client and
        // the trace is its root's 100 ms.
        let sk = TraceSkeleton::build(
            TraceSummary::default(),
            vec![
                input("root", None, "gateway", SpanKind::Server, 0, 100),
                input("call", Some("root"), "gateway", SpanKind::Client, 10, 70),
                input("serve", Some("call"), "orders", SpanKind::Server, -15, 25),
            ],
        );
        let on = TraceTiming::compute(&sk, true);
        assert_eq!(on.extent_us, (15_000, 115_000));
        assert_eq!(on.duration_us(), 100_000);
        let off = TraceTiming::compute(&sk, false);
        assert_eq!(off.extent_us, (0, 115_000));
        // No spans: the summary's time.
        let empty = TraceSkeleton::build(
            TraceSummary {
                start_ns: 5 * MS,
                end_ns: 12 * MS,
                ..TraceSummary::default()
            },
            Vec::new(),
        );
        assert_eq!(TraceTiming::compute(&empty, true).extent_us, (0, 7_000));
    }

    #[test]
    fn client_server_pairs_across_services_carry_their_gaps() {
        let sk = skewed();
        let (call, serve) = (index(&sk, "call"), index(&sk, "serve"));
        let t = TraceTiming::compute(&sk, true);
        assert_eq!(t.call_role(call), CallRole::Client { server: serve });
        assert_eq!(
            t.call_role(serve),
            CallRole::Server {
                client: call,
                gap: NetworkGap {
                    request: 10_000,
                    response: 10_000
                }
            }
        );
        assert_eq!(t.call_role(index(&sk, "db")), CallRole::None);
        // Unadjusted, the gaps show the disagreeing clocks.
        let off = TraceTiming::compute(&sk, false);
        assert_eq!(
            off.call_role(serve),
            CallRole::Server {
                client: call,
                gap: NetworkGap {
                    request: -10_000,
                    response: 30_000
                }
            }
        );
    }

    #[test]
    fn the_critical_path_lists_spans_in_order_with_shares_of_the_whole() {
        let sk = skewed();
        let t = TraceTiming::compute(&sk, true);
        let c = CriticalPath::compute(&sk, &t);
        assert_eq!(c.root, Some(index(&sk, "root")));
        assert_eq!(c.total_us, 100_000);
        let order: Vec<String> = c
            .spans()
            .map(|i| sk.spans[i].span_id().to_string())
            .collect();
        // root 0..10, call 10..20, serve 20..25, db 25..55, serve 55..60, call 60..70,
        // root 70..75, after 75..90, root 90..100.
        assert_eq!(order, vec!["root", "call", "serve", "db", "after"]);
        let shares: f64 = c.spans().map(|i| c.share(i)).sum();
        assert!((shares - 1.0).abs() < 1e-9);
        assert_eq!(c.time_us(index(&sk, "db")), 30_000);
        let root = index(&sk, "root");
        assert_eq!(
            c.sections(root),
            &[(0, 10_000), (70_000, 75_000), (90_000, 100_000)]
        );
        assert_eq!(
            c.sections(index(&sk, "serve")),
            &[(20_000, 25_000), (55_000, 60_000)]
        );
        assert!(c.sections(sk.spans.len()).is_empty());
        assert_eq!(t.extent_us, (0, 100_000));
        // Unadjusted, the server span as recorded (0..40 ms) is clipped to its client's call
        // (10..70): call 40..70, serve 35..40, db 10..35.
        let off = CriticalPath::compute(&sk, &TraceTiming::compute(&sk, false));
        assert_eq!(off.time_us(index(&sk, "call")), 30_000);
        assert_eq!(off.time_us(index(&sk, "serve")), 5_000);
        assert_eq!(off.time_us(index(&sk, "db")), 25_000);
    }

    #[test]
    fn the_critical_path_of_a_big_tree_is_its_sections_per_span() {
        // A tree of fan-out 10, children one after another inside their parent: every span
        // is on the path; the per-span sections agree with the plain walk's.
        let ids: Vec<String> = (0..5_000).map(|i| format!("{i:016x}")).collect();
        let mut window = vec![(0i64, 1_000_000_000i64); ids.len()];
        let mut inputs = Vec::new();
        for i in 0..ids.len() {
            let parent = (i > 0).then(|| (i - 1) / 10);
            if let Some(p) = parent {
                let (start, end) = window[p];
                let slot = (end - start) / 10;
                let k = ((i - 1) % 10) as i64;
                window[i] = (start + k * slot, start + (k + 1) * slot - slot / 10);
            }
            let mut span = input(&ids[i], None, "svc", SpanKind::Internal, 0, 0);
            span.parent_span_id = parent.map(|p| ids[p].as_str());
            span.start_ns = window[i].0 * 1_000;
            span.end_ns = window[i].1 * 1_000;
            inputs.push(span);
        }
        let sk = TraceSkeleton::build(TraceSummary::default(), inputs);
        let t = TraceTiming::compute(&sk, true);
        let c = CriticalPath::compute(&sk, &t);
        let spans: Vec<SpanTiming> = (0..sk.spans.len())
            .map(|i| SpanTiming {
                parent: sk.spans[i].parent(),
                start: sk.spans[i].start_us(),
                end: sk.spans[i].end_us(),
                service: 0,
                kind: SpanKind::Internal,
            })
            .collect();
        let mut plain = critical_path(&spans, c.root.unwrap());
        crate::sort::sort_by_key(&mut plain, |s| (s.span, s.start));
        let mut k = 0;
        for i in 0..sk.spans.len() {
            for &(start, end) in c.sections(i) {
                assert_eq!(
                    plain[k],
                    CriticalSection {
                        span: i,
                        start,
                        end
                    }
                );
                k += 1;
            }
        }
        assert_eq!(k, plain.len());
        assert_eq!(c.spans().len(), sk.spans.len());
        let total: i64 = (0..sk.spans.len()).map(|i| c.time_us(i)).sum();
        assert_eq!(total, c.total_us);
    }
}
