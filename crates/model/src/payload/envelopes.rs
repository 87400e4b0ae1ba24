//! Where the messages are inside a payload: a list, a wrapper, or a model's response.

use serde_json::{Map, Value};

use super::messages::{message, value_text};
use super::ChatMessage;

/// Object keys that, as the object's only key, wrap a message or a list of them (a chain's
/// `{"output": AIMessage}`, `{"input": [messages]}`).
const SINGLE_WRAPPERS: [&str; 4] = ["input", "output", "message", "result"];

/// The conversation a value holds; `None` when it holds none.
pub(super) fn conversation(value: &Value) -> Option<Vec<ChatMessage>> {
    match value {
        Value::Array(items) => message_list(items),
        Value::Object(map) => object_conversation(map),
        _ => None,
    }
}

fn object_conversation(map: &Map<String, Value>) -> Option<Vec<ChatMessage>> {
    if let Some(Value::Array(items)) = map.get("messages") {
        return message_list(items);
    }
    // LangChain's LLMResult: {"generations": [[{text, message}]], "llm_output": ...}.
    if let Some(Value::Array(generations)) = map.get("generations") {
        return generation_messages(generations);
    }
    // OpenAI chat completions: {"choices": [{"message": {...}}]}.
    if let Some(Value::Array(choices)) = map.get("choices") {
        return choice_messages(choices);
    }
    // OpenAI Responses: {"object": "response", "output": [items]}.
    if map.get("object").and_then(Value::as_str) == Some("response") {
        if let Some(Value::Array(items)) = map.get("output") {
            return message_list(items);
        }
    }
    if map.len() == 1 {
        let (key, inner) = map.iter().next()?;
        if SINGLE_WRAPPERS.contains(&key.as_str()) && (inner.is_object() || inner.is_array()) {
            return conversation(inner);
        }
    }
    // A single message: Anthropic's response, one OpenAI message, a LangChain message.
    message(&Value::Object(map.clone())).map(|m| vec![m])
}

/// A list where every item is a message (LangChain batches `[[messages…]]` are flattened).
fn message_list(list: &[Value]) -> Option<Vec<ChatMessage>> {
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

fn generation_messages(generations: &[Value]) -> Option<Vec<ChatMessage>> {
    let flat: Vec<&Value> = generations
        .iter()
        .flat_map(|g| match g {
            Value::Array(inner) => inner.iter().collect::<Vec<_>>(),
            other => vec![other],
        })
        .collect();
    if flat.is_empty() {
        return None;
    }
    flat.into_iter()
        .map(|g| {
            let g = g.as_object()?;
            match g.get("message") {
                Some(m @ Value::Object(_)) => message(m),
                _ => Some(ChatMessage {
                    role: "assistant".to_string(),
                    text: g.get("text").map(value_text).unwrap_or_default(),
                    ..ChatMessage::default()
                }),
            }
        })
        .collect()
}

fn choice_messages(choices: &[Value]) -> Option<Vec<ChatMessage>> {
    if choices.is_empty() {
        return None;
    }
    choices
        .iter()
        .map(|c| {
            let c = c.as_object()?;
            match c.get("message").or_else(|| c.get("delta")) {
                Some(m @ Value::Object(_)) => {
                    let mut msg = message(m)?;
                    if msg.role.is_empty() {
                        msg.role = "assistant".to_string();
                    }
                    Some(msg)
                }
                _ => Some(ChatMessage {
                    role: "assistant".to_string(),
                    text: c.get("text").map(value_text)?,
                    ..ChatMessage::default()
                }),
            }
        })
        .collect()
}
