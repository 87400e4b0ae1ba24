//! Unit tests of `run`: the SDK's posts and patches, captured from the real SDK, as spans.
//! Its captured runs are shared with `as_run`'s tests.

use serde_json::json;

use super::super::as_run::run_of;
use super::*;
use skein_model::span_pieces::merge as merge_spans;

fn fields(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

pub(in crate::langsmith) const ROOT: &str = "01a20c28-9de7-7b5d-8818-498ab6782bfd";
pub(in crate::langsmith) const CHILD: &str = "01a20c28-9dec-7c99-b8c4-70601b543d9e";
pub(in crate::langsmith) const MIDDLE: &str = "01a20c28-9deb-7253-84f3-759ac17df816";

pub(in crate::langsmith) fn uuid(s: &str) -> Uuid {
    ids::parse_uuid(s).unwrap()
}

/// The post of `sub_agent_1` from the zstd capture.
pub(in crate::langsmith) fn child_post() -> Map<String, Value> {
    fields(json!({
        "id": CHILD,
        "start_time": "2026-11-24T06:05:18.188157+00:00",
        "parent_run_id": MIDDLE,
        "tags": ["agent:main", "prod", "agent:execution", "sub"],
        "dotted_order": format!("20261124T060518183114Z{ROOT}.20261124T060518187875Z{MIDDLE}.20261124T060518188157Z{CHILD}"),
        "trace_id": ROOT,
        "session_name": "wire-test",
        "name": "sub_agent_1",
        "run_type": "llm",
        "inputs": {"step": "step1"},
        "outputs": {},
        "events": [],
        "extra": {"metadata": {"env": "production", "ab_test_variant": "B", "thread_id": "thread-1",
                               "ls_provider": "openai", "ls_model_name": "gpt-4o-mini",
                               "LANGSMITH_ENDPOINT": "http://127.0.0.1:1"},
                  "runtime": {"sdk": "langsmith-py", "sdk_version": "0.15.0"}}
    }))
}

pub(in crate::langsmith) fn child_patch() -> Map<String, Value> {
    fields(json!({
        "id": CHILD,
        "name": "sub_agent_1",
        "run_type": "llm",
        "trace_id": ROOT,
        "parent_run_id": MIDDLE,
        "session_id": null,
        "start_time": "2026-11-24T06:05:18.188157+00:00",
        "end_time": "2026-11-24T06:05:18.188365+00:00",
        "outputs": {"choices": [{"message": {"content": "done step1"}}],
                    "usage_metadata": {"input_tokens": 12, "output_tokens": 7, "total_tokens": 19}},
        "extra": {"metadata": {"usage_metadata": {"input_tokens": 12, "output_tokens": 7, "total_tokens": 19}}}
    }))
}

#[test]
fn usage_is_read_from_the_message_a_run_outputs() {
    let usage = json!({"input_tokens": 40, "output_tokens": 19, "total_tokens": 59});
    // A chain returning an AIMessage (serialized) and a chat model's LLMResult.
    let chain = json!({"output": {"lc": 1, "type": "constructor",
        "id": ["langchain", "schema", "messages", "AIMessage"],
        "kwargs": {"content": "hi", "usage_metadata": usage.clone()}}});
    let model = json!({"generations": [[{"text": "hi", "type": "ChatGeneration",
        "message": {"lc": 1, "kwargs": {"content": "hi", "usage_metadata": usage.clone()}}}]],
        "llm_output": null});
    for outputs in [
        chain,
        model,
        json!({"output": {"content": "hi", "usage_metadata": usage}}),
    ] {
        let u = usage_of(&Map::new(), &Map::new(), Some(&outputs));
        assert_eq!((u.input, u.output), (Some(40), Some(19)), "{outputs}");
    }
    // An output that is no message has no usage.
    let none = usage_of(&Map::new(), &Map::new(), Some(&json!({"output": "hi"})));
    assert_eq!((none.input, none.output), (None, None));
}

#[test]
fn a_post_maps_onto_a_running_span() {
    let span = to_span(&uuid(CHILD), &child_post(), "wire-test", &[], 0).unwrap();
    assert_eq!(span.trace_id, "01a20c289de77b5d8818498ab6782bfd");
    assert_eq!(span.span_id, ids::span_hex(&uuid(CHILD)));
    assert_eq!(span.parent_span_id, Some(ids::span_hex(&uuid(MIDDLE))));
    assert_eq!(span.span_type, SpanType::Llm);
    assert_eq!(span.status, SpanStatus::Unset);
    assert_eq!(span.start_ns, 1_795_500_318_188_157_000);
    assert_eq!(span.end_ns, span.start_ns);
    assert_eq!(span.model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(span.input.as_deref(), Some(r#"{"step":"step1"}"#));
    assert_eq!(span.output, None);
    assert_eq!(span.session_id.as_deref(), Some("thread-1"));
    assert_eq!(span.tags.len(), 3, "{:?}", span.tags);
    assert_eq!(span.tags["ab_test_variant"], "B");
    assert_eq!(
        span.labels,
        vec!["agent:main", "prod", "agent:execution", "sub"]
    );
    assert_eq!(span.resource["telemetry.sdk.version"], "0.15.0");
    assert!(!span.attributes.contains_key(ATTR_END_TIME));
}

#[test]
fn post_and_patch_merge_in_either_order_and_twice_is_once() {
    let post = to_span(&uuid(CHILD), &child_post(), "p", &[], 0).unwrap();
    let patch = to_span(&uuid(CHILD), &child_patch(), "p", &[], 0).unwrap();
    let a = merge_spans(&post, patch.clone());
    let b = merge_spans(&patch, post.clone());
    for merged in [&a, &b] {
        assert_eq!(merged.status, SpanStatus::Ok);
        assert_eq!(merged.end_ns - merged.start_ns, 208_000);
        assert_eq!(merged.input.as_deref(), Some(r#"{"step":"step1"}"#));
        assert!(merged.output.as_deref().unwrap().contains("done step1"));
        assert_eq!(
            (merged.input_tokens, merged.output_tokens),
            (Some(12), Some(7))
        );
        assert_eq!(merged.model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(merged.tags["env"], "production");
        assert!(merged.attributes.contains_key(ATTR_END_TIME));
    }
    assert_eq!(merge_spans(&a, a.clone()), a);
    assert_eq!(merge_spans(&a, post.clone()), a);
    assert_eq!(merge_spans(&b, b.clone()), b);
}

#[test]
fn pieces_overlay_within_a_request() {
    let mut run = child_post();
    overlay(&mut run, child_patch());
    let span = to_span(&uuid(CHILD), &run, "p", &[], 0).unwrap();
    assert_eq!(span.status, SpanStatus::Ok);
    assert_eq!(span.input.as_deref(), Some(r#"{"step":"step1"}"#));
    // extra was merged key by key: the post's metadata and the patch's usage both count.
    assert_eq!(span.tags["env"], "production");
    assert_eq!(span.input_tokens, Some(12));
}

#[test]
fn errors_win_and_keep_their_text() {
    let mut run = child_post();
    run.insert(
        "error".into(),
        json!("ValueError('boom')\n\nTraceback (most recent call last):\n  ..."),
    );
    run.insert("end_time".into(), json!("2026-11-24T06:05:18.2+00:00"));
    let failed = to_span(&uuid(CHILD), &run, "p", &[], 0).unwrap();
    assert_eq!(failed.status, SpanStatus::Error);
    assert_eq!(failed.status_message.as_deref(), Some("ValueError('boom')"));
    let post = to_span(&uuid(CHILD), &child_post(), "p", &[], 0).unwrap();
    let merged = merge_spans(&failed, post);
    assert_eq!(merged.status, SpanStatus::Error);
    assert!(merged.attributes[ATTR_ERROR]
        .as_str()
        .unwrap()
        .contains("Traceback"));
    let shown = run_of(&merged);
    assert_eq!(shown["status"], "error");
    assert!(shown["error"]
        .as_str()
        .unwrap()
        .starts_with("ValueError('boom')"));
}

#[test]
fn the_trace_and_parent_come_from_the_dotted_order_when_missing() {
    let mut run = child_post();
    run.remove("trace_id");
    run.remove("parent_run_id");
    run.remove("start_time");
    let span = to_span(&uuid(CHILD), &run, "p", &[], 0).unwrap();
    assert_eq!(span.trace_id, ids::trace_hex(&uuid(ROOT)));
    assert_eq!(span.parent_span_id, Some(ids::span_hex(&uuid(MIDDLE))));
    assert_eq!(span.start_ns, 1_795_500_318_188_157_000);
    let bare = fields(json!({"end_time": "2026-11-24T06:05:18.3Z", "parent_run_id": MIDDLE}));
    assert_eq!(
        to_span(&uuid(CHILD), &bare, "p", &[], 0),
        Err(RunError::NoTrace(CHILD.into()))
    );
    let bad = fields(json!({"trace_id": "nope"}));
    assert!(matches!(
        to_span(&uuid(CHILD), &bad, "p", &[], 0),
        Err(RunError::BadUuid { .. })
    ));
}

#[test]
fn a_bare_patch_keeps_the_stored_start() {
    let post = to_span(&uuid(CHILD), &child_post(), "p", &[], 0).unwrap();
    let bare = fields(
        json!({"trace_id": ROOT, "end_time": "2026-11-24T06:05:19.188157+00:00",
                             "outputs": {"answer": 42}}),
    );
    let patch = to_span(&uuid(CHILD), &bare, "p", &[], 0).unwrap();
    let merged = merge_spans(&post, patch);
    assert_eq!(merged.start_ns, post.start_ns);
    assert_eq!(merged.end_ns - merged.start_ns, 1_000_000_000);
    assert_eq!(merged.name, "sub_agent_1");
    assert_eq!(merged.span_type, SpanType::Llm);
    assert!(!merged.attributes.contains_key(ATTR_START_UNKNOWN));
}

#[test]
fn a_service_named_in_metadata_or_tags_is_the_runs() {
    let mut run = child_post();
    run["extra"]["metadata"]["service.name"] = json!("billing");
    assert_eq!(
        to_span(&uuid(CHILD), &run, "p", &[], 0).unwrap().service,
        "billing"
    );
    let mut run = child_post();
    run.insert("tags".into(), json!(["prod", "service:search"]));
    assert_eq!(
        to_span(&uuid(CHILD), &run, "p", &[], 0).unwrap().service,
        "search"
    );
}

#[test]
fn agents_named_so_are_agents() {
    assert_eq!(span_type(Some("chain"), "planning_agent"), SpanType::Agent);
    assert_eq!(span_type(Some("chain"), "summarize"), SpanType::Chain);
    assert_eq!(span_type(Some("llm"), "llm_agent"), SpanType::Llm);
    assert_eq!(span_type(Some("prompt"), "p"), SpanType::Prompt);
    assert_eq!(span_type(Some("parser"), "p"), SpanType::Chain);
    assert_eq!(span_type(Some("weird"), "x"), SpanType::Internal);
}

#[test]
fn times_in_every_spelling() {
    let ns = 1_795_500_318_188_157_000;
    let want = Some(ns);
    for text in [
        "2026-11-24T06:05:18.188157+00:00",
        "2026-11-24T06:05:18.188157Z",
        "2026-11-24T06:05:18.188157",
        "2026-11-24 06:05:18.188157",
    ] {
        assert_eq!(parse_time(&json!(text)), want, "{text}");
    }
    assert_eq!(parse_time(&json!("yesterday")), None);
    assert_eq!(
        format_time(1_795_500_318_188_157_000),
        "2026-11-24T06:05:18.188157+00:00"
    );
    let seg = parse_dotted_order(&format!("20261124T060518188157Z{CHILD}")).unwrap();
    assert_eq!(seg[0].start_ns, want);
    assert_eq!(
        dotted_segment(ns, &uuid(CHILD)),
        format!("20261124T060518188157Z{CHILD}")
    );
}
