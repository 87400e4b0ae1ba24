//! The read side of the full-text index: the condition "span row `id` holds the needle"
//! (`search_sql`), a needle's candidate spans (`candidates`), and the exact check of a
//! candidate against its kept text (`check`), all in one snapshot.
//!
//! A span is looked up in the index when it lies at or below the mark and outside the stale
//! blocks, and among the waiting spans otherwise (the newest `MAX_WAITING_CHECKED` of them):
//! never in both, so a search finds each acknowledged span once, the moment it is
//! acknowledged, unless more than that many wait (then once indexed, and the list's total
//! says it is approximate). The mark and the stale blocks are read once a statement.

use super::{grams, BLOCK_SHIFT, BLOCK_SPANS, MARK};
use crate::store::StoreResult;
use rusqlite::Connection;

/// The most waiting spans (the newest) a search checks by their texts while the index catches
/// up: a search's cost stays bounded however many wait, and what was just acknowledged is
/// still found. Older waiting spans are found once indexed; meanwhile a list says its total
/// is approximate (`waiting_beyond_checked`).
#[cfg(not(test))]
pub(in crate::store::sqlite) const MAX_WAITING_CHECKED: usize = 20_000;
/// Small in unit tests, whose stores are small.
#[cfg(test)]
pub(in crate::store::sqlite) const MAX_WAITING_CHECKED: usize = 500;

/// The spans of stale blocks that the index held (the rest of such a block is past the
/// mark), the newest first: a join of `span_text_stale` and `span_texts`, column `span`.
fn stale_spans() -> String {
    format!(
        "SELECT t.span AS span FROM span_text_stale s CROSS JOIN span_texts t \
         ON t.span BETWEEN s.block << {BLOCK_SHIFT} AND (s.block << {BLOCK_SHIFT}) + {} \
         WHERE t.span <= {MARK} ORDER BY s.block DESC, t.span DESC",
        BLOCK_SPANS - 1
    )
}

/// The newest waiting spans a search checks (column `span`): past the mark, and of the stale
/// blocks (the two sets are apart).
fn waiting_checked() -> String {
    let n = MAX_WAITING_CHECKED;
    format!(
        "SELECT span FROM (\
         SELECT span FROM (SELECT span FROM span_texts WHERE span > {MARK} \
             ORDER BY span DESC LIMIT {n}) \
         UNION ALL SELECT span FROM ({} LIMIT {n}) \
         ORDER BY span DESC LIMIT {n})",
        stale_spans()
    )
}

/// True when more spans wait for the index than a search checks: its results leave some out.
pub(in crate::store::sqlite) fn waiting_beyond_checked(conn: &Connection) -> StoreResult<bool> {
    let n = MAX_WAITING_CHECKED + 1;
    let waiting: i64 = conn
        .prepare_cached(&format!(
            "SELECT (SELECT count(*) FROM (SELECT 1 FROM span_texts WHERE span > {MARK} LIMIT {n})) \
             + (SELECT count(*) FROM ({} LIMIT {n}))",
            stale_spans()
        ))?
        .query_row([], |r| r.get(0))?;
    Ok(waiting as usize > MAX_WAITING_CHECKED)
}

/// The condition "span row `id` holds `needle`" (lowercased, at least three characters),
/// its parameters bound through `bind` (which answers each one's placeholder) in the order
/// they appear: the row's block holds the needle's trigrams and the index holds the row (at or
/// below the mark, its block not stale), or the row is one of the newest waiting; and its kept
/// text holds the needle (`check`). The blocks and the waiting rows are read once a statement
/// (small sets: blocks, not spans; `skein_blocks` reads the postings); the text is read
/// only for a row the rest of the statement reaches (in a trace scope's `EXISTS`, until
/// a span of the trace passes).
pub(in crate::store::sqlite) fn search_sql(
    id: &str,
    needle: &str,
    mut bind: impl FnMut(String) -> String,
) -> String {
    if grams::needle_grams(needle, 1).is_none() {
        return check(id, &bind(needle.to_string()));
    }
    let blocks = bind(needle.to_string());
    let checked = check(id, &bind(needle.to_string()));
    format!(
        "(((({id} >> {BLOCK_SHIFT}) IN (SELECT value FROM json_each(skein_blocks({blocks}))) \
         AND {id} <= {MARK} AND ({id} >> {BLOCK_SHIFT}) NOT IN (SELECT block FROM span_text_stale)) \
         OR {id} IN ({})) AND {checked})",
        waiting_checked()
    )
}

/// The span rowids that may hold `needle`, in rowid order (column `id`; each span once): the
/// spans of the blocks the index holds every (asked) trigram of, as far as the index holds
/// them (at or below the mark, the block not stale), then the newest waiting spans. A
/// superset of the matches; `check` decides. A needle without a trigram of one text (it spans a `SEARCH_SEPARATOR`) makes every span a candidate.
pub(in crate::store::sqlite) fn candidates(
    needle: &str,
    mut bind: impl FnMut(String) -> String,
) -> String {
    if grams::needle_grams(needle, 1).is_none() {
        return "SELECT span AS id FROM span_texts".to_string();
    }
    let needle = bind(needle.to_string());
    format!(
        "SELECT block_span.span AS id FROM json_each(skein_blocks({needle})) hit \
         CROSS JOIN span_texts block_span \
         ON block_span.span BETWEEN hit.value << {BLOCK_SHIFT} \
         AND (hit.value << {BLOCK_SHIFT}) + {} \
         WHERE block_span.span <= {MARK} \
         AND hit.value NOT IN (SELECT block FROM span_text_stale) \
         UNION ALL {}",
        BLOCK_SPANS - 1,
        waiting_checked()
    )
}

/// Whether `needle` has more than `limit` candidates (index and checked queue).
pub(in crate::store::sqlite) fn has_more_candidates(
    conn: &Connection,
    needle: &str,
    limit: usize,
) -> StoreResult<bool> {
    let mut args = Vec::new();
    let candidates = candidates(needle, |value| {
        args.push(value);
        "?".to_string()
    });
    let n: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM (SELECT 1 FROM ({candidates}) LIMIT {})",
            limit + 1
        ),
        rusqlite::params_from_iter(args),
        |r| r.get(0),
    )?;
    Ok(n as usize > limit)
}

/// "The kept text of span row `id` holds the needle bound as `needle`": exact, for any span,
/// indexed or queued (a span without a kept text holds nothing). `instr` on the lowercased
/// text is what `span_contains` does; the text is read by its key.
pub(in crate::store::sqlite) fn check(id: &str, needle: &str) -> String {
    // `kept`: an alias no caller gives its span rows.
    format!(
        "ifnull(instr((SELECT skein_text(kept.text) FROM span_texts kept WHERE kept.span = {id}), \
         {needle}), \
         0) > 0"
    )
}
