//! The session and user lists' query strings (`SessionQuery`, `SessionSort`), and a page's
//! `Scope` (tags, recent range, order) as its URL says.

use serde::{Deserialize, Serialize};

use crate::query::{
    decode, encode, parse_query_string, push_list_tail, read_checked, shared_keys,
    tag_and_time_pairs, ListQuery, QueryError, ReadNumber, SharedKeys, TagFilter,
};
use crate::recent::RecentRange;

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
    /// Requests (traces) having a span that passes this filter (`crate::filter`), as written.
    pub filter: Option<String>,
    /// Requests whose root span passes this filter.
    pub trace_filter: Option<String>,
    /// Requests having a span that passes this filter (as `filter`; both may be given).
    pub tree_filter: Option<String>,
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
        read_checked(pairs)
    }

    /// The requests (traces) the filters select: tags, time range and span conditions (a
    /// session list's `user` is the caller's to add).
    pub fn requests(&self) -> crate::TraceQuery {
        crate::TraceQuery {
            tags: self.tags.clone(),
            from_ms: self.from_ms,
            to_ms: self.to_ms,
            filter: self.filter.clone(),
            trace_filter: self.trace_filter.clone(),
            tree_filter: self.tree_filter.clone(),
            ..crate::TraceQuery::default()
        }
    }

    pub fn from_query_string(query: &str) -> Result<SessionQuery, QueryError> {
        decode(query, |pairs| SessionQuery::from_pairs(pairs))
    }

    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = tag_and_time_pairs(&self.tags, self.from_ms, self.to_ms);
        if let Some(v) = &self.user_id {
            pairs.push(("user", v.clone()));
        }
        push_list_tail(
            &mut pairs,
            [&self.filter, &self.trace_filter, &self.tree_filter],
            (self.sort != SessionSort::default()).then(|| self.sort.as_str()),
            &self.cursor,
            self.limit,
        );
        pairs
    }

    pub fn to_query_string(&self) -> String {
        encode(&self.to_pairs())
    }
}

impl ListQuery for SessionQuery {
    fn shared(&mut self) -> SharedKeys<'_> {
        shared_keys!(self)
    }

    fn read_own(&mut self, key: &str, value: &str, _: ReadNumber) -> Result<(), QueryError> {
        match key {
            "user" => self.user_id = Some(value.to_string()),
            "sort" => {
                self.sort = SessionSort::parse(value).ok_or_else(|| {
                    let names: Vec<&str> = SessionSort::ALL.iter().map(|s| s.as_str()).collect();
                    QueryError::new(format!(
                        "sort must be one of {}, not {value:?}",
                        names.join(", ")
                    ))
                })?
            }
            _ => {}
        }
        Ok(())
    }
}

/// What a page of the dashboard shows, as its URL says: tag filters, a recent time range,
/// an order and a condition in the filter language
/// (`?tag=env=production&range=7d&sort=cost_desc&filter=eq(run_type,"llm")`). A page passes
/// its default range; the default is left out of URLs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scope {
    pub tags: Vec<TagFilter>,
    pub range: RecentRange,
    pub sort: SessionSort,
    /// Requests (traces) having a span that passes it, as written: checked by the API and by
    /// the page's filter box, not here, so that pages without the box (users, services) do
    /// not carry the filter parser in their code.
    pub filter: Option<String>,
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
                "filter" if !value.trim().is_empty() => scope.filter = Some(value),
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
        if let Some(filter) = &self.filter {
            pairs.push(("filter", filter.clone()));
        }
        encode(&pairs)
    }

    /// The API query for a session or user list, the range ending `now_ms`.
    pub fn session_query(&self, now_ms: i64) -> SessionQuery {
        let bounds = self.range.bounds(now_ms);
        SessionQuery {
            tags: self.tags.clone(),
            from_ms: bounds.map(|b| b.0),
            to_ms: bounds.map(|b| b.1),
            sort: self.sort,
            filter: self.filter.clone(),
            ..SessionQuery::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trips_and_names_bad_parameters() {
        let q = SessionQuery {
            tags: vec![TagFilter::parse("env=production").unwrap()],
            from_ms: Some(1_700_000_000_000),
            to_ms: Some(1_700_000_100_000),
            user_id: Some("user & 1".into()),
            filter: Some(r#"eq(model, "gpt-4o")"#.into()),
            trace_filter: Some(r#"eq(tag.env, "prod")"#.into()),
            tree_filter: Some("gt(attr.retrieval.documents, 3)".into()),
            sort: SessionSort::CostDesc,
            cursor: Some("r0.5~s 1".into()),
            limit: Some(20),
        };
        assert_eq!(SessionQuery::from_query_string(&q.to_query_string()), Ok(q));
        assert_eq!(SessionQuery::default().to_query_string(), "");
        let err = SessionQuery::from_query_string("sort=sideways").unwrap_err();
        assert!(err.0.contains("last_desc"), "{err}");
        assert!(SessionQuery::from_query_string("from=yesterday").is_err());
        let err = SessionQuery::from_query_string("filter=gt(latency,%22fast%22)").unwrap_err();
        assert!(err.0.starts_with("filter: "), "{err}");
        assert!(err.0.contains("at character 12"), "{err}");
        let big = SessionQuery::from_query_string("limit=99999").unwrap();
        assert_eq!(big.limit(), SessionQuery::MAX_LIMIT);
    }

    #[test]
    fn page_scopes_round_trip_and_leave_defaults_out() {
        let scope = Scope {
            tags: vec![TagFilter::parse("ab_test_variant=B").unwrap()],
            range: RecentRange::Week,
            sort: SessionSort::ErrorsDesc,
            filter: Some("eq(model, \"gpt-4o\")".into()),
        };
        let text = scope.to_query_string(RecentRange::All);
        assert_eq!(
            text,
            "tag=ab_test_variant%3DB&range=7d&sort=errors_desc&filter=eq%28model%2C%20%22gpt-4o%22%29"
        );
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
}
