//! LangSmith's client-chosen ids: one project cannot shadow or discover another's runs.

use crate::common::{skein_cli, Collector};
use crate::{call, ls_run, send, Body, Key};
use serde_json::{json, Value};
use skein_collector::langsmith::ids;

/// LangSmith names runs and feedback by UUIDs that clients choose. A key of one project that
/// knows a run UUID of another can neither shadow that run (the other project's PATCH, GET and
/// feedback keep working on its own run) nor learn that it exists (no 403 naming the project,
/// no "already used" for its feedback ids).
#[tokio::test]
async fn run_and_feedback_ids_of_one_project_are_invisible_to_another() {
    let dir = tempfile::tempdir().unwrap();
    skein_cli(dir.path(), &["project", "create", "équipe a"]);
    skein_cli(dir.path(), &["project", "create", "team-b"]);
    let key_a = skein_cli(dir.path(), &["key", "create", "--project", "équipe a"]);
    let key_b = skein_cli(dir.path(), &["key", "create", "--project", "team-b"]);
    let collector = Collector::start_in(dir, &[]);
    let c = &collector;
    let (a, b) = (Key::Bearer(&key_a), Key::Bearer(&key_b));
    let run = "01a20c28-aec6-77ac-bd5e-0000000000a1";
    let only_a = "01a20c28-aec6-77ac-bd5e-0000000000a2";
    let batch = c.url("/api/langsmith/runs/batch");
    let post = |id: &str, name: &str| json!({"post": [ls_run(id, name, None)]});

    let (status, answer) = call("POST", &batch, a, Some(&post(run, "mine"))).await;
    assert_eq!(status, 202, "{answer}");
    let (status, answer) = call("POST", &batch, a, Some(&post(only_a, "mine too"))).await;
    assert_eq!(status, 202, "{answer}");
    // B posts a run with A's run UUID: it is B's own run, in B's project.
    let (status, answer) = call("POST", &batch, b, Some(&post(run, "squatter"))).await;
    assert_eq!(status, 202, "{answer}");

    // A's own PATCH, GET and feedback still reach A's run.
    let run_url = c.url(&format!("/api/langsmith/runs/{run}"));
    let patch = json!({"end_time": "2026-11-24T06:04:50Z", "outputs": {"answer": "a's"}});
    let (status, answer) = send("PATCH", &run_url, a, &[], &Body::Json(patch)).await;
    assert_eq!(status, 202, "A's PATCH of its own run: {answer}");
    let (status, answer) = call("GET", &run_url, a, None).await;
    assert_eq!(status, 200, "{answer}");
    let read: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(read["name"], "mine", "{read}");
    assert_eq!(read["outputs"]["answer"], "a's", "{read}");
    assert_eq!(
        read["session_id"],
        ids::project_uuid("équipe a").to_string(),
        "{read}"
    );
    let feedback_id = "0d3b1c52-7f2a-4a4b-9a38-1a0c5e3f00a1";
    let feedback =
        |score: f64| json!({"id": feedback_id, "run_id": run, "key": "correct", "score": score});
    let ls_feedback = c.url("/api/langsmith/feedback");
    let (status, answer) = call("POST", &ls_feedback, a, Some(&feedback(1.0))).await;
    assert_eq!(status, 200, "A's feedback on its own run: {answer}");

    // B reads its own run under that UUID, and A's other run is not there for B.
    let (status, answer) = call("GET", &run_url, b, None).await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer.contains("squatter") && !answer.contains("équipe"),
        "{answer}"
    );
    let (status, answer) = call(
        "GET",
        &c.url(&format!("/api/langsmith/runs/{only_a}")),
        b,
        None,
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    assert!(!answer.contains("équipe"), "{answer}");
    // B reuses A's feedback id: a record of B's own, A's untouched.
    let (status, answer) = call("POST", &ls_feedback, b, Some(&feedback(0.0))).await;
    assert_eq!(status, 200, "B's feedback with an id A used: {answer}");
    assert!(
        !answer.contains("already") && !answer.contains("équipe"),
        "{answer}"
    );
    let span = ids::span_hex(&ids::parse_uuid(run).unwrap());
    let (status, answer) = call(
        "GET",
        &c.url(&format!("/api/v1/feedback?run_id={span}")),
        a,
        None,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let listed: Value = serde_json::from_str(&answer).unwrap();
    let listed = listed["feedback"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], feedback_id);
    assert_eq!(listed[0]["score"], 1.0);
    // The same through the query API's own ids.
    let mine = json!({"id": "fb-1", "run_id": span, "key": "k", "score": 1});
    let (status, answer) = call("POST", &c.url("/api/v1/feedback"), a, Some(&mine)).await;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = call("POST", &c.url("/api/v1/feedback"), b, Some(&mine)).await;
    assert_eq!(status, 201, "an id A used, in B's project: {answer}");
    let (status, answer) = send(
        "DELETE",
        &c.url("/api/v1/feedback/fb-1"),
        b,
        &[],
        &Body::Empty,
    )
    .await;
    assert_eq!(status, 204, "{answer}");
    let (_, answer) = call(
        "GET",
        &c.url(&format!("/api/v1/feedback?run_id={span}&key=k")),
        a,
        None,
    )
    .await;
    assert!(
        answer.contains("fb-1"),
        "B's delete removed A's record: {answer}"
    );
}
