//! The per-trace rows `trace_parts` (schema 16; schema 13's `trace_rows` had the same values
//! without their ranks; schemas 10 and 11 kept aggregate states instead): what the trace list,
//! its filters and counts, metrics, sessions and users, tag suggestions and the service graph's
//! scope read instead of folding a project's spans on every query.
//!
//! A materialized view fed by every insert into `spans` folds each insert's spans of a trace
//! into one row of plain values: first start, last end, errors, the model calls' and all
//! spans' usage, and by rank (`traces::RANK`) the best-ranked span's name and tags and the
//! best-ranked session and user, each with its rank, the same rule `skein_model::trace_fold`
//! applies, with the rows it was fed (`row_count`) beside its distinct span ids (`span_ids`).
//!
//! A trace written by one insert, each span once, has one row, and that row is exactly the
//! fold of its spans: reads take its columns as they are (no `GROUP BY`, no states merged:
//! schema 11's merge of 750k traces' states was 10–30 s a read at 10M spans). Any other trace
//! is named split (`splits`). One written in parts, each span once (the 100k-span trace sent
//! in ten requests, a batch exporter's trace cut across batches), is its rows merged by their
//! ranks: a few rows, not its spans (granules of 256 rows, so that a few traces' rows are a
//! few granules). One with a span stored twice (a retry, a LangSmith run's post then patch,
//! each fold of its pieces) is folded from `spans FINAL`. Reads are the union of the parts.
//!
//! Why not merge states (schemas 10–11): every read with a common tag merged most of the
//! project's traces' states per call. Why not one row a trace kept by a replacing engine:
//! which of two inserts' rows wins depends on both, which no insert alone knows.

use skein_model::trace_tags::is_internal_key;

use super::client::{quote, Client};
use super::schema::{ident, Layout, Table};
use super::split_rows;
use super::splits::{Copies, REPEATS, SPLIT, SPLITS};
use super::summary_sql;
use super::traces::RANK;
use crate::store::StoreResult;

/// The rows: one per insert, trace and month of arrival (partitioned as `spans` is), ordered
/// by trace so that a trace's rows are found by its id. No column is named as a read's alias
/// (`start`, `errors`…). Each best-ranked value has its rank beside it (`*_has_parent`,
/// `*_start`, `*_span`: `traces::RANK`'s parts), so that a trace's rows merge as its spans
/// fold.
pub(super) const TRACES: Table = Table {
    name: "trace_parts",
    columns: "project String, trace_id String, first_arrived DateTime, row_count UInt64, \
        span_ids UInt64, first_start Int64, last_end Int64, error_spans UInt64, \
        model_in Int64, model_out Int64, model_cost Float64, all_in Int64, all_out Int64, \
        all_cost Float64, model_reports UInt64, best_name String, \
        best_tag_keys Array(String), best_tag_values Array(String), best_session String, \
        best_user String, best_has_parent UInt8, best_start Int64, best_span String, \
        session_has_parent UInt8, session_start Int64, session_span String, \
        user_has_parent UInt8, user_start Int64, user_span String",
    engine: "MergeTree",
    version: None,
    order_by: "(project, trace_id)",
    partition_by: Some("toYYYYMM(first_arrived)"),
    shard_by: "cityHash64(trace_id)",
    settings: Some("index_granularity = 256"),
};

/// The view that feeds the rows.
const FEED: &str = "trace_parts_feed";

/// A row's best rank, and its session's and user's, as SQL tuples (`traces::RANK`'s order).
pub(super) const PART_RANK: &str = "tuple(best_has_parent, best_start, best_span)";
pub(super) const SESSION_RANK: &str = "tuple(session_has_parent, session_start, session_span)";
pub(super) const USER_RANK: &str = "tuple(user_has_parent, user_start, user_span)";

/// Schema 10's table and view (ordered by trace id) and schema 11's (ordered by start), both
/// of aggregate states, dropped by schema 13; schema 13's rows without ranks, by schema 16.
const OLD_TABLES: [(&str, &str); 3] = [
    ("traces", "traces_feed"),
    ("traces_by_start", "traces_by_start_feed"),
    ("trace_rows", "trace_rows_feed"),
];

/// The rows for the span rows of `spans` (a table name).
fn feed(spans: &str) -> String {
    let model = summary_sql::model_call();
    // A session (user) ranks by the best-ranked span that has one.
    let having = |column: &str| format!("tuple({column} = '', has_parent, start_ns, span_id)");
    // A rank's parts as columns (18.16 stores no tuple): each `min` is computed once.
    let parts = |rank: &str, prefix: &str, from: usize| {
        format!(
            "tupleElement(min({rank}), {}) AS {prefix}_has_parent, \
             tupleElement(min({rank}), {}) AS {prefix}_start, \
             tupleElement(min({rank}), {}) AS {prefix}_span",
            from,
            from + 1,
            from + 2
        )
    };
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
         argMin(session_id, {}) AS best_session, argMin(user_id, {}) AS best_user, \
         {}, {}, {} \
         FROM {spans} GROUP BY project, trace_id, toYYYYMM(arrived)",
        having("session_id"),
        having("user_id"),
        parts(RANK, "best", 1),
        parts(&having("session_id"), "session", 2),
        parts(&having("user_id"), "user", 2),
    )
}

/// Drops a table and the view feeding it (the view first: inserts stop feeding the table),
/// with the Distributed table over the local ones on a cluster.
pub(super) async fn drop_fed(
    client: &Client,
    layout: &Layout,
    (table, view): (&str, &str),
) -> StoreResult<()> {
    let db = ident(&layout.database);
    let on = layout.on_cluster();
    let mut old = vec![view.to_string(), table.to_string()];
    if layout.cluster.is_some() {
        old.push(layout.stored(table));
    }
    for name in old {
        client
            .execute(&format!("DROP TABLE IF EXISTS {db}.{name}{on}"))
            .await?;
    }
    Ok(())
}

/// Schema 13: schemas 10's and 11's tables and views (if any) dropped, and the table of split
/// traces. (Its per-trace rows, `trace_rows`, are schema 16's `trace_parts` now, which a
/// database before 16 gets instead.)
pub(super) async fn create_splits(client: &Client, layout: &Layout) -> StoreResult<()> {
    for old in &OLD_TABLES[..2] {
        drop_fed(client, layout, *old).await?;
    }
    for statement in layout.create(&SPLITS) {
        client.execute(&statement).await?;
    }
    Ok(())
}

/// Schema 16: the rows with their ranks, the view feeding them from every insert into `spans`
/// (on a cluster, each shard's local tables, so a trace's rows are where its spans are) and
/// the rows of the spans stored before (a trace's spans of one month in one row); then schema
/// 13's rows dropped. The view comes first, so that no span is missed: a span both fed and
/// filled gives its trace two rows, which count it twice. So every trace that then has more
/// than one row (or a row fed a span twice) is named split and repeated: folded from its
/// spans, never merged from its rows.
pub(super) async fn create(client: &Client, layout: &Layout) -> StoreResult<()> {
    create_fed(client, layout, &TRACES, FEED, feed).await?;
    // The repeats first: a trace named split is merged from its rows unless named there.
    for named in [REPEATS.name, SPLITS.name] {
        client
            .insert_select(&format!(
                "INSERT INTO {} SELECT project, trace_id, now() AS marked FROM {} \
                 GROUP BY project, trace_id HAVING {SPLIT}",
                layout.table(named),
                layout.table(TRACES.name)
            ))
            .await?;
    }
    drop_fed(client, layout, OLD_TABLES[2]).await
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
    create_with_view(client, layout, table, view, feed).await?;
    client
        .insert_select(&format!(
            "INSERT INTO {} {}",
            layout.table(table.name),
            feed(&layout.table("spans"))
        ))
        .await
}

/// `table` and the materialized view `view` feeding it (`create_fed`), without filling it.
pub(super) async fn create_with_view(
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
        .await
}

/// The columns of a trace index row (`traces::trace_index`), in the order both parts give
/// them, from a trace's one row.
const INDEX_COLUMNS: &str = "trace_id, first_start AS start, last_end - first_start AS duration, \
    error_spans AS errors, best_name AS root_name, best_session AS sess, best_user AS usr, \
    row_count AS span_count, if(model_reports > 0, model_in, all_in) AS in_tokens, \
    if(model_reports > 0, model_out, all_out) AS out_tokens, \
    if(model_reports > 0, model_cost, all_cost) AS cost_sum";

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
/// a split one's from `split_rows` (`spans` is the table's name).
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
        // a row: `arrayExists` was the most of a tag filter's read). The position, not `has`,
        // says whether the key is there: the same expression twice is one search of the keys.
        whole_where.push_str(&format!(
            " AND indexOf(best_tag_keys, {k}) > 0 \
             AND best_tag_values[indexOf(best_tag_keys, {k})] = {}",
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
             indexOf(best_tag_keys, {k}) > 0 AS h{i}"
        ));
    }
    let whole = format!("SELECT {INDEX_COLUMNS}{whole_groups} FROM {traces} WHERE {whole_where}");
    IndexParts::new(whole, folded(traces, spans, q, copies), copies)
}

/// The index rows of the split traces (`copies`) `q` selects (`split_rows`); `None` when
/// there are none.
fn folded(traces: &str, spans: &str, q: &IndexQuery<'_>, copies: &Copies) -> Option<String> {
    let parts: Vec<String> = split_rows::sources(traces, spans, copies)
        .iter()
        .map(|source| source.index(q))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" UNION ALL "))
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
    parts.extend(
        split_rows::sources(traces, spans, copies)
            .iter()
            .map(|source| source.tag_rows(project, key)),
    );
    parts.join(" UNION ALL ")
}

/// Statements that take a database back to before schema 16 (its rows and view dropped).
#[cfg(test)]
pub(super) fn undo(layout: &Layout) -> Vec<String> {
    vec![
        format!("DROP TABLE IF EXISTS {}.{FEED}", ident(&layout.database)),
        format!("DROP TABLE IF EXISTS {}", layout.table(TRACES.name)),
    ]
}

/// Brings a store's database back to `schema`: runs `statements` (which undo what the later
/// schemas made; before 16, its rows are dropped too), forgets the later schemas, and waits
/// until the server shows it.
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
    let rows = if schema < 16 {
        undo(&store.layout)
    } else {
        Vec::new()
    };
    for sql in statements.into_iter().chain(rows).chain([forget]) {
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
