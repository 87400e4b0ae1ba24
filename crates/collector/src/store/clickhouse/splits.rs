//! The traces whose per-trace rows (`trace_table`) are not their values: `trace_splits`
//! (schema 13) names every trace with more than one row (its spans written by several inserts)
//! or a row fed a span twice; `trace_repeats` (schema 15) names, among them, those with a span
//! stored more than once (a retry, a LangSmith run's post then patch, each fold of a span's
//! pieces).
//!
//! A read folds a repeated trace from `spans FINAL` (the latest version of each span). A trace
//! merely written in parts (the 100k-span trace sent in ten requests, a batch exporter's trace
//! cut across batches) has each span once: its per-trace rows, merged by their ranks, are its
//! values (`trace_table`), as are its per-service parts (`service_parts`).
//!
//! Collectors keep no state, so both are found where they happen: after each insert into
//! `spans` is acknowledged, and before the writer acknowledges it to its clients, the writer
//! asks which of the insert's traces now have more than one row (or a row fed a span twice),
//! and of those, which have more spans in their rows than distinct span ids in `spans`
//! (`mark_splits`). The rows are never folded, so a span sent twice is counted twice there even
//! once a merge of `spans` has folded its versions into one (which `spans`' own count would
//! miss). Of two inserts of one trace racing on two collectors, the one checked last sees
//! both. A failed check fails the insert's requests, whose retry checks again: no acknowledged
//! trace is read as whole, or without `FINAL`, when it may not be. (A collector of schema 14
//! still writing after the upgrade names no repeats: upgrade every collector together.)

use std::collections::HashSet;

use serde_json::{json, Value};

use super::client::{quote, Client, RowExt};
use super::schema::{Layout, Table};
use super::trace_table::TRACES;
use super::traces::id_list;
use crate::store::StoreResult;

/// The split traces.
pub(super) const SPLITS: Table = Table {
    name: "trace_splits",
    columns: "project String, trace_id String, marked DateTime",
    engine: "ReplacingMergeTree",
    version: None,
    order_by: "(project, trace_id)",
    partition_by: None,
    shard_by: "cityHash64(trace_id)",
    settings: None,
};

/// The split traces with a span stored more than once: folded from `spans FINAL`.
pub(super) const REPEATS: Table = Table {
    name: "trace_repeats",
    columns: "project String, trace_id String, marked DateTime",
    engine: "ReplacingMergeTree",
    version: None,
    order_by: "(project, trace_id)",
    partition_by: None,
    shard_by: "cityHash64(trace_id)",
    settings: None,
};

/// Of a trace's rows grouped: whether it is split (its values are not one row's).
pub(super) const SPLIT: &str = "count() > 1 OR countIf(row_count != span_ids) > 0";

/// Of a trace's rows of `spans` grouped: whether a span has more than one (versions a merge
/// has not folded yet; once folded, the one row left is the one `FINAL` reads). Schema 15's
/// upgrade names repeats by it; the writer and schema 18 by the per-trace rows' counts.
const REPEATED: &str = "count() > uniqExact(span_id)";

/// The traces among `split` (a condition on the project and trace id) with more spans in
/// their per-trace rows `rows` than distinct span ids in `spans`, as (project, trace_id).
pub(super) fn repeated_among(rows: &str, spans: &str, split: &str) -> String {
    format!(
        "SELECT project, trace_id FROM (\
         SELECT project, trace_id, sum(row_count) AS stored, toUInt64(0) AS distinct_ids \
         FROM {rows} WHERE {split} GROUP BY project, trace_id \
         UNION ALL SELECT project, trace_id, toUInt64(0) AS stored, \
         uniqExact(span_id) AS distinct_ids FROM {spans} WHERE {split} \
         GROUP BY project, trace_id) \
         GROUP BY project, trace_id HAVING sum(stored) > sum(distinct_ids)"
    )
}

/// Most trace ids one check asks about (a query's text stays far below the server's limit).
const CHECKED_AT_ONCE: usize = 2_000;

/// The tables the checks read and write, by their names as queries use them.
pub(super) struct SplitTables {
    pub rows: String,
    pub spans: String,
    pub splits: String,
    pub repeats: String,
}

impl SplitTables {
    pub(super) fn of(layout: &Layout) -> SplitTables {
        SplitTables {
            rows: layout.table(TRACES.name),
            spans: layout.table("spans"),
            splits: layout.table(SPLITS.name),
            repeats: layout.table(REPEATS.name),
        }
    }
}

/// Names the traces among `traces` (project, trace id: those an insert into `spans` just
/// wrote) that are now split, and those of them now repeated (see the module doc).
pub(super) async fn mark_splits(
    client: &Client,
    tables: &SplitTables,
    traces: &[(String, String)],
    quorum: u32,
) -> StoreResult<()> {
    let mut by_project: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for (project, trace_id) in traces {
        by_project
            .entry(project.as_str())
            .or_default()
            .push(trace_id.clone());
    }
    let mut split: Vec<Value> = Vec::new();
    let mut repeated: Vec<Value> = Vec::new();
    let mark = |project: &str, row: &Value| json!({"project": project, "trace_id": row.str_of("trace_id"), "marked": now_s()});
    for (project, mut ids) in by_project {
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(CHECKED_AT_ONCE) {
            let found = client
                .rows(&format!(
                    "SELECT trace_id FROM {} WHERE project = {} AND trace_id IN ({}) \
                     GROUP BY trace_id HAVING {SPLIT}",
                    tables.rows,
                    quote(project),
                    id_list(chunk)
                ))
                .await?;
            if found.is_empty() {
                continue;
            }
            split.extend(found.iter().map(|r| mark(project, r)));
            let found: Vec<String> = found.iter().map(|r| r.str_of("trace_id")).collect();
            let again = client
                .rows(&repeated_among(
                    &tables.rows,
                    &tables.spans,
                    &format!(
                        "project = {} AND trace_id IN ({})",
                        quote(project),
                        id_list(&found)
                    ),
                ))
                .await?;
            repeated.extend(again.iter().map(|r| mark(project, r)));
        }
    }
    // The repeats first: a trace named split is read without `FINAL` unless named here.
    client.insert(&tables.repeats, &repeated, quorum).await?;
    client.insert(&tables.splits, &split, quorum).await
}

/// Seconds since the epoch, for a `DateTime` column.
fn now_s() -> u64 {
    crate::clock::now_ms().max(0) as u64 / 1000
}

/// Schema 15: the repeats, then those among the traces named split before (the table first,
/// so that a collector of this schema writing meanwhile names its own).
pub(super) async fn create_repeats(client: &Client, layout: &Layout) -> StoreResult<()> {
    for statement in layout.create(&REPEATS) {
        client.execute(&statement).await?;
    }
    client
        .insert_select(&format!(
            "INSERT INTO {} SELECT project, trace_id, now() AS marked FROM {} \
             WHERE (project, trace_id) GLOBAL IN (SELECT project, trace_id FROM {}) \
             GROUP BY project, trace_id HAVING {REPEATED}",
            layout.table(REPEATS.name),
            layout.table("spans"),
            layout.table(SPLITS.name)
        ))
        .await
}

/// Statements that take a database back to before schema 15 (the repeats dropped).
#[cfg(test)]
pub(super) fn undo(layout: &Layout) -> Vec<String> {
    vec![format!("DROP TABLE {}", layout.table(REPEATS.name))]
}

/// The split traces of a project within `where_` (a condition on `trace_splits`' columns).
pub(super) fn splits_in(splits: &str, where_: &str) -> String {
    format!("SELECT DISTINCT trace_id FROM {splits} WHERE {where_}")
}

/// Most ids of split traces written into a query as a list; past this, the query asks for
/// them itself.
pub(super) const MAX_LISTED_COPIES: usize = 10_000;

/// The split traces, as a read found them before the query: 18.16 does not narrow a `FINAL`
/// read of `spans` by a subquery's set (it reads every span), but it does by a list of ids,
/// and none at all leaves that part out.
pub(super) enum Copies {
    /// Every split trace, and those of them repeated.
    Ids {
        split: Vec<String>,
        repeated: Vec<String>,
    },
    /// Too many to list: this subquery selects them (each read as repeated).
    Query(String),
}

impl Copies {
    pub(super) fn none(&self) -> bool {
        matches!(self, Copies::Ids { split, .. } if split.is_empty())
    }

    pub(super) fn sql(&self) -> String {
        match self {
            Copies::Ids { split, .. } => id_list(split),
            Copies::Query(q) => q.clone(),
        }
    }

    /// ` AND trace_id NOT IN (…)`: the traces whose one row is their values.
    pub(super) fn whole(&self) -> String {
        if self.none() {
            String::new()
        } else {
            format!(" AND trace_id NOT IN ({})", self.sql())
        }
    }

    /// Whether a read of split trace `id` must fold its spans' versions (`FINAL`).
    pub(super) fn is_repeated(&self, id: &str) -> bool {
        match self {
            Copies::Ids { repeated, .. } => repeated.iter().any(|r| r == id),
            Copies::Query(_) => true,
        }
    }

    /// The repeated split traces' ids as SQL, if any: folded from `spans FINAL`.
    pub(super) fn repeated(&self) -> Option<String> {
        match self {
            Copies::Ids { repeated, .. } => (!repeated.is_empty()).then(|| id_list(repeated)),
            Copies::Query(q) => Some(q.clone()),
        }
    }

    /// The other split traces' ids as SQL, if any: each span once, so their per-trace rows
    /// merged by rank are their values (`trace_table`).
    pub(super) fn once(&self) -> Option<String> {
        match self {
            Copies::Ids { split, repeated } => {
                let named: HashSet<&String> = repeated.iter().collect();
                let once: Vec<String> = split
                    .iter()
                    .filter(|id| !named.contains(id))
                    .cloned()
                    .collect();
                (!once.is_empty()).then(|| id_list(&once))
            }
            Copies::Query(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use skein_model::span::Span;
    use skein_model::TraceQuery;

    use super::super::client::RowExt;
    use super::super::{test_store as open, testserver, ClickhouseStore};
    use crate::store::testsuite::span;
    use crate::store::{QueryStore, SpanStore};

    /// A root and its child in trace `id`.
    fn trace(id: &str) -> Vec<Span> {
        vec![span(id, "1", None, 0), span(id, "2", Some("1"), 1)]
    }

    /// The split traces (by first letter), each with whether it is named repeated; and that
    /// every one not named has each span once in `spans` (what reading it without `FINAL`
    /// needs).
    async fn named(store: &ClickhouseStore) -> Vec<(String, bool)> {
        let tables = super::SplitTables::of(&store.layout);
        let once: std::collections::HashMap<String, bool> = store
            .client
            .rows(&format!(
                "SELECT trace_id, count() = uniqExact(span_id) AS once FROM {} GROUP BY trace_id",
                tables.spans
            ))
            .await
            .unwrap()
            .iter()
            .map(|r| (r.str_of("trace_id"), r.i64_of("once") == 1))
            .collect();
        let rows = store
            .client
            .rows(&format!(
                "SELECT trace_id, trace_id IN (SELECT trace_id FROM {}) AS repeated \
                 FROM {} GROUP BY trace_id ORDER BY trace_id",
                tables.repeats, tables.splits
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| {
                let id = r.str_of("trace_id");
                let repeated = r.i64_of("repeated") == 1;
                assert!(
                    repeated || once[&id],
                    "trace {id}: a span stored twice, not named repeated"
                );
                (id[..1].to_string(), repeated)
            })
            .collect()
    }

    async fn span_counts(store: &ClickhouseStore) -> Vec<(String, u64)> {
        let page = store
            .list_traces("p", &TraceQuery::default())
            .await
            .unwrap();
        let mut counts: Vec<(String, u64)> = page
            .traces
            .iter()
            .map(|t| (t.trace_id[..1].to_string(), t.span_count))
            .collect();
        counts.sort();
        counts
    }

    /// A trace written in two parts is split, not repeated; a part written again (a retry)
    /// repeats it; either way each span counts once.
    #[tokio::test]
    async fn a_trace_in_parts_is_split_and_a_retry_repeats_it() {
        let store = open(&testserver::fresh_database()).await;
        let a = trace("a");
        store.write_spans(a[..1].to_vec()).await.unwrap();
        store.write_spans(a[1..].to_vec()).await.unwrap();
        store.write_spans(trace("b")).await.unwrap();
        assert_eq!(named(&store).await, [("a".into(), false)]);
        assert_eq!(
            span_counts(&store).await,
            [("a".into(), 2), ("b".into(), 2)]
        );
        store.write_spans(a[1..].to_vec()).await.unwrap();
        assert_eq!(named(&store).await, [("a".into(), true)]);
        assert_eq!(
            span_counts(&store).await,
            [("a".into(), 2), ("b".into(), 2)]
        );
    }

    /// A retry whose versions a merge of `spans` folded before the check is still a repeat:
    /// its per-trace rows count the span twice (what a page's summaries merge would count).
    #[tokio::test]
    async fn a_retry_folded_by_a_merge_before_the_check_is_named_repeated() {
        let store = open(&testserver::fresh_database()).await;
        let a = trace("a");
        store.write_spans(a[..1].to_vec()).await.unwrap();
        store.write_spans(a[1..].to_vec()).await.unwrap();
        store.write_spans(a[1..].to_vec()).await.unwrap();
        let tables = super::SplitTables::of(&store.layout);
        for sql in [
            format!("OPTIMIZE TABLE {} FINAL", tables.spans),
            format!("TRUNCATE TABLE {}", tables.repeats),
        ] {
            store.client.execute(&sql).await.unwrap();
        }
        assert_eq!(span_counts(&store).await, [("a".into(), 3)], "unnamed");
        let written = [("p".to_string(), a[0].trace_id.clone())];
        super::mark_splits(&store.client, &tables, &written, 1)
            .await
            .unwrap();
        assert_eq!(named(&store).await, [("a".into(), true)]);
        assert_eq!(span_counts(&store).await, [("a".into(), 2)]);
    }

    /// A database of schema 14 gains the repeats on open, naming those among the traces named
    /// split before; traces written after are named as they are written.
    #[tokio::test]
    async fn split_traces_stored_before_the_repeats_are_named_on_upgrade() {
        let database = testserver::fresh_database();
        let store = open(&database).await;
        let a = trace("a");
        store.write_spans(a[..1].to_vec()).await.unwrap();
        store.write_spans(a[1..].to_vec()).await.unwrap();
        store.write_spans(trace("c")).await.unwrap();
        store.write_spans(trace("c")).await.unwrap();
        super::super::trace_table::back_to_schema(&store, super::undo(&store.layout), 14).await;
        drop(store);
        let store = open(&database).await;
        let before = named(&store).await;
        assert_eq!(before[0], ("a".into(), false));
        assert_eq!(before.len(), 2);
        let d = trace("d");
        store.write_spans(d[..1].to_vec()).await.unwrap();
        store.write_spans(d[1..].to_vec()).await.unwrap();
        assert_eq!(named(&store).await[2], ("d".into(), false));
        assert_eq!(
            span_counts(&store).await,
            [("a".into(), 2), ("c".into(), 2), ("d".into(), 2)]
        );
    }
}
