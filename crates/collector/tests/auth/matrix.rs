//! The matrix: every data endpoint against every kind of key, in projects named in any script.

use crate::common::{skein_cli, Collector};
use crate::{call, ls_run, multipart, otlp_body, send, Body, Key};
use serde_json::{json, Value};
use skein_collector::langsmith::ids;
use skein_model::query::percent_encode;

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
