//! The `/metrics` page's state, its URL, and the words and numbers it shows. Pure (compiled
//! and tested natively); the page itself is `pages::metrics`.
//!
//! The page URL is the state: the metric query (`skein_model::metrics::MetricQuery`'s own
//! codec: `metric`, `group_by`, `tag`, `from`, `to`, `bucket`) plus the page's own keys:
//! `range` (a preset relative to now: `1h`, `24h`, `7d`, `30d`; absent for all time or when
//! `from`/`to` give a fixed range), `a` and `b` (the two groups the A/B panel compares; an empty
//! value names the group of traces without the tag), `dist` (`hist` for histograms instead
//! of box plots) and `pairwise` (the pairwise queue whose results the pairwise panel shows;
//! the newest without it).

use skein_model::format::fixed;
use skein_model::metrics::{Comparison, Metric, MetricGroup, MetricQuery, MetricResponse, Over};
use skein_model::query::{encode_pairs, parse_query_string, QueryError};
use skein_model::sort;

use crate::metrics_pairs::reading_order;
use skein_model::stats::{NotEnoughData, MIN_N};
use skein_model::DEFAULT_PROJECT;

// The page and the charts write numbers through here (`mv::value`); natively, only the
// verdicts below use them.
#[cfg_attr(not(target_arch = "wasm32"), allow(unused_imports))]
pub use crate::metrics_format::{difference, number, p_value, tick, value};

/// A time range relative to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Range {
    Hour,
    Day,
    Week,
    Month,
    /// No bound (or the fixed `from`/`to` of the query).
    #[default]
    All,
}

impl Range {
    pub const ALL: [Range; 5] = [
        Range::Hour,
        Range::Day,
        Range::Week,
        Range::Month,
        Range::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Range::Hour => "1h",
            Range::Day => "24h",
            Range::Week => "7d",
            Range::Month => "30d",
            Range::All => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Range::Hour => "1 hour",
            Range::Day => "24 hours",
            Range::Week => "7 days",
            Range::Month => "30 days",
            Range::All => "All time",
        }
    }

    pub fn parse(text: &str) -> Option<Range> {
        Range::ALL.into_iter().find(|r| r.as_str() == text.trim())
    }

    fn ms(self) -> Option<i64> {
        const HOUR: i64 = 3_600_000;
        match self {
            Range::Hour => Some(HOUR),
            Range::Day => Some(24 * HOUR),
            Range::Week => Some(7 * 24 * HOUR),
            Range::Month => Some(30 * 24 * HOUR),
            Range::All => None,
        }
    }
}

/// How the distribution chart draws each group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dist {
    #[default]
    Box,
    Histogram,
}

/// Bucket sizes offered (the API accepts any whole number of s, m, h, d or w).
pub const BUCKETS: [&str; 8] = ["auto", "1m", "5m", "15m", "1h", "6h", "1d", "1w"];

/// Everything the page shows, as read from its URL.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsView {
    pub query: MetricQuery,
    pub range: Range,
    /// The groups compared, by value (`Some(None)`: the group without the tag).
    pub a: Option<Option<String>>,
    pub b: Option<Option<String>>,
    pub dist: Dist,
    /// The scope's condition in the filter language (`filter=`): the traces having a span
    /// that passes it.
    pub filter: Option<String>,
    /// The pairwise queue the pairwise panel shows, by id.
    pub pairwise: Option<String>,
}

impl MetricsView {
    /// Reads a page query string (`?` optional). Errors are the metric query's, naming the
    /// parameter. The filters are not checked here (the page checks its own with the lazily
    /// loaded parser, `filter_check`; the collector checks all of them).
    pub fn from_search(search: &str) -> Result<MetricsView, QueryError> {
        let search = search.strip_prefix('?').unwrap_or(search);
        let mut query = MetricQuery::from_link(search, crate::metrics_format::READ_NUMBER)?;
        // The page keeps its filter in `filter` (what the box shows) and puts it into the
        // API query when it asks (`api_query`), so the two never disagree.
        query.filter = None;
        let mut view = MetricsView {
            query,
            ..MetricsView::default()
        };
        for (key, value) in parse_query_string(search) {
            match key.as_str() {
                "range" => view.range = Range::parse(&value).unwrap_or_default(),
                "a" => view.a = Some((!value.is_empty()).then_some(value)),
                "b" => view.b = Some((!value.is_empty()).then_some(value)),
                "filter" if !value.trim().is_empty() => view.filter = Some(value),
                "pairwise" if !value.is_empty() => view.pairwise = Some(value),
                "dist" => {
                    view.dist = if value == "hist" {
                        Dist::Histogram
                    } else {
                        Dist::Box
                    }
                }
                _ => {}
            }
        }
        // A fixed range wins over a preset.
        if view.query.from_ms.is_some() || view.query.to_ms.is_some() {
            view.range = Range::All;
        }
        Ok(view)
    }

    /// The page's query string (without `?`, without the project).
    pub fn to_search(&self) -> String {
        let mut parts = vec![self.query.to_query_string()];
        let mut own: Vec<(&str, &str)> = Vec::new();
        if self.range != Range::All {
            own.push(("range", self.range.as_str()));
        }
        if let Some(a) = &self.a {
            own.push(("a", a.as_deref().unwrap_or("")));
        }
        if let Some(b) = &self.b {
            own.push(("b", b.as_deref().unwrap_or("")));
        }
        if self.dist == Dist::Histogram {
            own.push(("dist", "hist"));
        }
        if let Some(filter) = &self.filter {
            own.push(("filter", filter));
        }
        if let Some(queue) = &self.pairwise {
            own.push(("pairwise", queue));
        }
        if !own.is_empty() {
            parts.push(encode_pairs(own));
        }
        parts.join("&")
    }

    /// The query sent to the API: the preset range resolved against `now_ms`.
    pub fn api_query(&self, now_ms: i64) -> MetricQuery {
        let mut q = self.query.clone();
        q.filter = self.filter.clone();
        if let Some(ms) = self.range.ms() {
            q.from_ms = Some(now_ms.saturating_sub(ms));
            q.to_ms = Some(now_ms.saturating_add(1));
        }
        q
    }

    /// A copy with another metric query; the compared pair is kept only while the grouping is.
    pub fn with_query(&self, query: MetricQuery) -> MetricsView {
        let keep_pair = query.group_by == self.query.group_by && query.tags == self.query.tags;
        MetricsView {
            query,
            a: if keep_pair { self.a.clone() } else { None },
            b: if keep_pair { self.b.clone() } else { None },
            ..self.clone()
        }
    }
}

/// `/metrics?...` for a project and view.
pub fn href(project: &str, view: &MetricsView) -> String {
    let mut parts = Vec::new();
    if project != DEFAULT_PROJECT && !project.is_empty() {
        parts.push(encode_pairs([("project", project)]));
    }
    parts.push(view.to_search());
    format!("/metrics?{}", parts.join("&"))
}

/// The metrics a user can pick, as (URL name, label) in the picker's groups.
pub const BUILT_IN: [(&str, &str, &str); 9] = [
    ("Traces", "count", "Trace count"),
    ("Traces", "error_rate", "Error rate"),
    ("Latency", "latency_p50", "Latency p50"),
    ("Latency", "latency_p95", "Latency p95"),
    ("Latency", "latency_mean", "Latency mean"),
    ("Tokens and cost", "input_tokens", "Input tokens"),
    ("Tokens and cost", "output_tokens", "Output tokens"),
    ("Tokens and cost", "total_tokens", "Total tokens"),
    ("Tokens and cost", "cost", "Cost"),
];

/// A group's name on charts and in tables.
pub fn group_label(value: &Option<String>, group_by: Option<&str>) -> String {
    match (value, group_by) {
        (Some(v), _) => v.clone(),
        (None, Some(key)) => format!("(no {key})"),
        (None, None) => "All traces".to_string(),
    }
}

/// A group's name with its `then_by` value, when the response has one: `B · pro`.
pub fn pair_label(g: &MetricGroup, r: &MetricResponse) -> String {
    let first = match (&g.value, r.group_by.as_deref(), r.over) {
        (None, None, Over::Spans) => "All spans".to_string(),
        (value, group_by, _) => group_label(value, group_by),
    };
    match &r.then_by {
        Some(key) => format!("{first} · {}", group_label(&g.then, Some(key))),
        None => first,
    }
}

/// What the values are counted in: "trace"/"traces", "span"/"spans", "trace with feedback".
pub fn unit_words(r: &MetricResponse) -> (&'static str, &'static str) {
    match (&r.metric, r.over) {
        (_, Over::Spans) => ("span", "spans"),
        (Metric::Feedback(_), _) => ("trace with feedback", "traces with feedback"),
        _ => ("trace", "traces"),
    }
}

/// Groups in reading order (`metrics_pairs::reading_order`) of their value, then of their
/// `then_by` value.
pub fn sort_groups(groups: &mut [MetricGroup]) {
    sort::sort_by(groups, |a, b| {
        reading_order(&a.value, &b.value).then_with(|| reading_order(&a.then, &b.then))
    });
}

/// What the A/B panel says about a comparison of `a` and `b` (difference `a − b`).
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub headline: String,
    pub detail: String,
    /// p < 0.05.
    pub significant: bool,
}

/// The level below which a difference is called significant.
pub const ALPHA: f64 = 0.05;

pub fn verdict(cmp: &Comparison, a: &str, b: &str, metric: &Metric) -> Verdict {
    let (test, what) = match cmp {
        Comparison::Welch(_) => ("Welch's t-test", "mean"),
        Comparison::TwoProportion(_) => ("two-proportion z-test", "rate"),
    };
    let d = cmp.difference();
    let ci = cmp.ci();
    let p = cmp.p_value();
    let range = format!(
        "95% CI of {a} − {b}: {} to {}",
        difference(ci.low, metric),
        difference(ci.high, metric)
    );
    if p < ALPHA {
        let direction = if d > 0.0 { "higher" } else { "lower" };
        Verdict {
            headline: format!(
                "{a}'s {what} is {direction} than {b}'s by {} ({}, {test})",
                difference(d, metric).trim_start_matches(['+', '−']),
                p_value(p)
            ),
            detail: format!(
                "{range}. A difference at least this large would be unlikely (p < {ALPHA}) if the two groups had the same {what}; it does not say why, or that it will last."
            ),
            significant: true,
        }
    } else {
        Verdict {
            headline: format!(
                "No significant difference in {what} ({}, {test})",
                p_value(p)
            ),
            detail: format!(
                "{range}. The observed difference ({}) is within what chance alone often gives; more data would narrow the interval.",
                difference(d, metric)
            ),
            significant: false,
        }
    }
}

/// The plain "not enough data" message, naming the rule.
pub fn not_enough(why: &NotEnoughData) -> String {
    match why {
        NotEnoughData::TooFew { n, min } => format!(
            "Not enough data (n < {min}): the smaller group has {n} trace{}. Widen the time range or remove a filter.",
            if *n == 1 { "" } else { "s" }
        ),
        NotEnoughData::TooFewEvents { expected, min } => format!("Not enough data: about {} expected events in a group, at least {min} needed for the z-test.", fixed(*expected, 1)),
        NotEnoughData::NoSpread => {
            "Not enough data: every value is the same, so there is no spread to test with.".into()
        }
    }
}

/// The minimum per group, for the panel's help text.
pub const MIN_PER_GROUP: u64 = MIN_N;

#[cfg(test)]
mod tests {
    use super::*;
    use skein_model::metrics::Bucket;
    use skein_model::stats::{Interval, MeanDifference, ProportionDifference};
    use skein_model::TagFilter;

    #[test]
    fn the_url_round_trips() {
        let view = MetricsView {
            query: MetricQuery {
                metric: Metric::Feedback("user satisfaction".into()),
                group_by: Some("ab_test_variant".into()),
                tags: vec![TagFilter::parse("env=production").unwrap()],
                bucket: Bucket::parse("1h").unwrap(),
                ..MetricQuery::default()
            },
            range: Range::Week,
            a: Some(Some("A & B".into())),
            b: Some(None),
            dist: Dist::Histogram,
            filter: Some("eq(run_type, \"llm\")".into()),
            pairwise: Some("q 1".into()),
        };
        let search = view.to_search();
        assert_eq!(
            search,
            "metric=feedback%3Auser%20satisfaction&group_by=ab_test_variant&tag=env%3Dproduction&bucket=1h&range=7d&a=A%20%26%20B&b=&dist=hist&filter=eq%28run_type%2C%20%22llm%22%29&pairwise=q%201"
        );
        assert_eq!(MetricsView::from_search(&search).unwrap(), view);
        assert_eq!(
            MetricsView::from_search(&format!("?{search}")).unwrap(),
            view
        );
        assert_eq!(
            href("default", &MetricsView::default()),
            "/metrics?metric=count"
        );
        assert_eq!(
            href("team a", &MetricsView::default()),
            "/metrics?project=team%20a&metric=count"
        );
        // The link.
        let v =
            MetricsView::from_search("metric=feedback:user_satisfaction&group_by=ab_test_variant")
                .unwrap();
        assert_eq!(v.query.metric, Metric::Feedback("user_satisfaction".into()));
        assert_eq!(v.query.group_by.as_deref(), Some("ab_test_variant"));
        assert_eq!(v.range, Range::All);
        assert!(MetricsView::from_search("metric=speed").is_err());
        // The filter is kept as written: the page checks it with the lazily loaded parser.
        let unchecked = MetricsView::from_search("filter=eq(model").unwrap();
        assert_eq!(unchecked.filter.as_deref(), Some("eq(model"));
    }

    #[test]
    fn presets_resolve_against_now_and_fixed_ranges_win() {
        let v = MetricsView::from_search("metric=count&range=24h").unwrap();
        let q = v.api_query(100_000_000);
        assert_eq!(q.from_ms, Some(100_000_000 - 86_400_000));
        assert_eq!(q.to_ms, Some(100_000_001));
        assert!(!v.to_search().contains("from="), "a preset stays relative");
        let fixed = MetricsView::from_search("metric=count&range=24h&from=5&to=9").unwrap();
        assert_eq!(fixed.range, Range::All);
        assert_eq!(fixed.api_query(100).from_ms, Some(5));
        assert_eq!(MetricsView::default().api_query(7).from_ms, None);
    }

    #[test]
    fn the_pair_is_dropped_when_the_grouping_changes() {
        let v = MetricsView::from_search("metric=count&group_by=k&a=x&b=y").unwrap();
        let mut q = v.query.clone();
        q.metric = Metric::Cost;
        assert_eq!(v.with_query(q.clone()).a, Some(Some("x".into())));
        q.group_by = Some("other".into());
        assert_eq!(v.with_query(q).a, None);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(0.8234), "0.823");
        assert_eq!(number(0.001234), "0.00123");
        assert_eq!(number(-0.12), "-0.120");
        assert_eq!(number(3.456), "3.46");
        assert_eq!(number(45.67), "45.7");
        assert_eq!(number(789.4), "789");
        assert_eq!(number(12_345.0), "12.3k");
        assert_eq!(number(2_500_000.0), "2.50M");
        assert_eq!(number(-0.0000), "0");
        assert_eq!(number(f64::NAN), "—");
        let latency = Metric::LatencyMean;
        assert_eq!(value(412.3, &latency), "412 ms");
        assert_eq!(value(0.125, &Metric::ErrorRate), "12.5%");
        assert_eq!(value(0.0123, &Metric::Cost), "$0.0123");
        assert_eq!(value(3200.0, &Metric::TotalTokens), "3200 tokens");
        assert_eq!(difference(-0.031, &Metric::ErrorRate), "−3.10 pp");
        assert_eq!(difference(12.0, &latency), "+12.0 ms");
        assert_eq!(p_value(0.03141), "p = 0.031");
        assert_eq!(p_value(0.00042), "p = 0.0004");
        assert_eq!(p_value(1e-9), "p < 0.0001");
    }

    fn welch(d: f64, low: f64, high: f64, p: f64) -> Comparison {
        Comparison::Welch(MeanDifference {
            mean_a: 0.0,
            mean_b: 0.0,
            difference: d,
            se: 0.0,
            t: 0.0,
            df: 0.0,
            p_value: p,
            ci: Interval { low, high },
        })
    }

    #[test]
    fn verdicts_are_honest() {
        let m = Metric::Feedback("user_satisfaction".into());
        let v = verdict(&welch(-0.12, -0.15, -0.09, 1e-12), "A", "B", &m);
        assert!(v.significant);
        assert_eq!(
            v.headline,
            "A's mean is lower than B's by 0.120 (p < 0.0001, Welch's t-test)"
        );
        assert!(
            v.detail.contains("95% CI of A − B: −0.150 to −0.0900"),
            "{}",
            v.detail
        );

        let v = verdict(&welch(0.02, -0.01, 0.05, 0.2), "A", "B", &m);
        assert!(!v.significant);
        assert!(v.headline.starts_with("No significant difference"));
        for word in ["winner", "wins", "better", "worse", "higher", "lower"] {
            assert!(!v.headline.contains(word), "{word} in {}", v.headline);
        }
        // Exactly at the level is not significant.
        assert!(!verdict(&welch(0.02, 0.0, 0.04, 0.05), "A", "B", &m).significant);

        let rate = Comparison::TwoProportion(ProportionDifference {
            rate_a: 0.1,
            rate_b: 0.2,
            difference: -0.1,
            z: -3.0,
            p_value: 0.002,
            ci: Interval {
                low: -0.16,
                high: -0.04,
            },
        });
        let v = verdict(&rate, "free", "premium", &Metric::ErrorRate);
        assert!(
            v.headline.contains("two-proportion z-test"),
            "{}",
            v.headline
        );
        assert!(v.headline.contains("by 10.0 pp"), "{}", v.headline);
    }

    #[test]
    fn ticks_share_their_decimals() {
        let t = tick(0.0, 1.0, false);
        assert_eq!([t(&0.0), t(&0.5), t(&1.0)], ["0", "0.5", "1.0"]);
        let t = tick(0.6, 0.85, false);
        assert_eq!([t(&0.6), t(&0.65), t(&0.8)], ["0.60", "0.65", "0.80"]);
        let t = tick(0.0, 25_000.0, false);
        assert_eq!([t(&5_000.0), t(&20_000.0)], ["5k", "20k"]);
        let t = tick(0.0, 0.2, true);
        assert_eq!([t(&0.05), t(&0.2)], ["5%", "20%"]);
        let t = tick(0.0, 2_400.0, false);
        assert_eq!(t(&1_500.0), "1500");
    }

    #[test]
    fn groups_read_in_order() {
        let g = |v: Option<&str>| skein_model::metrics::MetricGroup {
            then: None,
            value: v.map(str::to_string),
            n: 0,
            sum: 0.0,
            sum_sq: 0.0,
            mean: 0.0,
            sd: None,
            ci: None,
            quantiles: None,
            histogram: None,
            series: Vec::new(),
        };
        let mut groups = vec![
            g(Some("B")),
            g(None),
            g(Some("A")),
            g(Some("10")),
            g(Some("9")),
        ];
        sort_groups(&mut groups);
        let order: Vec<_> = groups.iter().map(|g| g.value.clone()).collect();
        assert_eq!(
            order,
            [Some("9"), Some("10"), Some("A"), Some("B"), None].map(|v| v.map(str::to_string))
        );
    }

    #[test]
    fn not_enough_data_is_plain() {
        let text = not_enough(&NotEnoughData::TooFew { n: 4, min: 10 });
        assert!(text.starts_with("Not enough data (n < 10)"), "{text}");
        assert!(text.contains("4 traces"));
    }

    #[test]
    fn groups_are_named() {
        assert_eq!(group_label(&Some("B".into()), Some("ab")), "B");
        assert_eq!(group_label(&None, Some("ab")), "(no ab)");
        assert_eq!(group_label(&None, None), "All traces");
    }
}
