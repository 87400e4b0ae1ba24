//! A large trace written in parts (sent in several requests, each span once: what a batch
//! exporter or a 100k-span trace does), then with a part sent again (a retry), reads as if it
//! had come at once: first in a list by its tags, counted, summarised and measured exactly.

use std::sync::Arc;

use skein_model::metrics::MetricQuery;
use skein_model::span::{Span, SpanStatus, SpanType};
use skein_model::{TagFilter, TraceQuery};

use super::{base_ns, span, trace_hex};
use crate::store::Store;

/// Spans in the large trace.
const SPANS: usize = 3_000;

/// The large trace (id `trace_hex(100)`), started after every other: a root tagged `env=prod`
/// and `tier=gold`, then `SPANS - 1` children tagged `env=child`, every tenth a failed model
/// call with 3 input tokens.
fn large_trace() -> Vec<Span> {
    let id = trace_hex(100);
    let mut root = span("1", "1", None, 1_000);
    root.trace_id = id.clone();
    root.span_id = format!("{:016x}", 1);
    root.tags.insert("env".into(), "prod".into());
    root.tags.insert("tier".into(), "gold".into());
    let mut spans = vec![root];
    for i in 2..=SPANS as i64 {
        let mut child = span("1", "2", None, 1_000 + i);
        child.trace_id = id.clone();
        child.span_id = format!("{i:016x}");
        child.parent_span_id = Some(format!("{:016x}", 1));
        child.tags.insert("env".into(), "child".into());
        if i % 10 == 0 {
            child.span_type = SpanType::Llm;
            child.status = SpanStatus::Error;
            child.input_tokens = Some(3);
        }
        spans.push(child);
    }
    spans
}

/// Twelve small traces, one a millisecond, the even ones tagged `env=prod`.
fn small_traces() -> Vec<Span> {
    (0..12)
        .map(|i| {
            let mut s = span("1", "1", None, i);
            s.trace_id = trace_hex(i);
            let env = if i % 2 == 0 { "prod" } else { "dev" };
            s.tags.insert("env".into(), env.into());
            s
        })
        .collect()
}

fn by_tags(tags: &[&str], limit: u32) -> TraceQuery {
    TraceQuery {
        tags: tags
            .iter()
            .map(|t| TagFilter::parse(t).expect("a tag filter"))
            .collect(),
        limit: Some(limit),
        ..TraceQuery::default()
    }
}

/// What a client reads of the large trace and the lists around it.
async fn reads_as_one_trace(store: &Arc<dyn Store>) {
    let page = store
        .list_traces("p", &by_tags(&["env=prod"], 2))
        .await
        .unwrap();
    assert_eq!(page.total, 7, "the large trace and six small ones");
    let first = &page.traces[0];
    assert_eq!(first.trace_id, trace_hex(100));
    assert_eq!(first.span_count, SPANS as u64);
    assert_eq!(first.error_count, (SPANS / 10) as u64);
    assert_eq!(first.input_tokens, 3 * (SPANS / 10) as i64);
    assert_eq!(first.start_ns, base_ns() + 1_000 * 1_000_000);
    assert_eq!(
        first.end_ns,
        base_ns() + (1_000 + SPANS as i64 + 1) * 1_000_000
    );
    assert_eq!(first.root_name, "span-1");
    assert_eq!(first.tags.get("env").map(String::as_str), Some("prod"));
    assert_eq!(first.tags.get("tier").map(String::as_str), Some("gold"));
    assert_eq!(page.traces[1].trace_id, trace_hex(10));
    let mut next = by_tags(&["env=prod"], 2);
    next.cursor = page.next_cursor.clone();
    let second = store.list_traces("p", &next).await.unwrap();
    let ids: Vec<&str> = second.traces.iter().map(|t| t.trace_id.as_str()).collect();
    assert_eq!(ids, [trace_hex(8), trace_hex(6)]);

    let both = store
        .list_traces("p", &by_tags(&["env=prod", "tier=gold"], 5))
        .await
        .unwrap();
    assert_eq!(both.total, 1);
    assert_eq!(both.traces[0].span_count, SPANS as u64);
    let child = store
        .list_traces("p", &by_tags(&["env=child"], 5))
        .await
        .unwrap();
    assert_eq!(child.total, 0, "a child's tag is not the trace's");
    let all = store
        .list_traces("p", &TraceQuery::default())
        .await
        .unwrap();
    assert_eq!((all.total, all.traces[0].span_count), (13, SPANS as u64));

    let errors = store
        .metrics(
            "p",
            &MetricQuery::from_query_string("metric=error_rate&group_by=env").unwrap(),
        )
        .await
        .unwrap();
    let mut groups: Vec<(Option<String>, u64, f64)> = errors
        .groups
        .iter()
        .map(|g| (g.value.clone(), g.n, g.sum))
        .collect();
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        groups,
        [(Some("dev".into()), 6, 0.0), (Some("prod".into()), 7, 1.0)]
    );
    let values = store.tag_values("p", "env", None, 10).await.unwrap();
    let counts: Vec<(&str, u64)> = values
        .iter()
        .map(|v| (v.value.as_str(), v.trace_count))
        .collect();
    assert_eq!(counts, [("prod", 7), ("dev", 6)]);
}

pub async fn a_large_trace_in_parts_lists_first_by_its_tags(store: Arc<dyn Store>) {
    store.write_spans(small_traces()).await.unwrap();
    let spans = large_trace();
    // Children first, the root in the last part.
    let parts: Vec<Vec<Span>> = spans.rchunks(SPANS / 4).map(<[Span]>::to_vec).collect();
    for part in &parts {
        store.write_spans(part.clone()).await.unwrap();
    }
    reads_as_one_trace(&store).await;
    // A part sent again (a retry): each span still counted once.
    store.write_spans(parts[1].clone()).await.unwrap();
    reads_as_one_trace(&store).await;
}
