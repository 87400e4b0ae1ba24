//! The per-trace table `traces_by_start` (schema 11; schema 10's `traces` was the same ordered
//! by trace id): what the trace list, its filters and counts,
//! metrics, sessions and users, tag suggestions and the service graph's scope read instead of
//! folding a project's spans on every query.
//!
//! A materialized view fed by every insert into `spans` folds each insert's spans into one row
//! per trace of aggregate states (`AggregatingMergeTree`, merged again on read with `-Merge`):
//! first start, last end, errors, the model calls' and all spans' usage, and by rank
//! (`traces::RANK`) the best-ranked span's name and tags and the best-ranked session and user,
//! each the same rule `skein_model::trace_fold` applies. Collectors keep no state: any of them
//! may write any span of a trace, and the states merge whatever wrote them.
//!
//! A span has several rows in `spans` when it was written more than once (a retried request, a
//! LangSmith run's post then patch, each fold of its pieces a new version; `spans` is replacing
//! and reads fold the versions with `FINAL`). Sums and counts over every version would count
//! such a span twice, and its superseded versions could win a rank. So the table also counts
//! the rows it was fed (`row_count`) beside the distinct span ids (`span_set`): where the two
//! agree, every span of the trace was fed once, and the table's values are exactly the fold of
//! its spans; where they differ, the trace's values are folded from `spans` as before, reading
//! only those traces. Reads (`index`, `tag_rows`) are the union of the two. Feeding a row
//! twice (the backfill racing the view, a retried insert) only moves its trace to the second
//! part: the answers stay exact, never double counted, at the cost of reading its spans.
//!
//! The table is ordered by each row's first start (to the minute) before the trace id, so a
//! range of starts reads only its rows: a newest-first page reads the newest window of starts
//! first (`windows`). A trace's start is only known as the minimum over its spans, and each
//! insert's row carries that insert's first start: every row of a trace starts at or after
//! the trace's start, and the row holding its first span starts exactly there. So the traces
//! that start within a window are among those with a row in it, and merging every row of
//! those (whatever minute) gives each its true start, to keep or drop.
//!
//! Why not the alternatives: aggregate states idempotent per span version would need a state
//! per span (the table would be `spans` again), and a table that only narrows the candidates
//! still has to fold every candidate's spans to count and order a page exactly.

use skein_model::trace_tags::is_internal_key;

use super::client::{quote, Client};
use super::schema::{ident, Layout, Table};
use super::summary_sql;
use super::traces::RANK;
use crate::store::StoreResult;

/// The table: one row per trace, month of arrival (partitioned as `spans` is) and minute of its
/// rows' first start, merged by `(project, start_minute, trace_id)`. No column is named as a
/// read's alias (`start`, `errors`…).
pub(super) const TRACES: Table = Table {
    name: "traces_by_start",
    columns: "project String, start_minute Int64, trace_id String, first_arrived DateTime, \
        row_count AggregateFunction(count), span_set AggregateFunction(uniqExact, String), \
        first_start AggregateFunction(min, Int64), last_end AggregateFunction(max, Int64), \
        error_spans AggregateFunction(sum, UInt64), \
        model_in AggregateFunction(sum, Int64), model_out AggregateFunction(sum, Int64), \
        model_cost AggregateFunction(sum, Float64), all_in AggregateFunction(sum, Int64), \
        all_out AggregateFunction(sum, Int64), all_cost AggregateFunction(sum, Float64), \
        model_reports AggregateFunction(sum, UInt64), \
        best_name AggregateFunction(argMin, String, Tuple(UInt8, Int64, String)), \
        best_tag_keys AggregateFunction(argMin, Array(String), Tuple(UInt8, Int64, String)), \
        best_tag_values AggregateFunction(argMin, Array(String), Tuple(UInt8, Int64, String)), \
        best_session AggregateFunction(argMin, String, Tuple(UInt8, UInt8, Int64, String)), \
        best_user AggregateFunction(argMin, String, Tuple(UInt8, UInt8, Int64, String))",
    engine: "AggregatingMergeTree",
    version: None,
    order_by: "(project, start_minute, trace_id)",
    partition_by: Some("toYYYYMM(first_arrived)"),
    shard_by: "cityHash64(trace_id)",
};

/// The view that feeds the table.
const FEED: &str = "traces_by_start_feed";

/// Schema 10's table and view, ordered by trace id.
const V10_TABLE: &str = "traces";
const V10_FEED: &str = "traces_feed";

/// Nanoseconds a `start_minute`.
pub(super) const MINUTE_NS: i64 = 60_000_000_000;

/// The table's rows for the span rows of `spans` (a table name).
fn feed(spans: &str) -> String {
    let model = summary_sql::model_call();
    // A session (user) ranks by the best-ranked span that has one.
    let having = |column: &str| format!("tuple({column} = '', has_parent, start_ns, span_id)");
    format!(
        "SELECT project, intDiv(min(start_ns), {MINUTE_NS}) AS start_minute, trace_id, \
         min(arrived) AS first_arrived, countState() AS row_count, \
         uniqExactState(span_id) AS span_set, minState(start_ns) AS first_start, \
         maxState(greatest(end_ns, start_ns)) AS last_end, \
         sumState(toUInt64(status = 2)) AS error_spans, \
         sumState(if({model}, input_tokens, toInt64(0))) AS model_in, \
         sumState(if({model}, output_tokens, toInt64(0))) AS model_out, \
         sumState(if({model}, cost, toFloat64(0))) AS model_cost, \
         sumState(input_tokens) AS all_in, sumState(output_tokens) AS all_out, \
         sumState(cost) AS all_cost, \
         sumState(toUInt64({model} AND (input_tokens != 0 OR output_tokens != 0))) \
         AS model_reports, \
         argMinState(name, {RANK}) AS best_name, argMinState(tag_keys, {RANK}) AS best_tag_keys, \
         argMinState(tag_values, {RANK}) AS best_tag_values, \
         argMinState(session_id, {}) AS best_session, argMinState(user_id, {}) AS best_user \
         FROM {spans} GROUP BY project, trace_id, toYYYYMM(arrived)",
        having("session_id"),
        having("user_id"),
    )
}

/// Schema 11: schema 10's table and view (if any) dropped, then the table, the view feeding it
/// from every insert into `spans` (on a cluster, each shard's local tables, so a trace's row is
/// where its spans are), and the table filled from the spans stored before. The view comes
/// first, so that no span is missed: a span both fed and backfilled only sends its trace to
/// the fold from `spans` (see the module doc). The table has a name of its own, so that a
/// replicated one never meets schema 10's metadata left in ZooKeeper.
pub(super) async fn create(client: &Client, layout: &Layout) -> StoreResult<()> {
    let db = ident(&layout.database);
    let on = layout.on_cluster();
    // The view first (inserts stop feeding the old table), then the Distributed table over
    // the local ones on a cluster.
    let mut old = vec![V10_FEED.to_string(), V10_TABLE.to_string()];
    if layout.cluster.is_some() {
        old.push(layout.stored(V10_TABLE));
    }
    for name in old {
        client
            .execute(&format!("DROP TABLE IF EXISTS {db}.{name}{on}"))
            .await?;
    }
    create_fed(client, layout, &TRACES, FEED, feed).await
}

/// `table`, the materialized view `view` feeding it the rows `feed` makes of every insert into
/// `spans` (on a cluster, each shard's local tables, so a trace's rows are where its spans
/// are), then the rows of the spans stored before: the view first, so that no span is missed.
pub(super) async fn create_fed(
    client: &Client,
    layout: &Layout,
    table: &Table,
    view: &str,
    feed: fn(&str) -> String,
) -> StoreResult<()> {
    let db = ident(&layout.database);
    for statement in layout.create(table) {
        client.execute(&statement).await?;
    }
    client
        .execute(&format!(
            "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{view}{} TO {db}.{} AS {}",
            layout.on_cluster(),
            layout.stored(table.name),
            feed(&format!("{db}.{}", layout.stored("spans")))
        ))
        .await?;
    client
        .insert_select(&format!(
            "INSERT INTO {} {}",
            layout.table(table.name),
            feed(&layout.table("spans"))
        ))
        .await
}

/// Whether a trace's merged row is exact: each of its spans was fed once.
const EXACT: &str = "countMerge(row_count) = uniqExactMerge(span_set)";

/// The columns of a trace index row (`traces::trace_index`), in the order both parts give
/// them, from the table's states.
const INDEX_COLUMNS: &str = "trace_id, minMerge(first_start) AS start, \
    maxMerge(last_end) - minMerge(first_start) AS duration, sumMerge(error_spans) AS errors, \
    argMinMerge(best_name) AS root_name, argMinMerge(best_session) AS sess, \
    argMinMerge(best_user) AS usr, countMerge(row_count) AS span_count, \
    if(sumMerge(model_reports) > 0, sumMerge(model_in), sumMerge(all_in)) AS in_tokens, \
    if(sumMerge(model_reports) > 0, sumMerge(model_out), sumMerge(all_out)) AS out_tokens, \
    if(sumMerge(model_reports) > 0, sumMerge(model_cost), sumMerge(all_cost)) AS cost_sum";

/// The same columns folded from `spans` rows.
fn folded_columns() -> String {
    format!(
        "trace_id, min(start_ns) AS start, \
         max(greatest(end_ns, start_ns)) - min(start_ns) AS duration, \
         countIf(status = 2) AS errors, argMin(name, {RANK}) AS root_name, \
         argMinIf(session_id, {RANK}, session_id != '') AS sess, \
         argMinIf(user_id, {RANK}, user_id != '') AS usr, count() AS span_count, {}",
        summary_sql::counted_usage()
    )
}

/// What a trace index selects: the traces of a project within `scope` (a condition on the
/// trace id) that pass `filters` (more conditions on the trace id: subqueries over spans),
/// whose tags include `tags` (key, value) and whose index columns pass `having`.
pub(super) struct IndexQuery<'a> {
    pub project: &'a str,
    /// A condition on the trace id naming a superset of the traces with `tags`, when the tag
    /// index narrows them (`tag_index::narrowing`): only their rows are merged.
    pub candidates: Option<&'a str>,
    pub scope: &'a str,
    pub filters: &'a str,
    pub tags: &'a [(String, String)],
    pub having: &'a [String],
}

/// The traces of a project within `where_` whose rows were fed more than once.
pub(super) fn with_copies(traces: &str, where_: &str) -> String {
    format!("SELECT trace_id FROM {traces} WHERE {where_} GROUP BY trace_id HAVING NOT ({EXACT})")
}

/// Most ids of traces with copies written into a query as a list; past this, the query asks
/// for them itself.
pub(super) const MAX_LISTED_COPIES: usize = 10_000;

/// The traces whose rows were fed more than once, as a read found them before the query:
/// 18.16 does not narrow a `FINAL` read of `spans` by a subquery's set (it reads every span),
/// but it does by a list of ids, and none at all leaves that part out.
pub(super) enum Copies {
    Ids(Vec<String>),
    /// Too many to list: this subquery selects them.
    Query(String),
}

impl Copies {
    fn none(&self) -> bool {
        matches!(self, Copies::Ids(ids) if ids.is_empty())
    }

    fn sql(&self) -> String {
        match self {
            Copies::Ids(ids) => super::traces::id_list(ids),
            Copies::Query(q) => q.clone(),
        }
    }
}

/// The index rows (`INDEX_COLUMNS`) of the traces `q` selects: from the table where exact,
/// else folded from `spans`.
pub(super) fn index(traces: &str, spans: &str, q: &IndexQuery<'_>, copies: &Copies) -> String {
    let scope = format!("project = {} AND {}", quote(q.project), q.scope);
    let listed = copies;
    let copies = copies.sql();
    let where_ = format!("{scope}{}", q.filters);
    // Rows of the tag filter's candidates only, before any state is merged.
    let exact_where = match q.candidates {
        Some(candidates) => format!("{where_} AND {candidates}"),
        None => where_.clone(),
    };
    let mut exact_having = vec![EXACT.to_string()];
    let mut folded_where = format!("{where_} AND trace_id IN ({copies})");
    for (key, value) in q.tags {
        if is_internal_key(key) {
            // Never a trace's tag.
            exact_having.push("0".into());
            folded_where.push_str(" AND 0");
            continue;
        }
        exact_having.push(format!(
            "arrayExists((k, v) -> k = {} AND v = {}, argMinMerge(best_tag_keys), \
             argMinMerge(best_tag_values))",
            quote(key),
            quote(value)
        ));
        folded_where.push_str(&format!(
            " AND trace_id IN (SELECT trace_id FROM ({}) WHERE key = {} AND value = {})",
            summary_sql::trace_tags(
                spans,
                &format!("project = {} AND trace_id IN ({copies})", quote(q.project))
            ),
            quote(key),
            quote(value)
        ));
    }
    exact_having.extend(q.having.iter().cloned());
    let folded_having = if q.having.is_empty() {
        String::new()
    } else {
        format!(" HAVING {}", q.having.join(" AND "))
    };
    let exact = format!(
        "SELECT {INDEX_COLUMNS} FROM {traces} WHERE {exact_where} GROUP BY trace_id HAVING {}",
        exact_having.join(" AND ")
    );
    if listed.none() {
        return exact;
    }
    format!(
        "{exact} UNION ALL SELECT {} FROM {spans} WHERE {folded_where} GROUP BY trace_id\
         {folded_having}",
        folded_columns()
    )
}

/// Rows (trace_id, key, value) of the tags of a project's traces (as their folds pick them),
/// of key `key` only when given.
pub(super) fn tag_rows(
    traces: &str,
    spans: &str,
    project: &str,
    key: Option<&str>,
    copies: &Copies,
) -> String {
    let where_ = format!("project = {}", quote(project));
    let key_only = key
        .map(|k| format!(" AND k = {}", quote(k)))
        .unwrap_or_default();
    let exact = format!(
        "SELECT trace_id, k AS key, v AS value FROM \
         (SELECT trace_id, argMinMerge(best_tag_keys) AS ks, argMinMerge(best_tag_values) AS vs \
          FROM {traces} WHERE {where_} GROUP BY trace_id HAVING {EXACT}) \
         ARRAY JOIN ks AS k, vs AS v WHERE {}{key_only}",
        summary_sql::user_key("k")
    );
    if copies.none() {
        return exact;
    }
    let folded = summary_sql::trace_tags(
        spans,
        &format!("{where_} AND trace_id IN ({})", copies.sql()),
    );
    let folded = match key {
        Some(k) => format!(
            "SELECT trace_id, key, value FROM ({folded}) WHERE key = {}",
            quote(k)
        ),
        None => folded,
    };
    format!("{exact} UNION ALL {folded}")
}

/// Brings a store's database back to `schema`: runs `statements` (which undo what the later
/// schemas made), forgets the later schemas, and waits until the server shows it.
#[cfg(test)]
pub(super) async fn back_to_schema(
    store: &super::ClickhouseStore,
    statements: Vec<String>,
    schema: i64,
) {
    use super::client::RowExt;
    let forget = format!(
        "{} DELETE WHERE version > {schema}",
        store.layout.alter("schema_versions")
    );
    for sql in statements.into_iter().chain([forget]) {
        store.client.execute(&sql).await.unwrap();
    }
    let versions = format!(
        "SELECT max(version) AS v FROM {}",
        store.layout.table("schema_versions")
    );
    for _ in 0..100 {
        let rows = store.client.rows(&versions).await.unwrap();
        if rows.first().map(|r| r.i64_of("v")) == Some(schema) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the schema versions after {schema} were not forgotten");
}

#[cfg(test)]
mod tests {
    use skein_model::span::{Span, SpanStatus, SpanType};
    use skein_model::{TagFilter, TraceQuery};

    use super::super::client::RowExt;
    use super::super::{testserver, ClickhouseOptions, ClickhouseStore};
    use crate::store::testsuite::span;
    use crate::store::{JourneyStore, QueryStore, SpanStore};

    async fn open(database: &str) -> ClickhouseStore {
        ClickhouseStore::open(ClickhouseOptions {
            database: database.to_string(),
            ..ClickhouseOptions::new(&testserver::server().url)
        })
        .await
        .expect("open the ClickHouse store")
    }

    /// A trace of a root tagged `env` and a failed model call with usage.
    fn trace(id: &str, env: &str) -> Vec<Span> {
        let mut root = span(id, "1", None, 0);
        root.tags.insert("env".into(), env.into());
        root.session_id = Some(format!("s-{id}"));
        let mut call = span(id, "2", Some("1"), 1);
        call.span_type = SpanType::Llm;
        call.status = SpanStatus::Error;
        call.input_tokens = Some(10);
        call.output_tokens = Some(5);
        call.tags.insert("env".into(), "child".into());
        vec![root, call]
    }

    /// Per trace (by its first letter): whether the table's row is exact (each span fed once).
    async fn exact_rows(store: &ClickhouseStore) -> Vec<(String, bool)> {
        let rows = store
            .client
            .rows(&format!(
                "SELECT trace_id, {} AS exact FROM {} GROUP BY trace_id ORDER BY trace_id",
                super::EXACT,
                store.trace_table()
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| {
                (
                    r.str_of("trace_id")[..1].to_string(),
                    r.i64_of("exact") == 1,
                )
            })
            .collect()
    }

    async fn listed(store: &ClickhouseStore, q: &TraceQuery) -> Vec<(String, u64, u64, i64)> {
        let page = store.list_traces("p", q).await.unwrap();
        assert_eq!(page.total as usize, page.traces.len());
        page.traces
            .iter()
            .map(|t| {
                (
                    t.trace_id[..1].to_string(),
                    t.span_count,
                    t.error_count,
                    t.input_tokens + t.output_tokens,
                )
            })
            .collect()
    }

    /// Traces whose spans were each written once are read from the table; a trace written
    /// twice (a retry) is folded from its spans; both answer alike, filters and sessions
    /// included.
    #[tokio::test]
    async fn exact_rows_and_copies_answer_alike() {
        let store = open(&testserver::fresh_database()).await;
        store.write_spans(trace("a", "prod")).await.unwrap();
        store.write_spans(trace("b", "prod")).await.unwrap();
        store.write_spans(trace("c", "dev")).await.unwrap();
        let prod = TraceQuery {
            tags: vec![TagFilter {
                key: "env".into(),
                value: "prod".into(),
            }],
            ..TraceQuery::default()
        };
        let before = listed(&store, &prod).await;
        assert_eq!(before, [("b".into(), 2, 1, 15), ("a".into(), 2, 1, 15)]);
        assert_eq!(
            exact_rows(&store).await,
            [("a".into(), true), ("b".into(), true), ("c".into(), true)]
        );

        store.write_spans(trace("a", "prod")).await.unwrap();
        assert_eq!(
            exact_rows(&store).await,
            [("a".into(), false), ("b".into(), true), ("c".into(), true)]
        );
        assert_eq!(listed(&store, &prod).await, before);
        let child = TraceQuery {
            tags: vec![TagFilter {
                key: "env".into(),
                value: "child".into(),
            }],
            ..TraceQuery::default()
        };
        assert!(listed(&store, &child).await.is_empty(), "a child's tag");
        let errors = TraceQuery {
            status: Some(skein_model::StatusFilter::Error),
            ..TraceQuery::default()
        };
        assert_eq!(listed(&store, &errors).await.len(), 3);
        let sessions = store
            .list_sessions("p", &Default::default())
            .await
            .unwrap()
            .sessions;
        let mut figures: Vec<(String, u64, i64)> = sessions
            .iter()
            .map(|s| {
                (
                    s.session_id.clone(),
                    s.stats.span_count,
                    s.stats.total_tokens(),
                )
            })
            .collect();
        figures.sort();
        let want = |id: &str| (format!("s-{id}"), 2, 15);
        assert_eq!(figures, [want("a"), want("b"), want("c")]);
        let values = store.tag_values("p", "env", None, 10).await.unwrap();
        let counts: Vec<(&str, u64)> = values
            .iter()
            .map(|v| (v.value.as_str(), v.trace_count))
            .collect();
        assert_eq!(counts, [("prod", 2), ("dev", 1)]);
    }

    /// Brings a database back to `schema` (9: spans, no per-trace table; 10: the table and
    /// view of schema 10, by their names) and opens it again.
    async fn reopened_from(database: &str, store: ClickhouseStore, schema: i64) -> ClickhouseStore {
        let db = super::ident(database);
        let mut statements = vec![
            format!("DROP TABLE {db}.{}", super::FEED),
            format!("DROP TABLE {}", store.trace_table()),
        ];
        if schema == 10 {
            statements.extend([
                format!(
                    "CREATE TABLE {db}.{} (project String, trace_id String) \
                     ENGINE = MergeTree ORDER BY trace_id",
                    super::V10_TABLE
                ),
                format!(
                    "CREATE MATERIALIZED VIEW {db}.{} TO {db}.{} AS \
                     SELECT project, trace_id FROM {db}.spans",
                    super::V10_FEED,
                    super::V10_TABLE
                ),
            ]);
        }
        super::back_to_schema(&store, statements, schema).await;
        drop(store);
        open(database).await
    }

    /// A database of schema 9 (spans, no per-trace table) or 10 (the table ordered by trace
    /// id) gains the table ordered by start on open, filled from the spans stored before
    /// (schema 10's dropped); spans written after feed it.
    #[tokio::test]
    async fn spans_stored_before_the_table_fill_it_on_upgrade() {
        for schema in [9, 10] {
            let database = testserver::fresh_database();
            let store = open(&database).await;
            store.write_spans(trace("a", "prod")).await.unwrap();
            let store = reopened_from(&database, store, schema).await;
            let left: Vec<String> = store
                .client
                .rows(&format!(
                    "SELECT name FROM system.tables WHERE database = {} ORDER BY name",
                    super::quote(&database)
                ))
                .await
                .unwrap()
                .iter()
                .map(|r| r.str_of("name"))
                .filter(|n| n.starts_with("traces"))
                .collect();
            assert_eq!(
                left,
                ["traces_by_start", "traces_by_start_feed"],
                "from {schema}"
            );
            assert_eq!(
                exact_rows(&store).await,
                [("a".into(), true)],
                "from {schema}"
            );
            store.write_spans(trace("b", "dev")).await.unwrap();
            assert_eq!(
                exact_rows(&store).await,
                [("a".into(), true), ("b".into(), true)]
            );
            assert_eq!(
                listed(&store, &TraceQuery::default()).await,
                [("b".into(), 2, 1, 15), ("a".into(), 2, 1, 15)]
            );
        }
    }

    /// A newest-first list reads windows of starts, widening: traces hours to years apart
    /// page alike, and a trace whose first span arrived after a later one (its first insert's
    /// row in the newest window) is listed by its true start.
    #[tokio::test]
    async fn newest_first_pages_read_windows_of_starts() {
        let store = open(&testserver::fresh_database()).await;
        const HOUR: i64 = 3_600_000;
        for (id, start) in [
            ("1", 0),
            ("2", -2 * HOUR),
            ("3", -20 * HOUR),
            ("4", -72 * HOUR),
            ("5", -30 * 24 * HOUR),
            ("6", -400 * 24 * HOUR),
        ] {
            store
                .write_spans(vec![span(id, "1", None, start)])
                .await
                .unwrap();
        }
        // Older traces, so that the first window (sized to the rows a minute) is a day.
        let old: Vec<Span> = (0..6_000)
            .map(|i| {
                let mut s = span(&format!("{:032x}", i + 1), "1", None, -900 * 24 * HOUR);
                s.trace_id = format!("f{:031x}", i);
                s
            })
            .collect();
        store.write_spans(old).await.unwrap();
        // Trace 7: a child half an hour ago, then its root, 50 hours ago.
        store
            .write_spans(vec![span("7", "2", Some("1"), -HOUR / 2)])
            .await
            .unwrap();
        store
            .write_spans(vec![span("7", "1", None, -50 * HOUR)])
            .await
            .unwrap();
        let mut q = TraceQuery {
            limit: Some(2),
            ..TraceQuery::default()
        };
        let mut order = Vec::new();
        while order.len() < 8 {
            let page = store.list_traces("p", &q).await.unwrap();
            assert_eq!(page.total, 6_007);
            order.extend(page.traces.iter().map(|t| t.trace_id[..1].to_string()));
            q.cursor = page.next_cursor;
        }
        assert_eq!(order, ["1", "2", "3", "7", "4", "5", "6", "f"]);
        let older = TraceQuery {
            to_ms: Some((crate::store::testsuite::base_ns() / 1_000_000) - 10 * HOUR),
            limit: Some(3),
            ..TraceQuery::default()
        };
        let page = store.list_traces("p", &older).await.unwrap();
        let ids: Vec<&str> = page.traces.iter().map(|t| &t.trace_id[..1]).collect();
        assert_eq!((ids, page.total), (vec!["3", "7", "4"], 6_005));
    }
}
