//! Projects and API keys: for every endpoint, no key / a wrong key / another project's key /
//! the right key → 401 / 401 / 403 / 2xx, and no answer ever carries another project's data.

mod common;

use std::process::Command;

use common::{client, Collector};
use serde_json::json;

const TRACE_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1";
const SPAN_A: &str = "00000000000000a1";
const TRACE_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2";

fn skein(data_dir: &std::path::Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_skein"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run skein");
    assert!(
        output.status.success(),
        "skein {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn otlp_body(trace: &str, span: &str, name: &str) -> serde_json::Value {
    json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": trace, "spanId": span, "name": name, "kind": 1,
        "startTimeUnixNano": "1795500443630000000", "endTimeUnixNano": "1795500443631000000",
        "attributes": [{"key": "env", "value": {"stringValue": name}}]}]}]}]})
}

#[derive(Clone, Copy)]
enum Key<'a> {
    None,
    Bearer(&'a str),
    Header(&'a str),
}

async fn call(
    method: &str,
    url: &str,
    key: Key<'_>,
    body: Option<&serde_json::Value>,
) -> (u16, String) {
    let mut request = match method {
        "GET" => client().get(url),
        "POST" => client().post(url),
        other => panic!("{other}"),
    };
    request = match key {
        Key::None => request,
        Key::Bearer(k) => request.bearer_auth(k),
        Key::Header(k) => request.header("x-api-key", k),
    };
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn every_endpoint_checks_the_key_and_its_project() {
    let dir = tempfile::tempdir().unwrap();
    skein(dir.path(), &["project", "create", "team-a"]);
    skein(dir.path(), &["project", "create", "team-b"]);
    let key_a = skein(
        dir.path(),
        &["key", "create", "--project", "team-a", "--label", "test"],
    );
    let key_b = skein(dir.path(), &["key", "create", "--project", "team-b"]);
    assert!(key_a.starts_with("skein_") && key_a != key_b);
    let collector = Collector::start_in(dir, &[]);

    // Each team sends a trace with its key; neither names a project: the key decides.
    let (status, answer) = call(
        "POST",
        &collector.otlp_traces,
        Key::Bearer(&key_a),
        Some(&otlp_body(TRACE_A, SPAN_A, "team-a-secret")),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (status, _) = call(
        "POST",
        &collector.url("/v1/traces"),
        Key::Header(&key_b),
        Some(&otlp_body(TRACE_B, "00000000000000b2", "team-b-secret")),
    )
    .await;
    assert_eq!(status, 200);

    let feedback =
        json!({"run_id": SPAN_A, "trace_id": TRACE_A, "key": "user_satisfaction", "score": 1.0});
    let langsmith_run = json!({"post": [{
        "id": "01a20c28-aec6-77ac-bd5e-234ada6a09c4", "trace_id": "01a20c28-aec6-77ac-bd5e-234ada6a09c4",
        "dotted_order": "20261124T060449941486Z01a20c28-aec6-77ac-bd5e-234ada6a09c4",
        "name": "main_agent", "run_type": "chain", "session_name": "team-a",
        "start_time": "2026-11-24T06:04:49.941486+00:00", "inputs": {"q": "hi"}}], "patch": []});
    let http = |p: &str| collector.url(p);
    let endpoints: Vec<(&str, String, Option<serde_json::Value>)> = vec![
        ("GET", http("/api/v1/traces"), None),
        ("GET", http(&format!("/api/v1/traces/{TRACE_A}")), None),
        (
            "GET",
            http(&format!("/api/v1/traces/{TRACE_A}/spans/{SPAN_A}")),
            None,
        ),
        ("GET", http("/api/v1/tags"), None),
        ("GET", http("/api/v1/tags/env/values"), None),
        ("GET", http("/api/v1/services"), None),
        ("GET", http("/api/v1/metrics?metric=count"), None),
        (
            "GET",
            http(&format!("/api/v1/feedback?trace_id={TRACE_A}")),
            None,
        ),
        ("POST", http("/api/v1/feedback"), Some(feedback)),
        (
            "POST",
            http("/v1/traces"),
            Some(otlp_body(TRACE_A, "00000000000000a2", "team-a-more")),
        ),
        (
            "POST",
            collector.otlp_traces.clone(),
            Some(otlp_body(TRACE_A, "00000000000000a3", "team-a-more")),
        ),
        ("GET", http("/api/langsmith/info"), None),
        (
            "POST",
            http("/api/langsmith/runs/batch"),
            Some(langsmith_run),
        ),
    ];
    let with_project = |url: &str| {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}project=team-a")
    };
    for (method, url, body) in &endpoints {
        let body = body.as_ref();
        let (status, answer) = call(method, url, Key::None, body).await;
        assert_eq!(status, 401, "{method} {url} without a key: {answer}");
        assert!(answer.contains("\"error\""), "{method} {url}: {answer}");
        let (status, _) = call(method, url, Key::Bearer("skein_not_a_real_key"), body).await;
        assert_eq!(status, 401, "{method} {url} with a wrong key");
        // Another project's key naming team-a explicitly: forbidden.
        let (status, answer) = call(method, &with_project(url), Key::Bearer(&key_b), body).await;
        assert_eq!(
            status, 403,
            "{method} {url} with team-b's key for team-a: {answer}"
        );
        let (status, answer) = call(method, &with_project(url), Key::Header(&key_a), body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {url} with the right key: {status} {answer}"
        );
    }

    // team-b's key, naming no project, sees team-b only: nothing of team-a in any answer.
    for path in [
        "/api/v1/traces".to_string(),
        "/api/v1/projects".to_string(),
        "/api/v1/tags/env/values".to_string(),
        format!("/api/v1/traces/{TRACE_A}"),
        format!("/api/v1/feedback?trace_id={TRACE_A}"),
        "/api/langsmith/sessions".to_string(),
    ] {
        let (status, answer) = call("GET", &http(&path), Key::Bearer(&key_b), None).await;
        assert!(status == 200 || status == 404, "{path}: {status} {answer}");
        // (A 404 may echo the id the request itself asked for; team-a's data never shows.)
        assert!(
            !answer.contains("team-a"),
            "{path} with team-b's key shows team-a: {answer}"
        );
    }
    let (_, own) = call("GET", &http("/api/v1/traces"), Key::Bearer(&key_b), None).await;
    assert!(own.contains("team-b-secret"), "{own}");

    // The dashboard's files and the health check need no key.
    let (status, _) = call("GET", &http("/api/v1/health"), Key::None, None).await;
    assert_eq!(status, 200);
}

/// The README: `skein key revoke` "takes effect within 2 s, no restart". The key is used just
/// before the revoke (so the collector holds it as valid), then polled: every request sent
/// 2 s or more after the revoke returned must get 401, and once refused the key stays refused.
#[tokio::test]
async fn a_revoked_key_stops_working_within_2_s_without_a_restart() {
    use std::time::{Duration, Instant};
    const PROMISED: Duration = Duration::from_secs(2);
    let dir = tempfile::tempdir().unwrap();
    skein(dir.path(), &["project", "create", "team-a"]);
    let key = skein(dir.path(), &["key", "create", "--project", "team-a"]);
    let path = dir.path().to_path_buf();
    let collector = Collector::start_in(dir, &[]);
    let url = collector.url("/api/v1/traces");
    let listed = skein(&path, &["key", "list"]);
    let id = listed.split_whitespace().next().unwrap().to_string();
    assert_eq!(call("GET", &url, Key::Bearer(&key), None).await.0, 200);
    skein(&path, &["key", "revoke", &id]);
    let revoked = Instant::now();
    // (time since the revoke when the request was sent, its status)
    let mut answers: Vec<(Duration, u16)> = Vec::new();
    while revoked.elapsed() < PROMISED + Duration::from_millis(500) {
        let sent = revoked.elapsed();
        let status = call("GET", &url, Key::Bearer(&key), None).await.0;
        assert!(status == 200 || status == 401, "{status}");
        answers.push((sent, status));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let late: Vec<&(Duration, u16)> = answers.iter().filter(|(t, _)| *t >= PROMISED).collect();
    assert!(!late.is_empty(), "no request was sent after {PROMISED:?}");
    assert!(
        late.iter().all(|(_, status)| *status == 401),
        "the revoked key still worked {PROMISED:?} after the revoke: {answers:?}"
    );
    let first_refusal = answers.iter().position(|(_, s)| *s == 401).unwrap();
    assert!(
        answers[first_refusal..].iter().all(|(_, s)| *s == 401),
        "the key worked again after a refusal: {answers:?}"
    );
}

#[test]
fn serving_beyond_loopback_without_keys_needs_an_explicit_flag() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_skein"))
        .args([
            "serve",
            "--http-addr",
            "0.0.0.0:0",
            "--otlp-addr",
            "off",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run skein");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--allow-open"), "{stderr}");
}

#[tokio::test]
async fn a_key_sees_its_own_project_listed_even_before_its_first_trace() {
    let dir = tempfile::tempdir().unwrap();
    skein(dir.path(), &["project", "create", "team-a"]);
    skein(dir.path(), &["project", "create", "team-b"]);
    let key_a = skein(dir.path(), &["key", "create", "--project", "team-a"]);
    let key_b = skein(dir.path(), &["key", "create", "--project", "team-b"]);
    let collector = Collector::start_in(dir, &[]);
    let (status, _) = call(
        "POST",
        &collector.otlp_traces,
        Key::Bearer(&key_b),
        Some(&otlp_body(TRACE_B, "00000000000000b2", "team-b-secret")),
    )
    .await;
    assert_eq!(status, 200);

    let projects = |key: &str| {
        let url = collector.url("/api/v1/projects");
        let key = key.to_string();
        async move {
            let (status, body) = call("GET", &url, Key::Header(&key), None).await;
            assert_eq!(status, 200, "{body}");
            let list: Vec<serde_json::Value> = serde_json::from_str(&body).expect("JSON list");
            list.iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap_or("").to_string(),
                        p["trace_count"].as_u64(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        projects(&key_a).await,
        vec![("team-a".to_string(), Some(0))]
    );
    assert_eq!(
        projects(&key_b).await,
        vec![("team-b".to_string(), Some(1))]
    );
}
