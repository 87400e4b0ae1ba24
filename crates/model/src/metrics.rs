//! Metric charts by tag: the query (`GET /api/v1/metrics?metric=...&group_by=...`, also the
//! dashboard's `/metrics?...` URL) and the aggregates the collector answers with. The browser
//! gets per-group and per-bucket aggregates, quantiles and a histogram, never raw rows; the
//! statistics on top of them (intervals, A/B tests) are in `crate::stats`.
//!
//! The unit of a metric is the trace by default: latency is the trace's duration, tokens and
//! cost are its totals, the error rate is the share of traces with an error, and
//! `feedback:<key>` is, per trace, the mean score of that trace's feedback with that key
//! (traces without such feedback are left out). A trace belongs to the group of its value of
//! the `group_by` tag, and to the time bucket of its start. With `over=spans` the unit is the
//! span (`crate::metric_scope`): its duration, tokens, cost, error, or a numeric attribute
//! (`attr:<key>`).

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::metric_answer::{
    compare, group_ci, nice_bins, BucketPoint, Comparison, Histogram, MetricGroup, MetricResponse,
    Quantiles, MAX_GROUPS,
};
pub use crate::metric_bucket::{bucket_start, Bucket};
pub use crate::metric_scope::{Over, SpanGroup};
use crate::query::{
    decode, encode, filter_param, push_filters, rust_number, tag_and_time_pairs, QueryError,
    ReadNumber, TagFilter, FILTER_PARAMS,
};

/// Longest feedback key or tag key accepted in a metric query.
pub const MAX_KEY_LEN: usize = 128;

/// What is measured per trace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Metric {
    /// Number of traces.
    #[default]
    Count,
    /// Share of traces with at least one error span.
    ErrorRate,
    /// Trace duration in ms; the chart's number is the median.
    LatencyP50,
    /// Trace duration in ms; the chart's number is the 95th percentile.
    LatencyP95,
    /// Trace duration in ms; the chart's number is the mean.
    LatencyMean,
    InputTokens,
    OutputTokens,
    TotalTokens,
    /// Cost in USD.
    Cost,
    /// Per trace, the mean score of its feedback with this key.
    Feedback(String),
    /// Per span (`over=spans` only), its numeric attribute with this key; spans without a
    /// number under it are left out.
    Attr(String),
}

/// How a metric's per-trace values are distributed, which decides its interval and test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Every trace counts 1: the number that matters is `n`; no interval, no test.
    Count,
    /// Values are 0 or 1: the mean is a rate; Wilson interval, two-proportion z-test.
    Rate,
    /// Any number: t interval of the mean, Welch's t-test, quantiles and a histogram.
    Value,
}

/// Which statistic of a group (or bucket) a chart shows for a metric: the metric's own
/// (`Metric::statistic`), or the query's `statistic=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    Count,
    Mean,
    P50,
    P95,
    /// The total of the values: a business metric (revenue per variant per day) is summed.
    Sum,
    P99,
}

impl Statistic {
    pub const ALL: [Statistic; 6] = [
        Statistic::Mean,
        Statistic::Sum,
        Statistic::Count,
        Statistic::P50,
        Statistic::P95,
        Statistic::P99,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::Count => "count",
            Statistic::Mean => "mean",
            Statistic::P50 => "p50",
            Statistic::P95 => "p95",
            Statistic::Sum => "sum",
            Statistic::P99 => "p99",
        }
    }

    pub fn parse(text: &str) -> Result<Statistic, QueryError> {
        let text = text.trim();
        Statistic::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                QueryError::new(format!(
                    "statistic must be mean, sum, count, p50, p95 or p99, not {text:?}"
                ))
            })
    }

    /// True for the quantiles, which need every value (per bucket, for a series).
    pub fn is_quantile(self) -> bool {
        matches!(self, Statistic::P50 | Statistic::P95 | Statistic::P99)
    }
}

impl Metric {
    /// The built-in metrics' names, for a picker (feedback keys come from the data).
    pub const BUILT_IN: [&'static str; 9] = [
        "count",
        "error_rate",
        "latency_p50",
        "latency_p95",
        "latency_mean",
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "cost",
    ];

    pub fn parse(text: &str) -> Result<Metric, QueryError> {
        let text = text.trim();
        Ok(match text {
            "count" => Metric::Count,
            "error_rate" => Metric::ErrorRate,
            "latency_p50" => Metric::LatencyP50,
            "latency_p95" => Metric::LatencyP95,
            "latency_mean" => Metric::LatencyMean,
            "input_tokens" => Metric::InputTokens,
            "output_tokens" => Metric::OutputTokens,
            "total_tokens" => Metric::TotalTokens,
            "cost" => Metric::Cost,
            _ => match (text.strip_prefix("feedback:"), text.strip_prefix("attr:")) {
                (Some(key), _) => Metric::Feedback(check_key("metric", key)?.to_string()),
                (_, Some(key)) => Metric::Attr(check_key("metric", key)?.to_string()),
                _ => {
                    return Err(QueryError::new(format!(
                        "metric must be one of {}, feedback:<key> or attr:<key>, not {text:?}",
                        Metric::BUILT_IN.join(", ")
                    )))
                }
            },
        })
    }

    pub fn kind(&self) -> MetricKind {
        match self {
            Metric::Count => MetricKind::Count,
            Metric::ErrorRate => MetricKind::Rate,
            _ => MetricKind::Value,
        }
    }

    /// The statistic a chart of this metric shows.
    pub fn statistic(&self) -> Statistic {
        match self {
            Metric::Count => Statistic::Count,
            Metric::LatencyP50 => Statistic::P50,
            Metric::LatencyP95 => Statistic::P95,
            _ => Statistic::Mean,
        }
    }

    /// The unit of the per-trace values (empty for rates and scores).
    pub fn unit(&self) -> &'static str {
        match self {
            Metric::Count => "traces",
            Metric::ErrorRate | Metric::Feedback(_) | Metric::Attr(_) => "",
            Metric::LatencyP50 | Metric::LatencyP95 | Metric::LatencyMean => "ms",
            Metric::InputTokens | Metric::OutputTokens | Metric::TotalTokens => "tokens",
            Metric::Cost => "USD",
        }
    }

    /// A human label for axes and legends: "Latency p95", "Feedback: user_satisfaction".
    pub fn label(&self) -> String {
        match self {
            Metric::Count => "Trace count".into(),
            Metric::ErrorRate => "Error rate".into(),
            Metric::LatencyP50 => "Latency p50".into(),
            Metric::LatencyP95 => "Latency p95".into(),
            Metric::LatencyMean => "Latency mean".into(),
            Metric::InputTokens => "Input tokens".into(),
            Metric::OutputTokens => "Output tokens".into(),
            Metric::TotalTokens => "Total tokens".into(),
            Metric::Cost => "Cost".into(),
            Metric::Feedback(key) => format!("Feedback: {key}"),
            Metric::Attr(key) => format!("Attribute: {key}"),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Metric::Count => "count",
            Metric::ErrorRate => "error_rate",
            Metric::LatencyP50 => "latency_p50",
            Metric::LatencyP95 => "latency_p95",
            Metric::LatencyMean => "latency_mean",
            Metric::InputTokens => "input_tokens",
            Metric::OutputTokens => "output_tokens",
            Metric::TotalTokens => "total_tokens",
            Metric::Cost => "cost",
            Metric::Feedback(key) => return write!(f, "feedback:{key}"),
            Metric::Attr(key) => return write!(f, "attr:{key}"),
        };
        f.write_str(name)
    }
}

impl From<Metric> for String {
    fn from(m: Metric) -> String {
        m.to_string()
    }
}

impl TryFrom<String> for Metric {
    type Error = QueryError;
    fn try_from(text: String) -> Result<Metric, QueryError> {
        Metric::parse(&text)
    }
}

pub(crate) fn check_key<'a>(param: &str, key: &'a str) -> Result<&'a str, QueryError> {
    if key.trim().is_empty() || key.len() > MAX_KEY_LEN || key.chars().any(char::is_control) {
        return Err(QueryError::new(format!(
            "{param} needs a key of 1 to {MAX_KEY_LEN} printable characters, not {key:?}"
        )));
    }
    Ok(key)
}

/// `GET /api/v1/metrics`: which metric, grouped how, over which traces. Every field has a
/// query-string form: `metric`, `group_by`, `tag` (repeated, `key=value`, AND-ed), `from` and `to`
/// (Unix ms, on the trace's start; `to` excluded), `bucket`, `statistic` (the number charts
/// show; the metric's own when absent) and `threshold` (each trace's value becomes 1 when at
/// or above it, else 0: the metric becomes the rate of traces reaching it). `filter` and
/// `tree_filter` keep the traces having a span that passes them, `trace_filter` those whose
/// root span passes it (`crate::filter`), as on the trace list. `then_by` splits each group by
/// a second key (variant × user tier). `over=spans` measures spans instead
/// (`crate::metric_scope` says how the other parameters read then).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricQuery {
    pub metric: Metric,
    /// What is measured: traces (the default) or spans.
    pub over: Over,
    /// The tag key whose values are the groups; none for one group of all traces. Over spans,
    /// also a span field (`SpanGroup`).
    pub group_by: Option<String>,
    /// A second key splitting each group: groups are then pairs of values.
    pub then_by: Option<String>,
    pub tags: Vec<TagFilter>,
    pub filter: Option<String>,
    pub trace_filter: Option<String>,
    pub tree_filter: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub bucket: Bucket,
    pub statistic: Option<Statistic>,
    pub threshold: Option<f64>,
}

impl MetricQuery {
    /// How the values this query aggregates are distributed: a rate with a threshold.
    pub fn kind(&self) -> MetricKind {
        if self.threshold.is_some() {
            MetricKind::Rate
        } else {
            self.metric.kind()
        }
    }

    /// The statistic charts of this query show.
    pub fn statistic(&self) -> Statistic {
        match (self.statistic, self.threshold) {
            (Some(s), _) => s,
            (None, Some(_)) => Statistic::Mean,
            (None, None) => self.metric.statistic(),
        }
    }

    /// The unit of the values aggregated ("" for a rate of reaching the threshold).
    pub fn unit(&self) -> &'static str {
        match (self.threshold, &self.metric, self.over) {
            (Some(_), _, _) => "",
            (None, Metric::Count, Over::Spans) => "spans",
            (None, metric, _) => metric.unit(),
        }
    }

    /// Parses decoded query pairs; unknown keys are ignored (they may belong to the page, such
    /// as `project`), and so are empty values. Errors name the parameter.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<MetricQuery, QueryError> {
        let mut q = MetricQuery::read_pairs(pairs, rust_number)?;
        for (key, slot) in
            FILTER_PARAMS
                .into_iter()
                .zip([&mut q.filter, &mut q.trace_filter, &mut q.tree_filter])
        {
            if let Some(text) = slot.take() {
                *slot = filter_param(key, &text)?;
            }
        }
        Ok(q)
    }

    /// Reads a page's link as [`Self::from_query_string`] does, but leaves the filters to the
    /// collector (which answers 400 naming the problem): the dashboard's pages do not carry
    /// the filter language's parser in their wasm; `read_number` reads the threshold.
    pub fn from_link(search: &str, read_number: ReadNumber) -> Result<MetricQuery, QueryError> {
        decode(search, |pairs| MetricQuery::read_pairs(pairs, read_number))
    }

    /// Every key read, the filters as written (blank ones dropped).
    fn read_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        read_number: ReadNumber,
    ) -> Result<MetricQuery, QueryError> {
        let mut q = MetricQuery::default();
        for (key, value) in pairs {
            if value.is_empty() {
                continue;
            }
            match key {
                "metric" => q.metric = Metric::parse(value)?,
                "over" => q.over = Over::parse(value)?,
                "group_by" => q.group_by = Some(check_key("group_by", value.trim())?.to_string()),
                "then_by" => q.then_by = Some(check_key("then_by", value.trim())?.to_string()),
                "tag" => q.tags.push(TagFilter::parse(value)?),
                "filter" => q.filter = written_filter(value),
                "trace_filter" => q.trace_filter = written_filter(value),
                "tree_filter" => q.tree_filter = written_filter(value),
                "from" => q.from_ms = Some(parse_ms(key, value)?),
                "to" => q.to_ms = Some(parse_ms(key, value)?),
                "bucket" => q.bucket = Bucket::parse(value)?,
                "statistic" => q.statistic = Some(Statistic::parse(value)?),
                "threshold" => {
                    let t = read_number(value.trim()).ok_or_else(|| {
                        QueryError::new(format!("threshold must be a number, not {value:?}"))
                    })?;
                    if !t.is_finite() {
                        return Err(QueryError::new(format!(
                            "threshold must be a finite number, not {value:?}"
                        )));
                    }
                    q.threshold = Some(t);
                }
                _ => {}
            }
        }
        q.over.check(&q.metric)?;
        if let (Some(from), Some(to)) = (q.from_ms, q.to_ms) {
            if from >= to {
                return Err(QueryError::new(format!(
                    "from ({from}) must be before to ({to})"
                )));
            }
        }
        Ok(q)
    }

    /// The traces in scope: tags, span conditions and the time range given. Over spans,
    /// `filter` selects the spans measured, not their traces, and is left out here.
    pub fn scope(&self, from_ms: Option<i64>, to_ms: Option<i64>) -> crate::TraceQuery {
        crate::TraceQuery {
            tags: self.tags.clone(),
            from_ms,
            to_ms,
            filter: match self.over {
                Over::Traces => self.filter.clone(),
                Over::Spans => None,
            },
            trace_filter: self.trace_filter.clone(),
            tree_filter: self.tree_filter.clone(),
            ..crate::TraceQuery::default()
        }
    }

    /// Parses a raw query string (`a=b&c=d`, percent-encoded).
    pub fn from_query_string(query: &str) -> Result<MetricQuery, QueryError> {
        decode(query, |pairs| MetricQuery::from_pairs(pairs))
    }

    /// The query's pairs in a stable order; `metric` always, the rest when not the default.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("metric", self.metric.to_string())];
        if self.over == Over::Spans {
            pairs.push(("over", self.over.as_str().to_string()));
        }
        if let Some(key) = &self.group_by {
            pairs.push(("group_by", key.clone()));
        }
        if let Some(key) = &self.then_by {
            pairs.push(("then_by", key.clone()));
        }
        pairs.extend(tag_and_time_pairs(&self.tags, self.from_ms, self.to_ms));
        push_filters(
            &mut pairs,
            [&self.filter, &self.trace_filter, &self.tree_filter],
        );
        if self.bucket != Bucket::Auto {
            pairs.push(("bucket", self.bucket.to_string()));
        }
        if let Some(s) = self.statistic {
            pairs.push(("statistic", s.as_str().to_string()));
        }
        if let Some(t) = self.threshold {
            pairs.push(("threshold", crate::format::plain(t)));
        }
        pairs
    }

    /// The percent-encoded query string (without `?`).
    pub fn to_query_string(&self) -> String {
        encode(&self.to_pairs())
    }
}

/// A filter as written, unchecked; blank text is no filter.
fn written_filter(value: &str) -> Option<String> {
    (!value.trim().is_empty()).then(|| value.to_string())
}

fn parse_ms(key: &str, value: &str) -> Result<i64, QueryError> {
    value.trim().parse().map_err(|_| {
        QueryError::new(format!(
            "{key} must be a time in Unix milliseconds, not {value:?}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric_bucket::HOUR_MS;

    #[test]
    fn metric_names_round_trip() {
        for name in Metric::BUILT_IN {
            assert_eq!(Metric::parse(name).unwrap().to_string(), name);
        }
        let m = Metric::parse("feedback:user_satisfaction").unwrap();
        assert_eq!(m, Metric::Feedback("user_satisfaction".into()));
        assert_eq!(m.kind(), MetricKind::Value);
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#""feedback:user_satisfaction""#
        );
        assert_eq!(
            serde_json::from_str::<Metric>(r#""latency_p95""#).unwrap(),
            Metric::LatencyP95
        );
        assert!(serde_json::from_str::<Metric>(r#""speed""#).is_err());
        assert!(Metric::parse("feedback:").unwrap_err().0.contains("metric"));
        assert!(Metric::parse("latency").unwrap_err().0.contains("metric"));
    }

    #[test]
    fn query_round_trips_through_the_url() {
        let q = MetricQuery {
            metric: Metric::Feedback("user satisfaction & more".into()),
            group_by: Some("ab_test_variant".into()),
            tags: vec![
                TagFilter::parse("env=production").unwrap(),
                TagFilter::parse("note=a=b").unwrap(),
            ],
            from_ms: Some(1_700_000_000_000),
            to_ms: Some(1_700_086_400_000),
            bucket: Bucket::Fixed(HOUR_MS),
            filter: Some(r#"eq(model, "gpt-4o")"#.into()),
            trace_filter: Some(r#"eq(name, "agent")"#.into()),
            tree_filter: Some("gt(attr.retrieval.documents, 3)".into()),
            statistic: Some(Statistic::Sum),
            threshold: Some(4.5),
            ..MetricQuery::default()
        };
        let text = q.to_query_string();
        assert!(
            text.starts_with("metric=feedback%3Auser%20satisfaction"),
            "{text}"
        );
        assert!(text.contains("bucket=1h"), "{text}");
        assert_eq!(MetricQuery::from_query_string(&text).unwrap(), q);
        let err = MetricQuery::from_query_string("metric=cost&trace_filter=eq(name,").unwrap_err();
        assert!(err.0.starts_with("trace_filter: "), "{err}");
        assert!(err.0.contains("at character"), "{err}");
        // Unknown keys (the page's project) and empty values are ignored.
        let q = MetricQuery::from_query_string("project=x&metric=cost&group_by=").unwrap();
        assert_eq!(q.metric, Metric::Cost);
        assert_eq!(q.group_by, None);
        assert_eq!(MetricQuery::default().to_query_string(), "metric=count");
    }

    #[test]
    fn bad_values_name_the_parameter() {
        for (text, param) in [
            ("metric=speed", "metric"),
            ("metric=feedback%3A", "metric"),
            ("from=yesterday", "from"),
            ("to=1.5e3x", "to"),
            ("from=10&to=5", "from"),
            ("bucket=3x", "bucket"),
            ("bucket=0h", "bucket"),
            ("bucket=h", "bucket"),
            ("tag=novalue", "key=value"),
            ("statistic=median", "statistic"),
            ("threshold=high", "threshold"),
            ("threshold=inf", "threshold"),
        ] {
            let err = MetricQuery::from_query_string(text).unwrap_err();
            assert!(err.0.contains(param), "{text}: {err}");
        }
        let long = format!("group_by={}", "k".repeat(MAX_KEY_LEN + 1));
        assert!(MetricQuery::from_query_string(&long)
            .unwrap_err()
            .0
            .contains("group_by"));
    }
}
