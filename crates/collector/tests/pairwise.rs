//! Blind pairwise review queues (`/api/v1/pairwise`) against the real `skein` binary: a queue
//! drawn from two cohorts pairs runs with the same input, reviewers get different pairs under
//! leases and see sides, never cohorts; a pick is stored as the cohort it was, and the results
//! per group of a tag are the sign test and Wilson interval of those picks, computed here
//! independently; bad input is refused with 400 {"error"}, and queues stay in their project.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use common::stats::{sign_test, wilson};
use common::{call, send_spans, wait_for_traces, Collector};
use serde_json::{json, Value};

fn trace_id(n: u64) -> String {
    format!("{n:032x}")
}

/// One trace per (n, variant, tier, input): a root span with those tags and input, and an
/// output naming the run.
async fn post_runs(collector: &Collector, project: &str, runs: &[(u64, &str, &str, &str)]) {
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
        - 60_000_000_000;
    let spans: Vec<Value> = runs
        .iter()
        .map(|&(n, variant, tier, input)| {
            let at = start + n as i64 * 1_000_000;
            let attr = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
            json!({
                "traceId": trace_id(n), "spanId": format!("{:016x}", n + 1), "name": "answer",
                "startTimeUnixNano": at.to_string(),
                "endTimeUnixNano": (at + 5_000_000).to_string(),
                "attributes": [attr("variant", variant), attr("tier", tier),
                    attr("input.value", input), attr("output.value", &format!("run {n}"))],
            })
        })
        .collect();
    send_spans(collector, project, "agent", spans).await;
}

fn close(got: &Value, want: f64) -> bool {
    got.as_f64().is_some_and(|g| (g - want).abs() < 1e-9)
}

#[tokio::test]
async fn pairs_are_matched_blind_and_judged_into_per_group_statistics() {
    let collector = Collector::start();
    let p = "pairs";
    // A: 1..=8; B: 101..=108. Runs n and n + 100 ask the same question for n ≤ 6; the rest
    // ask different ones. Tiers alternate, the same on both sides of a matched pair.
    let tier = |n: u64| if n.is_multiple_of(2) { "pro" } else { "free" };
    let mut runs = Vec::new();
    let questions: Vec<String> = (1..=8).map(|n| format!("question {n}")).collect();
    let others: Vec<String> = (7..=8).map(|n| format!("something else {n}")).collect();
    for n in 1..=8u64 {
        runs.push((n, "A", tier(n), questions[n as usize - 1].as_str()));
        let b_input = if n <= 6 {
            questions[n as usize - 1].as_str()
        } else {
            others[n as usize - 7].as_str()
        };
        runs.push((n + 100, "B", tier(n), b_input));
    }
    post_runs(&collector, p, &runs).await;
    wait_for_traces(&collector, &format!("project={p}"), 16).await;

    let base = collector.url(&format!("/api/v1/pairwise?project={p}"));
    let (status, queue) = call(
        "POST",
        &base,
        Some(&json!({"name": "A vs B", "cohort_a": "tag=variant%3DA",
            "cohort_b": "?tag=variant%3DB", "pairs": 8})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{queue}");
    assert_eq!(queue["counts"]["total"], 8, "{queue}");
    let id = queue["id"].as_str().unwrap().to_string();
    let url = |path: &str| collector.url(&format!("/api/v1/pairwise/{id}{path}?project={p}"));

    // Two reviewers hold different pairs at once; each pair shows sides only.
    let (_, ann) = call(
        "POST",
        &url("/next"),
        Some(&json!({"reviewer": "ann"})),
        None,
    )
    .await;
    let (_, bob) = call(
        "POST",
        &url("/next"),
        Some(&json!({"reviewer": "bob"})),
        None,
    )
    .await;
    assert_ne!(ann["pair"]["id"], bob["pair"]["id"], "{ann} {bob}");
    assert_eq!(bob["counts"]["in_progress"], 2, "{bob}");
    for field in ["a", "b", "a_on_left", "pair", "matched", "a_tags"] {
        assert!(ann["pair"].get(field).is_none(), "{field} shown: {ann}");
    }
    // Bob cannot judge Ann's pair.
    let ann_pair = ann["pair"]["id"].as_str().unwrap().to_string();
    let (status, refused) = call(
        "POST",
        &url(&format!("/pairs/{ann_pair}/judge")),
        Some(&json!({"reviewer": "bob", "pick": "left"})),
        None,
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("ann"),
        "{refused}"
    );
    call(
        "POST",
        &url(&format!(
            "/pairs/{}/release",
            bob["pair"]["id"].as_str().unwrap()
        )),
        Some(&json!({"reviewer": "bob"})),
        None,
    )
    .await;

    // Ann works through every pair: B's run wins on "free", A's on "pro", except one tie.
    let a_ids: HashSet<String> = (1..=8).map(trace_id).collect();
    let mut expected: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    let mut tied = false;
    loop {
        let (status, claimed) = call(
            "POST",
            &url("/next"),
            Some(&json!({"reviewer": "ann"})),
            None,
        )
        .await;
        assert_eq!(status, 200, "{claimed}");
        let Some(pair) = claimed["pair"].as_object() else {
            break;
        };
        let (left, right) = (
            pair["left"].as_str().unwrap(),
            pair["right"].as_str().unwrap(),
        );
        let n_of = |t: &str| u64::from_str_radix(t, 16).unwrap() % 100;
        if n_of(left) <= 6 || n_of(right) <= 6 {
            assert_eq!(
                n_of(left),
                n_of(right),
                "the same question is paired: {pair:?}"
            );
        }
        let a_left = a_ids.contains(left);
        assert_ne!(
            a_left,
            a_ids.contains(right),
            "one run of each cohort: {pair:?}"
        );
        // The side is the model's hash of the queue and the pair: random across pairs (so
        // not asserted to vary among eight), the same on every read.
        let (a_run, b_run) = if a_left { (left, right) } else { (right, left) };
        assert_eq!(
            a_left,
            skein_model::pairwise_queue::a_on_left(&id, a_run, b_run),
            "{pair:?}"
        );
        let n = n_of(left);
        let group = if n_of(left) == n_of(right) {
            tier(n)
        } else {
            "(differs)"
        };
        let entry = expected.entry(group).or_default();
        let pick = if !tied && group == "pro" {
            tied = true;
            entry.2 += 1;
            "tie"
        } else if group == "free" {
            entry.1 += 1;
            if a_left {
                "right"
            } else {
                "left"
            }
        } else {
            entry.0 += 1;
            if a_left {
                "left"
            } else {
                "right"
            }
        };
        let (status, judged) = call(
            "POST",
            &url(&format!("/pairs/{}/judge", pair["id"].as_str().unwrap())),
            Some(&json!({"reviewer": "ann", "pick": pick})),
            None,
        )
        .await;
        assert_eq!(status, 200, "{judged}");
    }
    let (_, queue) = call("GET", &url(""), None, None).await;
    assert_eq!(queue["counts"]["done"], 8, "{queue}");

    // The results per tier: counts, and the statistics computed here.
    let results = collector.url(&format!(
        "/api/v1/pairwise/results?project={p}&queue={id}&group_by=tier"
    ));
    let (status, results) = call("GET", &results, None, None).await;
    assert_eq!(status, 200, "{results}");
    let groups = results["groups"].as_array().unwrap();
    let names: Vec<&str> = groups
        .iter()
        .map(|g| g["group"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        expected.keys().copied().collect::<Vec<_>>(),
        "{results}"
    );
    for g in groups {
        let (a, b, t) = expected[g["group"].as_str().unwrap()];
        assert_eq!(
            g["counts"],
            json!({"a_wins": a, "b_wins": b, "ties": t}),
            "{g}"
        );
        if a + b == 0 {
            assert!(g.get("result").is_none(), "{g}");
            continue;
        }
        let r = &g["result"];
        let (low, high) = wilson(b, a + b);
        assert!(close(&r["b_preferred"], b as f64 / (a + b) as f64), "{g}");
        assert!(close(&r["p_value"], sign_test(b, a + b)), "{g}");
        assert!(
            close(&r["ci"]["low"], low) && close(&r["ci"]["high"], high),
            "{g}"
        );
        assert!(close(&r["tie_rate"], t as f64 / (a + b + t) as f64), "{g}");
    }
    let all = collector.url(&format!("/api/v1/pairwise/results?project={p}"));
    let (_, all) = call("GET", &all, None, None).await;
    assert_eq!(all["groups"][0]["group"], "all", "{all}");
    let total: u64 = ["a_wins", "b_wins", "ties"]
        .iter()
        .map(|k| all["groups"][0]["counts"][k].as_u64().unwrap())
        .sum();
    assert_eq!(total, 8, "{all}");

    // Another project sees none of it.
    let other = collector.url(&format!("/api/v1/pairwise/{id}?project=elsewhere"));
    assert_eq!(call("GET", &other, None, None).await.0, 404);
    let other = collector.url("/api/v1/pairwise/results?project=elsewhere");
    assert_eq!(call("GET", &other, None, None).await.1["groups"], json!([]));
}

#[tokio::test]
async fn bad_pairwise_requests_are_refused_naming_the_problem() {
    let collector = Collector::start();
    let p = "bad";
    post_runs(
        &collector,
        p,
        &[(1, "A", "free", "hi"), (2, "B", "free", "hi")],
    )
    .await;
    wait_for_traces(&collector, &format!("project={p}"), 2).await;
    let base = collector.url(&format!("/api/v1/pairwise?project={p}"));
    let cases = [
        (
            json!({"name": "x", "cohort_a": "tag=variant%3DA"}),
            "cohort_b",
        ),
        (
            json!({"name": "x", "cohort_a": "tag=variant%3DA", "cohort_b": "tag=variant%3DA"}),
            "same",
        ),
        (
            json!({"name": "x", "cohort_a": "tag=variant%3DA", "cohort_b": "filter=name%20%3D%3D"}),
            "cohort_b",
        ),
        (
            json!({"name": "x", "cohort_a": "tag=variant%3DA", "cohort_b": "tag=variant%3DC"}),
            "cohort_b",
        ),
        (
            json!({"name": "", "cohort_a": "tag=variant%3DA", "cohort_b": "tag=variant%3DB"}),
            "name",
        ),
        (
            json!({"name": "x", "cohort_a": "tag=variant%3DA", "cohort_b": "tag=variant%3DB",
                "pairs": 0}),
            "pairs",
        ),
    ];
    for (body, named) in cases {
        let (status, answer) = call("POST", &base, Some(&body), None).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(named),
            "{body} → {answer}"
        );
    }
    let (status, queue) = call(
        "POST",
        &base,
        Some(&json!({"name": "x", "cohort_a": "tag=variant%3DA", "cohort_b": "tag=variant%3DB"})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{queue}");
    let id = queue["id"].as_str().unwrap();
    let url = |path: &str| collector.url(&format!("/api/v1/pairwise/{id}{path}?project={p}"));
    let (status, answer) = call("POST", &url("/next"), Some(&json!({})), None).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("reviewer"),
        "{answer}"
    );
    let (status, answer) = call(
        "POST",
        &url("/pairs/1/judge"),
        Some(&json!({"reviewer": "ann", "pick": "up"})),
        None,
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = call(
        "POST",
        &url("/pairs/1/judge"),
        Some(&json!({"reviewer": "ann", "pick": "left"})),
        None,
    )
    .await;
    assert_eq!(status, 409, "not claimed: {answer}");
    let (status, _) = call(
        "POST",
        &url("/pairs/99/skip"),
        Some(&json!({"reviewer": "ann"})),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(call("DELETE", &url(""), None, None).await.0, 204);
    assert_eq!(call("GET", &url(""), None, None).await.0, 404);
}
