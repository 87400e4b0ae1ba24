//! The text of a conversation turn: what a request's root span said (input) and answered
//! (output), read from a chat, a JSON object or plain text, and cut to a length.

use crate::payload::{self, Payload};

use super::types::TurnText;

/// Which side of a turn a payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Input,
    Output,
}

/// Keys whose string value is the message in a JSON input or output object (LangSmith's
/// `{"question": ...}`, `{"output": ...}` and the like).
const TEXT_KEYS: [&str; 10] = [
    "input", "question", "query", "message", "prompt", "text", "content", "output", "answer",
    "result",
];

/// The display text of a root span's input or output, for a conversation view: of a chat,
/// the last user message (input) or the last assistant message (output); of a JSON object, its
/// message-like string field; else the text itself (JSON compacted). Cut to `max_chars`.
/// `None` for empty payloads.
pub fn turn_text(raw: &str, side: Side, max_chars: usize) -> Option<TurnText> {
    if raw.trim().is_empty() {
        return None;
    }
    let (text, role) = match payload::read(raw) {
        Payload::Text(t) => (t, None),
        Payload::Chat(messages) => {
            let wanted = match side {
                Side::Input => "user",
                Side::Output => "assistant",
            };
            // What each message says (its text, else its tool calls or results).
            let said: Vec<(String, &str)> = messages
                .iter()
                .map(|m| (m.summary(), m.role.as_str()))
                .collect();
            let pick = said
                .iter()
                .rev()
                .find(|(text, role)| *role == wanted && !text.trim().is_empty())
                .or_else(|| said.iter().rev().find(|(text, _)| !text.trim().is_empty()));
            match pick {
                Some((text, role)) => (text.clone(), Some(role.to_string())),
                None => (raw.trim().to_string(), None),
            }
        }
        Payload::Json(value) => {
            let field = value.as_object().and_then(|map| {
                TEXT_KEYS
                    .iter()
                    .find_map(|k| map.get(*k).and_then(|v| v.as_str()))
                    .or_else(|| {
                        // A single string field, whatever its name.
                        let mut strings = map.values().filter_map(|v| v.as_str());
                        match (strings.next(), strings.next(), map.len()) {
                            (Some(s), None, 1) => Some(s),
                            _ => None,
                        }
                    })
            });
            match field {
                Some(s) => (s.to_string(), None),
                None => (value.to_string(), None),
            }
        }
    };
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let (text, truncated) = cut(text, max_chars);
    Some(TurnText {
        text,
        role,
        truncated,
    })
}

/// At most `max` characters (an ellipsis added when cut), never splitting a character.
pub fn cut(text: &str, max: usize) -> (String, bool) {
    match text.char_indices().nth(max) {
        None => (text.to_string(), false),
        Some((at, _)) => (format!("{}…", &text[..at]), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_text_reads_chats_json_and_text() {
        let chat = r#"[{"role":"system","content":"Be careful."},{"role":"user","content":"First"},
            {"role":"assistant","content":"Answer"},{"role":"user","content":"Second <b>"}]"#;
        let input = turn_text(chat, Side::Input, 100).unwrap();
        assert_eq!(input.text, "Second <b>");
        assert_eq!(input.role.as_deref(), Some("user"));
        let output = turn_text(chat, Side::Output, 100).unwrap();
        assert_eq!(output.text, "Answer");

        assert_eq!(
            turn_text(r#"{"question": "Why?", "k": 3}"#, Side::Input, 100)
                .unwrap()
                .text,
            "Why?"
        );
        assert_eq!(
            turn_text(r#"{"whatever": "only string"}"#, Side::Output, 100)
                .unwrap()
                .text,
            "only string"
        );
        assert_eq!(
            turn_text(r#"{"a": 1}"#, Side::Output, 100).unwrap().text,
            r#"{"a":1}"#
        );
        assert_eq!(turn_text("plain", Side::Input, 100).unwrap().text, "plain");
        assert_eq!(turn_text("   ", Side::Input, 100), None);
        assert_eq!(turn_text(r#"{"input": "  "}"#, Side::Input, 100), None);
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let t = turn_text(&"é".repeat(10), Side::Input, 4).unwrap();
        assert_eq!(t.text, "éééé…");
        assert!(t.truncated);
        assert_eq!(cut("abc", 3), ("abc".to_string(), false));
    }
}
