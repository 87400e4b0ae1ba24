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
use crate::store::{StoreError, StoreResult};

/// Where Skein's tables are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Layout {
    pub database: String,
    pub cluster: Option<String>,
}

/// A table: its columns, engine family, version column (for replacing engines), order and
/// partition, and the expression that shards it on a cluster.
struct Table {
    name: &'static str,
    columns: &'static str,
    /// `MergeTree` or `ReplacingMergeTree`.
    engine: &'static str,
    version: Option<&'static str>,
    order_by: &'static str,
    partition_by: Option<&'static str>,
    shard_by: &'static str,
}

/// Version 1 of the layout.
const TABLES_V1: &[Table] = &[
    // One row per version of a span: a span sent again (a retry) is folded by the version
    // (first arrival wins); a span sent in pieces is written folded, its fold of more pieces
    // ranked higher (`writer::piece_version`). Partitioned by when the span (its first piece)
    // arrived, which never changes between its versions (its start may, for a pieced span).
    Table {
        name: "spans",
        columns: "project String, trace_id String, span_id String, parent_span_id String, \
            has_parent UInt8, name String, span_type UInt8, kind UInt8, service String, \
            start_ns Int64, end_ns Int64, arrived DateTime, status UInt8, \
            input_tokens Int64, output_tokens Int64, cost Float64, session_id String, \
            user_id String, tag_keys Array(String), tag_values Array(String), \
            pieced UInt8, body String, arrival UInt64, version UInt64",
        engine: "ReplacingMergeTree",
        version: Some("version"),
        order_by: "(project, trace_id, span_id)",
        partition_by: Some("toYYYYMM(arrived)"),
        shard_by: "cityHash64(trace_id)",
    },
    // Every piece of a pieced span as it came, by span id alone (LangSmith names a run by its
    // UUID only).
    Table {
        name: "span_pieces",
        columns: "span_id String, project String, trace_id String, arrival UInt64, body String",
        engine: "MergeTree",
        version: None,
        order_by: "(span_id, project, arrival)",
        partition_by: None,
        shard_by: "cityHash64(trace_id)",
    },
    Table {
        name: "feedback",
        columns: "project String, id String, run_id String, trace_id String, key String, \
            score Nullable(Float64), value String, comment Nullable(String), correction String, \
            source String, created_ms Int64, modified_ms Int64, deleted UInt8, version UInt64",
        engine: "ReplacingMergeTree",
        version: Some("version"),
        order_by: "(project, id)",
        partition_by: None,
        shard_by: "cityHash64(project, id)",
    },
    Table {
        name: "projects",
        columns: "name String, created_ms Int64",
        engine: "ReplacingMergeTree",
        version: None,
        order_by: "name",
        partition_by: None,
        shard_by: "cityHash64(name)",
    },
    Table {
        name: "api_keys",
        columns: "id String, project String, label String, secret_sha256 String, \
            created_ms Int64, revoked_ms Int64, version UInt64",
        engine: "ReplacingMergeTree",
        version: Some("version"),
        order_by: "id",
        partition_by: None,
        shard_by: "cityHash64(id)",
    },
];

/// Version 2: the projects that have spans, so that listing their names does not scan spans.
const TABLES_V2: &[Table] = &[Table {
    name: "span_projects",
    columns: "name String",
    engine: "ReplacingMergeTree",
    version: None,
    order_by: "name",
    partition_by: None,
    shard_by: "cityHash64(name)",
}];

/// Version 3: each span's attributes as filters read them (`skein_model::filter::filterable`),
/// two flat JSON objects (key to text, key to number), so that `attr.KEY` finds a top-level
/// key exactly (a lookup in the body would also find a key nested in an object value). Rows
/// written before have '' (filters then read the body).
const SPAN_COLUMNS_V3: &[(&str, &str)] = &[("attrs", "String"), ("attr_nums", "String")];

/// The layout's version this Skein writes.
pub(super) const SCHEMA_VERSION: u32 = 3;

impl Layout {
    fn on_cluster(&self) -> String {
        self.cluster
            .as_ref()
            .map(|c| format!(" ON CLUSTER {}", ident(c)))
            .unwrap_or_default()
    }

    /// The name queries and inserts use for a table.
    pub fn table(&self, name: &str) -> String {
        format!("{}.{}", ident(&self.database), name)
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

    fn create(&self, t: &Table) -> Vec<String> {
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
        let mut statements = vec![format!(
            "CREATE TABLE IF NOT EXISTS {db}.{local}{on} ({}) ENGINE = {engine}{partition} \
             ORDER BY {}",
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

/// Creates the database and tables if missing and applies the migrations not applied yet.
pub(super) async fn migrate(client: &Client, layout: &Layout) -> StoreResult<()> {
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

async fn record(client: &Client, layout: &Layout, version: u32) -> StoreResult<()> {
    client
        .execute(&format!(
            "INSERT INTO {} (version, applied_at) VALUES ({version}, now())",
            layout.table("schema_versions")
        ))
        .await
}
