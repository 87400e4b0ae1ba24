//! LangSmith's run filter language, the part Skein evaluates: `and`, `or`, `not`, `eq`, `neq`,
//! `gt`, `gte`, `lt`, `lte`, `has`, `in` over `name`, `run_type`, `id`, `trace_id`,
//! `parent_run_id`, `status`, `error`, `start_time`, `end_time`, `latency`, `tags`,
//! `total_tokens`, `prompt_tokens`, `completion_tokens`, `total_cost`, and
//! `eq(metadata_key, k)` / `eq(metadata_value, v)` (paired within one `and`). Anything else is
//! refused with a message that names it, rather than silently matching everything.
//!
//! Example: `and(eq(name, "main_agent"), has(tags, "prod"), gt(latency, 2))`.

use serde_json::Value;

use super::run::parse_time;

#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Call(String, Vec<Arg>),
    Field(String),
    Literal(Value),
}

/// How deep calls may nest: far more than a real filter needs, and few enough that parsing,
/// checking and evaluating (all recursive) stay well within a thread's stack.
pub const MAX_DEPTH: usize = 64;

/// Parses a filter; the error says where it went wrong.
pub fn parse(text: &str) -> Result<Arg, String> {
    let tokens = tokenize(text)?;
    let mut pos = 0;
    let expr = parse_arg(&tokens, &mut pos, 0)?;
    if pos != tokens.len() {
        return Err(format!(
            "filter {text:?}: unexpected text after the expression"
        ));
    }
    match expr {
        Arg::Call(..) => Ok(expr),
        _ => Err(format!(
            "filter {text:?} is not a function call such as eq(name, \"x\")"
        )),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Literal(Value),
    Open,
    Close,
    Comma,
    ListOpen,
    ListClose,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1
            }
            '[' => {
                tokens.push(Token::ListOpen);
                i += 1
            }
            ']' => {
                tokens.push(Token::ListClose);
                i += 1
            }
            '"' | '\'' => {
                let quote = c;
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("filter {text:?}: unterminated string")),
                        Some('\\') => {
                            if let Some(next) = chars.get(i + 1) {
                                s.push(*next);
                            }
                            i += 2;
                        }
                        Some(q) if *q == quote => {
                            i += 1;
                            break;
                        }
                        Some(other) => {
                            s.push(*other);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Literal(Value::String(s)));
            }
            c if c.is_ascii_digit() || c == '-' || c == '.' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_digit()
                        || matches!(chars[i], '-' | '.' | 'e' | 'E' | '+'))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let number: f64 = word
                    .parse()
                    .map_err(|_| format!("filter {text:?}: {word:?} is not a number"))?;
                tokens.push(Token::Literal(Value::from(number)));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.'))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                tokens.push(match word.as_str() {
                    "null" | "None" => Token::Literal(Value::Null),
                    "true" | "True" => Token::Literal(Value::Bool(true)),
                    "false" | "False" => Token::Literal(Value::Bool(false)),
                    _ => Token::Word(word),
                });
            }
            other => return Err(format!("filter {text:?}: unexpected {other:?}")),
        }
    }
    Ok(tokens)
}

fn parse_arg(tokens: &[Token], pos: &mut usize, depth: usize) -> Result<Arg, String> {
    match tokens.get(*pos) {
        Some(Token::Word(w)) => {
            *pos += 1;
            if tokens.get(*pos) == Some(&Token::Open) {
                if depth >= MAX_DEPTH {
                    return Err(format!("filter: calls nest deeper than {MAX_DEPTH} levels"));
                }
                *pos += 1;
                let mut args = Vec::new();
                if tokens.get(*pos) == Some(&Token::Close) {
                    *pos += 1;
                    return Ok(Arg::Call(w.clone(), args));
                }
                loop {
                    args.push(parse_arg(tokens, pos, depth + 1)?);
                    match tokens.get(*pos) {
                        Some(Token::Comma) => *pos += 1,
                        Some(Token::Close) => {
                            *pos += 1;
                            return Ok(Arg::Call(w.clone(), args));
                        }
                        _ => return Err(format!("filter: expected ',' or ')' in {w}(...)")),
                    }
                }
            }
            Ok(Arg::Field(w.clone()))
        }
        Some(Token::Literal(v)) => {
            *pos += 1;
            Ok(Arg::Literal(v.clone()))
        }
        Some(Token::ListOpen) => {
            *pos += 1;
            let mut items = Vec::new();
            loop {
                match tokens.get(*pos) {
                    Some(Token::ListClose) => {
                        *pos += 1;
                        return Ok(Arg::Literal(Value::Array(items)));
                    }
                    Some(Token::Comma) => *pos += 1,
                    Some(Token::Literal(v)) => {
                        items.push(v.clone());
                        *pos += 1;
                    }
                    _ => return Err("filter: a list holds only literals".into()),
                }
            }
        }
        _ => Err("filter: expected a function, a field or a value".into()),
    }
}

const FIELDS: &[&str] = &[
    "name",
    "run_type",
    "id",
    "trace_id",
    "parent_run_id",
    "status",
    "error",
    "start_time",
    "end_time",
    "latency",
    "tags",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "total_cost",
    "session_id",
];

/// Checks a parsed filter once, so a bad one is refused before any run is read.
pub fn validate(expr: &Arg) -> Result<(), String> {
    match expr {
        Arg::Call(f, args) => {
            match f.as_str() {
                "and" | "or" => {}
                "not" if args.len() == 1 => {}
                "eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "has" | "in" if args.len() == 2 => {
                    match &args[0] {
                        Arg::Field(name)
                            if FIELDS.contains(&name.as_str())
                                || (matches!(name.as_str(), "metadata_key" | "metadata_value")
                                    && f == "eq") => {}
                        Arg::Field(name) => {
                            return Err(format!("filter field {name:?} is not supported by Skein"))
                        }
                        _ => return Err(format!("{f}(...) must start with a field name")),
                    }
                    if !matches!(args[1], Arg::Literal(_)) {
                        return Err(format!("{f}(...) compares a field with a value"));
                    }
                }
                other => {
                    return Err(format!(
                        "filter function {other}() with {} arguments is not supported by Skein",
                        args.len()
                    ))
                }
            }
            args.iter()
                .filter(|a| matches!(a, Arg::Call(..)))
                .try_for_each(validate)
        }
        _ => Err("filter: expected a function call".into()),
    }
}

fn field(run: &Value, name: &str) -> Value {
    match name {
        "latency" => {
            let start = run.get("start_time").and_then(parse_time);
            let end = run.get("end_time").and_then(parse_time);
            match (start, end) {
                (Some(s), Some(e)) => Value::from((e - s) as f64 / 1e9),
                _ => Value::Null,
            }
        }
        other => run.get(other).cloned().unwrap_or(Value::Null),
    }
}

fn compare(a: &Value, b: &Value, time: bool) -> Option<std::cmp::Ordering> {
    if time {
        return parse_time(a)?.partial_cmp(&parse_time(b)?);
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Number(x), Value::String(y)) => x.as_f64()?.partial_cmp(&y.parse().ok()?),
        _ => None,
    }
}

fn equal(a: &Value, b: &Value, time: bool) -> bool {
    if a == b {
        return true;
    }
    compare(a, b, time) == Some(std::cmp::Ordering::Equal)
}

/// Whether a run (as shown to the SDK) passes a validated filter.
pub fn matches(expr: &Arg, run: &Value) -> bool {
    let Arg::Call(f, args) = expr else {
        return false;
    };
    let literal = || match args.get(1) {
        Some(Arg::Literal(v)) => v.clone(),
        _ => Value::Null,
    };
    let name = match args.first() {
        Some(Arg::Field(n)) => n.as_str(),
        _ => "",
    };
    let time = matches!(name, "start_time" | "end_time");
    let metadata = || {
        run.get("extra")
            .and_then(|e| e.get("metadata"))
            .and_then(Value::as_object)
    };
    match f.as_str() {
        "and" => {
            // metadata_key / metadata_value pairs name one entry: eq(k) and eq(v) together.
            let key = args.iter().find_map(|a| meta_eq(a, "metadata_key"));
            let value = args.iter().find_map(|a| meta_eq(a, "metadata_value"));
            let paired = key.is_some() && value.is_some();
            if let (Some(k), Some(v)) = (&key, &value) {
                let hit = metadata()
                    .and_then(|m| m.get(k.as_str().unwrap_or("")))
                    .is_some_and(|found| equal(found, v, false));
                if !hit {
                    return false;
                }
            }
            let is_meta = |a: &Arg| {
                meta_eq(a, "metadata_key").is_some() || meta_eq(a, "metadata_value").is_some()
            };
            args.iter()
                .filter(|a| !(paired && is_meta(a)))
                .all(|a| matches(a, run))
        }
        "or" => args.iter().any(|a| matches(a, run)),
        "not" => !args.first().is_some_and(|a| matches(a, run)),
        "eq" if name == "metadata_key" => {
            let key = literal();
            metadata().is_some_and(|m| m.contains_key(key.as_str().unwrap_or("")))
        }
        "eq" if name == "metadata_value" => {
            let value = literal();
            metadata().is_some_and(|m| m.values().any(|v| equal(v, &value, false)))
        }
        "eq" => equal(&field(run, name), &literal(), time),
        "neq" => !equal(&field(run, name), &literal(), time),
        "gt" | "gte" | "lt" | "lte" => {
            let Some(order) = compare(&field(run, name), &literal(), time) else {
                return false;
            };
            match f.as_str() {
                "gt" => order.is_gt(),
                "gte" => order.is_ge(),
                "lt" => order.is_lt(),
                _ => order.is_le(),
            }
        }
        "has" => {
            let wanted = literal();
            match field(run, name) {
                Value::Array(items) => items.iter().any(|i| equal(i, &wanted, false)),
                Value::String(s) => wanted.as_str().is_some_and(|w| s.contains(w)),
                _ => false,
            }
        }
        "in" => {
            let value = field(run, name);
            match literal() {
                Value::Array(options) => options.iter().any(|o| equal(&value, o, time)),
                other => equal(&value, &other, time),
            }
        }
        _ => false,
    }
}

fn meta_eq(arg: &Arg, which: &str) -> Option<Value> {
    match arg {
        Arg::Call(f, args) if f == "eq" => match (args.first(), args.get(1)) {
            (Some(Arg::Field(n)), Some(Arg::Literal(v))) if n == which => Some(v.clone()),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run() -> Value {
        json!({
            "name": "main_agent", "run_type": "chain", "tags": ["prod", "agent:main"],
            "start_time": "2026-11-24T06:05:18.000000+00:00",
            "end_time": "2026-11-24T06:05:21.000000+00:00",
            "error": null, "total_tokens": 19,
            "extra": {"metadata": {"env": "production", "ab_test_variant": "B"}}
        })
    }

    fn check(filter: &str) -> bool {
        let expr = parse(filter).unwrap();
        validate(&expr).unwrap();
        matches(&expr, &run())
    }

    #[test]
    fn the_sdks_examples_evaluate() {
        assert!(check(r#"eq(name, "main_agent")"#));
        assert!(!check(r#"eq(name, "other")"#));
        assert!(check(
            r#"and(eq(run_type, "chain"), gt(latency, 2), gt(total_tokens, 5))"#
        ));
        assert!(check(
            r#"and(or(has(tags, "experimental"), has(tags, "prod")), lt(latency, 10))"#
        ));
        assert!(check(r#"gt(start_time, "2026-11-24T06:00:00Z")"#));
        assert!(check("eq(error, null)"));
        assert!(!check("neq(error, null)"));
        assert!(check(r#"in(run_type, ["llm", "chain"])"#));
        assert!(check(
            r#"and(eq(metadata_key, "env"), eq(metadata_value, "production"))"#
        ));
        assert!(!check(
            r#"and(eq(metadata_key, "env"), eq(metadata_value, "B"))"#
        ));
        assert!(check(r#"not(eq(name, 'x'))"#));
    }

    #[test]
    fn what_skein_cannot_evaluate_is_refused() {
        for bad in [
            r#"eq(feedback_key, "x")"#,
            r#"search("text")"#,
            "eq(name",
            "name",
            r#"eq(name, "x") trailing"#,
        ] {
            let result = parse(bad).and_then(|e| validate(&e));
            assert!(result.is_err(), "{bad} was accepted");
        }
    }
}
