//! A big trace's binary skeleton is streamed, its first rows read and sent before the rest
//! (`QueryStore::trace_head`): whatever compression the client accepts, the bytes that arrive
//! are the whole skeleton in display order, the same as the JSON one.

mod common;

use std::io::Read;

use common::{client, get_json, send_spans, Collector};
use skein_model::{skeleton_wire, TraceSkeleton};

const TRACE: &str = "5a1e0000000000000000000000000b16";
/// Above the size from which the first rows are read apart.
const SPANS: usize = 24_000;

/// A tree of fan-out 10 whose siblings start in reverse, with ties, and one orphan.
fn spans(from: usize, to: usize) -> Vec<serde_json::Value> {
    let at = |i: usize| 1_795_500_000_000_000_000u64 + ((SPANS - i) as u64 / 3) * 1_000;
    (from..to)
        .map(|i| {
            let parent = match i {
                0 => String::new(),
                7 => "00000000deadbeef".to_string(),
                _ => format!("{:016x}", (i - 1) / 10 + 1),
            };
            serde_json::json!({
                "traceId": TRACE, "spanId": format!("{:016x}", i + 1), "parentSpanId": parent,
                "name": format!("step {}", i % 13), "kind": 1,
                "startTimeUnixNano": at(i).to_string(),
                "endTimeUnixNano": (at(i) + 5_000_000).to_string()
            })
        })
        .collect()
}

#[tokio::test]
async fn a_big_skeleton_arrives_whole_whatever_the_compression() {
    let collector = Collector::start();
    for from in (0..SPANS).step_by(4_000) {
        send_spans(&collector, "default", "agents", spans(from, from + 4_000)).await;
    }
    let mut total = 0;
    for _ in 0..100 {
        let page = get_json(&collector.url("/api/v1/traces")).await;
        total = page["traces"][0]["span_count"].as_u64().unwrap_or(0);
        if total == SPANS as u64 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(total, SPANS as u64);
    let url = collector.url(&format!("/api/v1/traces/{TRACE}"));
    let json: TraceSkeleton =
        serde_json::from_value(get_json(&url).await).expect("a trace skeleton");
    let shown = json.in_display_order();
    for encoding in ["identity", "gzip", "gzip, deflate, br, zstd"] {
        let response = client()
            .get(format!("{url}?format=binary"))
            .header("accept-encoding", encoding)
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 200);
        let compressed = response.headers().get("content-encoding").cloned();
        let body = response.bytes().await.expect("the whole body");
        let bytes = match compressed.as_ref().and_then(|v| v.to_str().ok()) {
            None => body.to_vec(),
            Some("gzip") => {
                let mut plain = Vec::new();
                flate2::read::GzDecoder::new(&body[..])
                    .read_to_end(&mut plain)
                    .expect("gzip");
                plain
            }
            // Another encoding: the body arrived whole (the stream ended cleanly).
            Some(_) => continue,
        };
        assert_eq!(
            skeleton_wire::decode(&bytes),
            Ok(shown.clone()),
            "{encoding}"
        );
    }
}
