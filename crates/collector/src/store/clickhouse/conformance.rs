//! The store conformance suite on ClickHouse, plus rows written by older layouts and the
//! suite replayed on current ClickHouse (chdb).

use std::sync::Arc;

use super::{testserver, ClickhouseOptions, ClickhouseStore};
use crate::store::Store;

async fn open() -> ((), Arc<dyn Store>) {
    let server = testserver::server();
    let options = ClickhouseOptions {
        database: testserver::fresh_database(),
        ..ClickhouseOptions::new(&server.url)
    };
    let store = ClickhouseStore::open(options)
        .await
        .expect("open the ClickHouse store");
    ((), Arc::new(store))
}

crate::store_suite!(open);

/// A database from before schema 3 (no flat attribute columns) is upgraded when opened,
/// and its rows written before still answer attribute filters (read from their bodies).
#[tokio::test]
async fn rows_from_before_the_attribute_columns_still_filter() {
    use crate::store::{QueryStore, SpanStore};
    use skein_model::span_list::SpanQuery;
    let options = ClickhouseOptions {
        database: testserver::fresh_database(),
        ..ClickhouseOptions::new(&testserver::server().url)
    };
    let store = ClickhouseStore::open(options.clone()).await.expect("open");
    let span = |trace: &str, documents: i64| {
        let mut s = crate::store::testsuite::span(trace, "1", None, 0);
        s.attributes = serde_json::json!({"retrieval.documents": documents, "route": "/a"})
            .as_object()
            .cloned()
            .unwrap();
        s
    };
    store.write_spans(vec![span("a", 5)]).await.unwrap();
    for sql in [
        format!(
            "ALTER TABLE {} DROP COLUMN attrs",
            store.layout.table("spans")
        ),
        format!(
            "ALTER TABLE {} DROP COLUMN attr_nums",
            store.layout.table("spans")
        ),
        format!("DROP TABLE {}", store.layout.table("schema_versions")),
    ] {
        store.client.execute(&sql).await.unwrap();
    }
    drop(store);
    let store = ClickhouseStore::open(options).await.expect("reopen");
    store.write_spans(vec![span("b", 2)]).await.unwrap();
    let traces = |filter: &str| {
        let q = SpanQuery {
            filter: skein_model::filter::parse(filter).unwrap(),
            ..SpanQuery::default()
        };
        let store = &store;
        async move {
            let mut ids: Vec<String> = store
                .list_spans("p", &q)
                .await
                .unwrap()
                .spans
                .into_iter()
                .map(|r| r.trace_id[..1].to_string())
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(traces("gt(attr.retrieval.documents, 3)").await, ["a"]);
    assert_eq!(traces("lt(attr.retrieval.documents, 3)").await, ["b"]);
    assert_eq!(traces(r#"eq(attr.route, "/a")"#).await, ["a", "b"]);
    assert!(traces("eq(attr.missing, 1)").await.is_empty());
}

/// The suggestions read the traces the latest receipts name; a project whose spans were
/// all stored before the receive log (no receipt) still gets them, from its spans.
#[tokio::test]
async fn field_values_of_spans_stored_before_the_receive_log() {
    use crate::store::{QueryStore, SpanStore};
    use skein_model::ValueField;
    let options = ClickhouseOptions {
        database: testserver::fresh_database(),
        ..ClickhouseOptions::new(&testserver::server().url)
    };
    let store = ClickhouseStore::open(options).await.expect("open");
    let mut span = crate::store::testsuite::span("a", "1", None, 0);
    span.model = Some("gpt-4o".into());
    store.write_spans(vec![span]).await.unwrap();
    async fn models(store: &ClickhouseStore) -> Vec<String> {
        store
            .field_values("p", ValueField::Model, None, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|v| v.value)
            .collect()
    }
    assert_eq!(models(&store).await, ["gpt-4o"]);
    store
        .client
        .execute(&format!(
            "TRUNCATE TABLE {}",
            store.layout.table("received")
        ))
        .await
        .unwrap();
    assert_eq!(
        models(&store).await,
        ["gpt-4o"],
        "no receipt: from the spans"
    );
}

/// The whole suite's SQL, recorded against Debian's 18.16, replayed on the current
/// ClickHouse engine (chdb-core in the test venv): every statement runs there and every
/// query answers the same rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_reads_alike_on_current_clickhouse() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("sql.jsonl");
    let open = || {
        let log = log.clone();
        async move {
            let options = ClickhouseOptions {
                database: testserver::fresh_database(),
                sql_log: Some(log),
                ..ClickhouseOptions::new(&testserver::server().url)
            };
            let store = ClickhouseStore::open(options).await.expect("open");
            ((), Arc::new(store) as Arc<dyn Store>)
        }
    };
    crate::store_suite_in_order!(open).await;

    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("SKEIN_TEST_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../.venv/bin/python"));
    let output = std::process::Command::new(&python)
        .arg(manifest.join("tests/python/chdb_replay.py"))
        .arg(&log)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (scripts/setup.sh creates the venv)",
                python.display()
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("a JSON line");
    assert!(
        summary["server"]
            .as_str()
            .is_some_and(|v| v.starts_with("26.")),
        "{summary}"
    );
    eprintln!("replayed on current ClickHouse: {summary}");
    assert!(summary["compared"].as_u64() > Some(100), "{summary}");
}
