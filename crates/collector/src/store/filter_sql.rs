//! A checked filter (`skein_model::filter::Expr`) as a SQL condition, for any engine: the
//! engine (`Dialect`) says how a field of a span row is read and how a literal is written (a
//! bound parameter, or a quoted literal); the boolean structure is the same everywhere.
//! Fields never read as NULL (engines write `ifnull`/defaults), so `not` is exact.

use skein_model::filter::{Expr, Field, Op, Value};
use skein_model::span_list::SpanSort;

use super::{StoreError, StoreResult};

pub(crate) trait Dialect {
    /// The field of the span row `alias` as a non-NULL expression (flags as 0/1).
    fn column(&mut self, field: &Field, alias: &str) -> String;
    /// A literal, bound or quoted.
    fn literal(&mut self, value: &Value) -> String;
    /// The span's labels hold `label`.
    fn has_label(&mut self, alias: &str, label: &str) -> String;
    /// One of the span's tags has the value.
    fn has_tag_value(&mut self, alias: &str, value: &str) -> String;
    fn tag_exists(&mut self, alias: &str, key: &str) -> String;
    /// The span has feedback with this key (and a score passing the test).
    fn feedback(&mut self, alias: &str, key: &str, score: Option<(Op, f64)>) -> String;
    /// The attribute's number (`skein_model::filter::attr_number`) passes `op number`; an
    /// attribute that is not a number passes only `neq`. (Its text is `column`'s.)
    fn attr_number(&mut self, alias: &str, key: &str, op: Op, number: f64) -> String;
    /// The span's search text (`trace_search::search_text`) contains `needle` (lowercased,
    /// `MIN_SEARCH_CHARS` or more), taken as literal text whatever characters it holds.
    fn search(&mut self, alias: &str, needle: &str) -> String;
}

/// The condition on the span row `alias`.
pub(crate) fn condition(expr: &Expr, alias: &str, d: &mut dyn Dialect) -> StoreResult<String> {
    Ok(match expr {
        Expr::And(items) | Expr::Or(items) if items.is_empty() => if matches!(expr, Expr::And(_)) {
            "1 = 1"
        } else {
            "1 = 0"
        }
        .to_string(),
        Expr::And(items) | Expr::Or(items) => {
            let joiner = if matches!(expr, Expr::And(_)) {
                " AND "
            } else {
                " OR "
            };
            let parts = items
                .iter()
                .map(|e| condition(e, alias, d).map(|c| format!("({c})")))
                .collect::<StoreResult<Vec<_>>>()?;
            parts.join(joiner)
        }
        Expr::Not(inner) => format!("NOT ({})", condition(inner, alias, d)?),
        Expr::Compare {
            field: Field::Attr(key),
            op,
            value: Value::Float(number),
        } => d.attr_number(alias, key, *op, *number),
        Expr::Compare { field, op, value } => {
            let column = d.column(field, alias);
            let literal = d.literal(&flag(value));
            format!("{column} {} {literal}", op.sql())
        }
        Expr::In { values, .. } if values.is_empty() => "1 = 0".to_string(),
        Expr::In { field, values } => {
            let column = d.column(field, alias);
            let list: Vec<String> = values.iter().map(|v| d.literal(&flag(v))).collect();
            format!("{column} IN ({})", list.join(", "))
        }
        Expr::Has {
            field: Field::Labels,
            value,
        } => d.has_label(alias, value),
        Expr::Has { value, .. } => d.has_tag_value(alias, value),
        Expr::TagExists(key) => d.tag_exists(alias, key),
        Expr::Feedback { key, score } => d.feedback(alias, key, *score),
        Expr::Search(needle) => d.search(alias, needle),
    })
}

/// Flags are compared as 0/1.
fn flag(value: &Value) -> Value {
    match value {
        Value::Bool(b) => Value::Int(i64::from(*b)),
        other => other.clone(),
    }
}

/// Where a page ends: the last row's sort value and its tie-breaker, as `value~tie`.
pub(crate) struct Cursor {
    pub value: CursorValue,
    pub tie: String,
}

pub(crate) enum CursorValue {
    Int(i64),
    Float(f64),
}

impl Cursor {
    pub fn encode(sort: SpanSort, int: i64, float: f64, tie: &str) -> String {
        match sort {
            SpanSort::CostDesc => format!("{float}~{tie}"),
            _ => format!("{int}~{tie}"),
        }
    }

    pub fn parse(sort: SpanSort, text: &str) -> StoreResult<Cursor> {
        let bad = || StoreError::Invalid(format!("cursor {text:?} is not one this list gave"));
        let (value, tie) = text.split_once('~').ok_or_else(bad)?;
        let value = match sort {
            SpanSort::CostDesc => CursorValue::Float(
                value
                    .parse()
                    .ok()
                    .filter(|f: &f64| f.is_finite())
                    .ok_or_else(bad)?,
            ),
            _ => CursorValue::Int(value.parse().map_err(|_| bad())?),
        };
        Ok(Cursor {
            value,
            tie: tie.to_string(),
        })
    }

    pub fn value_sql(&self) -> String {
        match self.value {
            CursorValue::Int(i) => i.to_string(),
            CursorValue::Float(f) => format!("{f:?}"),
        }
    }
}
