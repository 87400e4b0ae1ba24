//! The traces' tags by start, `trace_tag_starts` (schema 14): for each insert's spans of a
//! trace (each row of `trace_rows`), its best-ranked span's tags, one row a tag, with the
//! insert's first start, ordered by `(project, key, value, start)`. A whole trace (one row in
//! `trace_rows`, see `trace_table`) has exactly its tags here, so the traces with a tag are a
//! range of the index: its count is a range read and its newest page a `LIMIT` over the range,
//! without reading any trace's tag arrays. Split traces (`trace_splits`) are left out of the
//! range and folded from their spans, as every read of the per-trace rows does.
//!
//! A materialized view fed by every insert into `spans` writes the rows, grouping the insert's
//! spans as `trace_rows`' view does, so the two agree on which traces are whole. (ClickHouse
//! 18.16 does not feed a view from another view's inserts, so it reads `spans` too.)

use skein_model::trace_tags::is_internal_key;

use super::client::{quote, Client};
use super::schema::{Layout, Table};
use super::split_rows;
use super::splits::{Copies, SPLITS};
use super::summary_sql;
use super::trace_table::{self, IndexParts};
use super::traces::RANK;
use crate::store::StoreResult;

pub(super) const TAG_STARTS: Table = Table {
    name: "trace_tag_starts",
    columns: "project String, key String, value String, start Int64, trace_id String, \
        first_arrived DateTime",
    engine: "MergeTree",
    version: None,
    order_by: "(project, key, value, start, trace_id)",
    partition_by: Some("toYYYYMM(first_arrived)"),
    shard_by: "cityHash64(trace_id)",
    settings: None,
};

/// The view that feeds it.
const FEED: &str = "trace_tag_starts_feed";

/// The index rows for the span rows of `spans` (a table name): per trace and month of arrival
/// (as `trace_rows`), the best-ranked span's user tags, each a row. (The arrival is not named
/// `arrived`: 18.16 then reads the alias inside its own `min`.)
fn feed(spans: &str) -> String {
    // One `arrayJoin` (the same expression twice is computed once) of the (key, value) pairs.
    let pairs = format!(
        "arrayJoin(arrayFilter(p -> {}, arrayMap((k, v) -> tuple(k, v), \
         argMin(tag_keys, {RANK}), argMin(tag_values, {RANK}))))",
        summary_sql::user_key("tupleElement(p, 1)")
    );
    format!(
        "SELECT project, tupleElement({pairs}, 1) AS key, tupleElement({pairs}, 2) AS value, \
         min(start_ns) AS start, trace_id, min(arrived) AS first_arrived \
         FROM {spans} GROUP BY project, trace_id, toYYYYMM(arrived)"
    )
}

/// Schema 14: the index, its view, the rows of the spans stored before; then, as a trace
/// written while the index was being filled may have its rows twice (fed and filled), any
/// such trace is named split, and read from its spans.
pub(super) async fn create(client: &Client, layout: &Layout) -> StoreResult<()> {
    trace_table::create_fed(client, layout, &TAG_STARTS, FEED, feed).await?;
    client
        .insert_select(&format!(
            "INSERT INTO {} SELECT project, trace_id, now() AS marked FROM {} \
             GROUP BY project, trace_id, key HAVING count() > 1",
            layout.table(SPLITS.name),
            layout.table(TAG_STARTS.name)
        ))
        .await
}

/// The trace-index rows (`trace_id`, `start`, `duration`; `duration` 0 for whole traces, as
/// only start orders use this) of the project's traces with every one of `tags` that start in
/// `[from_ns, to_ns)` (either bound optional): whole traces from the index, split ones
/// (`copies`) from their per-trace rows `traces` or their spans (`split_rows`).
pub(super) fn with_tags(
    index: &str,
    traces: &str,
    spans: &str,
    project: &str,
    tags: &[(String, String)],
    (from_ns, to_ns): (Option<i64>, Option<i64>),
    copies: &Copies,
) -> IndexParts {
    let mut pairs: Vec<&(String, String)> = tags.iter().collect();
    pairs.sort();
    pairs.dedup();
    let mut where_ = format!("project = {}", quote(project));
    if let Some(from) = from_ns {
        where_.push_str(&format!(" AND start >= {from}"));
    }
    if let Some(to) = to_ns {
        where_.push_str(&format!(" AND start < {to}"));
    }
    if pairs.iter().any(|(key, _)| is_internal_key(key)) {
        // Never a trace's tag.
        where_.push_str(" AND 0");
    }
    where_.push_str(&copies.whole());
    let matching: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("(key = {} AND value = {})", quote(key), quote(value)))
        .collect();
    // A whole trace has one row a tag key: one row a pair asked.
    let whole = match matching.as_slice() {
        [one] => format!(
            "SELECT trace_id, start, toInt64(0) AS duration FROM {index} WHERE {where_} AND {one}"
        ),
        _ => format!(
            "SELECT trace_id, any(start) AS start, toInt64(0) AS duration FROM {index} \
             WHERE {where_} AND ({}) GROUP BY trace_id HAVING count() = {}",
            matching.join(" OR "),
            matching.len()
        ),
    };
    // A split trace's tags are its best-ranked span's (`trace_fold`): its rows merged, or
    // one read of its spans' latest versions (`split_rows`).
    let folded: Vec<String> = split_rows::sources(traces, spans, copies)
        .iter()
        .map(|source| {
            let mut having = vec![];
            if let Some(from) = from_ns {
                having.push(format!("start >= {from}"));
            }
            if let Some(to) = to_ns {
                having.push(format!("start < {to}"));
            }
            having.extend(pairs.iter().map(|(k, v)| source.has_tag(k, v)));
            source.select(
                &format!(
                    "trace_id, {} AS start, toInt64(0) AS duration",
                    source.start()
                ),
                project,
                "",
                &having,
            )
        })
        .collect();
    let folded = (!folded.is_empty()).then(|| folded.join(" UNION ALL "));
    IndexParts::new(whole, folded, copies)
}

/// Statements that take a database back to before schema 14 (its index and view dropped).
#[cfg(test)]
pub(super) fn undo(layout: &Layout) -> Vec<String> {
    vec![
        format!(
            "DROP TABLE {}.{FEED}",
            super::schema::ident(&layout.database)
        ),
        format!("DROP TABLE {}", layout.table(TAG_STARTS.name)),
    ]
}

#[cfg(test)]
mod tests {
    use skein_model::span::Span;
    use skein_model::{TagFilter, TraceQuery};

    use super::super::client::RowExt;
    use super::super::{test_store as open, testserver, ClickhouseStore};
    use crate::store::testsuite::span;
    use crate::store::{QueryStore, SpanStore};

    /// A root tagged `env` and `tier`, started `start_ms` after the suite's base, and a
    /// child tagged otherwise.
    fn trace(id: &str, env: &str, start_ms: i64) -> Vec<Span> {
        let mut root = span(id, "1", None, start_ms);
        root.tags.insert("env".into(), env.into());
        root.tags.insert("tier".into(), "gold".into());
        let mut child = span(id, "2", Some("1"), start_ms + 1);
        child.tags.insert("env".into(), "child".into());
        vec![root, child]
    }

    async fn listed(store: &ClickhouseStore, tags: &[(&str, &str)], limit: u32) -> Vec<String> {
        let mut q = TraceQuery {
            tags: tags
                .iter()
                .map(|(k, v)| TagFilter {
                    key: k.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            limit: Some(limit),
            ..TraceQuery::default()
        };
        let mut ids = Vec::new();
        loop {
            let page = store.list_traces("p", &q).await.unwrap();
            ids.extend(page.traces.iter().map(|t| t.trace_id[..1].to_string()));
            ids.push(format!("/{}", page.total));
            match page.next_cursor {
                Some(cursor) => q.cursor = Some(cursor),
                None => return ids,
            }
        }
    }

    /// A database of schema 13 gains the index on open, filled from the spans stored before
    /// (a trace's best-ranked span's tags only); spans written after feed it. Lists by tags
    /// page it newest first, split traces (written twice) folded from their spans among them.
    #[tokio::test]
    async fn spans_before_and_after_the_upgrade_list_by_their_tags() {
        let database = testserver::fresh_database();
        let store = open(&database).await;
        store.write_spans(trace("a", "prod", 0)).await.unwrap();
        store.write_spans(trace("c", "prod", 20)).await.unwrap();
        store.write_spans(trace("c", "prod", 20)).await.unwrap();
        store.write_spans(trace("d", "dev", 30)).await.unwrap();
        let mut undo = super::super::splits::undo(&store.layout);
        undo.extend(super::undo(&store.layout));
        super::super::trace_table::back_to_schema(&store, undo, 13).await;
        drop(store);
        let store = open(&database).await;
        store.write_spans(trace("b", "prod", 10)).await.unwrap();
        // The root's half of a trace first, its child later: split, listed by its root's tags.
        store
            .write_spans(trace("e", "prod", 40)[..1].to_vec())
            .await
            .unwrap();
        store
            .write_spans(trace("e", "prod", 40)[1..].to_vec())
            .await
            .unwrap();
        let rows = store
            .client
            .rows(&format!(
                "SELECT DISTINCT trace_id, key, value FROM {} WHERE key = 'env' \
                 ORDER BY trace_id",
                store.layout.table(super::TAG_STARTS.name)
            ))
            .await
            .unwrap();
        let indexed: Vec<String> = rows
            .iter()
            .map(|r| format!("{}:{}", &r.str_of("trace_id")[..1], r.str_of("value")))
            .collect();
        // The child's half of trace e is a row of its own insert: its tags are there too.
        assert_eq!(
            indexed,
            ["a:prod", "b:prod", "c:prod", "d:dev", "e:child", "e:prod"]
        );
        assert_eq!(
            listed(&store, &[("env", "prod")], 2).await,
            ["e", "c", "/4", "b", "a", "/4"]
        );
        assert_eq!(
            listed(&store, &[("env", "prod"), ("tier", "gold")], 10).await,
            ["e", "c", "b", "a", "/4"]
        );
        assert_eq!(
            listed(&store, &[("env", "prod"), ("env", "prod")], 10).await,
            ["e", "c", "b", "a", "/4"]
        );
        assert_eq!(listed(&store, &[("env", "child")], 10).await, ["/0"]);
        assert_eq!(
            listed(&store, &[("env", "prod"), ("env", "dev")], 10).await,
            ["/0"]
        );
        assert_eq!(listed(&store, &[("env", "dev")], 10).await, ["d", "/1"]);
    }
}
