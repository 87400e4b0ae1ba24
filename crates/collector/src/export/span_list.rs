//! The span list (`GET /api/v1/spans`) written as CSV or JSON Lines, a page at a time, as the
//! trace list is (`list`).

use chrono::{DateTime, SecondsFormat, Utc};
use skein_model::format;
use skein_model::span_list::SpanRow;

use super::list::{csv_cell, ListFormat};

/// The CSV columns, in order.
const CSV_HEADER: [&str; 13] = [
    "trace_id",
    "span_id",
    "parent_span_id",
    "start",
    "duration_ms",
    "name",
    "type",
    "service",
    "model",
    "status",
    "tokens",
    "cost_usd",
    "tags",
];

/// The CSV header line.
pub fn csv_header() -> String {
    let mut line = CSV_HEADER.join(",");
    line.push_str("\r\n");
    line
}

/// Writes the rows of one page.
pub fn write_rows(format: ListFormat, spans: &[SpanRow], out: &mut Vec<u8>) {
    for span in spans {
        match format {
            ListFormat::Jsonl => {
                // A row is plain data: writing it cannot fail.
                if serde_json::to_writer(&mut *out, span).is_ok() {
                    out.push(b'\n');
                }
            }
            ListFormat::Csv => {
                let line: Vec<String> = csv_cells(span).iter().map(|c| csv_cell(c)).collect();
                out.extend_from_slice(line.join(",").as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        }
    }
}

fn csv_cells(s: &SpanRow) -> [String; 13] {
    let tags: Vec<String> = s.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    [
        s.trace_id.clone(),
        s.span_id.clone(),
        s.parent_span_id.clone().unwrap_or_default(),
        DateTime::<Utc>::from_timestamp_nanos(s.start_ns)
            .to_rfc3339_opts(SecondsFormat::Millis, true),
        format::trimmed(s.duration_ns as f64 / 1e6, 3),
        s.name.clone(),
        s.span_type.as_str().to_string(),
        s.service.clone(),
        s.model.clone().unwrap_or_default(),
        s.status.as_str().to_string(),
        s.tokens.to_string(),
        format::trimmed(s.cost, 6),
        tags.join(";"),
    ]
}
