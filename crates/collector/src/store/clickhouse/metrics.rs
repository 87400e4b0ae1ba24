//! Metrics on ClickHouse: ClickHouse selects the traces in scope with their per-trace values
//! and group tags (one row a trace); `skein_model::metric_fold` aggregates them, as on SQLite.

use std::collections::HashMap;

use skein_model::metric_fold::{prepare, MetricAccumulator};
use skein_model::metrics::{Metric, MetricQuery, MetricResponse, Over};
use skein_model::TraceQuery;

use super::client::RowExt;
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
        // Each trace's group values come in its own row (`trace_table::IndexQuery`), and
        // its id only when the feedback metric needs it: a row a trace is all that is read.
        let keys: Vec<String> = q.group_by.iter().chain(&q.then_by).cloned().collect();
        let mut columns = String::from("start, duration, errors, in_tokens, out_tokens, cost_sum");
        if matches!(q.metric, Metric::Feedback(_)) {
            columns.push_str(", trace_id");
        }
        for i in 0..keys.len() {
            columns.push_str(&format!(", g{i}, h{i}"));
        }
        // Without filters, the traces measured are the project's within the range that all of
        // them span: one read of every trace gives both.
        let all = if q.scope(None, None) == TraceQuery::default() {
            let index = self
                .trace_index_grouped(project, &TraceQuery::default(), now_ms, &keys)
                .await?;
            Some(
                self.client
                    .rows(&format!("SELECT {columns} FROM ({index})"))
                    .await?,
            )
        } else {
            None
        };
        let (from_ms, to_ms, bucket_ms, mut acc) = match &all {
            Some(rows) => {
                let starts = rows.iter().map(|r| r.i64_of("start"));
                prepare(q, starts.clone().min(), starts.max())
                    .map_err(|e| StoreError::Invalid(e.0))?
            }
            None => {
                self.prepare(
                    q,
                    &format!(
                        "SELECT start AS s FROM ({})",
                        self.trace_index(project, &TraceQuery::default(), now_ms)
                            .await?
                    ),
                )
                .await?
            }
        };
        let scope = q.scope(Some(from_ms), Some(to_ms));
        self.trace_list_filter(project, &scope)?;
        let traces = async {
            match all {
                Some(rows) => {
                    let (from, to) = (
                        from_ms.saturating_mul(1_000_000),
                        to_ms.saturating_mul(1_000_000),
                    );
                    Ok(rows
                        .into_iter()
                        .filter(|r| (from..to).contains(&r.i64_of("start")))
                        .collect())
                }
                None => {
                    let index = self
                        .trace_index_grouped(project, &scope, now_ms, &keys)
                        .await?;
                    self.client
                        .rows(&format!("SELECT {columns} FROM ({index})"))
                        .await
                }
            }
        };
        let scores = async {
            match &q.metric {
                Metric::Feedback(key) => Ok(Some(self.feedback_means(project, key).await?)),
                _ => Ok(None),
            }
        };
        // Independent reads: asked at once.
        let (rows, scores): (Vec<serde_json::Value>, _) = tokio::try_join!(traces, scores)?;
        // The columns of the group key and of the key splitting it, when asked.
        let group = |row: &serde_json::Value, i: Option<usize>| -> Option<String> {
            let i = i?;
            (row.i64_of(&format!("h{i}")) != 0).then(|| row.str_of(&format!("g{i}")))
        };
        let by = q.group_by.is_some().then_some(0);
        let then = q.then_by.is_some().then_some(usize::from(by.is_some()));
        for row in &rows {
            let trace_id = row.str_of("trace_id");
            let value = match &q.metric {
                Metric::Count => 1.0,
                Metric::ErrorRate => f64::from(u8::from(row.i64_of("errors") > 0)),
                Metric::LatencyP50 | Metric::LatencyP95 | Metric::LatencyMean => {
                    row.i64_of("duration") as f64 / 1e6
                }
                Metric::InputTokens => row.i64_of("in_tokens") as f64,
                Metric::OutputTokens => row.i64_of("out_tokens") as f64,
                Metric::TotalTokens => (row.i64_of("in_tokens") + row.i64_of("out_tokens")) as f64,
                Metric::Cost => row.f64_of("cost_sum"),
                Metric::Feedback(_) => match scores.as_ref().and_then(|s| s.get(&trace_id)) {
                    Some(v) => *v,
                    None => continue,
                },
                // A span's attribute: refused over traces (`Over::check`).
                Metric::Attr(_) => continue,
            };
            let (g, t) = (group(row, by), group(row, then));
            acc.add_pair(
                g.as_deref().map(str::as_bytes),
                t.as_deref().map(str::as_bytes),
                row.i64_of("start"),
                value,
            );
        }
        Ok(acc.response(q, from_ms, to_ms, bucket_ms))
    }
}
