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

/// The body of every error the collector answers with, whatever the endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}
