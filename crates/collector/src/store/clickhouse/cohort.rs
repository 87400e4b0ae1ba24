//! `Store::compare_cohorts` on ClickHouse: each cohort's aggregates computed by the server over
//! the spans of the traces its list filter selects (`trace_index`), as on SQLite, then
//! `skein_model::cohort::compare`. Written for 18.16: the children of each span are summed and
//! enveloped in a grouped subquery joined back with `ANY LEFT JOIN ... USING`, and the exact
//! (numpy "linear") duration quantiles are interpolated from each name's sorted durations
//! (`quantileExact` picks a rank without interpolating).

use std::collections::HashMap;

use serde_json::Value;
use skein_model::cohort::{
    CohortAggregates, CohortComparison, CohortQuery, NameAggregates, MAX_NAMES,
};
use skein_model::stats::Moments;
use skein_model::{SpanType, TraceQuery};

use super::client::{quote, RowExt};
use super::ClickhouseStore;
use crate::store::StoreResult;

fn moments(row: &Value, n: u64, sum: &str, sum_sq: &str) -> Moments {
    Moments::new(n, row.f64_of(sum), row.f64_of(sum_sq))
}

/// The type-7 quantile `q` (in ms) of the sorted ns durations `ds` of `n` spans, in SQL.
fn quantile_sql(q: f64) -> String {
    let h = format!("((n - 1) * {q:?})");
    let lo = format!("toUInt64(floor({h}))");
    format!("(ds[{lo} + 1] + (ds[least({lo} + 2, n)] - ds[{lo} + 1]) * ({h} - {lo})) / 1e6")
}

impl ClickhouseStore {
    pub(super) async fn cohorts(
        &self,
        project: &str,
        q: &CohortQuery,
        now_ms: i64,
    ) -> StoreResult<CohortComparison> {
        let a = self.cohort(project, &q.a, now_ms).await?;
        let b = self.cohort(project, &q.b, now_ms).await?;
        Ok(skein_model::cohort::compare(q.by, &a, &b))
    }

    async fn cohort(
        &self,
        project: &str,
        q: &TraceQuery,
        now_ms: i64,
    ) -> StoreResult<CohortAggregates> {
        self.trace_list_filter(project, q)?;
        let index = self.trace_index(project, q, now_ms).await?;
        let totals = self
            .client
            .rows(&format!(
                "SELECT count() AS n, sum(d) AS d1, sum(d * d) AS d2, sum(tok) AS t1, \
                 sum(tok * tok) AS t2, sum(c) AS c1, sum(c * c) AS c2, sum(e) AS e1, \
                 sum(e * e) AS e2 FROM \
                 (SELECT duration / 1e6 AS d, toFloat64(in_tokens + out_tokens) AS tok, \
                  toFloat64(cost_sum) AS c, toFloat64(errors) AS e FROM ({index}))"
            ))
            .await?;
        let Some(row) = totals.first() else {
            return Ok(CohortAggregates::default());
        };
        let n = row.i64_of("n").max(0) as u64;
        let mut aggregates = CohortAggregates {
            duration_ms: moments(row, n, "d1", "d2"),
            tokens: moments(row, n, "t1", "t2"),
            cost: moments(row, n, "c1", "c2"),
            errors: moments(row, n, "e1", "e2"),
            names: Vec::new(),
        };
        if n > 0 {
            aggregates.names = self.cohort_names(project, &index).await?;
        }
        Ok(aggregates)
    }

    async fn cohort_names(&self, project: &str, index: &str) -> StoreResult<Vec<NameAggregates>> {
        let spans = self.spans();
        let scope = format!(
            "project = {} AND trace_id IN (SELECT trace_id FROM ({index}))",
            quote(project)
        );
        let rows = self
            .client
            .rows(&format!(
                "SELECT name, span_type, service, sum(n) AS spans, count() AS traces_with, \
                 sum(d_ns) / 1e6 AS d_sum, sum(self_ms) AS s1, sum(self_ms * self_ms) AS s2, \
                 sum(tok) AS t1, sum(tok * tok) AS t2, sum(c) AS c1, sum(c * c) AS c2, \
                 sum(err) AS e1, sum(err * err) AS e2 FROM \
                 (SELECT name, span_type, service, trace_id, count() AS n, sum(d) AS d_ns, \
                   sum(if(has_kids = 1, \
                     greatest(d - least(kd, greatest(least(ke, end_ns) - greatest(ks, start_ns), 0)), 0), \
                     d)) / 1e6 AS self_ms, \
                   toFloat64(sum(is_error)) AS err, toFloat64(sum(tokens)) AS tok, sum(cost) AS c \
                  FROM \
                  (SELECT trace_id, span_id, name, span_type, service, start_ns, end_ns, \
                     greatest(end_ns - start_ns, 0) AS d, status = 2 AS is_error, \
                     input_tokens + output_tokens AS tokens, cost \
                   FROM {spans} WHERE {scope}) AS own \
                  ANY LEFT JOIN \
                  (SELECT trace_id, parent_span_id AS span_id, toUInt8(1) AS has_kids, \
                     sum(greatest(end_ns - start_ns, 0)) AS kd, min(start_ns) AS ks, \
                     max(end_ns) AS ke \
                   FROM {spans} WHERE {scope} AND parent_span_id != '' \
                   GROUP BY trace_id, parent_span_id) AS kids \
                  USING (trace_id, span_id) \
                  GROUP BY name, span_type, service, trace_id) \
                 GROUP BY name, span_type, service ORDER BY s1 DESC, name LIMIT {MAX_NAMES}"
            ))
            .await?;
        let quantiles = self
            .client
            .rows(&format!(
                "SELECT name, span_type, service, {} AS p50, {} AS p95 FROM \
                 (SELECT name, span_type, service, arraySort(groupArray(greatest(end_ns - start_ns, 0))) AS ds, \
                   length(ds) AS n FROM {spans} WHERE {scope} GROUP BY name, span_type, service)",
                quantile_sql(0.5),
                quantile_sql(0.95)
            ))
            .await?;
        let key = |r: &Value| (r.str_of("name"), r.i64_of("span_type"), r.str_of("service"));
        let quantiles: HashMap<_, (f64, f64)> = quantiles
            .iter()
            .map(|r| (key(r), (r.f64_of("p50"), r.f64_of("p95"))))
            .collect();
        Ok(rows
            .iter()
            .map(|r| {
                let traces_with = r.i64_of("traces_with").max(0) as u64;
                let (p50_ms, p95_ms) = quantiles.get(&key(r)).copied().unwrap_or_default();
                NameAggregates {
                    name: r.str_of("name"),
                    span_type: SpanType::from_code(
                        u8::try_from(r.i64_of("span_type")).unwrap_or(u8::MAX),
                    ),
                    service: r.str_of("service"),
                    spans: r.i64_of("spans").max(0) as u64,
                    traces_with,
                    duration_ms_sum: r.f64_of("d_sum"),
                    p50_ms,
                    p95_ms,
                    self_ms: moments(r, traces_with, "s1", "s2"),
                    tokens: moments(r, traces_with, "t1", "t2"),
                    cost: moments(r, traces_with, "c1", "c2"),
                    errors: moments(r, traces_with, "e1", "e2"),
                }
            })
            .collect())
    }
}
