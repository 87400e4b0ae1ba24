//! Sessions, users and the service graph over HTTP, against the real binary: ids from every
//! source ingest knows (OTel `session.id`, `gen_ai.conversation.id`, `user.id`, `enduser.id`,
//! plain `thread_id`/`user_id` attributes, LangSmith metadata), request order, conversation
//! text, feedback, filters, sorts and cursors; the graph's edges, counts and percentiles.

mod common;

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use common::{client, get_json, send_services, Collector};
use serde_json::{json, Value};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// One OTLP JSON span with its service.
struct S {
    service: &'static str,
    span: Value,
}

#[allow(clippy::too_many_arguments)]
fn span(
    trace: u64,
    id: u64,
    parent: Option<u64>,
    service: &'static str,
    name: &str,
    kind: i64,
    start_ms: i64,
    duration_ms: i64,
    attributes: &[(&str, Value)],
    error: bool,
) -> S {
    let attrs: Vec<Value> = attributes
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => json!({"stringValue": s}),
                Value::Number(n) if n.is_i64() => json!({"intValue": n.to_string()}),
                Value::Number(n) => json!({"doubleValue": n}),
                Value::Bool(b) => json!({"boolValue": b}),
                other => json!({"stringValue": other.to_string()}),
            };
            json!({"key": k, "value": value})
        })
        .collect();
    let mut s = json!({
        "traceId": format!("{trace:032x}"),
        "spanId": format!("{id:016x}"),
        "name": name,
        "kind": kind,
        "startTimeUnixNano": (start_ms * 1_000_000).to_string(),
        "endTimeUnixNano": ((start_ms + duration_ms) * 1_000_000).to_string(),
        "attributes": attrs,
        "status": {"code": if error { 2 } else { 0 }},
    });
    if let Some(p) = parent {
        s["parentSpanId"] = json!(format!("{p:016x}"));
    }
    S { service, span: s }
}

async fn post_spans(collector: &Collector, project: &str, spans: Vec<S>) {
    let mut by_service: Vec<(&str, Vec<Value>)> = Vec::new();
    for s in spans {
        match by_service.iter_mut().find(|(name, _)| *name == s.service) {
            Some((_, list)) => list.push(s.span),
            None => by_service.push((s.service, vec![s.span])),
        }
    }
    send_services(collector, project, by_service).await;
}

async fn get_status(url: &str) -> (u16, Value) {
    let response = client().get(url).send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| v[key].as_str().expect("an id").to_string())
        .collect()
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_lists_filter_sort_and_page_without_gaps() {
    let collector = Collector::start();
    let p = "paging";
    let t0 = now_ms() - 86_400_000;
    let mut spans = Vec::new();
    let mut trace = 0u64;
    // 23 sessions: session i has (i % 4) + 1 requests, a minute apart, cost i/100 each.
    for i in 0..23u64 {
        for r in 0..(i % 4) + 1 {
            trace += 1;
            spans.push(span(
                0x1000 + trace,
                0x1000 + trace,
                None,
                "svc",
                "req",
                2,
                t0 + (i as i64) * 600_000 + (r as i64) * 60_000,
                100 + i as i64,
                &[
                    ("session.id", json!(format!("s{i:02}"))),
                    ("user.id", json!(format!("u{}", i % 5))),
                    ("llm.cost.total", json!(i as f64 / 100.0 + 0.001)),
                    ("env", json!(if i % 2 == 0 { "even" } else { "odd" })),
                ],
                false,
            ));
        }
    }
    post_spans(&collector, p, spans).await;

    async fn all_pages(collector: &Collector, query: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..50 {
            let mut url =
                collector.url(&format!("/api/v1/sessions?project=paging&limit=5&{query}"));
            if let Some(c) = &cursor {
                url.push_str(&format!(
                    "&cursor={}",
                    skein_model::query::percent_encode(c)
                ));
            }
            let page = get_json(&url).await;
            assert_eq!(page["total"], 23, "{query}: the total is of the whole list");
            out.extend(page["sessions"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
        panic!("too many pages");
    }

    for (sort, key) in [
        ("", "last_start_ns"),
        ("sort=requests_desc", "request_count"),
        ("sort=cost_desc", "cost"),
        ("sort=first_asc", "first_start_ns"),
        ("sort=duration_desc", "total_duration_ns"),
    ] {
        let rows = all_pages(&collector, sort).await;
        let ids: Vec<&str> = rows
            .iter()
            .map(|r| r["session_id"].as_str().unwrap())
            .collect();
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), 23, "{sort}: every session once: {ids:?}");
        let keys: Vec<f64> = rows.iter().map(|r| r[key].as_f64().unwrap()).collect();
        let ascending = sort == "sort=first_asc";
        for pair in keys.windows(2) {
            assert!(
                if ascending {
                    pair[0] <= pair[1]
                } else {
                    pair[0] >= pair[1]
                },
                "{sort}: {keys:?}"
            );
        }
    }

    // Filters: tags and time select requests.
    let even =
        get_json(&collector.url(&format!("/api/v1/sessions?project={p}&tag=env%3Deven"))).await;
    assert_eq!(even["total"], 12);
    let from = t0 + 10 * 600_000;
    let to = t0 + 12 * 600_000;
    let window =
        get_json(&collector.url(&format!("/api/v1/sessions?project={p}&from={from}&to={to}")))
            .await;
    assert_eq!(ids(&window["sessions"], "session_id"), ["s11", "s10"]);
    let users =
        get_json(&collector.url(&format!("/api/v1/users?project={p}&sort=sessions_desc"))).await;
    assert_eq!(users["total"], 5);
    assert!(users["users"][0]["session_count"].as_u64().unwrap() >= 4);

    // Bad input is a 400 naming the problem.
    for (query, word) in [
        ("sort=sideways", "sort"),
        ("cursor=garbage", "cursor"),
        ("from=yesterday", "from"),
        ("tag=novalue", "key=value"),
        ("sort=cost_desc&cursor=i5~x", "sort order"),
    ] {
        let (status, body) =
            get_status(&collector.url(&format!("/api/v1/sessions?project={p}&{query}"))).await;
        assert_eq!(status, 400, "{query}");
        assert!(
            body["error"].as_str().unwrap().contains(word),
            "{query}: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_graph_counts_calls_between_services() {
    let collector = Collector::start();
    let p = "graph";
    let t0 = now_ms() - 600_000;
    let mut spans = Vec::new();
    // Four requests: gateway (server) → gateway client → orders (server, 10/20/30/40 ms; the
    // last fails) → orders internal → orders client → stock (server).
    for i in 0..4u64 {
        let trace = 0x100 + i;
        let base = 0x1000 * (i + 1);
        let start = t0 + i as i64 * 1_000;
        let d = 10 * (i as i64 + 1);
        spans.push(span(
            trace,
            base + 1,
            None,
            "gateway",
            "GET /order",
            2,
            start,
            100,
            &[("env", json!(if i < 2 { "a" } else { "b" }))],
            false,
        ));
        spans.push(span(
            trace,
            base + 2,
            Some(base + 1),
            "gateway",
            "call orders",
            3,
            start + 1,
            d + 2,
            &[],
            false,
        ));
        spans.push(span(
            trace,
            base + 3,
            Some(base + 2),
            "orders",
            "GET /orders",
            2,
            start + 2,
            d,
            &[],
            i == 3,
        ));
        spans.push(span(
            trace,
            base + 4,
            Some(base + 3),
            "orders",
            "work",
            1,
            start + 3,
            1,
            &[],
            false,
        ));
        spans.push(span(
            trace,
            base + 5,
            Some(base + 4),
            "orders",
            "call stock",
            3,
            start + 4,
            3,
            &[],
            false,
        ));
        spans.push(span(
            trace,
            base + 6,
            Some(base + 5),
            "stock",
            "GET /stock",
            2,
            start + 5,
            1,
            &[],
            false,
        ));
    }
    // An orphan in another service: a node (its parent never arrived), no edge.
    spans.push(span(
        0x200,
        0x9001,
        Some(0x9999),
        "batch",
        "job",
        1,
        t0,
        5,
        &[],
        false,
    ));
    post_spans(&collector, p, spans).await;

    let graph = get_json(&collector.url(&format!("/api/v1/services/graph?project={p}"))).await;
    assert_eq!(graph["trace_count"], 5);
    assert_eq!(graph["span_count"], 25);
    let nodes: Vec<&str> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        nodes,
        ["batch", "gateway", "orders", "stock"],
        "sorted by name"
    );
    let edges = graph["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2, "{edges:?}");
    let orders = &edges[0];
    assert_eq!(
        (orders["caller"].as_str(), orders["callee"].as_str()),
        (Some("gateway"), Some("orders"))
    );
    assert_eq!(orders["calls"], 4);
    assert_eq!(orders["errors"], 1);
    // Durations 10, 20, 30, 40 ms: p50 25 ms, p95 38.5 ms (linear interpolation).
    assert_eq!(orders["p50_ns"], 25_000_000);
    assert_eq!(orders["p95_ns"], 38_500_000);
    assert_eq!(
        (edges[1]["caller"].as_str(), edges[1]["callee"].as_str()),
        (Some("orders"), Some("stock"))
    );
    assert_eq!(edges[1]["calls"], 4);
    let node = |name: &str| {
        graph["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(node("gateway")["root_calls"], 4);
    assert_eq!(node("gateway")["calls"], 4);
    assert_eq!(
        node("orders")["calls"],
        4,
        "entry spans only, not its internal spans"
    );
    assert_eq!(node("orders")["errors"], 1);
    assert_eq!(node("batch")["calls"], 1);
    assert_eq!(node("batch")["root_calls"], 0, "an orphan is not a root");

    // Tags and time narrow the traces.
    let b =
        get_json(&collector.url(&format!("/api/v1/services/graph?project={p}&tag=env%3Db"))).await;
    assert_eq!(b["edges"][0]["calls"], 2);
    assert_eq!(b["edges"][0]["errors"], 1);
    let early = get_json(&collector.url(&format!(
        "/api/v1/services/graph?project={p}&from={}&to={}",
        t0 - 10,
        t0 + 500
    )))
    .await;
    assert_eq!(early["edges"][0]["calls"], 1);
    let before = get_json(&collector.url(&format!(
        "/api/v1/services/graph?project={p}&from=0&to=1000"
    )))
    .await;
    assert_eq!(before["nodes"], json!([]));
    assert_eq!(before["trace_count"], 0);

    // Ranges are bounded and must run forwards.
    for query in ["from=0&to=999999999999999", "from=20&to=10", "from=x"] {
        let (status, body) =
            get_status(&collector.url(&format!("/api/v1/services/graph?project={p}&{query}")))
                .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body["error"].is_string());
    }
}
