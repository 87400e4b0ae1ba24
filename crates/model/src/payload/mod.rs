//! A span's input or output, read for display: a conversation (messages with roles, text, tool
//! calls and tool results), other JSON, or plain text. `Span::input`/`output` carry text; JSON
//! arrives as a string.
//!
//! Every client writes conversations its own way; they all read as the same [`ChatMessage`]s:
//! - message lists: OpenAI chat (`[{role, content, tool_calls}]`), OTel GenAI (`[{role,
//!   parts}]`), Anthropic content blocks (`text`, `tool_use`, `tool_result`), the OpenAI
//!   Responses API's items (`message`, `function_call`, `function_call_output`), the Vercel AI
//!   SDK's parts (`tool-call`, `tool-result`), LangChain's `{type: "human", content}`,
//!   `{type, data}` and serialized `HumanMessage` objects, and `{"messages": [...]}` wrappers;
//! - model responses: LangChain's `LLMResult` (`generations`), OpenAI's `choices`, Anthropic's
//!   message object, the Responses API's `output`, a single message;
//! - flattened attributes (OpenInference's `llm.input_messages.0.message.role`…, OpenLLMetry's
//!   `gen_ai.prompt.0.content`…), which [`span_io`] turns into a message list at ingest.

mod envelopes;
mod flattened;
mod messages;
pub mod span_io;

use serde_json::Value;

pub use flattened::flattened_messages;

/// What a payload is, for choosing how to show it.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Text(String),
    Json(Value),
    Chat(Vec<ChatMessage>),
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant`, `tool`… (LangChain's `human`/`ai` become `user`/`assistant`).
    pub role: String,
    /// A participant or tool name, when the message has one.
    pub name: Option<String>,
    /// The text parts, joined by blank lines.
    pub text: String,
    /// The tools the message asks to call.
    pub tool_calls: Vec<ToolCall>,
    /// Tools' answers carried as parts of the message (Anthropic, GenAI, Vercel AI).
    pub tool_results: Vec<ToolResult>,
    /// The call a `tool` message answers (OpenAI, LangChain).
    pub tool_call_id: Option<String>,
    /// Everything else: images, reasoning, unknown parts, as JSON.
    pub extra: Vec<Value>,
}

/// A tool call a model asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: Option<String>,
    pub name: String,
    /// The arguments: JSON when they are JSON (even when sent as a string), else the string.
    pub arguments: Value,
}

/// A tool's answer inside a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// The call it answers.
    pub id: Option<String>,
    pub name: Option<String>,
    /// The answer as text (JSON compacted).
    pub content: String,
}

impl ToolCall {
    /// `name(arguments)`, the arguments compact.
    pub fn signature(&self) -> String {
        let args = match &self.arguments {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        format!("{}({args})", self.name)
    }
}

impl ChatMessage {
    /// What the message says, in one line of thought: its text; else the calls it makes;
    /// else the tool answers it carries. Empty when it has none of these.
    pub fn summary(&self) -> String {
        if !self.text.trim().is_empty() {
            return self.text.clone();
        }
        if !self.tool_calls.is_empty() {
            let calls: Vec<String> = self.tool_calls.iter().map(ToolCall::signature).collect();
            return calls.join("\n");
        }
        let results: Vec<&str> = self
            .tool_results
            .iter()
            .map(|r| r.content.as_str())
            .collect();
        results.join("\n\n")
    }
}

/// Reads a payload: a conversation when it is shaped like one, else JSON when it parses as an
/// object or array, else the text itself (a JSON string is unquoted).
pub fn read(text: &str) -> Payload {
    match parse_json(text) {
        Some(value) => from_value(value),
        None => Payload::Text(text.to_string()),
    }
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

/// The messages of a conversation-shaped value; `None` when it is not one.
pub fn chat_messages(value: &Value) -> Option<Vec<ChatMessage>> {
    envelopes::conversation(value)
}

/// The text as JSON when it looks like JSON (an object, array or string) and parses.
fn parse_json(text: &str) -> Option<Value> {
    let trimmed = text.trim();
    let json_like =
        trimmed.starts_with('{') || trimmed.starts_with('[') || trimmed.starts_with('"');
    if !json_like {
        return None;
    }
    serde_json::from_str(trimmed).ok()
}

/// Whether the text reads as a conversation.
pub fn is_chat(text: &str) -> bool {
    parse_json(text).is_some_and(|v| chat_messages(&v).is_some())
}

#[cfg(test)]
mod tests;
