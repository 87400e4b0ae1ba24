//! The trace list written as CSV or JSON Lines, a page at a time, so that a million rows are
//! streamed without being held; the CSV cell rules and file names every list download shares.

use chrono::{DateTime, SecondsFormat, Utc};
use skein_model::format;
use skein_model::trace::TraceSummary;

/// How a list is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    Csv,
    Jsonl,
}

impl ListFormat {
    pub fn parse(name: &str) -> Result<ListFormat, String> {
        match name {
            "csv" => Ok(ListFormat::Csv),
            "jsonl" | "ndjson" => Ok(ListFormat::Jsonl),
            other => Err(format!("format must be csv or jsonl, not {other:?}")),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ListFormat::Csv => "text/csv; charset=utf-8",
            ListFormat::Jsonl => "application/x-ndjson",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ListFormat::Csv => "csv",
            ListFormat::Jsonl => "jsonl",
        }
    }
}

/// The CSV columns, in order.
const CSV_HEADER: [&str; 16] = [
    "trace_id",
    "start",
    "duration_ms",
    "name",
    "status",
    "spans",
    "errors",
    "services",
    "session_id",
    "user_id",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "tags",
    "feedback",
    "root_span_id",
];

/// The CSV header line.
pub fn csv_header() -> String {
    let mut line = CSV_HEADER.join(",");
    line.push_str("\r\n");
    line
}

/// Writes the rows of one page.
pub fn write_rows(format: ListFormat, traces: &[TraceSummary], out: &mut Vec<u8>) {
    for trace in traces {
        match format {
            ListFormat::Jsonl => {
                // A summary is plain data: writing it cannot fail.
                if serde_json::to_writer(&mut *out, trace).is_ok() {
                    out.push(b'\n');
                }
            }
            ListFormat::Csv => {
                let cells = csv_cells(trace);
                let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                out.extend_from_slice(line.join(",").as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        }
    }
}

fn csv_cells(t: &TraceSummary) -> [String; 16] {
    let tags: Vec<String> = t.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let feedback: Vec<String> = t
        .feedback
        .iter()
        .map(|f| match f.mean {
            Some(mean) => format!("{}={}", f.key, format::trimmed(mean, 3)),
            None => format!("{}×{}", f.key, f.count),
        })
        .collect();
    [
        t.trace_id.clone(),
        DateTime::<Utc>::from_timestamp_nanos(t.start_ns)
            .to_rfc3339_opts(SecondsFormat::Millis, true),
        format::trimmed(t.duration_ns() as f64 / 1e6, 3),
        t.root_name.clone(),
        t.status.as_str().to_string(),
        t.span_count.to_string(),
        t.error_count.to_string(),
        t.services.join(";"),
        t.session_id.clone().unwrap_or_default(),
        t.user_id.clone().unwrap_or_default(),
        t.input_tokens.to_string(),
        t.output_tokens.to_string(),
        format::trimmed(t.cost, 6),
        tags.join(";"),
        feedback.join(";"),
        t.root_span_id.clone().unwrap_or_default(),
    ]
}

/// One CSV cell (RFC 4180 quoting). Text a spreadsheet would run as a formula (`=`, `+`, `-`,
/// `@`, a tab or carriage return first) gets a leading `'`: span names and tags come from
/// clients, and an export must not carry their formulas into someone's spreadsheet.
pub(super) fn csv_cell(text: &str) -> String {
    let risky = text
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'))
        && text.parse::<f64>().is_err();
    let text = if risky {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// A project name as a file name's part: letters, digits, `-` and `_`, the rest as `_`.
pub fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        // Negative numbers are numbers, not formulas.
        assert_eq!(csv_cell("-12.5"), "-12.5");
    }
}
