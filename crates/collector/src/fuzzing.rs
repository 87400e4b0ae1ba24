//! The bodies of the fuzz targets (`fuzz/`), here so that the regression test over every input
//! that ever crashed (`tests/fuzz_regressions.rs`) runs exactly the same code under `cargo test`.
//! Each must return normally for any input: a panic is a bug.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue};
use skein_model::metrics::MetricQuery;
use skein_model::TraceQuery;

use crate::ingest::body::BodyLimits;
use crate::ingest::otlp::{convert, decode_request, Encoding};
use crate::langsmith::multipart;

/// An OTLP/HTTP protobuf body, decoded and normalised.
pub fn otlp_protobuf(data: &[u8]) {
    if let Ok(request) = decode_request(Encoding::Protobuf, &Bytes::copy_from_slice(data)) {
        let _ = convert(&request, None);
    }
}

/// An OTLP/HTTP JSON body, decoded and normalised.
pub fn otlp_json(data: &[u8]) {
    if let Ok(request) = decode_request(Encoding::Json, &Bytes::copy_from_slice(data)) {
        let _ = convert(&request, Some("fuzz"));
    }
}

/// The multipart boundary the LangSmith target uses (the SDK picks one per upload).
pub const FUZZ_BOUNDARY: &str = "fuzzboundary";

/// A LangSmith upload: the first byte picks zstd (odd) or plain, the rest is the body.
pub fn langsmith_multipart(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut headers = HeaderMap::new();
    if mode & 1 == 1 {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("zstd"));
    }
    let limits = BodyLimits {
        max_body_bytes: 1 << 20,
        max_decoded_bytes: 4 << 20,
        ..BodyLimits::default()
    };
    let Ok(body) = multipart::decode_body(&headers, Bytes::copy_from_slice(rest), limits) else {
        return;
    };
    RUNTIME.with(|runtime| {
        if let Some(runtime) = runtime {
            let _ = runtime.block_on(multipart::parse(body, FUZZ_BOUNDARY, 1_000));
        }
    });
}

thread_local! {
    /// One small runtime per thread for the async multipart parser (built once, not per input).
    static RUNTIME: Option<tokio::runtime::Runtime> =
        tokio::runtime::Builder::new_current_thread().build().ok();
}

/// A URL query string for the trace list and the metrics: what parses must survive its own
/// round trip unchanged.
pub fn query_filters(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(query) = TraceQuery::from_query_string(text) {
        let again = TraceQuery::from_query_string(&query.to_query_string());
        assert_eq!(
            again.as_ref(),
            Ok(&query),
            "trace query round trip of {text:?}"
        );
    }
    if let Ok(query) = MetricQuery::from_query_string(text) {
        let again = MetricQuery::from_query_string(&query.to_query_string());
        assert!(
            again.is_ok(),
            "metric query round trip of {text:?}: {again:?}"
        );
    }
}

/// A run filter (`/runs/query`'s `filter`, `/api/v1/spans?filter=`): parsed, checked, and
/// what checks out evaluated against a span; none of it may panic or overflow the stack,
/// however deep the nesting.
pub fn langsmith_filter(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(Some(expr)) = skein_model::filter::parse(&text) {
        let span = skein_model::span::Span {
            name: "main_agent".into(),
            start_ns: 1_795_500_000_000_000_000,
            end_ns: 1_795_500_001_000_000_000,
            labels: vec!["prod".into()],
            tags: [("env".to_string(), "prod".to_string())]
                .into_iter()
                .collect(),
            input_tokens: Some(5),
            output_tokens: Some(7),
            cost: Some(0.01),
            ..Default::default()
        };
        let _ = skein_model::filter::matches(&expr, &span);
    }
}

/// A value written into ClickHouse SQL (`store::clickhouse::quote`, the one way values reach
/// its SQL): read back as ClickHouse reads a string literal, it must end exactly where the
/// quoting ends and give the value back, whatever the bytes: no value can end its literal and
/// go on as SQL.
pub fn clickhouse_literal(data: &[u8]) {
    let value = String::from_utf8_lossy(data);
    let quoted = crate::store::clickhouse::quote(&value);
    let (read, consumed) = read_clickhouse_literal(&quoted)
        .unwrap_or_else(|| panic!("{quoted:?} is not one string literal"));
    assert_eq!(
        consumed,
        quoted.len(),
        "{quoted:?} ends before its quoting does"
    );
    assert_eq!(read, value, "{quoted:?} reads back as another value");
}

/// Reads a single-quoted ClickHouse string literal at the start of `sql` as the server does
/// (backslash escapes, a doubled quote for a quote); the value and the bytes it spans.
fn read_clickhouse_literal(sql: &str) -> Option<(String, usize)> {
    let mut chars = sql.char_indices();
    if chars.next()?.1 != '\'' {
        return None;
    }
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                let (_, e) = chars.next()?;
                out.push(match e {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '0' => '\0',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'a' => '\u{7}',
                    'v' => '\u{b}',
                    'x' => {
                        let hex: String = [chars.next()?.1, chars.next()?.1].iter().collect();
                        char::from(u8::from_str_radix(&hex, 16).ok()?)
                    }
                    other => other,
                });
            }
            '\'' => {
                // A doubled quote is a quote; a single one ends the literal.
                if sql[i + 1..].starts_with('\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    return Some((out, i + 1));
                }
            }
            c => out.push(c),
        }
    }
    None
}
