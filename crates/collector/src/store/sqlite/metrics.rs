//! `Store::metrics` on SQLite, and the per-trace feedback summary of the trace list.
//!
//! A metric query is a few statements over one "base" row set — one row per trace in scope:
//! its group (the `group_by` tag's value), its start and its value — all in one read
//! transaction, so they agree with each other while spans keep arriving:
//! 1. aggregates per group and time bucket, in SQL: count, sum, sum of squares (`GROUP BY`);
//! 2. exact quantiles per group: a window over the values sorted per group (`row_number()`)
//!    returns only the rows at the ranks the quantiles interpolate between (numpy's "linear"
//!    method), so no raw rows leave SQLite; for the latency p50/p95 metrics, the same per
//!    group and bucket for the time series;
//! 3. a histogram per group over shared bins, in SQL (`GROUP BY group, bin`): "nice" bins from
//!    the smallest value to the largest group p99, with the values beyond counted apart. Its
//!    counts are exact; quantiles do not come from it.
//!
//! Count and error-rate metrics need only step 1. Steps 2 and 3 each re-run the base query
//! and sort or group it; the base query reads `traces` by `traces_by_start` (the time range),
//! the group's tag by the `trace_tags` primary key, and for feedback metrics `feedback` by
//! `feedback_by_key`.

use std::collections::{BTreeMap, HashMap};

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use skein_model::metrics::{
    self, BucketPoint, Histogram, Metric, MetricGroup, MetricKind, MetricQuery, MetricResponse,
    Quantiles, Statistic, MAX_GROUPS,
};
use skein_model::stats::{quantile_ranks, Moments};
use skein_model::trace::FeedbackStat;
use skein_model::{TraceQuery, TraceSummary};

use super::trace_filter;
use crate::store::{StoreError, StoreResult};

/// About this many histogram bins (`metrics::nice_bins` picks a round width).
const TARGET_BINS: usize = 30;

/// Nanoseconds per millisecond.
const MS_NS: i64 = 1_000_000;

type GroupKey = Option<String>;

pub(super) fn metrics(
    conn: &Connection,
    project: &str,
    q: &MetricQuery,
) -> StoreResult<MetricResponse> {
    // One read transaction: every statement sees the same snapshot, so the ranks a quantile
    // needs and the rows fetched at those ranks come from the same data.
    let tx = conn.unchecked_transaction()?;
    let (from_ms, to_ms) = time_range(&tx, project, q)?;
    let bucket_ms = q
        .bucket
        .resolve(from_ms, to_ms)
        .map_err(|e| StoreError::Invalid(e.0))?;
    let base = Base::new(project, q, from_ms, to_ms);
    let kind = q.metric.kind();

    let (mut groups, omitted_groups) = aggregate(&tx, &base, bucket_ms)?;
    let mut bins = Vec::new();
    if kind == MetricKind::Value && !groups.is_empty() {
        let quantiles = group_quantiles(&tx, &base)?;
        for g in &mut groups {
            g.quantiles = quantiles.get(&g.value).copied();
        }
        bins = shared_bins(&groups);
        if !bins.is_empty() {
            let histograms = histograms(&tx, &base, &bins)?;
            for g in &mut groups {
                g.histogram =
                    Some(
                        histograms
                            .get(&g.value)
                            .cloned()
                            .unwrap_or_else(|| Histogram {
                                counts: vec![0; bins.len() - 1],
                                above: 0,
                            }),
                    );
            }
        }
        if matches!(q.metric.statistic(), Statistic::P50 | Statistic::P95) {
            bucket_quantiles(&tx, &base, bucket_ms, &mut groups)?;
        }
    }
    for g in &mut groups {
        g.ci = metrics::group_ci(kind, &g.moments());
    }
    Ok(MetricResponse {
        metric: q.metric.clone(),
        group_by: q.group_by.clone(),
        kind,
        statistic: q.metric.statistic(),
        unit: q.metric.unit().to_string(),
        from_ms,
        to_ms,
        bucket_ms,
        bins,
        groups,
        omitted_groups,
    })
}

/// The query's range, with the data's first and last trace start where it gives no bound.
fn time_range(conn: &Connection, project: &str, q: &MetricQuery) -> StoreResult<(i64, i64)> {
    if let (Some(from), Some(to)) = (q.from_ms, q.to_ms) {
        return Ok((from, to));
    }
    // min/max over `traces_by_start`: two index seeks.
    let (first, last): (Option<i64>, Option<i64>) = conn
        .prepare_cached("SELECT min(start_ns), max(start_ns) FROM traces WHERE project = ?1")?
        .query_row([project], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((None, None));
    let to = q
        .to_ms
        .or(last.map(|ns| ns.div_euclid(MS_NS) + 1))
        .unwrap_or(1);
    let from = q
        .from_ms
        .or(first.map(|ns| ns.div_euclid(MS_NS)))
        .unwrap_or(to - 1)
        .min(to - 1);
    Ok((from, to))
}

/// The base row set as a subquery: `grp` (the group tag's value, NULL without one), `ts` (the
/// trace's start, ns) and `val` (the metric's value for the trace, REAL so sums of squares of
/// token counts cannot overflow 64-bit integers).
struct Base {
    sql: String,
    args: Vec<SqlValue>,
}

impl Base {
    fn new(project: &str, q: &MetricQuery, from_ms: i64, to_ms: i64) -> Base {
        let mut args: Vec<SqlValue> = Vec::new();
        let value = match &q.metric {
            Metric::Count => "1.0",
            Metric::ErrorRate => "CASE WHEN t.error_count > 0 THEN 1.0 ELSE 0.0 END",
            Metric::LatencyP50 | Metric::LatencyP95 | Metric::LatencyMean => "t.duration_ns / 1e6",
            Metric::InputTokens => "CAST(t.input_tokens AS REAL)",
            Metric::OutputTokens => "CAST(t.output_tokens AS REAL)",
            Metric::TotalTokens => "CAST(t.input_tokens + t.output_tokens AS REAL)",
            Metric::Cost => "CAST(t.cost AS REAL)",
            Metric::Feedback(_) => "v.score",
        };
        let source = match &q.metric {
            Metric::Feedback(key) => {
                // Per trace, the mean score of its feedback with this key. Feedback posted with
                // only a run id (the LangSmith SDK's create_feedback) reaches its trace through
                // the run's span.
                for _ in 0..2 {
                    args.push(project.to_string().into());
                    args.push(key.clone().into());
                }
                args.push(project.to_string().into());
                "(SELECT trace_id, avg(score) AS score FROM ( \
                   SELECT f.trace_id AS trace_id, f.score AS score FROM feedback f \
                   WHERE f.project = ? AND f.key = ? AND f.score IS NOT NULL \
                     AND f.trace_id IS NOT NULL \
                   UNION ALL \
                   SELECT s.trace_id, f.score FROM feedback f \
                   JOIN spans s ON s.span_id = f.run_id AND s.project = f.project \
                   WHERE f.project = ? AND f.key = ? AND f.score IS NOT NULL \
                     AND f.trace_id IS NULL \
                 ) GROUP BY trace_id) v \
                 JOIN traces t ON t.project = ? AND t.trace_id = v.trace_id"
            }
            _ => "traces t",
        };
        let (group, join) = match &q.group_by {
            Some(key) => {
                args.push(key.clone().into());
                (
                    "g.value",
                    " LEFT JOIN trace_tags g ON g.project = t.project \
                     AND g.trace_id = t.trace_id AND g.key = ?",
                )
            }
            None => ("NULL", ""),
        };
        let scope = TraceQuery {
            tags: q.tags.clone(),
            from_ms: Some(from_ms),
            to_ms: Some(to_ms),
            ..TraceQuery::default()
        };
        let (filter, filter_args) = trace_filter(project, &scope);
        args.extend(filter_args);
        Base {
            sql: format!(
                "SELECT {group} AS grp, t.start_ns AS ts, {value} AS val \
                 FROM {source}{join} WHERE {filter}"
            ),
            args,
        }
    }

    /// The placeholder for the i-th (0-based) extra parameter after the base's own.
    fn param(&self, i: usize) -> String {
        format!("?{}", self.args.len() + 1 + i)
    }

    fn args_with(&self, extra: impl IntoIterator<Item = SqlValue>) -> Vec<SqlValue> {
        self.args.iter().cloned().chain(extra).collect()
    }
}

/// Step 1: count, sum and sum of squares per group and bucket, merged into groups (they are
/// additive). Keeps the `MAX_GROUPS` largest groups; returns how many were left out.
fn aggregate(
    conn: &Connection,
    base: &Base,
    bucket_ms: i64,
) -> StoreResult<(Vec<MetricGroup>, u64)> {
    let sql = format!(
        "WITH base AS ({}) \
         SELECT grp, ts / {} AS b, count(*), sum(val), sum(val * val) \
         FROM base GROUP BY grp, b",
        base.sql,
        base.param(0)
    );
    let bucket_ns = bucket_ms.saturating_mul(MS_NS);
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(base.args_with([bucket_ns.into()])))?;
    let mut by_group: HashMap<GroupKey, BTreeMap<i64, Moments>> = HashMap::new();
    while let Some(row) = rows.next()? {
        let grp: GroupKey = row.get(0)?;
        let bucket: i64 = row.get(1)?;
        let n: i64 = row.get(2)?;
        let m = Moments::new(n.max(0) as u64, row.get(3)?, row.get(4)?);
        by_group.entry(grp).or_default().insert(bucket, m);
    }
    let mut groups: Vec<MetricGroup> = by_group
        .into_iter()
        .map(|(value, buckets)| {
            let mut total = Moments::default();
            let series = buckets
                .iter()
                .map(|(&b, m)| {
                    total.merge(m);
                    BucketPoint {
                        start_ms: b.saturating_mul(bucket_ms),
                        n: m.n,
                        mean: m.mean().unwrap_or(0.0),
                        sum: m.sum,
                        sum_sq: m.sum_sq,
                        p50: None,
                        p95: None,
                    }
                })
                .collect();
            MetricGroup {
                value,
                n: total.n,
                sum: total.sum,
                sum_sq: total.sum_sq,
                mean: total.mean().unwrap_or(0.0),
                sd: total.sd(),
                ci: None,
                quantiles: None,
                histogram: None,
                series,
            }
        })
        .collect();
    // Largest first; traces without the tag after the tagged groups of the same size.
    groups.sort_by(|a, b| {
        b.n.cmp(&a.n)
            .then_with(|| a.value.is_none().cmp(&b.value.is_none()))
            .then_with(|| a.value.cmp(&b.value))
    });
    let omitted = groups.len().saturating_sub(MAX_GROUPS) as u64;
    groups.truncate(MAX_GROUPS);
    Ok((groups, omitted))
}

/// The SQL condition "rn is one of the ranks the quantiles `levels` of n sorted values
/// interpolate between", mirroring `stats::quantile_ranks` (same double arithmetic, and
/// CAST truncates like floor for these non-negative numbers).
fn rank_condition(levels: &[f64], with_ends: bool) -> String {
    let mut ranks: Vec<String> = Vec::new();
    if with_ends {
        ranks.push("0".into());
        ranks.push("n - 1".into());
    }
    for q in levels {
        ranks.push(format!("CAST((n - 1) * {q:?} AS INTEGER)"));
        ranks.push(format!("CAST((n - 1) * {q:?} AS INTEGER) + 1"));
    }
    format!("rn IN ({})", ranks.join(", "))
}

/// The type-7 quantile `level` of `n` values from the values fetched at their ranks.
fn quantile_from_ranks(ranked: &BTreeMap<i64, f64>, n: u64, level: f64) -> Option<f64> {
    let (lo, hi, frac) = quantile_ranks(n, level)?;
    let a = *ranked.get(&(lo as i64))?;
    if frac == 0.0 {
        // Min and max: the upper rank is not fetched (nor needed).
        return Some(a);
    }
    let b = *ranked.get(&(hi as i64))?;
    Some(a + (b - a) * frac)
}

/// Step 2: exact quantiles per group.
fn group_quantiles(conn: &Connection, base: &Base) -> StoreResult<HashMap<GroupKey, Quantiles>> {
    let sql = format!(
        "WITH base AS ({}) \
         SELECT grp, n, rn, val FROM ( \
           SELECT grp, val, row_number() OVER w - 1 AS rn, \
             count(*) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS n \
           FROM base WINDOW w AS (PARTITION BY grp ORDER BY val) \
         ) WHERE {}",
        base.sql,
        rank_condition(&Quantiles::LEVELS, true)
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(base.args.iter()))?;
    let mut ranked: HashMap<GroupKey, (u64, BTreeMap<i64, f64>)> = HashMap::new();
    while let Some(row) = rows.next()? {
        let grp: GroupKey = row.get(0)?;
        let n: i64 = row.get(1)?;
        let entry = ranked
            .entry(grp)
            .or_insert_with(|| (n.max(0) as u64, BTreeMap::new()));
        entry.1.insert(row.get(2)?, row.get(3)?);
    }
    Ok(ranked
        .into_iter()
        .filter_map(|(grp, (n, values))| {
            let at = |level| quantile_from_ranks(&values, n, level);
            let quantiles = Quantiles {
                min: at(0.0)?,
                p25: at(0.25)?,
                p50: at(0.5)?,
                p75: at(0.75)?,
                p95: at(0.95)?,
                p99: at(0.99)?,
                max: at(1.0)?,
            };
            Some((grp, quantiles))
        })
        .collect())
}

/// For the latency p50/p95 metrics: the exact p50 and p95 of each group's buckets.
fn bucket_quantiles(
    conn: &Connection,
    base: &Base,
    bucket_ms: i64,
    groups: &mut [MetricGroup],
) -> StoreResult<()> {
    let sql = format!(
        "WITH base AS ({}) \
         SELECT grp, b, n, rn, val FROM ( \
           SELECT grp, ts / {} AS b, val, row_number() OVER w - 1 AS rn, \
             count(*) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS n \
           FROM base WINDOW w AS (PARTITION BY grp, ts / {} ORDER BY val) \
         ) WHERE {}",
        base.sql,
        base.param(0),
        base.param(0),
        rank_condition(&[0.5, 0.95], false)
    );
    let bucket_ns = bucket_ms.saturating_mul(MS_NS);
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(base.args_with([bucket_ns.into()])))?;
    type Ranked = (u64, BTreeMap<i64, f64>);
    let mut ranked: HashMap<(GroupKey, i64), Ranked> = HashMap::new();
    while let Some(row) = rows.next()? {
        let key = (row.get::<_, GroupKey>(0)?, row.get::<_, i64>(1)?);
        let n: i64 = row.get(2)?;
        let entry = ranked
            .entry(key)
            .or_insert_with(|| (n.max(0) as u64, BTreeMap::new()));
        entry.1.insert(row.get(3)?, row.get(4)?);
    }
    for g in groups {
        for point in &mut g.series {
            let key = (g.value.clone(), point.start_ms / bucket_ms.max(1));
            if let Some((n, values)) = ranked.get(&key) {
                point.p50 = quantile_from_ranks(values, *n, 0.5);
                point.p95 = quantile_from_ranks(values, *n, 0.95);
            }
        }
    }
    Ok(())
}

/// Bins from the smallest value of any group to the largest group p99: a single far outlier
/// would otherwise squash every other value into the first bar.
fn shared_bins(groups: &[MetricGroup]) -> Vec<f64> {
    let low = groups
        .iter()
        .filter_map(|g| g.quantiles.map(|q| q.min))
        .fold(f64::INFINITY, f64::min);
    let high = groups
        .iter()
        .filter_map(|g| g.quantiles.map(|q| q.p99))
        .fold(f64::NEG_INFINITY, f64::max);
    metrics::nice_bins(low, high, TARGET_BINS)
}

/// Step 3: counts per group and bin; values past the last edge are counted as `above`.
fn histograms(
    conn: &Connection,
    base: &Base,
    bins: &[f64],
) -> StoreResult<HashMap<GroupKey, Histogram>> {
    let count = bins.len() - 1;
    let (low, high) = (bins[0], bins[count]);
    let width = (high - low) / count as f64;
    // Bin i is [edge i, edge i+1); the last is closed. The 1e-9 keeps a value that sits on an
    // edge (0.7 with 0.05-wide bins: 0.7 / 0.05 = 13.999999999999998) in the bin it starts.
    let sql = format!(
        "WITH base AS ({}) \
         SELECT grp, CASE WHEN val > {hi} THEN -1 \
           ELSE min(max(CAST((val - {lo}) / {w} + 1e-9 AS INTEGER), 0), {last}) END AS bin, \
           count(*) \
         FROM base GROUP BY grp, bin",
        base.sql,
        hi = base.param(0),
        lo = base.param(1),
        w = base.param(2),
        last = base.param(3),
    );
    let mut stmt = conn.prepare(&sql)?;
    let extra: [SqlValue; 4] = [
        high.into(),
        low.into(),
        width.into(),
        (count as i64 - 1).into(),
    ];
    let mut rows = stmt.query(params_from_iter(base.args_with(extra)))?;
    let mut out: HashMap<GroupKey, Histogram> = HashMap::new();
    while let Some(row) = rows.next()? {
        let grp: GroupKey = row.get(0)?;
        let bin: i64 = row.get(1)?;
        let n = row.get::<_, i64>(2)?.max(0) as u64;
        let h = out.entry(grp).or_insert_with(|| Histogram {
            counts: vec![0; count],
            above: 0,
        });
        match usize::try_from(bin).ok().and_then(|i| h.counts.get_mut(i)) {
            Some(c) => *c += n,
            None => h.above += n,
        }
    }
    Ok(out)
}

/// Fills `TraceSummary::feedback` for a page of the trace list: per trace and key, how many
/// feedback records and their mean score. Two index lookups per trace (feedback by trace id;
/// feedback posted with a run id only, through the trace's spans and `feedback_by_run`).
pub(super) fn add_feedback_summaries(
    conn: &Connection,
    project: &str,
    traces: &mut [TraceSummary],
) -> StoreResult<()> {
    if traces.is_empty() {
        return Ok(());
    }
    let marks = vec!["?"; traces.len()].join(", ");
    let sql = format!(
        "SELECT trace_id, key, count(*), avg(score) FROM ( \
           SELECT f.trace_id AS trace_id, f.key AS key, f.score AS score FROM feedback f \
           WHERE f.project = ? AND f.trace_id IN ({marks}) \
           UNION ALL \
           SELECT s.trace_id, f.key, f.score FROM spans s \
           JOIN feedback f ON f.project = s.project AND f.run_id = s.span_id \
           WHERE s.project = ? AND s.trace_id IN ({marks}) AND f.trace_id IS NULL \
         ) GROUP BY trace_id, key ORDER BY trace_id, key"
    );
    let ids = traces.iter().map(|t| SqlValue::from(t.trace_id.clone()));
    let args: Vec<SqlValue> = std::iter::once(SqlValue::from(project.to_string()))
        .chain(ids.clone())
        .chain(std::iter::once(SqlValue::from(project.to_string())))
        .chain(ids)
        .collect();
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut by_trace: HashMap<String, Vec<FeedbackStat>> = HashMap::new();
    while let Some(row) = rows.next()? {
        let trace_id: String = row.get(0)?;
        by_trace.entry(trace_id).or_default().push(FeedbackStat {
            key: row.get(1)?,
            count: row.get::<_, i64>(2)?.max(0) as u64,
            mean: row.get(3)?,
        });
    }
    for t in traces {
        if let Some(stats) = by_trace.remove(&t.trace_id) {
            t.feedback = stats;
        }
    }
    Ok(())
}
