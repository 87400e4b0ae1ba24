use super::*;
use crate::span::{Span, SpanStatus, SpanType};

fn llm() -> Span {
    Span {
        trace_id: "a".repeat(32),
        span_id: "b".repeat(16),
        parent_span_id: Some("c".repeat(16)),
        name: "ChatOpenAI".into(),
        span_type: SpanType::Llm,
        service: "writer".into(),
        start_ns: parse_timestamp_ns("2026-12-01T10:00:00Z").unwrap(),
        end_ns: parse_timestamp_ns("2026-12-01T10:00:02.5Z").unwrap(),
        status: SpanStatus::Error,
        model: Some("gpt-4o".into()),
        input_tokens: Some(100),
        output_tokens: Some(20),
        cost: Some(0.25),
        session_id: Some("s1".into()),
        tags: [
            ("env".to_string(), "prod".to_string()),
            ("ab_test_variant".into(), "B".into()),
        ]
        .into_iter()
        .collect(),
        labels: vec!["beta".into(), "agent:main".into()],
        input: Some("Please process a REFUND".into()),
        attributes: serde_json::json!({
            "http.status_code": 500,
            "http.method": "POST",
            "retrieval.documents": 5,
            "db.rows": "12",
            "cache.hit": true,
            "ratio": 0.75,
            "note": "5 apples",
            "prompt": "x".repeat(MAX_ATTR_TEXT + 1),
            "empty": null,
        })
        .as_object()
        .cloned()
        .unwrap(),
        ..Span::default()
    }
}

fn check(filter: &str) -> bool {
    let expr = parse(filter)
        .unwrap_or_else(|e| panic!("{filter}: {e}"))
        .expect("a filter");
    matches(&expr, &llm())
}

#[test]
fn langsmiths_examples_evaluate_as_langsmith_says() {
    assert!(check(r#"eq(run_type, "llm")"#));
    assert!(!check(r#"eq(run_type, "chain")"#));
    assert!(check(
        r#"and(eq(run_type, "llm"), gt(latency, "2s"), has(tags, "beta"))"#
    ));
    assert!(!check(r#"gt(latency, "3s")"#));
    assert!(check("gt(latency, 2)"));
    assert!(check(r#"lt(latency, "2600ms")"#));
    assert!(check(
        r#"and(eq(metadata_key, "ab_test_variant"), eq(metadata_value, "B"))"#
    ));
    assert!(!check(
        r#"and(eq(metadata_key, "env"), eq(metadata_value, "B"))"#
    ));
    assert!(check(r#"eq(metadata_key, "env")"#));
    assert!(check(r#"eq(metadata_value, "prod")"#));
    assert!(check(r#"search("refund")"#));
    assert!(!check(r#"search("invoice")"#));
    assert!(check(r#"or(eq(name, "x"), neq(error, null))"#));
    assert!(check(r#"eq(status, "error")"#));
    assert!(!check(r#"eq(status, "success")"#));
    assert!(check("eq(error, true)"));
    assert!(check(r#"in(run_type, ["llm", "tool"])"#));
    assert!(check(
        r#"and(gte(total_tokens, 120), lt(prompt_tokens, 101), eq(completion_tokens, 20))"#
    ));
    assert!(check("gt(total_cost, 0.2)"));
    assert!(check(r#"gt(start_time, "2026-12-01")"#));
    assert!(!check(r#"lt(start_time, "2026-12-01T09:59:59Z")"#));
    assert!(check("eq(is_root, false)"));
    assert!(check(r#"not(has(tags, "alpha"))"#));
    assert!(check(r#"in(tags, ["alpha", "beta"])"#));
    assert!(check(&format!(r#"eq(trace_id, "{}")"#, "a".repeat(32))));
}

#[test]
fn skeins_fields_evaluate() {
    assert!(check(
        r#"and(eq(tag.env, "prod"), eq(model, "gpt-4o"), eq(service, "writer"))"#
    ));
    assert!(check(r#"eq(metadata.env, "prod")"#));
    assert!(check(
        r#"and(eq(session, "s1"), eq(user, null), eq(type, "LLM"))"#
    ));
    assert!(check(r#"neq(tag.missing, "x")"#));
    assert!(check(r#"eq(tag.missing, null)"#));
    assert!(check("gte(tokens, 120)"));
    assert!(!check(r#"eq(model, "gpt-4o-mini")"#));
}

#[test]
fn feedback_conditions_ask_the_caller() {
    let expr = parse(r#"and(eq(feedback_key, "correctness"), gte(feedback_score, 0.5))"#)
        .unwrap()
        .unwrap();
    assert_eq!(
        expr,
        Expr::And(vec![Expr::Feedback {
            key: "correctness".into(),
            score: Some((Op::Gte, 0.5))
        }])
    );
    assert!(matches_with(&expr, &llm(), &|_, key, score| key
        == "correctness"
        && score == Some((Op::Gte, 0.5))));
    assert!(!matches(&expr, &llm()));
}

#[test]
fn bad_filters_say_what_and_where() {
    let cases = [
        (r#"eq(nmae, "x")"#, 3, "unknown field \"nmae\""),
        (
            r#"and(eq(name, "x"), gt(latency, "fast"))"#,
            31,
            "not a duration",
        ),
        (r#"eq(run_type, "lllm")"#, 13, "unknown run type"),
        (r#"equals(name, "x")"#, 0, "unknown function equals()"),
        (r#"has(name, "x")"#, 4, "has() takes tags"),
        (r#"gt(error, true)"#, 10, "true or false"),
        (r#"in(run_type, "llm")"#, 13, "takes a list"),
        ("name", 0, "expected a call"),
        (r#"search()"#, 0, "search() takes one"),
        (
            r#"and(eq(name, "x"), search(" ab "))"#,
            26,
            "at least 3 characters, not 2",
        ),
        (r#"and()"#, 0, "at least one"),
        (r#"eq(start_time, "last tuesday")"#, 15, "not a time"),
        (r#"eq(tokens, "many")"#, 11, "not a whole number"),
        (r#"gt(feedback_score, 1)"#, 0, "goes with eq(feedback_key"),
    ];
    for (text, offset, message) in cases {
        let e = parse(text).expect_err(text);
        assert_eq!(e.offset, offset, "{text}: {e}");
        assert!(e.message.contains(message), "{text}: {e}");
    }
    assert_eq!(parse("  ").unwrap(), None);
}

#[test]
fn values_are_converted_to_what_the_field_holds() {
    let expr = parse(r#"and(gt(latency, "1.5s"), eq(run_type, "chain"), eq(tag.version, 2))"#)
        .unwrap()
        .unwrap();
    assert_eq!(
        expr,
        Expr::And(vec![
            Expr::Compare {
                field: Field::Latency,
                op: Op::Gt,
                value: Value::Int(1_500_000_000)
            },
            Expr::Compare {
                field: Field::Type,
                op: Op::Eq,
                value: Value::Int(i64::from(SpanType::Chain.code()))
            },
            Expr::Compare {
                field: Field::Tag("version".into()),
                op: Op::Eq,
                value: Value::Text("2".into())
            },
        ])
    );
}

#[test]
fn ids_can_be_rewritten() {
    let expr = parse(r#"or(eq(id, "run-1"), eq(id, "unknown"))"#)
        .unwrap()
        .unwrap();
    let mapped = expr.map_text(&Field::SpanId, &|t| (t == "run-1").then(|| "b".repeat(16)));
    assert!(matches(&mapped, &llm()));
    let none = parse(r#"eq(id, "unknown")"#).unwrap().unwrap();
    assert!(!matches(&none.map_text(&Field::SpanId, &|_| None), &llm()));
}

#[test]
fn any_attribute_compares_as_its_literal_says() {
    assert!(check("gt(attr.retrieval.documents, 3)"));
    assert!(!check("gt(attr.retrieval.documents, 5)"));
    assert!(check("gte(attributes.retrieval.documents, 5)"));
    assert!(check("eq(attr.http.status_code, 500)"));
    assert!(
        check(r#"eq(attr.http.status_code, "500")"#),
        "text of a number"
    );
    assert!(check("eq(attr.http.status_code, 500.0)"));
    assert!(check(r#"eq(attr.http.method, "POST")"#));
    assert!(!check(r#"eq(attr.http.method, "post")"#));
    // A string holding a number compares numerically with a number.
    assert!(check("gt(attr.db.rows, 9)"), "\"12\" > 9 as numbers");
    assert!(check(r#"lt(attr.db.rows, "9")"#), "\"12\" < \"9\" as text");
    assert!(check("lt(attr.ratio, 1)"));
    assert!(check("eq(attr.cache.hit, true)"));
    assert!(check(r#"in(attr.http.status_code, [404, 500])"#));
    assert!(check(r#"in(attr.http.method, ["GET", "POST"])"#));
    assert!(!check(r#"in(attr.http.method, ["GET", 1])"#));
    // Not a number, or missing: only neq holds numerically; as text it is empty.
    for key in ["note", "missing", "http.method", "empty", "cache.hit"] {
        assert!(!check(&format!("gt(attr.{key}, 0)")), "{key}");
        assert!(!check(&format!("lte(attr.{key}, 0)")), "{key}");
        assert!(!check(&format!("eq(attr.{key}, 0)")), "{key}");
        assert!(check(&format!("neq(attr.{key}, 0)")), "{key}");
        assert!(check(&format!("not(gt(attr.{key}, 0))")), "{key}");
    }
    assert!(check("eq(attr.missing, null)"));
    assert!(check(r#"eq(attr.empty, "")"#));
    assert!(check(r#"neq(attr.http.method, null)"#));
    // A payload-sized value is left to search().
    assert!(check("eq(attr.prompt, null)"));
    // Tags are not attributes.
    assert!(check("eq(attr.env, null)"));
    assert_eq!(
        parse("gt(attr.retrieval.documents, 3)").unwrap(),
        Some(Expr::Compare {
            field: Field::Attr("retrieval.documents".into()),
            op: Op::Gt,
            value: Value::Float(3.0)
        })
    );
    let e = parse(r#"has(attr.x, "y")"#).unwrap_err();
    assert_eq!(e.offset, 4);
    let e = parse(r#"eq(attr., 1)"#).unwrap_err();
    assert!(e.message.contains("attr.<key>"), "{e}");
    assert!(FIELDS.iter().any(|f| f.name == "attr.<key>"));
}

#[test]
fn the_searched_text_is_the_first_search_not_negated() {
    use super::searched_text;
    assert_eq!(
        searched_text(r#"search(" Refund ")"#).as_deref(),
        Some("Refund")
    );
    assert_eq!(
        searched_text(r#"and(not(search("a b c")), eq(run_type, "llm"), search("café \"x\""))"#)
            .as_deref(),
        Some("café \"x\"")
    );
    assert_eq!(searched_text(r#"eq(name, "search")"#), None);
    assert_eq!(searched_text(r#"search("unclosed)"#), None);
}
