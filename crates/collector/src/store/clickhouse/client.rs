//! ClickHouse over its HTTP interface: queries answered as JSONEachRow (large ones as
//! RowBinary), inserts sent as JSONEachRow (spans as RowBinary), and the server's errors as
//! the store's kinds. String values are written into SQL only through `quote` (ClickHouse
//! 18.16 has no query parameters).

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::store::{StoreError, StoreResult};

/// Where ClickHouse is and who we are there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `http://host:8123`, without a trailing slash.
    pub url: String,
    pub user: Option<String>,
    pub password: Option<String>,
}

/// How long one query or insert may take before it is given up and the client told to retry.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a schema upgrade's backfill (`insert_select`) may take: it copies a whole table
/// once, minutes at tens of millions of spans, and is not retried by a client.
const BACKFILL_TIMEOUT: Duration = Duration::from_secs(6 * 3600);
/// How long an insert waits for its quorum of replicas (ms).
const QUORUM_TIMEOUT_MS: &str = "5000";

#[derive(Clone)]
pub(super) struct Client {
    http: reqwest::Client,
    conn: Connection,
    /// Every statement sent and its answer, as JSON lines (`ClickhouseOptions::sql_log`).
    log: Option<Arc<Mutex<std::fs::File>>>,
}

impl Client {
    pub(super) fn new(conn: Connection, sql_log: Option<&Path>) -> StoreResult<Client> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(QUERY_TIMEOUT)
            .build()
            .map_err(|e| StoreError::Internal(format!("cannot build an HTTP client: {e}")))?;
        let log = sql_log
            .map(|path| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map(|f| Arc::new(Mutex::new(f)))
                    .map_err(|e| {
                        StoreError::Internal(format!("cannot open {}: {e}", path.display()))
                    })
            })
            .transpose()?;
        Ok(Client { http, conn, log })
    }

    fn record(&self, settings: &[(&str, &str)], body: &str, answer: &Result<String, String>) {
        let Some(log) = &self.log else { return };
        let line = serde_json::json!({
            "settings": settings.iter().map(|(k, v)| [k, v]).collect::<Vec<_>>(),
            "sql": body,
            "answer": answer.as_ref().ok(),
            "error": answer.as_ref().err(),
        });
        if let Ok(mut file) = log.lock() {
            let _ = writeln!(file, "{line}");
        }
    }

    pub(super) fn url(&self) -> &str {
        &self.conn.url
    }

    /// Runs a statement with settings (`name=value` pairs, in the URL: 18.16 has no
    /// `SETTINGS` clause on INSERT) and a body; the server's answer as text.
    async fn post(&self, settings: &[(&str, &str)], body: String) -> StoreResult<String> {
        let logged = self.log.as_ref().map(|_| body.clone());
        let answer = self
            .send(
                settings,
                None,
                body.into_bytes(),
                logged,
                QUERY_TIMEOUT,
                false,
            )
            .await?;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    }

    /// Sends `body` to the server, with `query` in the URL when the body is data rather than
    /// the statement; `logged` is what the SQL log records for it (a `binary` answer as hex).
    async fn send(
        &self,
        settings: &[(&str, &str)],
        query: Option<&str>,
        body: Vec<u8>,
        logged: Option<String>,
        timeout: Duration,
        binary: bool,
    ) -> StoreResult<Vec<u8>> {
        let mut request = self
            .http
            .post(format!("{}/", self.conn.url))
            .timeout(timeout)
            .query(settings);
        if let Some(query) = query {
            request = request.query(&[("query", query)]);
        }
        // The query's start, for the debug line below (only when it is shown).
        let head = tracing::enabled!(tracing::Level::DEBUG).then(|| {
            let text: Vec<u8> = query
                .unwrap_or_default()
                .bytes()
                .chain(body.iter().copied())
                .take(120)
                .collect();
            String::from_utf8_lossy(&text).into_owned()
        });
        request = request.body(body);
        if let Some(user) = &self.conn.user {
            request = request.header("X-ClickHouse-User", user);
        }
        if let Some(password) = &self.conn.password {
            request = request.header("X-ClickHouse-Key", password);
        }
        let sent = std::time::Instant::now();
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let answer = response.bytes().await.map_err(unreachable)?.to_vec();
        // Each query's time and size, for a profile of an API call
        // (`SKEIN_LOG=skein_collector::store::clickhouse=debug`).
        tracing::debug!(
            ms = sent.elapsed().as_secs_f64() * 1e3,
            bytes = answer.len(),
            query = head.as_deref().unwrap_or_default(),
            "ClickHouse answered"
        );
        let text = || String::from_utf8_lossy(&answer).into_owned();
        if let Some(logged) = logged {
            let recorded = if !status.is_success() {
                Err(text())
            } else if binary {
                Ok(answer.iter().map(|b| format!("{b:02x}")).collect())
            } else {
                Ok(text())
            };
            self.record(settings, &logged, &recorded);
        }
        if status.is_success() {
            Ok(answer)
        } else {
            Err(server_error(&text()))
        }
    }

    /// A statement without an answer (DDL, ALTER).
    pub(super) async fn execute(&self, sql: &str) -> StoreResult<()> {
        self.post(&[], sql.to_string()).await.map(drop)
    }

    /// An `INSERT ... SELECT` (a schema upgrade's backfill), synchronous through a Distributed
    /// table, waited for as long as it takes.
    pub(super) async fn insert_select(&self, sql: &str) -> StoreResult<()> {
        let logged = self.log.as_ref().map(|_| sql.to_string());
        self.send(
            &insert_settings("1"),
            None,
            sql.as_bytes().to_vec(),
            logged,
            BACKFILL_TIMEOUT,
            false,
        )
        .await
        .map(drop)
    }

    /// A query's rows, each a JSON object by column name (64-bit integers as numbers).
    pub(super) async fn rows(&self, sql: &str) -> StoreResult<Vec<Value>> {
        let text = self
            .post(
                &[
                    ("output_format_json_quote_64bit_integers", "0"),
                    // On a cluster, a subquery over a Distributed table inside a query over
                    // another reads each shard's local table: every table that such a query
                    // joins is sharded by trace id, so a trace's rows are all on one shard.
                    // (A subquery that crosses shardings says `GLOBAL IN`.)
                    ("distributed_product_mode", "local"),
                    // Lists of trace ids (a page's, the split traces': up to
                    // `trace_table::MAX_LISTED_COPIES`, some more than once) outgrow the
                    // default 256 KiB of query text.
                    ("max_query_size", "1073741824"),
                ],
                format!("{sql} FORMAT JSONEachRow"),
            )
            .await?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).map_err(|e| {
                    StoreError::Internal(format!("ClickHouse answered a row that is not JSON: {e}"))
                })
            })
            .collect()
    }

    /// A query's answer in RowBinary (`row_binary`): for reads of many rows, which JSON
    /// would cost both sides more to write and parse than the read itself.
    pub(super) async fn binary(&self, sql: &str) -> StoreResult<Vec<u8>> {
        let body = format!("{sql} FORMAT RowBinary");
        let logged = self.log.as_ref().map(|_| body.clone());
        self.send(
            &[("distributed_product_mode", "local")],
            None,
            body.into_bytes(),
            logged,
            QUERY_TIMEOUT,
            true,
        )
        .await
    }

    /// Inserts rows (JSON objects by column name) into a table, synchronously: the rows are
    /// stored (on a quorum of replicas when `quorum` > 1) when this returns.
    pub(super) async fn insert(&self, table: &str, rows: &[Value], quorum: u32) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut body = format!("INSERT INTO {table} FORMAT JSONEachRow\n");
        for row in rows {
            body.push_str(&row.to_string());
            body.push('\n');
        }
        let quorum = quorum.to_string();
        self.post(&insert_settings(&quorum), body).await.map(drop)
    }

    /// Inserts rows encoded as RowBinary (`span_row`) into `columns` (`(c1, c2, …)`) of a
    /// table; `structure` (`c1 T1, …`) lets the SQL log record the insert as a statement that
    /// carries its data (`format()`), which a replay can run.
    pub(super) async fn insert_row_binary(
        &self,
        table: &str,
        (columns, structure): (&str, &str),
        rows: Vec<u8>,
        quorum: u32,
    ) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let query = format!("INSERT INTO {table} {columns} FORMAT RowBinary");
        let logged = self.log.as_ref().map(|_| {
            format!(
                "INSERT INTO {table} {columns} SELECT * FROM format(RowBinary, {}, '{}')",
                quote(structure),
                rows.iter()
                    .map(|b| format!("\\x{b:02x}"))
                    .collect::<String>()
            )
        });
        let quorum = quorum.to_string();
        self.send(
            &insert_settings(&quorum),
            Some(&query),
            rows,
            logged,
            QUERY_TIMEOUT,
            false,
        )
        .await
        .map(drop)
    }
}

/// The URL settings of an insert: synchronous through a Distributed table, and on a quorum of
/// replicas when `quorum` is above 1.
fn insert_settings(quorum: &str) -> Vec<(&'static str, &str)> {
    let mut settings = vec![("insert_distributed_sync", "1")];
    if quorum != "0" && quorum != "1" {
        settings.push(("insert_quorum", quorum));
        // A replica that just died still counts as alive for a while: without a bound, the
        // insert would wait 10 minutes for it. Past this, the client is told to retry.
        settings.push(("insert_quorum_timeout", QUORUM_TIMEOUT_MS));
    }
    settings
}

/// The server could not be reached, or did not answer in time: the client should retry.
fn unreachable(e: reqwest::Error) -> StoreError {
    tracing::warn!(error = %e, "ClickHouse is not answering");
    StoreError::Overloaded {
        reason: "the store (ClickHouse) is not answering".into(),
        retry_after_secs: 5,
    }
}

/// ClickHouse's error codes that mean "not now" rather than "never".
const RETRYABLE: &[u32] = &[
    159, // TIMEOUT_EXCEEDED
    202, // TOO_MANY_SIMULTANEOUS_QUERIES
    209, // SOCKET_TIMEOUT
    210, // NETWORK_ERROR
    241, // MEMORY_LIMIT_EXCEEDED
    242, // TABLE_IS_READ_ONLY (a replica lost ZooKeeper)
    252, // TOO_MANY_PARTS
    285, // TOO_FEW_LIVE_REPLICAS (a quorum insert with a replica down)
    286, // UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE
    319, // UNKNOWN_STATUS_OF_INSERT
    999, // KEEPER_EXCEPTION
];

/// `Code: 243, e.displayText() = DB::Exception: ...` as a store error kind.
fn server_error(text: &str) -> StoreError {
    let code = text
        .trim_start()
        .strip_prefix("Code: ")
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse::<u32>().ok());
    let first_line = text.lines().next().unwrap_or("").trim();
    match code {
        // NOT_ENOUGH_SPACE, and "No space left on device" under other codes.
        Some(243) => StoreError::disk_full(),
        _ if text.contains("No space left") => StoreError::disk_full(),
        Some(c) if RETRYABLE.contains(&c) => {
            tracing::warn!(error = %first_line, "ClickHouse refused for now");
            StoreError::Overloaded {
                reason: "the store (ClickHouse) is busy or missing replicas".into(),
                retry_after_secs: 5,
            }
        }
        _ => StoreError::Internal(format!("ClickHouse: {first_line}")),
    }
}

/// A string as a ClickHouse SQL literal: quoted, with backslashes, quotes and control bytes
/// escaped, so that no value can end the literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Typed reads of a JSONEachRow row (numbers may come quoted on some servers).
pub(super) trait RowExt {
    fn str_of(&self, key: &str) -> String;
    fn i64_of(&self, key: &str) -> i64;
    fn f64_of(&self, key: &str) -> f64;
}

impl RowExt for Value {
    fn str_of(&self, key: &str) -> String {
        match &self[key] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }

    fn i64_of(&self, key: &str) -> i64 {
        as_i64(&self[key])
    }

    fn f64_of(&self, key: &str) -> f64 {
        as_f64(&self[key])
    }
}

pub(super) fn as_i64(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|u| u as i64))
            .or_else(|| n.as_f64().map(|f| f as i64))
            .unwrap_or(0),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

pub(super) fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_value_cannot_end_its_literal() {
        assert_eq!(quote("a'b"), r"'a\'b'");
        assert_eq!(
            quote(r"a\'); DROP TABLE x; --"),
            r"'a\\\'); DROP TABLE x; --'"
        );
        assert_eq!(quote("x\0y\n"), r"'x\0y\n'");
    }

    #[test]
    fn server_errors_become_kinds() {
        assert!(matches!(
            server_error("Code: 243, e.displayText() = DB::Exception: Cannot reserve 1.00 MiB"),
            StoreError::Overloaded {
                retry_after_secs: 30,
                ..
            }
        ));
        assert!(matches!(
            server_error("Code: 285, e.displayText() = DB::Exception: Number of alive replicas (1) is less than requested quorum (2)"),
            StoreError::Overloaded { retry_after_secs: 5, .. }
        ));
        assert!(matches!(
            server_error("Code: 62, e.displayText() = DB::Exception: Syntax error"),
            StoreError::Internal(_)
        ));
    }
}
