//! Metrics over spans (`over=spans`, `skein_model::metric_scope`) on ClickHouse: ClickHouse
//! selects the spans in scope with their value and span-field groups; a group by a tag takes
//! the span's trace's value (`group_values`); `skein_model::metric_fold` aggregates, as on
//! SQLite.

use std::collections::HashMap;

use serde_json::Value as Json;
use skein_model::metric_scope::span_filter;
use skein_model::metrics::{Metric, MetricQuery, MetricResponse, SpanGroup};
use skein_model::span::{SpanStatus, SpanType};

use super::client::{quote, RowExt};
use super::span_list::{body_attr_text, DECIMAL};
use super::ClickhouseStore;
use crate::store::{StoreError, StoreResult};

/// How a row's group is read: a column of the row, or its trace's tag value.
enum Grouping {
    None,
    Column(&'static str),
    Tag(HashMap<String, String>),
}

impl Grouping {
    fn of<'r>(&'r self, row: &'r Json, trace_id: &str) -> Option<&'r str> {
        match self {
            Grouping::None => None,
            Grouping::Column(name) => row[*name].as_str().filter(|v| !v.is_empty()),
            Grouping::Tag(values) => values.get(trace_id).map(String::as_str),
        }
    }
}

impl ClickhouseStore {
    async fn grouping(&self, project: &str, key: Option<&str>) -> StoreResult<Grouping> {
        Ok(match key.map(SpanGroup::of) {
            None => Grouping::None,
            Some(SpanGroup::Tag(key)) => Grouping::Tag(self.group_values(project, key).await?),
            Some(SpanGroup::Name) => Grouping::Column("g_name"),
            Some(SpanGroup::Type) => Grouping::Column("g_type"),
            Some(SpanGroup::Model) => Grouping::Column("g_model"),
            Some(SpanGroup::Service) => Grouping::Column("g_service"),
        })
    }

    pub(super) async fn span_metric(
        &self,
        project: &str,
        q: &MetricQuery,
    ) -> StoreResult<MetricResponse> {
        let span_filter = span_filter(q).map_err(|e| StoreError::Invalid(e.0))?;
        let spans = self.spans();
        let in_project = format!("project = {}", quote(project));
        let (from_ms, to_ms, bucket_ms, mut acc) = self
            .prepare(
                q,
                &format!("SELECT start_ns AS s FROM {spans} WHERE {in_project}"),
            )
            .await?;

        let mut wheres = format!(
            "{in_project} AND start_ns >= {} AND start_ns < {}",
            from_ms.saturating_mul(1_000_000),
            to_ms.saturating_mul(1_000_000)
        );
        if let Some(expr) = &span_filter {
            let cond = self
                .span_condition(project, expr)
                .map_err(|e| StoreError::Invalid(format!("filter: {e}")))?;
            wheres.push_str(&format!(" AND ({cond})"));
        }
        let scope = q.scope(None, None);
        for tag in &scope.tags {
            wheres.push_str(&format!(
                " AND trace_id GLOBAL IN ({})",
                self.traces_with_tag(project, &tag.key, &tag.value).await?
            ));
        }
        wheres.push_str(&self.trace_list_filter(project, &scope)?);
        let rows = self
            .client
            .rows(&format!(
                "SELECT trace_id, start_ns, {} FROM {spans} WHERE {wheres}",
                columns(&q.metric)
            ))
            .await?;
        let group = self.grouping(project, q.group_by.as_deref()).await?;
        let then = self.grouping(project, q.then_by.as_deref()).await?;
        for row in &rows {
            if row.i64_of("has_value") == 0 {
                continue;
            }
            let trace_id = row.str_of("trace_id");
            acc.add_pair(
                group.of(row, &trace_id).map(str::as_bytes),
                then.of(row, &trace_id).map(str::as_bytes),
                row.i64_of("start_ns"),
                row.f64_of("value"),
            );
        }
        Ok(acc.response(q, from_ms, to_ms, bucket_ms))
    }
}

/// The columns of a span row a span metric reads: its value and whether it has one, and
/// each span field a group may be.
fn columns(metric: &Metric) -> String {
    let (has_value, value) = match metric {
        Metric::Count => ("1".to_string(), "1".to_string()),
        Metric::ErrorRate => ("1".into(), format!("status = {}", SpanStatus::Error.code())),
        Metric::LatencyP50 | Metric::LatencyP95 | Metric::LatencyMean => {
            ("1".into(), "greatest(end_ns - start_ns, 0) / 1e6".into())
        }
        Metric::InputTokens => ("1".into(), "input_tokens".into()),
        Metric::OutputTokens => ("1".into(), "output_tokens".into()),
        Metric::TotalTokens => ("1".into(), "input_tokens + output_tokens".into()),
        Metric::Cost => ("1".into(), "cost".into()),
        // Rows from before schema 3 (`attrs` = '') hold their attributes in the body only.
        Metric::Attr(key) => {
            let (text, k) = (body_attr_text(key), quote(key));
            (
                format!(
                    "if(attrs != '', visitParamHas(attr_nums, {k}), match({text}, {}))",
                    quote(DECIMAL)
                ),
                format!(
                    "if(attrs != '', visitParamExtractFloat(attr_nums, {k}), toFloat64OrZero({text}))"
                ),
            )
        }
        // Refused by the query's parser (`Over::check`).
        Metric::Feedback(_) => ("0".into(), "0".into()),
    };
    let types = SpanType::ALL
        .iter()
        .map(|t| quote(t.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{has_value} AS has_value, toFloat64({value}) AS value, name AS g_name, \
         service AS g_service, visitParamExtractString(body, 'model') AS g_model, \
         arrayElement([{types}], span_type + 1) AS g_type"
    )
}
