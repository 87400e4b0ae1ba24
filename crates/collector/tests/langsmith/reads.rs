//! The SDK's reads and edits beyond tracing (feedback, `client.runs`, sessions, run links,
//! projects, run filters) on SQLite and ClickHouse, and what a key may see of them.

use super::*;

#[tokio::test]
async fn feedback_that_arrives_before_its_run_waits_for_it() {
    let collector = Collector::start();
    let run = "0190f4b2-7c3e-7a00-8000-0000000000aa";
    let body = json!({"run_id": run, "key": "user_satisfaction", "score": 0.5});
    let early = {
        let url = collector.url("/api/langsmith/feedback");
        tokio::spawn(async move {
            let response = client()
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .expect("POST /feedback");
            (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            )
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let run_body = json!({"id": run, "trace_id": run, "name": "late", "run_type": "chain",
                          "session_name": "late-project", "start_time": "2026-11-24T06:05:18Z"});
    let (status, answer) = post(
        &collector,
        "/runs",
        &[("content-type", "application/json")],
        run_body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let (status, answer) = early.await.unwrap();
    assert_eq!(status, 200, "{answer}");
    // It landed in the run's project, on the run.
    let list = get_json(&collector.url(&format!(
        "/api/v1/feedback?project=late-project&trace_id={}",
        trace_hex(run)
    )))
    .await;
    assert_eq!(list["feedback"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["feedback"][0]["key"], "user_satisfaction");
}

#[tokio::test]
async fn sessions_and_queries_answer_what_the_sdk_expects() {
    let collector = Collector::start();
    let (status, _) = post_multipart(
        &collector,
        ZSTD_BOUNDARY,
        true,
        fixture("zstd_runs_multipart.bin"),
    )
    .await;
    assert_eq!(status, 202);
    let sessions = get_json(&collector.url("/api/langsmith/sessions?limit=1&name=wire-test")).await;
    let session = &sessions[0];
    assert_eq!(session["name"], "wire-test");
    assert!(session.get("reference_dataset_id").is_some());
    assert_eq!(session["run_count"], 7);
    let id = session["id"].as_str().unwrap();
    let again = get_json(&collector.url(&format!("/api/langsmith/sessions/{id}"))).await;
    assert_eq!(again["name"], "wire-test");

    let json_type = [("content-type", "application/json")];
    let query = |body: Value| {
        let collector = &collector;
        async move {
            let (status, answer) = post(
                collector,
                "/runs/query",
                &json_type,
                body.to_string().into_bytes(),
            )
            .await;
            assert_eq!(status, 200, "{answer}");
            answer
        }
    };
    let roots =
        query(json!({"session": [id], "is_root": true, "filter": "eq(name, \"main_agent\")"}))
            .await;
    assert_eq!(roots["runs"].as_array().unwrap().len(), 1);
    assert_eq!(roots["runs"][0]["id"], ZSTD_ROOT);
    let llms = query(json!({"session": [id], "run_type": "llm"})).await;
    assert_eq!(llms["runs"].as_array().unwrap().len(), 1);
    assert_eq!(llms["runs"][0]["name"], "sub_agent_1");
    let children = query(json!({"trace": ZSTD_ROOT, "is_root": false})).await;
    assert_eq!(children["runs"].as_array().unwrap().len(), 6);
    // Pages follow the cursor.
    let mut seen = Vec::new();
    let mut body = json!({"trace": ZSTD_ROOT, "limit": 3});
    loop {
        let page = query(body.clone()).await;
        seen.extend(
            page["runs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].clone()),
        );
        match page["cursors"]["next"].as_str() {
            Some(next) => body["cursor"] = json!(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
}

/// The README: once a key exists, `LANGSMITH_API_KEY` must be one (checked like every other
/// key). The unmodified SDK with a Skein key uploads and reads back; with any other value its
/// uploads get 401 and nothing is stored.
#[tokio::test]
async fn once_a_key_exists_the_sdk_needs_one_as_its_api_key() {
    let dir = tempfile::tempdir().unwrap();
    skein_cli(dir.path(), &["project", "create", "ls-keyed"]);
    let key = skein_cli(dir.path(), &["key", "create", "--project", "ls-keyed"]);
    let collector = Collector::start_in(dir, &[]);
    let traces = |key: &str| {
        let request = client()
            .get(collector.url("/api/v1/traces?project=ls-keyed"))
            .bearer_auth(key.to_string());
        async move {
            let response = request.send().await.expect("GET");
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };

    // Any other value: every upload refused, so the SDK's own read-back fails too.
    let mut command = Command::new(common::python());
    for (name, _) in std::env::vars() {
        if name.starts_with("LANGSMITH_") || name.starts_with("LANGCHAIN_") {
            command.env_remove(name);
        }
    }
    let output = command
        .arg(script())
        .arg("seed")
        .env("LANGSMITH_ENDPOINT", collector.url("/api/langsmith"))
        .env("LANGSMITH_API_KEY", "anything")
        .env("LANGSMITH_TRACING", "true")
        .env("LANGSMITH_PROJECT", "ls-keyed")
        .output()
        .expect("run python");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "the SDK got through without a key"
    );
    assert!(stderr.contains("401"), "{stderr}");
    let page = traces(&key).await;
    assert_eq!(page["total"], 0, "{page}");

    // The key: uploads, feedback and the SDK's reads go through.
    let out = run_sdk(
        &collector,
        "ls-keyed",
        &["seed"],
        &[("LANGSMITH_API_KEY", &key)],
    );
    assert_eq!(out["run_count"], 7, "{out}");
    assert_eq!(out["tree"]["name"], "main_agent");
    let trace = trace_hex(out["trace_id"].as_str().unwrap());
    let page = traces(&key).await;
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["traces"][0]["trace_id"], trace.as_str());
    assert_eq!(page["traces"][0]["span_count"], 7);
}

fn api_script() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/langsmith_api.py")
}

/// What the SDK's `Client` reads and edits beyond tracing, each call made by the real SDK and
/// its results checked as a user would see them (tests/python/langsmith_api.py).
#[tokio::test]
async fn the_sdks_reads_and_edits_answer_what_langsmith_would() {
    sdk_reads_and_edits(&[]).await;
}

/// The same on ClickHouse (Debian's clickhouse-server, `store/clickhouse/testserver.rs`).
#[tokio::test]
async fn the_sdks_reads_and_edits_answer_alike_on_clickhouse() {
    let server = testserver::server();
    let database = testserver::fresh_database();
    sdk_reads_and_edits(&[
        "--clickhouse-url",
        &server.url,
        "--clickhouse-database",
        &database,
    ])
    .await;
}

async fn sdk_reads_and_edits(store_args: &[&str]) {
    // A stand-in for the built dashboard: the trace page is its index.html.
    let dist = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>Skein</title>",
    )
    .expect("write index.html");
    let dist_arg = dist.path().to_str().expect("UTF-8 path");
    let mut args = vec!["--dist", dist_arg];
    args.extend_from_slice(store_args);
    let collector = Collector::start_with(&args);
    let web_url = collector.url("");
    let project = "ls-api";
    let out = run_script(
        api_script(),
        &collector,
        project,
        &[],
        &[("SKEIN_WEB_URL", web_url.as_str())],
    );
    let root = out["trace_id"].as_str().expect("root run id");
    let runs = &out["run_ids"];
    let sub2 = runs["sub_agent_2"].as_str().unwrap();

    // /info's version is one whose v2 runs API is here: the SDK warns of no old backend.
    assert_eq!(out["version"], "0.16.0");
    let warnings = out["warnings"].as_array().unwrap();
    assert!(
        !warnings.iter().any(|w| {
            let w = w.as_str().unwrap_or("").to_ascii_lowercase();
            w.contains("backend version") || w.contains("older than")
        }),
        "the SDK warned about the backend: {warnings:?}"
    );

    // create_project: started now, not in 1970.
    let offset = out["created_start_offset_s"].as_f64().unwrap();
    assert!(
        (-60.0..60.0).contains(&offset),
        "start time off by {offset} s"
    );

    // Feedback listed by run id, read, updated (a comment cleared), deleted.
    let fb = &out["feedback"];
    assert_eq!(
        fb["on_root"],
        json!(["business_value", "user_satisfaction"])
    );
    assert_eq!(fb["on_root_run_ids"], json!([root]));
    assert_eq!(
        fb["on_both"],
        json!(["business_value", "helpfulness", "user_satisfaction"])
    );
    assert_eq!(fb["helpful"], json!([["helpfulness", sub2, 1.0]]));
    assert_eq!(
        fb["read"],
        json!({"key": "user_satisfaction", "score": 0.95, "comment": "User rated 5 stars", "run_id": root})
    );
    assert_eq!(fb["updated"], json!({"score": 0.5, "comment": null}));
    assert_eq!(fb["deleted_read"], "not found");
    assert_eq!(fb["after_delete"], json!(["user_satisfaction"]));
    assert_eq!(
        fb["by_source"],
        json!({"api": ["helpfulness", "user_satisfaction"], "model": []})
    );
    assert_eq!(
        fb["by_project"],
        json!(["helpfulness", "user_satisfaction"])
    );

    // read_run: token totals where the model calls are (the LLM runs' 110 + 220 + 330), and
    // each run's own feedback.
    let read = &out["read_run"];
    assert_eq!(read["root_total_tokens"], 660);
    assert_eq!(read["execution_total_tokens"], 660);
    assert_eq!(read["sub2_total_tokens"], 220);
    assert_eq!(
        read["root_stats"],
        json!({"user_satisfaction": {"n": 1, "avg": 0.5}})
    );
    assert_eq!(
        read["sub2_stats"],
        json!({"helpfulness": {"n": 1, "avg": 1.0}})
    );

    // The v2 runs resource.
    let v2 = &out["v2"];
    assert_eq!(v2["roots"], json!(["billing_agent", "main_agent"]));
    assert_eq!(v2["root_total_tokens"]["main_agent"], 660);
    assert_eq!(v2["root_status"]["main_agent"], "SUCCESS");
    assert_eq!(
        v2["in_trace"],
        json!([
            "execution_agent",
            "main_agent",
            "planning_agent",
            "sub_agent_1",
            "sub_agent_2",
            "sub_agent_3",
            "synthesis_agent"
        ])
    );
    assert_eq!(
        v2["llms"],
        json!(["sub_agent_1", "sub_agent_2", "sub_agent_3"])
    );
    assert_eq!(v2["paged"], 7, "pages of 2 follow the cursor to all 7");
    assert_eq!(v2["by_id"], json!([["sub_agent_2", 220]]));
    assert_eq!(v2["by_id_has_no_unselected"], true);
    assert_eq!(
        v2["retrieved"],
        json!({"name": "main_agent", "total_tokens": 660, "feedback": {"user_satisfaction": 1}})
    );

    // Every run link opens the run on its trace page, on Skein's own address.
    let trace = trace_hex(root);
    let root_page = collector.url(&format!("/traces/{trace}?span="));
    let get_run_url = out["get_run_url"].as_str().unwrap();
    assert!(
        get_run_url.starts_with(&format!("{web_url}/o/")),
        "{get_run_url}"
    );
    for (name, run) in [("get_run_url", root), ("run_url", root), ("v2_url", sub2)] {
        let followed = &out["followed"][name];
        let span = span_id_of(&collector, project, &trace, run).await;
        assert_eq!(
            followed["final"],
            format!("{root_page}{span}&project={project}"),
            "{name}: {followed}"
        );
        assert_eq!(
            followed["status"], 200,
            "{name}: the dashboard's page: {followed}"
        );
    }
    assert_eq!(
        out["followed"]["get_run_url"]["redirects"],
        json!([303, 303])
    );
    // The project's link (`create_project(...).url`) opens its trace list.
    assert_eq!(
        out["followed"]["project_url"]["final"],
        collector.url(&format!("/traces?project={project}"))
    );
    assert_eq!(out["followed"]["project_url"]["status"], 200);

    // list_runs on a project nobody created raises the SDK's not-found error; one that
    // create_project made is found, empty.
    assert_eq!(out["unknown_project"], "not found");
    assert_eq!(out["empty_project_runs"], 0);

    // The runs' service: the project, unless the run names one (`service.name` metadata).
    let page = common::wait_for_traces(&collector, &format!("project={project}"), 2).await;
    let services: BTreeMap<String, Value> = page["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["root_name"].as_str().unwrap().to_string(),
                t["services"].clone(),
            )
        })
        .collect();
    assert_eq!(services["main_agent"], json!([project]));
    assert_eq!(services["billing_agent"], json!(["billing"]));
}

/// The span id Skein gave a run, as the trace's spans say (`langsmith.run_id`).
async fn span_id_of(collector: &Collector, project: &str, trace: &str, run: &str) -> String {
    let spans = spans_by_name(collector, project, trace).await;
    spans
        .values()
        .find(|s| s["attributes"]["langsmith.run_id"] == run)
        .and_then(|s| s["span_id"].as_str())
        .unwrap_or_else(|| panic!("no span of run {run}"))
        .to_string()
}

/// With keys, the feedback, v2 run and run-link endpoints answer a key about its own project
/// only: another project's key finds nothing, changes nothing, and learns no trace id.
#[tokio::test]
async fn another_projects_key_sees_no_feedback_runs_or_links() {
    let dir = tempfile::tempdir().unwrap();
    for project in ["ls-a", "ls-b"] {
        skein_cli(dir.path(), &["project", "create", project]);
    }
    let key_a = skein_cli(dir.path(), &["key", "create", "--project", "ls-a"]);
    let key_b = skein_cli(dir.path(), &["key", "create", "--project", "ls-b"]);
    let collector = Collector::start_in(dir, &[]);
    let out = run_sdk(
        &collector,
        "ls-a",
        &["seed"],
        &[("LANGSMITH_API_KEY", &key_a)],
    );
    let root = out["trace_id"].as_str().unwrap().to_string();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let call = |method: Method, path: String, key: Option<&str>, body: Option<Value>| {
        let mut request = no_redirects.request(method, collector.url(&path));
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string());
            let text = response.text().await.unwrap();
            (status, location, text)
        }
    };
    let (_, _, sessions) = call(
        Method::GET,
        "/api/langsmith/sessions?name=ls-a".into(),
        Some(&key_a),
        None,
    )
    .await;
    let sessions: Value = serde_json::from_str(&sessions).unwrap();
    let project_a = sessions[0]["id"].as_str().unwrap().to_string();

    let (status, _, listed) = call(
        Method::GET,
        format!("/api/langsmith/feedback?run={root}"),
        Some(&key_a),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    let id = listed[0]["id"].as_str().unwrap().to_string();

    // Key B: nothing of A's.
    let (status, _, body) = call(
        Method::GET,
        format!("/api/langsmith/feedback?run={root}"),
        Some(&key_b),
        None,
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "[]"));
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH).then(|| json!({"score": 0}));
        let (status, _, text) = call(
            method.clone(),
            format!("/api/langsmith/feedback/{id}"),
            Some(&key_b),
            body,
        )
        .await;
        assert_eq!(status, 404, "{method} with another project's key: {text}");
    }
    let (status, _, text) = call(
        Method::GET,
        format!("/api/langsmith/feedback/{id}"),
        Some(&key_a),
        None,
    )
    .await;
    assert_eq!(status, 200, "A's feedback is still there: {text}");
    for path in [
        format!("/api/langsmith/api/v2/runs/{root}?project_id={project_a}&selects=NAME"),
        format!("/api/langsmith/api/v2/runs/{root}/url?project_id={project_a}&trace_id={root}"),
        format!("/api/langsmith/runs/{root}/open"),
        format!("/api/langsmith/sessions/{project_a}/open"),
    ] {
        let (status, location, text) = call(Method::GET, path.clone(), Some(&key_b), None).await;
        assert_eq!((status, location), (404, None), "{path}: {text}");
    }
    let (status, _, text) = call(
        Method::POST,
        "/api/langsmith/api/v2/runs/query".into(),
        Some(&key_b),
        Some(json!({"project_ids": [project_a], "trace_id": root, "selects": ["NAME"]})),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["items"],
        json!([])
    );

    // The link the SDK writes leads on to the opener, which wants the project's key.
    let link = format!("/o/00000000-0000-0000-0000-000000000000/projects/p/{project_a}/r/{root}");
    let (status, location, _) = call(Method::GET, link, None, None).await;
    assert_eq!(status, 303);
    let opener = location.unwrap();
    assert_eq!(opener, format!("/api/langsmith/runs/{root}/open"));
    let (status, _, _) = call(Method::GET, opener.clone(), None, None).await;
    assert_eq!(status, 401);
    let (status, location, _) = call(Method::GET, opener, Some(&key_a), None).await;
    assert_eq!(status, 303);
    let page = location.unwrap();
    assert!(
        page.starts_with(&format!("/traces/{}?span=", trace_hex(&root)))
            && page.ends_with("&project=ls-a"),
        "{page}"
    );
}

/// The SDK's `list_runs(filter=..., trace_filter=..., tree_filter=...)` answers what
/// LangSmith's semantics say (tests/python/langsmith_filters.py): `filter` on the run,
/// `trace_filter` on its trace's root, `tree_filter` on any run of its trace.
#[tokio::test]
async fn the_sdks_run_filters_select_as_langsmith_would() {
    let collector = Collector::start();
    let out = run_script(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/langsmith_filters.py"
        ),
        &collector,
        "ls-filters",
        &[],
        &[],
    );
    assert_eq!(out["all"], 7, "{out}");
    let (a, b) = (
        out["roots"]["A"].as_str().unwrap(),
        out["roots"]["B"].as_str().unwrap(),
    );
    let names = |key: &str| -> Vec<(String, String)> {
        out[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key}: {out}"))
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_string(),
                    r["trace"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let run = |name: &str, trace: &str| (name.to_string(), trace.to_string());
    let mut llm = vec![run("chat_model", a), run("chat_model", b)];
    llm.sort();
    assert_eq!(names("llm"), llm);
    assert!(out["llm"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["run_type"] == "llm"));
    assert_eq!(names("llm_in_b"), vec![run("chat_model", b)]);
    assert_eq!(names("roots_with_deep_tool"), vec![run("filter_root", b)]);
    assert_eq!(names("beta"), vec![run("lookup_tool", a)]);
    assert_eq!(
        names("not_llm_or_root"),
        vec![
            run("deep_tool", b),
            run("lookup_tool", a),
            run("writer_node", b)
        ]
    );
    assert_eq!(names("trace_a_by_id").len(), 3, "{out}");
    // Full-text search: the runs whose input holds the text, whatever its case.
    assert_eq!(
        names("search"),
        vec![run("deep_tool", b), run("writer_node", b)]
    );
    assert_eq!(names("search_tools"), vec![run("deep_tool", b)]);
    assert_eq!(names("roots_searched"), vec![run("filter_root", b)]);
    assert_eq!(names("search_nothing"), vec![], "{out}");
    let bad = out["bad_filter"].as_str().unwrap();
    assert!(
        bad.contains("400") && bad.contains("latncy"),
        "a bad filter is refused, saying why: {bad}"
    );
}
