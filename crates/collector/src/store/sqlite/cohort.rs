//! `Store::compare_cohorts` on SQLite: each cohort's aggregates in SQL, over the spans of the
//! traces its list filter selects (`list::trace_filter`), then `skein_model::cohort::compare`.
//!
//! Per cohort, three statements in one read transaction: the traces' moments from their
//! summary rows; per span name, type and service the per-trace sums of self time, tokens, cost
//! and error spans (grouped by trace, then by name: the moments of a Welch test); and the exact
//! p50/p95 of the spans' durations, from the ranks a window over the spans sorted by duration
//! gives (only the two rows around each quantile leave SQLite). Self time follows the rule of
//! `cohort::self_time_ns`: each span's direct children summed and enveloped in one `GROUP BY`
//! over the cohort's spans, joined back by (trace, span id).

use std::collections::HashMap;

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection};
use skein_model::cohort::{
    CohortAggregates, CohortComparison, CohortQuery, NameAggregates, MAX_NAMES,
};
use skein_model::stats::{quantile_ranks, Moments};
use skein_model::{SpanType, TraceQuery};

use super::list::trace_filter;
use crate::store::StoreResult;

pub(super) fn compare_cohorts(
    conn: &Connection,
    project: &str,
    q: &CohortQuery,
) -> StoreResult<CohortComparison> {
    // One snapshot for both cohorts.
    let tx = conn.unchecked_transaction()?;
    let a = cohort(&tx, project, &q.a)?;
    let b = cohort(&tx, project, &q.b)?;
    Ok(skein_model::cohort::compare(q.by, &a, &b))
}

fn cohort(conn: &Connection, project: &str, q: &TraceQuery) -> StoreResult<CohortAggregates> {
    super::span_list::trace_list_filter(q)?;
    let (filter, args) = trace_filter(project, q);
    let mut aggregates = trace_moments(conn, &filter, &args)?;
    if aggregates.duration_ms.n > 0 {
        aggregates.names = names(conn, &filter, &args)?;
    }
    Ok(aggregates)
}

fn moments(row: &rusqlite::Row<'_>, n: u64, at: usize) -> rusqlite::Result<Moments> {
    Ok(Moments::new(
        n,
        row.get::<_, Option<f64>>(at)?.unwrap_or(0.0),
        row.get::<_, Option<f64>>(at + 1)?.unwrap_or(0.0),
    ))
}

fn trace_moments(
    conn: &Connection,
    filter: &str,
    args: &[SqlValue],
) -> StoreResult<CohortAggregates> {
    let sql = format!(
        "SELECT count(*), sum(d), sum(d * d), sum(tok), sum(tok * tok), sum(cost), \
         sum(cost * cost), sum(err), sum(err * err) FROM \
         (SELECT t.duration_ns / 1e6 AS d, CAST(t.input_tokens + t.output_tokens AS REAL) AS tok, \
          CAST(t.cost AS REAL) AS cost, CAST(t.error_count AS REAL) AS err \
          FROM traces t WHERE {filter})"
    );
    Ok(conn.query_row(&sql, params_from_iter(args.iter()), |r| {
        let n = r.get::<_, i64>(0)?.max(0) as u64;
        Ok(CohortAggregates {
            duration_ms: moments(r, n, 1)?,
            tokens: moments(r, n, 3)?,
            cost: moments(r, n, 5)?,
            errors: moments(r, n, 7)?,
            names: Vec::new(),
        })
    })?)
}

/// The cohort's spans: `ct` its traces, `sp` their spans with durations.
fn spans_cte(filter: &str) -> String {
    format!(
        "ct AS MATERIALIZED (SELECT t.id AS trace FROM traces t WHERE {filter}), \
         sp AS MATERIALIZED (SELECT s.trace, s.span_id, s.parent_span_id AS parent, s.name, \
           s.span_type, s.service, s.start_ns, s.end_ns, max(s.end_ns - s.start_ns, 0) AS d, \
           CAST(s.status = 2 AS REAL) AS err, CAST(coalesce(s.tokens, 0) AS REAL) AS tok, \
           CAST(s.cost AS REAL) AS cost \
           FROM ct CROSS JOIN spans s ON s.trace = ct.trace)"
    )
}

type NameKey = (String, u8, String);

fn names(conn: &Connection, filter: &str, args: &[SqlValue]) -> StoreResult<Vec<NameAggregates>> {
    let spans = spans_cte(filter);
    let sql = format!(
        "WITH {spans}, \
         kids AS MATERIALIZED (SELECT trace, parent, sum(d) AS kd, min(start_ns) AS ks, \
           max(end_ns) AS ke FROM sp WHERE parent IS NOT NULL GROUP BY trace, parent), \
         per_trace AS (SELECT sp.name, sp.span_type, sp.service, count(*) AS n, sum(sp.d) AS d, \
           sum(CASE WHEN k.trace IS NULL THEN sp.d ELSE max(sp.d - min(k.kd, \
             max(min(k.ke, sp.end_ns) - max(k.ks, sp.start_ns), 0)), 0) END) / 1e6 AS self_ms, \
           sum(sp.err) AS err, sum(sp.tok) AS tok, sum(sp.cost) AS cost \
           FROM sp LEFT JOIN kids k ON k.trace = sp.trace AND k.parent = sp.span_id \
           GROUP BY sp.name, sp.span_type, sp.service, sp.trace) \
         SELECT name, span_type, service, sum(n), count(*), sum(d) / 1e6, \
           sum(self_ms), sum(self_ms * self_ms), sum(tok), sum(tok * tok), sum(cost), sum(cost * cost), \
           sum(err), sum(err * err) \
         FROM per_trace GROUP BY name, span_type, service \
         ORDER BY sum(self_ms) DESC, name LIMIT {MAX_NAMES}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut names: Vec<NameAggregates> = stmt
        .query_map(params_from_iter(args.iter()), |r| {
            let traces_with = r.get::<_, i64>(4)?.max(0) as u64;
            Ok(NameAggregates {
                name: r.get(0)?,
                span_type: SpanType::from_code(r.get(1)?),
                service: r.get(2)?,
                spans: r.get::<_, i64>(3)?.max(0) as u64,
                traces_with,
                duration_ms_sum: r.get::<_, Option<f64>>(5)?.unwrap_or(0.0),
                p50_ms: 0.0,
                p95_ms: 0.0,
                self_ms: moments(r, traces_with, 6)?,
                tokens: moments(r, traces_with, 8)?,
                cost: moments(r, traces_with, 10)?,
                errors: moments(r, traces_with, 12)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let quantiles = duration_quantiles(conn, filter, args)?;
    for g in &mut names {
        let key = (g.name.clone(), g.span_type.code(), g.service.clone());
        if let Some(ranked) = quantiles.get(&key) {
            g.p50_ms = ranked.quantile(g.spans, 0.5);
            g.p95_ms = ranked.quantile(g.spans, 0.95);
        }
    }
    Ok(names)
}

/// The durations (ms) at the ranks a quantile interpolates between, by rank.
#[derive(Default)]
struct Ranked(HashMap<u64, f64>);

impl Ranked {
    fn quantile(&self, n: u64, q: f64) -> f64 {
        let Some((lo, hi, frac)) = quantile_ranks(n, q) else {
            return 0.0;
        };
        let (Some(a), Some(b)) = (self.0.get(&lo), self.0.get(&hi)) else {
            return 0.0;
        };
        a + (b - a) * frac
    }
}

/// Per name, type and service, the durations at the p50 and p95 ranks (`stats::quantile_ranks`:
/// ⌊(n − 1)·q⌋ and the next), picked from a window over the spans sorted by duration.
fn duration_quantiles(
    conn: &Connection,
    filter: &str,
    args: &[SqlValue],
) -> StoreResult<HashMap<NameKey, Ranked>> {
    let spans = spans_cte(filter);
    let rank = |q: f64| format!("CAST((n - 1) * {q:?} AS INTEGER)");
    let (p50, p95) = (rank(0.5), rank(0.95));
    let sql = format!(
        "WITH {spans}, \
         ranked AS (SELECT name, span_type, service, d, \
           row_number() OVER (PARTITION BY name, span_type, service ORDER BY d) - 1 AS rk, \
           count(*) OVER (PARTITION BY name, span_type, service) AS n FROM sp) \
         SELECT name, span_type, service, rk, d / 1e6 FROM ranked \
         WHERE rk = {p50} OR rk = min({p50} + 1, n - 1) OR rk = {p95} OR rk = min({p95} + 1, n - 1)"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args.iter()))?;
    let mut out: HashMap<NameKey, Ranked> = HashMap::new();
    while let Some(r) = rows.next()? {
        let key: NameKey = (r.get(0)?, r.get(1)?, r.get(2)?);
        let rank = r.get::<_, i64>(3)?.max(0) as u64;
        out.entry(key).or_default().0.insert(rank, r.get(4)?);
    }
    Ok(out)
}
