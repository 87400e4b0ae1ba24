//! Metric charts by tag: the query (`GET /api/v1/metrics?metric=...&group_by=...`, also the
//! dashboard's `/metrics?...` URL) and the aggregates the collector answers with. The browser
//! gets per-group and per-bucket aggregates, quantiles and a histogram, never raw rows; the
//! statistics on top of them (intervals, A/B tests) are in `crate::stats`.
//!
//! The unit of every metric is the trace: latency is the trace's duration, tokens and cost are
//! its totals, the error rate is the share of traces with an error, and `feedback:<key>` is, per
//! trace, the mean score of that trace's feedback with that key (traces without such feedback
//! are left out). A trace belongs to the group of its value of the `group_by` tag, and to the
//! time bucket of its start.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::query::{
    decode, encode, filter_param, push_filters, tag_and_time_pairs, QueryError, TagFilter,
    FILTER_PARAMS,
};
use crate::stats::{self, Interval, MeanDifference, Moments, NotEnoughData, ProportionDifference};

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
            _ => match text.strip_prefix("feedback:") {
                Some(key) => Metric::Feedback(check_key("metric", key)?.to_string()),
                None => {
                    return Err(QueryError::new(format!(
                        "metric must be one of {} or feedback:<key>, not {text:?}",
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
            Metric::ErrorRate | Metric::Feedback(_) => "",
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

fn check_key<'a>(param: &str, key: &'a str) -> Result<&'a str, QueryError> {
    if key.trim().is_empty() || key.len() > MAX_KEY_LEN || key.chars().any(char::is_control) {
        return Err(QueryError::new(format!(
            "{param} needs a key of 1 to {MAX_KEY_LEN} printable characters, not {key:?}"
        )));
    }
    Ok(key)
}

/// The time-bucket size of the series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bucket {
    /// Chosen from `Bucket::LADDER` to give at most `Bucket::AUTO_TARGET` buckets.
    #[default]
    Auto,
    /// Milliseconds; written as `30s`, `5m`, `1h`, `1d`, `1w`.
    Fixed(i64),
}

const SECOND_MS: i64 = 1_000;
const MINUTE_MS: i64 = 60 * SECOND_MS;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
const WEEK_MS: i64 = 7 * DAY_MS;

impl Bucket {
    /// Automatic sizes, smallest first.
    pub const LADDER: [i64; 11] = [
        MINUTE_MS,
        5 * MINUTE_MS,
        15 * MINUTE_MS,
        HOUR_MS,
        3 * HOUR_MS,
        6 * HOUR_MS,
        12 * HOUR_MS,
        DAY_MS,
        WEEK_MS,
        30 * DAY_MS,
        365 * DAY_MS,
    ];
    /// Most buckets an automatic size gives.
    pub const AUTO_TARGET: i64 = 100;
    /// Most buckets a query may ask for.
    pub const MAX_BUCKETS: i64 = 2_000;
    pub const MIN_MS: i64 = SECOND_MS;

    pub fn parse(text: &str) -> Result<Bucket, QueryError> {
        let text = text.trim();
        if text == "auto" {
            return Ok(Bucket::Auto);
        }
        let bad = || {
            QueryError::new(format!(
                "bucket must be auto or a whole number of s, m, h, d or w (1h, 15m, 1d), not {text:?}"
            ))
        };
        let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (number, unit) = text.split_at(split);
        let number: i64 = number.parse().map_err(|_| bad())?;
        let unit_ms = match unit {
            "s" => SECOND_MS,
            "m" => MINUTE_MS,
            "h" => HOUR_MS,
            "d" => DAY_MS,
            "w" => WEEK_MS,
            _ => return Err(bad()),
        };
        match number.checked_mul(unit_ms) {
            Some(ms) if ms >= Bucket::MIN_MS => Ok(Bucket::Fixed(ms)),
            _ => Err(bad()),
        }
    }

    /// The bucket size in ms for a time range `[from_ms, to_ms)`. An explicit size that gives
    /// more than `MAX_BUCKETS` buckets is refused, naming the parameter.
    pub fn resolve(&self, from_ms: i64, to_ms: i64) -> Result<i64, QueryError> {
        let span = to_ms.saturating_sub(from_ms).max(1);
        match *self {
            Bucket::Auto => Ok(Bucket::LADDER
                .iter()
                .copied()
                .find(|&size| bucket_count(from_ms, to_ms, size) <= Bucket::AUTO_TARGET)
                // Beyond a century of data, a bucket per 1/100 of the range.
                .unwrap_or_else(|| span / Bucket::AUTO_TARGET + 1)),
            Bucket::Fixed(size) => {
                let count = bucket_count(from_ms, to_ms, size);
                if count > Bucket::MAX_BUCKETS {
                    return Err(QueryError::new(format!(
                        "bucket {self} splits the time range into {count} buckets, at most {} allowed; choose a larger bucket",
                        Bucket::MAX_BUCKETS
                    )));
                }
                Ok(size)
            }
        }
    }
}

/// Buckets aligned on multiples of `size` since the Unix epoch (UTC) that `[from, to)` touches.
fn bucket_count(from_ms: i64, to_ms: i64, size: i64) -> i64 {
    let first = from_ms.div_euclid(size);
    let last = (to_ms.max(from_ms + 1) - 1).div_euclid(size);
    last - first + 1
}

/// The start (Unix ms) of the bucket holding `time_ms`.
pub fn bucket_start(time_ms: i64, bucket_ms: i64) -> i64 {
    time_ms.div_euclid(bucket_ms.max(1)) * bucket_ms.max(1)
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Bucket::Auto => f.write_str("auto"),
            Bucket::Fixed(ms) => {
                let (unit, size) = [
                    ("w", WEEK_MS),
                    ("d", DAY_MS),
                    ("h", HOUR_MS),
                    ("m", MINUTE_MS),
                    ("s", SECOND_MS),
                ]
                .into_iter()
                .find(|(_, size)| ms % size == 0)
                .unwrap_or(("s", SECOND_MS));
                write!(f, "{}{unit}", ms / size)
            }
        }
    }
}

/// `GET /api/v1/metrics`: which metric, grouped how, over which traces. Every field has a
/// query-string form: `metric`, `group_by`, `tag` (repeated, `key=value`, AND-ed), `from` and `to`
/// (Unix ms, on the trace's start; `to` excluded), `bucket`, `statistic` (the number charts
/// show; the metric's own when absent) and `threshold` (each trace's value becomes 1 when at
/// or above it, else 0: the metric becomes the rate of traces reaching it). `filter` and
/// `tree_filter` keep the traces having a span that passes them, `trace_filter` those whose
/// root span passes it (`crate::filter`), as on the trace list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricQuery {
    pub metric: Metric,
    /// The tag key whose values are the groups; none for one group of all traces.
    pub group_by: Option<String>,
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
        if self.threshold.is_some() {
            ""
        } else {
            self.metric.unit()
        }
    }

    /// Parses decoded query pairs; unknown keys are ignored (they may belong to the page, such
    /// as `project`), and so are empty values. Errors name the parameter.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<MetricQuery, QueryError> {
        let mut q = MetricQuery::read_pairs(pairs)?;
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
    /// the filter language's parser in their wasm.
    pub fn from_link(search: &str) -> Result<MetricQuery, QueryError> {
        decode(search, |pairs| MetricQuery::read_pairs(pairs))
    }

    /// Every key read, the filters as written (blank ones dropped).
    fn read_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<MetricQuery, QueryError> {
        let mut q = MetricQuery::default();
        for (key, value) in pairs {
            if value.is_empty() {
                continue;
            }
            match key {
                "metric" => q.metric = Metric::parse(value)?,
                "group_by" => q.group_by = Some(check_key("group_by", value.trim())?.to_string()),
                "tag" => q.tags.push(TagFilter::parse(value)?),
                "filter" => q.filter = written_filter(value),
                "trace_filter" => q.trace_filter = written_filter(value),
                "tree_filter" => q.tree_filter = written_filter(value),
                "from" => q.from_ms = Some(parse_ms(key, value)?),
                "to" => q.to_ms = Some(parse_ms(key, value)?),
                "bucket" => q.bucket = Bucket::parse(value)?,
                "statistic" => q.statistic = Some(Statistic::parse(value)?),
                "threshold" => {
                    let t: f64 = value.trim().parse().map_err(|_| {
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
        if let (Some(from), Some(to)) = (q.from_ms, q.to_ms) {
            if from >= to {
                return Err(QueryError::new(format!(
                    "from ({from}) must be before to ({to})"
                )));
            }
        }
        Ok(q)
    }

    /// The traces in scope: tags, span conditions and the time range given.
    pub fn scope(&self, from_ms: Option<i64>, to_ms: Option<i64>) -> crate::TraceQuery {
        crate::TraceQuery {
            tags: self.tags.clone(),
            from_ms,
            to_ms,
            filter: self.filter.clone(),
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
        if let Some(key) = &self.group_by {
            pairs.push(("group_by", key.clone()));
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

/// The answer to a `MetricQuery`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricResponse {
    pub metric: Metric,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    pub kind: MetricKind,
    /// The statistic charts of this metric show (`n`, mean, sum or a quantile).
    pub statistic: Statistic,
    /// The query's threshold: the values are 1 for traces at or above it, else 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Unit of the values ("ms", "tokens", "USD", "traces", or "" for rates and scores).
    pub unit: String,
    /// The time range covered: the query's, or where no bound was given, the data's.
    pub from_ms: i64,
    pub to_ms: i64,
    /// Size of the series' buckets; bucket starts are multiples of it since the Unix epoch.
    pub bucket_ms: i64,
    /// Histogram bin edges shared by all groups (bins + 1 ascending edges; bin i is
    /// `[bins[i], bins[i+1])`, the last one closed). Empty for count and rate metrics.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bins: Vec<f64>,
    /// Groups by tag value, largest first; a group's `value` is none for the traces without the
    /// `group_by` tag, or for the single group of all traces when there is no `group_by`.
    pub groups: Vec<MetricGroup>,
    /// Groups left out beyond the `MAX_GROUPS` largest (a `group_by` on a key with many values,
    /// such as a user id).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted_groups: u64,
}

/// Most groups a response carries; the largest are kept.
pub const MAX_GROUPS: usize = 50;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One group's aggregates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricGroup {
    pub value: Option<String>,
    /// Traces with a value (for feedback metrics, traces with a score for the key).
    pub n: u64,
    pub sum: f64,
    pub sum_sq: f64,
    pub mean: f64,
    /// Sample standard deviation; none below two traces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<f64>,
    /// 95% CI of the mean (t-based; Wilson for rates); none for counts and below `stats::MIN_N`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<Interval>,
    /// Exact quantiles; none for count and rate metrics (and when a query spans more traces
    /// than the collector holds values for, 20M).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantiles: Option<Quantiles>,
    /// Counts per bin of `MetricResponse::bins`; none when `quantiles` is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<Histogram>,
    /// Non-empty time buckets, oldest first.
    pub series: Vec<BucketPoint>,
}

impl MetricGroup {
    pub fn moments(&self) -> Moments {
        Moments::new(self.n, self.sum, self.sum_sq)
    }

    /// The number a chart shows for this group.
    pub fn headline(&self, statistic: Statistic) -> Option<f64> {
        match statistic {
            Statistic::Count => Some(self.n as f64),
            Statistic::Mean => Some(self.mean),
            Statistic::P50 => self.quantiles.map(|q| q.p50),
            Statistic::P95 => self.quantiles.map(|q| q.p95),
            Statistic::Sum => Some(self.sum),
            Statistic::P99 => self.quantiles.map(|q| q.p99),
        }
    }
}

/// Exact quantiles of a group's values, interpolated like numpy's default (`stats::quantile_sorted`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    pub min: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Quantiles {
    /// The probabilities of the fields from `p25` to `p99`.
    pub const LEVELS: [f64; 5] = [0.25, 0.5, 0.75, 0.95, 0.99];
}

/// A group's histogram over the shared bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// `counts[i]` values in bin i.
    pub counts: Vec<u64>,
    /// Values above the last edge (the bins stop at the largest group p99, so one far outlier
    /// does not squash every bar into the first bin).
    #[serde(default)]
    pub above: u64,
}

/// One time bucket of a group's series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketPoint {
    /// Bucket start, Unix ms.
    pub start_ms: i64,
    pub n: u64,
    pub mean: f64,
    /// Sum and sum of squares, for an interval per bucket (`BucketPoint::moments`).
    pub sum: f64,
    pub sum_sq: f64,
    /// Exact quantiles in the bucket, when the statistic is a quantile (p50 and p95; p99 too
    /// when it is p99).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
}

impl BucketPoint {
    pub fn moments(&self) -> Moments {
        Moments::new(self.n, self.sum, self.sum_sq)
    }

    /// The number a time series of this metric shows for this bucket.
    pub fn headline(&self, statistic: Statistic) -> Option<f64> {
        match statistic {
            Statistic::Count => Some(self.n as f64),
            Statistic::Mean => Some(self.mean),
            Statistic::P50 => self.p50,
            Statistic::P95 => self.p95,
            Statistic::Sum => Some(self.sum),
            Statistic::P99 => self.p99,
        }
    }
}

/// The A/B comparison of two groups: Welch's t-test for values, the two-proportion z-test for
/// rates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "test", rename_all = "snake_case")]
pub enum Comparison {
    Welch(MeanDifference),
    TwoProportion(ProportionDifference),
}

impl Comparison {
    pub fn p_value(&self) -> f64 {
        match self {
            Comparison::Welch(d) => d.p_value,
            Comparison::TwoProportion(d) => d.p_value,
        }
    }

    pub fn ci(&self) -> Interval {
        match self {
            Comparison::Welch(d) => d.ci,
            Comparison::TwoProportion(d) => d.ci,
        }
    }

    /// `a − b`.
    pub fn difference(&self) -> f64 {
        match self {
            Comparison::Welch(d) => d.difference,
            Comparison::TwoProportion(d) => d.difference,
        }
    }
}

/// Compares group `a` with group `b` (difference `a − b`) with the test that fits the metric.
/// None for count metrics, which have nothing to test; `Err` below the minimum n.
///
/// For the latency p50/p95 metrics this compares the means: a test of a quantile difference
/// needs the raw values (or a bootstrap over them), which the browser does not have.
pub fn compare(
    kind: MetricKind,
    a: &MetricGroup,
    b: &MetricGroup,
) -> Option<Result<Comparison, NotEnoughData>> {
    match kind {
        MetricKind::Count => None,
        MetricKind::Rate => Some(
            stats::two_proportion_z_test(rate_successes(a), a.n, rate_successes(b), b.n)
                .map(Comparison::TwoProportion),
        ),
        MetricKind::Value => {
            Some(stats::welch_t_test(&a.moments(), &b.moments()).map(Comparison::Welch))
        }
    }
}

/// A rate group's successes: its values are 0 or 1, so the sum counts them.
fn rate_successes(g: &MetricGroup) -> u64 {
    g.sum.round().max(0.0) as u64
}

/// The confidence interval of a group's mean as the collector fills `MetricGroup::ci`.
pub fn group_ci(kind: MetricKind, moments: &Moments) -> Option<Interval> {
    match kind {
        MetricKind::Count => None,
        MetricKind::Rate => stats::wilson_ci(moments.sum.round().max(0.0) as u64, moments.n).ok(),
        MetricKind::Value => stats::mean_ci(moments).ok(),
    }
}

/// Histogram edges with a "nice" bin width (1, 2 or 5 × 10ᵏ) covering `[low, high]` in about
/// `target` bins (never more than 2·`target`). The first edge is a multiple of the width at or
/// below `low`; the last is at or above `high`. Empty if a bound is not finite.
pub fn nice_bins(low: f64, high: f64, target: usize) -> Vec<f64> {
    if !low.is_finite() || !high.is_finite() {
        return Vec::new();
    }
    let (low, high) = if low <= high {
        (low, high)
    } else {
        (high, low)
    };
    let target = target.max(1) as f64;
    let span = if high > low {
        high - low
    } else {
        low.abs().max(1.0)
    };
    let raw = span / target;
    // width = mantissa · 10^exponent, kept apart so that edges are computed as an integer
    // times or over an exact power of ten: 3 · 5 / 100 is the double nearest 0.15, where
    // 3 · 0.05 is 0.15000000000000002.
    let exponent = raw.log10().floor() as i32;
    let magnitude = 10f64.powi(exponent);
    let mantissa = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|m| m * magnitude >= raw * (1.0 - 1e-12))
        .unwrap_or(10.0);
    let edge = |k: f64| {
        if exponent >= 0 {
            k * mantissa * magnitude
        } else {
            k * mantissa / 10f64.powi(-exponent)
        }
    };
    let width = mantissa * magnitude;
    let first = (low / width).floor();
    let mut count = ((high / width) - first).ceil().max(1.0) as usize;
    // Rounding can leave `high` just past the last edge.
    if edge(first + count as f64) < high {
        count += 1;
    }
    (0..=count).map(|i| edge(first + i as f64)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn buckets_parse_print_and_resolve() {
        assert_eq!(Bucket::parse("15m").unwrap(), Bucket::Fixed(15 * MINUTE_MS));
        assert_eq!(Bucket::parse("1d").unwrap().to_string(), "1d");
        assert_eq!(Bucket::Fixed(90 * MINUTE_MS).to_string(), "90m");
        assert_eq!(Bucket::Fixed(WEEK_MS).to_string(), "1w");
        assert_eq!(Bucket::parse("auto").unwrap(), Bucket::Auto);
        assert!(Bucket::parse("99999999999999999w").is_err());

        // Seven days: 3 h buckets are the first to give at most 100.
        let week = 7 * DAY_MS;
        assert_eq!(Bucket::Auto.resolve(0, week).unwrap(), 3 * HOUR_MS);
        assert_eq!(Bucket::Auto.resolve(0, 30 * MINUTE_MS).unwrap(), MINUTE_MS);
        assert_eq!(Bucket::Fixed(HOUR_MS).resolve(0, week).unwrap(), HOUR_MS);
        let err = Bucket::Fixed(MINUTE_MS).resolve(0, week).unwrap_err();
        assert!(err.0.contains("bucket"), "{err}");
        // Buckets are aligned to the epoch, so a range straddling an edge touches two.
        assert_eq!(bucket_count(HOUR_MS - 1, HOUR_MS + 1, HOUR_MS), 2);
        assert_eq!(bucket_start(-1, HOUR_MS), -HOUR_MS);
        assert_eq!(bucket_start(2 * HOUR_MS + 5, HOUR_MS), 2 * HOUR_MS);
    }

    #[test]
    fn nice_bins_cover_the_range() {
        let bins = nice_bins(0.03, 0.98, 30);
        assert_eq!(bins.first().copied(), Some(0.0));
        assert!(*bins.last().unwrap() >= 0.98);
        assert_eq!(bins.len(), 21, "{bins:?}"); // width 0.05
                                                // Edges are the doubles nearest the decimals, not sums of rounded widths.
        assert_eq!(bins[3], 0.15);
        assert_eq!(bins[14], 0.7);
        let bins = nice_bins(812.0, 18_250.0, 30);
        let width = bins[1] - bins[0];
        assert_eq!(width, 1000.0);
        assert_eq!(bins[0], 0.0);
        assert!(*bins.last().unwrap() >= 18_250.0 && bins.len() <= 61);
        // One value: one bin around it.
        let bins = nice_bins(5.0, 5.0, 30);
        assert!(bins[0] <= 5.0 && *bins.last().unwrap() >= 5.0 && bins.len() >= 2);
        assert!(nice_bins(f64::NAN, 1.0, 30).is_empty());
    }

    fn group(n: u64, values: &[f64]) -> MetricGroup {
        let m = Moments::from_values(values);
        assert_eq!(m.n, n);
        MetricGroup {
            value: None,
            n,
            sum: m.sum,
            sum_sq: m.sum_sq,
            mean: m.mean().unwrap_or(0.0),
            sd: m.sd(),
            ci: None,
            quantiles: None,
            histogram: None,
            series: Vec::new(),
        }
    }

    #[test]
    fn compare_picks_the_test_of_the_metric() {
        let a: Vec<f64> = (0..40).map(|i| f64::from(i % 2)).collect();
        let b: Vec<f64> = (0..40).map(|i| f64::from(u8::from(i % 4 == 0))).collect();
        let (ga, gb) = (group(40, &a), group(40, &b));
        assert!(compare(MetricKind::Count, &ga, &gb).is_none());
        match compare(MetricKind::Rate, &ga, &gb) {
            Some(Ok(Comparison::TwoProportion(d))) => {
                assert_eq!(d.rate_a, 0.5);
                assert_eq!(d.rate_b, 0.25);
            }
            other => panic!("{other:?}"),
        }
        match compare(MetricKind::Value, &ga, &gb) {
            Some(Ok(Comparison::Welch(d))) => assert!((d.difference - 0.25).abs() < 1e-12),
            other => panic!("{other:?}"),
        }
        let small = group(3, &[1.0, 2.0, 3.0]);
        assert!(matches!(
            compare(MetricKind::Value, &small, &ga),
            Some(Err(NotEnoughData::TooFew { .. }))
        ));
        assert!(group_ci(MetricKind::Rate, &ga.moments()).is_some());
        assert!(group_ci(MetricKind::Count, &ga.moments()).is_none());
    }

    #[test]
    fn response_serialises_compactly() {
        let g = group(2, &[1.0, 3.0]);
        let json = serde_json::to_value(&g).unwrap();
        assert_eq!(json["n"], 2);
        assert!(json.get("ci").is_none() && json.get("quantiles").is_none());
        let back: MetricGroup = serde_json::from_value(json).unwrap();
        assert_eq!(back, g);
    }
}
