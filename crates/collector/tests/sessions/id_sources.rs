//! Sessions and users from every id source ingest knows, in request order, with feedback.

use std::collections::BTreeSet;

use crate::common::{client, get_json, Collector};
use crate::{get_status, ids, now_ms, post_spans, span};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_and_users_come_from_every_id_source() {
    let collector = Collector::start();
    let p = "journeys";
    let t0 = now_ms() - 3_600_000;
    let chat =
        r#"[{"role":"system","content":"Be brief."},{"role":"user","content":"What is RAG?"}]"#;
    let answer = r#"[{"role":"assistant","content":"Retrieval-augmented generation."}]"#;
    post_spans(
        &collector,
        p,
        vec![
            // Session s-otel, user u-1: two requests, the later-started one is request 1.
            span(
                1,
                0x11,
                None,
                "agent",
                "second turn",
                2,
                t0 + 60_000,
                2_000,
                &[
                    ("session.id", json!("s-otel")),
                    ("user.id", json!("u-1")),
                    ("request_sequence", json!(2)),
                    ("input.value", json!("And <b>then</b>?")),
                    ("output.value", json!("Then this.")),
                    ("env", json!("production")),
                ],
                false,
            ),
            span(
                1,
                0x12,
                Some(0x11),
                "agent",
                "tool",
                1,
                t0 + 60_100,
                500,
                &[],
                true,
            ),
            span(
                2,
                0x21,
                None,
                "agent",
                "first turn",
                2,
                t0 + 90_000,
                1_000,
                &[
                    ("session.id", json!("s-otel")),
                    ("user.id", json!("u-1")),
                    ("request_sequence", json!(1)),
                    ("gen_ai.input.messages", json!(chat)),
                    ("gen_ai.output.messages", json!(answer)),
                    ("env", json!("production")),
                    ("gen_ai.usage.input_tokens", json!(100)),
                    ("gen_ai.usage.output_tokens", json!(20)),
                ],
                false,
            ),
            // GenAI conversation id and enduser.id.
            span(
                3,
                0x31,
                None,
                "agent",
                "conv",
                2,
                t0 + 120_000,
                1_000,
                &[
                    ("gen_ai.conversation.id", json!("s-conv")),
                    ("enduser.id", json!("u-2")),
                    ("env", json!("staging")),
                ],
                false,
            ),
            // Plain metadata attributes (OpenInference's and LangSmith's habit).
            span(
                4,
                0x41,
                None,
                "agent",
                "thread",
                2,
                t0 + 150_000,
                1_000,
                &[("thread_id", json!("s-thread")), ("user_id", json!("u-4"))],
                false,
            ),
            // A user's request outside any session.
            span(
                5,
                0x51,
                None,
                "agent",
                "lonely",
                2,
                t0 + 160_000,
                1_000,
                &[("user.id", json!("u-1"))],
                false,
            ),
        ],
    )
    .await;

    // A LangSmith run with thread_id and user_id in its metadata.
    let run = json!({
        "id": "01a20c2a-e3fb-7eb9-abdc-f49d8ccd5faa",
        "trace_id": "01a20c2a-e3fb-7eb9-abdc-f49d8ccd5faa",
        "dotted_order": "20261124T060747195536Z01a20c2a-e3fb-7eb9-abdc-f49d8ccd5faa",
        "start_time": "2026-11-24T06:07:47.195536+00:00",
        "end_time": "2026-11-24T06:07:48.195536+00:00",
        "name": "main_agent", "run_type": "chain", "session_name": p,
        "inputs": {"question": "Where is my order?"}, "outputs": {"output": "On its way."},
        "extra": {"metadata": {"thread_id": "s-ls", "user_id": "u-3"}},
    });
    let response = client()
        .post(collector.url("/api/langsmith/runs"))
        .json(&run)
        .send()
        .await
        .expect("POST /runs");
    assert!(response.status().is_success(), "{}", response.status());

    // Feedback on both requests of s-otel: the session's mean is over both.
    for (run_id, score) in [("0000000000000011", 1.0), ("0000000000000021", 0.5)] {
        let response = client()
            .post(collector.url(&format!("/api/v1/feedback?project={p}")))
            .json(&json!({"run_id": run_id, "key": "user_satisfaction", "score": score}))
            .send()
            .await
            .expect("POST /feedback");
        assert!(response.status().is_success(), "{}", response.status());
    }

    let page = get_json(&collector.url(&format!("/api/v1/sessions?project={p}"))).await;
    assert_eq!(page["total"], 4, "{page}");
    let sessions: BTreeSet<String> = ids(&page["sessions"], "session_id").into_iter().collect();
    let expected: BTreeSet<String> = ["s-otel", "s-conv", "s-thread", "s-ls"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(sessions, expected);
    let users_of: Vec<(String, String)> = page["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["session_id"].as_str().unwrap().to_string(),
                s["user_id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for (session, user) in [
        ("s-otel", "u-1"),
        ("s-conv", "u-2"),
        ("s-ls", "u-3"),
        ("s-thread", "u-4"),
    ] {
        assert!(
            users_of.contains(&(session.to_string(), user.to_string())),
            "{session} belongs to {user}: {users_of:?}"
        );
    }

    // One session: its figures and its requests by request_sequence, with conversation text.
    let detail = get_json(&collector.url(&format!("/api/v1/sessions/s-otel?project={p}"))).await;
    let summary = &detail["summary"];
    assert_eq!(summary["request_count"], 2);
    assert_eq!(summary["error_count"], 1);
    assert_eq!(summary["span_count"], 3);
    assert_eq!(summary["input_tokens"], 100);
    assert_eq!(summary["first_start_ns"], json!((t0 + 60_000) * 1_000_000));
    assert_eq!(summary["last_end_ns"], json!((t0 + 91_000) * 1_000_000));
    assert_eq!(summary["total_duration_ns"], json!(3_000_000_000i64));
    let fb = &summary["feedback"][0];
    assert_eq!(
        (fb["key"].as_str(), fb["count"].as_u64()),
        (Some("user_satisfaction"), Some(2))
    );
    assert!((fb["mean"].as_f64().unwrap() - 0.75).abs() < 1e-9);
    let requests = detail["requests"].as_array().unwrap();
    let names: Vec<&str> = requests
        .iter()
        .map(|r| r["trace"]["root_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["first turn", "second turn"],
        "request_sequence order, not start order"
    );
    assert_eq!(requests[0]["sequence"], 1);
    assert_eq!(requests[0]["input"]["text"], "What is RAG?");
    assert_eq!(requests[0]["input"]["role"], "user");
    assert_eq!(
        requests[0]["output"]["text"],
        "Retrieval-augmented generation."
    );
    assert_eq!(
        requests[1]["input"]["text"], "And <b>then</b>?",
        "text, unescaped and unrendered"
    );
    assert_eq!(requests[1]["output"]["text"], "Then this.");
    assert_eq!(requests[1]["trace"]["error_count"], 1);
    assert_eq!(requests[0]["trace"]["feedback"][0]["mean"], 0.5);

    // The LangSmith session's turn: the message-like fields of inputs and outputs.
    let ls = get_json(&collector.url(&format!("/api/v1/sessions/s-ls?project={p}"))).await;
    assert_eq!(ls["requests"][0]["input"]["text"], "Where is my order?");
    assert_eq!(ls["requests"][0]["output"]["text"], "On its way.");

    // Users.
    let users = get_json(&collector.url(&format!("/api/v1/users?project={p}"))).await;
    assert_eq!(users["total"], 4);
    let u1 = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user_id"] == "u-1")
        .expect("u-1")
        .clone();
    assert_eq!(u1["session_count"], 1);
    assert_eq!(u1["request_count"], 3, "two in the session, one outside");
    let user = get_json(&collector.url(&format!("/api/v1/users/u-1?project={p}"))).await;
    assert_eq!(user["summary"]["request_count"], 3);
    assert_eq!(user["requests_without_session"], 1);
    assert_eq!(ids(&user["sessions"]["sessions"], "session_id"), ["s-otel"]);

    // A tag filter selects requests: staging has only s-conv.
    let staging =
        get_json(&collector.url(&format!("/api/v1/sessions?project={p}&tag=env%3Dstaging"))).await;
    assert_eq!(ids(&staging["sessions"], "session_id"), ["s-conv"]);
    // A session list for one user.
    let mine = get_json(&collector.url(&format!("/api/v1/sessions?project={p}&user=u-2"))).await;
    assert_eq!(ids(&mine["sessions"], "session_id"), ["s-conv"]);

    // Unknown ids are 404 with a JSON error; other projects see nothing.
    let (status, body) =
        get_status(&collector.url(&format!("/api/v1/sessions/nope?project={p}"))).await;
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("nope"));
    let (status, _) = get_status(&collector.url(&format!("/api/v1/users/nope?project={p}"))).await;
    assert_eq!(status, 404);
    let (status, _) = get_status(&collector.url("/api/v1/sessions/s-otel?project=other")).await;
    assert_eq!(status, 404);
    let other = get_json(&collector.url("/api/v1/sessions?project=other")).await;
    assert_eq!(other["total"], 0);
    // Ids with URL-special characters round-trip.
    post_spans(
        &collector,
        p,
        vec![span(
            6,
            0x61,
            None,
            "agent",
            "odd",
            2,
            t0,
            10,
            &[
                ("session.id", json!("a/b c?d=e&f")),
                ("user.id", json!("ü ser")),
            ],
            false,
        )],
    )
    .await;
    let odd = get_json(&collector.url(&format!(
        "/api/v1/sessions/a%2Fb%20c%3Fd%3De%26f?project={p}"
    )))
    .await;
    assert_eq!(odd["summary"]["user_id"], "ü ser");
}
