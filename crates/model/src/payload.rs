//! A span's input or output, read for display: a chat (messages with roles), other JSON, or
//! plain text. `Span::input`/`output` carry text; JSON arrives as a string.
//!
//! Chats are recognised in the shapes the SDKs send: OpenAI-style `[{role, content}]` with
//! string or part-array content (OpenInference, LangSmith), OTel GenAI `[{role, parts}]`
//! (`gen_ai.input.messages`), `{"messages": [...]}` wrappers (LangChain, LangGraph), and
//! LangChain's `{type: "human"|"ai", content}` and serialized `HumanMessage` objects.

use serde_json::Value;

/// What a payload is, for choosing how to show it.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Text(String),
    Json(Value),
    Chat(Vec<ChatMessage>),
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant`, `tool`… (LangChain's `human`/`ai` become `user`/`assistant`).
    pub role: String,
    /// A participant or tool name, when the message has one.
    pub name: Option<String>,
    /// The text parts, joined by blank lines.
    pub text: String,
    /// Everything else: tool calls, tool results, images, unknown parts, as JSON.
    pub extra: Vec<Value>,
}

/// Reads a payload: chat when it is shaped like one, else JSON when it parses as an object or
/// array, else the text itself (a JSON string is unquoted).
pub fn read(text: &str) -> Payload {
    let trimmed = text.trim();
    let json_like =
        trimmed.starts_with('{') || trimmed.starts_with('[') || trimmed.starts_with('"');
    if json_like {
        if let Ok(value) = serde_json::from_str::<Value>(trimmed) {
            return from_value(value);
        }
    }
    Payload::Text(text.to_string())
}

/// Classifies a JSON value (see [`read`]).
pub fn from_value(value: Value) -> Payload {
    if let Some(chat) = chat_messages(&value) {
        return Payload::Chat(chat);
    }
    match value {
        Value::String(s) => Payload::Text(s),
        other => Payload::Json(other),
    }
}

/// The messages of a chat-shaped value; `None` when it is not one.
pub fn chat_messages(value: &Value) -> Option<Vec<ChatMessage>> {
    let list = match value {
        Value::Array(items) => items,
        Value::Object(map) => match map.get("messages") {
            Some(Value::Array(items)) => items,
            _ => return None,
        },
        _ => return None,
    };
    // LangChain batches: [[messages…]] (one list per prompt).
    let items: Vec<&Value> = if !list.is_empty() && list.iter().all(Value::is_array) {
        list.iter()
            .flat_map(|v| v.as_array().into_iter().flatten())
            .collect()
    } else {
        list.iter().collect()
    };
    if items.is_empty() {
        return None;
    }
    items.into_iter().map(message).collect()
}

fn message(value: &Value) -> Option<ChatMessage> {
    let map = value.as_object()?;
    // LangChain's serialized form: {"lc": 1, "id": [..., "HumanMessage"], "kwargs": {...}}.
    if let (Some(Value::Object(kwargs)), Some(Value::Array(id))) =
        (map.get("kwargs"), map.get("id"))
    {
        let class = id.last().and_then(Value::as_str).unwrap_or("");
        let role = match class {
            "HumanMessage" | "HumanMessageChunk" => "user",
            "AIMessage" | "AIMessageChunk" => "assistant",
            "SystemMessage" => "system",
            "ToolMessage" => "tool",
            "FunctionMessage" => "function",
            _ => return None,
        };
        let mut msg = body(kwargs);
        msg.role = role.to_string();
        return Some(msg);
    }
    let role = match map.get("role").and_then(Value::as_str) {
        Some(role) => role.to_string(),
        None => {
            let kind = map.get("type").and_then(Value::as_str)?;
            let role = match kind {
                "human" => "user",
                "ai" => "assistant",
                "system" | "tool" | "function" | "chat" | "developer" => kind,
                _ => return None,
            };
            if !map.contains_key("content") {
                return None;
            }
            role.to_string()
        }
    };
    let role = match role.as_str() {
        "human" => "user".to_string(),
        "ai" => "assistant".to_string(),
        _ => role,
    };
    let mut msg = body(map);
    msg.role = role;
    Some(msg)
}

/// Text and extras of a message object (its `content`, `parts`, `tool_calls`…).
fn body(map: &serde_json::Map<String, Value>) -> ChatMessage {
    let mut texts: Vec<String> = Vec::new();
    let mut extra = Vec::new();
    for key in ["content", "parts"] {
        match map.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => texts.push(s.clone()),
            Some(Value::Array(parts)) => {
                for part in parts {
                    match part_text(part) {
                        Some(t) => texts.push(t.to_string()),
                        None => extra.push(part.clone()),
                    }
                }
            }
            Some(other) => extra.push(other.clone()),
        }
    }
    for key in ["tool_calls", "function_call", "tool_call_id"] {
        if let Some(v) = map.get(key).filter(|v| !v.is_null()) {
            extra.push(serde_json::json!({ key: v }));
        }
    }
    let name = map
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    ChatMessage {
        role: String::new(),
        name,
        text: texts.join("\n\n"),
        extra,
    }
}

/// The text of a content part: a plain string, `{type: "text", text}` or GenAI's
/// `{type: "text", content}`.
fn part_text(part: &Value) -> Option<&str> {
    match part {
        Value::String(s) => Some(s),
        Value::Object(p) => {
            let kind = p.get("type").and_then(Value::as_str).unwrap_or("text");
            if kind != "text" {
                return None;
            }
            p.get("text")
                .or_else(|| p.get("content"))
                .and_then(Value::as_str)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chat(text: &str) -> Vec<ChatMessage> {
        match read(text) {
            Payload::Chat(m) => m,
            other => panic!("not a chat: {other:?}"),
        }
    }

    #[test]
    fn openai_style_messages_are_a_chat() {
        let m = chat(
            r#"[{"role":"system","content":"You are careful."},{"role":"user","content":"Hi"}]"#,
        );
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].role.as_str(), m[0].text.as_str()),
            ("system", "You are careful.")
        );
        assert_eq!((m[1].role.as_str(), m[1].text.as_str()), ("user", "Hi"));
        assert!(m[1].extra.is_empty());
    }

    #[test]
    fn parts_tool_calls_and_wrappers() {
        let m = chat(
            r#"{"messages":[{"role":"user","content":[{"type":"text","text":"Look:"},{"type":"image_url","image_url":{"url":"x"}}]},
                {"role":"assistant","content":null,"tool_calls":[{"id":"c1","function":{"name":"search"}}]}]}"#,
        );
        assert_eq!(m[0].text, "Look:");
        assert_eq!(
            m[0].extra,
            vec![json!({"type":"image_url","image_url":{"url":"x"}})]
        );
        assert_eq!(m[1].text, "");
        assert_eq!(m[1].extra.len(), 1);
        assert!(m[1].extra[0].get("tool_calls").is_some());

        // OTel GenAI parts.
        let g = chat(r#"[{"role":"user","parts":[{"type":"text","content":"Hello"}]}]"#);
        assert_eq!(g[0].text, "Hello");
    }

    #[test]
    fn langchain_shapes() {
        let m = chat(r#"[[{"type":"human","content":"Q"},{"type":"ai","content":"A"}]]"#);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].role, "user");
        assert_eq!(m[1].role, "assistant");
        let s = chat(
            r#"{"messages":[{"lc":1,"type":"constructor","id":["langchain","schema","messages","HumanMessage"],"kwargs":{"content":"Hey","type":"human"}}]}"#,
        );
        assert_eq!((s[0].role.as_str(), s[0].text.as_str()), ("user", "Hey"));
    }

    #[test]
    fn everything_else_is_json_or_text() {
        assert_eq!(
            read(r#"{"query": "x"}"#),
            Payload::Json(json!({"query": "x"}))
        );
        assert_eq!(read(r#"[1, 2]"#), Payload::Json(json!([1, 2])));
        assert_eq!(read(r#"[]"#), Payload::Json(json!([])));
        assert_eq!(
            read(r#"[{"title": "Result 1"}]"#),
            Payload::Json(json!([{"title": "Result 1"}]))
        );
        assert_eq!(read(r#""quoted""#), Payload::Text("quoted".into()));
        assert_eq!(read("plain words"), Payload::Text("plain words".into()));
        assert_eq!(read("{not json"), Payload::Text("{not json".into()));
        // A list where one item is not a message is not a chat.
        assert!(matches!(
            read(r#"[{"role":"user","content":"a"}, 5]"#),
            Payload::Json(_)
        ));
    }
}
