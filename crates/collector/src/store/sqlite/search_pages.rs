//! The span and trace lists under `search("...")` against what a scan of the spans selects:
//! with the texts queued and indexed, with spans holding every trigram of the word but not the
//! word (the index's false candidates), page after page, in each sort order; and the count's
//! cap.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use skein_model::filter::{self, Expr};
use skein_model::span::{Span, SpanType};
use skein_model::span_list::{SpanQuery, SpanSort, SPAN_COUNT_CAP};
use skein_model::TraceQuery;

use super::{SqliteOptions, SqliteStore};
use crate::store::Store;

const TRACES: usize = 40;
const SPANS_A_TRACE: usize = 8;

/// Span `k` of trace `t`: every fourth says "Kyoto" in its input, the next one holds only its
/// trigrams ("kyo, yoto"), the next "KYOTO" in its name; traces `t % 5 == 0` only the
/// look-alike. Durations and start times vary so that both sorts shuffle them.
fn spans() -> Vec<Span> {
    let base = 1_795_000_000_000_000_000i64;
    let mut out = Vec::new();
    for t in 0..TRACES {
        for k in 0..SPANS_A_TRACE {
            let n = (t * SPANS_A_TRACE + k) as i64;
            let start = base + ((n * 7_919) % 997) * 1_000_000;
            let mut span = Span {
                project: "p".into(),
                trace_id: format!("{:032x}", t + 1),
                span_id: format!("{:016x}", k + 1),
                parent_span_id: (k > 0).then(|| format!("{:016x}", 1)),
                name: format!("step {k}"),
                service: "svc".into(),
                span_type: if k % 2 == 0 {
                    SpanType::Llm
                } else {
                    SpanType::Tool
                },
                start_ns: start,
                end_ns: start + ((n * 104_729) % 1_009) * 1_000_000,
                ..Span::default()
            };
            let matching = t % 5 != 0;
            match k % 4 {
                0 if matching => span.input = Some(format!("A trip to Kyoto, day {n}")),
                2 if matching => span.name = format!("KYOTO step {k}"),
                0..=2 => span.input = Some("kyo, yoto and oto".into()),
                _ => {}
            }
            out.push(span);
        }
    }
    out
}

fn parse(text: &str) -> Expr {
    filter::parse(text).unwrap().expect("a filter")
}

/// Every span of the list, page after page (`limit` a page), as "trace/span"; checks each
/// page's order, the total and the cursor.
async fn span_list(store: &Arc<dyn Store>, text: &str, sort: SpanSort) -> Vec<(String, i64)> {
    let mut q = SpanQuery {
        filter: Some(parse(text)),
        sort,
        limit: 7,
        ..SpanQuery::default()
    };
    let mut seen = Vec::new();
    let mut total = None;
    loop {
        let page = store.list_spans("p", &q).await.unwrap();
        assert!(page.total_exact, "{text}");
        assert_eq!(*total.get_or_insert(page.total), page.total, "{text}");
        assert!(page.spans.len() <= 7);
        for row in &page.spans {
            let key = match sort {
                SpanSort::DurationDesc => row.duration_ns,
                _ => row.start_ns,
            };
            seen.push((format!("{}/{}", row.trace_id, row.span_id), key));
        }
        match page.next_cursor {
            Some(cursor) => q.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(total, Some(seen.len() as u64), "{text}");
    seen
}

async fn check_lists(store: &Arc<dyn Store>, all: &[Span]) {
    for text in [
        r#"search("kyoto")"#,
        r#"search("Kyoto, day")"#,
        r#"and(search("kyoto"), eq(run_type, "llm"))"#,
        r#"and(search("yoto"), and(search("kyo"), eq(run_type, "llm")))"#,
        r#"search("kyo")"#,
        r#"or(search("kyoto"), eq(name, "step 3"))"#,
        r#"not(search("kyoto"))"#,
        r#"search("osaka")"#,
    ] {
        let expr = parse(text);
        let want: BTreeSet<String> = all
            .iter()
            .filter(|s| filter::matches(&expr, s))
            .map(|s| format!("{}/{}", s.trace_id, s.span_id))
            .collect();
        for sort in [SpanSort::StartDesc, SpanSort::DurationDesc] {
            let listed = span_list(store, text, sort).await;
            assert!(
                listed.windows(2).all(|w| w[0].1 >= w[1].1),
                "{text} {sort:?}: out of order"
            );
            let names: BTreeSet<String> = listed.iter().map(|(n, _)| n.clone()).collect();
            assert_eq!(names.len(), listed.len(), "{text} {sort:?}: listed twice");
            assert_eq!(names, want, "{text} {sort:?}");
        }

        let want: BTreeSet<String> = all
            .iter()
            .filter(|s| filter::matches(&expr, s))
            .map(|s| s.trace_id.clone())
            .collect();
        let mut q = TraceQuery {
            filter: Some(text.to_string()),
            limit: Some(5),
            ..TraceQuery::default()
        };
        let mut listed = BTreeSet::new();
        loop {
            let page = store.list_traces("p", &q).await.unwrap();
            assert_eq!(page.total as usize, want.len(), "{text}");
            listed.extend(page.traces.iter().map(|t| t.trace_id.clone()));
            match page.next_cursor {
                Some(cursor) => q.cursor = Some(cursor),
                None => break,
            }
        }
        assert_eq!(listed, want, "{text}");
    }
}

fn count(path: &std::path::Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

const QUEUED: &str = super::span_text::WAITING_COUNT;

/// A store holding `spans`, every text indexed (the writer does so once idle).
async fn indexed(spans: Vec<Span>) -> (tempfile::TempDir, std::path::PathBuf, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("skein.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(SqliteOptions::new(&path)).unwrap());
    store.write_spans(spans).await.unwrap();
    for _ in 0..400 {
        if count(&path, QUEUED) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        count(&path, QUEUED),
        0,
        "the writer indexes the queue when idle"
    );
    (dir, path, store)
}

#[tokio::test]
async fn search_lists_page_like_a_scan_with_texts_queued_and_indexed() {
    let all = spans();
    let (_dir, path, store) = indexed(all.clone()).await;
    check_lists(&store, &all).await;

    // Every other block of the older spans stale (its postings still there: a search takes
    // them as waiting), and the newer spans past the mark, as after a burst: the index, the
    // stale blocks and the spans past the mark each hold some of the matches.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "INSERT INTO span_text_stale SELECT DISTINCT span >> 4 FROM span_texts
                 WHERE (span >> 4) % 2 = 0;
             UPDATE span_text_mark SET mark = (SELECT span FROM span_texts ORDER BY span
                 LIMIT 1 OFFSET 200);",
        )
        .unwrap();
    let queued = count(&path, QUEUED);
    assert!(queued > (TRACES * SPANS_A_TRACE / 2) as i64, "{queued}");
    assert!(queued < (TRACES * SPANS_A_TRACE) as i64, "{queued}");
    check_lists(&store, &all).await;
}

#[tokio::test]
async fn the_span_count_stops_past_its_cap() {
    let base = 1_795_000_000_000_000_000i64;
    let spans: Vec<Span> = (0..SPAN_COUNT_CAP as i64 + 20)
        .map(|i| Span {
            project: "p".into(),
            trace_id: format!("{:032x}", i / 100 + 1),
            span_id: format!("{:016x}", i + 1),
            name: if i % 2 == 0 { "kyoto" } else { "oto kyo yot" }.into(),
            start_ns: base + i,
            end_ns: base + i + 1,
            ..Span::default()
        })
        .collect();
    let (_dir, _, store) = indexed(spans).await;
    let q = SpanQuery {
        filter: Some(parse(r#"search("kyoto")"#)),
        ..SpanQuery::default()
    };
    let page = store.list_spans("p", &q).await.unwrap();
    // 5,010 match: all counted.
    assert_eq!((page.total, page.total_exact), (5_010, true));
    assert_eq!(page.spans[0].start_ns, base + SPAN_COUNT_CAP as i64 + 18);
    let q = SpanQuery {
        filter: Some(parse(r#"search("kyo")"#)),
        ..SpanQuery::default()
    };
    let page = store.list_spans("p", &q).await.unwrap();
    assert_eq!((page.total, page.total_exact), (SPAN_COUNT_CAP, false));
    assert_eq!(page.spans[0].start_ns, base + SPAN_COUNT_CAP as i64 + 19);
}

#[tokio::test]
async fn the_trace_count_of_a_common_word_stops_past_its_cap() {
    let (few, cap) = (
        super::list::FEW_CANDIDATES as i64,
        super::list::COMMON_SEARCH_COUNT_CAP,
    );
    let base = 1_795_000_000_000_000_000i64;
    // A trace a span: every other one says "kyoto N", the rest hold its trigrams only: more
    // candidates than narrow the traces, more matches than are counted.
    let n = few.max(2 * cap) + 40;
    let name = |i: i64| {
        if i % 2 == 0 {
            format!("kyoto {i}")
        } else {
            "oto kyo yot".to_string()
        }
    };
    let spans: Vec<Span> = (0..n)
        .map(|i| Span {
            project: "p".into(),
            trace_id: format!("{:032x}", i + 1),
            span_id: format!("{:016x}", i + 1),
            name: name(i),
            start_ns: base + i,
            end_ns: base + i + 1,
            ..Span::default()
        })
        .collect();
    let (_dir, _, store) = indexed(spans).await;
    // A page of `limit` after `cursor`: its traces' starts, total, whether approximate, cursor.
    let list = |text: &str, limit: u32, cursor: Option<String>| {
        let q = TraceQuery {
            filter: Some(text.to_string()),
            limit: Some(limit),
            cursor,
            ..TraceQuery::default()
        };
        let store = store.clone();
        async move {
            let page = store.list_traces("p", &q).await.unwrap();
            let starts: Vec<i64> = page.traces.iter().map(|t| t.start_ns - base).collect();
            (starts, page.total, page.total_approximate, page.next_cursor)
        }
    };
    let (starts, total, approximate, cursor) = list(r#"search("kyoto")"#, 3, None).await;
    assert_eq!((total, approximate), (cap as u64, true));
    assert_eq!(starts, vec![n - 2, n - 4, n - 6]);
    let (starts, ..) = list(r#"search("kyoto")"#, 3, cursor).await;
    assert_eq!(starts, vec![n - 8, n - 10, n - 12]);
    let (starts, total, approximate, _) = list(r#"search("kyo")"#, 3, None).await;
    assert_eq!((total, approximate), (cap as u64, true));
    assert_eq!(starts, vec![n - 1, n - 2, n - 3]);
    // A rarer text: its few candidates' traces, all counted.
    let want: Vec<i64> = (0..n)
        .rev()
        .filter(|i| name(*i).contains("kyoto 10"))
        .collect();
    let (starts, total, approximate, _) = list(r#"search("kyoto 10")"#, 100, None).await;
    assert_eq!((total, approximate), (want.len() as u64, false));
    assert_eq!(starts, want);
}
