//! The traces' tags by start, `trace_tags_by_start` (schema 17; schema 14's
//! `trace_tag_starts` had the same rows in granules of 8192): for each insert's spans of a
//! trace (each row of `trace_parts`), its best-ranked span's tags, one row a tag, with the
//! insert's first start, ordered by `(project, key, value, start)`. A whole trace (one row in
//! `trace_parts`, see `trace_table`) has exactly its tags here, so the traces with a tag are a
//! range of the index: its count is a range read and its newest page a `LIMIT` over the range,
//! without reading any trace's tag arrays. Split traces (`trace_splits`) are left out of the
//! range and folded from their spans, as every read of the per-trace rows does.
//!
//! Granules of 256 rows (as `trace_parts`'), so that a window of starts reads about its rows:
//! with 8192, each of a 10M node's ~50 parts read whole granules of other tag values at the
//! range's edges, whatever the window. The newest page is read in windows widened from now
//! (`trace_list`), and a tag's total is its range's count less the split traces' rows, counted
//! in their `trace_parts` rows (each index row is one of those rows' tags, at its first start).
//!
//! A materialized view fed by every insert into `spans` writes the rows, grouping the insert's
//! spans as `trace_parts`' view does, so the two agree on which traces are whole. (ClickHouse
//! 18.16 does not feed a view from another view's inserts, so it reads `spans` too.)

use skein_model::trace_tags::is_internal_key;

use super::client::{quote, Client};
use super::schema::{Layout, Table};
use super::split_rows;
use super::splits::{Copies, SPLITS};
use super::summary_sql;
use super::trace_table::{self, IndexParts, TRACES};
use super::traces::{id_list, RANK};
use crate::store::StoreResult;

pub(super) const TAG_STARTS: Table = Table {
    name: "trace_tags_by_start",
    columns: "project String, key String, value String, start Int64, trace_id String, \
        first_arrived DateTime",
    engine: "MergeTree",
    version: None,
    order_by: "(project, key, value, start, trace_id)",
    partition_by: Some("toYYYYMM(first_arrived)"),
    shard_by: "cityHash64(trace_id)",
    settings: Some("index_granularity = 256"),
};

/// The view that feeds it.
const FEED: &str = "trace_tags_by_start_feed";

/// Schema 14's index and view, dropped by schema 17.
const OLD: (&str, &str) = ("trace_tag_starts", "trace_tag_starts_feed");

/// The index rows for the span rows of `spans` (a table name): per trace and month of arrival
/// (as `trace_parts`), the best-ranked span's user tags, each a row. (The arrival is not named
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

/// The same rows from `trace_parts` (a table name), whose rows are those groups already: each
/// index row's start is its `trace_parts` row's first start.
fn from_parts(parts: &str) -> String {
    let pairs = format!(
        "arrayJoin(arrayFilter(p -> {}, arrayMap((k, v) -> tuple(k, v), \
         best_tag_keys, best_tag_values)))",
        summary_sql::user_key("tupleElement(p, 1)")
    );
    format!(
        "SELECT project, tupleElement({pairs}, 1) AS key, tupleElement({pairs}, 2) AS value, \
         first_start AS start, trace_id, first_arrived FROM {parts}"
    )
}

/// Schema 17: the index (any of it left by an upgrade stopped halfway dropped first), its
/// view, the rows of the traces stored before from their `trace_parts` rows (not from the
/// spans: a tenth of the read, and the same starts); then, as a trace written while the index
/// was being filled may have its rows twice (fed and filled), any such trace is named split
/// and read from its per-trace rows; then schema 14's index dropped.
pub(super) async fn create(client: &Client, layout: &Layout) -> StoreResult<()> {
    trace_table::drop_fed(client, layout, (TAG_STARTS.name, FEED)).await?;
    trace_table::create_with_view(client, layout, &TAG_STARTS, FEED, feed).await?;
    client
        .insert_select(&format!(
            "INSERT INTO {} {}",
            layout.table(TAG_STARTS.name),
            from_parts(&layout.table(TRACES.name))
        ))
        .await?;
    client
        .insert_select(&format!(
            "INSERT INTO {} SELECT project, trace_id, now() AS marked FROM {} \
             GROUP BY project, trace_id, key HAVING count() > 1",
            layout.table(SPLITS.name),
            layout.table(TAG_STARTS.name)
        ))
        .await?;
    trace_table::drop_fed(client, layout, OLD).await
}

/// What a list by tags selects: the project's traces with every one of `tags` (key, value)
/// that start in `[from_ns, to_ns)` (either bound optional).
pub(super) struct TagRange<'a> {
    pub project: &'a str,
    pub tags: &'a [(String, String)],
    pub from_ns: Option<i64>,
    pub to_ns: Option<i64>,
}

impl TagRange<'_> {
    /// The pairs asked, each once, in order.
    fn pairs(&self) -> Vec<&(String, String)> {
        let mut pairs: Vec<&(String, String)> = self.tags.iter().collect();
        pairs.sort();
        pairs.dedup();
        pairs
    }

    /// The index rows' condition: the project, the starts, no internal key.
    fn where_(&self, (from_ns, to_ns): (Option<i64>, Option<i64>)) -> String {
        let mut where_ = format!("project = {}", quote(self.project));
        if let Some(from) = from_ns {
            where_.push_str(&format!(" AND start >= {from}"));
        }
        if let Some(to) = to_ns {
            where_.push_str(&format!(" AND start < {to}"));
        }
        if self.pairs().iter().any(|(key, _)| is_internal_key(key)) {
            // Never a trace's tag.
            where_.push_str(" AND 0");
        }
        where_
    }

    fn matching(&self) -> Vec<String> {
        self.pairs()
            .iter()
            .map(|(key, value)| format!("(key = {} AND value = {})", quote(key), quote(value)))
            .collect()
    }

    /// The whole traces' index rows (`trace_id`, `start`, `duration` 0: only start orders
    /// use this) starting within `starts` (a narrower window of the range, or the range).
    pub(super) fn whole(
        &self,
        index: &str,
        starts: (Option<i64>, Option<i64>),
        copies: &Copies,
    ) -> String {
        let where_ = format!("{}{}", self.where_(starts), copies.whole());
        // A whole trace has one row a tag key: one row a pair asked.
        match self.matching().as_slice() {
            [one] => format!(
                "SELECT trace_id, start, toInt64(0) AS duration FROM {index} \
                 WHERE {where_} AND {one}"
            ),
            // Its start under another name inside: an alias `start` would be read by the
            // `WHERE` on the column (18.16 refuses an aggregate there).
            matching => format!(
                "SELECT trace_id, first AS start, toInt64(0) AS duration FROM \
                 (SELECT trace_id, any(start) AS first FROM {index} \
                 WHERE {where_} AND ({}) GROUP BY trace_id HAVING count() = {})",
                matching.join(" OR "),
                matching.len()
            ),
        }
    }

    /// The split traces' rows, like `whole`'s: a split trace's tags are its best-ranked
    /// span's (`trace_fold`): its rows merged, or one read of its spans' latest versions
    /// (`split_rows`). `None` without split traces.
    pub(super) fn folded(&self, traces: &str, spans: &str, copies: &Copies) -> Option<String> {
        let pairs = self.pairs();
        let folded: Vec<String> = split_rows::sources(traces, spans, copies)
            .iter()
            .map(|source| {
                let mut having = vec![];
                if let Some(from) = self.from_ns {
                    having.push(format!("start >= {from}"));
                }
                if let Some(to) = self.to_ns {
                    having.push(format!("start < {to}"));
                }
                having.extend(pairs.iter().map(|(k, v)| source.has_tag(k, v)));
                source.select(
                    &format!(
                        "trace_id, {} AS start, toInt64(0) AS duration",
                        source.start()
                    ),
                    self.project,
                    "",
                    &having,
                )
            })
            .collect();
        (!folded.is_empty()).then(|| folded.join(" UNION ALL "))
    }

    /// For a list by one tag: a query of the range's index rows' count (`n`) and of those in
    /// each window of starts (`w0`, `w1`… from each of `froms` up to `to_ns`), and, with split
    /// traces (`split`), one read of their per-trace rows `traces`, a row a trace: its start,
    /// whether its rows merged have the tag (`tagged`: a trace's tags are its best-ranked
    /// row's) and how many of its rows have it within the range (`tagged_rows`: each is one of
    /// the range's index rows, at the row's first start). So the whole traces' total is the
    /// count less the `tagged_rows`, without reading the range's trace ids. `None` with more
    /// tags (a trace's index rows are grouped then).
    pub(super) fn one_tag_counts(
        &self,
        index: &str,
        traces: &str,
        split: &[String],
        (froms, to_ns): (&[i64], Option<i64>),
    ) -> Option<(String, Option<String>)> {
        let [one] = self.matching().try_into().ok()?;
        let [(key, value)] = self.pairs().try_into().ok()?;
        let where_ = format!("{} AND {one}", self.where_((self.from_ns, self.to_ns)));
        let before = to_ns
            .map(|to| format!(" AND start < {to}"))
            .unwrap_or_default();
        let windows: String = froms
            .iter()
            .enumerate()
            .map(|(i, from)| format!(", countIf(start >= {from}{before}) AS w{i}"))
            .collect();
        let all = format!("SELECT count() AS n{windows} FROM {index} WHERE {where_}");
        if split.is_empty() {
            return Some((all, None));
        }
        let has_tag = |keys: &str, values: &str| {
            if is_internal_key(key) {
                return "0".to_string();
            }
            let k = quote(key);
            format!(
                "(indexOf({keys}, {k}) > 0 AND {values}[indexOf({keys}, {k})] = {})",
                quote(value)
            )
        };
        let mut row_tagged = has_tag("best_tag_keys", "best_tag_values");
        if let Some(from) = self.from_ns {
            row_tagged.push_str(&format!(" AND first_start >= {from}"));
        }
        if let Some(to) = self.to_ns {
            row_tagged.push_str(&format!(" AND first_start < {to}"));
        }
        // Whether the best-ranked row has the tag. Rows rank alike only for a span stored
        // twice (a repeated trace, whose rows are not used here): of those the tagged row
        // wins, so that the answer does not depend on which row the engine meets first.
        let row_has_tag = has_tag("best_tag_keys", "best_tag_values");
        let merged_tagged = format!(
            "argMin({row_has_tag}, tuple(best_has_parent, best_start, best_span, \
             1 - {row_has_tag}))"
        );
        let rows = format!(
            "SELECT trace_id, min(first_start) AS start, toInt64(0) AS duration, \
             countIf({row_tagged}) AS tagged_rows, toUInt8({merged_tagged}) AS tagged \
             FROM {traces} WHERE project = {} AND trace_id IN ({}) GROUP BY trace_id",
            quote(self.project),
            id_list(split)
        );
        Some((all, Some(rows)))
    }

    /// Whether a start is within the range.
    pub(super) fn holds(&self, start: i64) -> bool {
        self.from_ns.is_none_or(|from| start >= from) && self.to_ns.is_none_or(|to| start < to)
    }
}

/// The trace-index rows (`trace_id`, `start`, `duration`) of a list by tags: whole traces
/// from the index, split ones (`copies`) from their per-trace rows `traces` or their spans
/// (`split_rows`).
pub(super) fn with_tags(
    index: &str,
    traces: &str,
    spans: &str,
    range: &TagRange<'_>,
    copies: &Copies,
) -> IndexParts {
    IndexParts::new(
        range.whole(index, (range.from_ns, range.to_ns), copies),
        range.folded(traces, spans, copies),
        copies,
    )
}

/// Statements that take a database back to before schema 17 (its index and view dropped;
/// schema 14's are gone too).
#[cfg(test)]
pub(super) fn undo(layout: &Layout) -> Vec<String> {
    let db = super::schema::ident(&layout.database);
    vec![
        format!("DROP TABLE IF EXISTS {db}.{FEED}"),
        format!("DROP TABLE IF EXISTS {}", layout.table(TAG_STARTS.name)),
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

    /// A database of schema 13 gains the index on open, filled from the per-trace rows of the
    /// spans stored before (a trace's best-ranked span's tags only); spans written after feed
    /// it. Lists by tags
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
                 ORDER BY trace_id, value",
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

    /// A database of schema 16 (schema 14's index, granules of 8192) gets schema 17's on
    /// open, filled from its per-trace rows, and the old one is dropped. Newest pages are
    /// read in windows widened from now (or the cursor): traces seconds, minutes, a day and
    /// a month old page in order, a split and a repeated trace among them, totals exact.
    #[tokio::test]
    async fn a_schema_16_database_pages_its_tags_in_windows_from_now() {
        // The suite's base is an hour ago.
        const HOUR_MS: i64 = 3_600_000;
        let database = testserver::fresh_database();
        let store = open(&database).await;
        store
            .write_spans(trace("a", "prod", HOUR_MS - 1_000))
            .await
            .unwrap();
        store
            .write_spans(trace("b", "prod", HOUR_MS - 300_000))
            .await
            .unwrap();
        // Written twice: repeated.
        store
            .write_spans(trace("c", "prod", -24 * HOUR_MS))
            .await
            .unwrap();
        store
            .write_spans(trace("c", "prod", -24 * HOUR_MS))
            .await
            .unwrap();
        store
            .write_spans(trace("d", "dev", HOUR_MS - 2_000))
            .await
            .unwrap();
        let db = super::super::schema::ident(&database);
        let (old, old_feed) = super::OLD;
        let mut undo = super::undo(&store.layout);
        undo.extend([
            format!(
                "CREATE TABLE {db}.{old} (project String, trace_id String) \
                 ENGINE = MergeTree ORDER BY trace_id"
            ),
            format!(
                "CREATE MATERIALIZED VIEW {db}.{old_feed} TO {db}.{old} AS \
                 SELECT project, trace_id FROM {db}.spans"
            ),
        ]);
        super::super::trace_table::back_to_schema(&store, undo, 16).await;
        drop(store);
        let store = open(&database).await;
        // The root's half first, its child later: split.
        let e = trace("e", "prod", HOUR_MS - 20_000);
        store.write_spans(e[..1].to_vec()).await.unwrap();
        store.write_spans(e[1..].to_vec()).await.unwrap();
        store
            .write_spans(trace("f", "prod", -30 * 24 * HOUR_MS))
            .await
            .unwrap();
        let old_tables = store
            .client
            .rows(&format!(
                "SELECT name FROM system.tables WHERE database = {} \
                 AND name IN ({}, {})",
                super::quote(&database),
                super::quote(old),
                super::quote(old_feed)
            ))
            .await
            .unwrap();
        assert!(old_tables.is_empty(), "{old_tables:?}");
        assert_eq!(
            listed(&store, &[("env", "prod")], 2).await,
            ["a", "e", "/5", "b", "c", "/5", "f", "/5"]
        );
        assert_eq!(
            listed(&store, &[("env", "prod")], 1).await,
            ["a", "/5", "e", "/5", "b", "/5", "c", "/5", "f", "/5"]
        );
        assert_eq!(
            listed(&store, &[("env", "prod"), ("tier", "gold")], 2).await,
            ["a", "e", "/5", "b", "c", "/5", "f", "/5"]
        );
        assert_eq!(listed(&store, &[("env", "dev")], 2).await, ["d", "/1"]);
    }
}
