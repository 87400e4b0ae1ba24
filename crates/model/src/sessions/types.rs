//! The wire types of the session and user endpoints, and the order of a session's requests.

use serde::{Deserialize, Serialize};

use super::conversation::{turn_text, Side};
use crate::trace::{FeedbackStat, TraceSummary};

/// The tag that orders a session's requests when present (the seed's `request_sequence`).
pub const SEQUENCE_TAG: &str = "request_sequence";

/// Longest input or output text of a conversation turn sent to the browser, in characters.
pub const MAX_TURN_CHARS: usize = 2_000;

/// Aggregates over a group of traces (a session's, a user's). Times are Unix nanoseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TraceAggregate {
    /// Traces (requests) in the group.
    pub request_count: u64,
    /// Start of the first request.
    pub first_start_ns: i64,
    /// Start of the last request.
    pub last_start_ns: i64,
    /// End of the request that ended last.
    pub last_end_ns: i64,
    /// Sum of the requests' durations (time spent serving the user, not wall-clock).
    pub total_duration_ns: i64,
    pub span_count: u64,
    /// Requests with at least one failed span.
    pub error_count: u64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost: f64,
    /// Feedback on the requests' spans, per key: how many records and their mean score.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feedback: Vec<FeedbackStat>,
}

impl TraceAggregate {
    pub fn total_tokens(&self) -> i64 {
        self.input_tokens + self.output_tokens
    }

    /// Wall-clock time from the first request's start to the last one's end.
    pub fn elapsed_ns(&self) -> i64 {
        (self.last_end_ns - self.first_start_ns).max(0)
    }

    /// Adds one trace (feedback is counted separately).
    pub fn add(&mut self, t: &TraceSummary) {
        if self.request_count == 0 {
            self.first_start_ns = t.start_ns;
            self.last_start_ns = t.start_ns;
            self.last_end_ns = t.end_ns;
        } else {
            self.first_start_ns = self.first_start_ns.min(t.start_ns);
            self.last_start_ns = self.last_start_ns.max(t.start_ns);
            self.last_end_ns = self.last_end_ns.max(t.end_ns);
        }
        self.request_count += 1;
        self.total_duration_ns += t.duration_ns();
        self.span_count += t.span_count;
        self.error_count += u64::from(t.error_count > 0 || t.status.is_error());
        self.input_tokens += t.input_tokens;
        self.output_tokens += t.output_tokens;
        self.cost += t.cost;
    }

    /// This group's feedback of one key.
    pub fn feedback_for(&self, key: &str) -> Option<&FeedbackStat> {
        self.feedback.iter().find(|f| f.key == key)
    }
}

/// The feedback key a list shows in its one feedback column: `user_satisfaction` (the seed's
/// key) when some group has scores for it, else the key with the most scored records (ties by
/// name); `None` without scores.
pub fn headline_feedback_key<'a>(
    groups: impl IntoIterator<Item = &'a TraceAggregate>,
) -> Option<String> {
    let mut counts: std::collections::BTreeMap<&str, u64> = Default::default();
    for g in groups {
        for f in g.feedback.iter().filter(|f| f.mean.is_some()) {
            *counts.entry(f.key.as_str()).or_default() += f.count;
        }
    }
    if counts.contains_key("user_satisfaction") {
        return Some("user_satisfaction".to_string());
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(k, _)| k.to_string())
}

/// One row of `/sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SessionSummary {
    pub session_id: String,
    /// The session's user (when its requests name several, one of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(flatten)]
    pub stats: TraceAggregate,
}

/// `GET /api/v1/sessions`: one page of sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SessionPage {
    pub sessions: Vec<SessionSummary>,
    /// Sessions that match the filters (not only this page).
    pub total: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// One request of a session: its trace summary, its place in the session, and the turn of
/// the conversation it carried (the root span's input and output, as display text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SessionRequest {
    pub trace: TraceSummary,
    /// The `request_sequence` tag, when the request has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<TurnText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<TurnText>,
}

/// The text of one side of a conversation turn, cut to [`MAX_TURN_CHARS`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TurnText {
    pub text: String,
    /// Who said it, when the payload was a chat (`user`, `assistant`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The text was longer and was cut.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// `GET /api/v1/sessions/{id}`: the session's aggregates and its requests in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SessionDetail {
    pub summary: SessionSummary,
    pub requests: Vec<SessionRequest>,
    /// The session had more requests than [`SessionDetail::MAX_REQUESTS`]; the first ones
    /// (by start time) are listed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

impl SessionDetail {
    pub const MAX_REQUESTS: usize = 1_000;
}

/// One row of `/users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct UserSummary {
    pub user_id: String,
    pub session_count: u64,
    #[serde(flatten)]
    pub stats: TraceAggregate,
}

/// `GET /api/v1/users`: one page of users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct UserPage {
    pub users: Vec<UserSummary>,
    pub total: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/users/{id}`: the user's aggregates and a page of their sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct UserDetail {
    pub summary: UserSummary,
    pub sessions: SessionPage,
    /// The user's requests that belong to no session.
    pub requests_without_session: u64,
}

impl SessionRequest {
    /// A request of a session: its trace, and its root span's input and output (raw, as the
    /// span holds them) as conversation text.
    pub fn of(trace: TraceSummary, input: Option<&str>, output: Option<&str>) -> SessionRequest {
        SessionRequest {
            sequence: sequence_of(&trace),
            input: input.and_then(|t| turn_text(t, Side::Input, MAX_TURN_CHARS)),
            output: output.and_then(|t| turn_text(t, Side::Output, MAX_TURN_CHARS)),
            trace,
        }
    }
}

/// Puts a session's requests in order: by `request_sequence` when every request has one
/// (ties and equal numbers by start time), else by start time. Trace ids break ties.
pub fn order_requests(requests: &mut [SessionRequest]) {
    let all_sequenced = requests.iter().all(|r| r.sequence.is_some());
    crate::sort::sort_by(requests, |a, b| {
        let by_seq = if all_sequenced {
            a.sequence.cmp(&b.sequence)
        } else {
            std::cmp::Ordering::Equal
        };
        by_seq
            .then(a.trace.start_ns.cmp(&b.trace.start_ns))
            .then_with(|| a.trace.trace_id.cmp(&b.trace.trace_id))
    });
}

/// The `request_sequence` of a trace, from its tags (an integer, possibly written `3.0`).
pub fn sequence_of(trace: &TraceSummary) -> Option<i64> {
    let text = trace.tags.get(SEQUENCE_TAG)?.trim();
    text.parse::<i64>().ok().or_else(|| {
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && v.fract() == 0.0 && v.abs() < 9e15)
            .map(|v| v as i64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::SpanStatus;

    fn trace(id: &str, start: i64, seq: Option<&str>) -> TraceSummary {
        let mut t = TraceSummary {
            trace_id: id.into(),
            start_ns: start,
            end_ns: start + 10,
            span_count: 3,
            input_tokens: 5,
            output_tokens: 7,
            cost: 0.5,
            ..TraceSummary::default()
        };
        if let Some(s) = seq {
            t.tags.insert(SEQUENCE_TAG.into(), s.into());
        }
        t
    }

    fn request(t: TraceSummary) -> SessionRequest {
        SessionRequest {
            sequence: sequence_of(&t),
            trace: t,
            ..SessionRequest::default()
        }
    }

    #[test]
    fn requests_follow_the_sequence_tag_else_start_time() {
        // Sequence 10 sorts after 9 (numbers, not text), whatever the start times say.
        let mut r = vec![
            request(trace("a", 300, Some("10"))),
            request(trace("b", 100, Some("9"))),
            request(trace("c", 200, Some("1"))),
        ];
        order_requests(&mut r);
        let ids: Vec<&str> = r.iter().map(|r| r.trace.trace_id.as_str()).collect();
        assert_eq!(ids, ["c", "b", "a"]);

        // One request without a sequence: start time for all.
        let mut r = vec![
            request(trace("a", 300, Some("1"))),
            request(trace("b", 100, None)),
            request(trace("c", 200, Some("2"))),
        ];
        order_requests(&mut r);
        let ids: Vec<&str> = r.iter().map(|r| r.trace.trace_id.as_str()).collect();
        assert_eq!(ids, ["b", "c", "a"]);

        // Equal sequences and starts: the trace id decides, so the order is stable.
        let mut r = vec![
            request(trace("z", 5, Some("1"))),
            request(trace("y", 5, Some("1"))),
        ];
        order_requests(&mut r);
        assert_eq!(r[0].trace.trace_id, "y");
    }

    #[test]
    fn sequence_tags_are_read_as_integers() {
        assert_eq!(sequence_of(&trace("a", 0, Some("3"))), Some(3));
        assert_eq!(sequence_of(&trace("a", 0, Some(" 4.0 "))), Some(4));
        assert_eq!(sequence_of(&trace("a", 0, Some("4.5"))), None);
        assert_eq!(sequence_of(&trace("a", 0, Some("first"))), None);
        assert_eq!(sequence_of(&trace("a", 0, Some("NaN"))), None);
        assert_eq!(sequence_of(&trace("a", 0, None)), None);
    }

    #[test]
    fn aggregates_add_up() {
        let mut agg = TraceAggregate::default();
        let mut failed = trace("b", 50, None);
        failed.error_count = 2;
        failed.status = SpanStatus::Error;
        agg.add(&trace("a", 100, None));
        agg.add(&failed);
        assert_eq!(agg.request_count, 2);
        assert_eq!(agg.first_start_ns, 50);
        assert_eq!(agg.last_start_ns, 100);
        assert_eq!(agg.last_end_ns, 110);
        assert_eq!(agg.elapsed_ns(), 60);
        assert_eq!(agg.total_duration_ns, 20);
        assert_eq!(agg.error_count, 1, "requests that failed, not spans");
        assert_eq!(agg.total_tokens(), 24);
        assert_eq!(agg.span_count, 6);
    }

    #[test]
    fn the_headline_feedback_is_user_satisfaction_else_the_most_common_key() {
        let stat = |key: &str, count: u64, mean: Option<f64>| FeedbackStat {
            key: key.into(),
            count,
            mean,
        };
        let with = |stats: Vec<FeedbackStat>| TraceAggregate {
            feedback: stats,
            ..TraceAggregate::default()
        };
        let a = with(vec![
            stat("business_value", 9, Some(120.0)),
            stat("note", 20, None),
        ]);
        let b = with(vec![stat("user_satisfaction", 1, Some(0.75))]);
        assert_eq!(
            headline_feedback_key([&a, &b]).as_deref(),
            Some("user_satisfaction")
        );
        assert_eq!(
            headline_feedback_key([&a]).as_deref(),
            Some("business_value"),
            "comments without scores are not a headline"
        );
        assert_eq!(headline_feedback_key([&with(vec![])]), None);
        assert_eq!(
            b.feedback_for("user_satisfaction").map(|f| f.count),
            Some(1)
        );
        assert!(b.feedback_for("business_value").is_none());
    }
}
