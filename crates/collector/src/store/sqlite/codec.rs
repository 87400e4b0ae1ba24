//! How a span is stored: the columns the queries read (`SpanRow`), and the full span as a
//! compressed body, encoded where the span arrives (the request's task), not on the writer.
//!
//! A body is one format byte and a payload:
//! - `1`: a zstd frame (level `LEVEL`) of the span's JSON (`skein_model::span::Span`, every
//!   field);
//! - `2`: the dictionary's id (`body_dicts.id`, u32 little-endian), then a zstd frame of the
//!   same JSON compressed with that dictionary.
//!
//! zstd over JSON rather than a binary format: attribute values are arbitrary JSON, and the
//! payload stays readable with stock tools. One span is too small for zstd to learn much
//! from (the demo's 1.3 KB spans compress to ~570 bytes on their own), so once a database
//! holds `SqliteOptions::dictionary_after_spans` spans, a dictionary is trained on a sample of
//! them (`train`, run by the checkpoint thread) and stored in `body_dicts`; later bodies use it
//! (~160 bytes each, and 2.5x less CPU to compress, measured on the demo's spans). Bodies
//! written before keep format 1; a dictionary is never changed nor deleted.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use rusqlite::{params, Connection, OptionalExtension};
use skein_model::span::{Span, SpanKind, SpanStatus};

use crate::store::{StoreError, StoreResult};

/// zstd level 1: level 3 gives the same size on spans for more CPU; negative levels are
/// no faster with a dictionary and a third larger.
const LEVEL: i32 = 1;
const FORMAT_ZSTD_JSON: u8 = 1;
const FORMAT_ZSTD_DICT_JSON: u8 = 2;
/// Decoding refuses bodies claiming more than this (a corrupt or hostile frame header).
const MAX_DECODED: usize = 256 * 1024 * 1024;
/// The size of a trained dictionary: 16 KiB did as well as 64 KiB on the demo's spans.
const DICT_SIZE: usize = 16 * 1024;
/// How many recent spans a dictionary is trained on (zstd wants ~100x the dictionary size).
const TRAINING_SPANS: usize = 2_000;

/// A compression dictionary as encoders use it.
pub(super) struct Dict {
    /// `body_dicts.id`.
    id: u32,
    bytes: Vec<u8>,
    /// Unique in the process: which dictionary a thread's compressor holds.
    instance: u64,
}

static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(1);

impl Dict {
    fn new(id: u32, bytes: Vec<u8>) -> Dict {
        Dict {
            id,
            bytes,
            instance: NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// The dictionary new bodies are compressed with, shared by every thread that encodes.
#[derive(Default)]
pub(super) struct CurrentDict(RwLock<Option<Arc<Dict>>>);

impl CurrentDict {
    /// The newest dictionary stored in the database, if any.
    pub fn load(conn: &Connection) -> StoreResult<CurrentDict> {
        let newest: Option<(u32, Vec<u8>)> = conn
            .query_row(
                "SELECT id, dict FROM body_dicts ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(CurrentDict(RwLock::new(
            newest.map(|(id, bytes)| Arc::new(Dict::new(id, bytes))),
        )))
    }

    pub fn get(&self) -> Option<Arc<Dict>> {
        self.0.read().ok().and_then(|d| d.clone())
    }

    pub fn is_none(&self) -> bool {
        self.get().is_none()
    }

    fn set(&self, dict: Dict) {
        if let Ok(mut current) = self.0.write() {
            *current = Some(Arc::new(dict));
        }
    }
}

thread_local! {
    // Per thread, a compression context and the dictionary instance it holds (0: none):
    // creating one costs more than compressing a span.
    static COMPRESSOR: RefCell<Option<(u64, zstd::bulk::Compressor<'static>)>> = const { RefCell::new(None) };
    // Per thread, a decompression context and the (database, dictionary id) it holds.
    static DECOMPRESSOR: RefCell<Option<(String, u32, zstd::bulk::Decompressor<'static>)>> = const { RefCell::new(None) };
    // The JSON of the span being encoded, reused from span to span.
    static JSON: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn zstd_error(e: std::io::Error) -> StoreError {
    StoreError::Internal(format!("zstd: {e}"))
}

/// The stored body of a span, compressed with `dict` when there is one.
pub(super) fn encode(span: &Span, dict: Option<&Dict>) -> StoreResult<Vec<u8>> {
    JSON.with(|json| {
        let mut json = json.borrow_mut();
        json.clear();
        serde_json::to_writer(&mut *json, span)
            .map_err(|e| StoreError::Internal(format!("cannot encode span: {e}")))?;
        compress(&json, dict)
    })
}

/// `bytes` as a body: a format byte (and the dictionary's id), then a zstd frame.
fn compress(bytes: &[u8], dict: Option<&Dict>) -> StoreResult<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let instance = dict.map_or(0, |d| d.instance);
        if slot.as_ref().is_none_or(|(held, _)| *held != instance) {
            let compressor = match dict {
                Some(d) => zstd::bulk::Compressor::with_dictionary(LEVEL, &d.bytes),
                None => zstd::bulk::Compressor::new(LEVEL),
            }
            .map_err(zstd_error)?;
            *slot = Some((instance, compressor));
        }
        let (_, compressor) = slot.as_mut().expect("just set");
        let bound = zstd::zstd_safe::compress_bound(bytes.len());
        let mut out = Vec::with_capacity(5 + bound);
        match dict {
            Some(d) => {
                out.push(FORMAT_ZSTD_DICT_JSON);
                out.extend_from_slice(&d.id.to_le_bytes());
            }
            None => out.push(FORMAT_ZSTD_JSON),
        }
        let start = out.len();
        out.resize(start + bound, 0);
        let n = compressor
            .compress_to_buffer(bytes, &mut out[start..])
            .map_err(|e| StoreError::Internal(format!("cannot compress span: {e}")))?;
        out.truncate(start + n);
        Ok(out)
    })
}

/// A text column that SQL reads through `unpack` (`skein_text(column)`): `span_facts`' JSON
/// objects and `span_texts`' search texts. Stored as the text itself, or, where that is
/// smaller, as a BLOB in the body format (zstd, with the body dictionary when there is one):
/// these texts were most of the bytes a span wrote (bench/README.md, "Ingest"). Texts
/// written before are plain text, read as they are.
pub(super) enum Packed {
    Text(String),
    Blob(Vec<u8>),
}

/// Texts shorter than this are kept as they are: compressing costs the encoding thread about
/// a microsecond a text, which a short one (a span's number attributes, its labels) does not
/// repay in bytes.
const PACK_MIN: usize = 128;

impl Packed {
    pub fn pack(text: String, dict: Option<&Dict>) -> Packed {
        if text.len() < PACK_MIN {
            return Packed::Text(text);
        }
        match compress(text.as_bytes(), dict) {
            Ok(blob) if blob.len() < text.len() => Packed::Blob(blob),
            _ => Packed::Text(text),
        }
    }
}

impl rusqlite::ToSql for Packed {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(match self {
            Packed::Text(t) => t.as_str().into(),
            Packed::Blob(b) => b.as_slice().into(),
        })
    }
}

/// Registers `skein_text(x)` on `conn`: a `Packed` column's text (a BLOB unpacked, a text as
/// it is, NULL as NULL). Every connection that reads those columns needs it.
pub(super) fn register_unpack(conn: &Connection) -> StoreResult<()> {
    use rusqlite::functions::FunctionFlags;
    use rusqlite::types::{Value, ValueRef};
    conn.create_scalar_function(
        "skein_text",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(match ctx.get_raw(0) {
                ValueRef::Blob(blob) => {
                    // SAFETY: the connection is used only within this call, on this thread
                    // (for the dictionary, when this thread's decompressor lacks it).
                    let conn = unsafe { ctx.get_connection()? };
                    let bytes = decompress(&conn, blob)
                        .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
                    Value::Text(
                        String::from_utf8(bytes)
                            .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?,
                    )
                }
                ValueRef::Text(text) => Value::Text(String::from_utf8_lossy(text).into_owned()),
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Integer(i),
                ValueRef::Real(r) => Value::Real(r),
            })
        },
    )?;
    Ok(())
}

fn unreadable(why: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("stored span is unreadable: {why}"))
}

/// The span a stored body holds; `conn` is a connection to the database it was read from
/// (for its dictionary).
pub(super) fn decode(conn: &Connection, body: &[u8]) -> StoreResult<Span> {
    let json = decompress(conn, body)?;
    serde_json::from_slice(&json).map_err(unreadable)
}

fn decompress(conn: &Connection, body: &[u8]) -> StoreResult<Vec<u8>> {
    let (&format, rest) = body.split_first().ok_or_else(|| unreadable("empty body"))?;
    let (dict_id, frame) = match format {
        FORMAT_ZSTD_JSON => (0, rest),
        FORMAT_ZSTD_DICT_JSON if rest.len() >= 4 => (
            u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]),
            &rest[4..],
        ),
        _ => return Err(unreadable(format!("unknown body format {format}"))),
    };
    let size = zstd::zstd_safe::get_frame_content_size(frame)
        .ok()
        .flatten()
        .ok_or_else(|| unreadable("no content size in the frame"))?;
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    if size > MAX_DECODED {
        return Err(unreadable(format!("the frame claims {size} bytes")));
    }
    let database = conn.path().unwrap_or("").to_string();
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let held = slot
            .as_ref()
            .is_some_and(|(db, id, _)| *id == dict_id && (dict_id == 0 || *db == database));
        if held {
            let (_, _, decompressor) = slot.as_mut().expect("held");
            match decompressor.decompress(frame, size) {
                Ok(json) => return Ok(json),
                // A database recreated at the same path since: zstd refuses a frame made
                // with another dictionary; load this database's and try again.
                Err(_) if dict_id != 0 => {}
                Err(e) => return Err(unreadable(e)),
            }
        }
        let decompressor = if dict_id == 0 {
            zstd::bulk::Decompressor::new().map_err(zstd_error)?
        } else {
            let bytes: Vec<u8> = conn
                .prepare_cached("SELECT dict FROM body_dicts WHERE id = ?1")?
                .query_row(params![dict_id], |r| r.get(0))
                .optional()?
                .ok_or_else(|| unreadable(format!("dictionary {dict_id} is missing")))?;
            zstd::bulk::Decompressor::with_dictionary(&bytes).map_err(zstd_error)?
        };
        *slot = Some((database, dict_id, decompressor));
        let (_, _, decompressor) = slot.as_mut().expect("just set");
        decompressor.decompress(frame, size).map_err(unreadable)
    })
}

/// Trains a dictionary on the most recent spans and stores it, as the one new bodies use
/// from now on. Runs on its own connection (the checkpoint thread's): the training takes a
/// few tens of milliseconds of CPU, the insert one short write transaction. False when
/// there were too few spans to train on or training failed (the caller tries again later).
pub(super) fn train(conn: &Connection, current: &CurrentDict) -> StoreResult<bool> {
    let mut samples = Vec::with_capacity(TRAINING_SPANS);
    {
        let mut stmt = conn.prepare("SELECT body FROM spans ORDER BY id DESC LIMIT ?1")?;
        let mut rows = stmt.query(params![TRAINING_SPANS as i64])?;
        while let Some(row) = rows.next()? {
            let body: Vec<u8> = row.get(0)?;
            if let Ok(json) = decompress(conn, &body) {
                samples.push(json);
            }
        }
    }
    if samples.len() < TRAINING_SPANS / 2 {
        return Ok(false);
    }
    let bytes = match zstd::dict::from_samples(&samples, DICT_SIZE) {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::info!(error = %e, "no compression dictionary this time");
            return Ok(false);
        }
    };
    // Committed (and fsynced) before any body may use it.
    let id: u32 = conn.query_row(
        "INSERT INTO body_dicts (id, dict) \
         VALUES ((SELECT coalesce(max(id), 0) + 1 FROM body_dicts), ?1) RETURNING id",
        params![bytes],
        |r| r.get(0),
    )?;
    tracing::debug!(id, size = bytes.len(), "compression dictionary trained");
    current.set(Dict::new(id, bytes));
    Ok(true)
}

/// A span ready for the writer: its columns, its encoded body, and what its trace's summary
/// needs. Built from a `Span` on the caller's thread, so that the writer, the one thread
/// every write goes through, only binds values.
pub(super) struct SpanRow {
    pub project: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub name: String,
    pub span_type: u8,
    pub kind: SpanKind,
    pub service: String,
    pub start_ns: i64,
    pub end_ns: i64,
    pub status: SpanStatus,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost: Option<f64>,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// For `span_facts` (what filters read besides the columns), packed here rather than
    /// on the writer: the tags and labels as JSON, the attributes as filters read them
    /// (`attribute_columns`).
    pub model: Option<String>,
    pub facts: FactColumns,
    /// `encode(span)`; empty where only the summary fields are wanted (rebuilding a trace).
    pub body: Vec<u8>,
    /// For `span_text` (`trace_search::search_text`); empty when not indexing.
    pub search_text: Packed,
}

impl SpanRow {
    /// Encodes the span's body and keeps the fields the store indexes or summarises (and its
    /// search text); the rest of the span (attributes, events, input, output) is dropped here.
    pub fn encode(span: Span, dict: Option<&Dict>) -> StoreResult<SpanRow> {
        let body = encode(&span, dict)?;
        let search_text = if super::span_text::indexing() {
            Packed::pack(skein_model::trace_search::search_text(&span), dict)
        } else {
            Packed::Text(String::new())
        };
        Ok(SpanRow {
            facts: FactColumns::of_span(&span, dict),
            search_text,
            span_type: span.span_type.code(),
            kind: span.kind,
            project: span.project,
            trace_id: span.trace_id,
            span_id: span.span_id,
            parent_span_id: span.parent_span_id,
            name: span.name,
            service: span.service,
            start_ns: span.start_ns,
            end_ns: span.end_ns,
            status: span.status,
            input_tokens: span.input_tokens,
            output_tokens: span.output_tokens,
            cost: span.cost,
            session_id: span.session_id,
            user_id: span.user_id,
            tags: span.tags,
            model: span.model,
            body,
        })
    }

    pub fn total_tokens(&self) -> i64 {
        self.input_tokens.unwrap_or(0) + self.output_tokens.unwrap_or(0)
    }
}

/// The JSON columns of a span's `span_facts` row, packed: its tags, its labels, and its
/// attributes as filters read them (`skein_model::filter::filterable`: `attrs`, key to
/// text; `attr_nums`, key to number).
pub(super) struct FactColumns {
    pub tags: Packed,
    pub labels: Packed,
    pub attrs: Packed,
    pub attr_nums: Packed,
}

impl FactColumns {
    pub fn of_span(span: &Span, dict: Option<&Dict>) -> FactColumns {
        let (texts, numbers) = skein_model::filter::filterable(&span.attributes);
        FactColumns {
            // Only the attributes are packed: the other columns are a few dozen bytes (a
            // span's tags ~170 in the ingest benchmark), not worth a compression each.
            tags: Packed::Text(json_or(&span.tags, "{}")),
            labels: Packed::Text(json_or(&span.labels, "[]")),
            attrs: Packed::pack(json_or(&texts, "{}"), dict),
            attr_nums: Packed::Text(json_or(&numbers, "{}")),
        }
    }
}

fn json_or<T: serde::Serialize>(value: &T, empty: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| empty.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(i: usize) -> Span {
        let mut span = Span {
            project: "p".into(),
            trace_id: format!("{:032x}", i + 1),
            span_id: format!("{:016x}", i + 1),
            name: format!("step {}", i % 7),
            input: Some(format!(
                "question {i}: {}",
                "why is the sky blue? ".repeat(5)
            )),
            ..Span::default()
        };
        span.attributes.insert(
            "k".into(),
            serde_json::json!({"nested": [1, 2.5, "three"], "i": i}),
        );
        span
    }

    fn database() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.execute_batch(
            "CREATE TABLE spans (id INTEGER PRIMARY KEY, body BLOB NOT NULL); \
             CREATE TABLE body_dicts (id INTEGER PRIMARY KEY, dict BLOB NOT NULL);",
        )
        .unwrap();
        (dir, conn)
    }

    /// Enough bodies to train a dictionary on.
    fn store_training_spans(conn: &Connection) {
        conn.execute_batch("BEGIN").unwrap();
        for i in 0..TRAINING_SPANS {
            conn.execute(
                "INSERT INTO spans (body) VALUES (?1)",
                params![encode(&span(i), None).unwrap()],
            )
            .unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
    }

    #[test]
    fn bodies_round_trip_with_and_without_a_dictionary() {
        let (_dir, conn) = database();
        let plain = encode(&span(0), None).unwrap();
        assert_eq!(plain[0], FORMAT_ZSTD_JSON);
        assert_eq!(decode(&conn, &plain).unwrap(), span(0));

        let current = CurrentDict::load(&conn).unwrap();
        assert!(current.is_none());
        assert!(!train(&conn, &current).unwrap(), "nothing to train on yet");
        store_training_spans(&conn);
        assert!(train(&conn, &current).unwrap());
        let dict = current.get().unwrap();
        assert_eq!(dict.id, 1);
        let small = encode(&span(5_000), Some(&dict)).unwrap();
        assert_eq!(small[0], FORMAT_ZSTD_DICT_JSON);
        assert!(small.len() < encode(&span(5_000), None).unwrap().len());
        assert_eq!(decode(&conn, &small).unwrap(), span(5_000));
        // Old bodies stay readable, in any order.
        assert_eq!(decode(&conn, &plain).unwrap(), span(0));
        assert_eq!(decode(&conn, &small).unwrap(), span(5_000));
        // A fresh load finds the dictionary.
        assert_eq!(CurrentDict::load(&conn).unwrap().get().unwrap().id, 1);
    }

    #[test]
    fn packed_texts_read_back_through_skein_text() {
        let (dir, conn) = database();
        let unpacked = |conn: &Connection, packed: &Packed| -> Option<String> {
            conn.query_row("SELECT skein_text(?1)", params![packed], |r| r.get(0))
                .unwrap()
        };
        register_unpack(&conn).unwrap();
        let long = format!(
            "{{\"input.value\":\"{}\"}}",
            "why is the sky blue? ".repeat(8)
        );
        let short = r#"{"env":"prod"}"#.to_string();
        assert!(matches!(Packed::pack(short.clone(), None), Packed::Text(_)));
        let plain = Packed::pack(long.clone(), None);
        assert!(matches!(&plain, Packed::Blob(b) if b.len() < long.len()));
        assert_eq!(unpacked(&conn, &plain).as_deref(), Some(long.as_str()));
        assert_eq!(unpacked(&conn, &Packed::Text(short.clone())), Some(short));
        let null: Option<String> = conn
            .query_row("SELECT skein_text(NULL)", [], |r| r.get(0))
            .unwrap();
        assert_eq!(null, None);
        // With the body dictionary, read on another connection to the same file.
        store_training_spans(&conn);
        let current = CurrentDict::load(&conn).unwrap();
        assert!(train(&conn, &current).unwrap());
        let packed = Packed::pack(long.clone(), current.get().as_deref());
        assert!(matches!(&packed, Packed::Blob(b) if b[0] == FORMAT_ZSTD_DICT_JSON));
        let other = Connection::open(dir.path().join("t.db")).unwrap();
        register_unpack(&other).unwrap();
        assert_eq!(unpacked(&other, &packed).as_deref(), Some(long.as_str()));
        // A damaged one is an error, not a wrong text.
        let damaged = Packed::Blob(vec![FORMAT_ZSTD_JSON, 1, 2, 3]);
        assert!(other
            .query_row("SELECT skein_text(?1)", params![damaged], |r| r
                .get::<_, String>(0))
            .is_err());
    }

    #[test]
    fn bad_bodies_are_errors() {
        let (_dir, conn) = database();
        let body = encode(&span(1), None).unwrap();
        assert!(decode(&conn, &[]).is_err());
        assert!(decode(&conn, &[9, 1, 2]).is_err());
        assert!(decode(&conn, &body[..body.len() / 2]).is_err());
        // A dictionary that is not there.
        let mut missing = vec![FORMAT_ZSTD_DICT_JSON, 7, 0, 0, 0];
        missing.extend_from_slice(&body[1..]);
        assert!(decode(&conn, &missing).is_err());
    }
}
