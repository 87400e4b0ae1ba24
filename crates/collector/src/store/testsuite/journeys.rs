//! Sessions, users and the service graph.

use std::sync::Arc;

use skein_model::service_graph::ServiceGraphQuery;
use skein_model::sessions::SessionQuery;
use skein_model::span::SpanStatus;

use super::{span, trace_hex};
use crate::store::Store;

pub async fn sessions_and_users_aggregate_their_requests(store: Arc<dyn Store>) {
    // Two sessions of ana (2 and 1 requests), one of bo; one request without a session.
    let plan = [
        (Some("s-1"), "ana", 10, false),
        (Some("s-1"), "ana", 20, true),
        (Some("s-2"), "ana", 30, false),
        (Some("s-3"), "bo", 40, false),
        (None, "bo", 50, false),
    ];
    let mut spans = Vec::new();
    for (i, (session, user, tokens, failed)) in plan.iter().enumerate() {
        let mut root = span("1", "1", None, i as i64 * 10);
        root.trace_id = trace_hex(i as i64);
        root.session_id = session.map(String::from);
        root.user_id = Some(user.to_string());
        root.input_tokens = Some(*tokens);
        if *failed {
            root.status = SpanStatus::Error;
        }
        spans.push(root);
    }
    store.write_spans(spans).await.unwrap();

    let page = store
        .list_sessions("p", &SessionQuery::default())
        .await
        .unwrap();
    assert_eq!(page.total, 3);
    let s1 = page
        .sessions
        .iter()
        .find(|s| s.session_id == "s-1")
        .expect("s-1");
    assert_eq!(s1.user_id.as_deref(), Some("ana"));
    assert_eq!(s1.stats.request_count, 2);
    assert_eq!(s1.stats.input_tokens, 30);
    assert_eq!(s1.stats.error_count, 1);
    // Newest activity first.
    let order: Vec<&str> = page
        .sessions
        .iter()
        .map(|s| s.session_id.as_str())
        .collect();
    assert_eq!(order, vec!["s-3", "s-2", "s-1"]);

    let detail = store.session("p", "s-1").await.unwrap().expect("s-1");
    assert_eq!(detail.requests.len(), 2);
    assert!(detail.requests[0].trace.start_ns < detail.requests[1].trace.start_ns);
    assert!(store.session("p", "nope").await.unwrap().is_none());
    assert!(store.session("other", "s-1").await.unwrap().is_none());

    let users = store
        .list_users("p", &SessionQuery::default())
        .await
        .unwrap();
    assert_eq!(users.total, 2);
    let ana = users
        .users
        .iter()
        .find(|u| u.user_id == "ana")
        .expect("ana");
    assert_eq!((ana.session_count, ana.stats.request_count), (2, 3));
    let bo = store
        .user("p", "bo", &SessionQuery::default())
        .await
        .unwrap()
        .expect("bo");
    assert_eq!(bo.summary.stats.request_count, 2);
    assert_eq!(bo.sessions.total, 1);
    assert_eq!(bo.requests_without_session, 1);
}

pub async fn the_service_graph_counts_calls_between_services(store: Arc<dyn Store>) {
    let mut spans = Vec::new();
    for i in 0..4 {
        let mut root = span("1", "1", None, i * 10);
        root.trace_id = trace_hex(i);
        root.service = "gateway".into();
        let mut call = span("1", "2", Some("1"), i * 10);
        call.trace_id = trace_hex(i);
        call.service = "llm".into();
        call.end_ns = call.start_ns + (i + 1) * 1_000_000;
        if i == 3 {
            call.status = SpanStatus::Error;
        }
        // A span of the same service under the call is not a call between services.
        let mut inner = span("1", "3", Some("2"), i * 10);
        inner.trace_id = trace_hex(i);
        inner.service = "llm".into();
        spans.extend([root, call, inner]);
    }
    store.write_spans(spans).await.unwrap();
    let graph = store
        .service_graph("p", &ServiceGraphQuery::default())
        .await
        .unwrap();
    assert_eq!(graph.trace_count, 4);
    assert_eq!(graph.edges.len(), 1, "{:?}", graph.edges);
    let edge = &graph.edges[0];
    assert_eq!(
        (edge.caller.as_str(), edge.callee.as_str()),
        ("gateway", "llm")
    );
    assert_eq!((edge.stats.calls, edge.stats.errors), (4, 1));
    // Durations 1, 2, 3, 4 ms: the median is 2.5 ms (linear interpolation).
    assert_eq!(edge.stats.p50_ns, Some(2_500_000));
    let names: Vec<&str> = graph.nodes.iter().map(|n| n.name.as_str()).collect();
    assert!(
        names.contains(&"gateway") && names.contains(&"llm"),
        "{names:?}"
    );
    let empty = store
        .service_graph("other", &ServiceGraphQuery::default())
        .await
        .unwrap();
    assert!(empty.edges.is_empty() && empty.nodes.is_empty());
}
