//! A big trace's first rows read apart (`QueryStore::trace_head`) are how its whole skeleton
//! begins, so that the collector can send them before it has read the rest.

use std::sync::Arc;

use skein_model::skeleton_wire::Pieces;

use super::span;
use crate::store::Store;

pub async fn a_trace_head_is_how_its_skeleton_begins(store: Arc<dyn Store>) {
    // Two roots (the later one's subtree after the whole of the first's), siblings starting
    // together (ordered by span id), children arriving before their parents, an orphan and a
    // span naming itself as its parent (neither is under a root), names repeated and new.
    let id = |i: usize| format!("{:016x}", 0x1000 + (i * 7919) % 4093);
    let mut spans = Vec::new();
    for i in 0..300 {
        let parent = match i {
            0 | 150 => None,
            7 => Some("00000000deadbeef".to_string()),
            8 => Some(id(8)),
            _ if i < 150 => Some(id((i - 1) / 4)),
            _ => Some(id(150 + (i - 151) / 3)),
        };
        let mut s = span("5e", "1", None, (i as i64 % 40) / 3);
        s.span_id = id(i);
        s.parent_span_id = parent;
        s.name = format!("step-{}", i % 17);
        s.service = format!("svc-{}", i % 5);
        spans.push(s);
    }
    let trace_id = spans[0].trace_id.clone();
    spans.reverse();
    for batch in spans.chunks(64) {
        store.write_spans(batch.to_vec()).await.unwrap();
    }
    let whole = store
        .trace("p", &trace_id)
        .await
        .unwrap()
        .expect("the trace");
    assert_eq!(whole.spans.len(), 300);
    let shown = whole.in_display_order();

    for want in [1, 10, 256] {
        let Some(head) = store.trace_head("p", &trace_id, want, 300).await.unwrap() else {
            continue; // an engine that does not read heads apart
        };
        assert_eq!(head.total, 300);
        assert_eq!(head.skeleton.summary, whole.summary);
        assert_eq!(head.skeleton.start_ns, whole.start_ns);
        assert_eq!(head.skeleton.spans.len(), want);
        assert_eq!(head.skeleton.spans[..], shown.spans[..want], "{want} spans");
        assert_eq!(
            head.skeleton.names[..],
            shown.names[..head.skeleton.names.len()]
        );
        assert!(Pieces::after_head(whole.clone(), &head).continue_head());
    }
    assert!(store
        .trace_head("p", &trace_id, 256, 301)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .trace_head("nobody", &trace_id, 256, 1)
        .await
        .unwrap()
        .is_none());
}
