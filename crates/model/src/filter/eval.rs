//! Whether one span passes a filter: the reference the store engines' SQL agrees with, and
//! what a reader that already holds the spans (LangSmith's run queries) uses.

use std::cmp::Ordering;

use super::{Expr, Field, Op, Value};
use crate::span::Span;

/// What a span holds for a field (missing values as empty text, 0 or false).
fn value_of(span: &Span, field: &Field) -> Value {
    let text = |t: Option<&String>| Value::Text(t.cloned().unwrap_or_default());
    match field {
        Field::Name => Value::Text(span.name.clone()),
        Field::Type => Value::Int(i64::from(span.span_type.code())),
        Field::Service => Value::Text(span.service.clone()),
        Field::Model => text(span.model.as_ref()),
        Field::Start => Value::Int(span.start_ns),
        Field::End => Value::Int(span.end_ns),
        Field::Latency => Value::Int(span.duration_ns()),
        Field::Error => Value::Bool(span.status.is_error()),
        Field::Tokens => Value::Int(span.total_tokens().unwrap_or(0)),
        Field::PromptTokens => Value::Int(span.input_tokens.unwrap_or(0)),
        Field::CompletionTokens => Value::Int(span.output_tokens.unwrap_or(0)),
        Field::Cost => Value::Float(span.cost.unwrap_or(0.0)),
        Field::TraceId => Value::Text(span.trace_id.clone()),
        Field::SpanId => Value::Text(span.span_id.clone()),
        Field::ParentId => text(span.parent_span_id.as_ref()),
        Field::IsRoot => Value::Bool(span.parent_span_id.is_none()),
        Field::Session => text(span.session_id.as_ref()),
        Field::User => text(span.user_id.as_ref()),
        Field::Tag(key) => text(span.tags.get(key)),
        Field::Attr(key) => Value::Text(
            span.attributes
                .get(key)
                .and_then(super::attr_text)
                .unwrap_or_default(),
        ),
        Field::AnyTagValue | Field::Labels => Value::Text(String::new()),
    }
}

fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Float(y)) => (*x as f64).partial_cmp(y),
        (Value::Float(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn compare(a: &Value, op: Op, b: &Value) -> bool {
    let Some(o) = order(a, b) else {
        return op == Op::Neq;
    };
    match op {
        Op::Eq => o.is_eq(),
        Op::Neq => o.is_ne(),
        Op::Gt => o.is_gt(),
        Op::Gte => o.is_ge(),
        Op::Lt => o.is_lt(),
        Op::Lte => o.is_le(),
    }
}

/// Whether the span passes; a feedback condition is false (see `matches_with`).
pub fn matches(expr: &Expr, span: &Span) -> bool {
    matches_with(expr, span, &|_, _, _| false)
}

/// Decides a feedback condition on a span: `(span, key, score test)`.
pub type FeedbackTest<'a> = dyn Fn(&Span, &str, Option<(Op, f64)>) -> bool + 'a;

/// Whether the span passes, `feedback` deciding feedback conditions.
pub fn matches_with(expr: &Expr, span: &Span, feedback: &FeedbackTest) -> bool {
    match expr {
        Expr::And(items) => items.iter().all(|e| matches_with(e, span, feedback)),
        Expr::Or(items) => items.iter().any(|e| matches_with(e, span, feedback)),
        Expr::Not(inner) => !matches_with(inner, span, feedback),
        Expr::Compare {
            field: Field::Attr(key),
            op,
            value: number @ Value::Float(_),
        } => match span.attributes.get(key).and_then(super::attr_number) {
            Some(own) => compare(&Value::Float(own), *op, number),
            // Not a number: no order, so only `neq` holds.
            None => *op == Op::Neq,
        },
        Expr::Compare { field, op, value } => compare(&value_of(span, field), *op, value),
        Expr::In { field, values } => {
            let own = value_of(span, field);
            values.iter().any(|v| compare(&own, Op::Eq, v))
        }
        Expr::Has {
            field: Field::Labels,
            value,
        } => span.labels.iter().any(|l| l == value),
        Expr::Has {
            field: Field::AnyTagValue,
            value,
        } => span.tags.values().any(|v| v == value),
        Expr::Has { .. } => false,
        Expr::TagExists(key) => span.tags.contains_key(key),
        Expr::Search(needle) => crate::trace_search::span_contains(span, needle),
        Expr::Feedback { key, score } => feedback(span, key, *score),
    }
}
