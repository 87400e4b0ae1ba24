//! A stored span shown back to the SDK as a LangSmith run (the reverse of `run::to_span`).

use std::collections::HashMap;

use serde_json::{json, Value};
use skein_model::query::percent_encode;
use skein_model::span::{Span, SpanType};
use uuid::Uuid;

use super::ids;
use super::run::{
    dotted_segment, format_time, parse_dotted_order, ATTR_DOTTED_ORDER, ATTR_END_TIME, ATTR_ERROR,
    ATTR_EXTRA, ATTR_PARENT_RUN_ID, ATTR_REFERENCE_EXAMPLE, ATTR_RUN_ID, ATTR_RUN_TYPE,
    ATTR_TRACE_ID,
};

/// The run UUID of a span: its own, or a synthetic one for spans that came through OTLP.
pub fn run_id_of(span: &Span) -> Uuid {
    span.attributes
        .get(ATTR_RUN_ID)
        .and_then(Value::as_str)
        .and_then(ids::parse_uuid)
        .unwrap_or_else(|| ids::synthetic_run_id(&span.span_id))
}

/// Spans of one trace (or a part of it) as runs: parents and dotted orders of spans that did
/// not come from LangSmith are worked out from the other spans of the trace.
pub fn runs_of(spans: &[Span]) -> Vec<Value> {
    let by_id: HashMap<&str, &Span> = spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    spans
        .iter()
        .map(|span| {
            let parent = span
                .parent_span_id
                .as_deref()
                .and_then(|p| by_id.get(p))
                .map(|p| run_id_of(p));
            let dotted = span
                .attributes
                .get(ATTR_DOTTED_ORDER)
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| synthetic_dotted_order(span, &by_id));
            run_json(span, parent, dotted)
        })
        .collect()
}

/// One span as a run, without the rest of its trace at hand.
pub fn run_of(span: &Span) -> Value {
    let parent = span
        .attributes
        .get(ATTR_PARENT_RUN_ID)
        .and_then(Value::as_str)
        .and_then(ids::parse_uuid)
        .or_else(|| span.parent_span_id.as_deref().map(ids::synthetic_run_id));
    let dotted = span
        .attributes
        .get(ATTR_DOTTED_ORDER)
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| synthetic_dotted_order(span, &HashMap::new()));
    run_json(span, parent, dotted)
}

fn synthetic_dotted_order(span: &Span, by_id: &HashMap<&str, &Span>) -> String {
    let mut chain = vec![dotted_segment(span.start_ns, &run_id_of(span))];
    let mut current = span;
    // Bounded: a parent cycle in bad input must not loop forever.
    while let Some(parent) = current
        .parent_span_id
        .as_deref()
        .and_then(|p| by_id.get(p))
        .filter(|_| chain.len() < 1000)
    {
        chain.push(dotted_segment(parent.start_ns, &run_id_of(parent)));
        current = parent;
    }
    chain.reverse();
    chain.join(".")
}

fn run_type_of(span: &Span) -> String {
    if let Some(t) = span.attributes.get(ATTR_RUN_TYPE).and_then(Value::as_str) {
        return t.to_string();
    }
    match span.span_type {
        SpanType::Llm => "llm",
        SpanType::Tool => "tool",
        SpanType::Retriever => "retriever",
        SpanType::Embedding => "embedding",
        SpanType::Reranker => "retriever",
        SpanType::Prompt => "prompt",
        _ => "chain",
    }
    .to_string()
}

/// Parses a span's input or output text back into the object the SDK expects: JSON objects
/// as they are, anything else under `key`.
fn io_object(text: Option<&str>, key: &str) -> Option<Value> {
    let text = text?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(o)) => Some(Value::Object(o)),
        Ok(other) => Some(json!({ key: other })),
        Err(_) => Some(json!({ key: text })),
    }
}

fn run_json(span: &Span, parent: Option<Uuid>, dotted_order: String) -> Value {
    let id = run_id_of(span);
    let trace = span
        .attributes
        .get(ATTR_TRACE_ID)
        .and_then(Value::as_str)
        .and_then(ids::parse_uuid)
        .or_else(|| ids::trace_uuid(&span.trace_id))
        .unwrap_or(id);
    let from_langsmith = span.attributes.contains_key(ATTR_RUN_ID);
    let ended = !from_langsmith || span.attributes.contains_key(ATTR_END_TIME);
    let error = span
        .attributes
        .get(ATTR_ERROR)
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            span.status.is_error().then(|| {
                span.status_message
                    .clone()
                    .unwrap_or_else(|| "error".into())
            })
        });
    let status = if error.is_some() {
        "error"
    } else if ended {
        "success"
    } else {
        "pending"
    };
    let extra = span
        .attributes
        .get(ATTR_EXTRA)
        .cloned()
        .unwrap_or_else(|| json!({ "metadata": span.tags }));
    let events: Vec<Value> = span
        .events
        .iter()
        .map(|e| {
            json!({
                "name": e.name,
                "time": format_time(e.time_ns),
                "kwargs": e.attributes,
            })
        })
        .collect();
    let parent_run_ids: Vec<String> = parse_dotted_order(&dotted_order)
        .map(|segments| {
            segments
                .iter()
                .filter(|s| s.run != id)
                .map(|s| s.run.to_string())
                .collect()
        })
        .unwrap_or_default();
    json!({
        "id": id.to_string(),
        "name": span.name,
        "run_type": run_type_of(span),
        "start_time": format_time(span.start_ns),
        "end_time": ended.then(|| format_time(span.end_ns)),
        "trace_id": trace.to_string(),
        "parent_run_id": parent.map(|p| p.to_string()),
        "parent_run_ids": parent_run_ids,
        "dotted_order": dotted_order,
        "session_id": ids::project_uuid(&span.project).to_string(),
        "inputs": io_object(span.input.as_deref(), "input").unwrap_or_else(|| json!({})),
        "outputs": io_object(span.output.as_deref(), "output"),
        "error": error,
        "events": events,
        "extra": extra,
        "tags": span.labels,
        "status": status,
        "prompt_tokens": span.input_tokens,
        "completion_tokens": span.output_tokens,
        "total_tokens": span.total_tokens(),
        "total_cost": span.cost,
        "reference_example_id": span.attributes.get(ATTR_REFERENCE_EXAMPLE),
        "child_run_ids": null,
        "feedback_stats": null,
        "app_path": app_path(span),
    })
}

/// The run's page in the dashboard, as its trace-page links are written; the SDK prefixes it
/// with its host URL (`LANGSMITH_WEB_URL`, `Client(web_url=...)`) to make `Run.url`.
fn app_path(span: &Span) -> String {
    trace_page(&span.project, &span.trace_id, &span.span_id)
}

/// `/traces/{trace}?span={span}` (and `&project=` outside the default project): a span's
/// place on its trace page.
pub fn trace_page(project: &str, trace_id: &str, span_id: &str) -> String {
    let mut path = format!("/traces/{trace_id}?span={span_id}");
    if project != skein_model::DEFAULT_PROJECT {
        path.push_str("&project=");
        path.push_str(&percent_encode(project));
    }
    path
}

#[cfg(test)]
mod tests {
    use super::super::run::tests::{child_patch, child_post, uuid, CHILD, MIDDLE, ROOT};
    use super::super::run::{overlay, to_span};
    use super::*;

    #[test]
    fn runs_read_back_as_the_sdk_wrote_them() {
        let mut run = child_post();
        overlay(&mut run, child_patch());
        let span = to_span(&uuid(CHILD), &run, "wire-test", &[], 0).unwrap();
        let shown = run_of(&span);
        assert_eq!(shown["id"], CHILD);
        assert_eq!(shown["trace_id"], ROOT);
        assert_eq!(shown["parent_run_id"], MIDDLE);
        assert_eq!(shown["parent_run_ids"], json!([ROOT, MIDDLE]));
        assert_eq!(shown["start_time"], "2026-11-24T06:05:18.188157+00:00");
        assert_eq!(shown["end_time"], "2026-11-24T06:05:18.188365+00:00");
        assert_eq!(shown["inputs"], json!({"step": "step1"}));
        assert_eq!(shown["extra"]["metadata"]["ab_test_variant"], "B");
        assert_eq!(
            shown["session_id"],
            ids::project_uuid("wire-test").to_string()
        );
        assert_eq!(shown["status"], "success");
        assert_eq!(shown["prompt_tokens"], 12);
        assert_eq!(
            shown["app_path"],
            format!(
                "/traces/01a20c289de77b5d8818498ab6782bfd?span={}&project=wire-test",
                span.span_id
            )
        );
        // No service named: the project is the service.
        assert_eq!(span.service, "wire-test");
    }
}
