//! The per-trace rows `trace_rows` (schema 13; schemas 10 and 11 kept aggregate states
//! instead): what the trace list, its filters and counts, metrics, sessions and users, tag
//! suggestions and the service graph's scope read instead of folding a project's spans on
//! every query.
//!
//! A materialized view fed by every insert into `spans` folds each insert's spans of a trace
//! into one row of plain values: first start, last end, errors, the model calls' and all
//! spans' usage, and by rank (`traces::RANK`) the best-ranked span's name and tags and the
//! best-ranked session and user, each the same rule `skein_model::trace_fold` applies, with
//! the rows it was fed (`row_count`) beside its distinct span ids (`span_ids`).
//!
//! A trace written by one insert, each span once, has one row, and that row is exactly the
//! fold of its spans: reads take its columns as they are (no `GROUP BY`, no states merged:
//! schema 11's merge of 750k traces' states was 10–30 s a read at 10M spans). Any other trace
//! (its spans split across inserts, a span written twice: a retry, a LangSmith run's post then
//! patch, each fold of its pieces) is named split (`splits`), and its values are folded from
//! its spans (`FINAL` only for one with a span stored twice), reading only those traces. Reads
//! are the union of the two parts.
//!
//! Why not merge states (schemas 10–11): every read with a common tag merged most of the
//! project's traces' states per call. Why not one row a trace kept by a replacing engine:
//! which of two inserts' rows wins depends on both, which no insert alone knows.

use skein_model::trace_tags::is_internal_key;

use super::client::{quote, Client};
use super::schema::{ident, Layout, Table};
use super::splits::{Copies, SPLIT, SPLITS};
use super::summary_sql;
use super::traces::RANK;
use crate::store::StoreResult;

/// The rows: one per insert, trace and month of arrival (partitioned as `spans` is), ordered
/// by trace so that a trace's rows are found by its id. No column is named as a read's alias
/// (`start`, `errors`…).
pub(super) const TRACES: Table = Table {
    name: "trace_rows",
    columns: "project String, trace_id String, first_arrived DateTime, row_count UInt64, \
        span_ids UInt64, first_start Int64, last_end Int64, error_spans UInt64, \
        model_in Int64, model_out Int64, model_cost Float64, all_in Int64, all_out Int64, \
        all_cost Float64, model_reports UInt64, best_name String, \
        best_tag_keys Array(String), best_tag_values Array(String), best_session String, \
        best_user String",
    engine: "MergeTree",
    version: None,
    order_by: "(project, trace_id)",
    partition_by: Some("toYYYYMM(first_arrived)"),
    shard_by: "cityHash64(trace_id)",
};

/// The view that feeds the rows.
const FEED: &str = "trace_rows_feed";

/// Schema 10's table and view (ordered by trace id) and schema 11's (ordered by start): both
/// of aggregate states, dropped by schema 13.
const OLD_TABLES: [(&str, &str); 2] = [
    ("traces", "traces_feed"),
    ("traces_by_start", "traces_by_start_feed"),
];

/// The rows for the span rows of `spans` (a table name).
fn feed(spans: &str) -> String {
    let model = summary_sql::model_call();
    // A session (user) ranks by the best-ranked span that has one.
    let having = |column: &str| format!("tuple({column} = '', has_parent, start_ns, span_id)");
    format!(
        "SELECT project, trace_id, min(arrived) AS first_arrived, count() AS row_count, \
         uniqExact(span_id) AS span_ids, min(start_ns) AS first_start, \
         max(greatest(end_ns, start_ns)) AS last_end, \
         sum(toUInt64(status = 2)) AS error_spans, \
         sum(if({model}, input_tokens, toInt64(0))) AS model_in, \
         sum(if({model}, output_tokens, toInt64(0))) AS model_out, \
         sum(if({model}, cost, toFloat64(0))) AS model_cost, \
         sum(input_tokens) AS all_in, sum(output_tokens) AS all_out, \
         sum(cost) AS all_cost, \
         sum(toUInt64({model} AND (input_tokens != 0 OR output_tokens != 0))) \
         AS model_reports, \
         argMin(name, {RANK}) AS best_name, argMin(tag_keys, {RANK}) AS best_tag_keys, \
         argMin(tag_values, {RANK}) AS best_tag_values, \
         argMin(session_id, {}) AS best_session, argMin(user_id, {}) AS best_user \
         FROM {spans} GROUP BY project, trace_id, toYYYYMM(arrived)",
        having("session_id"),
        having("user_id"),
    )
}

/// Schema 13: schemas 10's and 11's tables and views (if any) dropped; the rows, the view
/// feeding them from every insert into `spans` (on a cluster, each shard's local tables, so a
/// trace's rows are where its spans are) and the rows of the spans stored before; then the
/// splits among them. The view comes first, so that no span is missed: a span both fed and
/// backfilled gives its trace two rows, which the splits found after the backfill name.
pub(super) async fn create(client: &Client, layout: &Layout) -> StoreResult<()> {
    let db = ident(&layout.database);
    let on = layout.on_cluster();
    for (table, view) in OLD_TABLES {
        // The view first (inserts stop feeding the old table), then the Distributed table
        // over the local ones on a cluster.
        let mut old = vec![view.to_string(), table.to_string()];
        if layout.cluster.is_some() {
            old.push(layout.stored(table));
        }
        for name in old {
            client
                .execute(&format!("DROP TABLE IF EXISTS {db}.{name}{on}"))
                .await?;
        }
    }
    for statement in layout.create(&SPLITS) {
        client.execute(&statement).await?;
    }
    create_fed(client, layout, &TRACES, FEED, feed).await?;
    client
        .insert_select(&format!(
            "INSERT INTO {} SELECT project, trace_id, now() AS marked FROM {} \
             GROUP BY project, trace_id HAVING {SPLIT}",
            layout.table(SPLITS.name),
            layout.table(TRACES.name)
        ))
        .await
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

/// The columns of a trace index row (`traces::trace_index`), in the order both parts give
/// them, from a trace's one row.
const INDEX_COLUMNS: &str = "trace_id, first_start AS start, last_end - first_start AS duration, \
    error_spans AS errors, best_name AS root_name, best_session AS sess, best_user AS usr, \
    row_count AS span_count, if(model_reports > 0, model_in, all_in) AS in_tokens, \
    if(model_reports > 0, model_out, all_out) AS out_tokens, \
    if(model_reports > 0, model_cost, all_cost) AS cost_sum";

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
    /// index narrows them (`tag_index::narrowing`).
    pub candidates: Option<&'a str>,
    pub scope: &'a str,
    pub filters: &'a str,
    pub tags: &'a [(String, String)],
    pub having: &'a [String],
    /// Tag keys whose values the index gives too: column `g<i>` the value of the `i`th key
    /// (as the trace's fold picks its tags), `h<i>` whether the trace has it.
    pub group_keys: &'a [String],
}

/// A trace index as its two parts: the whole traces' rows, and the split ones' folded from
/// their spans (`None` when there are none).
pub(super) struct IndexParts {
    pub whole: String,
    pub folded: Option<String>,
    /// Whether the split traces were listed by id (few: a read may take their rows apart).
    pub listed: bool,
}

impl IndexParts {
    pub(super) fn new(whole: String, folded: Option<String>, copies: &Copies) -> IndexParts {
        IndexParts {
            whole,
            folded,
            listed: matches!(copies, Copies::Ids { .. }),
        }
    }

    /// Both parts as one query's rows.
    pub(super) fn union(&self) -> String {
        match &self.folded {
            Some(folded) => format!("{} UNION ALL {folded}", self.whole),
            None => self.whole.clone(),
        }
    }
}

/// The index rows (`INDEX_COLUMNS`) of the traces `q` selects: a whole trace's row as it is,
/// a split one folded from `spans` (the table's name: `Copies::sources` says how to read it).
pub(super) fn index(traces: &str, spans: &str, q: &IndexQuery<'_>, copies: &Copies) -> IndexParts {
    let where_ = format!(
        "project = {} AND {}{}",
        quote(q.project),
        q.scope,
        q.filters
    );
    let mut whole_where = format!("{where_}{}", copies.whole());
    if let Some(candidates) = q.candidates {
        whole_where.push_str(&format!(" AND {candidates}"));
    }
    for (key, value) in q.tags {
        if is_internal_key(key) {
            // Never a trace's tag.
            whole_where.push_str(" AND 0");
            continue;
        }
        // A span's tag keys are distinct: the key's one position holds its value (no lambda
        // a row: `arrayExists` was the most of a tag filter's read).
        whole_where.push_str(&format!(
            " AND has(best_tag_keys, {k}) AND best_tag_values[indexOf(best_tag_keys, {k})] = {}",
            quote(value),
            k = quote(key)
        ));
    }
    for condition in q.having {
        // The index's columns by their aliases, which a `WHERE` reads too.
        whole_where.push_str(&format!(" AND {condition}"));
    }
    let mut whole_groups = String::new();
    for (i, key) in q.group_keys.iter().enumerate() {
        if is_internal_key(key) {
            whole_groups.push_str(&format!(", '' AS g{i}, toUInt8(0) AS h{i}"));
            continue;
        }
        let k = quote(key);
        // An absent key's position is 0, whose element is the empty default.
        whole_groups.push_str(&format!(
            ", best_tag_values[indexOf(best_tag_keys, {k})] AS g{i}, \
             has(best_tag_keys, {k}) AS h{i}"
        ));
    }
    let whole = format!("SELECT {INDEX_COLUMNS}{whole_groups} FROM {traces} WHERE {whole_where}");
    IndexParts::new(whole, folded(spans, q, copies), copies)
}

/// The index rows of the split traces (`copies`) `q` selects, folded from `spans` (each part
/// of `Copies::sources`); `None` when there are none.
fn folded(spans: &str, q: &IndexQuery<'_>, copies: &Copies) -> Option<String> {
    let parts: Vec<String> = copies
        .sources(spans)
        .iter()
        .map(|(from, ids)| folded_from(from, ids, q))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" UNION ALL "))
}

/// The index rows of the traces `ids` (SQL) `q` selects, folded from `from` (`spans`, `FINAL`
/// or not).
fn folded_from(from: &str, ids: &str, q: &IndexQuery<'_>) -> String {
    let mut where_ = format!(
        "project = {} AND {}{} AND trace_id IN ({ids})",
        quote(q.project),
        q.scope,
        q.filters
    );
    for (key, value) in q.tags {
        if is_internal_key(key) {
            where_.push_str(" AND 0");
            continue;
        }
        where_.push_str(&format!(
            " AND trace_id IN (SELECT trace_id FROM ({}) WHERE key = {} AND value = {})",
            summary_sql::trace_tags(
                from,
                &format!("project = {} AND trace_id IN ({ids})", quote(q.project))
            ),
            quote(key),
            quote(value)
        ));
    }
    let having = if q.having.is_empty() {
        String::new()
    } else {
        format!(" HAVING {}", q.having.join(" AND "))
    };
    let mut groups = String::new();
    for (i, key) in q.group_keys.iter().enumerate() {
        if is_internal_key(key) {
            groups.push_str(&format!(", '' AS g{i}, toUInt8(0) AS h{i}"));
            continue;
        }
        let k = quote(key);
        groups.push_str(&format!(
            ", argMin(tag_values, {RANK})[indexOf(argMin(tag_keys, {RANK}), {k})] AS g{i}, \
             has(argMin(tag_keys, {RANK}), {k}) AS h{i}"
        ));
    }
    format!(
        "SELECT {}{groups} FROM {from} WHERE {where_} GROUP BY trace_id{having}",
        folded_columns()
    )
}

/// Rows (trace_id, key, value) of the tags of a project's traces (as their folds pick them),
/// of key `key` only when given; `spans` is the table's name.
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
    let whole = format!(
        "SELECT trace_id, k AS key, v AS value FROM {traces} \
         ARRAY JOIN best_tag_keys AS k, best_tag_values AS v \
         WHERE {where_}{} AND {}{key_only}",
        copies.whole(),
        summary_sql::user_key("k")
    );
    let mut parts = vec![whole];
    for (from, ids) in copies.sources(spans) {
        let folded = summary_sql::trace_tags(&from, &format!("{where_} AND trace_id IN ({ids})"));
        parts.push(match key {
            Some(k) => format!(
                "SELECT trace_id, key, value FROM ({folded}) WHERE key = {}",
                quote(k)
            ),
            None => folded,
        });
    }
    parts.join(" UNION ALL ")
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
#[path = "trace_table_tests.rs"]
mod tests;
