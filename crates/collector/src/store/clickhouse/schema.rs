//! Skein's tables in ClickHouse, created and upgraded on start, versioned like SQLite's
//! migrations (`schema_versions` holds the versions applied). The core runs on every server
//! from Debian's 18.16 to current releases: no Map, JSON, DateTime64 or Bool; tags as parallel
//! key/value arrays; times as Int64 nanoseconds, plus the arrival as a DateTime to partition by.
//!
//! On a cluster (`--clickhouse-cluster NAME`), every statement runs `ON CLUSTER`, each table is
//! replicated (`Replicated*MergeTree`, its path keyed by `{shard}` and `{replica}` macros) and
//! read and written through a `Distributed` table of the same name over `<name>_local`, sharded
//! by the trace id, so that a trace lives on one shard.

use super::client::{quote, Client};
use super::tables::{
    FEEDBACK_COLUMNS_V9, SEARCH_INDEX, SPAN_COLUMNS_V3, SPAN_COLUMNS_V5, TABLES_V1, TABLES_V2,
    TABLES_V4, TABLES_V6, TABLES_V7, TABLES_V8,
};
use crate::store::{StoreError, StoreResult};

/// Where Skein's tables are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Layout {
    pub database: String,
    pub cluster: Option<String>,
}

/// A table: its columns, engine family, version column (for replacing engines), order and
/// partition, and the expression that shards it on a cluster.
pub(super) struct Table {
    pub name: &'static str,
    pub columns: &'static str,
    /// `MergeTree`, `ReplacingMergeTree` or `AggregatingMergeTree`.
    pub engine: &'static str,
    pub version: Option<&'static str>,
    pub order_by: &'static str,
    pub partition_by: Option<&'static str>,
    pub shard_by: &'static str,
    /// The engine's settings (`index_granularity = 256`), if not its defaults.
    pub settings: Option<&'static str>,
}

/// The layout's version this Skein writes: 5 adds `spans.search_text` (`tables`), 6 the
/// receive log (`TABLES_V6`), 7 annotation queues (`TABLES_V7`), 8 blind pairwise review
/// queues (`TABLES_V8`), 9 who rated in which queue (`FEEDBACK_COLUMNS_V9`), 10 the per-trace
/// table and the view that feeds it (`trace_table`), 11 that table ordered by start instead, 12
/// the tag index a tag filter prunes by (`tag_index`), 13 per-trace rows of plain columns and
/// the split traces instead of 10's and 11's tables (`trace_table`), 14 the traces' tags by
/// start (`tag_starts`), 15 the split traces with a span stored twice (`splits`), 16 the
/// per-trace rows with their ranks, so that a split trace's rows merge (`trace_table`), 17
/// the traces' tags by start in granules of 256 rows instead of 14's (`tag_starts`), 18 each
/// trace's per-service parts, which a page's summaries merge (`service_parts`).
pub(super) const SCHEMA_VERSION: u32 = 18;

/// The server's major version, from `version()` (`18.16.1`, `26.9.2.1`).
fn major_version(version: &str) -> u32 {
    version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

impl Layout {
    pub fn on_cluster(&self) -> String {
        self.cluster
            .as_ref()
            .map(|c| format!(" ON CLUSTER {}", ident(c)))
            .unwrap_or_default()
    }

    /// The name queries and inserts use for a table.
    pub fn table(&self, name: &str) -> String {
        format!("{}.{}", ident(&self.database), name)
    }

    /// The name of the table that holds a table's rows: itself, or on a cluster each shard's
    /// `<name>_local` under the Distributed table.
    pub fn stored(&self, name: &str) -> String {
        match self.cluster {
            Some(_) => format!("{name}_local"),
            None => name.to_string(),
        }
    }

    /// The statement head that changes a table's rows where they are stored (`ALTER TABLE`
    /// on the table itself, or on every replica's local table of a cluster).
    pub fn alter(&self, name: &str) -> String {
        match &self.cluster {
            Some(_) => format!(
                "ALTER TABLE {}.{}_local{}",
                ident(&self.database),
                name,
                self.on_cluster()
            ),
            None => format!("ALTER TABLE {}", self.table(name)),
        }
    }

    pub fn create(&self, t: &Table) -> Vec<String> {
        let db = ident(&self.database);
        let on = self.on_cluster();
        let local = if self.cluster.is_some() {
            format!("{}_local", t.name)
        } else {
            t.name.to_string()
        };
        let args = |replicated: bool| {
            let mut args = Vec::new();
            if replicated {
                args.push(quote(&format!(
                    "/clickhouse/tables/{{shard}}/{}/{}",
                    self.database, t.name
                )));
                args.push(quote("{replica}"));
            }
            if let Some(v) = t.version {
                args.push(v.to_string());
            }
            args.join(", ")
        };
        let engine = match self.cluster {
            Some(_) => format!("Replicated{}({})", t.engine, args(true)),
            None => format!("{}({})", t.engine, args(false)),
        };
        let partition = t
            .partition_by
            .map(|p| format!(" PARTITION BY {p}"))
            .unwrap_or_default();
        let settings = t
            .settings
            .map(|s| format!(" SETTINGS {s}"))
            .unwrap_or_default();
        let mut statements = vec![format!(
            "CREATE TABLE IF NOT EXISTS {db}.{local}{on} ({}) ENGINE = {engine}{partition} \
             ORDER BY {}{settings}",
            t.columns, t.order_by
        )];
        if let Some(cluster) = &self.cluster {
            statements.push(format!(
                "CREATE TABLE IF NOT EXISTS {db}.{}{on} AS {db}.{local} \
                 ENGINE = Distributed({}, {db}, {local}, {})",
                t.name,
                ident(cluster),
                t.shard_by
            ));
        }
        statements
    }
}

/// A name as a ClickHouse identifier (quoted with backquotes, which a name cannot end).
pub(super) fn ident(name: &str) -> String {
    format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
}

/// Creates the database and tables if missing and applies the migrations not applied yet, on
/// a server of `version`.
pub(super) async fn migrate(client: &Client, layout: &Layout, version: &str) -> StoreResult<()> {
    let db = ident(&layout.database);
    let on = layout.on_cluster();
    client
        .execute(&format!("CREATE DATABASE IF NOT EXISTS {db}{on}"))
        .await?;
    let versions = Table {
        name: "schema_versions",
        columns: "version UInt32, applied_at DateTime",
        engine: "ReplacingMergeTree",
        version: None,
        order_by: "version",
        partition_by: None,
        shard_by: "version",
        settings: None,
    };
    for statement in layout.create(&versions) {
        client.execute(&statement).await?;
    }
    let applied = client
        .rows(&format!(
            "SELECT max(version) AS v FROM {}",
            layout.table("schema_versions")
        ))
        .await?
        .first()
        .map(|r| super::client::as_i64(&r["v"]))
        .unwrap_or(0);
    if applied > i64::from(SCHEMA_VERSION) {
        return Err(StoreError::Internal(format!(
            "the ClickHouse database {} was written by a newer Skein (schema {applied}, this one \
             knows {SCHEMA_VERSION})",
            layout.database
        )));
    }
    if applied < 1 {
        for t in TABLES_V1 {
            for statement in layout.create(t) {
                client.execute(&statement).await?;
            }
        }
        record(client, layout, 1).await?;
        tracing::info!(database = %layout.database, "ClickHouse layout created (schema 1)");
    }
    if applied < 2 {
        for t in TABLES_V2 {
            for statement in layout.create(t) {
                client.execute(&statement).await?;
            }
        }
        client
            .execute(&format!(
                "INSERT INTO {} SELECT DISTINCT project FROM {}",
                layout.table("span_projects"),
                layout.table("spans")
            ))
            .await?;
        record(client, layout, 2).await?;
        tracing::info!(database = %layout.database, "ClickHouse layout upgraded to schema 2");
    }
    if applied < 3 {
        let spans = TABLES_V1
            .iter()
            .find(|t| t.name == "spans")
            .ok_or_else(|| StoreError::Internal("no spans table in the layout".into()))?;
        add_columns(client, layout, spans, SPAN_COLUMNS_V3).await?;
        record(client, layout, 3).await?;
        tracing::info!(database = %layout.database, "ClickHouse layout upgraded to schema 3");
    }
    if applied < 4 {
        for t in TABLES_V4 {
            for statement in layout.create(t) {
                client.execute(&statement).await?;
            }
        }
        record(client, layout, 4).await?;
        tracing::info!(database = %layout.database, "ClickHouse layout upgraded to schema 4");
    }
    if applied < 5 {
        add_search_text(client, layout, version, applied >= 1).await?;
        record(client, layout, 5).await?;
        tracing::info!(database = %layout.database, "ClickHouse layout upgraded to schema 5");
    }
    if applied < 6 {
        // Empty at first: streams open at the head, so nothing before is ever read from it.
        for t in TABLES_V6 {
            for statement in layout.create(t) {
                client.execute(&statement).await?;
            }
        }
        record(client, layout, 6).await?;
        tracing::info!(database = %layout.database, "ClickHouse layout upgraded to schema 6");
    }
    if applied < 7 {
        for t in TABLES_V7 {
            for statement in layout.create(t) {
                client.execute(&statement).await?;
            }
        }
        record(client, layout, 7).await?;
        tracing::info!(database = %layout.database, "ClickHouse layout upgraded to schema 7");
    }
    if applied < 8 {
        for t in TABLES_V8 {
            for statement in layout.create(t) {
                client.execute(&statement).await?;
            }
        }
        record(client, layout, 8).await?;
        tracing::info!(database = %layout.database, "ClickHouse layout upgraded to schema 8");
    }
    if applied < 9 {
        let feedback = TABLES_V1
            .iter()
            .find(|t| t.name == "feedback")
            .ok_or_else(|| StoreError::Internal("no feedback table in the layout".into()))?;
        add_columns(client, layout, feedback, FEEDBACK_COLUMNS_V9).await?;
        record(client, layout, 9).await?;
        tracing::info!(database = %layout.database, "ClickHouse layout upgraded to schema 9");
    }
    // Schemas 10's and 11's per-trace tables (of aggregate states) are replaced by schema 13's
    // rows (`trace_table`): a database before 13 gets the latter only.
    if applied < 11 {
        for step in [10u32, 11] {
            if applied < i64::from(step) {
                record(client, layout, step).await?;
            }
        }
    }
    if applied < 12 {
        super::tag_index::create(client, layout).await?;
        record(client, layout, 12).await?;
        tracing::info!(database = %layout.database, "ClickHouse layout upgraded to schema 12");
    }
    if applied < 13 {
        super::trace_table::create_splits(client, layout).await?;
        record(client, layout, 13).await?;
        tracing::info!(database = %layout.database, "ClickHouse layout upgraded to schema 13");
    }
    // Schema 14's index of tags by start is replaced by schema 17's (`tag_starts`), filled
    // from schema 16's per-trace rows: a database before 14 gets the latter only.
    if applied < 14 {
        record(client, layout, 14).await?;
    }
    if applied < 15 {
        super::splits::create_repeats(client, layout).await?;
        record(client, layout, 15).await?;
        tracing::info!(database = %layout.database, "ClickHouse layout upgraded to schema 15");
    }
    if applied < 16 {
        super::trace_table::create(client, layout).await?;
        record(client, layout, 16).await?;
        tracing::info!(database = %layout.database, "ClickHouse layout upgraded to schema 16");
    }
    if applied < 17 {
        super::tag_starts::create(client, layout).await?;
        record(client, layout, 17).await?;
        tracing::info!(database = %layout.database, "ClickHouse layout upgraded to schema 17");
    }
    if applied < 18 {
        super::service_parts::create(client, layout).await?;
        record(client, layout, 18).await?;
        tracing::info!(database = %layout.database, "ClickHouse layout upgraded to schema 18");
    }
    Ok(())
}

/// Adds the columns a table lacks (18.16 has no `ADD COLUMN IF NOT EXISTS`, and an upgrade
/// stopped halfway is run again). On a cluster, to every replica's local table; the
/// Distributed table over them, which ClickHouse does not alter `ON CLUSTER` (its shards are
/// replicated), is made again over the new columns (it holds no data).
async fn add_columns(
    client: &Client,
    layout: &Layout,
    table: &Table,
    columns: &[(&str, &str)],
) -> StoreResult<()> {
    let db = ident(&layout.database);
    let on = layout.on_cluster();
    let missing = |name: String| async move {
        let existing: Vec<String> = client
            .rows(&format!(
                "SELECT name FROM system.columns WHERE database = {} AND table = {}",
                quote(&layout.database),
                quote(&name)
            ))
            .await?
            .iter()
            .filter_map(|r| r["name"].as_str().map(str::to_string))
            .collect();
        Ok::<_, StoreError>(
            columns
                .iter()
                .filter(|(c, _)| !existing.iter().any(|e| e == c))
                .copied()
                .collect::<Vec<_>>(),
        )
    };
    let stored = match layout.cluster {
        Some(_) => format!("{}_local", table.name),
        None => table.name.to_string(),
    };
    for (column, kind) in missing(stored.clone()).await? {
        client
            .execute(&format!(
                "ALTER TABLE {db}.{}{on} ADD COLUMN {column} {kind}",
                ident(&stored)
            ))
            .await?;
    }
    if layout.cluster.is_some() && !missing(table.name.to_string()).await?.is_empty() {
        client
            .execute(&format!(
                "DROP TABLE IF EXISTS {db}.{}{on}",
                ident(table.name)
            ))
            .await?;
        for statement in layout.create(table).into_iter().skip(1) {
            client.execute(&statement).await?;
        }
    }
    Ok(())
}

/// 4 → 5: `spans.search_text` (and its index, where the server has them). Spans stored before
/// get theirs from their JSON body, lowercased, in the background (a mutation): they are
/// found by the text of their body as stored, which holds everything `search_text` does
/// (strings as JSON writes them, escapes included) and the body's keys and ids besides.
async fn add_search_text(
    client: &Client,
    layout: &Layout,
    version: &str,
    had_spans: bool,
) -> StoreResult<()> {
    let columns = client
        .rows(&format!(
            "SELECT name FROM system.columns WHERE database = {} AND table = {} \
             AND name = 'search_text'",
            quote(&layout.database),
            quote(if layout.cluster.is_some() {
                "spans_local"
            } else {
                "spans"
            })
        ))
        .await?;
    // Added as schema 3's columns are: on a cluster, to the replicas' local tables, and the
    // Distributed table over them made again (18.16 cannot alter it `ON CLUSTER`).
    let spans = TABLES_V1
        .iter()
        .find(|t| t.name == "spans")
        .ok_or_else(|| StoreError::Internal("no spans table in the layout".into()))?;
    add_columns(client, layout, spans, SPAN_COLUMNS_V5).await?;
    if columns.is_empty() && had_spans {
        client
            .execute(&format!(
                "{} UPDATE search_text = lowerUTF8(body) WHERE search_text = ''",
                layout.alter("spans")
            ))
            .await?;
    }
    if major_version(version) >= 20 {
        client
            .execute(&format!(
                "{} ADD INDEX IF NOT EXISTS {SEARCH_INDEX}",
                layout.alter("spans")
            ))
            .await?;
        if had_spans {
            client
                .execute(&format!(
                    "{} MATERIALIZE INDEX search_ngrams",
                    layout.alter("spans")
                ))
                .await?;
        }
    }
    Ok(())
}

async fn record(client: &Client, layout: &Layout, version: u32) -> StoreResult<()> {
    client
        .execute(&format!(
            "INSERT INTO {} (version, applied_at) VALUES ({version}, now())",
            layout.table("schema_versions")
        ))
        .await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use skein_model::span::Span;
    use skein_model::span_list::SpanQuery;

    use super::super::{testserver, ClickhouseOptions, ClickhouseStore};
    use crate::store::{QueryStore, SpanStore};

    async fn found(store: &ClickhouseStore, text: &str) -> u64 {
        let q = SpanQuery {
            filter: skein_model::filter::parse(&format!("search({text:?})")).unwrap(),
            ..SpanQuery::default()
        };
        store.list_spans("p", &q).await.unwrap().total
    }

    /// A database of schema 4 (spans without `search_text`) gets the column on open, filled
    /// from the stored bodies in the background: what was stored before is found.
    #[tokio::test]
    async fn spans_stored_before_the_search_text_are_found_after_the_upgrade() {
        let options = ClickhouseOptions {
            database: testserver::fresh_database(),
            ..ClickhouseOptions::new(&testserver::server().url)
        };
        let store = ClickhouseStore::open(options.clone()).await.unwrap();
        let span = Span {
            project: "p".into(),
            trace_id: "a".repeat(32),
            span_id: "b".repeat(16),
            name: "support".into(),
            input: Some("Can I get a REFUND?".into()),
            ..Span::default()
        };
        store.write_spans(vec![span]).await.unwrap();
        assert_eq!(found(&store, "refund").await, 1);

        // Back to schema 4, as an older Skein left it.
        let (client, layout) = (store.client.clone(), store.layout.clone());
        client
            .execute(&format!(
                "{} DROP COLUMN search_text",
                layout.alter("spans")
            ))
            .await
            .unwrap();
        client
            .execute(&format!(
                "{} DELETE WHERE version >= 5",
                layout.alter("schema_versions")
            ))
            .await
            .unwrap();
        let versions = format!(
            "SELECT max(version) AS v FROM {}",
            layout.table("schema_versions")
        );
        for _ in 0..100 {
            let rows = client.rows(&versions).await.unwrap();
            if rows.first().map(|r| super::super::client::as_i64(&r["v"])) == Some(4) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(store);

        let store = ClickhouseStore::open(options).await.unwrap();
        let mut n = 0;
        for _ in 0..100 {
            n = found(&store, "refund").await;
            if n == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(n, 1, "the span stored before is found");
        assert_eq!(found(&store, "no such text").await, 0);
    }
}
