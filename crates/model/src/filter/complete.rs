//! What a filter text box can suggest at the caret: a function, a field, or a value compared
//! with a field; which values a field takes; and the text once a suggestion is accepted.
//! Tolerant of unfinished text (an open call, an unclosed string), unlike `parse`.

use super::fields::TAG_PREFIXES;
use crate::catalog::ValueField;

/// The functions of the language, with what each does.
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("and", "all of the conditions"),
    ("or", "any of the conditions"),
    ("not", "the condition does not hold"),
    ("eq", "field equals a value"),
    ("neq", "field differs from a value"),
    ("gt", "field is greater than a value"),
    ("gte", "field is at least a value"),
    ("lt", "field is less than a value"),
    ("lte", "field is at most a value"),
    ("in", "field is one of [values]"),
    ("has", "a set (tags) holds a value"),
    ("search", "text anywhere in the span"),
];

/// Functions whose first argument is a field and the others values.
const COMPARISONS: &[&str] = &["eq", "neq", "gt", "gte", "lt", "lte", "in", "has"];

/// What is being written at the caret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    Function,
    Field,
    /// A value compared with `field` (as written: `tag.env`, `run_type`).
    Value {
        field: String,
        /// Typed inside quotes.
        quoted: bool,
        /// Inside a call that still needs its `)` once the value is in (not in a list).
        close_call: bool,
    },
}

/// A place in the text where suggestions apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub slot: Slot,
    /// The byte range an accepted suggestion replaces (the word or string around the caret).
    pub start: usize,
    pub end: usize,
    /// What is typed of it, before the caret (without the opening quote).
    pub prefix: String,
}

fn is_word_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | ':')
}

/// An open call (or list) while scanning.
struct Frame {
    /// The function's name; `None` for a `[` list.
    name: Option<String>,
    arg: usize,
    /// The first argument when it is a plain word (the field of a comparison).
    field: Option<String>,
}

/// What came last before the caret.
#[derive(PartialEq)]
enum Last {
    /// The start of the text, `(`, `,` or `[`: a new argument begins.
    Open,
    Word(String),
    /// A closed string, a number, `)` or `]`.
    Done,
}

/// What can be suggested with the caret at byte `caret` of `text`; `None` where nothing
/// fits (after a complete value, inside `search("...")`, after a syntax error).
pub fn completion_at(text: &str, caret: usize) -> Option<Completion> {
    let caret = floor_char_boundary(text, caret);
    let before = &text[..caret];
    let mut stack: Vec<Frame> = Vec::new();
    let mut last = Last::Open;
    let mut chars = before.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => {
                let name = match std::mem::replace(&mut last, Last::Open) {
                    Last::Word(w) => Some(w.to_ascii_lowercase()),
                    _ => return None,
                };
                stack.push(Frame {
                    name,
                    arg: 0,
                    field: None,
                });
            }
            '[' => {
                stack.push(Frame {
                    name: None,
                    arg: 0,
                    field: None,
                });
                last = Last::Open;
            }
            ',' => {
                let frame = stack.last_mut()?;
                if let Last::Word(w) = &last {
                    if frame.arg == 0 {
                        frame.field = Some(w.clone());
                    }
                }
                frame.arg += 1;
                last = Last::Open;
            }
            ')' | ']' => {
                stack.pop()?;
                last = Last::Done;
            }
            '"' | '\'' => {
                let quote = c;
                let mut value = String::new();
                let mut closed = false;
                while let Some((_, d)) = chars.next() {
                    match d {
                        '\\' => {
                            if let Some((_, e)) = chars.next() {
                                value.push(e);
                            }
                        }
                        d if d == quote => {
                            closed = true;
                            break;
                        }
                        d => value.push(d),
                    }
                }
                if closed {
                    last = Last::Done;
                    continue;
                }
                // The caret is inside this string.
                let slot = value_slot(&stack, true)?;
                let end = closing_quote(text, caret, quote).unwrap_or(caret);
                return Some(Completion {
                    slot,
                    start: i,
                    end,
                    prefix: value,
                });
            }
            c if is_word_start(c) => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if !is_word_char(d) {
                        break;
                    }
                    end = j + d.len_utf8();
                    chars.next();
                }
                if end == caret && last == Last::Open {
                    return word_completion(text, &stack, i, caret);
                }
                last = Last::Word(before[i..end].to_string());
            }
            c if c.is_ascii_digit() || matches!(c, '-' | '+' | '.') => {
                while let Some(&(_, d)) = chars.peek() {
                    if !(d.is_ascii_alphanumeric() || matches!(d, '.' | '-' | '+')) {
                        break;
                    }
                    chars.next();
                }
                last = Last::Done;
            }
            _ => return None,
        }
    }
    (last == Last::Open).then(|| word_completion(text, &stack, caret, caret))?
}

/// The slot of a word starting at `start` and typed up to `caret`.
fn word_completion(text: &str, stack: &[Frame], start: usize, caret: usize) -> Option<Completion> {
    let slot = match stack.last() {
        None => Slot::Function,
        Some(Frame {
            name: Some(name), ..
        }) if matches!(name.as_str(), "and" | "or" | "not") => Slot::Function,
        Some(Frame {
            name: Some(name),
            arg: 0,
            ..
        }) if COMPARISONS.contains(&name.as_str()) => Slot::Field,
        _ => value_slot(stack, false)?,
    };
    let end = text[caret..]
        .char_indices()
        .find(|(_, c)| !is_word_char(*c))
        .map_or(text.len(), |(i, _)| caret + i);
    Some(Completion {
        slot,
        start,
        end,
        prefix: text[start..caret].to_string(),
    })
}

/// A value of the innermost comparison (directly, or in its `[...]` list).
fn value_slot(stack: &[Frame], quoted: bool) -> Option<Slot> {
    let (call, in_list) = match stack {
        [.., call, Frame { name: None, .. }] => (call, true),
        [.., call] => (call, false),
        [] => return None,
    };
    let name = call.name.as_deref()?;
    if !COMPARISONS.contains(&name) || call.arg == 0 {
        return None;
    }
    Some(Slot::Value {
        field: call.field.clone()?,
        quoted,
        close_call: !in_list && name != "in",
    })
}

fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Just after the quote closing the string the caret is in, if it is closed on the same value.
fn closing_quote(text: &str, caret: usize, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text[caret..].char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            c if c == quote && !escaped => return Some(caret + i + 1),
            ',' | ')' if !escaped => return None,
            _ => escaped = false,
        }
    }
    None
}

/// Where the values of a field come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    /// The stored values of a tag key.
    TagValues(String),
    /// The stored tag keys (`metadata_key`).
    TagKeys,
    /// The project's services.
    Services,
    /// The stored values of a span field (`GET /api/v1/fields/{field}/values`).
    SpanValues(ValueField),
    /// A fixed list, quoted when inserted.
    Fixed(&'static [&'static str]),
    /// Literals written bare (`true`, `false`).
    Bare(&'static [&'static str]),
    None,
}

/// `SpanType::ALL`'s names (a test keeps them in step).
const TYPES: [&str; 13] = [
    "agent",
    "llm",
    "tool",
    "chain",
    "retriever",
    "embedding",
    "reranker",
    "guardrail",
    "evaluator",
    "http",
    "db",
    "internal",
    "prompt",
];

/// The values worth suggesting for a field as written.
pub fn value_source(field: &str) -> ValueSource {
    if let Some(key) = TAG_PREFIXES.iter().find_map(|p| field.strip_prefix(p)) {
        return ValueSource::TagValues(key.to_string());
    }
    match field {
        "run_type" | "type" | "span_type" => ValueSource::Fixed(&TYPES),
        "status" => ValueSource::Fixed(&["error", "success"]),
        "service" => ValueSource::Services,
        "model" => ValueSource::SpanValues(ValueField::Model),
        "name" => ValueSource::SpanValues(ValueField::Name),
        "metadata_key" => ValueSource::TagKeys,
        "error" | "is_root" => ValueSource::Bare(&["true", "false"]),
        "latency" | "duration" => ValueSource::Fixed(&["100ms", "500ms", "1s", "2s", "5s", "10s"]),
        _ => ValueSource::None,
    }
}

/// `text` quoted as a string literal of the language.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The text with `choice` accepted at `at`, and the caret after it. A function opens its
/// call, a field is followed by `, `, a value is quoted (unless `bare`) and closes its call.
pub fn accept(text: &str, at: &Completion, choice: &str, bare: bool) -> (String, usize) {
    let rest = &text[at.end..];
    let insert = match &at.slot {
        Slot::Function => {
            if rest.starts_with('(') {
                choice.to_string()
            } else {
                format!("{choice}(")
            }
        }
        Slot::Field => {
            if rest.trim_start().starts_with(',') {
                choice.to_string()
            } else {
                format!("{choice}, ")
            }
        }
        Slot::Value { close_call, .. } => {
            let value = if bare {
                choice.to_string()
            } else {
                quote(choice)
            };
            let next = rest.trim_start();
            if *close_call && !next.starts_with(')') && !next.starts_with(',') {
                format!("{value})")
            } else {
                value
            }
        }
    };
    let mut out = String::with_capacity(text.len() + insert.len());
    out.push_str(&text[..at.start]);
    out.push_str(&insert);
    let caret = out.len();
    out.push_str(rest);
    (out, caret)
}

/// `text` and `condition` both required: `condition` alone for an empty filter, added to a
/// top-level `and(...)`, else both wrapped in a new `and`.
pub fn conjoin(text: &str, condition: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return condition.to_string();
    }
    let is_one_and = text.starts_with("and(")
        && text.ends_with(')')
        && super::parse_tree(text).is_ok_and(|node| {
            node.start == 0
                && node.end == text.len()
                && matches!(&node.kind, super::NodeKind::Call(name, _) if name == "and")
        });
    if is_one_and {
        format!("{}, {condition})", &text[..text.len() - 1])
    } else {
        format!("and({text}, {condition})")
    }
}

/// The field naming tag `key` (`tag.env`), when the key can be written as a field name.
pub fn tag_field(key: &str) -> Option<String> {
    (!key.is_empty() && key.chars().all(is_word_char)).then(|| format!("tag.{key}"))
}

/// The candidates matching `prefix` (ASCII case-insensitive: Unicode case tables would weigh
/// on the browser's code): those starting with it first, then those containing it, each group
/// in the given order; at most `max`.
pub fn rank<'a, T>(
    prefix: &str,
    items: &'a [T],
    name: impl Fn(&T) -> &str,
    max: usize,
) -> Vec<&'a T> {
    let needle = prefix.to_ascii_lowercase();
    let mut starts = Vec::new();
    let mut contains = Vec::new();
    for item in items {
        let candidate = name(item).to_ascii_lowercase();
        if candidate == needle && !needle.is_empty() {
            continue;
        }
        if candidate.starts_with(&needle) {
            starts.push(item);
        } else if candidate.contains(&needle) {
            contains.push(item);
        }
    }
    starts.extend(contains);
    starts.truncate(max);
    starts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::SpanType;

    fn at(text_with_caret: &str) -> Option<Completion> {
        let caret = text_with_caret.find('|').expect("a caret");
        let text = text_with_caret.replace('|', "");
        completion_at(&text, caret)
    }

    fn slot(text_with_caret: &str) -> Option<Slot> {
        at(text_with_caret).map(|c| c.slot)
    }

    fn value(field: &str, quoted: bool, close_call: bool) -> Option<Slot> {
        Some(Slot::Value {
            field: field.into(),
            quoted,
            close_call,
        })
    }

    #[test]
    fn tells_functions_fields_and_values_apart() {
        assert_eq!(slot("|"), Some(Slot::Function));
        assert_eq!(slot("an|"), Some(Slot::Function));
        assert_eq!(slot("and(|"), Some(Slot::Function));
        assert_eq!(slot("and(eq(run_type, \"llm\"), g|"), Some(Slot::Function));
        assert_eq!(slot("eq(|"), Some(Slot::Field));
        assert_eq!(slot("and(gt(lat|"), Some(Slot::Field));
        assert_eq!(slot("eq(model, |"), value("model", false, true));
        assert_eq!(slot("eq(model, \"gp|"), value("model", true, true));
        assert_eq!(slot("eq(tag.env, 'pr|"), value("tag.env", true, true));
        assert_eq!(
            slot("in(run_type, [\"llm\", |"),
            value("run_type", false, false)
        );
        assert_eq!(slot("in(run_type, [\"ll|"), value("run_type", true, false));
        // Nothing after a complete value, inside search, or after junk.
        assert_eq!(slot("eq(model, \"x\")|"), None);
        assert_eq!(slot("eq(model, \"x\" |"), None);
        assert_eq!(slot("search(\"ref|"), None);
        assert_eq!(slot("eq(model|"), Some(Slot::Field));
        assert_eq!(slot("eq(model |"), None);
        assert_eq!(slot("eq(model)) , |"), None);
        assert_eq!(slot("eq(# |"), None);
    }

    #[test]
    fn the_replaced_range_covers_the_word_or_string() {
        let text = "and(eq(mod, \"x\"))";
        let c = completion_at(text, 9).unwrap();
        assert_eq!((c.start, c.end, c.prefix.as_str()), (7, 10, "mo"));
        let text = "eq(model, \"gp\")";
        let c = completion_at(text, 13).unwrap();
        assert_eq!((c.start, c.end, c.prefix.as_str()), (10, 14, "gp"));
        // Multibyte text before the caret.
        let text = "eq(name, \"é";
        let c = completion_at(text, text.len()).unwrap();
        assert_eq!(c.prefix, "é");
    }

    #[test]
    fn accepting_writes_valid_filters() {
        let text = "and(eq(mo";
        let c = completion_at(text, text.len()).unwrap();
        let (text, caret) = accept(text, &c, "model", false);
        assert_eq!((text.as_str(), caret), ("and(eq(model, ", 14));
        let c = completion_at(&text, caret).unwrap();
        let (text, caret) = accept(&text, &c, "gpt-4o \"mini\"", false);
        assert_eq!(text, "and(eq(model, \"gpt-4o \\\"mini\\\"\")");
        assert_eq!(caret, text.len());
        assert!(super::super::parse(&format!("{text})")).is_ok());

        let text = "eq(error, t";
        let c = completion_at(text, text.len()).unwrap();
        assert_eq!(accept(text, &c, "true", true).0, "eq(error, true)");
        let text = "gt";
        let c = completion_at(text, 2).unwrap();
        assert_eq!(accept(text, &c, "gte", false).0, "gte(");
        // A closing quote and parenthesis already there are kept, not doubled.
        let text = "eq(model, \"gp\")";
        let c = completion_at(text, 13).unwrap();
        assert_eq!(accept(text, &c, "gpt-4o", false).0, "eq(model, \"gpt-4o\")");
    }

    #[test]
    fn values_come_from_the_right_place() {
        assert_eq!(
            value_source("tag.env"),
            ValueSource::TagValues("env".into())
        );
        assert_eq!(
            value_source("metadata.ab_test_variant"),
            ValueSource::TagValues("ab_test_variant".into())
        );
        assert!(matches!(value_source("run_type"), ValueSource::Fixed(t) if t.contains(&"llm")));
        assert_eq!(value_source("service"), ValueSource::Services);
        assert_eq!(
            value_source("model"),
            ValueSource::SpanValues(ValueField::Model)
        );
        assert_eq!(
            value_source("name"),
            ValueSource::SpanValues(ValueField::Name)
        );
        assert_eq!(value_source("latencyy"), ValueSource::None);
        for field in ValueField::ALL {
            assert_eq!(ValueField::parse(field.as_str()), Some(field));
            assert_eq!(
                value_source(field.as_str()),
                ValueSource::SpanValues(field),
                "the API's name is the language's field"
            );
        }
        let names: Vec<&str> = SpanType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names, TYPES);
    }

    #[test]
    fn conditions_are_added_to_one_and() {
        assert_eq!(conjoin("", "eq(a, 1)"), "eq(a, 1)");
        assert_eq!(conjoin("eq(b, 2)", "eq(a, 1)"), "and(eq(b, 2), eq(a, 1))");
        assert_eq!(
            conjoin("and(eq(b, 2), eq(c, 3))", "eq(a, 1)"),
            "and(eq(b, 2), eq(c, 3), eq(a, 1))"
        );
        assert_eq!(
            conjoin("and(eq(b, 2)) ", "eq(a, 1)"),
            "and(eq(b, 2), eq(a, 1))"
        );
        assert_eq!(tag_field("env"), Some("tag.env".into()));
        assert_eq!(tag_field("a b"), None);
    }

    #[test]
    fn ranks_prefix_matches_before_inner_matches() {
        let names = ["total_tokens", "tokens", "prompt_tokens", "name"];
        let got: Vec<&&str> = rank("tok", &names, |s| s, 10);
        assert_eq!(got, vec![&"tokens", &"total_tokens", &"prompt_tokens"]);
        assert_eq!(rank("", &names, |s| s, 2).len(), 2);
        assert!(
            rank("name", &names, |s| s, 10).is_empty(),
            "a complete word is not offered again"
        );
    }
}
