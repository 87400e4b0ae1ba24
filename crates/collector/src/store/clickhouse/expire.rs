//! Retention on ClickHouse: the traces that started before a cutoff are found by their first
//! span, and their rows are deleted by mutations (`ALTER TABLE ... DELETE`), which ClickHouse
//! applies in the background: readers stop seeing them once it has.

use super::client::RowExt;
use super::traces::id_list;
use super::ClickhouseStore;
use crate::store::StoreResult;

/// Trace ids per mutation.
const CHUNK: usize = 1_000;

impl ClickhouseStore {
    pub(super) async fn expire(&self, cutoff_ns: i64) -> StoreResult<u64> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT trace_id FROM {} GROUP BY trace_id HAVING min(start_ns) < {cutoff_ns}",
                self.spans()
            ))
            .await?;
        let ids: Vec<String> = rows.iter().map(|r| r.str_of("trace_id")).collect();
        for chunk in ids.chunks(CHUNK) {
            let ids = id_list(chunk);
            // The per-trace rows first: a list never names a trace whose spans are gone.
            for table in [
                super::trace_table::TRACES.name,
                super::service_parts::SERVICE_PARTS.name,
                super::splits::SPLITS.name,
                super::splits::REPEATS.name,
                super::tag_index::TAGS.name,
                super::tag_starts::TAG_STARTS.name,
                "spans",
                "span_pieces",
                "received",
                "feedback",
            ] {
                self.client
                    .execute(&format!(
                        "{} DELETE WHERE trace_id IN ({ids})",
                        self.layout.alter(table)
                    ))
                    .await?;
            }
        }
        Ok(ids.len() as u64)
    }
}
