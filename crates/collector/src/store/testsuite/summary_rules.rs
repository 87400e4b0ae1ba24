//! The trace-summary rules every read agrees on (`skein_model::trace_fold`): a trace's tags are
//! its root's without instrumentation's own keys; its usage is counted at its model calls.

use std::sync::Arc;

use skein_model::metrics::MetricQuery;
use skein_model::sessions::SessionQuery;
use skein_model::span::SpanType;
use skein_model::{TagFilter, TraceQuery};

use super::span;
use crate::store::Store;

fn by_tag(t: &str) -> TraceQuery {
    TraceQuery {
        tags: vec![TagFilter::parse(t).expect("a tag filter")],
        ..TraceQuery::default()
    }
}

pub async fn trace_tags_are_the_roots_without_instrumentation_keys(store: Arc<dyn Store>) {
    // A LangGraph run as the LangSmith SDK sends it: the user's metadata on every run, the
    // graph's bookkeeping on its nodes (and `_type` and a checkpoint namespace on the root).
    let mut root = span("a", "1", None, 1);
    let mut supervisor = span("a", "2", Some("1"), 2);
    let mut writer = span("a", "3", Some("1"), 3);
    for s in [&mut root, &mut supervisor, &mut writer] {
        s.tags.insert("env".into(), "production".into());
        s.tags.insert("customer".into(), "acme".into());
    }
    root.tags.insert("_type".into(), "fake-chat".into());
    root.tags.insert("checkpoint_ns".into(), "5b8e-uuid".into());
    root.tags.insert("logfire.msg".into(), "agent run".into());
    root.tags.insert("final_result".into(), "an answer".into());
    for (s, node, step) in [
        (&mut supervisor, "supervisor", "1"),
        (&mut writer, "writer", "2"),
    ] {
        s.tags.insert("langgraph_node".into(), node.into());
        s.tags.insert("langgraph_step".into(), step.into());
        s.tags.insert("node_note".into(), node.into());
    }
    // The children first: the root replaces what they said.
    store.write_spans(vec![writer, supervisor]).await.unwrap();
    store.write_spans(vec![root]).await.unwrap();

    let page = store
        .list_traces("p", &TraceQuery::default())
        .await
        .unwrap();
    let tags: Vec<(&str, &str)> = page.traces[0]
        .tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(tags, vec![("customer", "acme"), ("env", "production")]);
    for (filter, found) in [
        ("customer=acme", 1),
        ("langgraph_node=supervisor", 0),
        ("langgraph_node=writer", 0),
        ("node_note=supervisor", 0),
        ("_type=fake-chat", 0),
    ] {
        let total = store.list_traces("p", &by_tag(filter)).await.unwrap().total;
        assert_eq!(total, found, "{filter}");
    }
    let keys: Vec<String> = store
        .tag_keys("p")
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.key)
        .collect();
    assert_eq!(keys, vec!["customer", "env"]);
    let grouped = store
        .metrics(
            "p",
            &MetricQuery::from_query_string("metric=count&group_by=langgraph_node").unwrap(),
        )
        .await
        .unwrap();
    assert!(
        grouped.groups.iter().all(|g| g.value.is_none()),
        "{:?}",
        grouped.groups
    );
}

pub async fn usage_is_counted_once_in_lists_sessions_users_and_metrics(store: Arc<dyn Store>) {
    // A graph and its node repeat the usage of the one model call under them (59 tokens); a
    // second trace has no model call, and its agent's own usage is what it used.
    let mut graph = span("a", "1", None, 1);
    graph.span_type = SpanType::Chain;
    graph.session_id = Some("s-1".into());
    graph.user_id = Some("ana".into());
    let mut node = span("a", "2", Some("1"), 2);
    node.span_type = SpanType::Chain;
    let mut llm = span("a", "3", Some("2"), 3);
    llm.span_type = SpanType::Llm;
    llm.cost = Some(0.5);
    for s in [&mut graph, &mut node, &mut llm] {
        s.input_tokens = Some(40);
        s.output_tokens = Some(19);
    }
    let mut agent = span("b", "1", None, 10);
    agent.span_type = SpanType::Agent;
    agent.session_id = Some("s-1".into());
    agent.user_id = Some("ana".into());
    agent.input_tokens = Some(7);
    agent.output_tokens = Some(3);
    // The model call in a batch of its own, after its parents.
    store.write_spans(vec![graph, node, agent]).await.unwrap();
    store.write_spans(vec![llm]).await.unwrap();

    let page = store
        .list_traces("p", &TraceQuery::default())
        .await
        .unwrap();
    let mut usage: Vec<(i64, i64)> = page
        .traces
        .iter()
        .map(|t| (t.input_tokens, t.output_tokens))
        .collect();
    usage.sort();
    assert_eq!(usage, vec![(7, 3), (40, 19)]);
    let graph_row = page.traces.iter().find(|t| t.input_tokens == 40).unwrap();
    assert!((graph_row.cost - 0.5).abs() < 1e-12);

    let session = store.session("p", "s-1").await.unwrap().expect("s-1");
    let stats = &session.summary.stats;
    assert_eq!((stats.input_tokens, stats.output_tokens), (47, 22));
    let sessions = store
        .list_sessions("p", &SessionQuery::default())
        .await
        .unwrap();
    assert_eq!(sessions.sessions[0].stats.total_tokens(), 69);
    let user = store
        .user("p", "ana", &SessionQuery::default())
        .await
        .unwrap()
        .expect("ana");
    assert_eq!(user.summary.stats.total_tokens(), 69);
    for (metric, sum) in [
        ("input_tokens", 47.0),
        ("output_tokens", 22.0),
        ("total_tokens", 69.0),
    ] {
        let answer = store
            .metrics(
                "p",
                &MetricQuery::from_query_string(&format!("metric={metric}")).unwrap(),
            )
            .await
            .unwrap();
        assert!(
            (answer.groups[0].sum - sum).abs() < 1e-9,
            "{metric}: {answer:?}"
        );
    }
}
