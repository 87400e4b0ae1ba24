//! Bad input: a clear 400 naming the problem, and the valid runs around it kept.

use super::*;

const RUN: &str = "0190f4b2-7c3e-7a00-8000-000000000001";

fn part(name: &str, body: &str) -> String {
    format!(
        "--XX\r\nContent-Disposition: form-data; name=\"{name}\"\r\nContent-Type: application/json\r\n\r\n{body}\r\n"
    )
}

fn valid_run_parts() -> String {
    part(
        &format!("post.{RUN}"),
        &json!({"id": RUN, "trace_id": RUN, "name": "kept", "run_type": "chain",
                "session_name": "bad-input", "start_time": "2026-11-24T06:05:18.183114+00:00",
                "end_time": "2026-11-24T06:05:18.283114+00:00"})
        .to_string(),
    ) + &part(&format!("post.{RUN}.inputs"), r#"{"q": "still here"}"#)
}

async fn kept_run(collector: &Collector) -> Value {
    get_json(&collector.url(&format!("/api/langsmith/runs/{RUN}"))).await
}

#[tokio::test]
async fn malformed_multipart_is_400_and_the_runs_before_it_are_kept() {
    let collector = Collector::start();
    let body = valid_run_parts()
        + "--XX\r\nContent-Disposition: form-data; name=\"patch.x\"\r\n\r\nno end";
    let (status, answer) = post_multipart(&collector, "XX", false, body.into_bytes()).await;
    assert_eq!(status, 400, "{answer}");
    let error = answer["error"].as_str().unwrap();
    assert!(error.contains("malformed multipart"), "{error}");
    assert!(error.contains("1 runs"), "{error}");
    let run = kept_run(&collector).await;
    assert_eq!(run["name"], "kept");
    assert_eq!(run["inputs"], json!({"q": "still here"}));

    // Not multipart at all.
    let (status, answer) = post(
        &collector,
        "/runs/multipart",
        &[("content-type", "application/json")],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(status, 415, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("multipart"));
}

#[tokio::test]
async fn a_bad_zstd_frame_is_400() {
    let collector = Collector::start();
    let frame = zstd::encode_all(valid_run_parts().as_bytes(), 3).unwrap();
    for (what, body) in [
        ("garbage", b"this is not zstd".to_vec()),
        ("a truncated frame", frame[..frame.len() / 2].to_vec()),
    ] {
        let (status, answer) = post_multipart(&collector, "XX", true, body).await;
        assert_eq!(status, 400, "{what}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains("zstd"),
            "{what}: {answer}"
        );
    }
    // The whole frame is fine.
    let mut whole = valid_run_parts();
    whole.push_str("--XX--\r\n");
    let (status, answer) = post_multipart(
        &collector,
        "XX",
        true,
        zstd::encode_all(whole.as_bytes(), 3).unwrap(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(kept_run(&collector).await["name"], "kept");
}

#[tokio::test]
async fn unknown_and_bad_parts_are_skipped_and_valid_runs_kept() {
    let collector = Collector::start();
    let other = "0190f4b2-7c3e-7a00-8000-000000000002";
    let body = valid_run_parts()
        + &part("mystery.part", "{}")
        + &part(&format!("post.{RUN}.whatever"), "{}")
        + &part(&format!("post.{RUN}.outputs"), "not json")
        + &part(
            &format!("post.{other}"),
            r#"{"trace_id": "not-a-uuid", "name": "bad"}"#,
        )
        + &part(&format!("attachment.{RUN}.notes.txt"), "plain text")
        + "--XX--\r\n";
    let (status, answer) = post_multipart(&collector, "XX", false, body.into_bytes()).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["runs"], 1, "{answer}");
    let skipped = answer["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 4, "{answer}");
    let text = answer["skipped"].to_string();
    for expected in ["mystery.part", "whatever", "not valid JSON", "not-a-uuid"] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
    let span = spans_by_name(&collector, "bad-input", &trace_hex(RUN)).await;
    let attachments = &span["kept"]["attributes"]["langsmith.attachments"];
    assert_eq!(attachments[0]["name"], "notes.txt", "{attachments}");
    assert_eq!(attachments[0]["stored"], false);

    // Nothing usable at all: a 400 that says why.
    let body = part("mystery", "{}") + "--XX--\r\n";
    let (status, answer) = post_multipart(&collector, "XX", false, body.into_bytes()).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("unknown part"));
}

#[tokio::test]
async fn batch_and_feedback_errors_are_clear() {
    let collector = Collector::start();
    let json_type = [("content-type", "application/json")];
    let good = json!({"id": RUN, "trace_id": RUN, "name": "kept", "run_type": "llm",
                      "session_name": "bad-input", "start_time": "2026-11-24T06:05:18Z"});
    let (status, answer) = post(
        &collector,
        "/runs/batch",
        &json_type,
        json!({"post": [good, {"name": "no id"}, {"id": "x"}]})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["runs"], 1);
    assert_eq!(answer["skipped"].as_array().unwrap().len(), 2);
    let (status, answer) = post(&collector, "/runs/batch", &json_type, b"[1, 2".to_vec()).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("JSON"));

    for (body, want) in [
        (json!({"run_id": RUN, "key": ""}), 400),
        (json!({"run_id": "nope", "key": "k"}), 400),
        (json!({"run_id": RUN, "key": "k", "score": "high"}), 400),
        (json!({"key": "k"}), 400),
        // A run that never arrives: 404 after a short wait, which the SDK retries.
        (
            json!({"run_id": "0190f4b2-7c3e-7a00-8000-00000000dead", "key": "k"}),
            404,
        ),
        (json!({"run_id": RUN, "key": "k", "score": true}), 200),
    ] {
        let (status, answer) = post(
            &collector,
            "/feedback",
            &json_type,
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, want, "{body}: {answer}");
        if status >= 400 {
            assert!(answer["error"].is_string(), "{answer}");
        }
    }
    let list = get_json(&collector.url(&format!(
        "/api/v1/feedback?project=bad-input&trace_id={}",
        trace_hex(RUN)
    )))
    .await;
    assert_eq!(list["feedback"][0]["score"], 1.0, "{list}");

    // Reads refuse what they cannot answer.
    let (status, answer) = post(
        &collector,
        "/runs/query",
        &json_type,
        json!({"trace": RUN, "filter": "eq(no_such_field, \"x\")"})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    let missing = client()
        .get(collector.url("/api/langsmith/runs/0190f4b2-7c3e-7a00-8000-00000000dead"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}
