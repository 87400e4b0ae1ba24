//! Score configs (`/api/v1/score-configs`, `/api/v1/score-settings`) against the real `skein`
//! binary: their CRUD by id and by key, what a key may touch, and feedback checked against them
//! on every path it enters by: Skein's feedback API and the unmodified LangSmith SDK
//! (`create_feedback` by POST and in a multipart upload, `update_feedback`).

mod common;

use common::sdks::{last_json_line, python};
use common::{call, skein_cli, Collector};
use serde_json::{json, Value};

fn satisfaction() -> Value {
    json!({"key": "user_satisfaction", "type": "numeric", "min": 1, "max": 5, "step": 1,
           "description": "How happy the user was", "comment_asked": false})
}

fn correctness() -> Value {
    json!({"key": "correctness", "type": "categorical", "comment_asked": true,
           "categories": [{"label": "correct", "score": 1}, {"label": "partly", "score": 0.5},
                          {"label": "wrong", "score": 0}]})
}

#[tokio::test]
async fn configs_are_created_read_changed_and_deleted_by_id_or_key() {
    let collector = Collector::start();
    let url = |path: &str| collector.url(&format!("/api/v1/score-configs{path}?project=p"));

    let (status, created) = call("POST", &url(""), Some(&satisfaction()), None).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("an id").to_string();
    assert_eq!(created["project"], "p");
    assert_eq!(created["type"], "numeric");
    assert_eq!(created["max"], 5.0);
    let (status, _) = call("POST", &url(""), Some(&correctness()), None).await;
    assert_eq!(status, 201);

    let (status, list) = call("GET", &url(""), None, None).await;
    assert_eq!(status, 200);
    let keys: Vec<&str> = list["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["correctness", "user_satisfaction"]);
    assert_eq!(list["settings"]["configured_keys_only"], false);
    // Another project has none.
    let (_, other) = call(
        "GET",
        &collector.url("/api/v1/score-configs?project=q"),
        None,
        None,
    )
    .await;
    assert_eq!(other["configs"], json!([]));

    let (status, by_id) = call("GET", &url(&format!("/{id}")), None, None).await;
    assert_eq!((status, &by_id["key"]), (200, &json!("user_satisfaction")));
    let (status, by_key) = call("GET", &url("/user_satisfaction"), None, None).await;
    assert_eq!((status, &by_key["id"]), (200, &json!(id)));

    let mut edited = satisfaction();
    edited["max"] = json!(10);
    edited["description"] = json!("Out of ten now");
    let (status, changed) = call("PUT", &url(&format!("/{id}")), Some(&edited), None).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (changed["id"].as_str(), changed["max"].as_f64()),
        (Some(id.as_str()), Some(10.0))
    );
    assert_eq!(changed["created_ms"], created["created_ms"]);

    // What cannot be stored is refused with the reason.
    let mut renamed = satisfaction();
    renamed["key"] = json!("happiness");
    for (method, path, body, why) in [
        ("PUT", format!("/{id}"), renamed, "key cannot change"),
        (
            "POST",
            String::new(),
            correctness(),
            "has a score config already",
        ),
        (
            "POST",
            String::new(),
            json!({"key": "x", "type": "numeric", "min": 1, "max": 5, "step": 3}),
            "not a whole number of steps of 3",
        ),
        (
            "POST",
            String::new(),
            json!({"key": "x", "type": "categorical", "categories": [{"label": "a", "score": 1}]}),
            "2 to 20 categories",
        ),
        (
            "POST",
            String::new(),
            json!({"key": "x", "type": "stars"}),
            "invalid JSON body",
        ),
        ("PUT", "/nothing".into(), satisfaction(), "no score config"),
    ] {
        let (status, answer) = call(method, &url(&path), Some(&body), None).await;
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(
            (status == 400 || status == 404) && error.contains(why),
            "{method} {path}: {status} {answer}"
        );
    }

    let (status, _) = call("DELETE", &url("/correctness"), None, None).await;
    assert_eq!(status, 204);
    let (status, _) = call("GET", &url("/correctness"), None, None).await;
    assert_eq!(status, 404);
    let (status, _) = call("DELETE", &url(&format!("/{id}")), None, None).await;
    assert_eq!(status, 204);
    let (_, list) = call("GET", &url(""), None, None).await;
    assert_eq!(list["configs"], json!([]));
}

#[tokio::test]
async fn feedback_that_breaks_a_config_is_refused_with_what_is_allowed() {
    let collector = Collector::start();
    let configs = collector.url("/api/v1/score-configs?project=p");
    let feedback = collector.url("/api/v1/feedback?project=p");
    for config in [satisfaction(), correctness()] {
        assert_eq!(call("POST", &configs, Some(&config), None).await.0, 201);
    }
    let run = "00000000000000a1";
    let post = |body: Value| {
        let feedback = feedback.clone();
        async move { call("POST", &feedback, Some(&body), None).await }
    };

    let (status, answer) =
        post(json!({"run_id": run, "key": "user_satisfaction", "score": 7})).await;
    assert_eq!(status, 400);
    assert_eq!(
        answer["error"],
        "user_satisfaction must be a number from 1 to 5 in steps of 1 (got 7)"
    );
    let (status, answer) =
        post(json!({"run_id": run, "key": "correctness", "value": "nearly"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        answer["error"],
        "correctness must be one of: correct (1), partly (0.5), wrong (0) (got \"nearly\")"
    );

    let (status, good) = post(json!({"run_id": run, "key": "user_satisfaction", "score": 4})).await;
    assert_eq!(status, 201, "{good}");
    // A category named by its label is stored with its score.
    let (status, labelled) =
        post(json!({"run_id": run, "key": "correctness", "value": "partly"})).await;
    assert_eq!(
        (status, &labelled["score"]),
        (201, &json!(0.5)),
        "{labelled}"
    );
    // A key without a config is accepted while the project allows it.
    let (status, _) = post(json!({"run_id": run, "key": "free_form", "score": 0.3})).await;
    assert_eq!(status, 201);

    // An edit is checked as the record would be after it.
    let edit = collector.url(&format!(
        "/api/v1/feedback/{}?project=p",
        good["id"].as_str().unwrap()
    ));
    let (status, answer) = call("PATCH", &edit, Some(&json!({"score": 0})), None).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"]
        .as_str()
        .unwrap()
        .starts_with("user_satisfaction must be"));
    let (status, _) = call("PATCH", &edit, Some(&json!({"comment": "fine"})), None).await;
    assert_eq!(status, 200);

    let settings = collector.url("/api/v1/score-settings?project=p");
    let (status, _) = call(
        "PUT",
        &settings,
        Some(&json!({"configured_keys_only": true})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, read) = call("GET", &settings, None, None).await;
    assert_eq!(read["configured_keys_only"], true);
    let (status, answer) = post(json!({"run_id": run, "key": "free_form", "score": 0.3})).await;
    assert_eq!(status, 400);
    assert_eq!(
        answer["error"],
        "feedback key \"free_form\" has no score config, and this project accepts configured \
         keys only: correctness, user_satisfaction"
    );
    // Other projects are not concerned.
    let (status, _) = call(
        "POST",
        &collector.url("/api/v1/feedback?project=q"),
        Some(&json!({"run_id": run, "key": "free_form", "score": 0.3})),
        None,
    )
    .await;
    assert_eq!(status, 201);

    let (_, stored) = call(
        "GET",
        &collector.url(&format!("/api/v1/feedback?project=p&run_id={run}")),
        None,
        None,
    )
    .await;
    let mut scores: Vec<(String, f64)> = stored["feedback"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["key"].as_str().unwrap().to_string(),
                f["score"].as_f64().unwrap(),
            )
        })
        .collect();
    scores.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        scores,
        [
            ("correctness".to_string(), 0.5),
            ("free_form".to_string(), 0.3),
            ("user_satisfaction".to_string(), 4.0)
        ]
    );
}

#[tokio::test]
async fn a_key_reads_and_writes_its_own_projects_configs_only() {
    let dir = tempfile::tempdir().unwrap();
    skein_cli(dir.path(), &["project", "create", "team-a"]);
    skein_cli(dir.path(), &["project", "create", "team-b"]);
    let key_a = skein_cli(dir.path(), &["key", "create", "--project", "team-a"]);
    let key_b = skein_cli(dir.path(), &["key", "create", "--project", "team-b"]);
    let collector = Collector::start_in(dir, &[]);
    let configs = collector.url("/api/v1/score-configs");

    let (status, _) = call("POST", &configs, Some(&satisfaction()), None).await;
    assert_eq!(status, 401);
    // A key without a project named writes its own.
    let (status, created) = call("POST", &configs, Some(&satisfaction()), Some(&key_a)).await;
    assert_eq!((status, &created["project"]), (201, &json!("team-a")));
    let for_b = format!("{configs}?project=team-b");
    for (method, url, body) in [
        ("GET", for_b.clone(), None),
        ("POST", for_b.clone(), Some(correctness())),
        (
            "PUT",
            collector.url("/api/v1/score-settings?project=team-b"),
            Some(json!({})),
        ),
    ] {
        let (status, _) = call(method, &url, body.as_ref(), Some(&key_a)).await;
        assert_eq!(status, 403, "{method} {url}");
    }
    let (_, seen_by_b) = call("GET", &configs, None, Some(&key_b)).await;
    assert_eq!(seen_by_b["configs"], json!([]));
    let (status, _) = call(
        "DELETE",
        &format!("{configs}/user_satisfaction"),
        None,
        Some(&key_b),
    )
    .await;
    assert_eq!(status, 404, "team-b has no such config");
    let (_, seen_by_a) = call("GET", &configs, None, Some(&key_a)).await;
    assert_eq!(seen_by_a["configs"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_langsmith_sdk_gets_the_refusal_and_its_good_feedback_is_stored() {
    let collector = Collector::start();
    let project = "sdk-scores";
    let configs = collector.url(&format!("/api/v1/score-configs?project={project}"));
    for config in [satisfaction(), correctness()] {
        assert_eq!(call("POST", &configs, Some(&config), None).await.0, 201);
    }
    let result = last_json_line(
        python("langsmith_score_configs.py")
            .env("LANGSMITH_ENDPOINT", collector.url("/api/langsmith"))
            .env("LANGSMITH_API_KEY", "test-key")
            .env("LANGSMITH_TRACING", "true")
            .env("LANGSMITH_PROJECT", project)
            .output()
            .expect("run python"),
    );
    let refused = |name: &str, says: &str| {
        let r = &result[name];
        assert_eq!(r["ok"], false, "{name}: {r}");
        let message = r["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{name}: {message}");
        assert!(message.contains("400"), "{name}: {message}");
    };
    refused(
        "bad_numeric",
        "user_satisfaction must be a number from 1 to 5 in steps of 1 (got 7)",
    );
    refused(
        "bad_label",
        "correctness must be one of: correct (1), partly (0.5), wrong (0)",
    );
    refused("bad_update", "in steps of 1 (got 2.5)");
    for name in [
        "good_numeric",
        "good_label",
        "unconfigured",
        "good_update",
        "background_bad",
    ] {
        assert_eq!(result[name]["ok"], true, "{name}: {result}");
    }

    let run = result["run_id"].as_str().unwrap().to_string();
    let url = collector.url(&format!("/api/langsmith/feedback?run={run}"));
    let (status, listed) = call("GET", &url, None, Some("test-key")).await;
    assert_eq!(status, 200, "{listed}");
    let mut stored: Vec<(String, Value)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["key"].as_str().unwrap().to_string(), f["score"].clone()))
        .collect();
    stored.sort_by(|a, b| a.0.cmp(&b.0));
    // The multipart upload's bad record (score 0) was skipped, not stored.
    assert_eq!(
        stored,
        [
            ("correctness".to_string(), json!(0.5)),
            ("free_form".to_string(), json!(0.3)),
            ("user_satisfaction".to_string(), json!(5.0)),
        ]
    );
}
