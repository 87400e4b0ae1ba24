//! A conversation as people read it: one card per message with its role, its text, the tools
//! it calls (name and arguments) and the tool answers it carries.

use leptos::either::Either;
use leptos::prelude::*;
use serde_json::Value;
use skein_model::payload::{ChatMessage, ToolCall, ToolResult};

use crate::components::json_view::JsonView;
use crate::components::long_text::LongText;

#[component]
pub fn Conversation(messages: Vec<ChatMessage>) -> impl IntoView {
    view! {
        <ol class="chat">
            {messages.into_iter().map(|m| view! { <Message message=m/> }).collect_view()}
        </ol>
    }
}

#[component]
fn Message(message: ChatMessage) -> impl IntoView {
    let ChatMessage {
        role,
        name,
        text,
        tool_calls,
        tool_results,
        tool_call_id,
        extra,
    } = message;
    // Only known roles become class names; any other text stays text.
    let role_class = match role.as_str() {
        "system" | "developer" => "msg role-system",
        "user" => "msg role-user",
        "assistant" => "msg role-assistant",
        "tool" | "function" => "msg role-tool",
        _ => "msg role-other",
    };
    view! {
        <li class=role_class>
            <div class="msg-role">
                {role}
                {name.map(|n| view! { <span class="msg-name">{n}</span> })}
                {tool_call_id.map(|id| view! {
                    <span class="msg-call-id" title="The tool call this message answers">{format!("↩ {id}")}</span>
                })}
            </div>
            {(!text.is_empty()).then(|| view! { <div class="msg-text"><LongText text=text/></div> })}
            {tool_calls.into_iter().map(|c| view! { <Call call=c/> }).collect_view()}
            {tool_results.into_iter().map(|r| view! { <Answer result=r/> }).collect_view()}
            {extra
                .into_iter()
                .map(|v| view! { <div class="msg-extra"><JsonView value=v open_depth=1/></div> })
                .collect_view()}
        </li>
    }
}

/// A tool call: `→ name` and its arguments (a structure, or the text sent).
#[component]
fn Call(call: ToolCall) -> impl IntoView {
    let args = match call.arguments {
        Value::Null => None,
        Value::String(s) => Some(Either::Left(
            view! { <div class="tool-args"><LongText text=s/></div> },
        )),
        other => Some(Either::Right(
            view! { <div class="tool-args"><JsonView value=other open_depth=2/></div> },
        )),
    };
    view! {
        <div class="tool-call" data-testid="tool-call">
            <div class="tool-head">
                <span class="tool-arrow" aria-hidden="true">"→"</span>
                <span class="tool-name">{call.name}</span>
                {call.id.map(|id| view! { <span class="tool-id">{id}</span> })}
            </div>
            {args}
        </div>
    }
}

/// A tool's answer carried in a message: `← name` and what it said.
#[component]
fn Answer(result: ToolResult) -> impl IntoView {
    view! {
        <div class="tool-call tool-result" data-testid="tool-result">
            <div class="tool-head">
                <span class="tool-arrow" aria-hidden="true">"←"</span>
                <span class="tool-name">{result.name.unwrap_or_else(|| "tool result".to_string())}</span>
                {result.id.map(|id| view! { <span class="tool-id">{id}</span> })}
            </div>
            <div class="tool-args"><LongText text=result.content/></div>
        </div>
    }
}
