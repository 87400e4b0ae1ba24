//! Session lists: filters, sorts and cursors that page without gaps.

use std::collections::BTreeSet;

use crate::common::{get_json, Collector};
use crate::{get_status, ids, now_ms, post_spans, span};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_lists_filter_sort_and_page_without_gaps() {
    let collector = Collector::start();
    let p = "paging";
    let t0 = now_ms() - 86_400_000;
    let mut spans = Vec::new();
    let mut trace = 0u64;
    // 23 sessions: session i has (i % 4) + 1 requests, a minute apart, cost i/100 each.
    for i in 0..23u64 {
        for r in 0..(i % 4) + 1 {
            trace += 1;
            spans.push(span(
                0x1000 + trace,
                0x1000 + trace,
                None,
                "svc",
                "req",
                2,
                t0 + (i as i64) * 600_000 + (r as i64) * 60_000,
                100 + i as i64,
                &[
                    ("session.id", json!(format!("s{i:02}"))),
                    ("user.id", json!(format!("u{}", i % 5))),
                    ("llm.cost.total", json!(i as f64 / 100.0 + 0.001)),
                    ("env", json!(if i % 2 == 0 { "even" } else { "odd" })),
                ],
                false,
            ));
        }
    }
    post_spans(&collector, p, spans).await;

    async fn all_pages(collector: &Collector, query: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..50 {
            let mut url =
                collector.url(&format!("/api/v1/sessions?project=paging&limit=5&{query}"));
            if let Some(c) = &cursor {
                url.push_str(&format!(
                    "&cursor={}",
                    skein_model::query::percent_encode(c)
                ));
            }
            let page = get_json(&url).await;
            assert_eq!(page["total"], 23, "{query}: the total is of the whole list");
            out.extend(page["sessions"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
        panic!("too many pages");
    }

    for (sort, key) in [
        ("", "last_start_ns"),
        ("sort=requests_desc", "request_count"),
        ("sort=cost_desc", "cost"),
        ("sort=first_asc", "first_start_ns"),
        ("sort=duration_desc", "total_duration_ns"),
    ] {
        let rows = all_pages(&collector, sort).await;
        let ids: Vec<&str> = rows
            .iter()
            .map(|r| r["session_id"].as_str().unwrap())
            .collect();
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), 23, "{sort}: every session once: {ids:?}");
        let keys: Vec<f64> = rows.iter().map(|r| r[key].as_f64().unwrap()).collect();
        let ascending = sort == "sort=first_asc";
        for pair in keys.windows(2) {
            assert!(
                if ascending {
                    pair[0] <= pair[1]
                } else {
                    pair[0] >= pair[1]
                },
                "{sort}: {keys:?}"
            );
        }
    }

    // Filters: tags and time select requests.
    let even =
        get_json(&collector.url(&format!("/api/v1/sessions?project={p}&tag=env%3Deven"))).await;
    assert_eq!(even["total"], 12);
    let from = t0 + 10 * 600_000;
    let to = t0 + 12 * 600_000;
    let window =
        get_json(&collector.url(&format!("/api/v1/sessions?project={p}&from={from}&to={to}")))
            .await;
    assert_eq!(ids(&window["sessions"], "session_id"), ["s11", "s10"]);
    let users =
        get_json(&collector.url(&format!("/api/v1/users?project={p}&sort=sessions_desc"))).await;
    assert_eq!(users["total"], 5);
    assert!(users["users"][0]["session_count"].as_u64().unwrap() >= 4);

    // Bad input is a 400 naming the problem.
    for (query, word) in [
        ("sort=sideways", "sort"),
        ("cursor=garbage", "cursor"),
        ("from=yesterday", "from"),
        ("tag=novalue", "key=value"),
        ("sort=cost_desc&cursor=i5~x", "sort order"),
    ] {
        let (status, body) =
            get_status(&collector.url(&format!("/api/v1/sessions?project={p}&{query}"))).await;
        assert_eq!(status, 400, "{query}");
        assert!(
            body["error"].as_str().unwrap().contains(word),
            "{query}: {body}"
        );
    }
}
