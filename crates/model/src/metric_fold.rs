//! How a metric's values are aggregated into its answer: count, sum and sum of squares per
//! group and time bucket, exact quantiles (numpy's "linear" rule, `stats::quantile_sorted`) and
//! exact histogram counts over bins shared by the groups, and for the latency p50/p95 metrics
//! the exact p50/p95 of every bucket. The one rule every store engine applies: an engine selects
//! the traces in scope and their values; this decides what the answer says about them.

use std::collections::HashMap;

use crate::metrics::{
    group_ci, nice_bins, BucketPoint, Histogram, MetricGroup, MetricKind, MetricQuery,
    MetricResponse, Quantiles, Statistic, MAX_GROUPS,
};
use crate::query::QueryError;
use crate::stats::{quantile_sorted, Moments};

/// About this many histogram bins (`metrics::nice_bins` picks a round width).
const TARGET_BINS: usize = 30;

/// Most values kept for quantiles and histograms (8 bytes each, twice with per-bucket
/// quantiles). Beyond, the distributions are left out (the counts, sums and intervals stay)
/// rather than risk the collector's memory on one request.
pub const MAX_DISTRIBUTION_VALUES: usize = 20_000_000;

/// Nanoseconds per millisecond.
const MS_NS: i64 = 1_000_000;

/// A metric query's range (Unix ms, `to` excluded), with the data's bounds where the query
/// gives none: `first_ns` and `last_ns` are the project's first and last trace start.
pub fn resolve_range(q: &MetricQuery, first_ns: Option<i64>, last_ns: Option<i64>) -> (i64, i64) {
    let to = q
        .to_ms
        .or(last_ns.map(|ns| ns.div_euclid(MS_NS).saturating_add(1)))
        .unwrap_or(1)
        // Room for a `from` before it, so the range is never empty.
        .max(i64::MIN + 1);
    let from = q
        .from_ms
        .or(first_ns.map(|ns| ns.div_euclid(MS_NS)))
        .unwrap_or(to.saturating_sub(1))
        .min(to.saturating_sub(1));
    (from, to)
}

/// What an engine needs before it streams a query's values: the range (Unix ms, `to`
/// excluded), the bucket size and the accumulator, for data whose first and last start (ns)
/// are `first_ns` and `last_ns`. A bucket giving too many buckets is the error.
pub fn prepare(
    q: &MetricQuery,
    first_ns: Option<i64>,
    last_ns: Option<i64>,
) -> Result<(i64, i64, i64, MetricAccumulator), QueryError> {
    let (from_ms, to_ms) = resolve_range(q, first_ns, last_ns);
    let bucket_ms = q.bucket.resolve(from_ms, to_ms)?;
    Ok((
        from_ms,
        to_ms,
        bucket_ms,
        MetricAccumulator::for_query(q, bucket_ms),
    ))
}

/// One group being aggregated.
struct GroupAcc {
    value: Option<String>,
    then: Option<String>,
    buckets: HashMap<i64, Moments>,
    values: Vec<f64>,
    bucket_values: HashMap<i64, Vec<f64>>,
}

/// Aggregates a metric's values (one per trace: its group, its start, its value) as an
/// engine streams them by, into what `GET /api/v1/metrics` answers.
pub struct MetricAccumulator {
    bucket_ns: i64,
    bucket_ms: i64,
    keep_values: bool,
    per_bucket: bool,
    /// Also each bucket's p99 (only when the query's statistic is p99, so that the answers
    /// of the other statistics stay as they were).
    bucket_p99: bool,
    /// Values at or above it count 1, others 0 (`MetricQuery::threshold`).
    threshold: Option<f64>,
    kept: usize,
    /// Groups by `pair_key` of their values.
    slot_of: HashMap<Vec<u8>, usize>,
    /// The key being looked up, reused (no allocation per value).
    scratch: Vec<u8>,
    groups: Vec<GroupAcc>,
}

/// Byte that cannot occur in UTF-8: it ends the first value in a pair's key.
const SEPARATOR: u8 = 0xFF;

/// One key for a pair of optional values: a marker byte (0 none, 1 some) and the bytes of
/// each, the first ended by `SEPARATOR`.
fn pair_key(out: &mut Vec<u8>, group: Option<&[u8]>, then: Option<&[u8]>) {
    out.clear();
    for (i, part) in [group, then].into_iter().enumerate() {
        out.push(u8::from(part.is_some()));
        out.extend_from_slice(part.unwrap_or_default());
        if i == 0 {
            out.push(SEPARATOR);
        }
    }
}

impl MetricAccumulator {
    pub fn new(bucket_ms: i64, keep_values: bool, per_bucket: bool) -> MetricAccumulator {
        MetricAccumulator {
            bucket_ns: bucket_ms.saturating_mul(MS_NS).max(1),
            bucket_ms: bucket_ms.max(1),
            keep_values,
            per_bucket,
            bucket_p99: false,
            threshold: None,
            kept: 0,
            slot_of: HashMap::new(),
            scratch: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// The accumulator for a query: values kept for quantiles when they are values, per
    /// bucket when the statistic is a quantile, thresholded when the query has a threshold.
    pub fn for_query(q: &MetricQuery, bucket_ms: i64) -> MetricAccumulator {
        let statistic = q.statistic();
        let mut acc = MetricAccumulator::new(
            bucket_ms,
            q.kind() == MetricKind::Value,
            statistic.is_quantile(),
        );
        acc.bucket_p99 = statistic == Statistic::P99;
        acc.threshold = q.threshold;
        acc
    }

    fn new_group(&mut self, value: Option<String>, then: Option<String>) -> usize {
        self.groups.push(GroupAcc {
            value,
            then,
            buckets: HashMap::new(),
            values: Vec::new(),
            bucket_values: HashMap::new(),
        });
        self.groups.len() - 1
    }

    /// The group of a tag value and of a `then_by` value (their UTF-8 bytes, as an engine
    /// hands them out without copying); `None` for a value missing.
    fn slot(&mut self, group: Option<&[u8]>, then: Option<&[u8]>) -> usize {
        let mut key = std::mem::take(&mut self.scratch);
        pair_key(&mut key, group, then);
        let slot = match self.slot_of.get(key.as_slice()) {
            Some(&slot) => slot,
            None => {
                let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
                let slot = self.new_group(group.map(text), then.map(text));
                self.slot_of.insert(key.clone(), slot);
                slot
            }
        };
        self.scratch = key;
        slot
    }

    pub fn add(&mut self, group: Option<&[u8]>, start_ns: i64, value: f64) {
        self.add_pair(group, None, start_ns, value);
    }

    /// `add` for a query with a `then_by`: the value's group is the pair.
    pub fn add_pair(
        &mut self,
        group: Option<&[u8]>,
        then: Option<&[u8]>,
        start_ns: i64,
        value: f64,
    ) {
        self.add_values(group, then, start_ns, &[value]);
    }

    /// `add_pair` of many values with the same pair and start (bucket): the group and bucket
    /// are looked up once, not once a value (an engine that gathers each group's values per
    /// bucket hands them over so).
    pub fn add_values(
        &mut self,
        group: Option<&[u8]>,
        then: Option<&[u8]>,
        start_ns: i64,
        values: &[f64],
    ) {
        let threshold = self.threshold;
        // A non-finite value (an infinite cost from a broken client) would turn every sum it
        // joins into inf or NaN, which JSON cannot carry: it is left out.
        let counted = values
            .iter()
            .filter(|v| v.is_finite())
            .map(|&v| match threshold {
                Some(t) => f64::from(u8::from(v >= t)),
                None => v,
            });
        let slot = self.slot(group, then);
        let bucket = start_ns.div_euclid(self.bucket_ns);
        let g = &mut self.groups[slot];
        let moments = g.buckets.entry(bucket).or_default();
        counted.clone().for_each(|v| moments.push(v));
        if self.keep_values && self.kept < MAX_DISTRIBUTION_VALUES {
            let room = MAX_DISTRIBUTION_VALUES - self.kept;
            let before = g.values.len();
            g.values.extend(counted.take(room));
            let added = g.values.len() - before;
            self.kept += added;
            if self.per_bucket {
                g.bucket_values
                    .entry(bucket)
                    .or_default()
                    .extend_from_slice(&g.values[before..]);
            }
        }
    }

    /// The answer to `q` over the range `[from_ms, to_ms)` in buckets of `bucket_ms`, from the
    /// values added (`finish`).
    pub fn response(
        self,
        q: &MetricQuery,
        from_ms: i64,
        to_ms: i64,
        bucket_ms: i64,
    ) -> MetricResponse {
        let kind = q.kind();
        let (groups, omitted_groups, bins) = self.finish(kind);
        MetricResponse {
            metric: q.metric.clone(),
            over: q.over,
            group_by: q.group_by.clone(),
            then_by: q.then_by.clone(),
            kind,
            statistic: q.statistic(),
            threshold: q.threshold,
            unit: q.unit().to_string(),
            from_ms,
            to_ms,
            bucket_ms,
            bins,
            groups,
            omitted_groups,
        }
    }

    /// The groups, largest first and at most `MAX_GROUPS` of them (with how many were left
    /// out), and the shared histogram bins.
    pub fn finish(self, kind: MetricKind) -> (Vec<MetricGroup>, u64, Vec<f64>) {
        let complete = self.kept < MAX_DISTRIBUTION_VALUES;
        let bucket_ms = self.bucket_ms;
        let bucket_p99 = self.bucket_p99;
        let mut accs = self.groups;
        // Largest first; traces without the tag after tagged groups of the same size.
        let size = |g: &GroupAcc| g.buckets.values().map(|m| m.n).sum::<u64>();
        accs.sort_by_cached_key(|g| {
            (
                std::cmp::Reverse(size(g)),
                g.value.is_none(),
                g.value.clone(),
                g.then.is_none(),
                g.then.clone(),
            )
        });
        let omitted = accs.len().saturating_sub(MAX_GROUPS) as u64;
        accs.truncate(MAX_GROUPS);

        let mut groups = Vec::with_capacity(accs.len());
        let mut sorted_values = Vec::with_capacity(accs.len());
        for mut acc in accs {
            let mut buckets: Vec<(i64, Moments)> = acc.buckets.into_iter().collect();
            buckets.sort_unstable_by_key(|(b, _)| *b);
            let mut total = Moments::default();
            let series = buckets
                .iter()
                .map(|(b, m)| {
                    total.merge(m);
                    let mut point = BucketPoint {
                        start_ms: b.saturating_mul(bucket_ms),
                        n: m.n,
                        mean: m.mean().unwrap_or(0.0),
                        sum: m.sum,
                        sum_sq: m.sum_sq,
                        p50: None,
                        p95: None,
                        p99: None,
                    };
                    if let (true, Some(vals)) = (complete, acc.bucket_values.get_mut(b)) {
                        vals.sort_unstable_by(f64::total_cmp);
                        point.p50 = quantile_sorted(vals, 0.5);
                        point.p95 = quantile_sorted(vals, 0.95);
                        if bucket_p99 {
                            point.p99 = quantile_sorted(vals, 0.99);
                        }
                    }
                    point
                })
                .collect();
            acc.values.sort_unstable_by(f64::total_cmp);
            let quantiles = if complete {
                quantiles(&acc.values)
            } else {
                None
            };
            groups.push(MetricGroup {
                value: acc.value,
                then: acc.then,
                n: total.n,
                sum: total.sum,
                sum_sq: total.sum_sq,
                mean: total.mean().unwrap_or(0.0),
                sd: total.sd(),
                ci: group_ci(kind, &total),
                quantiles,
                histogram: None,
                series,
            });
            sorted_values.push(acc.values);
        }
        let bins = shared_bins(&groups);
        if !bins.is_empty() {
            for (g, vals) in groups.iter_mut().zip(&sorted_values) {
                g.histogram = Some(histogram(vals, &bins));
            }
        }
        (groups, omitted, bins)
    }
}

fn quantiles(sorted: &[f64]) -> Option<Quantiles> {
    let at = |q| quantile_sorted(sorted, q);
    Some(Quantiles {
        min: at(0.0)?,
        p25: at(0.25)?,
        p50: at(0.5)?,
        p75: at(0.75)?,
        p95: at(0.95)?,
        p99: at(0.99)?,
        max: at(1.0)?,
    })
}

/// Bins from the smallest value of any group to the largest group p99: a single far outlier
/// would otherwise squash every other value into the first bar. None without quantiles.
fn shared_bins(groups: &[MetricGroup]) -> Vec<f64> {
    let low = groups
        .iter()
        .filter_map(|g| g.quantiles.map(|q| q.min))
        .fold(f64::INFINITY, f64::min);
    let high = groups
        .iter()
        .filter_map(|g| g.quantiles.map(|q| q.p99))
        .fold(f64::NEG_INFINITY, f64::max);
    nice_bins(low, high, TARGET_BINS)
}

/// Exact counts of sorted values per bin: bin i is [edge i, edge i+1), the last one closed;
/// values past the last edge are `above`.
fn histogram(sorted: &[f64], edges: &[f64]) -> Histogram {
    let below = |edge: f64| sorted.partition_point(|v| *v < edge);
    let last = edges.len() - 1;
    let within = sorted.partition_point(|v| *v <= edges[last]);
    let mut counts = Vec::with_capacity(last);
    for i in 0..last {
        let end = if i + 1 == last {
            within
        } else {
            below(edges[i + 1])
        };
        // The first bin also takes any value a rounding of the first edge left below it.
        let start = if i == 0 { 0 } else { below(edges[i]) };
        counts.push(end.saturating_sub(start) as u64);
    }
    Histogram {
        counts,
        above: (sorted.len() - within) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricQuery;

    fn answer(query: &str, values: &[(&str, i64, f64)]) -> MetricResponse {
        let q = MetricQuery::from_query_string(query).unwrap();
        let mut acc = MetricAccumulator::for_query(&q, 1000);
        for (group, start_ms, v) in values {
            acc.add(Some(group.as_bytes()), start_ms * MS_NS, *v);
        }
        acc.response(&q, 0, 10_000, 1000)
    }

    #[test]
    fn the_statistic_is_the_querys_and_sums_are_per_bucket() {
        let values = [
            ("A", 0, 150.0),
            ("A", 500, 0.0),
            ("A", 1500, 150.0),
            ("B", 0, 20.0),
        ];
        let r = answer("metric=cost&group_by=v&statistic=sum", &values);
        assert_eq!(r.statistic, Statistic::Sum);
        let a = &r.groups[0];
        assert_eq!(a.headline(Statistic::Sum), Some(300.0));
        let sums: Vec<f64> = a.series.iter().map(|p| p.sum).collect();
        assert_eq!(sums, [150.0, 150.0]);
        assert_eq!(a.series[0].p99, None);
        // Without a statistic, the metric's own, and no per-bucket quantiles for a mean.
        let r = answer("metric=cost&group_by=v", &values);
        assert_eq!(r.statistic, Statistic::Mean);
        assert_eq!(r.groups[0].series[0].p50, None);
        // p99 per bucket only when asked for.
        let r = answer("metric=cost&group_by=v&statistic=p99", &values);
        let p99 = r.groups[0].series[0].p99.unwrap();
        assert!((p99 - crate::stats::quantile_sorted(&[0.0, 150.0], 0.99).unwrap()).abs() < 1e-12);
        assert_eq!(
            r.groups[0].headline(Statistic::P99),
            r.groups[0].quantiles.map(|q| q.p99)
        );
    }

    #[test]
    fn a_threshold_makes_a_rate_of_values_reaching_it() {
        let values = [("A", 0, 3.0), ("A", 0, 4.0), ("A", 0, 5.0), ("A", 0, 4.5)];
        let r = answer("metric=feedback%3Ascore&threshold=4.5", &values);
        assert_eq!(r.kind, MetricKind::Rate);
        assert_eq!(r.threshold, Some(4.5));
        assert_eq!(r.unit, "");
        let g = &r.groups[0];
        assert_eq!((g.n, g.sum), (4, 2.0));
        assert_eq!(g.mean, 0.5);
        assert!(g.quantiles.is_none(), "a rate has no quantiles");
    }

    #[test]
    fn then_by_splits_each_group_into_pairs() {
        let q = MetricQuery::from_query_string("metric=cost&group_by=v&then_by=tier").unwrap();
        let mut acc = MetricAccumulator::for_query(&q, 1000);
        for (v, tier, value) in [
            (Some("A"), Some("free"), 1.0),
            (Some("A"), Some("free"), 3.0),
            (Some("A"), Some("pro"), 5.0),
            (Some("B"), None, 7.0),
            // A value whose bytes run on into the other's must not share its key.
            (Some("Afree"), None, 9.0),
        ] {
            acc.add_pair(v.map(str::as_bytes), tier.map(str::as_bytes), 0, value);
        }
        let r = acc.response(&q, 0, 10_000, 1000);
        assert_eq!(r.then_by.as_deref(), Some("tier"));
        let pairs: Vec<(Option<&str>, Option<&str>, u64, f64)> = r
            .groups
            .iter()
            .map(|g| (g.value.as_deref(), g.then.as_deref(), g.n, g.sum))
            .collect();
        assert_eq!(
            pairs,
            [
                (Some("A"), Some("free"), 2, 4.0),
                (Some("A"), Some("pro"), 1, 5.0),
                (Some("Afree"), None, 1, 9.0),
                (Some("B"), None, 1, 7.0),
            ]
        );
    }

    #[test]
    fn values_added_at_once_answer_as_added_one_by_one() {
        let q = MetricQuery::from_query_string("metric=latency_p95&group_by=env").unwrap();
        let mut one = MetricAccumulator::for_query(&q, 60_000);
        let mut many = MetricAccumulator::for_query(&q, 60_000);
        let values = [3.0, f64::NAN, 1.0, 7.5, f64::INFINITY, 2.0];
        for (start, group) in [(0, Some(&b"a"[..])), (61_000_000_000, None)] {
            for v in values {
                one.add_pair(group, None, start, v);
            }
            many.add_values(group, None, start, &values);
        }
        let (a, b) = (one.finish(q.kind()), many.finish(q.kind()));
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_eq!(a.0.len(), 2);
    }
}
