//! How a filter reads a span attribute (`attr.KEY`): its text, and its number when it is one.
//! One rule for every engine: the evaluator here, and the columns the stores write (SQLite
//! keeps `filterable`'s maps with each span; ClickHouse reads the stored JSON the same way).
//!
//! - text: a string as it is; a number, flag, list or object as its compact JSON
//!   (`500`, `true`, `["a","b"]`); null, or text longer than `MAX_ATTR_TEXT` bytes (a
//!   payload: `search()` finds words in those), is missing, read as empty text;
//! - number: a JSON number, or a string that is exactly a decimal number (`"500"`,
//!   `"-2.5e3"`; no spaces, no `+`, no `inf`). Anything else is not a number, and a numeric
//!   comparison with it is false (true for `neq`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The longest attribute text (bytes) a filter compares.
pub const MAX_ATTR_TEXT: usize = 1024;

/// The attribute's text as filters compare it; `None` when missing.
pub fn attr_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    (text.len() <= MAX_ATTR_TEXT).then_some(text)
}

/// The attribute's number, when it is one.
pub fn attr_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if is_decimal(s) => s.parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

/// `-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?`, the pattern the ClickHouse engine matches too.
pub fn is_decimal(text: &str) -> bool {
    fn digits(b: &[u8]) -> usize {
        b.iter().take_while(|c| c.is_ascii_digit()).count()
    }
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let n = digits(&b[i..]);
    if n == 0 {
        return false;
    }
    i += n;
    if b.get(i) == Some(&b'.') {
        let n = digits(&b[i + 1..]);
        if n == 0 {
            return false;
        }
        i += 1 + n;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(&b[i..]);
        if n == 0 {
            return false;
        }
        i += n;
    }
    i == b.len()
}

/// What a store keeps of a span's attributes for filters: each key's text, and the keys
/// that are numbers with their number.
pub fn filterable(
    attributes: &Map<String, Value>,
) -> (BTreeMap<String, String>, BTreeMap<String, f64>) {
    let texts = attributes
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), attr_text(v)?)))
        .collect();
    let numbers = attributes
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), attr_number(v)?)))
        .collect();
    (texts, numbers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn texts_and_numbers_follow_one_rule() {
        assert_eq!(attr_text(&json!("GET")).as_deref(), Some("GET"));
        assert_eq!(attr_text(&json!(500)).as_deref(), Some("500"));
        assert_eq!(attr_text(&json!(2.5)).as_deref(), Some("2.5"));
        assert_eq!(attr_text(&json!(true)).as_deref(), Some("true"));
        assert_eq!(
            attr_text(&json!(["a", "b"])).as_deref(),
            Some(r#"["a","b"]"#)
        );
        assert_eq!(attr_text(&json!(null)), None);
        assert_eq!(attr_text(&json!("x".repeat(MAX_ATTR_TEXT + 1))), None);
        assert_eq!(attr_number(&json!(3)), Some(3.0));
        assert_eq!(attr_number(&json!("500")), Some(500.0));
        assert_eq!(attr_number(&json!("-2.5e3")), Some(-2500.0));
        for not in [
            "", "-", "1.", ".5", "+5", " 5", "5 ", "inf", "NaN", "1e", "0x10", "1e+",
        ] {
            assert_eq!(attr_number(&json!(not)), None, "{not:?}");
        }
        assert_eq!(attr_number(&json!(true)), None);
        assert_eq!(attr_number(&json!([1])), None);
    }
}
