//! A key's life: revoked within 2 s, listed with its project, ids that reveal nothing, refused
//! before its body is read; no open serving without keys.

use std::process::Command;

use crate::common::{skein_cli, Collector};
use crate::{call, otlp_body, test_files, Key, TRACE_B};

/// The README: `skein key revoke` "takes effect within 2 s, no restart". The key is used just
/// before the revoke (so the collector holds it as valid), then polled: every request sent
/// 2 s or more after the revoke returned must get 401, and once refused the key stays refused.
#[tokio::test]
async fn a_revoked_key_stops_working_within_2_s_without_a_restart() {
    use std::time::{Duration, Instant};
    const PROMISED: Duration = Duration::from_secs(2);
    let dir = tempfile::tempdir().unwrap();
    skein_cli(dir.path(), &["project", "create", "team-a"]);
    let key = skein_cli(dir.path(), &["key", "create", "--project", "team-a"]);
    let path = dir.path().to_path_buf();
    let collector = Collector::start_in(dir, &[]);
    let url = collector.url("/api/v1/traces");
    let listed = skein_cli(&path, &["key", "list"]);
    let id = listed.split_whitespace().next().unwrap().to_string();
    assert_eq!(call("GET", &url, Key::Bearer(&key), None).await.0, 200);
    skein_cli(&path, &["key", "revoke", &id]);
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
    skein_cli(dir.path(), &["project", "create", "team-a"]);
    skein_cli(dir.path(), &["project", "create", "team-b"]);
    let key_a = skein_cli(dir.path(), &["key", "create", "--project", "team-a"]);
    let key_b = skein_cli(dir.path(), &["key", "create", "--project", "team-b"]);
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

/// Key ids are random, not a prefix of the secret: `skein key list` shows nothing of any
/// secret. A key created by an earlier version (its id the first 12 characters of the
/// secret's random part) still works and can be revoked by that id.
#[tokio::test]
async fn key_ids_reveal_nothing_and_keys_from_before_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    skein_cli(dir.path(), &["project", "create", "team-a"]);
    let secrets: Vec<String> = (0..3)
        .map(|_| skein_cli(dir.path(), &["key", "create", "--project", "team-a"]))
        .collect();
    // A key as an earlier version wrote it.
    let random = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let old_secret = format!("skein_{random}");
    let old_id = format!("key_{}", &random[..12]);
    {
        let hash = skein_collector::store::keys::hash_secret(&old_secret);
        test_files::execute(
            &dir.path().join("skein.db"),
            "INSERT INTO api_keys (id, project, label, secret_sha256, created_ms) \
             VALUES (?1, 'team-a', 'old', ?2, 0)",
            &[old_id.as_str(), hash.as_str()],
        )
        .expect("insert a key the old way");
    }
    let listed = skein_cli(dir.path(), &["key", "list"]);
    assert_eq!(listed.lines().count(), 4, "{listed}");
    for secret in &secrets {
        let random = secret.strip_prefix("skein_").unwrap();
        for start in 0..=random.len() - 8 {
            let piece = &random[start..start + 8];
            assert!(
                !listed.contains(piece),
                "`skein key list` shows {piece:?} of a secret:\n{listed}"
            );
        }
    }

    let path = dir.path().to_path_buf();
    let collector = Collector::start_in(dir, &[]);
    let url = collector.url("/api/v1/traces");
    for secret in secrets.iter().chain([&old_secret]) {
        let (status, answer) = call("GET", &url, Key::Bearer(secret), None).await;
        assert_eq!(status, 200, "{answer}");
    }
    skein_cli(&path, &["key", "revoke", &old_id]);
    let mut status = 200;
    for _ in 0..50 {
        status = call("GET", &url, Key::Bearer(&old_secret), None).await.0;
        if status == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        status, 401,
        "the old key, revoked by its old id, still works"
    );
}

/// With keys, a request without a valid key is answered 401 from its headers: the collector
/// does not wait for (or hold) its body.
#[tokio::test]
async fn a_body_without_a_key_is_refused_before_it_is_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    skein_cli(dir.path(), &["project", "create", "team-a"]);
    skein_cli(dir.path(), &["key", "create", "--project", "team-a"]);
    let collector = Collector::start_in(dir, &[]);
    for (path, key) in [
        ("/v1/traces", ""),
        ("/api/langsmith/runs/multipart", ""),
        ("/api/v1/feedback", "Authorization: Bearer skein_wrong\r\n"),
    ] {
        let addr = collector.http.trim_start_matches("http://").to_string();
        let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{key}Content-Type: application/json\r\n\
             Content-Length: 30000000\r\n\r\n"
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&[b' '; 1000]).await.unwrap();
        let mut answer = vec![0u8; 4096];
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), socket.read(&mut answer))
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer before the body was sent"))
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 401"), "{path}: {answer}");
    }
}
