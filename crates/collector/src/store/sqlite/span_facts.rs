//! `span_facts`: what span filters read besides the `spans` columns (the body is compressed,
//! so SQL cannot look into it): model, token split, session, user, tags (a JSON object),
//! labels (a JSON array) and attributes as filters read them (`attrs`: key to text,
//! `attr_nums`: key to number, `skein_model::filter::filterable`), one row per span by its
//! rowid. The JSON columns are read through `skein_text(...)`: `attrs` is packed where that
//! is smaller (`codec::Packed`). Written with the span (`traces::insert_spans`,
//! `pieces::replace_row`), removed with it (a trigger), and filled from the stored bodies once,
//! when a database from before it (or from before its attribute columns) is opened.
//!
//! `spans_by_start` (start time, then rowid) serves the newest-first span list.

use rusqlite::{params, Connection};
use skein_model::span::Span;

use super::codec::{self, CurrentDict, Dict, FactColumns, SpanRow};
use crate::store::StoreResult;

pub(super) fn ensure_schema(conn: &mut Connection) -> StoreResult<()> {
    let existed: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'span_facts')",
        [],
        |r| r.get(0),
    )?;
    let tx = conn.transaction()?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS span_facts (
            span INTEGER PRIMARY KEY,
            model TEXT NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            session_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            tags TEXT NOT NULL,
            labels TEXT NOT NULL,
            attrs TEXT NOT NULL DEFAULT '{}',
            attr_nums TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX IF NOT EXISTS spans_by_start ON spans (start_ns);
        CREATE TRIGGER IF NOT EXISTS span_facts_removed AFTER DELETE ON spans
        BEGIN DELETE FROM span_facts WHERE span = old.id; END;",
    )?;
    let has_attrs: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('span_facts') WHERE name = 'attrs')",
        [],
        |r| r.get(0),
    )?;
    if !has_attrs {
        tx.execute_batch(
            "ALTER TABLE span_facts ADD COLUMN attrs TEXT NOT NULL DEFAULT '{}';
             ALTER TABLE span_facts ADD COLUMN attr_nums TEXT NOT NULL DEFAULT '{}';",
        )?;
    }
    if !existed || !has_attrs {
        backfill(&tx)?;
    }
    tx.commit()?;
    Ok(())
}

/// Facts of every stored span, from its body (a span whose body cannot be read is left
/// without: filters see it with empty facts).
fn backfill(conn: &Connection) -> StoreResult<()> {
    let dict = CurrentDict::load(conn)?.get();
    let mut read = conn.prepare("SELECT id, body FROM spans")?;
    let mut rows = read.query([])?;
    let mut filled = 0u64;
    while let Some(row) = rows.next()? {
        let (id, body): (i64, Vec<u8>) = (row.get(0)?, row.get(1)?);
        if let Ok(span) = codec::decode(conn, &body) {
            let columns = FactColumns::of_span(&span, dict.as_deref());
            write(conn, id, &Facts::of_span(&span), &columns)?;
            filled += 1;
        }
    }
    if filled > 0 {
        tracing::info!(spans = filled, "span facts filled in for span filters");
    }
    Ok(())
}

/// A span's facts besides its packed JSON columns (`FactColumns`).
struct Facts<'a> {
    model: &'a str,
    input_tokens: i64,
    output_tokens: i64,
    session_id: &'a str,
    user_id: &'a str,
}

impl Facts<'_> {
    fn of_span(span: &Span) -> Facts<'_> {
        Facts {
            model: span.model.as_deref().unwrap_or(""),
            input_tokens: span.input_tokens.unwrap_or(0),
            output_tokens: span.output_tokens.unwrap_or(0),
            session_id: span.session_id.as_deref().unwrap_or(""),
            user_id: span.user_id.as_deref().unwrap_or(""),
        }
    }

    fn of_row(row: &SpanRow) -> Facts<'_> {
        Facts {
            model: row.model.as_deref().unwrap_or(""),
            input_tokens: row.input_tokens.unwrap_or(0),
            output_tokens: row.output_tokens.unwrap_or(0),
            session_id: row.session_id.as_deref().unwrap_or(""),
            user_id: row.user_id.as_deref().unwrap_or(""),
        }
    }
}

fn write(conn: &Connection, span: i64, f: &Facts, json: &FactColumns) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO span_facts \
         (span, model, input_tokens, output_tokens, session_id, user_id, tags, labels, \
         attrs, attr_nums) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        span,
        f.model,
        f.input_tokens,
        f.output_tokens,
        f.session_id,
        f.user_id,
        json.tags,
        json.labels,
        json.attrs,
        json.attr_nums
    ])?;
    Ok(())
}

/// The facts of a span just inserted as row `span`.
pub(super) fn insert(conn: &Connection, span: i64, row: &SpanRow) -> StoreResult<()> {
    write(conn, span, &Facts::of_row(row), &row.facts)
}

/// The facts of a span just replaced in trace `trace`; its row id.
pub(super) fn replace(
    conn: &Connection,
    trace: i64,
    span: &Span,
    dict: Option<&Dict>,
) -> StoreResult<i64> {
    let id: i64 = conn
        .prepare_cached("SELECT id FROM spans WHERE trace = ?1 AND span_id = ?2")?
        .query_row(params![trace, span.span_id], |r| r.get(0))?;
    write(
        conn,
        id,
        &Facts::of_span(span),
        &FactColumns::of_span(span, dict),
    )?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::{schema, traces};

    #[test]
    fn a_database_from_before_gets_its_facts_from_the_stored_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("skein.db")).unwrap();
        schema::migrate(&mut conn).unwrap();
        let span = Span {
            project: "p".into(),
            trace_id: "a".repeat(32),
            span_id: "b".repeat(16),
            name: "chat".into(),
            model: Some("gpt-4o".into()),
            input_tokens: Some(3),
            labels: vec!["beta".into()],
            tags: [("env".to_string(), "prod".to_string())]
                .into_iter()
                .collect(),
            attributes: serde_json::json!({"http.status_code": 500, "db.rows": "12", "m": "GET"})
                .as_object()
                .cloned()
                .unwrap(),
            ..Span::default()
        };
        let mut next = schema::next_trace_id(&conn).unwrap();
        let row = SpanRow::encode(span, None).unwrap();
        traces::insert_spans(&conn, &mut next, &[row]).unwrap();
        type Facts = (String, i64, String, String, String, String);
        let facts = |conn: &Connection| -> Facts {
            conn.query_row(
                "SELECT model, input_tokens, skein_text(tags), skein_text(labels), \
                 skein_text(attrs), skein_text(attr_nums) FROM span_facts",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .unwrap()
        };
        let written = facts(&conn);
        assert_eq!(
            written,
            (
                "gpt-4o".into(),
                3,
                r#"{"env":"prod"}"#.into(),
                r#"["beta"]"#.into(),
                r#"{"db.rows":"12","http.status_code":"500","m":"GET"}"#.into(),
                r#"{"db.rows":12.0,"http.status_code":500.0}"#.into(),
            )
        );
        // A file from before span_facts: the table is made and filled when it is opened.
        conn.execute_batch("DROP TABLE span_facts").unwrap();
        schema::migrate(&mut conn).unwrap();
        assert_eq!(facts(&conn), written);
        // A file from before the attribute columns: they are added and filled.
        conn.execute_batch(
            "ALTER TABLE span_facts DROP COLUMN attrs; ALTER TABLE span_facts DROP COLUMN attr_nums;",
        )
        .unwrap();
        schema::migrate(&mut conn).unwrap();
        assert_eq!(facts(&conn), written);
        // Removing the span removes its facts.
        conn.execute_batch("DELETE FROM spans").unwrap();
        let left: i64 = conn
            .query_row("SELECT count(*) FROM span_facts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }
}
