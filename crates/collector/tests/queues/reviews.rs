//! Reviewers claim different items under leases; ratings become feedback seen by /metrics.

use std::time::Duration;

use crate::common::{call, Collector};
use crate::{correctness, new_queue, post_traces, root_id, trace_id};
use serde_json::{json, Value};

#[tokio::test]
async fn reviewers_get_different_items_and_their_ratings_are_feedback_on_the_traces() {
    let collector = Collector::start();
    let p = "review";
    post_traces(&collector, p, &[1, 2], "checkout").await;
    post_traces(&collector, p, &[3, 4, 5], "support").await;
    let configs = collector.url(&format!("/api/v1/score-configs?project={p}"));
    assert_eq!(
        call("POST", &configs, Some(&correctness()), None).await.0,
        201
    );
    let id = new_queue(&collector, p).await;
    let url = |path: &str| collector.url(&format!("/api/v1/queues/{id}{path}?project={p}"));

    // Two traces by id, then every "support" trace by a trace-list query (one of them twice).
    let (status, added) = call(
        "POST",
        &url("/items"),
        Some(&json!({"trace_ids": [trace_id(1), trace_id(3).to_uppercase()]})),
        None,
    )
    .await;
    assert_eq!(
        (status, &added),
        (200, &json!({"added": 2, "already_queued": 0}))
    );
    let (status, added) = call(
        "POST",
        &url("/items"),
        Some(&json!({"query": "name=support&sort=start_asc"})),
        None,
    )
    .await;
    assert_eq!(
        (status, &added),
        (200, &json!({"added": 2, "already_queued": 1}))
    );
    let (_, items) = call("GET", &url("/items"), None, None).await;
    let queued: Vec<&str> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["trace_id"].as_str().unwrap())
        .collect();
    assert_eq!(queued, [trace_id(1), trace_id(3), trace_id(4), trace_id(5)]);

    // Ann and Bob never hold the same item; asking again gives Ann hers.
    let next = |who: &'static str| {
        let url = url("/next");
        async move {
            let (status, claimed) = call("POST", &url, Some(&json!({"reviewer": who})), None).await;
            assert_eq!(status, 200, "{claimed}");
            claimed
        }
    };
    let ann = next("ann").await;
    let bob = next("bob").await;
    let ann_item = ann["item"]["id"].as_str().unwrap().to_string();
    let bob_item = bob["item"]["id"].as_str().unwrap().to_string();
    assert_ne!(ann_item, bob_item);
    assert_eq!(ann["item"]["status"], "in_progress");
    assert_eq!(ann["item"]["leases"][0]["holder"], "ann");
    assert_eq!(next("ann").await["item"]["id"], json!(ann_item));
    assert_eq!(bob["counts"]["in_progress"], 2);

    // Bob cannot complete Ann's item; a score the config refuses stores nothing.
    let complete = |item: &str| url(&format!("/items/{item}/complete"));
    let rating = |who: &str, label: &str| json!({"reviewer": who, "scores": [{"key": "correctness", "value": label, "comment": "checked"}]});
    let (status, refused) = call(
        "POST",
        &complete(&ann_item),
        Some(&rating("bob", "correct")),
        None,
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("held by ann"));
    let (status, refused) = call(
        "POST",
        &complete(&ann_item),
        Some(&rating("ann", "great")),
        None,
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("correctness"));

    // Completed: the rating is feedback on the trace's root, seen by the trace list.
    let (status, done) = call(
        "POST",
        &complete(&ann_item),
        Some(&rating("ann", "correct")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["item"]["status"], "done");
    assert_eq!(done["item"]["completed_by"], json!(["ann"]));
    let (status, done) = call(
        "POST",
        &complete(&bob_item),
        Some(&rating("bob", "wrong")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{done}");
    for (item, score) in [(&ann_item, 1.0), (&bob_item, 0.0)] {
        let (_, feedback) = call(
            "GET",
            &collector.url(&format!("/api/v1/feedback?trace_id={item}&project={p}")),
            None,
            None,
        )
        .await;
        let records = feedback["feedback"].as_array().unwrap();
        assert_eq!(records.len(), 1, "{feedback}");
        assert_eq!(records[0]["key"], "correctness");
        assert_eq!(records[0]["score"], score);
        assert_eq!(records[0]["source"], "queue");
        assert_eq!(records[0]["comment"], "checked");
        assert_eq!(records[0]["queue_id"], json!(id));
        let n: u64 = u64::from_str_radix(item, 16).unwrap();
        assert_eq!(records[0]["run_id"], json!(root_id(n)));
    }
    let (_, list) = call(
        "GET",
        &collector.url(&format!("/api/v1/traces?project={p}&limit=10")),
        None,
        None,
    )
    .await;
    let rated: Vec<(&str, f64)> = list["traces"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| {
            let stat = t["feedback"].as_array()?.first()?;
            Some((t["trace_id"].as_str()?, stat["mean"].as_f64()?))
        })
        .collect();
    assert_eq!(rated.len(), 2, "{list}");

    // Ann skips the next one, Bob releases his: counts say so, and done items are not redone.
    let third = next("ann").await["item"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, skipped) = call(
        "POST",
        &url(&format!("/items/{third}/skip")),
        Some(&json!({"reviewer": "ann"})),
        None,
    )
    .await;
    assert_eq!((status, &skipped["status"]), (200, &json!("skipped")));
    let fourth = next("bob").await["item"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = call(
        "POST",
        &url(&format!("/items/{fourth}/release")),
        Some(&json!({"reviewer": "bob"})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, queue) = call("GET", &url(""), None, None).await;
    assert_eq!(
        queue["counts"],
        json!({"total": 4, "pending": 1, "in_progress": 0, "done": 2, "skipped": 1})
    );
    let (status, again) = call(
        "POST",
        &complete(&ann_item),
        Some(&rating("ann", "wrong")),
        None,
    )
    .await;
    assert_eq!(status, 409, "{again}");
    assert!(again["error"].as_str().unwrap().contains("done already"));
    let (status, _) = call("DELETE", &url(""), None, None).await;
    assert_eq!(status, 204);
    assert_eq!(call("GET", &url(""), None, None).await.0, 404);
}

#[tokio::test]
async fn an_item_whose_lease_ran_out_goes_to_the_next_reviewer() {
    let collector = Collector::start();
    let p = "leases";
    post_traces(&collector, p, &[7], "chat").await;
    let id = new_queue(&collector, p).await;
    let url = |path: &str| collector.url(&format!("/api/v1/queues/{id}{path}?project={p}"));
    call(
        "POST",
        &url("/items"),
        Some(&json!({"trace_ids": [trace_id(7)]})),
        None,
    )
    .await;
    let claim = |who: &str| json!({"reviewer": who, "lease_secs": 1});

    let (_, ann) = call("POST", &url("/next"), Some(&claim("ann")), None).await;
    assert_eq!(ann["item"]["trace_id"], json!(trace_id(7)));
    let (_, bob) = call("POST", &url("/next"), Some(&claim("bob")), None).await;
    assert_eq!(bob["item"], Value::Null, "the one item is Ann's: {bob}");
    assert_eq!(bob["counts"]["in_progress"], 1);

    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let (_, queue) = call("GET", &url(""), None, None).await;
    assert_eq!(queue["counts"]["pending"], 1, "{queue}");
    let (_, bob) = call("POST", &url("/next"), Some(&claim("bob")), None).await;
    assert_eq!(bob["item"]["trace_id"], json!(trace_id(7)));
    assert_eq!(bob["item"]["leases"][0]["holder"], "bob");
    let rating = json!({"reviewer": "ann", "scores": [{"key": "correctness", "score": 1}]});
    let item = trace_id(7);
    let (status, refused) = call(
        "POST",
        &url(&format!("/items/{item}/complete")),
        Some(&rating),
        None,
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("held by bob"));
}

#[tokio::test]
async fn items_needing_two_reviews_are_rated_by_two_reviewers_and_metrics_see_them() {
    let collector = Collector::start();
    let p = "pairs";
    post_traces(&collector, p, &[1, 2], "chat").await;
    let queues = collector.url(&format!("/api/v1/queues?project={p}"));
    let (status, queue) = call(
        "POST",
        &queues,
        Some(&json!({"name": "twice", "score_keys": ["correctness"],
                     "reviews_per_item": 2, "query": "sort=start_asc"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{queue}");
    assert_eq!(queue["reviews_per_item"], 2);
    assert_eq!(queue["counts"]["total"], 2);
    let id = queue["id"].as_str().unwrap().to_string();
    let url = |path: &str| collector.url(&format!("/api/v1/queues/{id}{path}?project={p}"));
    let next = |who: &'static str| {
        let url = url("/next");
        async move {
            let (status, claimed) = call("POST", &url, Some(&json!({"reviewer": who})), None).await;
            assert_eq!(status, 200, "{claimed}");
            claimed["item"]["id"].as_str().map(str::to_string)
        }
    };
    let rate = |who: &'static str, item: String, score: f64| {
        let url = url(&format!("/items/{item}/complete"));
        async move {
            let body = json!({"reviewer": who, "scores": [{"key": "correctness", "score": score}]});
            call("POST", &url, Some(&body), None).await
        }
    };
    // Ann and Bob share the first item, Carl and Dan the second.
    let first = next("ann").await.unwrap();
    assert_eq!(next("bob").await.unwrap(), first);
    let second = next("carl").await.unwrap();
    assert_ne!(first, second);
    assert_eq!(next("dan").await, Some(second.clone()));
    assert_eq!(
        next("eve").await,
        None,
        "both items have as many holders as they need"
    );
    assert_eq!(rate("ann", first.clone(), 1.0).await.0, 200);
    // Ann never gets the first again, and the second is Carl's and Dan's.
    assert_eq!(next("ann").await, None);
    let (status, refused) = rate("ann", first.clone(), 0.0).await;
    assert_eq!(status, 409, "{refused}");
    let (status, done) = rate("bob", first.clone(), 0.0).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["item"]["status"], "done");
    assert_eq!(done["item"]["completed_by"], json!(["ann", "bob"]));
    let (_, queue) = call("GET", &url(""), None, None).await;
    assert_eq!(queue["counts"]["done"], 1, "{queue}");

    // Both ratings are feedback of the queue, each naming its reviewer, and /metrics
    // averages them at once.
    let (_, of_queue) = call(
        "GET",
        &collector.url(&format!("/api/v1/feedback?queue_id={id}&project={p}")),
        None,
        None,
    )
    .await;
    let mut reviewers: Vec<&str> = of_queue["feedback"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reviewer"].as_str().unwrap())
        .collect();
    reviewers.sort();
    assert_eq!(reviewers, ["ann", "bob"], "{of_queue}");
    let (status, metrics) = call(
        "GET",
        &collector.url(&format!(
            "/api/v1/metrics?metric=feedback:correctness&project={p}"
        )),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{metrics}");
    assert_eq!(metrics["groups"][0]["n"], 1, "one rated trace: {metrics}");
    assert_eq!(metrics["groups"][0]["mean"], 0.5, "{metrics}");
}
