//! The values of a span field the filter box suggests (`QueryStore::field_values`): read from
//! the spans of the project's latest traces, not the whole project. The latest traces are
//! found among those the project's latest receipts name (`received`, ordered by project and
//! arrival: the end of a key range), so that the cost does not grow with the project; only a
//! project with no receipt at all (all of its spans stored before the receive log, schema 6)
//! has its traces grouped whole, until a span arrives.

use skein_model::catalog::FIELD_VALUE_TRACES;
use skein_model::{FieldValueInfo, ValueField};

use super::client::{quote, RowExt};
use super::ClickhouseStore;
use crate::store::StoreResult;

/// The project's latest receipts read for the latest traces: several a trace (its spans, its
/// patches, its feedback), enough for `FIELD_VALUE_TRACES` traces of up to a few dozen each.
const RECEIPTS_READ: u32 = 50 * FIELD_VALUE_TRACES;

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
        let received = self.layout.table("received");
        let latest_receipts = format!(
            "SELECT trace_id FROM {received} WHERE project = {project} \
             ORDER BY arrival DESC LIMIT {RECEIPTS_READ}"
        );
        let received_any: bool = !self
            .client
            .rows(&format!(
                "SELECT 1 AS one FROM {received} WHERE project = {project} LIMIT 1"
            ))
            .await?
            .is_empty();
        let candidates = if received_any {
            format!(" AND trace_id IN ({latest_receipts})")
        } else {
            String::new()
        };
        let rows = self
            .client
            .rows(&format!(
                "SELECT v, count() AS n FROM (SELECT {column} AS v FROM {spans} \
                 WHERE project = {project} AND trace_id IN (SELECT trace_id FROM {spans} \
                 WHERE project = {project}{candidates} \
                 GROUP BY trace_id ORDER BY min(start_ns) DESC LIMIT {FIELD_VALUE_TRACES})) \
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
