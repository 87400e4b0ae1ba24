//! The per-service parts of each trace, `trace_service_parts` (schema 18): for each insert's
//! spans of a trace and service, their count and best-ranked span (its rank, name, type and
//! status): what a trace's per-trace rows (`trace_table`, one an insert) do not say, the
//! services' order and the root. A page's summaries merge a trace's per-trace rows and these
//! parts (`TraceFold::merge`) instead of folding its spans: 50 traces' rows are about 50
//! granules of 256 rows in each, against 50 granules of 8192 spans (~500k rows, ~100 MB at 10M
//! spans) in `spans`.
//!
//! The root: a span's rank is `(has_parent, start, span id)`, so a part's best-ranked span is
//! a root whenever the part has one, and its name, id, type and status are the root's.
//!
//! Fed by a materialized view on every insert into `spans`, grouped as `trace_parts`' view
//! groups (trace and month of arrival), and by service; one `argMin` a span, so that ingest
//! pays little for it. A trace written in parts has each span in one part, so its parts merge
//! too; a repeated one (a span stored twice: `splits`) is folded from `spans FINAL`, by
//! service (`part_columns`).

use super::client::Client;
use super::schema::{Layout, Table};
use super::splits::{repeated_among, REPEATS, SPLITS};
use super::summary_sql;
use super::trace_table::{self, TRACES};
use super::traces::RANK;
use crate::store::StoreResult;

pub(super) const SERVICE_PARTS: Table = Table {
    name: "trace_service_parts",
    columns: "project String, trace_id String, service String, first_arrived DateTime, \
        span_count UInt64, best_has_parent UInt8, best_start Int64, best_span String, \
        best_name String, best_type UInt8, best_status UInt8",
    engine: "MergeTree",
    version: None,
    order_by: "(project, trace_id, service)",
    partition_by: Some("toYYYYMM(first_arrived)"),
    shard_by: "cityHash64(trace_id)",
    settings: Some("index_granularity = 256"),
};

/// The columns a read of the parts takes: all but the project and the arrival.
pub(super) fn stored_columns() -> String {
    let names: Vec<&str> = SERVICE_PARTS
        .columns
        .split(", ")
        .filter_map(|c| c.split_whitespace().next())
        .filter(|name| !matches!(*name, "project" | "first_arrived"))
        .collect();
    names.join(", ")
}

/// The view that feeds it.
const FEED: &str = "trace_service_parts_feed";

/// A trace's part of one service folded from its spans (a repeated trace's, from `spans
/// FINAL`): the columns after `trace_id` and `service`, as aggregates over its spans.
pub(super) fn part_columns() -> String {
    let model = summary_sql::model_call();
    // The best-ranked span with a session (user: a span without one sorts after every span
    // with one), as `best_columns`.
    let having = |column: &str, prefix: &str| {
        let ranked = format!(
            "argMin(tuple({column}, has_parent, start_ns, span_id), \
             tuple({column} = '', has_parent, start_ns, span_id))"
        );
        format!(
            "tupleElement({ranked}, 1) AS {prefix}_value, \
             tupleElement({ranked}, 2) AS {prefix}_has_parent, \
             tupleElement({ranked}, 3) AS {prefix}_start, \
             tupleElement({ranked}, 4) AS {prefix}_span"
        )
    };
    format!(
        "count() AS span_count, min(start_ns) AS first_start, \
         max(greatest(end_ns, start_ns)) AS last_end, sum(toUInt64(status = 2)) AS errors, \
         sum(if({model}, input_tokens, toInt64(0))) AS model_in, \
         sum(if({model}, output_tokens, toInt64(0))) AS model_out, \
         sum(if({model}, cost, toFloat64(0))) AS model_cost, \
         sum(if({model}, toInt64(0), input_tokens)) AS other_in, \
         sum(if({model}, toInt64(0), output_tokens)) AS other_out, \
         sum(if({model}, toFloat64(0), cost)) AS other_cost, \
         sum(toUInt64({model} AND (input_tokens != 0 OR output_tokens != 0))) \
         AS model_reports, \
         {}, {}, {}",
        best_columns(),
        having("session_id", "session"),
        having("user_id", "user"),
    )
}

/// The best-ranked span's values as one `argMin` of a tuple, whose elements become columns
/// (18.16 stores no tuple; the same expression is computed once): one comparison of ranks a
/// span.
fn best_columns() -> String {
    let best =
        format!("argMin(tuple(has_parent, start_ns, span_id, name, span_type, status), {RANK})");
    format!(
        "tupleElement({best}, 1) AS best_has_parent, tupleElement({best}, 2) AS best_start, \
         tupleElement({best}, 3) AS best_span, tupleElement({best}, 4) AS best_name, \
         tupleElement({best}, 5) AS best_type, tupleElement({best}, 6) AS best_status"
    )
}

/// The rows for the span rows of `spans` (a table name): each insert's spans of a trace and
/// service, their count and best-ranked span (what the per-trace rows do not say).
fn feed(spans: &str) -> String {
    format!(
        "SELECT project, trace_id, service, min(arrived) AS first_arrived, \
         count() AS span_count, {} \
         FROM {spans} GROUP BY project, trace_id, service, toYYYYMM(arrived)",
        best_columns()
    )
}

/// Schema 18: the parts (any left by an upgrade stopped halfway dropped first), their view,
/// then the parts of the spans stored before. A trace written while they were being filled
/// may have a part twice (fed and filled) or not at all: every trace whose parts do not count
/// its per-trace rows' spans (`trace_parts`) is named split and repeated, so that reads fold it
/// from its spans.
pub(super) async fn create(client: &Client, layout: &Layout) -> StoreResult<()> {
    trace_table::drop_fed(client, layout, (SERVICE_PARTS.name, FEED)).await?;
    trace_table::create_fed(client, layout, &SERVICE_PARTS, FEED, feed).await?;
    name_miscounted(client, layout).await
}

/// Names split and repeated every trace whose parts do not count its per-trace rows' spans.
async fn name_miscounted(client: &Client, layout: &Layout) -> StoreResult<()> {
    let miscounted = format!(
        "SELECT project, trace_id, now() AS marked FROM (\
         SELECT project, trace_id, sum(span_count) AS parts, toUInt64(0) AS rows FROM {} \
         GROUP BY project, trace_id \
         UNION ALL SELECT project, trace_id, toUInt64(0) AS parts, sum(row_count) AS rows \
         FROM {} GROUP BY project, trace_id) \
         GROUP BY project, trace_id HAVING sum(parts) != sum(rows)",
        layout.table(SERVICE_PARTS.name),
        layout.table(TRACES.name)
    );
    // The repeats first: a trace named split is merged from its parts unless named there.
    for named in [REPEATS.name, SPLITS.name] {
        client
            .insert_select(&format!("INSERT INTO {} {miscounted}", layout.table(named)))
            .await?;
    }
    // A split trace with a span sent twice whose versions a merge folded before the writer's
    // check (by `spans`' own count, before this schema) is named repeated now.
    client
        .insert_select(&format!(
            "INSERT INTO {} SELECT project, trace_id, now() AS marked FROM ({})",
            layout.table(REPEATS.name),
            repeated_among(
                &layout.table(TRACES.name),
                &layout.table("spans"),
                &format!(
                    "(project, trace_id) GLOBAL IN (SELECT project, trace_id FROM {})",
                    layout.table(SPLITS.name)
                )
            )
        ))
        .await
}

/// Statements that take a database back to before schema 18 (the parts dropped).
#[cfg(test)]
pub(super) fn undo(layout: &Layout) -> Vec<String> {
    let db = super::schema::ident(&layout.database);
    vec![
        format!("DROP TABLE IF EXISTS {db}.{FEED}"),
        format!("DROP TABLE IF EXISTS {}", layout.table(SERVICE_PARTS.name)),
    ]
}

#[cfg(test)]
mod tests {
    use skein_model::span::{Span, SpanStatus, SpanType};
    use skein_model::{TraceQuery, TraceSummary};

    use super::super::client::RowExt;
    use super::super::splits::REPEATS;
    use super::super::{test_store as open, testserver, ClickhouseStore};
    use crate::store::testsuite::span;
    use crate::store::{QueryStore, SpanStore};

    /// A root, a failed model call with usage, a session and a user, and a tool call of the
    /// model call's service with usage of its own (not counted: the model call reports).
    fn trace(id: &str, start_ms: i64) -> Vec<Span> {
        let mut root = span(id, "1", None, start_ms);
        root.tags.insert("env".into(), "prod".into());
        let mut call = span(id, "2", Some("1"), start_ms + 1);
        call.span_type = SpanType::Llm;
        call.status = SpanStatus::Error;
        call.input_tokens = Some(10);
        call.output_tokens = Some(5);
        call.session_id = Some(format!("s-{id}"));
        call.user_id = Some("u".into());
        let mut tool = span(id, "3", Some("2"), start_ms + 2);
        tool.service = call.service.clone();
        tool.input_tokens = Some(7);
        vec![root, call, tool]
    }

    async fn summaries(store: &ClickhouseStore) -> Vec<TraceSummary> {
        let q = TraceQuery::default();
        store.list_traces("p", &q).await.unwrap().traces
    }

    /// What a user reads of a summary: (trace, spans, errors, tokens, services, root, session).
    fn figures(traces: &[TraceSummary]) -> Vec<(String, u64, u64, i64, String, String, String)> {
        traces
            .iter()
            .map(|t| {
                (
                    t.trace_id[..1].to_string(),
                    t.span_count,
                    t.error_count,
                    t.input_tokens + t.output_tokens,
                    t.services.join(" "),
                    t.root_name.clone(),
                    t.session_id.clone().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// A database of schema 17 gets the parts on open, filled from its spans: whole, split
    /// and repeated traces read as before. A trace whose parts miss a service (an insert
    /// racing the upgrade's fill) is named repeated and read from its spans.
    #[tokio::test]
    async fn a_schema_17_database_gets_the_parts_its_summaries_merge() {
        let database = testserver::fresh_database();
        let store = open(&database).await;
        store.write_spans(trace("a", 0)).await.unwrap();
        let b = trace("b", 10);
        store.write_spans(b[..1].to_vec()).await.unwrap();
        store.write_spans(b[1..].to_vec()).await.unwrap();
        store.write_spans(trace("c", 20)).await.unwrap();
        store.write_spans(trace("c", 20)).await.unwrap();
        let before = summaries(&store).await;
        let want = |id: &str| {
            (
                id.to_string(),
                3,
                1,
                15,
                "svc-1 svc-2".to_string(),
                "span-1".to_string(),
                format!("s-{id}"),
            )
        };
        assert_eq!(figures(&before), [want("c"), want("b"), want("a")]);
        // A repeat not named (before schema 18, a merge could fold a retry's versions before
        // the writer's check; the per-trace rows still count its spans twice): the upgrade
        // names it from those counts.
        for sql in [
            format!("OPTIMIZE TABLE {} FINAL", store.layout.table("spans")),
            format!("TRUNCATE TABLE {}", store.layout.table(REPEATS.name)),
        ] {
            store.client.execute(&sql).await.unwrap();
        }
        super::super::trace_table::back_to_schema(&store, super::undo(&store.layout), 17).await;
        drop(store);

        let store = open(&database).await;
        assert_eq!(summaries(&store).await, before);
        let repeats = format!(
            "SELECT DISTINCT substring(trace_id, 1, 1) AS t FROM {}",
            store.layout.table(REPEATS.name)
        );
        let named = store.client.rows(&repeats).await.unwrap();
        assert_eq!(
            named.iter().map(|r| r.str_of("t")).collect::<Vec<_>>(),
            ["c"]
        );
        let parts = format!(
            "SELECT count() AS n FROM {}",
            store.layout.table(super::SERVICE_PARTS.name)
        );
        // Filled a part a trace, service and month: two services each (c's spans each once
        // after the merge).
        assert_eq!(store.client.rows(&parts).await.unwrap()[0].i64_of("n"), 6);

        store.write_spans(trace("d", 30)).await.unwrap();
        // Its model call's service's part missed (its insert raced the upgrade's fill).
        let table = store.layout.table(super::SERVICE_PARTS.name);
        store
            .client
            .execute(&format!(
                "{} DELETE WHERE trace_id LIKE 'd%' AND service = 'svc-2'",
                store.layout.alter(super::SERVICE_PARTS.name)
            ))
            .await
            .unwrap();
        let missed = format!("SELECT count() AS n FROM {table} WHERE trace_id LIKE 'd%'");
        for _ in 0..100 {
            if store.client.rows(&missed).await.unwrap()[0].i64_of("n") == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(
            summaries(&store).await[0].services,
            ["svc-1"],
            "a service missed"
        );
        super::name_miscounted(&store.client, &store.layout)
            .await
            .unwrap();
        let after = summaries(&store).await;
        assert_eq!(figures(&after[..1]), [want("d")]);
        assert_eq!(after[1..], before);
    }
}
