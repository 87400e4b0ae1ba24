//! Spans that arrive in pieces: `SpanStore::write_span_pieces`.
//!
//! LangSmith sends a run as a `post` (start, inputs) and later a `patch` (end, outputs,
//! error), sometimes the other way round, sometimes twice. The ordinary insert path keeps the
//! first version of a span (`INSERT OR IGNORE`) and updates trace summaries incrementally,
//! which only works for spans that never change. Here a stored span is replaced in place by
//! `span_pieces::merge(stored, new)` (same row, so it keeps its place in arrival order), the
//! service counts move from the old version to the new, and the summary of every trace that
//! had a span replaced is rebuilt from its spans, along with its `trace_tags` rows and the
//! `tag_values` counts. Spans not stored yet take the ordinary insert path.
//!
//! All of it runs on the writer thread inside the job's savepoint, so the read-merge-write of
//! a span cannot interleave with another write.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::{params, Connection, OptionalExtension};
use skein_model::span::Span;

use skein_model::span_pieces::merge;

use super::codec::{self, CurrentDict, SpanRow};
use super::traces::{fold_stored_spans, insert_spans, stored_tags, write_trace, TagCounts};
use super::{span_facts, span_text};
use crate::store::{StoreResult, WriteOutcome};

/// What the upsert and lookup paths need on top of the versioned schema. `IF NOT EXISTS`
/// makes this idempotent and independent of the schema version, so it cannot clash with
/// other migrations.
///
/// `span_lookup` finds a span by its id alone (LangSmith clients name a run by its UUID only:
/// `GET /runs/{id}`, feedback on a run; the span id is a hash of it). Only spans stored through
/// `write_span_pieces` are in it: an index on `spans (span_id)` would do the same for every span
/// but cost the OTLP path about a fifth of its insert rate. Whatever deletes spans must
/// delete their rows here too.
pub(super) fn ensure_schema(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS span_lookup (
            span_id TEXT NOT NULL,
            project TEXT NOT NULL,
            trace_id TEXT NOT NULL,
            PRIMARY KEY (span_id, project, trace_id)
        ) WITHOUT ROWID;",
    )?;
    Ok(())
}

type Key = (String, String, String);

fn key(span: &Span) -> Key {
    (
        span.project.clone(),
        span.trace_id.clone(),
        span.span_id.clone(),
    )
}

pub(super) fn write_pieces(
    conn: &Connection,
    next_trace_id: &mut i64,
    dict: &CurrentDict,
    spans: &[Span],
) -> StoreResult<WriteOutcome> {
    // Pieces of one span within the request are merged first, in the order they came.
    let mut order: Vec<Key> = Vec::new();
    let mut folded: HashMap<Key, Span> = HashMap::new();
    for span in spans {
        let k = key(span);
        match folded.remove(&k) {
            Some(previous) => {
                let merged = merge(&previous, span.clone());
                folded.insert(k, merged);
            }
            None => {
                order.push(k.clone());
                folded.insert(k, span.clone());
            }
        }
    }

    let mut lookup = conn.prepare_cached(
        "INSERT OR IGNORE INTO span_lookup (span_id, project, trace_id) VALUES (?1, ?2, ?3)",
    )?;
    for (project, trace_id, span_id) in &order {
        lookup.execute(params![span_id, project, trace_id])?;
    }

    let mut outcome = WriteOutcome::default();
    let mut fresh = Vec::new();
    let mut touched: BTreeSet<(i64, String, String)> = BTreeSet::new();
    // (project, service) -> (span count change, error count change)
    let mut service_moves: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for k in order {
        let Some(incoming) = folded.remove(&k) else {
            continue;
        };
        let stored: Option<(i64, Vec<u8>)> = conn
            .prepare_cached(
                "SELECT t.id, s.body FROM traces t JOIN spans s ON s.trace = t.id \
                 WHERE t.project = ?1 AND t.trace_id = ?2 AND s.span_id = ?3",
            )?
            .query_row(params![k.0, k.1, k.2], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((trace, body)) = stored else {
            fresh.push(SpanRow::encode(incoming, dict.get().as_deref())?);
            continue;
        };
        let merged = match codec::decode(conn, &body) {
            Ok(stored) => {
                let merged = merge(&stored, incoming);
                if merged == stored {
                    outcome.duplicates += 1;
                    continue;
                }
                let old = service_moves
                    .entry((stored.project.clone(), stored.service.clone()))
                    .or_insert((0, 0));
                old.0 -= 1;
                old.1 -= i64::from(stored.status.is_error());
                merged
            }
            // A body this version cannot read is replaced rather than kept forever. Its
            // service count cannot be moved (the old service is unknown); the trace is rebuilt.
            Err(e) => {
                tracing::warn!(trace_id = %k.1, span_id = %k.2, error = %e, "replacing an unreadable stored span");
                incoming
            }
        };
        let id = replace_row(conn, trace, &merged, dict)?;
        super::received::span_changed(conn, id)?;
        let new = service_moves
            .entry((merged.project.clone(), merged.service.clone()))
            .or_insert((0, 0));
        new.0 += 1;
        new.1 += i64::from(merged.status.is_error());
        touched.insert((trace, k.0, k.1));
        outcome.merged += 1;
    }

    let inserted = insert_spans(conn, next_trace_id, &fresh)?;
    outcome.inserted += inserted.inserted;
    outcome.duplicates += inserted.duplicates;

    // Parameters are reused in the UPDATE branch, so a decrement never goes below zero.
    let mut move_service = conn.prepare_cached(
        "INSERT INTO services (project, name, span_count, error_count) \
         VALUES (?1, ?2, max(0, ?3), max(0, ?4)) \
         ON CONFLICT (project, name) DO UPDATE SET \
         span_count = max(0, span_count + ?3), error_count = max(0, error_count + ?4)",
    )?;
    for ((project, name), (count, errors)) in service_moves {
        if count != 0 || errors != 0 {
            move_service.execute(params![project, name, count, errors])?;
        }
    }

    let mut tag_counts = TagCounts::default();
    for (trace, project, trace_id) in touched {
        rebuild_trace(conn, trace, &project, &trace_id, &mut tag_counts)?;
    }
    tag_counts.flush(conn)?;
    Ok(outcome)
}

/// Returns the span's row id.
fn replace_row(conn: &Connection, trace: i64, span: &Span, dict: &CurrentDict) -> StoreResult<i64> {
    let dict = dict.get();
    let dict = dict.as_deref();
    let body = codec::encode(span, dict)?;
    // In place: the row keeps its rowid, i.e. its place in the arrival order.
    conn.prepare_cached(
        "UPDATE spans SET parent_span_id = ?3, name = ?4, span_type = ?5, service = ?6, \
         start_ns = ?7, end_ns = ?8, status = ?9, tokens = ?10, body = ?11, kind = ?12, cost = ?13 \
         WHERE trace = ?1 AND span_id = ?2",
    )?
    .execute(params![
        trace,
        span.span_id,
        span.parent_span_id,
        span.name,
        span.span_type.code(),
        span.service,
        span.start_ns,
        span.end_ns,
        span.status.code(),
        span.total_tokens().unwrap_or(0),
        body,
        span.kind.code(),
        span.cost.filter(|c| c.is_finite()).unwrap_or(0.0),
    ])?;
    let id = span_facts::replace(conn, trace, span, dict)?;
    let text = codec::Packed::pack(skein_model::trace_search::search_text(span), dict);
    span_text::replace(conn, id, &text)?;
    Ok(id)
}

/// Recomputes the summary row of trace `id`, its `trace_tags` and its share of `tag_values`
/// from its spans, as if they had all arrived in one batch. The trace keeps its id (its spans
/// and tags refer to it).
fn rebuild_trace(
    conn: &Connection,
    id: i64,
    project: &str,
    trace_id: &str,
    tag_counts: &mut TagCounts,
) -> StoreResult<()> {
    let old_tags = stored_tags(conn, id)?;
    let fold = fold_stored_spans(conn, id, trace_id)?;
    write_trace(conn, project, trace_id, id, &fold, &old_tags, tag_counts)
}
