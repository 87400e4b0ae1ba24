//! The detail panel's input and output: a conversation, collapsible JSON, or wrapped text.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use skein_model::payload::{self, ChatMessage, Payload};
use skein_model::span::Span;

use super::attributes::LongText;
use super::body::section;
use crate::components::copy_button::CopyButton;
use crate::components::json_view::JsonView;
use crate::text;

/// A span's input or output: a conversation, collapsible JSON, or wrapped text; with the raw
/// text a click away and a copy button.
#[component]
pub fn PayloadView(text: Option<String>) -> impl IntoView {
    let Some(text) = text else {
        return Either::Left(view! { <p class="muted empty-note">"Not recorded."</p> });
    };
    let raw = RwSignal::new(false);
    let parsed = payload::read(&text);
    let structured = !matches!(parsed, Payload::Text(_));
    // Raw is the text as recorded (what Copy copies, too).
    let pretty = text.clone();
    let kind = match &parsed {
        Payload::Chat(m) => text::plural(m.len() as u64, "message", "messages"),
        Payload::Json(_) => "JSON".to_string(),
        Payload::Text(t) => text::plural(t.chars().count() as u64, "character", "characters"),
    };
    // The formatted view is drawn once; the raw text only when asked for.
    let formatted = match parsed {
        Payload::Chat(messages) => EitherOf3::A(view! { <ChatView messages=messages/> }),
        Payload::Json(v) => EitherOf3::B(view! { <JsonView value=v/> }),
        Payload::Text(t) => {
            EitherOf3::C(view! { <div class="payload-text"><LongText text=t/></div> })
        }
    };
    let pretty_view = pretty.clone();
    Either::Right(view! {
        <div class="payload" class:show-raw=move || raw.get()>
            <div class="payload-tools">
                <span class="muted">{kind}</span>
                {structured.then(|| view! {
                    <button type="button" class="link-button" on:click=move |_| raw.update(|r| *r = !*r)>
                        {move || if raw.get() { "Formatted" } else { "Raw" }}
                    </button>
                })}
                <CopyButton text=pretty label="Copy"/>
            </div>
            <div class="payload-formatted">{formatted}</div>
            {move || raw.get().then(|| view! { <pre class="payload-raw">{pretty_view.clone()}</pre> })}
        </div>
    })
}

#[component]
pub fn ChatView(messages: Vec<ChatMessage>) -> impl IntoView {
    view! {
        <ol class="chat">
            {messages
                .into_iter()
                .map(|m| {
                    // Only known roles become class names; any other text stays text.
                    let role_class = match m.role.as_str() {
                        "system" | "developer" => "msg role-system",
                        "user" => "msg role-user",
                        "assistant" => "msg role-assistant",
                        "tool" | "function" => "msg role-tool",
                        _ => "msg role-other",
                    };
                    view! {
                        <li class=role_class>
                            <div class="msg-role">
                                {m.role.clone()}
                                {m.name.clone().map(|n| view! { <span class="msg-name">{n}</span> })}
                            </div>
                            {(!m.text.is_empty()).then(|| view! { <div class="msg-text"><LongText text=m.text.clone()/></div> })}
                            {m.extra
                                .into_iter()
                                .map(|v| view! { <div class="msg-extra"><JsonView value=v open_depth=1/></div> })
                                .collect_view()}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

/// The span's input and output sections.
#[component]
pub fn InputOutput(span: std::sync::Arc<Span>) -> impl IntoView {
    [
        ("Input", span.input.clone(), "detail-input"),
        ("Output", span.output.clone(), "detail-output"),
    ]
    .into_iter()
    .map(|(title, text, testid)| {
        section(
            title.to_string(),
            true,
            testid,
            view! { <PayloadView text=text/> },
        )
    })
    .collect_view()
}
