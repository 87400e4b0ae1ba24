//! What a project holds: projects, services, tag keys and values (for filter suggestions).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectInfo {
    pub name: String,
    pub trace_count: u64,
    pub span_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_ns: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceInfo {
    pub name: String,
    pub span_count: u64,
    pub error_count: u64,
}

/// A tag key and the number of traces that carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagKeyInfo {
    pub key: String,
    pub trace_count: u64,
}

/// A value of one tag key and the number of traces that carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagValueInfo {
    pub value: String,
    pub trace_count: u64,
}

/// A span field whose stored values the filter box suggests
/// (`GET /api/v1/fields/{field}/values`): values too many and too varied for a fixed list, and
/// not tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueField {
    Model,
    Name,
}

impl ValueField {
    pub const ALL: [ValueField; 2] = [ValueField::Model, ValueField::Name];

    /// How the API names it (the filter language's field).
    pub fn as_str(self) -> &'static str {
        match self {
            ValueField::Model => "model",
            ValueField::Name => "name",
        }
    }

    pub fn parse(text: &str) -> Option<ValueField> {
        ValueField::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// How many of a project's latest traces (by start) the values of a `ValueField` are read
/// from: suggestions are what is in use now, at a cost that does not grow with the project.
pub const FIELD_VALUE_TRACES: u32 = 1000;

/// A stored value of a span field and the number of spans with it (among the spans of the
/// project's latest `FIELD_VALUE_TRACES` traces).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldValueInfo {
    pub value: String,
    pub span_count: u64,
}

/// The body of every error the collector answers with, whatever the endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}
