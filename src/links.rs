//! The dashboard's URLs. The page URL is the state: the project and every list filter live
//! in the query string, so reload, back/forward and shared links restore the view.
//! `TraceQuery`'s codec is the one used for both the page URL and the API call. Every URL the
//! dashboard builds, page or API, is built here (the API's in `links::api`).

use skein_model::cohort::CohortQuery;
use skein_model::query::{encode_pairs, parse_query_string, percent_encode};
use skein_model::span_list::SpanSort;
use skein_model::{TraceQuery, DEFAULT_PROJECT};

mod api;

// Natively (the tests) only the page URLs are used.
#[cfg_attr(not(target_arch = "wasm32"), allow(unused_imports))]
pub use self::api::*;

/// The project named by a page's query string (`?project=NAME`), or the default project.
pub fn project_of(search: &str) -> String {
    parse_query_string(search)
        .into_iter()
        .find(|(k, v)| k == "project" && !v.trim().is_empty())
        .map(|(_, v)| v)
        .unwrap_or_else(|| DEFAULT_PROJECT.to_string())
}

/// `project=NAME&` for a non-default project, else nothing.
fn project_prefix(project: &str) -> String {
    if project == DEFAULT_PROJECT || project.is_empty() {
        String::new()
    } else {
        encode_pairs([("project", project)])
    }
}

fn join(path: &str, parts: &[String]) -> String {
    let query: Vec<&str> = parts
        .iter()
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// The trace list page for a query. The cursor is left out: a page URL always starts at the
/// first page.
pub fn list_href(project: &str, query: &TraceQuery) -> String {
    let mut q = query.clone();
    q.cursor = None;
    join("/traces", &[project_prefix(project), q.to_query_string()])
}

/// Whether a page URL asks for live updates (`live=1`).
pub fn live_param(search: &str) -> bool {
    param(search, "live").as_deref() == Some("1")
}

/// The same page URL (path and query) with `live=1` on or off.
pub fn with_live(href: &str, on: bool) -> String {
    let (path, search) = href.split_once('?').unwrap_or((href, ""));
    let mut pairs: Vec<(String, String)> = parse_query_string(search)
        .into_iter()
        .filter(|(k, _)| k != "live")
        .collect();
    if on {
        pairs.push(("live".into(), "1".into()));
    }
    join(
        path,
        &[encode_pairs(
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )],
    )
}

/// One trace's page.
pub fn trace_href(project: &str, trace_id: &str) -> String {
    trace_span_href(project, trace_id, None, true)
}

/// One trace's page with a span selected (or none), and the clock-skew adjustment's state.
pub fn trace_span_href(project: &str, trace_id: &str, span: Option<&str>, skew: bool) -> String {
    let span = span
        .map(|s| encode_pairs([("span", s)]))
        .unwrap_or_default();
    let skew = if skew { "" } else { "skew=off" };
    join(
        &format!("/traces/{}", percent_encode(trace_id)),
        &[project_prefix(project), span, skew.to_string()],
    )
}

/// One trace's page opened from a list whose filter searches for text (`search("...")`,
/// `skein_model::filter::searched_text`): its find box starts with that text (`?find=`), so
/// the match is marked.
pub fn trace_find_href(project: &str, trace_id: &str, searched: Option<&str>) -> String {
    let href = trace_href(project, trace_id);
    match searched.filter(|t| !t.is_empty()) {
        Some(text) => {
            let sep = if href.contains('?') { '&' } else { '?' };
            format!("{href}{sep}{}", encode_pairs([("find", text)]))
        }
        None => href,
    }
}

/// The text the trace page's find box starts with (`?find=`).
pub fn find_param(search: &str) -> Option<String> {
    param(search, "find")
}

/// The span named by the trace page's URL (`?span=`).
pub fn span_param(search: &str) -> Option<String> {
    parse_query_string(search)
        .into_iter()
        .find(|(k, v)| k == "span" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_ascii_lowercase())
}

/// Two traces compared (`/compare?a=&b=`), with a row of the comparison selected or none.
pub fn compare_href(project: &str, a: &str, b: &str, row: Option<usize>) -> String {
    let row = row.map(|r| r.to_string()).unwrap_or_default();
    let pairs: Vec<(&str, &str)> = [("a", a), ("b", b), ("row", row.as_str())]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    join("/compare", &[project_prefix(project), encode_pairs(pairs)])
}

/// The trace list in "pick a trace to compare with `a`" mode, showing traces named `name`.
pub fn compare_pick_href(project: &str, a: &str, name: &str) -> String {
    let query = TraceQuery {
        name: (!name.is_empty()).then(|| name.to_string()),
        ..TraceQuery::default()
    };
    join(
        "/traces",
        &[
            project_prefix(project),
            query.to_query_string(),
            encode_pairs([("compare", a)]),
        ],
    )
}

/// A query parameter of a page's URL, trimmed; `None` when absent or empty.
pub fn param(search: &str, name: &str) -> Option<String> {
    parse_query_string(search)
        .into_iter()
        .find(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
}

/// The clock-skew adjustment is on unless the trace page's URL says `skew=off`.
pub fn skew_param(search: &str) -> bool {
    !parse_query_string(search)
        .into_iter()
        .any(|(k, v)| k == "skew" && v.trim().eq_ignore_ascii_case("off"))
}

/// `path?project=…&query` for any page, leaving out what is empty (and the default project).
pub fn page(path: &str, project: &str, query: &str) -> String {
    join(path, &[project_prefix(project), query.to_string()])
}

pub fn sessions(project: &str) -> String {
    page("/sessions", project, "")
}

pub fn session(project: &str, session_id: &str) -> String {
    page(
        &format!("/sessions/{}", percent_encode(session_id)),
        project,
        "",
    )
}

pub fn users(project: &str) -> String {
    page("/users", project, "")
}

pub fn user(project: &str, user_id: &str) -> String {
    page(&format!("/users/{}", percent_encode(user_id)), project, "")
}

pub fn services(project: &str) -> String {
    page("/services", project, "")
}

/// The project's annotation queues.
pub fn queues(project: &str) -> String {
    page("/queues", project, "")
}

/// A queue's review page.
pub fn queue(project: &str, id: &str) -> String {
    page(&format!("/queues/{}", percent_encode(id)), project, "")
}

/// A pairwise queue's review page.
pub fn pairwise(project: &str, id: &str) -> String {
    page(&format!("/pairwise/{}", percent_encode(id)), project, "")
}

/// The project's score configs page.
pub fn score_configs(project: &str) -> String {
    page("/settings/scores", project, "")
}

/// What the `/spans` page shows, as its URL says: a filter (`filter=`, the filter language)
/// and an order (`sort=`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpanListView {
    pub filter: Option<String>,
    /// The spans' traces: their root passes `trace_filter`, some span of them `tree_filter`
    /// (a cohort's traces, from the cohort page's row links).
    pub trace_filter: Option<String>,
    pub tree_filter: Option<String>,
    pub sort: SpanSort,
}

impl SpanListView {
    /// Reads a page query string; an unknown order is the default one.
    pub fn from_search(search: &str) -> SpanListView {
        SpanListView {
            filter: param(search, "filter"),
            trace_filter: param(search, "trace_filter"),
            tree_filter: param(search, "tree_filter"),
            sort: param(search, "sort")
                .and_then(|s| SpanSort::parse(&s))
                .unwrap_or_default(),
        }
    }

    /// The view as a query string (`filter=...&sort=...`), as the API reads it.
    pub fn query_string(&self) -> String {
        let sort = (self.sort != SpanSort::default()).then(|| self.sort.as_str());
        let pairs: Vec<(&str, &str)> = [
            ("filter", self.filter.as_deref()),
            ("trace_filter", self.trace_filter.as_deref()),
            ("tree_filter", self.tree_filter.as_deref()),
            ("sort", sort),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect();
        encode_pairs(pairs)
    }
}

/// `/compare/cohorts`: two cohorts of traces compared span name by span name; the page's
/// query is the API's (`CohortQuery`).
pub fn cohorts_href(project: &str, query: &CohortQuery) -> String {
    page("/compare/cohorts", project, &query.to_query_string())
}

/// The `/spans` page.
pub fn spans_href(project: &str, view: &SpanListView) -> String {
    page("/spans", project, &view.query_string())
}

/// True when the query narrows the list (anything but order and paging).
pub fn has_filters(query: &TraceQuery) -> bool {
    let mut plain = query.clone();
    plain.sort = Default::default();
    plain.cursor = None;
    plain.limit = None;
    plain != TraceQuery::default()
}

/// The query without its filters (order kept).
pub fn without_filters(query: &TraceQuery) -> TraceQuery {
    TraceQuery {
        sort: query.sort,
        ..TraceQuery::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skein_model::{StatusFilter, TagFilter, TraceSort};

    fn query() -> TraceQuery {
        TraceQuery {
            tags: vec![
                TagFilter::parse("env=production").unwrap(),
                TagFilter::parse("user_tier=premium").unwrap(),
            ],
            status: Some(StatusFilter::Error),
            name: Some("agent".into()),
            sort: TraceSort::DurationDesc,
            cursor: Some("abc".into()),
            ..TraceQuery::default()
        }
    }

    #[test]
    fn list_url_round_trips_and_drops_the_cursor() {
        let href = list_href("default", &query());
        assert_eq!(
            href,
            "/traces?tag=env%3Dproduction&tag=user_tier%3Dpremium&name=agent&status=error&sort=duration_desc"
        );
        let search = href.split_once('?').unwrap().1;
        let mut expected = query();
        expected.cursor = None;
        assert_eq!(TraceQuery::from_query_string(search).unwrap(), expected);
        assert_eq!(project_of(search), "default");
        assert_eq!(list_href("default", &TraceQuery::default()), "/traces");
    }

    #[test]
    fn live_is_a_page_url_switch_and_streams_carry_the_lists_query() {
        assert_eq!(
            with_live("/traces?tag=a%3Db", true),
            "/traces?tag=a%3Db&live=1"
        );
        assert_eq!(
            with_live("/traces?live=1&tag=a%3Db", false),
            "/traces?tag=a%3Db"
        );
        assert_eq!(with_live("/traces", true), "/traces?live=1");
        assert!(live_param("tag=a%3Db&live=1"));
        assert!(!live_param("live=0"));
        assert_eq!(
            api_stream_traces("p", &query()),
            "/api/v1/stream?project=p&kind=traces&tag=env%3Dproduction&tag=user_tier%3Dpremium&name=agent&status=error&sort=duration_desc"
        );
        assert_eq!(
            api_stream_spans("p", "eq(trace_id, \"ab\")"),
            "/api/v1/stream?project=p&kind=spans&filter=eq%28trace_id%2C%20%22ab%22%29"
        );
    }

    #[test]
    fn a_trace_opened_from_a_searched_list_finds_the_searched_text() {
        let trace_find_href = |project, trace, filter: Option<&str>| {
            let searched = filter.and_then(skein_model::filter::searched_text);
            trace_find_href(project, trace, searched.as_deref())
        };
        let href = trace_find_href(
            "team",
            "ab12",
            Some(r#"and(eq(run_type, "llm"), search("Refund & co"))"#),
        );
        assert_eq!(href, "/traces/ab12?project=team&find=Refund%20%26%20co");
        assert_eq!(
            find_param(href.split_once('?').unwrap().1).as_deref(),
            Some("Refund & co")
        );
        assert_eq!(
            trace_find_href("default", "ab12", Some(r#"search("x y z")"#)),
            "/traces/ab12?find=x%20y%20z"
        );
        for filter in [
            None,
            Some(r#"eq(name, "x")"#),
            Some(r#"not(search("abc"))"#),
        ] {
            assert_eq!(trace_find_href("default", "ab12", filter), "/traces/ab12");
        }
    }

    #[test]
    fn the_project_is_kept_in_the_url_unless_default() {
        let href = list_href("team a&b", &TraceQuery::default());
        assert_eq!(href, "/traces?project=team%20a%26b");
        assert_eq!(project_of(href.split_once('?').unwrap().1), "team a&b");
        assert_eq!(project_of("?project=&tag=a=b"), "default");
        assert_eq!(trace_href("p1", "ab12"), "/traces/ab12?project=p1");
        assert_eq!(trace_href("default", "ab12"), "/traces/ab12");
        assert_eq!(
            trace_span_href("p1", "ab12", Some("c d"), false),
            "/traces/ab12?project=p1&span=c%20d&skew=off"
        );
        assert_eq!(session("default", "s/1"), "/sessions/s%2F1");
        assert_eq!(user("p1", "u 1"), "/users/u%201?project=p1");
    }

    #[test]
    fn api_urls_always_name_the_project_and_escape_path_parts() {
        assert_eq!(
            api_traces("default", &query()),
            "/api/v1/traces?project=default&tag=env%3Dproduction&tag=user_tier%3Dpremium&name=agent&status=error&sort=duration_desc&cursor=abc"
        );
        assert_eq!(
            api_tag_values("default", "a/b c"),
            "/api/v1/tags/a%2Fb%20c/values?project=default"
        );
        assert_eq!(
            api_trace_binary("x", "../../etc"),
            "/api/v1/traces/..%2F..%2Fetc?project=x&format=binary"
        );
        assert_eq!(
            api_span("p", "t/1", "s 2"),
            "/api/v1/traces/t%2F1/spans/s%202?project=p"
        );
        assert_eq!(
            api_feedback("p", None, Some("t1")),
            "/api/v1/feedback?project=p&trace_id=t1"
        );
        assert_eq!(
            api_sessions("users", "p", Some("u/1"), ""),
            "/api/v1/users/u%2F1?project=p"
        );
    }

    #[test]
    fn span_list_urls_round_trip() {
        let view = SpanListView {
            filter: Some("eq(run_type, \"llm\")".into()),
            sort: SpanSort::DurationDesc,
            ..SpanListView::default()
        };
        let href = spans_href("p1", &view);
        assert_eq!(
            href,
            "/spans?project=p1&filter=eq%28run_type%2C%20%22llm%22%29&sort=duration_desc"
        );
        assert_eq!(
            SpanListView::from_search(href.split_once('?').unwrap().1),
            view
        );
        assert_eq!(spans_href("default", &SpanListView::default()), "/spans");
        assert_eq!(
            api_spans("default", &SpanListView::default(), Some("a b")),
            "/api/v1/spans?project=default&cursor=a%20b"
        );
    }

    #[test]
    fn filters_are_told_apart_from_order() {
        assert!(has_filters(&query()));
        let sorted = TraceQuery {
            sort: TraceSort::StartAsc,
            ..TraceQuery::default()
        };
        assert!(!has_filters(&sorted));
        assert_eq!(without_filters(&query()).sort, TraceSort::DurationDesc);
        assert!(!has_filters(&without_filters(&query())));
    }
}
