//! One filter language for spans, traces and the API: LangSmith's run filter grammar
//! (`and(eq(run_type, "llm"), gt(latency, "2s"), has(tags, "beta"))`) extended with Skein's
//! fields (`eq(tag.env, "prod")`, `gt(attr.retrieval.documents, 3)`, `model`, `service`,
//! `session`, `user`...). Parsed here, so
//! the browser checks an expression as it is typed; evaluated here on one span (`eval`), and
//! compiled to SQL by each store engine from the typed `Expr` this module gives.
//!
//! - `parse`: text → `Node` tree with byte positions;
//! - `lower`: the tree → `Expr`, every field name resolved (`fields`) and every literal
//!   converted to what the field holds (latencies to ns, times to Unix ns, run types to codes);
//! - `eval`: whether a span passes;
//! - `attr`: how an attribute is read (its text, its number), for the evaluator and the stores.

mod attr;
pub mod complete;
mod eval;
mod fields;
mod lower;
mod parse;
mod time;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use attr::{attr_number, attr_text, filterable, is_decimal, MAX_ATTR_TEXT};
pub use eval::{matches, matches_with, FeedbackTest};
pub use fields::{field_names, FieldInfo, FIELDS};
pub use parse::{parse_tree, Node, NodeKind, MAX_DEPTH};
pub use time::{parse_duration_ns, parse_timestamp_ns};

/// A filter that cannot be used, and where in its text the problem is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterError {
    pub message: String,
    /// Byte offset of the start of the offending text.
    pub offset: usize,
    /// Byte offset just after it.
    pub end: usize,
    /// The same start counted in characters, for a browser's text box.
    pub char_offset: usize,
}

impl FilterError {
    pub(crate) fn at(text: &str, offset: usize, end: usize, message: impl Into<String>) -> Self {
        let offset = offset.min(text.len());
        let char_offset = text
            .get(..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset);
        FilterError {
            message: message.into(),
            offset,
            end: end.clamp(offset, text.len().max(offset)),
            char_offset,
        }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (at character {})",
            self.message,
            self.char_offset + 1
        )
    }
}

impl std::error::Error for FilterError {}

/// What a condition looks at on a span.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    /// `SpanType::code`.
    Type,
    Service,
    /// Empty when the span has none (as for every text field).
    Model,
    /// Unix ns.
    Start,
    End,
    /// End minus start, ns.
    Latency,
    /// True for a span whose status is error.
    Error,
    /// Input plus output tokens (0 when unknown).
    Tokens,
    PromptTokens,
    CompletionTokens,
    /// Dollars (0 when unknown).
    Cost,
    TraceId,
    SpanId,
    /// Empty for a root span.
    ParentId,
    IsRoot,
    Session,
    User,
    /// A metadata tag's value (`tag.env`, LangSmith `metadata_key`/`metadata_value`).
    Tag(String),
    /// The value of any tag (`metadata_value` alone).
    AnyTagValue,
    /// The free-form labels (LangSmith `tags`).
    Labels,
    /// Any span attribute (`attr.http.status_code`), read as `attr` says: compared as a
    /// number when the literal is a number (`Value::Float`), else as text.
    Attr(String),
}

/// What a field holds, which decides the literals and operators it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Int,
    Float,
    Bool,
    /// A set of texts (`has`, and `eq` meaning "has").
    TextSet,
    /// An attribute: text or number, as the literal compared with it.
    Attr,
}

impl Field {
    pub fn kind(&self) -> FieldKind {
        match self {
            Field::Name
            | Field::Service
            | Field::Model
            | Field::TraceId
            | Field::SpanId
            | Field::ParentId
            | Field::Session
            | Field::User
            | Field::Tag(_) => FieldKind::Text,
            Field::Type
            | Field::Start
            | Field::End
            | Field::Latency
            | Field::Tokens
            | Field::PromptTokens
            | Field::CompletionTokens => FieldKind::Int,
            Field::Cost => FieldKind::Float,
            Field::Error | Field::IsRoot => FieldKind::Bool,
            Field::Labels | Field::AnyTagValue => FieldKind::TextSet,
            Field::Attr(_) => FieldKind::Attr,
        }
    }
}

/// A literal, converted to what its field holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Op {
    pub fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Neq => "!=",
            Op::Gt => ">",
            Op::Gte => ">=",
            Op::Lt => "<",
            Op::Lte => "<=",
        }
    }
}

/// A checked filter. Missing values compare as empty text, 0 or false, never as "unknown":
/// `neq(model, "x")` keeps spans without a model, and `not(e)` keeps exactly what `e` drops.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Compare {
        field: Field,
        op: Op,
        value: Value,
    },
    /// The field equals one of the values.
    In {
        field: Field,
        values: Vec<Value>,
    },
    /// The set field (labels, tag values) holds the text.
    Has {
        field: Field,
        value: String,
    },
    /// The tag is present.
    TagExists(String),
    /// A span whose name, input, output, attribute values or event messages contain the text
    /// (case-insensitive, as `trace_search` decides).
    Search(String),
    /// Feedback on the span with this key (and a score passing `score`, when given).
    Feedback {
        key: String,
        score: Option<(Op, f64)>,
    },
}

impl Expr {
    /// Whether any part of the expression passes `test` (does it ask about feedback, or
    /// search text?).
    pub fn any(&self, test: &impl Fn(&Expr) -> bool) -> bool {
        test(self)
            || match self {
                Expr::And(items) | Expr::Or(items) => items.iter().any(|e| e.any(test)),
                Expr::Not(inner) => inner.any(test),
                _ => false,
            }
    }

    /// The texts a span (or trace) cannot pass without containing: the searches of the
    /// expression, alone or in a top-level `and`. Stores narrow through their text index with
    /// them before testing the rest.
    pub fn required_searches(&self) -> Vec<&str> {
        match self {
            Expr::Search(needle) => vec![needle.as_str()],
            Expr::And(items) => items.iter().flat_map(Expr::required_searches).collect(),
            _ => Vec::new(),
        }
    }

    /// Rewrites the text literals compared with `field` (a LangSmith run UUID to the span id
    /// it is stored as); a literal `map` refuses leaves the whole comparison unmatched.
    pub fn map_text(self, field: &Field, map: &impl Fn(&str) -> Option<String>) -> Expr {
        let convert = |v: Value| match v {
            Value::Text(t) => map(&t).map(Value::Text),
            other => Some(other),
        };
        match self {
            Expr::And(items) => {
                Expr::And(items.into_iter().map(|e| e.map_text(field, map)).collect())
            }
            Expr::Or(items) => {
                Expr::Or(items.into_iter().map(|e| e.map_text(field, map)).collect())
            }
            Expr::Not(inner) => Expr::Not(Box::new(inner.map_text(field, map))),
            Expr::Compare {
                field: f,
                op,
                value,
            } if &f == field => match convert(value) {
                Some(value) => Expr::Compare {
                    field: f,
                    op,
                    value,
                },
                // An id that names nothing stored equals nothing.
                None if op == Op::Neq => Expr::And(vec![]),
                None => Expr::Or(vec![]),
            },
            Expr::In { field: f, values } if &f == field => Expr::In {
                field: f,
                values: values.into_iter().filter_map(convert).collect(),
            },
            other => other,
        }
    }
}

/// Parses and checks a filter. Empty (or blank) text is no filter: `Ok(None)`.
pub fn parse(text: &str) -> Result<Option<Expr>, FilterError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let tree = parse_tree(text)?;
    lower::lower(text, &tree).map(Some)
}

/// The text a filter searches for: its first `search("...")` not under a `not`, as typed
/// (trimmed). The trace page's find box starts with it when a trace is opened from a list
/// searched that way, so the match is marked.
pub fn searched_text(text: &str) -> Option<String> {
    fn first(node: &Node) -> Option<String> {
        match &node.kind {
            NodeKind::Call(f, args) if f == "search" => match args.as_slice() {
                [Node {
                    kind: NodeKind::Text(t),
                    ..
                }] => Some(t.trim().to_string()).filter(|t| !t.is_empty()),
                _ => None,
            },
            NodeKind::Call(f, args) if f == "and" || f == "or" => args.iter().find_map(first),
            _ => None,
        }
    }
    first(&parse_tree(text).ok()?)
}

#[cfg(test)]
mod tests;
