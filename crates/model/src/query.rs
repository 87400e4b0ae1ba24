//! The trace-list query and its query-string form, shared by the dashboard (which keeps it
//! in the page URL and sends it to the API) and the collector (which parses it).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::recent::RecentRange;
// The query-string codec lives beside it; callers name it through `query::`.
pub use crate::query_string::{encode_pairs, parse_query_string, percent_decode, percent_encode};

/// A list query's [`SharedKeys`]: its fields of those names.
macro_rules! shared_keys {
    ($query:expr) => {
        $crate::query::SharedKeys {
            tags: &mut $query.tags,
            from_ms: &mut $query.from_ms,
            to_ms: &mut $query.to_ms,
            cursor: &mut $query.cursor,
            limit: &mut $query.limit,
            filters: [
                &mut $query.filter,
                &mut $query.trace_filter,
                &mut $query.tree_filter,
            ],
        }
    };
}
pub(crate) use shared_keys;

/// A tag filter, `key=value` in a URL (`?tag=env=production`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagFilter {
    pub key: String,
    pub value: String,
}

impl TagFilter {
    /// Parses `key=value`; the key is everything before the first `=`.
    pub fn parse(text: &str) -> Result<TagFilter, QueryError> {
        match text.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => Ok(TagFilter {
                key: key.trim().to_string(),
                value: value.to_string(),
            }),
            _ => Err(QueryError::new(format!(
                "tag filter {text:?} is not of the form key=value"
            ))),
        }
    }
}

impl fmt::Display for TagFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    Ok,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TraceSort {
    #[default]
    StartDesc,
    StartAsc,
    DurationDesc,
    DurationAsc,
}

impl TraceSort {
    pub fn as_str(self) -> &'static str {
        match self {
            TraceSort::StartDesc => "start_desc",
            TraceSort::StartAsc => "start_asc",
            TraceSort::DurationDesc => "duration_desc",
            TraceSort::DurationAsc => "duration_asc",
        }
    }

    pub fn parse(text: &str) -> Option<TraceSort> {
        Some(match text {
            "start_desc" => TraceSort::StartDesc,
            "start_asc" => TraceSort::StartAsc,
            "duration_desc" => TraceSort::DurationDesc,
            "duration_asc" => TraceSort::DurationAsc,
            _ => return None,
        })
    }
}

/// Filters, order and page of `GET /api/v1/traces`. Every field has a query-string form, so a
/// list view is a URL.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceQuery {
    /// AND-ed `key=value` tag filters.
    pub tags: Vec<TagFilter>,
    /// Traces that started at or after this time (Unix milliseconds).
    pub from_ms: Option<i64>,
    /// Traces that started before this time (Unix milliseconds).
    pub to_ms: Option<i64>,
    /// Traces that started within this long before now (`range=24h`): a link keeps meaning
    /// "the last day" whenever it is opened. Combines with `from_ms`/`to_ms` (both apply).
    pub range: RecentRange,
    /// Case-insensitive substring of the root span's name.
    pub name: Option<String>,
    pub status: Option<StatusFilter>,
    pub min_duration_ms: Option<f64>,
    pub max_duration_ms: Option<f64>,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    /// Traces having a span that passes this filter (`crate::filter`), as written: checked
    /// when parsed, compiled by the store.
    pub filter: Option<String>,
    /// Traces whose root span passes this filter (LangSmith's `trace_filter`).
    pub trace_filter: Option<String>,
    /// Traces having a span that passes this filter (LangSmith's `tree_filter`): as `filter`,
    /// and both may be given (each then has its own span).
    pub tree_filter: Option<String>,
    pub sort: TraceSort,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

impl TraceQuery {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 1000;

    /// The earliest start the query admits at `now_ms`: the later of `from_ms` and the start
    /// of `range`.
    pub fn start_from_ms(&self, now_ms: i64) -> Option<i64> {
        let recent = self.range.bounds(now_ms).map(|(from, _)| from);
        match (self.from_ms, recent) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT)
    }

    /// Parses decoded query pairs; unknown keys are ignored (they may belong to the page, such
    /// as `project`).
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<TraceQuery, QueryError> {
        read_checked(pairs)
    }

    /// Reads a list page's link (its query string) as [`Self::from_query_string`] does, but
    /// leaves the filters to the collector, which checks it and answers 400 naming the
    /// problem: the dashboard's list page does not carry the filter language's parser (and
    /// the Unicode tables it needs) in its wasm.
    ///
    /// `read_number` reads the duration bounds (`min_ms`, `max_ms`), as [`rust_number`] does.
    pub fn from_link(search: &str, read_number: ReadNumber) -> Result<TraceQuery, QueryError> {
        decode(search, |pairs| read_list(pairs, read_number))
    }

    /// Parses a raw query string (`a=b&c=d`, percent-encoded).
    pub fn from_query_string(query: &str) -> Result<TraceQuery, QueryError> {
        decode(query, |pairs| TraceQuery::from_pairs(pairs))
    }

    /// The query's pairs, in a stable order, without defaults.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = tag_and_time_pairs(&self.tags, self.from_ms, self.to_ms);
        if self.range != RecentRange::All {
            pairs.push(("range", self.range.as_str().to_string()));
        }
        if let Some(v) = &self.name {
            pairs.push(("name", v.clone()));
        }
        if let Some(v) = self.status {
            pairs.push((
                "status",
                match v {
                    StatusFilter::Ok => "ok",
                    StatusFilter::Error => "error",
                }
                .to_string(),
            ));
        }
        if let Some(v) = self.min_duration_ms {
            pairs.push(("min_ms", crate::format::plain(v)));
        }
        if let Some(v) = self.max_duration_ms {
            pairs.push(("max_ms", crate::format::plain(v)));
        }
        if let Some(v) = &self.session_id {
            pairs.push(("session", v.clone()));
        }
        if let Some(v) = &self.user_id {
            pairs.push(("user", v.clone()));
        }
        push_list_tail(
            &mut pairs,
            [&self.filter, &self.trace_filter, &self.tree_filter],
            (self.sort != TraceSort::default()).then(|| self.sort.as_str()),
            &self.cursor,
            self.limit,
        );
        pairs
    }

    /// The percent-encoded query string (without `?`).
    pub fn to_query_string(&self) -> String {
        encode(&self.to_pairs())
    }
}

impl ListQuery for TraceQuery {
    fn shared(&mut self) -> SharedKeys<'_> {
        shared_keys!(self)
    }

    fn read_own(
        &mut self,
        key: &str,
        value: &str,
        read_number: ReadNumber,
    ) -> Result<(), QueryError> {
        match key {
            "range" => {
                self.range = RecentRange::parse(value).ok_or_else(|| {
                        QueryError::new(format!(
                            "range must be 1h, 6h, 24h, 7d, 30d or all, not {value:?}"
                        ))
                    })?
                }
                "name" => self.name = Some(value.to_string()),
                "status" => {
                    self.status = Some(match value {
                        "ok" => StatusFilter::Ok,
                        "error" => StatusFilter::Error,
                        _ => {
                            return Err(QueryError::new(format!(
                                "status must be ok or error, not {value:?}"
                            )))
                        }
                    })
                }
                "min_ms" => {
                    self.min_duration_ms = Some(parse_duration_ms(key, value, read_number)?)
                }
                "max_ms" => {
                    self.max_duration_ms = Some(parse_duration_ms(key, value, read_number)?)
                }
                "session" => self.session_id = Some(value.to_string()),
                "user" => self.user_id = Some(value.to_string()),
                "sort" => {
                    self.sort = TraceSort::parse(value).ok_or_else(|| {
                        QueryError::new(format!(
                            "sort must be start_desc, start_asc, duration_desc or duration_asc, not {value:?}"
                        ))
                    })?
                }
                _ => {}
            }
        Ok(())
    }
}

// The keys and the codec the trace, session, metric and service-graph queries share: each
// query reads and writes its own keys and leaves these to one piece of code.

/// A list query (the trace list's, the session and user lists'): the keys all lists share,
/// read by [`read_list`], and its own.
pub(crate) trait ListQuery: Default {
    fn shared(&mut self) -> SharedKeys<'_>;
    /// One of its own keys (the value is not empty); an unknown key is ignored. Decimal
    /// numbers are read with `read_number`.
    fn read_own(
        &mut self,
        key: &str,
        value: &str,
        read_number: ReadNumber,
    ) -> Result<(), QueryError>;
}

/// Reads a decimal number as `str::parse::<f64>` does (`None`: not a number). The dashboard
/// passes the browser's `Number()`, which keeps core's float parser out of its wasm.
pub type ReadNumber = fn(&str) -> Option<f64>;

/// [`ReadNumber`] by `str::parse::<f64>`.
pub fn rust_number(text: &str) -> Option<f64> {
    text.parse().ok()
}

/// A list query's tag, time and page fields.
pub(crate) struct SharedKeys<'q> {
    pub tags: &'q mut Vec<TagFilter>,
    pub from_ms: &'q mut Option<i64>,
    pub to_ms: &'q mut Option<i64>,
    pub cursor: &'q mut Option<String>,
    pub limit: &'q mut Option<u32>,
    /// `filter`, `trace_filter` and `tree_filter` as written: checked by [`read_checked`]
    /// once all is read, not by [`read_list`] (a page's link leaves them to the collector).
    pub filters: [&'q mut Option<String>; 3],
}

/// Reads a list query from decoded pairs; empty values are skipped, unknown keys ignored
/// (they may belong to the page, such as `project`).
pub(crate) fn read_list<'a, Q: ListQuery>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    read_number: ReadNumber,
) -> Result<Q, QueryError> {
    let mut q = Q::default();
    for (key, value) in pairs {
        if value.is_empty() {
            continue;
        }
        let s = q.shared();
        if !(read_tag_or_time(key, value, s.tags, s.from_ms, s.to_ms)?
            || read_page(key, value, s.cursor, s.limit)?
            || read_filter(key, value, s.filters))
        {
            q.read_own(key, value, read_number)?;
        }
    }
    Ok(q)
}

/// [`read_list`], then its filters checked ([`check_filters`]).
pub(crate) fn read_checked<'a, Q: ListQuery>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Q, QueryError> {
    let mut q: Q = read_list(pairs, rust_number)?;
    check_filters(q.shared().filters)?;
    Ok(q)
}

/// Reads `filter`, `trace_filter` or `tree_filter` as written (blank text is none); false for
/// any other key.
fn read_filter(key: &str, value: &str, filters: [&mut Option<String>; 3]) -> bool {
    let Some(slot) = FILTER_PARAMS
        .into_iter()
        .zip(filters)
        .find_map(|(name, slot)| (name == key).then_some(slot))
    else {
        return false;
    };
    if !value.trim().is_empty() {
        *slot = Some(value.to_string());
    }
    true
}

/// Checks a query's three filters (`filter`, `trace_filter`, `tree_filter`) with
/// [`filter_param`]: blank text becomes none, an expression that cannot be used an error.
pub fn check_filters(filters: [&mut Option<String>; 3]) -> Result<(), QueryError> {
    for (key, slot) in FILTER_PARAMS.into_iter().zip(filters) {
        if let Some(text) = slot.take() {
            *slot = filter_param(key, &text)?;
        }
    }
    Ok(())
}

/// Reads `tag` (repeated), `from` or `to` (Unix ms) into their fields; false for any other key.
pub(crate) fn read_tag_or_time(
    key: &str,
    value: &str,
    tags: &mut Vec<TagFilter>,
    from_ms: &mut Option<i64>,
    to_ms: &mut Option<i64>,
) -> Result<bool, QueryError> {
    match key {
        "tag" => tags.push(TagFilter::parse(value)?),
        "from" => *from_ms = Some(number(key, value)?),
        "to" => *to_ms = Some(number(key, value)?),
        _ => return Ok(false),
    }
    Ok(true)
}

/// `tag`, `from` and `to` as pairs, in that order, the absent left out.
pub(crate) fn tag_and_time_pairs(
    tags: &[TagFilter],
    from_ms: Option<i64>,
    to_ms: Option<i64>,
) -> Vec<(&'static str, String)> {
    let mut pairs: Vec<(&'static str, String)> =
        tags.iter().map(|t| ("tag", t.to_string())).collect();
    pairs.extend(from_ms.map(|v| ("from", v.to_string())));
    pairs.extend(to_ms.map(|v| ("to", v.to_string())));
    pairs
}

/// Reads a page's `cursor` or `limit`; false for any other key.
pub(crate) fn read_page(
    key: &str,
    value: &str,
    cursor: &mut Option<String>,
    limit: &mut Option<u32>,
) -> Result<bool, QueryError> {
    match key {
        "cursor" => *cursor = Some(value.to_string()),
        "limit" => *limit = Some(number(key, value)?),
        _ => return Ok(false),
    }
    Ok(true)
}

/// Appends `cursor` and `limit`, when set.
pub(crate) fn push_page(
    pairs: &mut Vec<(&'static str, String)>,
    cursor: &Option<String>,
    limit: Option<u32>,
) {
    pairs.extend(cursor.as_ref().map(|v| ("cursor", v.clone())));
    pairs.extend(limit.map(|v| ("limit", v.to_string())));
}

/// Appends what a list query's pairs end with: its filters that are set, its order (`None`
/// for the default, which is left out) and the page.
pub(crate) fn push_list_tail(
    pairs: &mut Vec<(&'static str, String)>,
    filters: [&Option<String>; 3],
    sort: Option<&str>,
    cursor: &Option<String>,
    limit: Option<u32>,
) {
    push_filters(pairs, filters);
    pairs.extend(sort.map(|v| ("sort", v.to_string())));
    push_page(pairs, cursor, limit);
}

/// A raw query string (`a=b&c=d`, percent-encoded) decoded and handed to `read` as pairs.
pub(crate) fn decode<T>(
    query: &str,
    read: impl for<'a> FnOnce(&mut dyn Iterator<Item = (&'a str, &'a str)>) -> T,
) -> T {
    let pairs = parse_query_string(query);
    read(&mut pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// Pairs as a percent-encoded query string (without `?`).
pub(crate) fn encode(pairs: &[(&str, String)]) -> String {
    encode_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
}

/// A filter parameter (`filter`, `trace_filter`, `tree_filter`) as written, once checked: an
/// expression that cannot be used is an error naming the parameter and the position; blank
/// text is no filter.
pub fn filter_param(key: &str, value: &str) -> Result<Option<String>, QueryError> {
    match crate::filter::parse(value) {
        Ok(None) => Ok(None),
        Ok(Some(_)) => Ok(Some(value.to_string())),
        Err(e) => Err(QueryError::filter(key, &e)),
    }
}

/// The names of a scope's three filters, in the order `push_filters` takes them.
pub const FILTER_PARAMS: [&str; 3] = ["filter", "trace_filter", "tree_filter"];

/// Appends a scope's filters (`filter`, `trace_filter`, `tree_filter`) that are set.
pub fn push_filters(pairs: &mut Vec<(&'static str, String)>, filters: [&Option<String>; 3]) {
    for (key, value) in FILTER_PARAMS.into_iter().zip(filters) {
        if let Some(v) = value {
            pairs.push((key, v.clone()));
        }
    }
}

/// A float that is a number: Rust also parses `NaN` and `inf`, which mean nothing as a filter
/// (and `NaN` would not even equal itself after a round trip through the URL).
fn finite(key: &str, value: &str, number: f64) -> Result<f64, QueryError> {
    if number.is_finite() {
        Ok(number)
    } else {
        Err(QueryError::new(format!(
            "{key} must be a finite number, not {value:?}"
        )))
    }
}

/// Most milliseconds a duration filter may name (about 31 years).
const MAX_DURATION_MS: f64 = 1e12;

/// A duration filter in milliseconds: finite, within `MAX_DURATION_MS`, to the microsecond.
/// Rounded so that the query's own text (`format::plain`, six decimals) reads back as the same
/// number: an arbitrary float (6.8e63, or 1.23456789) did not survive the round trip.
fn parse_duration_ms(key: &str, value: &str, read_number: ReadNumber) -> Result<f64, QueryError> {
    let ms = read_number(value.trim()).ok_or_else(|| not_a_number(key, value))?;
    let ms = finite(key, value, ms)?;
    if ms.abs() > MAX_DURATION_MS {
        return Err(QueryError::new(format!(
            // Not `{MAX_DURATION_MS:e}`: core's float formatting would be in the dashboard's wasm.
            "{key} must be between -1e12 and 1e12 ms, not {value:?}"
        )));
    }
    Ok((ms * 1000.0).round() / 1000.0)
}

/// A query that cannot be understood; the message names the parameter, and for a filter
/// expression the second field says where in it the problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String, pub Option<FilterPosition>);

/// Where in a filter parameter's text a problem is, for a text box to point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterPosition {
    /// The parameter (`filter`, `trace_filter`, `tree_filter`, `a.filter`...).
    pub param: String,
    /// Byte offsets of the offending text.
    pub offset: usize,
    pub end: usize,
    /// `offset` counted in characters.
    pub char_offset: usize,
}

impl FilterPosition {
    pub fn of(param: &str, e: &crate::filter::FilterError) -> FilterPosition {
        FilterPosition {
            param: param.to_string(),
            offset: e.offset,
            end: e.end,
            char_offset: e.char_offset,
        }
    }
}

impl QueryError {
    pub fn new(message: impl Into<String>) -> QueryError {
        QueryError(message.into(), None)
    }

    /// A filter parameter's expression that cannot be used.
    pub fn filter(param: &str, e: &crate::filter::FilterError) -> QueryError {
        QueryError(format!("{param}: {e}"), Some(FilterPosition::of(param, e)))
    }

    /// The same error with its parameter's name prefixed (`a.` for a cohort's).
    pub fn prefixed(self, prefix: &str) -> QueryError {
        QueryError(
            format!("{prefix}{}", self.0),
            self.1.map(|p| FilterPosition {
                param: format!("{prefix}{}", p.param),
                ..p
            }),
        )
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QueryError {}

pub(crate) fn number<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, QueryError> {
    value.trim().parse().map_err(|_| not_a_number(key, value))
}

fn not_a_number(key: &str, value: &str) -> QueryError {
    QueryError::new(format!("{key} must be a number, not {value:?}"))
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
