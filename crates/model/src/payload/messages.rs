//! One message, in whichever shape its client writes it.

use serde_json::{Map, Value};

use super::{ChatMessage, ToolCall, ToolResult};

/// A message object; `None` when the value is not one.
pub(super) fn message(value: &Value) -> Option<ChatMessage> {
    let map = value.as_object()?;
    // LangChain's serialized form: {"lc": 1, "id": [..., "HumanMessage"], "kwargs": {...}}.
    if let (Some(Value::Object(kwargs)), Some(Value::Array(id))) =
        (map.get("kwargs"), map.get("id"))
    {
        let class = id.last().and_then(Value::as_str).unwrap_or("");
        let role = langchain_class_role(class)?;
        return Some(with_role(body(kwargs), role));
    }
    if let Some(kind) = map.get("type").and_then(Value::as_str) {
        // LangChain's `message_to_dict`: {"type": "ai", "data": {...}}.
        if let Some(Value::Object(data)) = map.get("data") {
            return Some(with_role(body(data), langchain_type_role(kind)?));
        }
        if let Some(msg) = responses_item(kind, map) {
            return Some(msg);
        }
    }
    let role = match map.get("role").and_then(Value::as_str) {
        Some(role) => normal_role(role),
        None => {
            let kind = map.get("type").and_then(Value::as_str)?;
            if !map.contains_key("content") {
                return None;
            }
            langchain_type_role(kind)?.to_string()
        }
    };
    Some(with_role(body(map), role))
}

fn with_role(mut msg: ChatMessage, role: impl Into<String>) -> ChatMessage {
    msg.role = role.into();
    msg
}

fn langchain_class_role(class: &str) -> Option<&'static str> {
    Some(match class.trim_end_matches("Chunk") {
        "HumanMessage" => "user",
        "AIMessage" => "assistant",
        "SystemMessage" => "system",
        "ToolMessage" => "tool",
        "FunctionMessage" => "function",
        "ChatMessage" => "chat",
        _ => return None,
    })
}

fn langchain_type_role(kind: &str) -> Option<&'static str> {
    Some(match kind.trim_end_matches("Chunk") {
        "human" | "HumanMessage" => "user",
        "ai" | "AIMessage" => "assistant",
        "system" | "SystemMessage" => "system",
        "tool" | "ToolMessage" => "tool",
        "function" => "function",
        "chat" => "chat",
        "developer" => "developer",
        _ => return None,
    })
}

/// Roles as a reader expects them: LangChain's and Gemini's names become OpenAI's.
fn normal_role(role: &str) -> String {
    match role {
        "human" => "user".to_string(),
        "ai" | "model" => "assistant".to_string(),
        other => other.to_string(),
    }
}

/// An item of the OpenAI Responses API that is not a plain `{role, content}` message.
fn responses_item(kind: &str, map: &Map<String, Value>) -> Option<ChatMessage> {
    match kind {
        "function_call" | "custom_tool_call" => Some(ChatMessage {
            role: "assistant".to_string(),
            tool_calls: vec![ToolCall {
                id: string(map, &["call_id", "id"]),
                name: string(map, &["name"]).unwrap_or_default(),
                arguments: arguments(map.get("arguments").or_else(|| map.get("input"))),
            }],
            ..ChatMessage::default()
        }),
        "function_call_output" | "custom_tool_call_output" => Some(ChatMessage {
            role: "tool".to_string(),
            text: map.get("output").map(value_text).unwrap_or_default(),
            tool_call_id: string(map, &["call_id"]),
            ..ChatMessage::default()
        }),
        "reasoning" => {
            let summary: Vec<String> = map
                .get("summary")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.get("text").and_then(Value::as_str).map(str::to_string))
                .collect();
            Some(ChatMessage {
                role: "reasoning".to_string(),
                text: summary.join("\n\n"),
                ..ChatMessage::default()
            })
        }
        _ => None,
    }
}

/// Text, tool calls and extras of a message object (its `content`, `parts`, `tool_calls`…).
fn body(map: &Map<String, Value>) -> ChatMessage {
    let mut msg = ChatMessage::default();
    let mut texts: Vec<String> = Vec::new();
    for key in ["content", "parts"] {
        match map.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => texts.push(s.clone()),
            Some(Value::Array(parts)) => {
                for part in parts {
                    add_part(&mut msg, &mut texts, part);
                }
            }
            Some(other) => msg.extra.push(other.clone()),
        }
    }
    msg.text = texts.join("\n\n");
    if msg.tool_calls.is_empty() {
        msg.tool_calls = tool_calls(map);
    }
    msg.tool_call_id = string(map, &["tool_call_id"]);
    msg.name = string(map, &["name"]);
    msg
}

/// The tool calls listed beside the content: OpenAI's `tool_calls` and legacy
/// `function_call`, LangChain's `tool_calls` (or, from older versions, in `additional_kwargs`).
fn tool_calls(map: &Map<String, Value>) -> Vec<ToolCall> {
    let listed = map
        .get("tool_calls")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .or_else(|| {
            map.get("additional_kwargs")
                .and_then(|k| k.get("tool_calls"))
                .and_then(Value::as_array)
        });
    let mut calls: Vec<ToolCall> = listed
        .into_iter()
        .flatten()
        .filter_map(|c| tool_call(c.as_object()?))
        .collect();
    if let Some(Value::Object(f)) = map.get("function_call") {
        calls.extend(tool_call(f));
    }
    calls
}

/// One tool call: OpenAI `{id, function: {name, arguments}}`, LangChain `{id, name, args}`,
/// GenAI `{id, name, arguments}`, Vercel AI `{toolCallId, toolName, args|input}`.
fn tool_call(call: &Map<String, Value>) -> Option<ToolCall> {
    let function = call.get("function").and_then(Value::as_object);
    let from = function.unwrap_or(call);
    let name = string(from, &["name"]).or_else(|| string(call, &["toolName", "name"]))?;
    let args = ["arguments", "args", "input"]
        .iter()
        .find_map(|k| from.get(*k).or_else(|| call.get(*k)));
    Some(ToolCall {
        id: string(call, &["id", "toolCallId", "call_id"]),
        name,
        arguments: arguments(args),
    })
}

fn add_part(msg: &mut ChatMessage, texts: &mut Vec<String>, part: &Value) {
    let Some(p) = part.as_object() else {
        match part {
            Value::String(s) => texts.push(s.clone()),
            other => msg.extra.push(other.clone()),
        }
        return;
    };
    let kind = p.get("type").and_then(Value::as_str).unwrap_or("text");
    match kind {
        "text" | "input_text" | "output_text" => match p.get("text").or_else(|| p.get("content")) {
            Some(Value::String(t)) => texts.push(t.clone()),
            _ => msg.extra.push(part.clone()),
        },
        "refusal" => match p.get("refusal").and_then(Value::as_str) {
            Some(t) => texts.push(t.to_string()),
            None => msg.extra.push(part.clone()),
        },
        // Anthropic, GenAI, Vercel AI.
        "tool_use" | "tool_call" | "tool-call" => match tool_call(p) {
            Some(call) => msg.tool_calls.push(call),
            None => msg.extra.push(part.clone()),
        },
        "tool_result" | "tool_call_response" | "tool-result" => {
            let content = ["content", "response", "result", "output"]
                .iter()
                .find_map(|k| p.get(*k))
                .map(value_text)
                .unwrap_or_default();
            msg.tool_results.push(ToolResult {
                id: string(p, &["tool_use_id", "id", "toolCallId"]),
                name: string(p, &["name", "toolName"]),
                content,
            });
        }
        _ => msg.extra.push(part.clone()),
    }
}

/// The first non-empty string among `keys`.
fn string(map: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| map.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Tool arguments: a JSON string is parsed so it reads as a structure.
fn arguments(value: Option<&Value>) -> Value {
    match value {
        None => Value::Null,
        Some(Value::String(s)) => {
            let t = s.trim();
            if t.starts_with('{') || t.starts_with('[') {
                serde_json::from_str(t).unwrap_or_else(|_| Value::String(s.clone()))
            } else {
                Value::String(s.clone())
            }
        }
        Some(other) => other.clone(),
    }
}

/// A content value as text: strings as they are, text parts joined, anything else as JSON.
pub(super) fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(parts) => {
            let texts: Option<Vec<&str>> = parts
                .iter()
                .map(|p| match p {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(o) => o.get("text").and_then(Value::as_str),
                    _ => None,
                })
                .collect();
            match texts {
                Some(t) => t.join("\n\n"),
                None => value.to_string(),
            }
        }
        other => other.to_string(),
    }
}
