//! The trace list: a query's total and page from a trace index (`traces`, or `tag_starts` for a
//! list by tags and time alone), then the page's summaries. When the split traces are few
//! (listed by id), their folded rows are read once and joined to the whole traces' count and
//! page here: the total and the page would each fold them from their spans again, which was
//! most of a list's cost at 10M spans (the 100k-span trace, sent in ten requests, among them).

use serde_json::Value;
use skein_model::{TracePage, TraceQuery, TraceSort};

use super::client::{quote, RowExt};
use super::splits::Copies;
use super::tag_starts::{self, TagRange};
use super::trace_table::IndexParts;
use super::ClickhouseStore;
use crate::store::{StoreError, StoreResult};

/// The first window of starts a newest page is read in, before the whole range: a minute;
/// each next one is `WIDER` times as long, `WINDOWS` of them at most (the last ~32 years).
/// A window's read costs about a granule a part of the index however few rows it holds, so
/// widening steeply costs less than reading more windows: at a steady rate a window that
/// holds a page holds at most `WIDER` pages.
const FIRST_WINDOW_NS: i64 = 60_000_000_000;
const WIDER: i64 = 64;
const WINDOWS: u32 = 5;

impl ClickhouseStore {
    pub(super) async fn list(
        &self,
        project: &str,
        q: &TraceQuery,
        now_ms: i64,
    ) -> StoreResult<TracePage> {
        let cursor = q.cursor.as_deref().map(parse_cursor).transpose()?;
        // Traces with tags, newest or oldest first, within a time range at most: a range of
        // the tags' index (`tag_starts`); any other list, the per-trace rows.
        let (total, rows, split_rows) = match tag_starts_range(q, now_ms) {
            Some((from_ns, to_ns)) => {
                let tags: Vec<(String, String)> = q
                    .tags
                    .iter()
                    .map(|t| (t.key.clone(), t.value.clone()))
                    .collect();
                let range = TagRange {
                    project,
                    tags: &tags,
                    from_ns,
                    to_ns,
                };
                self.by_tags(q, &range, &cursor, now_ms).await?
            }
            None => {
                let index = self
                    .trace_index_parts(project, q, now_ms, "1 = 1", &[])
                    .await?;
                self.total_and_page(&index, q, &cursor).await?
            }
        };
        let (column, descending) = sort_column(q.sort);
        let limit = q.limit() as usize;
        let mut keyed: Vec<(i64, String)> = rows
            .iter()
            .chain(&split_rows)
            .map(|r| (r.i64_of(column), r.str_of("trace_id")))
            .filter(|row| after(row, &cursor, descending))
            .collect();
        // As ClickHouse orders the page: by the column, then the id (bytes), either way.
        keyed.sort_unstable();
        if descending {
            keyed.reverse();
        }
        let next_cursor = (keyed.len() > limit).then(|| {
            let (key, id) = &keyed[limit - 1];
            format!("{key}.{id}")
        });
        keyed.truncate(limit);
        let ids: Vec<String> = keyed.into_iter().map(|(_, id)| id).collect();
        let traces = self.summaries_with_feedback(project, &ids).await?;
        Ok(TracePage {
            traces,
            total,
            total_approximate: false,
            next_cursor,
        })
    }

    /// A list's total, its page of whole traces and the split traces' rows (all of them, to
    /// merge with the page), from a trace index. When the split traces are few (listed by
    /// id), their folded rows are read once and joined here; otherwise within each read.
    async fn total_and_page(
        &self,
        index: &IndexParts,
        q: &TraceQuery,
        cursor: &Option<(i64, String)>,
    ) -> StoreResult<(u64, Vec<Value>, Vec<Value>)> {
        let (counted, paged, split) = match (&index.folded, index.listed) {
            (Some(folded), true) => (index.whole.clone(), index.whole.clone(), Some(folded)),
            _ => (index.union(), index.union(), None),
        };
        let count_sql = format!("SELECT count() AS n FROM ({counted})");
        let count = self.client.rows(&count_sql);
        let page_sql = page_sql(&paged, q, cursor);
        let page = self.client.rows(&page_sql);
        // Independent reads: asked at once.
        let (counted, rows, split_rows) = tokio::try_join!(count, page, self.split_rows(split))?;
        Ok((
            count_of(&counted) + split_rows.len() as u64,
            rows,
            split_rows,
        ))
    }

    /// The split traces' folded rows (trace id, start, duration), if any.
    async fn split_rows(&self, folded: Option<&String>) -> StoreResult<Vec<Value>> {
        match folded {
            Some(folded) => {
                self.client
                    .rows(&format!("SELECT trace_id, start, duration FROM ({folded})"))
                    .await
            }
            None => Ok(Vec::new()),
        }
    }

    /// `total_and_page` of a list by tags and time alone, from the tags' index. With the
    /// split traces listed, the page is read in windows of starts widened from now (or the
    /// cursor) until one holds a page (`newest_page`). A tag's total is counted without
    /// reading the range's trace ids (`TagRange::one_tag_counts`), in the same pass as each
    /// window's rows, so that the page is read from the first window that holds one.
    async fn by_tags(
        &self,
        q: &TraceQuery,
        range: &TagRange<'_>,
        cursor: &Option<(i64, String)>,
        now_ms: i64,
    ) -> StoreResult<(u64, Vec<Value>, Vec<Value>)> {
        let index = self.layout.table(tag_starts::TAG_STARTS.name);
        let copies = self.copies(range.project, "1 = 1").await?;
        let split = match &copies {
            Copies::Ids { split, .. } => split.clone(),
            Copies::Query(_) => {
                let parts = tag_starts::with_tags(
                    &index,
                    &self.trace_table(),
                    &self.layout.table("spans"),
                    range,
                    &copies,
                );
                return self.total_and_page(&parts, q, cursor).await;
            }
        };
        let whole = |starts| range.whole(&index, starts, &copies);
        let newest = q.sort == TraceSort::StartDesc;
        let windows = NewestWindows::new(range, cursor, now_ms);
        let counted_windows = if newest { &windows.froms[..] } else { &[] };
        let page_of = |froms: Vec<i64>| async move {
            if newest {
                self.newest_page(&whole, q, range, cursor, windows.to_ns, &froms)
                    .await
            } else {
                self.client
                    .rows(&page_sql(&whole((range.from_ns, range.to_ns)), q, cursor))
                    .await
            }
        };
        let Some((all, split_sql)) = range.one_tag_counts(
            &index,
            &self.trace_table(),
            &split,
            (counted_windows, windows.to_ns),
        ) else {
            // More tags: the count groups each trace's rows; the split traces are folded.
            let count = format!(
                "SELECT count() AS n FROM ({})",
                whole((range.from_ns, range.to_ns))
            );
            let folded = range.folded(&self.trace_table(), &self.layout.table("spans"), &copies);
            // Independent reads: asked at once.
            let (count, split_rows, rows) = tokio::try_join!(
                self.client.rows(&count),
                self.split_rows(folded.as_ref()),
                page_of(windows.froms.clone())
            )?;
            return Ok((count_of(&count) + split_rows.len() as u64, rows, split_rows));
        };
        let count_then_page = async {
            let all = self.client.rows(&all).await?;
            // The windows that hold fewer rows than a page cannot hold one: skipped.
            let row = all.first();
            let skipped = (0..counted_windows.len())
                .take_while(|i| row.map_or(0, |r| r.i64_of(&format!("w{i}"))) <= q.limit() as i64)
                .count();
            let rows = page_of(windows.froms[skipped..].to_vec()).await?;
            Ok::<_, StoreError>((count_of(&all), rows))
        };
        // Independent reads: asked at once.
        let ((all, rows), (tagged_rows, split_rows)) = tokio::try_join!(
            count_then_page,
            self.one_tag_split(range, &copies, split_sql)
        )?;
        let whole_count = all.saturating_sub(tagged_rows);
        Ok((whole_count + split_rows.len() as u64, rows, split_rows))
    }

    /// `by_tags`' split traces for one tag (`TagRange::one_tag_counts`' read of their
    /// per-trace rows): how many of the range's index rows are theirs, and their rows in the
    /// list, a repeated trace's folded from its spans' latest versions.
    async fn one_tag_split(
        &self,
        range: &TagRange<'_>,
        copies: &Copies,
        split_sql: Option<String>,
    ) -> StoreResult<(u64, Vec<Value>)> {
        let repeated = match copies {
            Copies::Ids { repeated, .. } => repeated.clone(),
            Copies::Query(_) => Vec::new(),
        };
        let repeated_sql = range.folded(
            &self.trace_table(),
            &self.layout.table("spans"),
            &Copies::Ids {
                split: repeated.clone(),
                repeated,
            },
        );
        let split = async {
            match &split_sql {
                Some(sql) => self.client.rows(sql).await,
                None => Ok(Vec::new()),
            }
        };
        let (split, mut split_rows) =
            tokio::try_join!(split, self.split_rows(repeated_sql.as_ref()))?;
        let tagged_rows: i64 = split.iter().map(|r| r.i64_of("tagged_rows")).sum();
        split_rows.extend(split.into_iter().filter(|r| {
            r.i64_of("tagged") == 1
                && range.holds(r.i64_of("start"))
                && !copies.is_repeated(&r.str_of("trace_id"))
        }));
        Ok((tagged_rows.max(0) as u64, split_rows))
    }

    /// The newest page (`page_sql`'s rows) of the whole traces `whole` gives for a window of
    /// starts up to `to_ns`: from each of `froms` in turn (`NewestWindows`) until one holds
    /// a page, then the whole range. A window that holds `limit + 1` rows holds the page:
    /// every row outside starts before every row in it. Each read is of about its window's
    /// rows (granules of 256 rows), not of the tag's whole range.
    async fn newest_page(
        &self,
        whole: &impl Fn((Option<i64>, Option<i64>)) -> String,
        q: &TraceQuery,
        range: &TagRange<'_>,
        cursor: &Option<(i64, String)>,
        to_ns: Option<i64>,
        froms: &[i64],
    ) -> StoreResult<Vec<Value>> {
        for from in froms {
            let rows = self
                .client
                .rows(&page_sql(&whole((Some(*from), to_ns)), q, cursor))
                .await?;
            if rows.len() > q.limit() as usize {
                return Ok(rows);
            }
        }
        self.client
            .rows(&page_sql(&whole((range.from_ns, to_ns)), q, cursor))
            .await
    }
}

/// The windows of starts a newest page is read in: up to the cursor's start or the range's
/// end (`to_ns`), from a minute back from then (or from now, if earlier), each `WIDER` times
/// as long, while they start after the range's start.
struct NewestWindows {
    to_ns: Option<i64>,
    froms: Vec<i64>,
}

impl NewestWindows {
    fn new(range: &TagRange<'_>, cursor: &Option<(i64, String)>, now_ms: i64) -> NewestWindows {
        // The page lies at or before the cursor's start.
        let to_ns = match cursor {
            Some((key, _)) => {
                let after_key = key.saturating_add(1);
                Some(range.to_ns.map_or(after_key, |to| to.min(after_key)))
            }
            None => range.to_ns,
        };
        let now_ns = now_ms.saturating_mul(1_000_000);
        let anchor = to_ns.map_or(now_ns, |to| to.min(now_ns));
        let mut froms = Vec::new();
        let mut width = FIRST_WINDOW_NS;
        for _ in 0..WINDOWS {
            let from = anchor.saturating_sub(width);
            if range.from_ns.is_some_and(|f| f >= from) {
                break;
            }
            froms.push(from);
            width = width.saturating_mul(WIDER);
        }
        NewestWindows { to_ns, froms }
    }
}

/// The count (`n`) of a count query's answer.
fn count_of(rows: &[Value]) -> u64 {
    rows.first().map_or(0, |r| r.i64_of("n")).max(0) as u64
}

/// Whether a row (sort key, trace id) comes after the cursor in the list's order.
fn after(row: &(i64, String), cursor: &Option<(i64, String)>, descending: bool) -> bool {
    match cursor {
        None => true,
        Some((key, id)) => {
            let row = (row.0, row.1.as_str());
            if descending {
                row < (*key, id.as_str())
            } else {
                row > (*key, id.as_str())
            }
        }
    }
}

/// The range of starts (ns, either bound optional) of a list that selects traces by tags and
/// time alone, ordered by start: what the tags' index (`tag_starts`) answers by itself.
fn tag_starts_range(q: &TraceQuery, now_ms: i64) -> Option<(Option<i64>, Option<i64>)> {
    let by_tags_and_time = TraceQuery {
        tags: q.tags.clone(),
        from_ms: q.from_ms,
        to_ms: q.to_ms,
        range: q.range,
        sort: q.sort,
        cursor: q.cursor.clone(),
        limit: q.limit,
        ..TraceQuery::default()
    };
    let by_start = matches!(q.sort, TraceSort::StartDesc | TraceSort::StartAsc);
    (!q.tags.is_empty() && by_start && *q == by_tags_and_time).then(|| {
        (
            q.start_from_ms(now_ms)
                .map(|ms| ms.saturating_mul(1_000_000)),
            q.to_ms.map(|ms| ms.saturating_mul(1_000_000)),
        )
    })
}

/// The index column a sort orders by, and whether descending.
fn sort_column(sort: TraceSort) -> (&'static str, bool) {
    match sort {
        TraceSort::StartDesc => ("start", true),
        TraceSort::StartAsc => ("start", false),
        TraceSort::DurationDesc => ("duration", true),
        TraceSort::DurationAsc => ("duration", false),
    }
}

/// A page (`limit + 1` rows of trace id, start and duration) of an index in `q`'s order after
/// the cursor (`parse_cursor`'s).
fn page_sql(index: &str, q: &TraceQuery, cursor: &Option<(i64, String)>) -> String {
    let (column, descending) = sort_column(q.sort);
    let mut sql = format!("SELECT trace_id, start, duration FROM ({index})");
    if let Some((key, id)) = cursor {
        let op = if descending { "<" } else { ">" };
        sql.push_str(&format!(
            " WHERE ({column}, trace_id) {op} ({key}, {})",
            quote(id)
        ));
    }
    let dir = if descending { "DESC" } else { "ASC" };
    sql.push_str(&format!(
        " ORDER BY {column} {dir}, trace_id {dir} LIMIT {}",
        q.limit() + 1
    ));
    sql
}

/// Cursor: `<sort key>.<trace id>` of the last row of the previous page.
fn parse_cursor(cursor: &str) -> StoreResult<(i64, String)> {
    cursor
        .split_once('.')
        .and_then(|(k, id)| Some((k.parse().ok()?, id.to_string())))
        .ok_or_else(|| StoreError::Invalid(format!("cursor {cursor:?} is not one this API gave")))
}
