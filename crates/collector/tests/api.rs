//! The query and feedback API and the dashboard's files, over HTTP against the real binary.

mod common;

use common::{client, get_json, wait_for_traces, Collector};
use serde_json::json;

#[tokio::test]
async fn demo_data_fills_the_list_filters_and_pages() {
    let collector = Collector::start_with(&["--demo"]);
    let all = wait_for_traces(&collector, "", 2000).await;
    assert_eq!(all["total"], 2000);
    assert_eq!(all["traces"].as_array().unwrap().len(), 50);

    // Tag filters are AND-ed and every row matches them.
    let filtered = get_json(
        &collector.url("/api/v1/traces?tag=ab_test_variant=B&tag=env=production&limit=200"),
    )
    .await;
    let total = filtered["total"].as_u64().unwrap();
    assert!(total > 100 && total < 2000, "{total}");
    for t in filtered["traces"].as_array().unwrap() {
        assert_eq!(t["tags"]["ab_test_variant"], "B");
        assert_eq!(t["tags"]["env"], "production");
    }

    // Errors only, slowest first.
    let errors = get_json(&collector.url("/api/v1/traces?status=error&sort=duration_desc")).await;
    let rows = errors["traces"].as_array().unwrap();
    assert!(!rows.is_empty());
    let durations: Vec<i64> = rows
        .iter()
        .map(|t| t["end_ns"].as_i64().unwrap() - t["start_ns"].as_i64().unwrap())
        .collect();
    assert!(
        durations.windows(2).all(|w| w[0] >= w[1]),
        "not sorted: {durations:?}"
    );
    assert!(rows.iter().all(|t| t["error_count"].as_u64().unwrap() > 0));

    // Following the cursor visits every trace once.
    let mut seen = std::collections::HashSet::new();
    let mut url = collector.url("/api/v1/traces?limit=500");
    loop {
        let page = get_json(&url).await;
        for t in page["traces"].as_array().unwrap() {
            assert!(
                seen.insert(t["trace_id"].as_str().unwrap().to_string()),
                "a trace came twice"
            );
        }
        match page["next_cursor"].as_str() {
            Some(c) => url = collector.url(&format!("/api/v1/traces?limit=500&cursor={c}")),
            None => break,
        }
    }
    assert_eq!(seen.len(), 2000);

    // Suggestions for the filter bar.
    let keys = get_json(&collector.url("/api/v1/tags")).await;
    let keys: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key"].as_str().unwrap())
        .collect();
    for k in [
        "env",
        "version",
        "feature",
        "user_tier",
        "experiment",
        "ab_test_variant",
    ] {
        assert!(keys.contains(&k), "{k} not in {keys:?}");
    }
    let variants = get_json(&collector.url("/api/v1/tags/ab_test_variant/values")).await;
    let mut values: Vec<&str> = variants
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].as_str().unwrap())
        .collect();
    values.sort();
    assert_eq!(values, vec!["A", "B"]);

    // Every service of the seed's microservice tree is there.
    let services = get_json(&collector.url("/api/v1/services")).await;
    let names: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for s in [
        "api-gateway",
        "auth-service",
        "agent-service",
        "model-service",
        "tool-service",
        "search-service",
        "cache-service",
        "analytics-service",
    ] {
        assert!(names.contains(&s), "{s} not in {names:?}");
    }

    // Sessions: a session's requests carry their sequence.
    let first = &all["traces"][0];
    let session = first["session_id"].as_str().unwrap();
    let in_session =
        get_json(&collector.url(&format!("/api/v1/traces?session={session}&sort=start_asc"))).await;
    let sequence: Vec<&str> = in_session["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tags"]["request_sequence"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (1..=sequence.len()).map(|i| i.to_string()).collect();
    assert_eq!(sequence, expected);
}

/// The filter box's suggestions for `model` and `name`: the values the project's spans carry
/// (the model as OTLP's GenAI attributes name it), most used first, by prefix.
#[tokio::test]
async fn stored_models_and_span_names_are_suggested() {
    let collector = Collector::start();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let span = |trace: u64, id: u64, name: &str, model: Option<&str>| {
        let mut attributes = vec![];
        if let Some(m) = model {
            attributes.push(json!({"key": "gen_ai.request.model", "value": {"stringValue": m}}));
            attributes
                .push(json!({"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}));
        }
        json!({"traceId": format!("{trace:032x}"), "spanId": format!("{id:016x}"), "name": name,
            "startTimeUnixNano": (now + id).to_string(),
            "endTimeUnixNano": (now + id + 1_000_000).to_string(), "attributes": attributes})
    };
    let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": [
        span(1, 1, "agent", None),
        span(1, 2, "chat gpt-4o", Some("gpt-4o")),
        span(2, 3, "chat gpt-4o", Some("gpt-4o")),
        span(2, 4, "chat mini", Some("gpt-4o-mini")),
    ]}]}]});
    let response = client()
        .post(&collector.otlp_traces)
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert!(response.status().is_success());
    let values = |path: &str| {
        let url = collector.url(path);
        async move {
            get_json(&url)
                .await
                .as_array()
                .expect("a list")
                .iter()
                .map(|v| {
                    (
                        v["value"].as_str().unwrap().to_string(),
                        v["span_count"].as_u64().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let pair = |v: &str, n: u64| (v.to_string(), n);
    assert_eq!(
        values("/api/v1/fields/model/values").await,
        vec![pair("gpt-4o", 2), pair("gpt-4o-mini", 1)]
    );
    assert_eq!(
        values("/api/v1/fields/model/values?prefix=gpt-4o-").await,
        vec![pair("gpt-4o-mini", 1)]
    );
    assert_eq!(
        values("/api/v1/fields/name/values?limit=2").await,
        vec![pair("chat gpt-4o", 2), pair("agent", 1)]
    );
    let bad = client()
        .get(collector.url("/api/v1/fields/colour/values"))
        .send()
        .await
        .expect("GET");
    assert_eq!(bad.status(), 400);
    let error = bad.json::<serde_json::Value>().await.expect("JSON")["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(error.contains("model, name"), "{error}");
}

#[tokio::test]
async fn errors_share_one_json_shape() {
    let collector = Collector::start();
    for (path, status, mentions) in [
        ("/api/v1/nothing-here", 404, "no API endpoint"),
        ("/api/v1/traces/not-a-trace-id", 400, "32 hex"),
        (
            "/api/v1/traces/0123456789abcdef0123456789abcdef",
            404,
            "no trace",
        ),
        ("/api/v1/traces?from=yesterday", 400, "from"),
        ("/api/v1/traces?cursor=garbage", 400, "cursor"),
        ("/api/v1/traces?project=%01", 400, "project"),
        ("/api/v1/feedback", 400, "run_id"),
    ] {
        let response = client().get(collector.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        let error = body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{path}: {body}"));
        assert!(error.contains(mentions), "{path}: {error}");
    }
}

#[tokio::test]
async fn feedback_is_created_listed_edited_and_deleted() {
    let collector = Collector::start();
    let trace = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
    let span = "00000000000000e1";
    let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": trace, "spanId": span, "name": "rated", "kind": 1,
        "startTimeUnixNano": "1795500443630000000", "endTimeUnixNano": "1795500443631000000"}]}]}]});
    let response = client()
        .post(collector.url("/v1/traces"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // As `create_feedback(run_id, key="business_value", score=150.0, comment=...)` posts it.
    let created = client()
        .post(collector.url("/api/v1/feedback"))
        .json(&json!({"run_id": span, "key": "business_value", "score": 150.0, "comment": "saved an hour"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["source"], "api");

    let by_trace = get_json(&collector.url(&format!("/api/v1/feedback?trace_id={trace}"))).await;
    assert_eq!(by_trace["feedback"][0]["score"], 150.0);
    assert_eq!(by_trace["feedback"][0]["comment"], "saved an hour");
    let by_run = get_json(&collector.url(&format!("/api/v1/feedback?run_id={span}"))).await;
    assert_eq!(by_run["feedback"][0]["id"], id.as_str());

    let edited = client()
        .patch(collector.url(&format!("/api/v1/feedback/{id}")))
        .json(&json!({"score": 90.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200);
    let edited: serde_json::Value = edited.json().await.unwrap();
    assert_eq!(edited["score"], 90.0);
    assert_eq!(edited["comment"], "saved an hour");

    let bad = client()
        .post(collector.url("/api/v1/feedback"))
        .header("content-type", "application/json")
        .body("{\"run_id\": 12")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    // A body not declared JSON is refused before it is read.
    let not_json = client()
        .post(collector.url("/api/v1/feedback"))
        .body("{\"run_id\": \"00f067aa0ba902b7\", \"key\": \"k\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 415);
    let missing_key = client()
        .post(collector.url("/api/v1/feedback"))
        .json(&json!({"run_id": span, "key": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing_key.status(), 400);

    let deleted = client()
        .delete(collector.url(&format!("/api/v1/feedback/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let again = client()
        .delete(collector.url(&format!("/api/v1/feedback/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    let after = get_json(&collector.url(&format!("/api/v1/feedback?trace_id={trace}"))).await;
    assert_eq!(after["feedback"], json!([]));
}

#[tokio::test]
async fn the_dashboard_is_served_with_spa_fallback() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>Skein test index</title>",
    )
    .unwrap();
    std::fs::write(dist.path().join("app.js"), "console.log('app')").unwrap();
    let dist_arg = dist.path().to_str().unwrap().to_string();
    let collector = Collector::start_with(&["--dist", &dist_arg]);
    for path in ["/", "/traces", "/traces/abc?span=def", "/sessions/s-1"] {
        let response = client().get(collector.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.text().await.unwrap().contains("Skein test index"),
            "{path}"
        );
    }
    let js = client().get(collector.url("/app.js")).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.text().await.unwrap().contains("console.log"));
    // API paths never fall back to the page.
    let api = client()
        .get(collector.url("/api/v1/unknown"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
}
