use super::*;
use crate::skeleton_head::SkeletonHead;
use crate::span::{SpanKind, SpanStatus, SpanType};
use crate::trace::{SkeletonSpanInput, TraceSummary};

fn input<'a>(
    id: &'a str,
    parent: Option<&'a str>,
    name: &'a str,
    service: &'a str,
    start_ns: i64,
    end_ns: i64,
) -> SkeletonSpanInput<'a> {
    SkeletonSpanInput {
        span_id: id,
        parent_span_id: parent,
        name,
        service,
        span_type: SpanType::Llm,
        start_ns,
        end_ns,
        status: SpanStatus::Error,
        tokens: 1234,
        kind: SpanKind::Client,
        cost: 0.0,
    }
}

fn sample(ids: [&str; 5]) -> TraceSkeleton {
    let summary = TraceSummary {
        trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
        root_name: "research_run".into(),
        has_root: true,
        span_count: 4,
        services: vec!["planner".into(), "search".into()],
        ..TraceSummary::default()
    };
    let mut inputs = vec![
        input(
            ids[0],
            None,
            "research_run",
            "planner",
            1_000_000_000,
            9_000_000_000,
        ),
        input(
            ids[1],
            Some(ids[0]),
            "plan_step",
            "planner",
            1_500_000_000,
            2_000_000_000,
        ),
        // Starts before its parent (another service's clock): its parent's index is larger.
        input(
            ids[2],
            Some(ids[3]),
            "fetch_page",
            "search",
            1_200_000_000,
            1_300_000_000,
        ),
        input(
            ids[3],
            Some(ids[0]),
            "search_documents",
            "search",
            1_400_000_000,
            3_000_000_000,
        ),
        input(
            ids[4],
            Some("never-arrived"),
            "fetch_page",
            "søk — ünïcode",
            500,
            2_000,
        ),
    ];
    inputs[1].cost = 0.0042;
    inputs[3].tokens = 0;
    inputs[3].kind = SpanKind::Server;
    inputs[4].tokens = -5;
    TraceSkeleton::build(summary, inputs)
}

const HEX: [&str; 5] = [
    "00f067aa0ba902b7",
    "b7ad6b7169203331",
    "0000000000000001",
    "ffffffffffffffff",
    "0123456789abcdef",
];

#[test]
fn a_skeleton_comes_back_in_display_order() {
    let hex = sample(HEX);
    assert_eq!(decode(&encode(&hex)), Ok(hex.in_display_order()));
    // Ids of any other shape (here a LangSmith-style UUID and upper case) as text.
    let text = sample([
        "1f2e3d4c-0000-4000-8000-000000000001",
        "B7AD6B7169203331",
        "x",
        "",
        "0123456789abcdef",
    ]);
    assert_eq!(decode(&encode(&text)), Ok(text.in_display_order()));
    assert!(encode(&text).len() > encode(&hex).len());
    // The top of the tree first; cost, orphan and negative tokens survive.
    let back = decode(&encode(&hex)).unwrap();
    let ids: Vec<String> = back.spans.iter().map(|s| s.span_id().to_string()).collect();
    // Children in start order: search_documents (1.4 s) with its child, then plan_step.
    assert_eq!(ids, [HEX[0], HEX[3], HEX[2], HEX[1], HEX[4]]);
    assert_eq!(back.spans[2].parent(), Some(1));
    assert_eq!(
        back.orphans.get(&4).map(String::as_str),
        Some("never-arrived")
    );
    assert!(back.spans.iter().any(|s| s.cost() == 0.0042));
    assert_eq!(back.spans[4].tokens(), -5);
    assert_eq!(back.service_of(&back.spans[4]), "søk — ünïcode");
    let empty = TraceSkeleton::default();
    assert_eq!(decode(&encode(&empty)), Ok(empty));
}

/// A tree of fan-out 10 with 16-hex-digit ids, children one after another.
fn big(n: usize) -> TraceSkeleton {
    let ids: Vec<String> = (1..=n as u64)
        .map(|i| format!("{:016x}", i * 7919))
        .collect();
    let names = ["run", "agent", "step", "llm", "tool"];
    let inputs: Vec<SkeletonSpanInput> = (0..ids.len())
        .map(|i| {
            let parent = (i > 0).then(|| ids[(i - 1) / 10].as_str());
            let start = 1_700_000_000_000_000_000 + i as i64 * 1_000;
            let mut s = input(
                &ids[i],
                parent,
                names[i % names.len()],
                if i % 3 == 0 { "a" } else { "b" },
                start,
                start + 50_000,
            );
            s.cost = if i % 7 == 0 { 0.001 } else { 0.0 };
            s
        })
        .collect();
    TraceSkeleton::build(TraceSummary::default(), inputs)
}

#[test]
fn a_big_skeleton_is_a_fraction_of_its_json() {
    let sk = big(10_000);
    let binary = encode(&sk);
    let json = serde_json::to_vec(&sk).unwrap();
    assert!(
        binary.len() * 2 < json.len(),
        "{} vs {}",
        binary.len(),
        json.len()
    );
    assert_eq!(decode(&binary), Ok(sk.in_display_order()));
}

#[test]
fn the_first_rows_decode_before_the_rest_has_arrived() {
    let sk = big(CHUNK + 2 * FIRST_CHUNK);
    let pieces = encode_pieces(&sk);
    assert_eq!(pieces.len(), 4, "header and first chunk, two chunks, tail");
    let whole = sk.in_display_order();

    // The first piece alone: the header and the first screen of rows, top of the tree first.
    let mut decoder = Decoder::new();
    decoder.feed(&pieces[0]).unwrap();
    assert_eq!(decoder.expected_spans(), Some(whole.spans.len()));
    let first = decoder.skeleton();
    assert_eq!(first.spans.len(), FIRST_CHUNK);
    assert_eq!(first.spans[..], whole.spans[..FIRST_CHUNK]);
    assert_eq!(first.names[..], whole.names[..first.names.len()]);
    assert!(!decoder.is_done());

    // The rest in pieces of any size, cut anywhere: the same skeleton in the end.
    let rest = pieces[1..].concat();
    for step in [1, 7, 4096, rest.len()] {
        let mut d = Decoder::new();
        d.feed(&pieces[0]).unwrap();
        for part in rest.chunks(step) {
            d.feed(part).unwrap();
        }
        assert!(d.is_done());
        assert_eq!(d.finish(), Ok(whole.clone()), "pieces of {step}");
    }
    let all = pieces.concat();
    let mut d = Decoder::new();
    for part in all.chunks(3) {
        d.feed(part).unwrap();
    }
    assert_eq!(d.finish(), Ok(whole));
}

#[test]
fn damaged_input_is_an_error_not_a_panic() {
    let bytes = encode(&sample(HEX));
    for len in 0..bytes.len() {
        assert!(decode(&bytes[..len]).is_err(), "cut at {len}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(decode(&longer).is_err());
    assert!(decode(b"{\"summary\":{}}").is_err());
    // Every single byte changed: an error or some skeleton, never a panic.
    for at in 0..bytes.len() {
        for v in [0u8, 0x7f, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[at] = v;
            let _ = decode(&b);
        }
    }
    // A huge span count reserves no more than MAX_RESERVED, and is found out at the tail.
    let mut huge = Vec::from(&MAGIC[..]);
    huge.push(VERSION);
    let mut header = Vec::new();
    put_bytes(
        &mut header,
        &serde_json::to_vec(&TraceSummary::default()).unwrap(),
    );
    put_i64(&mut header, 0);
    put_u64(&mut header, u64::MAX >> 1);
    put_frame(&mut huge, &header);
    put_frame(&mut huge, &[0, 0]);
    let mut d = Decoder::new();
    assert_eq!(
        d.feed(&huge),
        Err(bad("fewer spans than the header announced"))
    );
}

/// The first `k` spans of a skeleton in display order, as a store reads them apart: each span's
/// columns pushed into a head of the trace `summary` describes.
fn head_of(sk: &TraceSkeleton, summary: TraceSummary, k: usize) -> SkeletonHead {
    let shown = sk.in_display_order();
    let mut head = crate::skeleton_head::HeadBuilder::new(summary);
    for s in &shown.spans[..k] {
        let start_ns = shown.start_ns + s.5 * 1_000;
        let id = s.span_id().to_string();
        head.push(
            SkeletonSpanInput {
                span_id: &id,
                parent_span_id: None,
                name: &shown.names[s.2 as usize],
                service: &shown.services[s.3 as usize],
                span_type: SpanType::from_code(s.4),
                start_ns,
                end_ns: start_ns + s.6 * 1_000,
                status: SpanStatus::from_code(s.7),
                tokens: s.8,
                kind: SpanKind::from_code(s.9),
                cost: s.10,
            },
            s.parent().map(|p| p as u32),
        );
    }
    head.finish()
}

fn whole_summary(sk: &TraceSkeleton) -> TraceSummary {
    TraceSummary {
        span_count: sk.spans.len() as u64,
        start_ns: sk.start_ns,
        ..sk.summary.clone()
    }
}

#[test]
fn a_head_read_apart_is_the_first_chunk_and_the_rest_follows_it() {
    let mut sk = big(CHUNK + 3 * FIRST_CHUNK);
    sk.summary = whole_summary(&sk);
    let head = head_of(&sk, sk.summary.clone(), FIRST_CHUNK);
    let first = encode_head(&head);
    assert_eq!(
        first,
        encode_pieces(&sk)[0],
        "the same bytes as the whole's first piece"
    );
    let rest = Pieces::after_head(sk.clone(), &head);
    assert!(rest.continue_head());
    let mut d = Decoder::new();
    d.feed(&first).unwrap();
    assert_eq!(d.skeleton().spans.len(), FIRST_CHUNK);
    for piece in rest {
        d.feed(&piece).unwrap();
    }
    assert_eq!(d.finish(), Ok(sk.in_display_order()));
}

#[test]
fn a_head_the_whole_does_not_begin_with_is_forgotten() {
    let mut sk = big(2 * FIRST_CHUNK);
    sk.summary = whole_summary(&sk);
    // Read while the trace had fewer spans: its count differs from the whole's.
    let mut earlier = sk.summary.clone();
    earlier.span_count -= 1;
    // And a head in another order (the second root's subtree first): not the whole's start.
    for head in [
        head_of(&sk, earlier, FIRST_CHUNK),
        head_of(&sk, sk.summary.clone(), 1),
    ] {
        let mut changed = head.clone();
        if head.total == sk.spans.len() {
            changed.skeleton.spans[0].8 += 1;
        }
        let rest = Pieces::after_head(sk.clone(), &changed);
        assert!(!rest.continue_head());
        let mut d = Decoder::new();
        d.feed(&encode_head(&changed)).unwrap();
        assert!(!d.skeleton().spans.is_empty());
        for piece in rest {
            d.feed(&piece).unwrap();
        }
        assert_eq!(d.finish(), Ok(sk.in_display_order()));
    }
    // An empty frame before any header is damage.
    let mut bytes = Vec::from(&MAGIC[..]);
    bytes.push(VERSION);
    put_frame(&mut bytes, &[]);
    assert!(decode(&bytes).is_err());
}
