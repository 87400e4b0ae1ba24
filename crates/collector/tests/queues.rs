//! Annotation queues (`/api/v1/queues`) against the real `skein` binary: queues made from
//! trace ids and from a trace-list query, reviewers claiming items under leases (never the
//! same item at once; an item whose lease ran out goes back), completions stored as feedback
//! on the traces through the score-config checks (naming the queue and the reviewer, seen by
//! /metrics at once), items needing several reviewers, queues sampled from a query (balanced
//! across a tag), bad input refused with 400 {"error"}, a key reading and writing its own
//! project's queues only, and a key's label as its reviewer whatever the body claims.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{call, client, send_spans, skein_cli, Collector};
use serde_json::{json, Value};

fn trace_id(n: u64) -> String {
    format!("{n:032x}")
}

fn root_id(n: u64) -> String {
    format!("{:016x}", n * 16 + 1)
}

/// Traces `ns` of `project`: each a root span named `name` with one child.
async fn post_traces(collector: &Collector, project: &str, ns: &[u64], name: &str) {
    post_tagged(collector, project, ns, name, &[]).await;
}

/// Traces as `post_traces` sends them, their roots tagged with `tags`.
async fn post_tagged(
    collector: &Collector,
    project: &str,
    ns: &[u64],
    name: &str,
    tags: &[(&str, &str)],
) {
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
        - 60_000_000_000;
    let mut spans = Vec::new();
    for &n in ns {
        let at = start + n as i64 * 1_000_000;
        spans.push(json!({
            "traceId": trace_id(n), "spanId": root_id(n), "name": name,
            "startTimeUnixNano": at.to_string(), "endTimeUnixNano": (at + 5_000_000).to_string(),
            "attributes": std::iter::once(("input.value", format!("question {n}")))
                .chain(tags.iter().map(|(k, v)| (*k, v.to_string())))
                .map(|(k, v)| json!({"key": k, "value": {"stringValue": v}}))
                .collect::<Vec<_>>(),
        }));
        spans.push(json!({
            "traceId": trace_id(n), "spanId": format!("{:016x}", n * 16 + 2),
            "parentSpanId": root_id(n), "name": "llm",
            "startTimeUnixNano": (at + 1_000_000).to_string(),
            "endTimeUnixNano": (at + 4_000_000).to_string(),
        }));
    }
    send_spans(collector, project, "agent", spans).await;
}

fn correctness() -> Value {
    json!({"key": "correctness", "type": "categorical",
           "categories": [{"label": "correct", "score": 1}, {"label": "wrong", "score": 0}]})
}

/// Creates a queue collecting `correctness` in project `p`; its id.
async fn new_queue(collector: &Collector, p: &str) -> String {
    let url = collector.url(&format!("/api/v1/queues?project={p}"));
    let (status, queue) = call(
        "POST",
        &url,
        Some(&json!({"name": "weekly review", "score_keys": ["correctness"]})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{queue}");
    queue["id"].as_str().expect("an id").to_string()
}

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
async fn bad_input_is_refused_with_400_naming_the_problem() {
    let collector = Collector::start();
    let p = "bad";
    post_traces(&collector, p, &[9], "chat").await;
    let queues = collector.url(&format!("/api/v1/queues?project={p}"));
    for (body, says) in [
        (json!({"name": "x", "score_keys": []}), "score_keys"),
        (json!({"name": "", "score_keys": ["a"]}), "name"),
        (json!({"name": "x", "score_keys": ["a", "a"]}), "twice"),
        (json!({"name": "x"}), "score_keys"),
        (
            json!({"name": "x", "score_keys": ["a"], "reviewers": ["\u{1}"]}),
            "reviewer",
        ),
    ] {
        let (status, answer) = call("POST", &queues, Some(&body), None).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let error = answer["error"].as_str().expect("an error");
        assert!(error.contains(says), "{body}: {error}");
    }
    let id = new_queue(&collector, p).await;
    let url = |path: &str| collector.url(&format!("/api/v1/queues/{id}{path}?project={p}"));
    for (path, body, says) in [
        ("/items", json!({"trace_ids": ["not-hex"]}), "32 hex"),
        ("/items", json!({"trace_ids": [trace_id(99)]}), "no trace"),
        ("/items", json!({}), "trace_ids"),
        ("/items", json!({"query": "from=yesterday"}), "from"),
        ("/items", json!({"query": "filter=name =="}), "filter"),
        ("/next", json!({}), "reviewer"),
        (
            "/next",
            json!({"reviewer": "ann", "lease_secs": 0}),
            "lease_secs",
        ),
    ] {
        let (status, answer) = call("POST", &url(path), Some(&body), None).await;
        assert_eq!(status, 400, "{path} {body}: {answer}");
        let error = answer["error"].as_str().expect("an error");
        assert!(error.contains(says), "{path} {body}: {error}");
    }
    call(
        "POST",
        &url("/items"),
        Some(&json!({"trace_ids": [trace_id(9)]})),
        None,
    )
    .await;
    call(
        "POST",
        &url("/next"),
        Some(&json!({"reviewer": "ann"})),
        None,
    )
    .await;
    let complete = url(&format!("/items/{}/complete", trace_id(9)));
    for (body, says) in [
        (json!({"reviewer": "ann", "scores": []}), "correctness"),
        (
            json!({"reviewer": "ann", "scores": [{"key": "other", "score": 1}]}),
            "not \"other\"",
        ),
        (
            json!({"reviewer": "ann", "scores": [{"key": "correctness", "score": 1}, {"key": "correctness", "score": 0}]}),
            "twice",
        ),
        (
            json!({"reviewer": "ann", "scores": [{"key": "correctness", "score": "high"}]}),
            "JSON",
        ),
    ] {
        let (status, answer) = call("POST", &complete, Some(&body), None).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let error = answer["error"].as_str().expect("an error");
        assert!(error.contains(says), "{body}: {error}");
    }
    let (status, answer) = call("GET", &collector.url("/api/v1/queues/nope"), None, None).await;
    assert_eq!(status, 404, "{answer}");
    assert!(answer["error"].is_string());
}

#[tokio::test]
async fn a_key_reads_and_writes_its_own_projects_queues_only() {
    let dir = tempfile::tempdir().unwrap();
    skein_cli(dir.path(), &["project", "create", "team-a"]);
    skein_cli(dir.path(), &["project", "create", "team-b"]);
    let key_a = skein_cli(dir.path(), &["key", "create", "--project", "team-a"]);
    let key_b = skein_cli(dir.path(), &["key", "create", "--project", "team-b"]);
    let collector = Collector::start_in(dir, &[]);
    let queues = collector.url("/api/v1/queues");
    let body = json!({"name": "a's", "score_keys": ["correctness"]});

    assert_eq!(call("POST", &queues, Some(&body), None).await.0, 401);
    let (status, created) = call("POST", &queues, Some(&body), Some(&key_a)).await;
    assert_eq!((status, &created["project"]), (201, &json!("team-a")));
    let id = created["id"].as_str().unwrap();
    let (status, _) = call(
        "GET",
        &format!("{queues}?project=team-a"),
        None,
        Some(&key_b),
    )
    .await;
    assert_eq!(status, 403);
    let (_, seen_by_b) = call("GET", &queues, None, Some(&key_b)).await;
    assert_eq!(seen_by_b["queues"], json!([]));
    for (method, path) in [
        ("GET", format!("{queues}/{id}")),
        ("POST", format!("{queues}/{id}/next")),
        ("DELETE", format!("{queues}/{id}")),
    ] {
        let (status, answer) =
            call(method, &path, Some(&json!({"reviewer": "b"})), Some(&key_b)).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
    }
    let (_, seen_by_a) = call("GET", &queues, None, Some(&key_a)).await;
    assert_eq!(seen_by_a["queues"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_keys_label_is_the_reviewer_whatever_the_body_claims() {
    let dir = tempfile::tempdir().unwrap();
    skein_cli(dir.path(), &["project", "create", "team"]);
    let ann = skein_cli(
        dir.path(),
        &[
            "key",
            "create",
            "--project",
            "team",
            "--label",
            "Ann Reviewer",
        ],
    );
    let unlabelled = skein_cli(dir.path(), &["key", "create", "--project", "team"]);
    let collector = Collector::start_in(dir, &[]);
    let (_, who) = call("GET", &collector.url("/api/v1/reviewer"), None, Some(&ann)).await;
    assert_eq!(who, json!({"name": "Ann Reviewer"}));
    let response = client()
        .post(collector.url("/v1/traces"))
        .header("x-api-key", &ann)
        .json(&json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
            "traceId": trace_id(1), "spanId": root_id(1), "name": "chat",
            "startTimeUnixNano": "1795500443630000000", "endTimeUnixNano": "1795500443640000000"
        }]}]}]}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let queues = collector.url("/api/v1/queues");
    let (status, queue) = call(
        "POST",
        &queues,
        Some(&json!({"name": "keyed", "score_keys": ["correctness"], "query": ""})),
        Some(&ann),
    )
    .await;
    assert_eq!(status, 201, "{queue}");
    assert_eq!(queue["counts"]["total"], 1, "{queue}");
    let id = queue["id"].as_str().unwrap();
    // The body claims to be Bob: the key says Ann.
    let (status, claimed) = call(
        "POST",
        &format!("{queues}/{id}/next"),
        Some(&json!({"reviewer": "bob"})),
        Some(&ann),
    )
    .await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(claimed["item"]["leases"][0]["holder"], "Ann Reviewer");
    // Another key is another reviewer (named by its id without a label): not Ann's item.
    let (_, other) = call(
        "POST",
        &format!("{queues}/{id}/next"),
        Some(&json!({"reviewer": "Ann Reviewer"})),
        Some(&unlabelled),
    )
    .await;
    assert_eq!(other["item"], Value::Null, "{other}");
    let (status, done) = call(
        "POST",
        &format!("{queues}/{id}/items/{}/complete", trace_id(1)),
        Some(&json!({"reviewer": "bob", "scores": [{"key": "correctness", "score": 1}]})),
        Some(&ann),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["feedback"][0]["reviewer"], "Ann Reviewer");
    assert_eq!(done["item"]["completed_by"], json!(["Ann Reviewer"]));
    // A client cannot claim a queue or a reviewer for feedback it posts itself.
    let (status, posted) = call(
        "POST",
        &collector.url("/api/v1/feedback"),
        Some(&json!({"run_id": root_id(1), "key": "k", "score": 1,
                     "queue_id": id, "reviewer": "Carl"})),
        Some(&ann),
    )
    .await;
    assert_eq!(status, 201, "{posted}");
    assert!(posted.get("queue_id").is_none() && posted.get("reviewer").is_none());
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

#[tokio::test]
async fn a_queue_made_from_a_query_takes_a_random_sample_balanced_across_a_tag() {
    let collector = Collector::start();
    let p = "sampled";
    let a: Vec<u64> = (1..=12).collect();
    let b: Vec<u64> = (20..=24).collect();
    post_tagged(&collector, p, &a, "chat", &[("ab_test_variant", "A")]).await;
    post_tagged(&collector, p, &b, "chat", &[("ab_test_variant", "B")]).await;
    post_traces(&collector, p, &[30, 31], "chat").await;
    post_tagged(&collector, p, &[40], "other", &[("ab_test_variant", "B")]).await;
    let queues = collector.url(&format!("/api/v1/queues?project={p}"));
    let create = |body: Value| {
        let queues = queues.clone();
        async move { call("POST", &queues, Some(&body), None).await }
    };
    let variant_of = |trace: &str| {
        let n = u64::from_str_radix(trace, 16).unwrap();
        if a.contains(&n) {
            "A"
        } else if b.contains(&n) {
            "B"
        } else {
            "none"
        }
    };
    let queued = |id: String| {
        let url = collector.url(&format!("/api/v1/queues/{id}/items?project={p}"));
        async move {
            let (_, items) = call("GET", &url, None, None).await;
            items["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["trace_id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };

    // Balanced: as many A as B, at most as many as the rarer B has (5 of "chat").
    let (status, queue) = create(json!({"name": "balanced", "score_keys": ["k"],
        "query": "name=chat", "sample": {"size": 8, "balance_by": "ab_test_variant"}}))
    .await;
    assert_eq!(status, 201, "{queue}");
    let traces = queued(queue["id"].as_str().unwrap().into()).await;
    let count = |v: &str| traces.iter().filter(|t| variant_of(t) == v).count();
    assert_eq!(
        (count("A"), count("B"), count("none")),
        (4, 4, 0),
        "{traces:?}"
    );
    let (_, queue) = create(json!({"name": "all balanced", "score_keys": ["k"],
        "query": "name=chat", "sample": {"balance_by": "ab_test_variant"}}))
    .await;
    let traces = queued(queue["id"].as_str().unwrap().into()).await;
    let count = |v: &str| traces.iter().filter(|t| variant_of(t) == v).count();
    assert_eq!((count("A"), count("B")), (5, 5), "{traces:?}");

    // A plain random sample of 6 of the 19 "chat" traces: two draws differ (almost surely:
    // 1 in 27,132).
    let mut draws = Vec::new();
    for _ in 0..2 {
        let (status, queue) = create(json!({"name": "random", "score_keys": ["k"],
            "query": "name=chat", "sample": {"size": 6}}))
        .await;
        assert_eq!(status, 201, "{queue}");
        assert_eq!(queue["counts"]["total"], 6);
        let mut traces = queued(queue["id"].as_str().unwrap().into()).await;
        traces.sort();
        draws.push(traces);
    }
    assert_ne!(draws[0], draws[1]);

    for (body, says) in [
        (
            json!({"name": "x", "score_keys": ["k"], "sample": {"size": 3}}),
            "query",
        ),
        (
            json!({"name": "x", "score_keys": ["k"], "query": "name=chat",
                "sample": {"balance_by": "nope"}}),
            "nope",
        ),
        (
            json!({"name": "x", "score_keys": ["k"], "reviews_per_item": 0}),
            "reviews_per_item",
        ),
        (
            json!({"name": "x", "score_keys": ["k"], "query": "sort=sideways"}),
            "sort",
        ),
    ] {
        let (status, refused) = create(body.clone()).await;
        assert_eq!(status, 400, "{body}: {refused}");
        let error = refused["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{body}: {error}");
    }
    let (_, listed) = call("GET", &queues, None, None).await;
    assert_eq!(
        listed["queues"].as_array().unwrap().len(),
        4,
        "refusals store nothing"
    );
}

/// A queue made from the spans page's filter holds those spans (not their traces' roots), and
/// spans are added later the same way; a sample of a span query is drawn from its spans.
#[tokio::test]
async fn a_queue_made_from_a_span_filter_holds_those_spans() {
    let collector = Collector::start();
    let p = "spanq";
    post_traces(&collector, p, &[1, 2, 3, 4], "chat").await;
    let queues = collector.url(&format!("/api/v1/queues?project={p}"));
    let span_query = "filter=eq(name%2C%20%22llm%22)";
    let items_of = |id: String| {
        let url = collector.url(&format!("/api/v1/queues/{id}/items?project={p}"));
        async move {
            let (_, items) = call("GET", &url, None, None).await;
            let mut got: Vec<(String, String)> = items["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["trace_id"].as_str().unwrap().to_string(),
                        i["span_id"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect();
            got.sort();
            got
        }
    };
    let llm_span = |n: u64| (trace_id(n), format!("{:016x}", n * 16 + 2));
    // Ingest is acknowledged before the span list sees every span only on a slow machine:
    // wait for the four.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, page) = call(
            "GET",
            &collector.url(&format!("/api/v1/spans?project={p}&{span_query}")),
            None,
            None,
        )
        .await;
        if page["total"] == 4 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{page}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let (status, queue) = call(
        "POST",
        &queues,
        Some(&json!({"name": "llm calls", "score_keys": ["k"], "span_query": span_query})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{queue}");
    assert_eq!(queue["counts"]["total"], 4, "{queue}");
    let id = queue["id"].as_str().unwrap().to_string();
    let want: Vec<_> = (1..=4).map(llm_span).collect();
    assert_eq!(items_of(id.clone()).await, want);

    // Added again later: nothing is new.
    let (status, added) = call(
        "POST",
        &collector.url(&format!("/api/v1/queues/{id}/items?project={p}")),
        Some(&json!({"span_query": span_query, "limit": 2})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{added}");
    assert_eq!(
        (added["added"].as_u64(), added["already_queued"].as_u64()),
        (Some(0), Some(2))
    );

    // A sample of two of the four spans.
    let (status, sampled) = call(
        "POST",
        &queues,
        Some(
            &json!({"name": "two llm calls", "score_keys": ["k"], "span_query": span_query,
            "sample": {"size": 2}}),
        ),
        None,
    )
    .await;
    assert_eq!(status, 201, "{sampled}");
    let got = items_of(sampled["id"].as_str().unwrap().to_string()).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|g| want.contains(g)), "{got:?}");

    for (body, says) in [
        (
            json!({"name": "x", "score_keys": ["k"], "query": "name=chat",
                "span_query": span_query}),
            "not both",
        ),
        (
            json!({"name": "x", "score_keys": ["k"], "span_query": span_query,
                "sample": {"balance_by": "ab_test_variant"}}),
            "balance",
        ),
        (
            json!({"name": "x", "score_keys": ["k"], "span_query": "filter=eq(name"}),
            "filter",
        ),
    ] {
        let (status, error) = call("POST", &queues, Some(&body), None).await;
        assert_eq!(status, 400, "{body}: {error}");
        let text = error["error"].as_str().unwrap_or("");
        assert!(text.contains(says), "{body}: {text}");
    }
}
