//! Messages sent as flattened attributes, a field an attribute: OpenInference's
//! `llm.input_messages.0.message.role` / `.message.content` / `.message.contents.0.
//! message_content.text` / `.message.tool_calls.0.tool_call.function.name`, and OpenLLMetry's
//! `gen_ai.prompt.0.role` / `.content` / `.tool_calls.0.name`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

#[derive(Default)]
struct Message {
    role: Option<String>,
    name: Option<String>,
    content: Option<String>,
    tool_call_id: Option<String>,
    parts: BTreeMap<u64, Part>,
    calls: BTreeMap<u64, Call>,
}

#[derive(Default)]
struct Part {
    kind: Option<String>,
    text: Option<String>,
    image_url: Option<String>,
}

#[derive(Default)]
struct Call {
    id: Option<String>,
    name: Option<String>,
    arguments: Option<String>,
}

/// The messages under `prefix` (e.g. `llm.input_messages`) as an OpenAI-style message list,
/// in index order; `None` when no attribute has the prefix. Messages without a role get
/// `default_role`.
pub fn flattened_messages(
    attrs: &Map<String, Value>,
    prefix: &str,
    default_role: &str,
) -> Option<Value> {
    let mut messages: BTreeMap<u64, Message> = BTreeMap::new();
    for (key, value) in attrs {
        let Some(rest) = key.strip_prefix(prefix).and_then(|r| r.strip_prefix('.')) else {
            continue;
        };
        let Some((index, field)) = indexed(rest) else {
            continue;
        };
        let Some(text) = text(value) else { continue };
        let field = field.strip_prefix("message.").unwrap_or(field);
        set_field(messages.entry(index).or_default(), field, text);
    }
    if messages.is_empty() {
        return None;
    }
    let list = messages
        .into_values()
        .map(|m| to_json(m, default_role))
        .collect();
    Some(Value::Array(list))
}

/// `"3.message.role"` → `(3, "message.role")`.
fn indexed(rest: &str) -> Option<(u64, &str)> {
    let (index, field) = rest.split_once('.')?;
    Some((index.parse().ok()?, field))
}

fn set_field(msg: &mut Message, field: &str, text: String) {
    match field {
        "role" => msg.role = Some(text),
        "name" => msg.name = Some(text),
        "content" => msg.content = Some(text),
        "tool_call_id" => msg.tool_call_id = Some(text),
        _ => {
            if let Some((j, part_field)) = field.strip_prefix("contents.").and_then(indexed) {
                let part = msg.parts.entry(j).or_default();
                match part_field
                    .strip_prefix("message_content.")
                    .unwrap_or(part_field)
                {
                    "type" => part.kind = Some(text),
                    "text" => part.text = Some(text),
                    "image.image.url" | "image.url" => part.image_url = Some(text),
                    _ => {}
                }
            } else if let Some((k, call_field)) =
                field.strip_prefix("tool_calls.").and_then(indexed)
            {
                let call = msg.calls.entry(k).or_default();
                match call_field.strip_prefix("tool_call.").unwrap_or(call_field) {
                    "id" => call.id = Some(text),
                    "function.name" | "name" => call.name = Some(text),
                    "function.arguments" | "arguments" => call.arguments = Some(text),
                    _ => {}
                }
            }
        }
    }
}

fn to_json(m: Message, default_role: &str) -> Value {
    let mut out = Map::new();
    out.insert(
        "role".into(),
        Value::String(m.role.unwrap_or_else(|| default_role.to_string())),
    );
    let content = if m.parts.is_empty() {
        m.content.map(Value::String).unwrap_or(Value::Null)
    } else {
        let parts = m.parts.into_values().map(|p| match (p.text, p.image_url) {
            (_, Some(url)) if p.kind.as_deref() == Some("image") => {
                json!({"type": "image_url", "image_url": {"url": url}})
            }
            (Some(text), _) => json!({"type": "text", "text": text}),
            (None, Some(url)) => json!({"type": "image_url", "image_url": {"url": url}}),
            (None, None) => json!({"type": p.kind.unwrap_or_default()}),
        });
        Value::Array(parts.collect())
    };
    out.insert("content".into(), content);
    if let Some(name) = m.name {
        out.insert("name".into(), Value::String(name));
    }
    if let Some(id) = m.tool_call_id {
        out.insert("tool_call_id".into(), Value::String(id));
    }
    if !m.calls.is_empty() {
        let calls = m.calls.into_values().map(|c| {
            json!({
                "id": c.id,
                "type": "function",
                "function": {"name": c.name.unwrap_or_default(), "arguments": c.arguments.unwrap_or_default()},
            })
        });
        out.insert("tool_calls".into(), Value::Array(calls.collect()));
    }
    Value::Object(out)
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}
