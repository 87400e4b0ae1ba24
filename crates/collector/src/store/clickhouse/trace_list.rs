//! The trace list: a query's total and page from a trace index (`traces`, or `tag_starts` for a
//! list by tags and time alone), then the page's summaries. When the split traces are few
//! (listed by id), their folded rows are read once and joined to the whole traces' count and
//! page here: the total and the page would each fold them from their spans again, which was
//! most of a list's cost at 10M spans (the 100k-span trace, sent in ten requests, among them).

use skein_model::{TracePage, TraceQuery, TraceSort};

use super::client::{quote, RowExt};
use super::tag_starts;
use super::ClickhouseStore;
use crate::store::{StoreError, StoreResult};

impl ClickhouseStore {
    pub(super) async fn list(
        &self,
        project: &str,
        q: &TraceQuery,
        now_ms: i64,
    ) -> StoreResult<TracePage> {
        let (column, descending) = sort_column(q.sort);
        let limit = q.limit() as usize;
        // Traces with tags, newest or oldest first, within a time range at most: a range of
        // the tags' index (`tag_starts`); any other list, the per-trace rows.
        let index = match tag_starts_range(q, now_ms) {
            Some(range) => {
                let tags: Vec<(String, String)> = q
                    .tags
                    .iter()
                    .map(|t| (t.key.clone(), t.value.clone()))
                    .collect();
                let copies = self.copies(project, "1 = 1").await?;
                tag_starts::with_tags(
                    &self.layout.table(tag_starts::TAG_STARTS.name),
                    &self.trace_table(),
                    &self.layout.table("spans"),
                    project,
                    &tags,
                    range,
                    &copies,
                )
            }
            None => {
                self.trace_index_parts(project, q, now_ms, "1 = 1", &[])
                    .await?
            }
        };
        // The split traces' rows apart when they are few; otherwise within each read.
        let (counted, paged, split) = match (&index.folded, index.listed) {
            (Some(folded), true) => (index.whole.clone(), index.whole.clone(), Some(folded)),
            _ => (index.union(), index.union(), None),
        };
        let cursor = q.cursor.as_deref().map(parse_cursor).transpose()?;
        let count_sql = format!("SELECT count() AS n FROM ({counted})");
        let count = self.client.rows(&count_sql);
        let page = async { self.client.rows(&page_sql(&paged, q, &cursor)).await };
        let split_rows = async {
            match split {
                Some(folded) => {
                    self.client
                        .rows(&format!("SELECT trace_id, start, duration FROM ({folded})"))
                        .await
                }
                None => Ok(Vec::new()),
            }
        };
        // Independent reads: asked at once.
        let (counted, rows, split_rows) = tokio::try_join!(count, page, split_rows)?;
        let total =
            counted.first().map_or(0, |r| r.i64_of("n")).max(0) as u64 + split_rows.len() as u64;
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
