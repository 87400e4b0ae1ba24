//! The SQLite file's layout: its pragmas, the tables of a new database, and the versioned
//! migrations that bring an older file up to date in place.

use rusqlite::{params, Connection};

use super::feedback::trace_of_run;
use super::metrics;
use crate::store::{StoreError, StoreResult};

/// The page size of a new database. 16 KiB rather than SQLite's 4 KiB: a span row with its
/// compressed body is ~700 bytes, and with 4 KiB pages ingest ran ~1.5x slower (deeper
/// trees, more pages per commit). It only applies when the file is created.
const PAGE_SIZE: u32 = 16_384;

pub(super) fn configure_writer(conn: &Connection) -> StoreResult<()> {
    conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a commit is on disk (fsync of the WAL) before the request is acknowledged. Group
    // commit keeps that to one fsync per batch.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    conn.pragma_update(None, "cache_size", -64_000)?;
    // Checkpoints are the checkpointer thread's job, never the writer's.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.busy_timeout(WRITER_BUSY_TIMEOUT)?;
    Ok(())
}

/// How long the writer waits for a lock another connection holds.
pub(super) const WRITER_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The layout's version (`PRAGMA user_version`). A new database is created at the latest
/// layout (`create_schema`); an older file is brought up to it in place, one step of
/// `MIGRATIONS` at a time, each in its own transaction, so a crash mid-way resumes there.
///
/// - 1: the first layout (files from before `trace_tags.project` also say 1);
/// - 2: `spans.kind` (the OTel span kind, for the trace skeleton);
/// - 3: `trace_tags.project` and `trace_tags_by_value` where missing, `traces.root_span_type`,
///   feedback's trace ids resolved from their runs, `feedback_waiting`;
/// - 4: `feedback_scores`, the per-trace rollup of feedback scores (`metrics::FEEDBACK_SCORES`);
/// - 5: `spans.cost` (the span's own cost, for the trace skeleton);
/// - 6: `traces.fold`, the trace's `TraceFold` (`traces.rs`), from which its summary columns
///   are written;
/// - 7: feedback keyed by (project, id): a feedback id is scoped by its project;
/// - 8: the folds in a table of their own, `trace_folds`, so that the `traces` rows every list,
///   count and aggregate reads stay small (`traces.fold` is left empty);
/// - 9: every trace re-folded from its stored spans: its tags are its root's without
///   instrumentation's own keys, its usage counted at its model calls (`trace_fold`);
/// - 10: score configs and feedback settings (`score_configs`);
/// - 11: `span_text`, the full-text index of `search("...")`, filled from the stored spans;
/// - 12: annotation queues and their items (`queues`);
/// - 13: `span_text_pending`, the texts of spans stored but not yet in `span_text`;
/// - 14: `spans_by_trace_extent`, the columns a cohort compare reads of each span, by trace
///   (`SPAN_EXTENTS`);
/// - 15: blind pairwise review queues, their pairs and judgements (`pairwise`);
/// - 16: `feedback.queue_id` and `feedback.reviewer`, who rated in which annotation queue
///   (`add_feedback_reviews`);
/// - 17: `span_changes`, the live stream's record of changed spans (`received`);
/// - 18: `span_texts`, the span texts kept beside a `span_text` index without positions
///   (`detail=none`), rebuilt from the stored spans; it replaces what 11 and 13 made, which
///   those steps no longer do;
/// - 19: `spans_by_trace_extent` with `kind`, so that the trace skeleton reads from it too,
///   and `spans_by_parent`, a trace's children by start, for the first rows of a big trace
///   read apart (`extend_span_extents`);
/// - 20: `span_facts`' JSON columns and `span_texts.text` may hold packed texts
///   (`codec::Packed`, read through `skein_text`); those written before stay plain text,
///   read as they are (an older Skein, which cannot read packed texts, refuses the file by
///   its version); `span_text` merges wider (`span_text::merge_wider`);
/// - 21: `span_text` indexes blocks of 16 consecutive spans, a document each, rebuilt behind
///   the writer from the kept texts (`span_text::index_blocks`);
/// - 22: `span_text_pending` gives way to a high-water mark (`span_text_mark`: the index holds
///   the spans up to it) and the blocks indexed again after a change (`span_text_stale`), so
///   that storing a span writes no queue row (`span_text::high_water_mark`);
/// - 23: the FTS5 index gives way to a trigram index of our own (`span_grams`, written a
///   chunk of blocks at a time), rebuilt behind the writer (`span_text::own_index`).
const SCHEMA_VERSION: i64 = 23;

type Migration = fn(&Connection) -> StoreResult<()>;

/// `MIGRATIONS[i]` takes a database from version `i + 1` to `i + 2`.
const MIGRATIONS: [Migration; (SCHEMA_VERSION - 1) as usize] = [
    add_span_kinds,
    add_tag_projects_root_types_feedback_traces,
    metrics::add_feedback_scores,
    add_span_costs,
    add_trace_folds,
    scope_feedback_ids,
    move_trace_folds,
    super::traces::refold_stored_traces,
    add_score_configs,
    super::span_text::superseded,
    add_queues,
    super::span_text::superseded,
    add_span_extents,
    add_pairwise,
    add_feedback_reviews,
    super::received::add_span_changes,
    super::span_text::keep_texts,
    extend_span_extents,
    super::span_text::merge_wider,
    super::span_text::index_blocks,
    super::span_text::high_water_mark,
    super::span_text::own_index,
];

/// Ratings by queue, for `GET /api/v1/feedback?queue_id=`.
const FEEDBACK_BY_QUEUE: &str = "
    CREATE INDEX IF NOT EXISTS feedback_by_queue ON feedback (project, queue_id)
        WHERE queue_id IS NOT NULL;";

/// 15 → 16. Records given before have neither (NULL): they were given outside queues.
fn add_feedback_reviews(conn: &Connection) -> StoreResult<()> {
    for column in ["queue_id", "reviewer"] {
        if !has_column(conn, "feedback", column)? {
            conn.execute_batch(&format!("ALTER TABLE feedback ADD COLUMN {column} TEXT"))?;
        }
    }
    conn.execute_batch(FEEDBACK_BY_QUEUE)?;
    Ok(())
}

/// A covering index of the columns a cohort compare (`cohort.rs`) and the trace skeleton
/// (`reads::skeleton`) read of every span of a trace, by trace: read from it, neither touches
/// the span rows (their bodies make them ~7x larger, and `kind` and `cost` come after the body,
/// in its overflow pages when it is big) nor seeks a row per span. About 100 bytes a span.
const SPAN_EXTENTS: &str = "
    CREATE INDEX IF NOT EXISTS spans_by_trace_extent ON spans
        (trace, span_id, parent_span_id, name, span_type, service, start_ns, end_ns, status,
         tokens, cost, kind);";

/// 13 → 14. Built from the stored rows (~2 s a million spans).
fn add_span_extents(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(SPAN_EXTENTS)?;
    Ok(())
}

/// A trace's spans by parent, then start and span id: a span's children in the order the
/// skeleton shows them, for its first rows read apart (`reads::skeleton_head`).
const SPANS_BY_PARENT: &str = "
    CREATE INDEX IF NOT EXISTS spans_by_parent ON spans
        (trace, parent_span_id, start_ns, span_id);";

/// 18 → 19. The index of step 14 as it was made before (without `kind`) built again with it
/// (one made by step 14 since already has it), and `spans_by_parent` (~3 s a million spans
/// together).
fn extend_span_extents(conn: &Connection) -> StoreResult<()> {
    let has_kind: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_index_info('spans_by_trace_extent') \
         WHERE name = 'kind')",
        [],
        |r| r.get(0),
    )?;
    if !has_kind {
        conn.execute_batch("DROP INDEX IF EXISTS spans_by_trace_extent")?;
        conn.execute_batch(SPAN_EXTENTS)?;
    }
    conn.execute_batch(SPANS_BY_PARENT)?;
    Ok(())
}

/// 9 → 10. New tables, empty.
fn add_score_configs(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(super::score_configs::SCHEMA)?;
    Ok(())
}

/// 11 → 12. New tables, empty.
fn add_queues(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(super::queues::SCHEMA)?;
    Ok(())
}

/// 14 → 15. New tables, empty.
fn add_pairwise(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(super::pairwise::SCHEMA)?;
    Ok(())
}

pub(super) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    // Every connection that writes opens the file here; the steps read packed texts too.
    super::codec::register_unpack(conn)?;
    super::span_text::register(conn)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Internal(format!(
            "the database was written by a newer Skein (schema {version}, this one knows {SCHEMA_VERSION})"
        )));
    }
    if version == 0 {
        create_schema(conn)?;
    } else {
        check_layout(conn)?;
        for (i, step) in MIGRATIONS.iter().enumerate().skip(version as usize - 1) {
            let to = i as i64 + 2;
            let tx = conn.transaction()?;
            step(&tx)?;
            tx.pragma_update(None, "user_version", to)?;
            tx.commit()?;
            tracing::info!(from = to - 1, to, "database layout upgraded");
        }
    }
    // Versionless: created (and filled from the stored spans) wherever it is missing.
    super::span_facts::ensure_schema(conn)
}

fn has_column(conn: &Connection, table: &str, column: &str) -> StoreResult<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2)",
        params![table, column],
        |r| r.get(0),
    )?)
}

/// 1 → 2. Spans stored before have an unknown kind (0), read as internal.
fn add_span_kinds(conn: &Connection) -> StoreResult<()> {
    if !has_column(conn, "spans", "kind")? {
        conn.execute_batch("ALTER TABLE spans ADD COLUMN kind INTEGER NOT NULL DEFAULT 0")?;
    }
    Ok(())
}

/// 4 → 5. Spans stored before show no cost of their own in the trace view (their trace's
/// total, kept in `traces.cost`, is unchanged): reading every stored body back to fill the
/// column would make the upgrade as slow as re-ingesting.
fn add_span_costs(conn: &Connection) -> StoreResult<()> {
    if !has_column(conn, "spans", "cost")? {
        conn.execute_batch("ALTER TABLE spans ADD COLUMN cost REAL NOT NULL DEFAULT 0")?;
    }
    Ok(())
}

/// 5 → 6. A trace stored before has no fold (NULL): the writer folds its stored spans the
/// first time one more of them arrives (`traces::stored_fold`), so the upgrade reads nothing.
fn add_trace_folds(conn: &Connection) -> StoreResult<()> {
    if !has_column(conn, "traces", "fold")? {
        conn.execute_batch("ALTER TABLE traces ADD COLUMN fold TEXT")?;
    }
    Ok(())
}

/// Each trace's `TraceFold` as JSON, by `traces.id` (`traces.rs`): read by the writer when more
/// spans of the trace arrive, and for the services and tags of a listed trace.
const TRACE_FOLDS: &str = "
    CREATE TABLE IF NOT EXISTS trace_folds (
        trace INTEGER PRIMARY KEY,
        fold TEXT NOT NULL
    );";

/// 7 → 8. Folds move out of the `traces` rows into `trace_folds`.
fn move_trace_folds(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(TRACE_FOLDS)?;
    conn.execute_batch(
        "INSERT OR REPLACE INTO trace_folds (trace, fold) \
         SELECT id, fold FROM traces WHERE fold IS NOT NULL;
         UPDATE traces SET fold = NULL WHERE fold IS NOT NULL;",
    )?;
    Ok(())
}

/// Feedback records, their indexes. A record is keyed by its project and id: the same id in
/// two projects is two records.
const FEEDBACK: &str = "
    CREATE TABLE IF NOT EXISTS feedback (
        id TEXT NOT NULL,
        project TEXT NOT NULL,
        run_id TEXT NOT NULL,
        trace_id TEXT,
        key TEXT NOT NULL,
        score REAL,
        value TEXT,
        comment TEXT,
        correction TEXT,
        source TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        modified_ms INTEGER NOT NULL,
        queue_id TEXT,
        reviewer TEXT,
        PRIMARY KEY (project, id)
    );
    CREATE INDEX IF NOT EXISTS feedback_by_run ON feedback (project, run_id);
    CREATE INDEX IF NOT EXISTS feedback_by_trace ON feedback (project, trace_id);
    CREATE INDEX IF NOT EXISTS feedback_by_key ON feedback (project, key, created_ms);
    -- Feedback whose run has not arrived: the run's insert gives it its trace.
    CREATE INDEX IF NOT EXISTS feedback_waiting ON feedback (project, run_id)
        WHERE trace_id IS NULL;";

/// 6 → 7. Feedback was keyed by its id alone, so one project's id was refused to another
/// (which told it the id existed). The table is rebuilt keyed by (project, id), its records
/// unchanged; `feedback_scores` stays as it is (the records and their scores are the same), and
/// its triggers, dropped with the old table, are created again (matching records by project
/// and id).
fn scope_feedback_ids(conn: &Connection) -> StoreResult<()> {
    const COLUMNS: &str = "id, project, run_id, trace_id, key, score, value, comment, correction, \
        source, created_ms, modified_ms";
    conn.execute_batch(&format!(
        "ALTER TABLE feedback RENAME TO feedback_by_id;
         DROP INDEX IF EXISTS feedback_by_run;
         DROP INDEX IF EXISTS feedback_by_trace;
         DROP INDEX IF EXISTS feedback_by_key;
         DROP INDEX IF EXISTS feedback_waiting;
         {FEEDBACK}
         INSERT INTO feedback ({COLUMNS}) SELECT {COLUMNS} FROM feedback_by_id;
         DROP TABLE feedback_by_id;"
    ))?;
    conn.execute_batch(metrics::FEEDBACK_SCORES)?;
    Ok(())
}

/// 2 → 3. `trace_tags.project` came without a migration (files said 1 with or without it);
/// each row takes its trace's project. The root span type is read from the stored root.
/// Feedback posted with only a run id gets its run's trace, as new feedback now does when
/// written. Columns are added only where missing (a file taken back by hand may have them).
fn add_tag_projects_root_types_feedback_traces(conn: &Connection) -> StoreResult<()> {
    if !has_column(conn, "trace_tags", "project")? {
        conn.execute_batch(
            "ALTER TABLE trace_tags ADD COLUMN project TEXT NOT NULL DEFAULT '';
             UPDATE trace_tags SET project = coalesce(
                 (SELECT t.project FROM traces t WHERE t.id = trace_tags.trace), '');",
        )?;
    }
    if !has_column(conn, "traces", "root_span_type")? {
        conn.execute_batch("ALTER TABLE traces ADD COLUMN root_span_type INTEGER")?;
    }
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS trace_tags_by_value ON trace_tags (project, key, value, trace);
         UPDATE traces SET root_span_type = (SELECT s.span_type FROM spans s
             WHERE s.trace = traces.id AND s.span_id = traces.root_span_id)
         WHERE root_span_id IS NOT NULL;
         CREATE INDEX IF NOT EXISTS feedback_waiting ON feedback (project, run_id)
             WHERE trace_id IS NULL;",
    )?;
    let waiting: Vec<(String, String, String)> = conn
        .prepare("SELECT id, project, run_id FROM feedback WHERE trace_id IS NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (id, project, run_id) in waiting {
        if let Some(trace_id) = trace_of_run(conn, &project, &run_id)? {
            conn.execute(
                "UPDATE feedback SET trace_id = ?2 WHERE id = ?1",
                params![id, trace_id],
            )?;
        }
    }
    Ok(())
}

/// The latest layout, for a new database.
fn create_schema(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(
        r#"
        -- `id` is the arrival order; `trace` is `traces.id`; `body` is `codec::encode`.
        CREATE TABLE IF NOT EXISTS spans (
            id INTEGER PRIMARY KEY,
            trace INTEGER NOT NULL,
            span_id TEXT NOT NULL,
            parent_span_id TEXT,
            name TEXT NOT NULL,
            span_type INTEGER NOT NULL,
            service TEXT NOT NULL,
            start_ns INTEGER NOT NULL,
            end_ns INTEGER NOT NULL,
            status INTEGER NOT NULL,
            tokens INTEGER NOT NULL,
            body BLOB NOT NULL,
            kind INTEGER NOT NULL DEFAULT 0,
            cost REAL NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX IF NOT EXISTS spans_by_trace ON spans (trace, span_id);

        -- `id` numbers traces in the order their first span arrived (see `next_trace_id`).
        CREATE TABLE IF NOT EXISTS traces (
            id INTEGER PRIMARY KEY,
            project TEXT NOT NULL,
            trace_id TEXT NOT NULL,
            root_name TEXT NOT NULL,
            root_span_id TEXT,
            start_ns INTEGER NOT NULL,
            end_ns INTEGER NOT NULL,
            duration_ns INTEGER NOT NULL,
            span_count INTEGER NOT NULL,
            error_count INTEGER NOT NULL,
            status INTEGER NOT NULL,
            services TEXT NOT NULL,
            tags TEXT NOT NULL,
            session_id TEXT,
            user_id TEXT,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cost REAL NOT NULL,
            first_name_start_ns INTEGER NOT NULL,
            -- `SpanType::code` of the root span; NULL until the root arrives.
            root_span_type INTEGER,
            -- Unused since schema 8 (folds are in `trace_folds`).
            fold TEXT
        );
        CREATE UNIQUE INDEX IF NOT EXISTS traces_by_id ON traces (project, trace_id);
        CREATE INDEX IF NOT EXISTS traces_by_start ON traces (project, start_ns, trace_id);
        CREATE INDEX IF NOT EXISTS traces_by_duration ON traces (project, duration_ns, trace_id);
        CREATE INDEX IF NOT EXISTS traces_by_session ON traces (project, session_id, start_ns);
        CREATE INDEX IF NOT EXISTS traces_by_user ON traces (project, user_id, start_ns);

        -- `trace` is `traces.id`. By value, a tag's traces in id order: counting a tag filter
        -- is a range of this index (`count_traces`), and the other filters' lookups by
        -- primary key follow the same order.
        CREATE TABLE IF NOT EXISTS trace_tags (
            trace INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            project TEXT NOT NULL,
            PRIMARY KEY (trace, key)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS trace_tags_by_value ON trace_tags (project, key, value, trace);

        CREATE TABLE IF NOT EXISTS tag_values (
            project TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            trace_count INTEGER NOT NULL,
            PRIMARY KEY (project, key, value)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS services (
            project TEXT NOT NULL,
            name TEXT NOT NULL,
            span_count INTEGER NOT NULL,
            error_count INTEGER NOT NULL,
            PRIMARY KEY (project, name)
        ) WITHOUT ROWID;

        -- Compression dictionaries of span bodies (`codec`), never changed once written.
        CREATE TABLE IF NOT EXISTS body_dicts (
            id INTEGER PRIMARY KEY,
            dict BLOB NOT NULL
        );
        "#,
    )?;
    tx.execute_batch(FEEDBACK)?;
    tx.execute_batch(FEEDBACK_BY_QUEUE)?;
    tx.execute_batch(TRACE_FOLDS)?;
    tx.execute_batch(metrics::FEEDBACK_SCORES)?;
    tx.execute_batch(super::score_configs::SCHEMA)?;
    tx.execute_batch(super::span_text::SCHEMA)?;
    tx.execute_batch(super::queues::SCHEMA)?;
    tx.execute_batch(SPAN_EXTENTS)?;
    tx.execute_batch(SPANS_BY_PARENT)?;
    tx.execute_batch(super::pairwise::SCHEMA)?;
    tx.execute_batch(super::received::SCHEMA)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Schema 1 changed in place before its release: a database from a development build that
/// keyed spans by their trace id text is refused with a clear message, not a SQL error later.
fn check_layout(conn: &Connection) -> StoreResult<()> {
    let current: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('spans') WHERE name = 'trace')",
        [],
        |r| r.get(0),
    )?;
    if current {
        Ok(())
    } else {
        Err(StoreError::Internal(
            "the database was written by a development build of Skein with an older layout; \
             move it away (or delete it) and start again"
                .into(),
        ))
    }
}

/// The id the next new trace gets: one more than any so far. The writer owns the counter,
/// so ids follow arrival order; ids of a rolled-back write are skipped, never reused.
pub(super) fn next_trace_id(conn: &Connection) -> StoreResult<i64> {
    let max: Option<i64> = conn.query_row("SELECT max(id) FROM traces", [], |r| r.get(0))?;
    Ok(max.unwrap_or(0) + 1)
}
