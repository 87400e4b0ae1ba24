//! The values of a span field the filter box suggests (`QueryStore::field_values`): read from
//! the spans of the project's latest traces, not the whole project.

use skein_model::catalog::FIELD_VALUE_TRACES;
use skein_model::{FieldValueInfo, ValueField};

use super::client::{quote, RowExt};
use super::ClickhouseStore;
use crate::store::StoreResult;

impl ClickhouseStore {
    pub(super) async fn values_of(
        &self,
        project: &str,
        field: ValueField,
        prefix: &str,
        limit: u32,
    ) -> StoreResult<Vec<FieldValueInfo>> {
        let column = match field {
            ValueField::Model => "visitParamExtractString(body, 'model')",
            ValueField::Name => "name",
        };
        let spans = self.spans();
        let project = quote(project);
        let rows = self
            .client
            .rows(&format!(
                "SELECT v, count() AS n FROM (SELECT {column} AS v FROM {spans} \
                 WHERE project = {project} AND trace_id IN (SELECT trace_id FROM {spans} \
                 WHERE project = {project} GROUP BY trace_id ORDER BY min(start_ns) DESC \
                 LIMIT {FIELD_VALUE_TRACES})) \
                 WHERE v != '' AND substring(v, 1, {}) = {} \
                 GROUP BY v ORDER BY n DESC, v LIMIT {}",
                prefix.len(),
                quote(prefix),
                limit.clamp(1, 1000)
            ))
            .await?;
        Ok(rows
            .iter()
            .map(|r| FieldValueInfo {
                value: r.str_of("v"),
                span_count: r.i64_of("n").max(0) as u64,
            })
            .collect())
    }
}
