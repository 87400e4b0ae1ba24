//! Nothing acknowledged is lost: clients send continuously while the collector is killed with
//! SIGKILL at random moments and restarted on the same data dir, again and again.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{client, get_json, Collector};

const SPANS_PER_TRACE: u64 = 20;
const CLIENTS: u64 = 4;
const KILLS: u64 = 20;

/// One OTLP JSON request: a whole trace of `SPANS_PER_TRACE` spans (a root and its children).
fn trace_request(trace_id: &str) -> serde_json::Value {
    let spans: Vec<serde_json::Value> = (1..=SPANS_PER_TRACE)
        .map(|i| {
            let mut span = serde_json::json!({
                "traceId": trace_id,
                "spanId": format!("{i:016x}"),
                "name": if i == 1 { "root".to_string() } else { format!("child_{i}") },
                "kind": 1,
                "startTimeUnixNano": (1_795_500_000_000_000_000u64 + i * 1_000).to_string(),
                "endTimeUnixNano": (1_795_500_000_000_000_000u64 + i * 1_000 + 500).to_string(),
                "attributes": [{"key": "env", "value": {"stringValue": "durability"}}]
            });
            if i > 1 {
                span["parentSpanId"] = serde_json::json!(format!("{:016x}", 1));
            }
            span
        })
        .collect();
    serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "durability"}}]},
        "scopeSpans": [{"spans": spans}]
    }]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_span_survives_repeated_sigkill_exactly_once() {
    let acknowledged: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut collector = Collector::start();
    let mut next_trace = 0u64;
    // A deterministic spread of kill moments between 50 and 650 ms.
    let mut delay_seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..KILLS {
        let url = collector.otlp_traces.clone();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut clients = tokio::task::JoinSet::new();
        for c in 0..CLIENTS {
            let (url, stop, acknowledged) = (url.clone(), stop.clone(), acknowledged.clone());
            let first = next_trace + c * 1_000_000;
            clients.spawn(async move {
                let http = client();
                let mut n = first;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let trace_id = format!("{n:032x}");
                    let sent = http.post(&url).json(&trace_request(&trace_id)).send().await;
                    match sent {
                        Ok(r) if r.status().is_success() => {
                            acknowledged.lock().unwrap().insert(trace_id);
                        }
                        // Refused (503) or cut off by the kill: not acknowledged, may or may not be stored.
                        Ok(_) | Err(_) => {
                            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                    }
                }
            });
        }
        next_trace += CLIENTS * 1_000_000;
        delay_seed ^= delay_seed << 13;
        delay_seed ^= delay_seed >> 7;
        delay_seed ^= delay_seed << 17;
        tokio::time::sleep(Duration::from_millis(50 + delay_seed % 600)).await;
        let dir = collector.kill();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        while clients.join_next().await.is_some() {}
        collector = Collector::start_in(dir, &[]);
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 100,
        "too little was sent to mean anything: {}",
        acknowledged.len()
    );

    // Every stored trace is whole (a request is one transaction) and counted once.
    let mut stored = HashSet::new();
    let mut url = collector.url("/api/v1/traces?limit=1000");
    loop {
        let page = get_json(&url).await;
        for t in page["traces"].as_array().unwrap() {
            assert_eq!(
                t["span_count"].as_u64(),
                Some(SPANS_PER_TRACE),
                "trace {} is not whole: {t}",
                t["trace_id"]
            );
            assert_eq!(t["root_name"], "root");
            stored.insert(t["trace_id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => url = collector.url(&format!("/api/v1/traces?limit=1000&cursor={c}")),
            None => break,
        }
    }
    let missing: Vec<&String> = acknowledged.difference(&stored).take(5).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged traces were lost, e.g. {missing:?}",
        acknowledged.difference(&stored).count()
    );
    let projects = get_json(&collector.url("/api/v1/projects")).await;
    assert_eq!(
        projects[0]["span_count"].as_u64().unwrap(),
        stored.len() as u64 * SPANS_PER_TRACE,
        "the span count disagrees with the traces stored"
    );
    // Spot-check the spans themselves, not only the summaries.
    for trace_id in acknowledged.iter().take(20) {
        let skeleton = get_json(&collector.url(&format!("/api/v1/traces/{trace_id}"))).await;
        assert_eq!(
            skeleton["spans"].as_array().unwrap().len() as u64,
            SPANS_PER_TRACE
        );
    }
}
