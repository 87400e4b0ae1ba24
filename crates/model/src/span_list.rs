//! Spans across traces (`GET /api/v1/spans`): the query (filters already parsed by `filter`),
//! its sort orders, and the page of rows the API answers with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::filter::Expr;
use crate::span::{SpanStatus, SpanType};

/// Rows per page unless asked; the most a page may hold.
pub const DEFAULT_SPAN_LIMIT: u32 = 50;
pub const MAX_SPAN_LIMIT: u32 = 500;
/// Counting stops here: the total of a broad filter over a large project is "at least this".
pub const SPAN_COUNT_CAP: u64 = 10_000;
/// Tags shown per row.
pub const ROW_TAGS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SpanSort {
    #[default]
    StartDesc,
    DurationDesc,
    TokensDesc,
    CostDesc,
}

impl SpanSort {
    pub const ALL: [SpanSort; 4] = [
        SpanSort::StartDesc,
        SpanSort::DurationDesc,
        SpanSort::TokensDesc,
        SpanSort::CostDesc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SpanSort::StartDesc => "start_desc",
            SpanSort::DurationDesc => "duration_desc",
            SpanSort::TokensDesc => "tokens_desc",
            SpanSort::CostDesc => "cost_desc",
        }
    }

    pub fn parse(text: &str) -> Option<SpanSort> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Which spans of a project, in which order, from where. Semantics as LangSmith's: `filter`
/// applies to the span itself, `trace_filter` to the root span of its trace (a span without a
/// parent), `tree_filter` to any span of its trace.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpanQuery {
    pub filter: Option<Expr>,
    pub trace_filter: Option<Expr>,
    pub tree_filter: Option<Expr>,
    pub sort: SpanSort,
    /// A `next_cursor` of the same query's previous page.
    pub cursor: Option<String>,
    pub limit: u32,
}

impl SpanQuery {
    pub fn limit(&self) -> u32 {
        match self.limit {
            0 => DEFAULT_SPAN_LIMIT,
            n => n.min(MAX_SPAN_LIMIT),
        }
    }
}

/// One span in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanRow {
    pub trace_id: String,
    pub span_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    pub name: String,
    pub span_type: SpanType,
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub start_ns: i64,
    pub duration_ns: i64,
    pub tokens: i64,
    pub cost: f64,
    pub status: SpanStatus,
    /// A few of its tags (the first `ROW_TAGS` by key).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SpanPage {
    pub spans: Vec<SpanRow>,
    /// Spans matching (not only this page), counted up to `SPAN_COUNT_CAP`.
    pub total: u64,
    /// False when counting stopped at the cap: there are at least `total`.
    pub total_exact: bool,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The first `ROW_TAGS` tags by key.
pub fn row_tags(tags: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    let mut all: BTreeMap<String, String> = tags.into_iter().collect();
    while all.len() > ROW_TAGS {
        all.pop_last();
    }
    all
}
