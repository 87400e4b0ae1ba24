//! The tag index `trace_tag_index` (schema 12): per trace, every tag (key, value) any of its
//! spans was written with, ordered by `(project, key, value, trace_id)`, so a tag filter reads
//! the range of its key and value and names its candidate traces before any per-trace row is
//! read (`trace_table`).
//!
//! A superset, not the answer: a trace's tags are its best-ranked span's (`trace_fold`), which
//! only its per-trace row (or fold) tells, so the candidates still pass the exact rule.
//! Every span's tags (each version's) rather than each insert's best span's: a superset that
//! holds however a trace's spans were split across inserts or rewritten. A materialized view
//! fed by every insert into `spans` writes one row per trace, key and value of the insert
//! (deduplicated again on merge: the engine replaces rows of the same key).

use super::client::{quote, Client};
use super::schema::{Layout, Table};
use crate::store::StoreResult;

pub(super) const TAGS: Table = Table {
    name: "trace_tag_index",
    columns: "project String, key String, value String, trace_id String, arrived DateTime",
    engine: "ReplacingMergeTree",
    version: None,
    order_by: "(project, key, value, trace_id)",
    partition_by: Some("toYYYYMM(arrived)"),
    shard_by: "cityHash64(trace_id)",
    settings: None,
};

/// The view that feeds it.
const FEED: &str = "trace_tag_index_feed";

/// The index's rows for the span rows of `spans` (a table, `FINAL` or not).
fn feed(spans: &str) -> String {
    format!(
        "SELECT project, k AS key, v AS value, trace_id, min(arrived) AS arrived \
         FROM {spans} ARRAY JOIN tag_keys AS k, tag_values AS v \
         GROUP BY project, key, value, trace_id"
    )
}

/// Schema 12: the index, the view feeding it from every insert into `spans` (each shard's
/// local tables on a cluster), then the spans stored before. The view comes first, so that no
/// span is missed (a row written twice is only a duplicate, which the superset allows).
pub(super) async fn create(client: &Client, layout: &Layout) -> StoreResult<()> {
    super::trace_table::create_fed(client, layout, &TAGS, FEED, feed).await
}

/// Past this many candidate traces, a tag does not narrow a read: probing every per-trace row
/// against a set that large costs more than reading the rows it would leave out.
pub(super) const FEW_CANDIDATES: i64 = 50_000;

/// A query counting the index rows of each of `tags` (key, value) in `project`: its answer
/// goes to `narrowing`. `None` without tags.
pub(super) fn counts(index: &str, project: &str, tags: &[(String, String)]) -> Option<String> {
    let pairs: Vec<String> = tags
        .iter()
        .map(|(key, value)| format!("(key = {} AND value = {})", quote(key), quote(value)))
        .collect();
    (!pairs.is_empty()).then(|| {
        format!(
            "SELECT key, value, count() AS n FROM {index} WHERE project = {} AND ({}) \
             GROUP BY key, value",
            quote(project),
            pairs.join(" OR ")
        )
    })
}

/// A condition on `trace_id` naming the candidates of the rarest of `tags` (the traces of
/// `project` with a span so tagged: a superset of those whose trace tags are), given the
/// `counts` rows, when it has at most `FEW_CANDIDATES`; a tag absent from the index has none.
pub(super) fn narrowing(
    index: &str,
    project: &str,
    tags: &[(String, String)],
    counts: &[serde_json::Value],
) -> Option<String> {
    use super::client::RowExt;
    let count = |key: &str, value: &str| {
        counts
            .iter()
            .find(|r| r.str_of("key") == key && r.str_of("value") == value)
            .map_or(0, |r| r.i64_of("n"))
    };
    let (key, value) = tags.iter().min_by_key(|(key, value)| count(key, value))?;
    (count(key, value) <= FEW_CANDIDATES).then(|| {
        format!(
            "trace_id IN (SELECT trace_id FROM {index} WHERE project = {} AND key = {} \
             AND value = {})",
            quote(project),
            quote(key),
            quote(value)
        )
    })
}

#[cfg(test)]
mod tests {
    /// The rarest tag narrows, unless it has too many candidates; a tag no span has, to none.
    #[test]
    fn the_rarest_tag_with_few_candidates_narrows() {
        let tags = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let counts = |rows: &[(&str, &str, i64)]| -> Vec<serde_json::Value> {
            rows.iter()
                .map(|(k, v, n)| serde_json::json!({"key": k, "value": v, "n": n}))
                .collect()
        };
        let two = tags(&[("env", "prod"), ("variant", "B")]);
        let narrowed = |rows: &[(&str, &str, i64)]| super::narrowing("i", "p", &two, &counts(rows));
        let absent = narrowed(&[]).unwrap();
        assert!(
            absent.contains("key = 'env' AND value = 'prod'"),
            "{absent}"
        );
        let rare = narrowed(&[("env", "prod", 600_000), ("variant", "B", 40_000)]).unwrap();
        assert!(rare.contains("key = 'variant' AND value = 'B'"), "{rare}");
        assert_eq!(
            narrowed(&[("env", "prod", 600_000), ("variant", "B", 300_000)]),
            None
        );
        assert!(super::counts("i", "p", &[]).is_none());
    }

    use super::super::client::RowExt;
    use super::super::{testserver, ClickhouseOptions, ClickhouseStore};
    use crate::store::testsuite::span;
    use crate::store::SpanStore;

    /// The index holds every span's tags, those written before it existed (filled on upgrade
    /// from schema 11) and after (fed by the view).
    #[tokio::test]
    async fn spans_before_and_after_the_upgrade_are_indexed() {
        let database = testserver::fresh_database();
        let open = || {
            ClickhouseStore::open(ClickhouseOptions {
                database: database.clone(),
                ..ClickhouseOptions::new(&testserver::server().url)
            })
        };
        let store = open().await.unwrap();
        let tagged = |trace: &str, id: &str, parent: Option<&str>, env: &str| {
            let mut s = span(trace, id, parent, 0);
            s.tags.insert("env".into(), env.into());
            s
        };
        store
            .write_spans(vec![
                tagged("a", "1", None, "prod"),
                tagged("a", "2", Some("1"), "child"),
            ])
            .await
            .unwrap();
        let db = super::super::schema::ident(&database);
        let mut undo = super::super::splits::undo(&store.layout);
        undo.extend(super::super::tag_starts::undo(&store.layout));
        undo.extend([
            format!("DROP TABLE {db}.{}", super::FEED),
            format!("DROP TABLE {}", store.layout.table(super::TAGS.name)),
        ]);
        super::super::trace_table::back_to_schema(&store, undo, 11).await;
        drop(store);
        let store = open().await.unwrap();
        store
            .write_spans(vec![tagged("b", "1", None, "dev")])
            .await
            .unwrap();
        let rows = store
            .client
            .rows(&format!(
                "SELECT DISTINCT trace_id, key, value FROM {} ORDER BY trace_id, value",
                store.layout.table(super::TAGS.name)
            ))
            .await
            .unwrap();
        let found: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{}:{}={}",
                    &r.str_of("trace_id")[..1],
                    r.str_of("key"),
                    r.str_of("value")
                )
            })
            .collect();
        assert_eq!(found, ["a:env=child", "a:env=prod", "b:env=dev"]);
        let versions = format!(
            "SELECT max(version) AS v FROM {}",
            store.layout.table("schema_versions")
        );
        let rows = store.client.rows(&versions).await.unwrap();
        assert_eq!(
            rows.first().map(|r| r.i64_of("v")),
            Some(i64::from(super::super::schema::SCHEMA_VERSION))
        );
    }
}
