//! Traces: the list row, a page of them, and the compact skeleton of one trace.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::skeleton_build::SkeletonBuilder;
use crate::skeleton_id::{IdText, SpanId};
use crate::span::{SpanKind, SpanStatus, SpanType};

/// One row of the trace list, kept up to date by the store as spans of the trace arrive
/// (in any order, over any number of requests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TraceSummary {
    pub trace_id: String,
    /// The root span's name; until the root arrives, the earliest span's name.
    pub root_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_span_id: Option<String>,
    /// False while the trace's root span has not arrived (all spans so far have a parent).
    pub has_root: bool,
    /// The root span's type (agent, llm, http…); none until the root arrives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_span_type: Option<SpanType>,
    pub start_ns: i64,
    pub end_ns: i64,
    pub span_count: u64,
    pub error_count: u64,
    pub status: SpanStatus,
    pub services: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost: f64,
    /// Feedback on the trace's spans, per key (filled in the trace list only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feedback: Vec<FeedbackStat>,
}

/// The feedback of one key on a trace: how many records, and the mean of their scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackStat {
    pub key: String,
    pub count: u64,
    /// Mean score; none when no record of this key has a score (comments only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
}

impl TraceSummary {
    pub fn duration_ns(&self) -> i64 {
        (self.end_ns - self.start_ns).max(0)
    }

    pub fn total_tokens(&self) -> i64 {
        self.input_tokens + self.output_tokens
    }
}

/// `GET /api/v1/traces`: one page of the list, newest first unless asked otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TracePage {
    pub traces: Vec<TraceSummary>,
    /// All traces that match the filters (not only this page).
    pub total: u64,
    /// True when `total` is not exact: a text search's count stopped at its cap (there are
    /// at least `total`), or spans waiting for the full-text index were left unchecked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub total_approximate: bool,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// One span in a trace skeleton, serialised as a JSON array to stay small on 100k-span
/// traces: `[span_id, parent, name, service, type, start, duration, status, tokens, kind, cost]`.
///
/// - `parent`: index of the parent in `TraceSkeleton::spans`, or -1 for a root or an orphan
///   (an orphan's missing parent id is in `TraceSkeleton::orphans`);
/// - `name`, `service`: indexes into `TraceSkeleton::names` and `TraceSkeleton::services`;
/// - `type`: `SpanType::code`; `status`: `SpanStatus::code`;
/// - `start`: microseconds after `TraceSkeleton::start_ns`; `duration`: microseconds;
/// - `tokens`: input plus output tokens (0 when none);
/// - `kind`: the OTel span kind, `SpanKind::code` (the OTLP number; 0 or absent: unknown,
///   read as internal);
/// - `cost`: the span's own cost in USD (0 when none or unknown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkeletonSpan(
    /// OTel's 16-hex-digit ids as a number: a million ids are no million allocations.
    pub SpanId,
    pub i32,
    pub u32,
    pub u32,
    pub u8,
    pub i64,
    pub i64,
    pub u8,
    pub i64,
    #[serde(default)] pub u8,
    #[serde(default, skip_serializing_if = "is_zero")] pub f64,
);

/// A span without a cost leaves it out (most spans: the skeleton of a big trace stays small).
fn is_zero(cost: &f64) -> bool {
    *cost == 0.0
}

impl SkeletonSpan {
    pub fn span_id(&self) -> IdText<'_> {
        self.0.text()
    }
    pub fn parent(&self) -> Option<usize> {
        usize::try_from(self.1).ok()
    }
    pub fn name_index(&self) -> usize {
        self.2 as usize
    }
    pub fn service_index(&self) -> usize {
        self.3 as usize
    }
    pub fn span_type(&self) -> SpanType {
        SpanType::from_code(self.4)
    }
    pub fn start_us(&self) -> i64 {
        self.5
    }
    pub fn duration_us(&self) -> i64 {
        self.6
    }
    pub fn end_us(&self) -> i64 {
        self.5 + self.6
    }
    pub fn status(&self) -> SpanStatus {
        SpanStatus::from_code(self.7)
    }
    pub fn tokens(&self) -> i64 {
        self.8
    }
    pub fn kind(&self) -> SpanKind {
        SpanKind::from_code(self.9)
    }
    pub fn cost(&self) -> f64 {
        self.10
    }
}

/// `GET /api/v1/traces/{trace_id}`: every span of a trace in compact form, sorted by start
/// time (in the binary form, `crate::skeleton_wire`, in display order: see
/// [`TraceSkeleton::in_display_order`]). Heavy payloads (attributes, inputs, outputs) are
/// fetched per span, when selected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TraceSkeleton {
    pub summary: TraceSummary,
    /// Time origin of the spans' `start` offsets.
    pub start_ns: i64,
    pub names: Vec<String>,
    pub services: Vec<String>,
    pub spans: Vec<SkeletonSpan>,
    /// Spans whose parent never arrived: span index → the missing parent's id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub orphans: BTreeMap<u32, String>,
}

impl TraceSkeleton {
    pub fn name_of(&self, span: &SkeletonSpan) -> &str {
        self.names.get(span.name_index()).map_or("", String::as_str)
    }

    pub fn service_of(&self, span: &SkeletonSpan) -> &str {
        self.services
            .get(span.service_index())
            .map_or("", String::as_str)
    }
}

/// Builds the skeleton from spans in any order, for the store backends.
pub struct SkeletonSpanInput<'a> {
    pub span_id: &'a str,
    pub parent_span_id: Option<&'a str>,
    pub name: &'a str,
    pub service: &'a str,
    pub span_type: SpanType,
    pub start_ns: i64,
    pub end_ns: i64,
    pub status: SpanStatus,
    pub tokens: i64,
    pub kind: SpanKind,
    pub cost: f64,
}

impl TraceSkeleton {
    /// Sorts the spans by start time (ties keep parents first), interns names and services,
    /// and resolves parents to indexes (see [`SkeletonBuilder`], which a store can fill as it
    /// reads).
    pub fn build(summary: TraceSummary, inputs: Vec<SkeletonSpanInput<'_>>) -> TraceSkeleton {
        let mut builder = SkeletonBuilder::with_capacity(inputs.len());
        for input in inputs {
            builder.push(input);
        }
        builder.finish(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(id: &'a str, parent: Option<&'a str>, start: i64) -> SkeletonSpanInput<'a> {
        SkeletonSpanInput {
            span_id: id,
            parent_span_id: parent,
            name: id,
            service: "svc",
            span_type: SpanType::Agent,
            start_ns: start,
            end_ns: start + 5_000,
            status: SpanStatus::Unset,
            tokens: 0,
            kind: SpanKind::Server,
            cost: 0.0,
        }
    }

    #[test]
    fn skeleton_resolves_parents_and_orphans() {
        let sk = TraceSkeleton::build(
            TraceSummary::default(),
            vec![
                input("child", Some("root"), 2_000),
                input("root", None, 1_000),
                input("lost", Some("never-arrived"), 3_000),
            ],
        );
        assert_eq!(sk.start_ns, 1_000);
        assert_eq!(sk.spans[0].span_id(), "root");
        assert_eq!(sk.spans[0].parent(), None);
        assert_eq!(sk.spans[1].parent(), Some(0));
        assert_eq!(sk.spans[1].start_us(), 1);
        assert_eq!(sk.spans[2].parent(), None);
        assert_eq!(
            sk.orphans.get(&2).map(String::as_str),
            Some("never-arrived")
        );
        assert_eq!(sk.services, vec!["svc".to_string()]);
        assert_eq!(sk.name_of(&sk.spans[1]), "child");
    }

    #[test]
    fn skeleton_span_is_a_json_array() {
        let span = SkeletonSpan("ab".into(), -1, 0, 1, 2, 10, 20, 2, 7, 3, 0.0042);
        assert_eq!(
            serde_json::to_string(&span).unwrap(),
            r#"["ab",-1,0,1,2,10,20,2,7,3,0.0042]"#
        );
        assert_eq!(span.cost(), 0.0042);
        let free = SkeletonSpan("ab".into(), -1, 0, 1, 2, 10, 20, 2, 7, 3, 0.0);
        let json = serde_json::to_string(&free).unwrap();
        assert_eq!(json, r#"["ab",-1,0,1,2,10,20,2,7,3]"#);
        assert_eq!(serde_json::from_str::<SkeletonSpan>(&json).unwrap(), free);
        assert_eq!(span.kind(), SpanKind::Client);
        // A skeleton from before kinds were sent still reads (kind unknown: internal).
        let old: SkeletonSpan = serde_json::from_str(r#"["ab",-1,0,1,2,10,20,2,7]"#).unwrap();
        assert_eq!(old.kind(), SpanKind::Internal);
    }
}
