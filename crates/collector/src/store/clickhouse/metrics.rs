//! Metrics on ClickHouse: ClickHouse selects the traces in scope with their per-trace values
//! and group tags and gathers the values per group and bucket of starts (a row a group and
//! bucket, in RowBinary, not a row a trace); `skein_model::metric_fold` aggregates them, as on
//! SQLite. A feedback metric reads a row a trace, its id joined with the scores here.

use std::collections::HashMap;

use skein_model::metric_fold::{prepare, MetricAccumulator};
use skein_model::metrics::{Metric, MetricQuery, MetricResponse, Over};
use skein_model::TraceQuery;

use super::client::RowExt;
use super::row_binary::RowBinary;
use super::ClickhouseStore;
use crate::store::{StoreError, StoreResult};

impl ClickhouseStore {
    /// `metric_fold::prepare` for the data whose starts `starts` selects (a column `s`).
    pub(super) async fn prepare(
        &self,
        q: &MetricQuery,
        starts: &str,
    ) -> StoreResult<(i64, i64, i64, MetricAccumulator)> {
        let bounds = self
            .client
            .rows(&format!(
                "SELECT count() AS n, min(s) AS first, max(s) AS last FROM ({starts})"
            ))
            .await?;
        let (first, last) = match bounds.first() {
            Some(r) if r.i64_of("n") > 0 => (Some(r.i64_of("first")), Some(r.i64_of("last"))),
            _ => (None, None),
        };
        prepare(q, first, last).map_err(|e| StoreError::Invalid(e.0))
    }

    /// Each trace's value of the group tag `key`, as its fold picks it.
    pub(super) async fn group_values(
        &self,
        project: &str,
        key: &str,
    ) -> StoreResult<HashMap<String, String>> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT trace_id, value FROM ({})",
                self.trace_tag_rows(project, Some(key)).await?
            ))
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.str_of("trace_id"), r.str_of("value")))
            .collect())
    }

    pub(super) async fn metric(
        &self,
        project: &str,
        q: &MetricQuery,
        now_ms: i64,
    ) -> StoreResult<MetricResponse> {
        if q.over == Over::Spans {
            return self.span_metric(project, q).await;
        }
        // The range's bounds are the project's first and last trace starts, whatever the
        // filters (as on SQLite): one read of every trace's start.
        let (from_ms, to_ms, bucket_ms, mut acc) = self
            .prepare(
                q,
                &format!(
                    "SELECT start AS s FROM ({})",
                    self.trace_index(project, &TraceQuery::default(), now_ms)
                        .await?
                ),
            )
            .await?;
        let scope = q.scope(Some(from_ms), Some(to_ms));
        self.trace_list_filter(project, &scope)?;
        // Each trace's group values come in its own row (`trace_table::IndexQuery`).
        let keys: Vec<String> = q.group_by.iter().chain(&q.then_by).cloned().collect();
        let index = self
            .trace_index_grouped(project, &scope, now_ms, &keys)
            .await?;
        let by = q.group_by.is_some().then_some(0);
        let then = q.then_by.is_some().then_some(usize::from(by.is_some()));
        match &q.metric {
            Metric::Feedback(key) => {
                self.add_feedback_values(project, key, &index, keys.len(), (by, then), &mut acc)
                    .await?
            }
            // A span's attribute: refused over traces (`Over::check`).
            Metric::Attr(_) => {}
            metric => {
                let values = TraceValues::of(metric);
                let bucket_ns = bucket_ms.saturating_mul(1_000_000).max(1);
                let bytes = self
                    .client
                    .binary(&values.grouped_sql(&index, keys.len(), bucket_ns))
                    .await?;
                values.add(&bytes, keys.len(), (by, then), bucket_ns, &mut acc)?;
            }
        }
        Ok(acc.response(q, from_ms, to_ms, bucket_ms))
    }

    /// A feedback metric's values: each trace's mean score (its id joined here with the
    /// scores), a row a trace.
    async fn add_feedback_values(
        &self,
        project: &str,
        key: &str,
        index: &str,
        keys: usize,
        (by, then): (Option<usize>, Option<usize>),
        acc: &mut MetricAccumulator,
    ) -> StoreResult<()> {
        let mut columns = String::from("trace_id, start");
        for i in 0..keys {
            columns.push_str(&format!(", g{i}, h{i}"));
        }
        let rows = async {
            self.client
                .rows(&format!("SELECT {columns} FROM ({index})"))
                .await
        };
        // Independent reads: asked at once.
        let (rows, scores) = tokio::try_join!(rows, self.feedback_means(project, key))?;
        let group = |row: &serde_json::Value, i: Option<usize>| -> Option<String> {
            let i = i?;
            (row.i64_of(&format!("h{i}")) != 0).then(|| row.str_of(&format!("g{i}")))
        };
        for row in &rows {
            let Some(value) = scores.get(&row.str_of("trace_id")) else {
                continue;
            };
            let (g, t) = (group(row, by), group(row, then));
            acc.add_pair(
                g.as_deref().map(str::as_bytes),
                t.as_deref().map(str::as_bytes),
                row.i64_of("start"),
                *value,
            );
        }
        Ok(())
    }
}

/// What a trace metric measures of each trace, as a column of the trace index.
enum TraceValues {
    /// Nothing but how many.
    Count,
    /// An integer column, and the value it gives (`f64` of it, scaled).
    Ints(&'static str, f64),
    /// A float column.
    Floats(&'static str),
}

impl TraceValues {
    fn of(metric: &Metric) -> TraceValues {
        match metric {
            Metric::ErrorRate => TraceValues::Ints("errors > 0", 1.0),
            Metric::LatencyP50 | Metric::LatencyP95 | Metric::LatencyMean => {
                TraceValues::Ints("duration", 1e6)
            }
            Metric::InputTokens => TraceValues::Ints("in_tokens", 1.0),
            Metric::OutputTokens => TraceValues::Ints("out_tokens", 1.0),
            Metric::TotalTokens => TraceValues::Ints("in_tokens + out_tokens", 1.0),
            Metric::Cost => TraceValues::Floats("cost_sum"),
            Metric::Count | Metric::Feedback(_) | Metric::Attr(_) => TraceValues::Count,
        }
    }

    /// The traces of `index` per group value (`keys` of them) and bucket of starts: the
    /// values' multiset per group and bucket is all the accumulator needs, so ClickHouse
    /// ships one row a group and bucket instead of one a trace. In RowBinary: per key its
    /// value and whether the trace has it, the bucket, the count, the values.
    fn grouped_sql(&self, index: &str, keys: usize, bucket_ns: i64) -> String {
        let mut groups = Vec::new();
        for i in 0..keys {
            groups.push(format!("toString(g{i}) AS gv{i}"));
            groups.push(format!("toUInt8(h{i}) AS hv{i}"));
        }
        // `div_euclid`, as the accumulator buckets a start (`intDiv` rounds toward zero).
        groups.push(format!(
            "toInt64(intDiv(start, {bucket_ns}) - (start % {bucket_ns} < 0)) AS bucket"
        ));
        let values = match self {
            TraceValues::Count => String::new(),
            TraceValues::Ints(column, _) => format!(", groupArray(toInt64({column})) AS vs"),
            TraceValues::Floats(column) => format!(", groupArray(toFloat64({column})) AS vs"),
        };
        let names: Vec<&str> = groups
            .iter()
            .map(|g| g.rsplit(" AS ").next().unwrap_or(""))
            .collect();
        format!(
            "SELECT {}, count() AS n{values} FROM ({index}) GROUP BY {}",
            groups.join(", "),
            names.join(", ")
        )
    }

    /// Adds `grouped_sql`'s answer to the accumulator.
    fn add(
        &self,
        bytes: &[u8],
        keys: usize,
        (by, then): (Option<usize>, Option<usize>),
        bucket_ns: i64,
        acc: &mut MetricAccumulator,
    ) -> StoreResult<()> {
        let mut r = RowBinary::new(bytes);
        let mut groups: Vec<Option<String>> = Vec::with_capacity(keys);
        let mut values: Vec<f64> = Vec::new();
        while !r.done() {
            groups.clear();
            for _ in 0..keys {
                let value = r.string()?;
                groups.push((r.u8()? != 0).then_some(value));
            }
            let start = r.i64()?.saturating_mul(bucket_ns);
            let n = r.u64()?;
            let group = |i: Option<usize>| i.and_then(|i| groups[i].as_deref()).map(str::as_bytes);
            let (g, t) = (group(by), group(then));
            values.clear();
            match self {
                TraceValues::Count => values.resize(n as usize, 1.0),
                // As a row a trace was read: the integer as `f64`, then scaled.
                TraceValues::Ints(_, scale) if *scale == 1.0 => {
                    values.extend(r.i64s()?.into_iter().map(|v| v as f64));
                }
                TraceValues::Ints(_, scale) => {
                    values.extend(r.i64s()?.into_iter().map(|v| v as f64 / scale));
                }
                TraceValues::Floats(_) => values.extend(r.f64s()?),
            }
            acc.add_values(g, t, start, &values);
        }
        Ok(())
    }
}
