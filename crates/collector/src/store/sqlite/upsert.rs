//! Spans that arrive in pieces: `Store::upsert_spans`.
//!
//! LangSmith sends a run as a `post` (start, inputs) and later a `patch` (end, outputs,
//! error), sometimes the other way round, sometimes twice. The ordinary insert path keeps the
//! first version of a span (`INSERT OR IGNORE`) and updates trace summaries incrementally,
//! which only works for spans that never change. Here a stored span is replaced in place by
//! `merge(stored, new)` (same row, so the arrival order the summary depends on is kept), the
//! service counts move from the old version to the new, and the summary of every trace that
//! had a span replaced is rebuilt from its spans, along with its `trace_tags` rows and the
//! `tag_values` counts. Spans not stored yet take the ordinary insert path.
//!
//! All of it runs on the writer thread inside the job's savepoint, so the read-merge-write of
//! a span cannot interleave with another write.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::{params, Connection, OptionalExtension};
use skein_model::span::Span;

use super::codec::{self, CurrentDict, SpanRow};
use super::{insert_spans, merge_trace, TagCounts, TraceDelta};
use crate::store::{SpanMerge, StoreResult, WriteOutcome};

/// What the upsert and lookup paths need on top of the versioned schema. `IF NOT EXISTS`
/// makes this idempotent and independent of the schema version, so it cannot clash with
/// other migrations.
///
/// `span_lookup` finds a span by its id alone (LangSmith clients name a run by its UUID only:
/// `GET /runs/{id}`, feedback on a run; the span id is a hash of it). Only spans stored through
/// `upsert_spans` are in it: an index on `spans (span_id)` would do the same for every span
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

pub(super) fn upsert_spans(
    conn: &Connection,
    next_trace_id: &mut i64,
    dict: &CurrentDict,
    spans: &[Span],
    merge: SpanMerge,
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
        replace_row(conn, trace, &merged, dict)?;
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

fn replace_row(conn: &Connection, trace: i64, span: &Span, dict: &CurrentDict) -> StoreResult<()> {
    let body = codec::encode(span, dict.get().as_deref())?;
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
    Ok(())
}

/// Recomputes the summary row of trace `id`, its `trace_tags` and its share of `tag_values`
/// from its spans, exactly as if they had all arrived in one batch in their stored order. The
/// trace keeps its id (its spans and tags refer to it).
fn rebuild_trace(
    conn: &Connection,
    id: i64,
    project: &str,
    trace_id: &str,
    tag_counts: &mut TagCounts,
) -> StoreResult<()> {
    let old_tags: Option<String> = conn
        .prepare_cached("SELECT tags FROM traces WHERE id = ?1")?
        .query_row(params![id], |r| r.get(0))
        .optional()?;
    let old_tags: BTreeMap<String, String> = old_tags
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    for (key, value) in &old_tags {
        tag_counts.add(project, key, value, -1);
    }
    conn.prepare_cached("DELETE FROM trace_tags WHERE trace = ?1")?
        .execute(params![id])?;
    conn.prepare_cached("DELETE FROM traces WHERE id = ?1")?
        .execute(params![id])?;

    let mut delta = TraceDelta::new();
    let mut stmt = conn.prepare_cached("SELECT body FROM spans WHERE trace = ?1 ORDER BY id")?;
    let mut rows = stmt.query(params![id])?;
    while let Some(row) = rows.next()? {
        let body: Vec<u8> = row.get(0)?;
        match codec::decode(conn, &body) {
            Ok(span) => delta.add(&SpanRow::with_body(span, Vec::new())),
            Err(e) => {
                tracing::warn!(%trace_id, error = %e, "a stored span is unreadable; left out of the summary")
            }
        }
    }
    if delta.span_count > 0 {
        // With no summary row left, this writes a fresh one and counts every tag once.
        merge_trace(conn, project, trace_id, id, None, delta, tag_counts)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{SqliteOptions, SqliteStore};
    use crate::store::Store;
    use skein_model::span::{Span, SpanStatus};
    use skein_model::{TagFilter, TraceQuery};

    /// A merge that lets the newer version win but keeps the stored output when the new one
    /// has none: enough to exercise the store without the LangSmith rules.
    fn newer_wins(stored: &Span, incoming: Span) -> Span {
        let mut merged = incoming;
        if merged.output.is_none() {
            merged.output.clone_from(&stored.output);
        }
        merged
    }

    fn span(id: &str, parent: Option<&str>, service: &str) -> Span {
        Span {
            project: "p".into(),
            trace_id: "a".repeat(32),
            span_id: id.repeat(16 / id.len()),
            parent_span_id: parent.map(|p| p.repeat(16 / p.len())),
            name: format!("span-{id}"),
            service: service.into(),
            start_ns: 1_000,
            end_ns: 2_000,
            ..Span::default()
        }
    }

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(SqliteOptions::new(dir.path().join("skein.db"))).unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn a_replaced_span_keeps_every_count_exact() {
        let (_dir, store) = store();
        let mut root = span("1", None, "svc-a");
        root.tags.insert("env".into(), "staging".into());
        let child = span("2", Some("1"), "svc-a");
        let outcome = store
            .upsert_spans(vec![root.clone(), child.clone()], newer_wins)
            .await
            .unwrap();
        assert_eq!((outcome.inserted, outcome.merged), (2, 0));

        // The root's patch: it ended later, failed, moved service and changed a tag.
        let mut patched = root.clone();
        patched.end_ns = 9_000;
        patched.status = SpanStatus::Error;
        patched.service = "svc-b".into();
        patched.tags.insert("env".into(), "production".into());
        patched.input_tokens = Some(7);
        let outcome = store
            .upsert_spans(vec![patched.clone()], newer_wins)
            .await
            .unwrap();
        assert_eq!(outcome.merged, 1);
        // Sent again: nothing changes.
        let outcome = store.upsert_spans(vec![patched], newer_wins).await.unwrap();
        assert_eq!((outcome.merged, outcome.duplicates), (0, 1));

        let page = store
            .list_traces("p", &TraceQuery::default())
            .await
            .unwrap();
        assert_eq!(page.total, 1);
        let t = &page.traces[0];
        assert_eq!(t.span_count, 2);
        assert_eq!(t.error_count, 1);
        assert_eq!(t.status, SpanStatus::Error);
        assert_eq!(t.end_ns, 9_000);
        assert_eq!(t.input_tokens, 7);
        assert_eq!(t.services, vec!["svc-b", "svc-a"]);
        assert_eq!(t.tags["env"], "production");

        let services = store.services("p").await.unwrap();
        let count = |name: &str| {
            services
                .iter()
                .find(|s| s.name == name)
                .map(|s| (s.span_count, s.error_count))
        };
        assert_eq!(count("svc-a"), Some((1, 0)));
        assert_eq!(count("svc-b"), Some((1, 1)));

        let values = store.tag_values("p", "env", None, 10).await.unwrap();
        assert_eq!(values.len(), 1, "{values:?}");
        assert_eq!(values[0].value, "production");
        assert_eq!(values[0].trace_count, 1);
        let by_tag = |v: &str| TraceQuery {
            tags: vec![TagFilter::parse(&format!("env={v}")).unwrap()],
            ..TraceQuery::default()
        };
        assert_eq!(
            store
                .list_traces("p", &by_tag("production"))
                .await
                .unwrap()
                .total,
            1
        );
        assert_eq!(
            store
                .list_traces("p", &by_tag("staging"))
                .await
                .unwrap()
                .total,
            0
        );
    }

    #[tokio::test]
    async fn pieces_in_one_request_are_merged_and_found_by_span_id() {
        let (_dir, store) = store();
        let post = span("3", None, "svc");
        let mut patch = post.clone();
        patch.output = Some("done".into());
        patch.end_ns = 5_000;
        let outcome = store
            .upsert_spans(vec![post.clone(), patch], newer_wins)
            .await
            .unwrap();
        assert_eq!((outcome.inserted, outcome.merged), (1, 0));
        // A later post without output keeps the stored output.
        store
            .upsert_spans(vec![post.clone()], newer_wins)
            .await
            .unwrap();
        let found = store.find_spans(&post.span_id, 10).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].output.as_deref(), Some("done"));
        // Spans written the ordinary way are not in the lookup (it would cost every write).
        let mut plain = span("4", None, "svc");
        plain.trace_id = "b".repeat(32);
        store.write_spans(vec![plain.clone()]).await.unwrap();
        assert!(store
            .find_spans(&plain.span_id, 10)
            .await
            .unwrap()
            .is_empty());
        let all = store.trace_spans("p", &post.trace_id).await.unwrap();
        assert_eq!(all.len(), 1);
        let page = store
            .list_traces("p", &TraceQuery::default())
            .await
            .unwrap();
        assert_eq!(page.traces[0].span_count, 1);
    }
}
