//! The trigram index in the file: a chunk of blocks indexed in one go is written as pages of
//! postings (`write_chunk`), read back for a needle (`candidate_blocks`, also as the SQL
//! function `skein_blocks`), and dropped once every span it covered is gone (`prune`).
//!
//! One row a page of a chunk's postings (`span_grams`), keyed by (chunk, first trigram): the chunks are
//! numbered in the order written, so a chunk's rows go to the end of the table (a flush of
//! pages, not a row touched per trigram across the file). A search reads, for each chunk, the
//! one page a trigram can be in. A block indexed again (changed, or joined by new spans) is
//! in the new chunk too: its old postings stay, a superset that makes only candidates that
//! fail their check.

use rusqlite::{params, Connection, OptionalExtension};

use super::grams::{self, Gram};
use crate::store::{StoreError, StoreResult};

/// The most trigrams of a needle looked up: a page read a trigram and chunk, and a few already
/// leave next to no false candidate (they are checked anyway).
const MAX_NEEDLE_GRAMS: usize = 12;

impl From<grams::DamagedPage> for StoreError {
    fn from(e: grams::DamagedPage) -> Self {
        StoreError::Internal(e.to_string())
    }
}

/// Writes one chunk: `pairs` (`gram << BLOCK_BITS | index into blocks`, any order) as pages.
pub(super) fn write_chunk(conn: &Connection, blocks: &[i64], pairs: &mut [u64]) -> StoreResult<()> {
    let Some(&last_block) = blocks.last() else {
        return Ok(());
    };
    if pairs.is_empty() {
        return Ok(());
    }
    pairs.sort_unstable();
    let chunk: i64 = conn
        .prepare_cached("SELECT ifnull(max(chunk), 0) + 1 FROM span_gram_chunks")?
        .query_row([], |r| r.get(0))?;
    conn.prepare_cached("INSERT INTO span_gram_chunks (chunk, last_block) VALUES (?1, ?2)")?
        .execute([chunk, last_block])?;
    let mut insert =
        conn.prepare_cached("INSERT INTO span_grams (chunk, first, postings) VALUES (?1, ?2, ?3)")?;
    for (first, page) in grams::encode_pages(pairs, blocks) {
        insert.execute(params![chunk, first, page])?;
    }
    Ok(())
}

/// The blocks holding every (looked-up) trigram of `needle`, ascending, each once; None when
/// `needle` has no trigram within one text (every block is a candidate then).
pub(super) fn candidate_blocks(conn: &Connection, needle: &str) -> StoreResult<Option<Vec<i64>>> {
    let Some(wanted) = grams::needle_grams(needle, MAX_NEEDLE_GRAMS) else {
        return Ok(None);
    };
    let chunks: Vec<i64> = conn
        .prepare_cached("SELECT chunk FROM span_gram_chunks ORDER BY chunk")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut page = conn.prepare_cached(
        "SELECT first, postings FROM span_grams WHERE chunk = ?1 AND first <= ?2 \
         ORDER BY first DESC LIMIT 1",
    )?;
    let mut blocks = Vec::new();
    'chunks: for chunk in chunks {
        let mut lists = Vec::with_capacity(wanted.len());
        for &g in &wanted {
            let mut list = Vec::new();
            let row: Option<(i64, Vec<u8>)> = page
                .query_row(params![chunk, g], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((first, postings)) = row {
                let first = Gram::try_from(first).map_err(|_| grams::DamagedPage)?;
                grams::postings_in(&postings, first, g, &mut list)?;
            }
            if list.is_empty() {
                continue 'chunks;
            }
            lists.push(list);
        }
        blocks.extend(grams::intersect(lists));
    }
    blocks.sort_unstable();
    blocks.dedup();
    Ok(Some(blocks))
}

/// Drops the chunks whose blocks all lie before the oldest kept text (their spans removed by
/// retention): what a search reads stays what the file holds.
pub(super) fn prune(conn: &Connection) -> StoreResult<()> {
    let oldest: Option<i64> = conn
        .prepare_cached("SELECT min(span) FROM span_texts")?
        .query_row([], |r| r.get(0))?;
    let before = oldest.map_or(i64::MAX, |s| s >> super::BLOCK_SHIFT);
    let gone: Vec<i64> = conn
        .prepare_cached("SELECT chunk FROM span_gram_chunks WHERE last_block < ?1")?
        .query_map([before], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for chunk in gone {
        conn.prepare_cached("DELETE FROM span_grams WHERE chunk = ?1")?
            .execute([chunk])?;
        conn.prepare_cached("DELETE FROM span_gram_chunks WHERE chunk = ?1")?
            .execute([chunk])?;
    }
    Ok(())
}

/// Registers `skein_blocks(needle)` on `conn`: `candidate_blocks` as a JSON array, read with
/// `json_each` in the statement's own snapshot (every block when the needle has no trigram is
/// not asked of it: `search` checks that first).
pub(in crate::store::sqlite) fn register(conn: &Connection) -> StoreResult<()> {
    use std::fmt::Write;

    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function("skein_blocks", 1, FunctionFlags::SQLITE_UTF8, |ctx| {
        let needle = ctx.get::<String>(0)?;
        // SAFETY: the connection is used only within this call, on this thread, to read.
        let conn = unsafe { ctx.get_connection()? };
        let blocks = candidate_blocks(&conn, &needle)
            .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?
            .unwrap_or_default();
        let mut json = String::with_capacity(blocks.len() * 8 + 2);
        json.push('[');
        for (i, b) in blocks.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            let _ = write!(json, "{b}");
        }
        json.push(']');
        Ok(json)
    })?;
    Ok(())
}
