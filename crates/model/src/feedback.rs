//! Feedback on a run (a span): the record that `create_feedback(run_id, key=..., score=...,
//! comment=...)` and the dashboard's rating controls both create.

use serde::{Deserialize, Serialize};

/// A stored feedback record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub id: String,
    pub project: String,
    /// The span the feedback is about (LangSmith calls it the run).
    pub run_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<serde_json::Value>,
    /// Who gave it: `api`, `app` (the dashboard), `queue`, `model`…
    pub source: String,
    /// The annotation queue it was given in, for a rating of a queue's item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    /// The reviewer who gave it in a queue: their API key's label, or the name they gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// `POST /api/v1/feedback`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NewFeedback {
    /// Optional client-chosen id (a UUID); a repeated id updates the same record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub run_id: String,
    /// Optional: looked up from the span when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Set by a queue's completion only, never read from a client: who rated is the server's
    /// to say.
    #[serde(skip)]
    pub queue_id: Option<String>,
    #[serde(skip)]
    pub reviewer: Option<String>,
}

/// `PATCH /api/v1/feedback/{id}`: the fields to change; absent fields stay as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FeedbackUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `GET /api/v1/feedback?run_id=...` or `?trace_id=...`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FeedbackList {
    pub feedback: Vec<Feedback>,
}
