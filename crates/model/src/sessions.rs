//! Sessions and users: a user's requests (traces) grouped by the session they belong to, with
//! aggregates over them. Wire types of `GET /api/v1/sessions`, `/sessions/{id}`, `/users` and
//! `/users/{id}`, their query-string form, and the pure helpers the collector and the
//! dashboard share (ordering of a session's requests, the text of a conversation turn).
//!
//! A trace belongs to a session and a user through the ids ingest derives per span
//! (`session.id`, `gen_ai.conversation.id`, `user.id`, `enduser.id`, LangSmith metadata
//! `session_id`, `thread_id`, `conversation_id`, `user_id`); the root span's ids win.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::payload::{self, Payload};
use crate::query::{encode_pairs, parse_query_string, QueryError, TagFilter};
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

/// The order of a session or user list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SessionSort {
    /// Most recently active first (by the last request's start).
    #[default]
    LastDesc,
    /// Oldest first (by the first request's start).
    FirstAsc,
    RequestsDesc,
    DurationDesc,
    TokensDesc,
    CostDesc,
    ErrorsDesc,
    /// Users with the most sessions first (a session list sorts by requests instead).
    SessionsDesc,
}

impl SessionSort {
    pub const ALL: [SessionSort; 8] = [
        SessionSort::LastDesc,
        SessionSort::FirstAsc,
        SessionSort::RequestsDesc,
        SessionSort::DurationDesc,
        SessionSort::TokensDesc,
        SessionSort::CostDesc,
        SessionSort::ErrorsDesc,
        SessionSort::SessionsDesc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionSort::LastDesc => "last_desc",
            SessionSort::FirstAsc => "first_asc",
            SessionSort::RequestsDesc => "requests_desc",
            SessionSort::DurationDesc => "duration_desc",
            SessionSort::TokensDesc => "tokens_desc",
            SessionSort::CostDesc => "cost_desc",
            SessionSort::ErrorsDesc => "errors_desc",
            SessionSort::SessionsDesc => "sessions_desc",
        }
    }

    pub fn parse(text: &str) -> Option<SessionSort> {
        SessionSort::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// A short label for a sort menu.
    pub fn label(self) -> &'static str {
        match self {
            SessionSort::LastDesc => "Recently active",
            SessionSort::FirstAsc => "Oldest first",
            SessionSort::RequestsDesc => "Most requests",
            SessionSort::DurationDesc => "Longest total time",
            SessionSort::TokensDesc => "Most tokens",
            SessionSort::CostDesc => "Highest cost",
            SessionSort::ErrorsDesc => "Most errors",
            SessionSort::SessionsDesc => "Most sessions",
        }
    }
}

/// Filters, order and page of the session and user lists. Filters select requests (traces):
/// a session is listed when some of its requests match, and its aggregates are over those.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionQuery {
    pub tags: Vec<TagFilter>,
    /// Requests that started at or after this time (Unix ms).
    pub from_ms: Option<i64>,
    /// Requests that started before this time (Unix ms).
    pub to_ms: Option<i64>,
    /// Only this user's sessions.
    pub user_id: Option<String>,
    pub sort: SessionSort,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

impl SessionQuery {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 500;

    pub fn limit(&self) -> u32 {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT)
    }

    /// Parses decoded query pairs; unknown keys are ignored.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<SessionQuery, QueryError> {
        let mut q = SessionQuery::default();
        for (key, value) in pairs {
            if value.is_empty() {
                continue;
            }
            match key {
                "tag" => q.tags.push(TagFilter::parse(value)?),
                "from" => q.from_ms = Some(number(key, value)?),
                "to" => q.to_ms = Some(number(key, value)?),
                "user" => q.user_id = Some(value.to_string()),
                "sort" => {
                    q.sort = SessionSort::parse(value).ok_or_else(|| {
                        let names: Vec<&str> =
                            SessionSort::ALL.iter().map(|s| s.as_str()).collect();
                        QueryError::new(format!(
                            "sort must be one of {}, not {value:?}",
                            names.join(", ")
                        ))
                    })?
                }
                "cursor" => q.cursor = Some(value.to_string()),
                "limit" => q.limit = Some(number(key, value)?),
                _ => {}
            }
        }
        Ok(q)
    }

    pub fn from_query_string(query: &str) -> Result<SessionQuery, QueryError> {
        let pairs = parse_query_string(query);
        SessionQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        for tag in &self.tags {
            pairs.push(("tag", tag.to_string()));
        }
        if let Some(v) = self.from_ms {
            pairs.push(("from", v.to_string()));
        }
        if let Some(v) = self.to_ms {
            pairs.push(("to", v.to_string()));
        }
        if let Some(v) = &self.user_id {
            pairs.push(("user", v.clone()));
        }
        if self.sort != SessionSort::default() {
            pairs.push(("sort", self.sort.as_str().to_string()));
        }
        if let Some(v) = &self.cursor {
            pairs.push(("cursor", v.clone()));
        }
        if let Some(v) = self.limit {
            pairs.push(("limit", v.to_string()));
        }
        pairs
    }

    pub fn to_query_string(&self) -> String {
        encode_pairs(self.to_pairs().iter().map(|(k, v)| (*k, v.as_str())))
    }
}

/// A time range relative to now, as the dashboard's pages offer it (`?range=24h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecentRange {
    Hour,
    SixHours,
    Day,
    Week,
    Month,
    #[default]
    All,
}

impl RecentRange {
    pub const ALL: [RecentRange; 6] = [
        RecentRange::Hour,
        RecentRange::SixHours,
        RecentRange::Day,
        RecentRange::Week,
        RecentRange::Month,
        RecentRange::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecentRange::Hour => "1h",
            RecentRange::SixHours => "6h",
            RecentRange::Day => "24h",
            RecentRange::Week => "7d",
            RecentRange::Month => "30d",
            RecentRange::All => "all",
        }
    }

    pub fn parse(text: &str) -> Option<RecentRange> {
        RecentRange::ALL.into_iter().find(|r| r.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            RecentRange::Hour => "Last hour",
            RecentRange::SixHours => "Last 6 hours",
            RecentRange::Day => "Last 24 hours",
            RecentRange::Week => "Last 7 days",
            RecentRange::Month => "Last 30 days",
            RecentRange::All => "Any time",
        }
    }

    /// Its length; `None` for any time.
    pub fn duration_ms(self) -> Option<i64> {
        const HOUR: i64 = 3_600_000;
        Some(match self {
            RecentRange::Hour => HOUR,
            RecentRange::SixHours => 6 * HOUR,
            RecentRange::Day => 24 * HOUR,
            RecentRange::Week => 7 * 24 * HOUR,
            RecentRange::Month => 30 * 24 * HOUR,
            RecentRange::All => return None,
        })
    }

    /// `(from, to)` in Unix ms for a range ending now; `None` for any time.
    pub fn bounds(self, now_ms: i64) -> Option<(i64, i64)> {
        self.duration_ms()
            .map(|d| (now_ms.saturating_sub(d), now_ms.saturating_add(1)))
    }
}

/// What a page of the dashboard shows, as its URL says: tag filters, a recent time range and
/// an order (`?tag=env=production&range=7d&sort=cost_desc`). A page passes its default range;
/// the default is left out of URLs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scope {
    pub tags: Vec<TagFilter>,
    pub range: RecentRange,
    pub sort: SessionSort,
}

impl Scope {
    pub fn parse(search: &str, default_range: RecentRange) -> Result<Scope, QueryError> {
        let mut scope = Scope {
            range: default_range,
            ..Scope::default()
        };
        for (key, value) in parse_query_string(search) {
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "tag" => scope.tags.push(TagFilter::parse(&value)?),
                "range" => {
                    scope.range = RecentRange::parse(&value).ok_or_else(|| {
                        QueryError::new(format!(
                            "range must be 1h, 6h, 24h, 7d, 30d or all, not {value:?}"
                        ))
                    })?
                }
                "sort" => {
                    scope.sort = SessionSort::parse(&value)
                        .ok_or_else(|| QueryError::new(format!("unknown sort {value:?}")))?
                }
                _ => {}
            }
        }
        Ok(scope)
    }

    /// The query string (without `?`), leaving out defaults.
    pub fn to_query_string(&self, default_range: RecentRange) -> String {
        let mut pairs: Vec<(&str, String)> =
            self.tags.iter().map(|t| ("tag", t.to_string())).collect();
        if self.range != default_range {
            pairs.push(("range", self.range.as_str().to_string()));
        }
        if self.sort != SessionSort::default() {
            pairs.push(("sort", self.sort.as_str().to_string()));
        }
        encode_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
    }

    /// The API query for a session or user list, the range ending `now_ms`.
    pub fn session_query(&self, now_ms: i64) -> SessionQuery {
        let bounds = self.range.bounds(now_ms);
        SessionQuery {
            tags: self.tags.clone(),
            from_ms: bounds.map(|b| b.0),
            to_ms: bounds.map(|b| b.1),
            sort: self.sort,
            ..SessionQuery::default()
        }
    }
}

pub(crate) fn number<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, QueryError> {
    value
        .trim()
        .parse()
        .map_err(|_| QueryError::new(format!("{key} must be a number, not {value:?}")))
}

/// A list cursor: the sort key and the id of the last row of the previous page,
/// `<key>~<id>` (the key never contains `~`; the id may).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupCursor {
    pub key: CursorKey,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CursorKey {
    Int(i64),
    Real(f64),
}

impl fmt::Display for GroupCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key {
            CursorKey::Int(v) => write!(f, "i{v}~{}", self.id),
            // `{:?}` of an f64 round-trips exactly.
            CursorKey::Real(v) => write!(f, "r{v:?}~{}", self.id),
        }
    }
}

impl GroupCursor {
    pub fn parse(text: &str) -> Option<GroupCursor> {
        let (key, id) = text.split_once('~')?;
        let key = match key.split_at_checked(1)? {
            ("i", v) => CursorKey::Int(v.parse().ok()?),
            ("r", v) => CursorKey::Real(v.parse().ok().filter(|x: &f64| x.is_finite())?),
            _ => return None,
        };
        Some(GroupCursor {
            key,
            id: id.to_string(),
        })
    }
}

/// Puts a session's requests in order: by `request_sequence` when every request has one
/// (ties and equal numbers by start time), else by start time. Trace ids break ties.
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

/// Which side of a turn a payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Input,
    Output,
}

/// Keys whose string value is the message in a JSON input or output object (LangSmith's
/// `{"question": ...}`, `{"output": ...}` and the like).
const TEXT_KEYS: [&str; 10] = [
    "input", "question", "query", "message", "prompt", "text", "content", "output", "answer",
    "result",
];

/// The display text of a root span's input or output, for a conversation view: of a chat,
/// the last user message (input) or the last assistant message (output); of a JSON object, its
/// message-like string field; else the text itself (JSON compacted). Cut to `max_chars`.
/// `None` for empty payloads.
pub fn turn_text(raw: &str, side: Side, max_chars: usize) -> Option<TurnText> {
    if raw.trim().is_empty() {
        return None;
    }
    let (text, role) = match payload::read(raw) {
        Payload::Text(t) => (t, None),
        Payload::Chat(messages) => {
            let wanted = match side {
                Side::Input => "user",
                Side::Output => "assistant",
            };
            // What each message says (its text, else its tool calls or results).
            let said: Vec<(String, &str)> = messages
                .iter()
                .map(|m| (m.summary(), m.role.as_str()))
                .collect();
            let pick = said
                .iter()
                .rev()
                .find(|(text, role)| *role == wanted && !text.trim().is_empty())
                .or_else(|| said.iter().rev().find(|(text, _)| !text.trim().is_empty()));
            match pick {
                Some((text, role)) => (text.clone(), Some(role.to_string())),
                None => (raw.trim().to_string(), None),
            }
        }
        Payload::Json(value) => {
            let field = value.as_object().and_then(|map| {
                TEXT_KEYS
                    .iter()
                    .find_map(|k| map.get(*k).and_then(|v| v.as_str()))
                    .or_else(|| {
                        // A single string field, whatever its name.
                        let mut strings = map.values().filter_map(|v| v.as_str());
                        match (strings.next(), strings.next(), map.len()) {
                            (Some(s), None, 1) => Some(s),
                            _ => None,
                        }
                    })
            });
            match field {
                Some(s) => (s.to_string(), None),
                None => (value.to_string(), None),
            }
        }
    };
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let (text, truncated) = cut(text, max_chars);
    Some(TurnText {
        text,
        role,
        truncated,
    })
}

/// At most `max` characters (an ellipsis added when cut), never splitting a character.
pub fn cut(text: &str, max: usize) -> (String, bool) {
    match text.char_indices().nth(max) {
        None => (text.to_string(), false),
        Some((at, _)) => (format!("{}…", &text[..at]), true),
    }
}

/// A mark on a session's timeline: where it falls (fraction of the width) and its label, the
/// time since the session's first request (`+5m`).
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineTick {
    pub frac: f64,
    pub label: String,
}

/// Round steps for a session timeline, in seconds.
const TIMELINE_STEPS_S: [i64; 21] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200,
    86_400, 172_800, 604_800, 2_592_000,
];

/// At most `max_ticks` round ticks over a session lasting `span_ns`, from `+0`.
pub fn timeline_ticks(span_ns: i64, max_ticks: usize) -> Vec<TimelineTick> {
    let span_s = span_ns.max(1) as f64 / 1e9;
    let max_ticks = max_ticks.max(1);
    let step = TIMELINE_STEPS_S
        .iter()
        .copied()
        .find(|&s| span_s / s as f64 <= max_ticks as f64)
        .unwrap_or(TIMELINE_STEPS_S[TIMELINE_STEPS_S.len() - 1]);
    (0..)
        .map(|k| k * step)
        .take_while(|&t| t as f64 <= span_s)
        .map(|t| TimelineTick {
            frac: t as f64 / span_s,
            label: offset_label(t),
        })
        .collect()
}

/// `+0`, `+45s`, `+5m`, `+1h 30m`, `+2d`.
pub fn offset_label(seconds: i64) -> String {
    let s = seconds.max(0);
    if s == 0 {
        "+0".to_string()
    } else if s < 60 {
        format!("+{s}s")
    } else if s < 3_600 {
        if s % 60 == 0 {
            format!("+{}m", s / 60)
        } else {
            format!("+{}m {:02}s", s / 60, s % 60)
        }
    } else if s < 86_400 {
        let m = (s % 3_600) / 60;
        if m == 0 {
            format!("+{}h", s / 3_600)
        } else {
            format!("+{}h {:02}m", s / 3_600, m)
        }
    } else {
        let h = (s % 86_400) / 3_600;
        if h == 0 {
            format!("+{}d", s / 86_400)
        } else {
            format!("+{}d {}h", s / 86_400, h)
        }
    }
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

    #[test]
    fn query_round_trips_and_names_bad_parameters() {
        let q = SessionQuery {
            tags: vec![TagFilter::parse("env=production").unwrap()],
            from_ms: Some(1_700_000_000_000),
            to_ms: Some(1_700_000_100_000),
            user_id: Some("user & 1".into()),
            sort: SessionSort::CostDesc,
            cursor: Some("r0.5~s 1".into()),
            limit: Some(20),
        };
        assert_eq!(SessionQuery::from_query_string(&q.to_query_string()), Ok(q));
        assert_eq!(SessionQuery::default().to_query_string(), "");
        let err = SessionQuery::from_query_string("sort=sideways").unwrap_err();
        assert!(err.0.contains("last_desc"), "{err}");
        assert!(SessionQuery::from_query_string("from=yesterday").is_err());
        let big = SessionQuery::from_query_string("limit=99999").unwrap();
        assert_eq!(big.limit(), SessionQuery::MAX_LIMIT);
    }

    #[test]
    fn page_scopes_round_trip_and_leave_defaults_out() {
        let scope = Scope {
            tags: vec![TagFilter::parse("ab_test_variant=B").unwrap()],
            range: RecentRange::Week,
            sort: SessionSort::ErrorsDesc,
        };
        let text = scope.to_query_string(RecentRange::All);
        assert_eq!(text, "tag=ab_test_variant%3DB&range=7d&sort=errors_desc");
        assert_eq!(Scope::parse(&text, RecentRange::All), Ok(scope.clone()));
        assert_eq!(
            Scope::parse("", RecentRange::Day).unwrap().range,
            RecentRange::Day
        );
        assert_eq!(
            Scope::default().to_query_string(RecentRange::All),
            "",
            "defaults are not written"
        );
        let day = Scope {
            range: RecentRange::Day,
            ..Scope::default()
        };
        assert_eq!(day.to_query_string(RecentRange::Day), "");
        assert_eq!(day.to_query_string(RecentRange::All), "range=24h");
        assert!(Scope::parse("range=forever", RecentRange::All).is_err());
        assert!(Scope::parse("sort=up", RecentRange::All).is_err());

        let q = scope.session_query(1_000_000_000);
        assert_eq!(q.from_ms, Some(1_000_000_000 - 7 * 86_400_000));
        assert_eq!(q.to_ms, Some(1_000_000_001));
        assert_eq!(q.sort, SessionSort::ErrorsDesc);
        assert_eq!(Scope::default().session_query(5).from_ms, None);
        for r in RecentRange::ALL {
            assert_eq!(RecentRange::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn timeline_ticks_are_round_and_fit() {
        // A 22-minute session, at most 6 ticks: every 5 minutes.
        let ticks = timeline_ticks(22 * 60 * 1_000_000_000, 6);
        let labels: Vec<&str> = ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["+0", "+5m", "+10m", "+15m", "+20m"]);
        assert_eq!(ticks[0].frac, 0.0);
        assert!(ticks.iter().all(|t| (0.0..=1.0).contains(&t.frac)));
        // A single short request: seconds.
        let ticks = timeline_ticks(3_500_000_000, 4);
        assert_eq!(ticks[1].label, "+1s");
        assert!(!timeline_ticks(0, 5).is_empty());
        assert_eq!(offset_label(90), "+1m 30s");
        assert_eq!(offset_label(5_400), "+1h 30m");
        assert_eq!(offset_label(7_200), "+2h");
        assert_eq!(offset_label(90_000), "+1d 1h");
    }

    #[test]
    fn cursors_round_trip_with_any_id() {
        for c in [
            GroupCursor {
                key: CursorKey::Int(-5),
                id: "a~b.c".into(),
            },
            GroupCursor {
                key: CursorKey::Real(0.1 + 0.2),
                id: String::new(),
            },
        ] {
            assert_eq!(GroupCursor::parse(&c.to_string()), Some(c));
        }
        assert_eq!(GroupCursor::parse("nonsense"), None);
        assert_eq!(GroupCursor::parse("x1~a"), None);
        assert_eq!(GroupCursor::parse("rNaN~a"), None);
        assert_eq!(GroupCursor::parse("~a"), None);
    }

    #[test]
    fn turn_text_reads_chats_json_and_text() {
        let chat = r#"[{"role":"system","content":"Be careful."},{"role":"user","content":"First"},
            {"role":"assistant","content":"Answer"},{"role":"user","content":"Second <b>"}]"#;
        let input = turn_text(chat, Side::Input, 100).unwrap();
        assert_eq!(input.text, "Second <b>");
        assert_eq!(input.role.as_deref(), Some("user"));
        let output = turn_text(chat, Side::Output, 100).unwrap();
        assert_eq!(output.text, "Answer");

        assert_eq!(
            turn_text(r#"{"question": "Why?", "k": 3}"#, Side::Input, 100)
                .unwrap()
                .text,
            "Why?"
        );
        assert_eq!(
            turn_text(r#"{"whatever": "only string"}"#, Side::Output, 100)
                .unwrap()
                .text,
            "only string"
        );
        assert_eq!(
            turn_text(r#"{"a": 1}"#, Side::Output, 100).unwrap().text,
            r#"{"a":1}"#
        );
        assert_eq!(turn_text("plain", Side::Input, 100).unwrap().text, "plain");
        assert_eq!(turn_text("   ", Side::Input, 100), None);
        assert_eq!(turn_text(r#"{"input": "  "}"#, Side::Input, 100), None);
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let t = turn_text(&"é".repeat(10), Side::Input, 4).unwrap();
        assert_eq!(t.text, "éééé…");
        assert!(t.truncated);
        assert_eq!(cut("abc", 3), ("abc".to_string(), false));
    }
}
