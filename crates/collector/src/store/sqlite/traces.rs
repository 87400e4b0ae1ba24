//! Writing spans and keeping their traces' summaries: a span is one row with its encoded body
//! (`codec`); a trace is one `traces` row with the summary columns read out of its `TraceFold`
//! (`skein_model::trace_fold`, kept in `trace_folds`); its tags are rows of `trace_tags`, with
//! counts per value in `tag_values` and per service in `services`.
//!
//! Keys are chosen so that writes append: a trace gets an integer id (`traces.id`) when its
//! first span arrives, and spans and tags are keyed by it (`spans (trace, span_id)`,
//! `trace_tags (trace, key)`). Keyed by the random 128-bit trace id, every insert landed on a
//! random page of a large index and every commit rewrote most of those pages to the WAL.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{params, Connection, OptionalExtension};
use skein_model::span::SpanType;
use skein_model::trace_fold::{SpanFacts, TraceFold};

use super::codec::{self, SpanRow};
use super::{feedback, to_json};
use super::{span_facts, span_text};
use crate::store::{StoreResult, WriteOutcome};

impl SpanRow {
    fn facts(&self) -> SpanFacts<'_> {
        SpanFacts {
            span_id: &self.span_id,
            parent_span_id: self.parent_span_id.as_deref(),
            name: &self.name,
            span_type: SpanType::from_code(self.span_type),
            service: &self.service,
            start_ns: self.start_ns,
            end_ns: self.end_ns,
            status: self.status,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cost: self.cost,
            session_id: self.session_id.as_deref(),
            user_id: self.user_id.as_deref(),
            tags: &self.tags,
        }
    }
}

/// Changes to `tag_values` counts, gathered over a job and written once per value
/// (`flush`): a request of 100 traces with 7 tags each touches a dozen values, not 700.
/// Project → key → value → change, so that counting a value seen before allocates nothing.
#[derive(Default)]
pub(super) struct TagCounts(HashMap<String, HashMap<String, HashMap<String, i64>>>);

impl TagCounts {
    pub(super) fn add(&mut self, project: &str, key: &str, value: &str, change: i64) {
        fn slot<'m, T: Default>(map: &'m mut HashMap<String, T>, key: &str) -> &'m mut T {
            if !map.contains_key(key) {
                map.insert(key.to_string(), T::default());
            }
            map.get_mut(key).expect("just inserted")
        }
        *slot(slot(slot(&mut self.0, project), key), value) += change;
    }

    pub(super) fn flush(self, conn: &Connection) -> StoreResult<()> {
        // Parameters are reused in the UPDATE branch, so a count never goes below zero.
        let mut upsert = conn.prepare_cached(
            "INSERT INTO tag_values (project, key, value, trace_count) \
             VALUES (?1, ?2, ?3, max(0, ?4)) \
             ON CONFLICT (project, key, value) DO UPDATE SET \
             trace_count = max(0, trace_count + ?4)",
        )?;
        for (project, keys) in &self.0 {
            for (key, values) in keys {
                for (value, change) in values {
                    if *change != 0 {
                        upsert.execute(params![project, key, value, change])?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Stores the spans that are not stored yet (same project, trace and span id: a duplicate,
/// left as it is) and folds what they add into their traces' summaries.
pub(super) fn insert_spans(
    conn: &Connection,
    next_trace_id: &mut i64,
    rows: &[SpanRow],
) -> StoreResult<WriteOutcome> {
    let mut outcome = WriteOutcome::default();
    // The spans of each trace, traces in the order of their first span (so ids follow it).
    let mut group_of: HashMap<(&str, &str), usize> = HashMap::new();
    let mut groups: Vec<Vec<&SpanRow>> = Vec::new();
    for row in rows {
        let i = *group_of
            .entry((&row.project, &row.trace_id))
            .or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
        groups[i].push(row);
    }
    let mut services: HashMap<(&str, &str), (i64, i64)> = HashMap::new();
    let mut tag_counts = TagCounts::default();
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO spans (trace, span_id, parent_span_id, name, span_type, service, \
         start_ns, end_ns, status, tokens, body, kind, cost, id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    // Ids given here, from the counter changes to stored spans share (the receive order).
    let mut next_id = super::received::next_seq(conn)?;
    for group in groups {
        let (project, trace_id) = (group[0].project.as_str(), group[0].trace_id.as_str());
        let stored = read_trace(conn, project, trace_id)?;
        let id = match &stored {
            Some(row) => row.id,
            None => {
                let id = *next_trace_id;
                *next_trace_id += 1;
                id
            }
        };
        let mut added = TraceFold::default();
        for span in group {
            let n = insert.execute(params![
                id,
                span.span_id,
                span.parent_span_id,
                span.name,
                span.span_type,
                span.service,
                span.start_ns,
                span.end_ns,
                span.status.code(),
                span.total_tokens(),
                span.body,
                span.kind.code(),
                span.cost.filter(|c| c.is_finite()).unwrap_or(0.0),
                next_id,
            ])?;
            if n == 0 {
                outcome.duplicates += 1;
                continue;
            }
            outcome.inserted += 1;
            let rowid = next_id;
            next_id += 1;
            span_facts::insert(conn, rowid, span)?;
            span_text::queue(conn, rowid, &span.search_text)?;
            added.add(span.facts());
            let counts = services
                .entry((&span.project, &span.service))
                .or_insert((0, 0));
            counts.0 += 1;
            counts.1 += i64::from(span.status.is_error());
        }
        if added.is_empty() {
            continue;
        }
        let (fold, old_tags) = match stored {
            Some(StoredTrace {
                fold: Some(mut fold),
                ..
            }) => {
                let old_tags = fold.tag_values();
                fold.merge(added);
                (fold, old_tags)
            }
            // A trace stored before folds were kept: fold all of its spans, new ones included.
            Some(StoredTrace { fold: None, .. }) => (
                fold_stored_spans(conn, id, trace_id)?,
                stored_tags(conn, id)?,
            ),
            None => (added, BTreeMap::new()),
        };
        write_trace(
            conn,
            project,
            trace_id,
            id,
            &fold,
            &old_tags,
            &mut tag_counts,
        )?;
    }
    let mut upsert_service = conn.prepare_cached(
        "INSERT INTO services (project, name, span_count, error_count) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (project, name) DO UPDATE SET \
         span_count = span_count + excluded.span_count, error_count = error_count + excluded.error_count",
    )?;
    for ((project, name), (count, errors)) in services {
        upsert_service.execute(params![project, name, count, errors])?;
    }
    tag_counts.flush(conn)?;
    feedback::attach_waiting(conn, rows)?;
    Ok(outcome)
}

/// A trace's row id and its fold (none for a trace stored before folds were kept).
pub(super) struct StoredTrace {
    pub id: i64,
    pub fold: Option<TraceFold>,
}

fn read_trace(
    conn: &Connection,
    project: &str,
    trace_id: &str,
) -> StoreResult<Option<StoredTrace>> {
    let row: Option<(i64, Option<String>)> = conn
        .prepare_cached(
            "SELECT t.id, f.fold FROM traces t LEFT JOIN trace_folds f ON f.trace = t.id \
             WHERE t.project = ?1 AND t.trace_id = ?2",
        )?
        .query_row(params![project, trace_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.map(|(id, fold)| StoredTrace {
        id,
        // An unreadable fold is rebuilt from the spans, like a missing one.
        fold: fold.and_then(|f| serde_json::from_str(&f).ok()),
    }))
}

/// The tags of trace `id` as its `trace_tags` rows hold them.
pub(super) fn stored_tags(conn: &Connection, id: i64) -> StoreResult<BTreeMap<String, String>> {
    let mut stmt = conn.prepare_cached("SELECT key, value FROM trace_tags WHERE trace = ?1")?;
    let tags = stmt
        .query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<BTreeMap<String, String>, _>>()?;
    Ok(tags)
}

/// The fold of every stored span of trace `id`, in arrival order. A span this version cannot
/// read is left out (and said in the log).
pub(super) fn fold_stored_spans(
    conn: &Connection,
    id: i64,
    trace_id: &str,
) -> StoreResult<TraceFold> {
    let mut fold = TraceFold::default();
    let mut stmt = conn.prepare_cached("SELECT body FROM spans WHERE trace = ?1 ORDER BY id")?;
    let mut rows = stmt.query(params![id])?;
    while let Some(row) = rows.next()? {
        let body: Vec<u8> = row.get(0)?;
        match codec::decode(conn, &body) {
            Ok(span) => fold.add(SpanFacts::from(&span)),
            Err(e) => {
                tracing::warn!(%trace_id, error = %e, "a stored span is unreadable; left out of the summary")
            }
        }
    }
    Ok(fold)
}

/// 8 → 9. Re-folds every stored trace from its spans and rewrites its row, its `trace_tags`
/// and the `tag_values` counts: the summary rule changed (`skein_model::trace_fold`).
pub(super) fn refold_stored_traces(conn: &Connection) -> StoreResult<()> {
    let traces: Vec<(i64, String, String)> = conn
        .prepare("SELECT id, project, trace_id FROM traces ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut tag_counts = TagCounts::default();
    for (id, project, trace_id) in traces {
        let fold = fold_stored_spans(conn, id, &trace_id)?;
        if fold.is_empty() {
            continue;
        }
        let old_tags = stored_tags(conn, id)?;
        write_trace(
            conn,
            &project,
            &trace_id,
            id,
            &fold,
            &old_tags,
            &mut tag_counts,
        )?;
    }
    tag_counts.flush(conn)?;
    // A key or value no trace has any more is no suggestion.
    conn.execute("DELETE FROM tag_values WHERE trace_count <= 0", [])?;
    Ok(())
}

/// Writes trace `id`'s row from its fold (inserting it if new), the `trace_tags` rows that
/// changed from `old_tags`, and the changes to the `tag_values` counts into `tag_counts`.
pub(super) fn write_trace(
    conn: &Connection,
    project: &str,
    trace_id: &str,
    id: i64,
    fold: &TraceFold,
    old_tags: &BTreeMap<String, String>,
    tag_counts: &mut TagCounts,
) -> StoreResult<()> {
    let t = fold.summary(trace_id);
    conn.prepare_cached(
        "INSERT INTO traces (project, trace_id, root_name, root_span_id, start_ns, end_ns, \
         duration_ns, span_count, error_count, status, services, tags, session_id, user_id, \
         input_tokens, output_tokens, cost, first_name_start_ns, id, root_span_type) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
         ?19, ?20) \
         ON CONFLICT (id) DO UPDATE SET project = ?1, trace_id = ?2, root_name = ?3, \
         root_span_id = ?4, start_ns = ?5, end_ns = ?6, duration_ns = ?7, span_count = ?8, \
         error_count = ?9, status = ?10, services = ?11, tags = ?12, session_id = ?13, \
         user_id = ?14, input_tokens = ?15, output_tokens = ?16, cost = ?17, \
         first_name_start_ns = ?18, root_span_type = ?20",
    )?
    .execute(params![
        project,
        trace_id,
        t.root_name,
        t.root_span_id,
        t.start_ns,
        t.end_ns,
        t.duration_ns(),
        t.span_count as i64,
        t.error_count as i64,
        t.status.code(),
        // Read from the fold (`list::trace_from_row`): not kept twice.
        "",
        "",
        t.session_id,
        t.user_id,
        t.input_tokens,
        t.output_tokens,
        t.cost,
        // Kept for files of older versions, whose column has no default; folds replace it.
        fold.first_name.as_ref().map_or(0, |f| f.rank.1),
        id,
        t.root_span_type.map(SpanType::code),
    ])?;
    conn.prepare_cached("INSERT OR REPLACE INTO trace_folds (trace, fold) VALUES (?1, ?2)")?
        .execute(params![id, to_json(fold)])?;

    let mut set_tag = conn.prepare_cached(
        "INSERT OR REPLACE INTO trace_tags (trace, key, value, project) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (key, value) in &t.tags {
        let old = old_tags.get(key);
        if old == Some(value) {
            continue;
        }
        set_tag.execute(params![id, key, value, project])?;
        if let Some(old) = old {
            tag_counts.add(project, key, old, -1);
        }
        tag_counts.add(project, key, value, 1);
    }
    let mut drop_tag =
        conn.prepare_cached("DELETE FROM trace_tags WHERE trace = ?1 AND key = ?2")?;
    for (key, old) in old_tags {
        if !t.tags.contains_key(key) {
            drop_tag.execute(params![id, key])?;
            tag_counts.add(project, key, old, -1);
        }
    }
    Ok(())
}
