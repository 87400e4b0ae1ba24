//! The tables and columns of layout versions 1 to 9, as data: `schema::migrate` creates and
//! adds them in order (later versions' tables live beside the code that reads them).

use super::schema::Table;

/// Version 1 of the layout.
pub(super) const TABLES_V1: &[Table] = &[
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
        settings: None,
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
        settings: None,
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
        settings: None,
    },
    Table {
        name: "projects",
        columns: "name String, created_ms Int64",
        engine: "ReplacingMergeTree",
        version: None,
        order_by: "name",
        partition_by: None,
        shard_by: "cityHash64(name)",
        settings: None,
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
        settings: None,
    },
];

/// Version 2: the projects that have spans, so that listing their names does not scan spans.
pub(super) const TABLES_V2: &[Table] = &[Table {
    name: "span_projects",
    columns: "name String",
    engine: "ReplacingMergeTree",
    version: None,
    order_by: "name",
    partition_by: None,
    shard_by: "cityHash64(name)",
    settings: None,
}];

/// Version 3: each span's attributes as filters read them (`skein_model::filter::filterable`),
/// two flat JSON objects (key to text, key to number), so that `attr.KEY` finds a top-level
/// key exactly (a lookup in the body would also find a key nested in an object value). Rows
/// written before have '' (filters then read the body).
pub(super) const SPAN_COLUMNS_V3: &[(&str, &str)] = &[("attrs", "String"), ("attr_nums", "String")];

/// Version 4: score configs and feedback settings, per project (`score_configs.rs`).
pub(super) const TABLES_V4: &[Table] = &[
    Table {
        name: "score_configs",
        columns: "project String, key String, config String, deleted UInt8, version UInt64",
        engine: "ReplacingMergeTree",
        version: Some("version"),
        order_by: "(project, key)",
        partition_by: None,
        shard_by: "cityHash64(project)",
        settings: None,
    },
    Table {
        name: "score_settings",
        columns: "project String, settings String, version UInt64",
        engine: "ReplacingMergeTree",
        version: Some("version"),
        order_by: "project",
        partition_by: None,
        shard_by: "cityHash64(project)",
        settings: None,
    },
];

/// Version 9: a feedback record's annotation queue and reviewer (empty outside queues).
pub(super) const FEEDBACK_COLUMNS_V9: &[(&str, &str)] =
    &[("queue_id", "String"), ("reviewer", "String")];

/// Version 6: the receive log the live stream reads (`received.rs`): a small row per write of a
/// span (its arrival, a new one for each write: a LangSmith run's patch is received again), in
/// arrival order within the project, so that a stream's poll reads only what came after its
/// cursor rather than the month's spans (`spans` is ordered by trace). Partitioned by month,
/// like `spans`; retention removes a trace's rows with its spans.
pub(super) const TABLES_V6: &[Table] = &[Table {
    name: "received",
    columns: "project String, arrival UInt64, arrived DateTime, trace_id String, span_id String",
    engine: "MergeTree",
    version: None,
    order_by: "(project, arrival)",
    partition_by: Some("toYYYYMM(arrived)"),
    shard_by: "cityHash64(trace_id)",
    settings: None,
}];

/// Version 7: annotation queues and their items, per project (`queues.rs`).
pub(super) const TABLES_V7: &[Table] = &[
    Table {
        name: "queues",
        columns: "project String, id String, created_ms Int64, queue String, deleted UInt8, \
            version UInt64",
        engine: "ReplacingMergeTree",
        version: Some("version"),
        order_by: "(project, id)",
        partition_by: None,
        shard_by: "cityHash64(project)",
        settings: None,
    },
    Table {
        name: "queue_items",
        columns: "project String, queue_id String, id String, position Int64, status String, \
            holder String, lease_expires_ms Int64, item String, version UInt64",
        engine: "ReplacingMergeTree",
        version: Some("version"),
        order_by: "(project, queue_id, id)",
        partition_by: None,
        shard_by: "cityHash64(project)",
        settings: None,
    },
];

/// Version 8: blind pairwise review queues, their pairs and judgements, per project
/// (`pairwise.rs`).
pub(super) const TABLES_V8: &[Table] = &[
    Table {
        name: "pairwise_queues",
        columns: "project String, id String, created_ms Int64, queue String, deleted UInt8, \
            version UInt64",
        engine: "ReplacingMergeTree",
        version: Some("version"),
        order_by: "(project, id)",
        partition_by: None,
        shard_by: "cityHash64(project)",
        settings: None,
    },
    Table {
        name: "pairwise_pairs",
        columns: "project String, queue_id String, id String, position Int64, status String, \
            holder String, lease_expires_ms Int64, pair String, version UInt64",
        engine: "ReplacingMergeTree",
        version: Some("version"),
        order_by: "(project, queue_id, id)",
        partition_by: None,
        shard_by: "cityHash64(project)",
        settings: None,
    },
    Table {
        name: "pairwise_judgements",
        columns: "project String, queue_id String, pair_id String, reviewer String, \
            winner String, created_ms Int64, judgement String, version UInt64",
        engine: "ReplacingMergeTree",
        version: Some("version"),
        order_by: "(project, queue_id, pair_id)",
        partition_by: None,
        shard_by: "cityHash64(project)",
        settings: None,
    },
];

/// Version 5: `search_text String`, the span's text that `search("...")` reads
/// (`trace_search::search_text`, lowercased by the writer, so a plain `LIKE` matches
/// case-insensitively, Unicode included).
pub(super) const SPAN_COLUMNS_V5: &[(&str, &str)] = &[("search_text", "String")];

/// On servers that have data-skipping indexes (20.1 and later; Debian's 18.16 has none, and
/// searches there read the column), an n-gram bloom filter of the search text lets `LIKE
/// '%word%'` skip the granules that cannot hold the word: trigrams, 64 KiB a granule.
pub(super) const SEARCH_INDEX: &str =
    "INDEX search_ngrams search_text TYPE ngrambf_v1(3, 65536, 2, 0) GRANULARITY 1";
