//! Which attributes hold a span's input and output, whatever convention its client follows.
//! The first that a span has wins; a conversation beats a raw request when a client sends both.

use serde_json::{json, Map, Value};

use super::{flattened_messages, is_chat};

/// The span's input as text (JSON for structures), or `None` when it recorded none.
pub fn input(attrs: &Map<String, Value>) -> Option<String> {
    genai_messages(
        attrs,
        "gen_ai.input.messages",
        Some("gen_ai.system_instructions"),
    )
    .or_else(|| raw_or_flattened(attrs, "input.value", "llm.input_messages", "user"))
    .or_else(|| scalar_or_flattened(attrs, "gen_ai.prompt", "user"))
    .or_else(|| first_text(attrs, INPUT_KEYS))
}

/// The span's output as text (JSON for structures), or `None` when it recorded none.
pub fn output(attrs: &Map<String, Value>) -> Option<String> {
    genai_messages(attrs, "gen_ai.output.messages", None)
        .or_else(|| raw_or_flattened(attrs, "output.value", "llm.output_messages", "assistant"))
        .or_else(|| scalar_or_flattened(attrs, "gen_ai.completion", "assistant"))
        .or_else(|| vercel_response(attrs))
        .or_else(|| first_text(attrs, OUTPUT_KEYS))
}

/// Inputs after the conversation conventions: the Vercel AI SDK's prompt, LangSmith's OTel
/// mode, a tool's arguments (GenAI, older pydantic-ai, Vercel AI), an agent's conversation.
const INPUT_KEYS: &[&str] = &[
    "ai.prompt.messages",
    "ai.prompt",
    "langsmith.inputs",
    "gen_ai.tool.call.arguments",
    "tool_arguments",
    "ai.toolCall.args",
    "ai.toolCall.input",
    "pydantic_ai.all_messages",
];

/// Outputs after the conversation conventions: LangSmith's OTel mode, a tool's result, an
/// agent's final result.
const OUTPUT_KEYS: &[&str] = &[
    "langsmith.outputs",
    "gen_ai.tool.call.result",
    "tool_response",
    "ai.toolCall.result",
    "ai.toolCall.output",
    "final_result",
];

/// GenAI's message list, with its system instructions first when sent apart.
fn genai_messages(
    attrs: &Map<String, Value>,
    key: &str,
    system_key: Option<&str>,
) -> Option<String> {
    let messages = attrs.get(key).and_then(text)?;
    let Some(system) = system_key.and_then(|k| attrs.get(k)).and_then(json_value) else {
        return Some(messages);
    };
    let Some(Value::Array(mut list)) = json_value(&Value::String(messages.clone())) else {
        return Some(messages);
    };
    let parts = match system {
        Value::String(s) => json!([{"type": "text", "content": s}]),
        other => other,
    };
    list.insert(0, json!({"role": "system", "parts": parts}));
    Some(Value::Array(list).to_string())
}

/// OpenInference: `input.value` is the raw request; the flattened messages are the
/// conversation. The raw one is kept when it reads as a conversation itself (it says more).
fn raw_or_flattened(
    attrs: &Map<String, Value>,
    raw_key: &str,
    prefix: &str,
    default_role: &str,
) -> Option<String> {
    let raw = attrs.get(raw_key).and_then(text);
    match (raw, flattened_messages(attrs, prefix, default_role)) {
        (Some(raw), Some(flat)) if !is_chat(&raw) => Some(flat.to_string()),
        (Some(raw), _) => Some(raw),
        (None, flat) => flat.map(|f| f.to_string()),
    }
}

/// OpenLLMetry: `gen_ai.prompt` as one value, or flattened as `gen_ai.prompt.0.content`….
fn scalar_or_flattened(
    attrs: &Map<String, Value>,
    key: &str,
    default_role: &str,
) -> Option<String> {
    attrs
        .get(key)
        .and_then(text)
        .or_else(|| flattened_messages(attrs, key, default_role).map(|f| f.to_string()))
}

/// The Vercel AI SDK's answer: its text, with the tool calls it made as one assistant message.
fn vercel_response(attrs: &Map<String, Value>) -> Option<String> {
    let text_answer = attrs.get("ai.response.text").and_then(text);
    let calls = attrs.get("ai.response.toolCalls").and_then(json_value);
    match calls {
        Some(Value::Array(calls)) if !calls.is_empty() => Some(
            json!([{"role": "assistant", "content": text_answer, "tool_calls": calls}]).to_string(),
        ),
        _ => text_answer.or_else(|| attrs.get("ai.response.object").and_then(text)),
    }
}

fn first_text(attrs: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| attrs.get(*k).and_then(text))
}

/// Strings as they are, structures as JSON; nothing for null or empty text.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A value as JSON: structures as they are, strings parsed when they hold JSON.
fn json_value(value: &Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::String(s) => {
            let t = s.trim();
            if t.starts_with('[') || t.starts_with('{') {
                serde_json::from_str(t).ok()
            } else {
                Some(Value::String(s.clone()))
            }
        }
        other => Some(other.clone()),
    }
}
