//! The answer to a metric query: aggregates per group and time bucket, their quantiles and
//! histograms, and the A/B comparison of two groups drawn from them.

use serde::{Deserialize, Serialize};

use crate::metrics::{Metric, MetricKind, Over, Statistic};
use crate::stats::{self, Interval, MeanDifference, Moments, NotEnoughData, ProportionDifference};

/// The answer to a `MetricQuery`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricResponse {
    pub metric: Metric,
    /// What was measured: traces, or spans.
    #[serde(default, skip_serializing_if = "Over::is_traces")]
    pub over: Over,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// The second key splitting each group (`MetricGroup::then`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then_by: Option<String>,
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
    /// The group's value of the query's `then_by` key (none without it, or without the key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<String>,
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
    /// The group of these values (no CI, quantiles or series): for tests and examples.
    pub fn of_values(value: Option<String>, then: Option<String>, values: &[f64]) -> MetricGroup {
        let m = Moments::from_values(values);
        MetricGroup {
            value,
            then,
            n: m.n,
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
        let g = MetricGroup::of_values(None, None, values);
        assert_eq!(g.n, n);
        g
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
