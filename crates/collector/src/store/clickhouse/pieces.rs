//! Spans that arrive in pieces (`SpanStore::write_span_pieces`): every piece is kept as it
//! came in `span_pieces`, and the span folded from all of its pieces so far
//! (`skein_model::span_pieces`) is written to `spans`, ranked by how much it saw
//! (`writer::piece_version`). Two collectors folding pieces of one span at once both insert
//! their piece before reading them all back, so the later reader folds both and wins.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use skein_model::span::Span;
use skein_model::span_pieces;

use super::client::{quote, RowExt};
use super::span_row::{encode_receipt, encode_span, span_column_list, RECEIPT_COLUMNS};
use super::writer::{arrivals, piece_version};
use super::ClickhouseStore;
use crate::store::{StoreResult, WriteOutcome};

/// (project, trace id, span id).
type Key = (String, String, String);

/// Most spans `pieced_spans` returns, whatever the caller asks.
const MAX_FOUND: u32 = 100;

impl ClickhouseStore {
    pub(super) async fn write_pieces(&self, pieces: Vec<Span>) -> StoreResult<WriteOutcome> {
        let first_new = arrivals(pieces.len());
        let rows: Vec<Value> = pieces
            .iter()
            .enumerate()
            .map(|(i, p)| {
                json!({
                    "span_id": p.span_id,
                    "project": p.project,
                    "trace_id": p.trace_id,
                    "arrival": first_new + i as u64,
                    "body": serde_json::to_string(p).unwrap_or_default(),
                })
            })
            .collect();
        self.client
            .insert(&self.layout.table("span_pieces"), &rows, self.quorum)
            .await?;

        let span_ids: Vec<String> = pieces.iter().map(|p| p.span_id.clone()).collect();
        let stored = self
            .client
            .rows(&format!(
                "SELECT project, trace_id, span_id, arrival, body FROM {} \
                 WHERE span_id IN ({}) ORDER BY arrival",
                self.layout.table("span_pieces"),
                super::traces::id_list(&span_ids)
            ))
            .await?;
        let wanted: std::collections::HashSet<Key> = pieces
            .iter()
            .map(|p| (p.project.clone(), p.trace_id.clone(), p.span_id.clone()))
            .collect();
        let mut by_key: BTreeMap<Key, Vec<(u64, Span)>> = BTreeMap::new();
        for row in &stored {
            let key = (
                row.str_of("project"),
                row.str_of("trace_id"),
                row.str_of("span_id"),
            );
            if !wanted.contains(&key) {
                continue;
            }
            if let Ok(span) = serde_json::from_str::<Span>(&row.str_of("body")) {
                by_key
                    .entry(key)
                    .or_default()
                    .push((row.i64_of("arrival") as u64, span));
            }
        }

        let mut outcome = WriteOutcome::default();
        let mut folded_rows = Vec::new();
        let mut folded: Vec<Span> = Vec::new();
        for versions in by_key.values() {
            let before = span_pieces::fold(
                versions
                    .iter()
                    .filter(|(arrival, _)| *arrival < first_new)
                    .map(|(_, s)| s.clone()),
            );
            let Some(now) = span_pieces::fold(versions.iter().map(|(_, s)| s.clone())) else {
                continue;
            };
            match &before {
                None => outcome.inserted += 1,
                Some(b) if *b == now => outcome.duplicates += 1,
                Some(_) => outcome.merged += 1,
            }
            let first = versions.first().map_or(first_new, |(a, _)| *a);
            let latest = versions.last().map_or(first_new, |(a, _)| *a);
            encode_span(
                &mut folded_rows,
                &now,
                true,
                piece_version(latest, versions.len()),
                first,
            );
            folded.push(now);
        }
        let (columns, structure) = span_column_list();
        self.client
            .insert_row_binary(
                &self.layout.table("spans"),
                (&columns, &structure),
                folded_rows,
                self.quorum,
            )
            .await?;
        // A fold is another row of its trace: named split before any client is answered.
        let traces: Vec<(String, String)> = folded
            .iter()
            .map(|s| (s.project.clone(), s.trace_id.clone()))
            .collect();
        super::splits::mark_splits(
            &self.client,
            &super::splits::SplitTables::of(&self.layout),
            &traces,
            self.quorum,
        )
        .await?;
        // Each folded span is received again (a patch changes what a stream showed).
        let first_receipt = arrivals(folded.len());
        let mut receipts = Vec::new();
        for (i, span) in folded.iter().enumerate() {
            let receipt = (
                span.project.as_str(),
                span.trace_id.as_str(),
                span.span_id.as_str(),
            );
            encode_receipt(&mut receipts, receipt, first_receipt + i as u64);
        }
        self.client
            .insert_row_binary(
                &self.layout.table("received"),
                RECEIPT_COLUMNS,
                receipts,
                self.quorum,
            )
            .await?;
        let projects: std::collections::BTreeSet<&str> =
            pieces.iter().map(|p| p.project.as_str()).collect();
        let names: Vec<Value> = projects.iter().map(|p| json!({ "name": p })).collect();
        self.client
            .insert(&self.layout.table("span_projects"), &names, self.quorum)
            .await?;
        Ok(outcome)
    }

    /// The folded spans of this id written in pieces, in `project` (any without one).
    pub(super) async fn pieced(
        &self,
        project: Option<&str>,
        span_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<Span>> {
        let in_project = project
            .map(|p| format!(" AND project = {}", quote(p)))
            .unwrap_or_default();
        let rows = self
            .client
            .rows(&format!(
                "SELECT project, trace_id, body FROM {} WHERE span_id = {}{in_project} \
                 ORDER BY arrival",
                self.layout.table("span_pieces"),
                quote(span_id)
            ))
            .await?;
        let mut by_trace: BTreeMap<(String, String), Vec<Span>> = BTreeMap::new();
        for row in &rows {
            if let Ok(span) = serde_json::from_str::<Span>(&row.str_of("body")) {
                by_trace
                    .entry((row.str_of("project"), row.str_of("trace_id")))
                    .or_default()
                    .push(span);
            }
        }
        let mut found: Vec<Span> = by_trace
            .into_values()
            .filter_map(span_pieces::fold)
            .collect();
        found.sort_by_key(|s| std::cmp::Reverse(s.start_ns));
        found.truncate(limit.clamp(1, MAX_FOUND) as usize);
        Ok(found)
    }
}
