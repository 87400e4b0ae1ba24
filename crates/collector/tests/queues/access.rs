//! Bad input refused with 400, a key's own project only, a key's label as the reviewer.

use crate::common::{call, client, skein_cli, Collector};
use crate::{new_queue, post_traces, root_id, trace_id};
use serde_json::{json, Value};

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
