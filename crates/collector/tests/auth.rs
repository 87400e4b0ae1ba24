//! Projects and API keys: for every endpoint, no key / a wrong key / another project's key /
//! the right key → 401 / 401 / 403 (or, where the request names the other project only by an
//! id, an answer that does not tell it exists) / 2xx, with project names in several scripts,
//! spaces, quotes and 128 bytes, and no answer ever carries another project's data.

mod common;

#[path = "../src/store/sqlite/test_files.rs"]
mod test_files;

use std::process::Command;

use common::{client, skein_cli, Collector};
use serde_json::{json, Value};
use skein_collector::langsmith::ids;
use skein_model::query::percent_encode;
const TRACE_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2";

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

/// A request body.
#[derive(Clone)]
enum Body {
    Empty,
    Json(Value),
    /// (content type, bytes)
    Raw(String, Vec<u8>),
}

async fn send(
    method: &str,
    url: &str,
    key: Key<'_>,
    headers: &[(String, String)],
    body: &Body,
) -> (u16, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = client().request(method, url);
    request = match key {
        Key::None => request,
        Key::Bearer(k) => request.bearer_auth(k),
        Key::Header(k) => request.header("x-api-key", k),
    };
    for (k, v) in headers {
        let value = reqwest::header::HeaderValue::from_bytes(v.as_bytes()).expect("header value");
        request = request.header(k.as_str(), value);
    }
    request = match body {
        Body::Empty => request,
        Body::Json(v) => request.json(v),
        Body::Raw(content_type, bytes) => request
            .header("content-type", content_type.as_str())
            .body(bytes.clone()),
    };
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

async fn call(method: &str, url: &str, key: Key<'_>, body: Option<&Value>) -> (u16, String) {
    let body = body.cloned().map_or(Body::Empty, Body::Json);
    send(method, url, key, &[], &body).await
}

/// A project of the matrix: its name, a word of it that no other name contains (to look for
/// in answers, whatever their escaping), and what was stored in it.
struct Team {
    name: String,
    probe: String,
    key: String,
    trace: String,
    span: String,
    /// A LangSmith run of the project (its trace's root).
    run: String,
    /// A feedback record given through `/api/v1/feedback`.
    feedback_id: String,
}

fn ls_run(id: &str, name: &str, session: Option<&str>) -> Value {
    let mut run = json!({
        "id": id, "trace_id": id,
        "dotted_order": format!("20261124T060449941486Z{id}"),
        "name": name, "run_type": "chain",
        "start_time": "2026-11-24T06:04:49.941486+00:00", "inputs": {"q": name}});
    if let Some(s) = session {
        run["session_name"] = json!(s);
    }
    run
}

fn multipart(run: &Value) -> Body {
    let id = run["id"].as_str().unwrap();
    let body = format!(
        "--XX\r\nContent-Disposition: form-data; name=\"post.{id}\"\r\nContent-Type: application/json\r\n\r\n{run}\r\n--XX--\r\n"
    );
    Body::Raw("multipart/form-data; boundary=XX".into(), body.into_bytes())
}

/// A request aimed at team `a`'s data, sent with the key of `who`.
struct Case {
    method: &'static str,
    url: String,
    headers: Vec<(String, String)>,
    body: Body,
    /// The request names `a` itself (by name): another project's key gets 403. Otherwise `a`
    /// is named only by ids, and another key must not learn that `a` exists.
    named: bool,
}

/// Every data endpoint, aimed at `a`; `who` marks what the request writes (`by-<who>`) and
/// `n` makes its ids fresh.
fn cases(c: &Collector, a: &Team, who: &str, n: usize) -> Vec<Case> {
    let http = |p: &str| c.url(p);
    let project = percent_encode(&a.name);
    let q = |path: &str| {
        let sep = if path.contains('?') { '&' } else { '?' };
        http(&format!("{path}{sep}project={project}"))
    };
    let header = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    let named_header = header(skein_model::PROJECT_HEADER, &a.name);
    let (trace, span) = (&a.trace, &a.span);
    let fresh_run = format!("01a20c28-aec6-77ac-bd5e-{:012x}", 0x1000 + n);
    let fresh_span = format!("{:016x}", 0x5000 + n);
    let mine = format!("by-{who}");
    let session = ids::project_uuid(&a.name).to_string();
    let case = |method, url, headers, body, named| Case {
        method,
        url,
        headers,
        body,
        named,
    };
    let get = |url| case("GET", url, vec![], Body::Empty, true);
    vec![
        get(q("/api/v1/traces")),
        case(
            "GET",
            http("/api/v1/traces"),
            named_header.clone(),
            Body::Empty,
            true,
        ),
        get(q(&format!("/api/v1/traces/{trace}"))),
        get(q(&format!("/api/v1/traces/{trace}/spans/{span}"))),
        get(q(&format!("/api/v1/traces/{trace}/search?q=otlp"))),
        get(q("/api/v1/tags")),
        get(q("/api/v1/tags/env/values")),
        get(q("/api/v1/services")),
        get(q("/api/v1/services/graph")),
        get(q("/api/v1/sessions")),
        get(q("/api/v1/users")),
        get(q("/api/v1/metrics?metric=count")),
        get(q(&format!("/api/v1/feedback?trace_id={trace}"))),
        case(
            "POST",
            q("/api/v1/feedback"),
            vec![],
            Body::Json(json!({"run_id": span, "trace_id": trace, "key": mine, "score": 1.0})),
            true,
        ),
        case(
            "PATCH",
            q(&format!("/api/v1/feedback/{}", a.feedback_id)),
            vec![],
            Body::Json(json!({"comment": mine})),
            true,
        ),
        case(
            "POST",
            http("/v1/traces"),
            named_header.clone(),
            Body::Json(otlp_body(trace, &fresh_span, &mine)),
            true,
        ),
        case(
            "POST",
            c.otlp_traces.clone(),
            named_header.clone(),
            Body::Json(otlp_body(trace, &fresh_span, &mine)),
            true,
        ),
        // LangSmith.
        case(
            "GET",
            http(&format!("/api/langsmith/sessions?name={project}")),
            vec![],
            Body::Empty,
            false,
        ),
        case(
            "GET",
            http("/api/langsmith/sessions"),
            vec![],
            Body::Empty,
            false,
        ),
        case(
            "GET",
            http(&format!("/api/langsmith/sessions/{session}")),
            vec![],
            Body::Empty,
            false,
        ),
        case(
            "POST",
            http("/api/langsmith/sessions"),
            vec![],
            Body::Json(json!({"name": a.name})),
            true,
        ),
        case(
            "POST",
            http("/api/langsmith/runs/query"),
            vec![],
            Body::Json(json!({"session": [session]})),
            false,
        ),
        case(
            "POST",
            http("/api/langsmith/runs/query"),
            vec![],
            Body::Json(json!({"id": [a.run]})),
            false,
        ),
        case(
            "POST",
            http("/api/langsmith/runs/query"),
            vec![],
            Body::Json(json!({"trace": a.run})),
            false,
        ),
        case(
            "GET",
            http(&format!("/api/langsmith/runs/{}", a.run)),
            vec![],
            Body::Empty,
            false,
        ),
        case(
            "POST",
            http("/api/langsmith/runs/batch"),
            vec![],
            Body::Json(json!({"post": [ls_run(&fresh_run, &mine, Some(&a.name))]})),
            true,
        ),
        case(
            "POST",
            http("/api/langsmith/runs/batch"),
            header("langsmith-project", &a.name),
            Body::Json(json!({"post": [ls_run(&fresh_run, &mine, None)]})),
            true,
        ),
        case(
            "POST",
            http("/api/langsmith/runs/multipart"),
            vec![],
            multipart(&ls_run(&fresh_run, &mine, Some(&a.name))),
            true,
        ),
        case(
            "POST",
            http("/api/langsmith/runs"),
            vec![],
            Body::Json(ls_run(&fresh_run, &mine, Some(&a.name))),
            true,
        ),
        case(
            "PATCH",
            http(&format!("/api/langsmith/runs/{}", a.run)),
            vec![],
            Body::Json(json!({"end_time": "2026-11-24T06:04:50Z", "outputs": {"by": mine}})),
            false,
        ),
        case(
            "POST",
            http("/api/langsmith/feedback"),
            vec![],
            Body::Json(json!({"run_id": a.run, "key": mine, "score": 1})),
            false,
        ),
        case(
            "POST",
            http("/api/langsmith/otel/v1/traces"),
            header("langsmith-project", &a.name),
            Body::Json(otlp_body(trace, &fresh_span, &mine)),
            true,
        ),
    ]
}

/// Whether an answer shows anything of `team`: its stored data, or (`name_too`) its name.
fn shows(answer: &str, team: &Team, name_too: bool) -> bool {
    answer.contains(&format!("secret-{}", team.trace)) || (name_too && answer.contains(&team.probe))
}

#[tokio::test]
async fn every_endpoint_checks_the_key_and_its_project_in_any_script() {
    let dir = tempfile::tempdir().unwrap();
    // 42 three-byte characters and two ASCII: 128 bytes, the longest name accepted.
    let long = format!("{}ab", "長".repeat(42));
    assert_eq!(long.len(), 128);
    let names: [(&str, &str); 5] = [
        ("équipe", "équipe"),
        ("команда \"q\" 'x'", "команда"),
        ("チーム 東京", "チーム"),
        (&long, "長長長長"),
        ("team a", "team a"),
    ];
    let mut teams = Vec::new();
    for (i, (name, probe)) in names.iter().enumerate() {
        skein_cli(dir.path(), &["project", "create", name]);
        let key = skein_cli(dir.path(), &["key", "create", "--project", name]);
        assert!(key.starts_with("skein_"));
        teams.push(Team {
            name: name.to_string(),
            probe: probe.to_string(),
            key,
            trace: format!("{:032x}", 0xa0 + i),
            span: format!("{:016x}", 0xa0 + i),
            run: format!("01a20c28-aec6-77ac-bd5e-{:012x}", 0xa0 + i),
            feedback_id: String::new(),
        });
    }
    let collector = Collector::start_in(dir, &[]);
    let c = &collector;

    // Each team stores a trace, a LangSmith run and feedback with its key, naming no project:
    // the key decides.
    for t in &mut teams {
        let key = Key::Bearer(&t.key);
        let secret = format!("secret-{}", t.trace);
        let (status, answer) = call(
            "POST",
            &c.otlp_traces,
            key,
            Some(&otlp_body(&t.trace, &t.span, &secret)),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        let (status, answer) = call(
            "POST",
            &c.url("/api/langsmith/runs/batch"),
            key,
            Some(&json!({"post": [ls_run(&t.run, &secret, None)]})),
        )
        .await;
        assert_eq!(status, 202, "{answer}");
        let (status, answer) = call(
            "POST",
            &c.url("/api/v1/feedback"),
            key,
            Some(&json!({"run_id": t.span, "trace_id": t.trace, "key": secret, "score": 1})),
        )
        .await;
        assert_eq!(status, 201, "{answer}");
        t.feedback_id = serde_json::from_str::<Value>(&answer).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
    }

    let mut n = 0;
    for i in 0..teams.len() {
        let (a, b) = (&teams[i], &teams[(i + 1) % teams.len()]);
        let context = format!("team {:?} from team {:?}", a.name, b.name);
        // Without a key, or with one Skein does not know: 401, in the JSON error shape.
        for case in cases(c, a, "nobody", 0) {
            for key in [
                Key::None,
                Key::Bearer(
                    "skein_0000000000000000000000000000000000000000000000000000000000000000",
                ),
            ] {
                let (status, answer) =
                    send(case.method, &case.url, key, &case.headers, &case.body).await;
                assert_eq!(
                    status, 401,
                    "{} {} ({context}): {answer}",
                    case.method, case.url
                );
                assert!(
                    answer.contains("\"error\""),
                    "{} {}: {answer}",
                    case.method,
                    case.url
                );
                assert!(
                    !shows(&answer, a, false),
                    "{} {}: {answer}",
                    case.method,
                    case.url
                );
            }
        }
        // Another project's key: 403 where the request names the project; where it names
        // only ids, an answer that neither shows nor betrays the project.
        n += 1;
        let intruder = format!("b{i}");
        for case in cases(c, a, &intruder, n) {
            let (status, answer) = send(
                case.method,
                &case.url,
                Key::Bearer(&b.key),
                &case.headers,
                &case.body,
            )
            .await;
            let what = format!(
                "{} {} with the key of {:?} ({context})",
                case.method, case.url, b.name
            );
            assert!(
                !shows(&answer, a, !case.named),
                "{what} shows {:?}: {status} {answer}",
                a.name
            );
            if case.named {
                assert_eq!(status, 403, "{what}: {answer}");
            } else {
                assert!(status != 403 && status < 500, "{what}: {status} {answer}");
            }
        }
        // The project's own key, by Authorization or x-api-key.
        n += 1;
        for (j, case) in cases(c, a, "a", n).into_iter().enumerate() {
            let key = if j % 2 == 0 {
                Key::Bearer(&a.key)
            } else {
                Key::Header(&a.key)
            };
            let (status, answer) =
                send(case.method, &case.url, key, &case.headers, &case.body).await;
            assert!(
                (200..300).contains(&status),
                "{} {} with its own key ({context}): {status} {answer}",
                case.method,
                case.url
            );
        }
        // Nothing another key sent landed in the project (it may have landed in the other
        // key's own project).
        let project = percent_encode(&a.name);
        let own = Key::Bearer(&a.key);
        let intruder = format!("by-{intruder}");
        for path in [
            format!("/api/v1/traces?project={project}"),
            format!("/api/v1/feedback?key={intruder}&project={project}"),
            format!("/api/v1/feedback?trace_id={}&project={project}", a.trace),
            format!("/api/langsmith/runs/{}", a.run),
        ] {
            let (status, answer) = call("GET", &c.url(&path), own, None).await;
            assert_eq!(status, 200, "{path}: {answer}");
            assert!(!answer.contains(&intruder), "{path} ({context}): {answer}");
        }
    }

    // A key naming no project sees its own only: nothing of another in any answer.
    for (i, b) in teams.iter().enumerate() {
        let a = &teams[(i + teams.len() - 1) % teams.len()];
        for path in [
            "/api/v1/traces".to_string(),
            "/api/v1/projects".to_string(),
            "/api/v1/tags/env/values".to_string(),
            format!("/api/v1/traces/{}", a.trace),
            format!("/api/v1/feedback?trace_id={}", a.trace),
            "/api/langsmith/sessions".to_string(),
        ] {
            let (status, answer) = call("GET", &c.url(&path), Key::Bearer(&b.key), None).await;
            assert!(status == 200 || status == 404, "{path}: {status} {answer}");
            assert!(
                !shows(&answer, a, true),
                "{path} with {:?}'s key shows {:?}: {answer}",
                b.name,
                a.name
            );
        }
        let (_, own) = call("GET", &c.url("/api/v1/traces"), Key::Bearer(&b.key), None).await;
        assert!(own.contains(&format!("secret-{}", b.trace)), "{own}");
    }

    // The dashboard's files and the health check need no key.
    let (status, _) = call("GET", &c.url("/api/v1/health"), Key::None, None).await;
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
