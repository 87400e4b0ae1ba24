//! A span as a row of `spans`, in ClickHouse's RowBinary format: each column's value in the
//! order of `SPAN_COLUMNS`, strings and arrays prefixed by their length as a LEB128 varint,
//! numbers little-endian. The server copies such a row into its columns without parsing text,
//! and the collector writes it without escaping the span's JSON a second time; JSONEachRow
//! costs both sides most of an insert's CPU.

use skein_model::span::Span;

/// The columns a span row fills, with their types, in the order they are encoded. Columns of
/// `spans` not named here take their defaults.
pub(super) const SPAN_COLUMNS: &[(&str, &str)] = &[
    ("project", "String"),
    ("trace_id", "String"),
    ("span_id", "String"),
    ("parent_span_id", "String"),
    ("has_parent", "UInt8"),
    ("name", "String"),
    ("span_type", "UInt8"),
    ("kind", "UInt8"),
    ("service", "String"),
    ("start_ns", "Int64"),
    ("end_ns", "Int64"),
    ("arrived", "DateTime"),
    ("status", "UInt8"),
    ("input_tokens", "Int64"),
    ("output_tokens", "Int64"),
    ("cost", "Float64"),
    ("session_id", "String"),
    ("user_id", "String"),
    ("tag_keys", "Array(String)"),
    ("tag_values", "Array(String)"),
    ("attrs", "String"),
    ("attr_nums", "String"),
    ("pieced", "UInt8"),
    ("body", "String"),
    ("search_text", "String"),
    ("arrival", "UInt64"),
    ("version", "UInt64"),
];

/// `(c1, c2, …)` for an INSERT and `c1 T1, c2 T2, …` for a `format()` table function.
pub(super) fn span_column_list() -> (String, String) {
    let names: Vec<&str> = SPAN_COLUMNS.iter().map(|(n, _)| *n).collect();
    let structure: Vec<String> = SPAN_COLUMNS
        .iter()
        .map(|(n, t)| format!("{n} {t}"))
        .collect();
    (format!("({})", names.join(", ")), structure.join(", "))
}

/// Appends `span` as one row: `arrival` is when it (its first piece) arrived.
pub(super) fn encode_span(
    out: &mut Vec<u8>,
    span: &Span,
    pieced: bool,
    version: u64,
    arrival: u64,
) {
    let (attr_texts, attr_numbers) = skein_model::filter::filterable(&span.attributes);
    let mut row = Row(out);
    row.string(&span.project);
    row.string(&span.trace_id);
    row.string(&span.span_id);
    row.string(span.parent_span_id.as_deref().unwrap_or(""));
    row.u8(u8::from(span.parent_span_id.is_some()));
    row.string(&span.name);
    row.u8(span.span_type.code());
    row.u8(span.kind.code());
    row.string(&span.service);
    row.i64(span.start_ns);
    row.i64(span.end_ns);
    row.date_time(arrival);
    row.u8(span.status.code());
    row.i64(span.input_tokens.unwrap_or(0));
    row.i64(span.output_tokens.unwrap_or(0));
    row.0.extend_from_slice(
        &span
            .cost
            .filter(|c| c.is_finite())
            .unwrap_or(0.0)
            .to_le_bytes(),
    );
    row.string(span.session_id.as_deref().unwrap_or(""));
    row.string(span.user_id.as_deref().unwrap_or(""));
    row.varint(span.tags.len() as u64);
    for key in span.tags.keys() {
        row.string(key);
    }
    row.varint(span.tags.len() as u64);
    for value in span.tags.values() {
        row.string(value);
    }
    row.string(&serde_json::to_string(&attr_texts).unwrap_or_else(|_| "{}".into()));
    row.string(&serde_json::to_string(&attr_numbers).unwrap_or_else(|_| "{}".into()));
    row.u8(u8::from(pieced));
    row.string(&serde_json::to_string(span).unwrap_or_default());
    row.string(&skein_model::trace_search::search_text(span));
    row.u64(arrival);
    row.u64(version);
}

/// The columns of a receipt (a row of `received`, the live stream's receive log) for an
/// insert, and their types for the SQL log (`span_column_list`'s pair).
pub(super) const RECEIPT_COLUMNS: (&str, &str) = (
    "(project, arrival, arrived, trace_id, span_id)",
    "project String, arrival UInt64, arrived DateTime, trace_id String, span_id String",
);

/// Appends a receipt: this write of a span (or of its feedback), at `arrival`.
pub(super) fn encode_receipt(
    out: &mut Vec<u8>,
    (project, trace_id, span_id): (&str, &str, &str),
    arrival: u64,
) {
    let mut row = Row(out);
    row.string(project);
    row.u64(arrival);
    row.date_time(arrival);
    row.string(trace_id);
    row.string(span_id);
}

/// A RowBinary writer over a buffer.
struct Row<'a>(&'a mut Vec<u8>);

impl Row<'_> {
    fn varint(&mut self, mut n: u64) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.0.push(byte);
                return;
            }
            self.0.push(byte | 0x80);
        }
    }

    fn string(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    /// A DateTime (seconds, UInt32) from microseconds since the epoch.
    fn date_time(&mut self, micros: u64) {
        let secs = (micros / 1_000_000).min(u64::from(u32::MAX)) as u32;
        self.0.extend_from_slice(&secs.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_leb128_varints() {
        let mut out = Vec::new();
        let mut row = Row(&mut out);
        row.varint(0);
        row.varint(127);
        row.varint(128);
        row.varint(300);
        assert_eq!(out, [0x00, 0x7f, 0x80, 0x01, 0xac, 0x02]);
    }

    #[test]
    fn a_string_is_its_length_then_its_bytes() {
        let mut out = Vec::new();
        Row(&mut out).string("añ");
        assert_eq!(out, [3, b'a', 0xc3, 0xb1]);
    }

    /// A receipt's columns in `RECEIPT_COLUMNS`' order: its arrival in microseconds, then in
    /// whole seconds as a DateTime.
    #[test]
    fn a_receipt_is_its_project_arrival_second_trace_and_span() {
        let mut out = Vec::new();
        encode_receipt(&mut out, ("p", "t1", "s"), 3_000_001);
        let mut expected = vec![1, b'p'];
        expected.extend_from_slice(&3_000_001u64.to_le_bytes());
        expected.extend_from_slice(&3u32.to_le_bytes());
        expected.extend_from_slice(&[2, b't', b'1', 1, b's']);
        assert_eq!(out, expected);
    }
}
