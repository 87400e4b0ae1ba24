//! A full disk, for real: the collector's data dir on a small tmpfs. Ingest gets 503 with
//! Retry-After (which OTLP exporters retry) rather than 500, the log and `/api/v1/health` say
//! the disk is full, nothing acknowledged is lost, and writes succeed again once space is
//! freed. The test mounts the tmpfs itself (it runs as root, as the test command does); where
//! mounting is impossible it fails, saying so, rather than passing without having tried. Over
//! OTLP/gRPC the same is RESOURCE_EXHAUSTED with a RetryInfo detail.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{client, get_json, Collector};
use serde_json::{json, Value};

/// A tmpfs mounted on a fresh directory, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().expect("temp dir");
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("run mount");
        assert!(
            output.status.success(),
            "this test needs a small tmpfs for the data dir and could not mount one (it must run \
             as root, or with CAP_SYS_ADMIN): {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Space left on the file system of `path`, in bytes.
fn free_bytes(path: &Path) -> u64 {
    let output = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(path)
        .output()
        .expect("df");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .expect("df's answer")
}

/// Writes `filler` until about `room` bytes are left on the file system of `dir`. The
/// collector may grow its files meanwhile (a WAL checkpoint runs in the background), so the
/// space measured first can be gone by the time the filler is written: it is written in
/// pieces, and if the disk fills first it is cut back to leave `room`.
fn fill_leaving(dir: &Path, filler: &Path, room: u64) {
    use std::io::Write;
    const PIECE: usize = 256 << 10;
    let mut file = std::fs::File::create(filler).expect("create the filler");
    let piece = vec![0u8; PIECE];
    let mut written = 0u64;
    while free_bytes(dir) > room + PIECE as u64 {
        match file.write_all(&piece).and_then(|()| file.flush()) {
            Ok(()) => written += PIECE as u64,
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull => {
                written = std::fs::metadata(filler)
                    .map(|m| m.len())
                    .unwrap_or(written);
                file.set_len(written.saturating_sub(room))
                    .expect("cut the filler back");
                return;
            }
            Err(e) => panic!("writing the filler: {e}"),
        }
    }
}

/// An OTLP JSON request of one trace of 50 spans carrying ~2 KB of text that compresses
/// poorly each.
fn trace_request(i: usize) -> (String, Vec<u8>) {
    let trace = format!("{:032x}", 0xd15c_0000_u64 + i as u64);
    let spans: Vec<Value> = (0..50)
        .map(|s| {
            let text: String = (0..56).map(|_| uuid::Uuid::new_v4().simple().to_string()).collect();
            json!({"traceId": trace, "spanId": format!("{:016x}", s + 1), "name": "s", "kind": 1,
                "parentSpanId": if s == 0 { String::new() } else { format!("{:016x}", 1) },
                "startTimeUnixNano": "1795500443630000000", "endTimeUnixNano": "1795500443631000000",
                "attributes": [{"key": "input.value", "value": {"stringValue": text}}]})
        })
        .collect();
    let body = serde_json::to_vec(&json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}))
        .unwrap();
    (trace, body)
}

async fn send(url: &str, body: Vec<u8>) -> (u16, Option<String>, String) {
    let response = client()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, retry, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_full_disk_is_503_then_writes_resume_and_nothing_acknowledged_is_lost() {
    let tmpfs = Tmpfs::mount("24m");
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("collector.log");
    let data = tempfile::tempdir_in(tmpfs.path()).unwrap();
    let collector = Collector::start_logged(data, &[], &[], Some(&log));
    let url = collector.url("/v1/traces");

    // Some traces while there is room.
    let mut acknowledged = Vec::new();
    for i in 0..5 {
        let (trace, body) = trace_request(i);
        let (status, _, answer) = send(&url, body).await;
        assert_eq!(status, 200, "{answer}");
        acknowledged.push(trace);
    }
    let health = get_json(&collector.url("/api/v1/health")).await;
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["disk_full"], false, "{health}");

    // Leave about 1 MB free, then send until the disk is full.
    let filler: PathBuf = tmpfs.path().join("filler");
    fill_leaving(tmpfs.path(), &filler, 1 << 20);
    let mut refused = None;
    for i in 5..200 {
        let (trace, body) = trace_request(i);
        let (status, retry, answer) = send(&url, body.clone()).await;
        match status {
            200 => acknowledged.push(trace),
            503 => {
                let retry = retry.expect("a 503 without Retry-After");
                assert!(retry.parse::<u64>().is_ok_and(|s| s > 0), "{retry}");
                assert!(answer.contains("disk is full"), "{answer}");
                refused = Some((trace, body));
                break;
            }
            other => panic!("ingest on a full disk answered {other}: {answer}"),
        }
    }
    let (refused_trace, refused_body) = refused.expect("the disk never filled up");
    let health = get_json(&collector.url("/api/v1/health")).await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["disk_full"], true, "{health}");
    // Reads go on.
    for trace in &acknowledged {
        let skeleton = get_json(&collector.url(&format!("/api/v1/traces/{trace}"))).await;
        assert_eq!(
            skeleton["spans"].as_array().map(Vec::len),
            Some(50),
            "{trace}"
        );
    }

    // Space is freed: the refused request, retried, is stored.
    std::fs::remove_file(&filler).unwrap();
    let mut status = 0;
    for _ in 0..100 {
        status = send(&url, refused_body.clone()).await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "writes did not resume once space was freed");
    acknowledged.push(refused_trace);
    let health = get_json(&collector.url("/api/v1/health")).await;
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["disk_full"], false, "{health}");
    let page = get_json(&collector.url("/api/v1/traces?limit=500")).await;
    assert_eq!(
        page["total"].as_u64(),
        Some(acknowledged.len() as u64),
        "{}",
        page["total"]
    );
    for trace in &acknowledged {
        let skeleton = get_json(&collector.url(&format!("/api/v1/traces/{trace}"))).await;
        assert_eq!(
            skeleton["spans"].as_array().map(Vec::len),
            Some(50),
            "{trace}"
        );
    }

    drop(collector);
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("disk") && l.contains("full")),
        "the log does not say the disk is full:\n{log}"
    );
    drop(tmpfs);
}

#[tokio::test]
async fn over_grpc_a_full_disk_is_resource_exhausted_with_retry_info_then_writes_resume() {
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use tonic_types::StatusExt;

    let tmpfs = Tmpfs::mount("24m");
    let data = tempfile::tempdir_in(tmpfs.path()).unwrap();
    let collector = Collector::start_in(data, &[]);
    let mut client = TraceServiceClient::connect(collector.grpc_url())
        .await
        .expect("connect over gRPC");
    let message = |i: usize| {
        let (trace, body) = trace_request(i);
        let request: ExportTraceServiceRequest =
            serde_json::from_slice(&body).expect("the OTLP JSON as a protobuf message");
        (trace, request)
    };
    let mut acknowledged = Vec::new();
    for i in 0..3 {
        let (trace, request) = message(i);
        client.export(request).await.expect("room on the disk");
        acknowledged.push(trace);
    }

    let filler: PathBuf = tmpfs.path().join("filler");
    fill_leaving(tmpfs.path(), &filler, 1 << 20);
    let mut refused = None;
    for i in 3..200 {
        let (trace, request) = message(i);
        match client.export(request.clone()).await {
            Ok(_) => acknowledged.push(trace),
            Err(status) => {
                assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
                assert!(status.message().contains("disk is full"), "{status:?}");
                let retry = status
                    .get_details_retry_info()
                    .and_then(|info| info.retry_delay)
                    .expect("a RetryInfo detail");
                assert!(retry >= Duration::from_secs(1), "{retry:?}");
                refused = Some((trace, request));
                break;
            }
        }
    }
    let (refused_trace, refused_request) = refused.expect("the disk never filled up");

    // Space is freed: the refused call, retried, is stored, and nothing acknowledged was lost.
    std::fs::remove_file(&filler).unwrap();
    let mut stored = false;
    for _ in 0..100 {
        if client.export(refused_request.clone()).await.is_ok() {
            stored = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(stored, "writes did not resume once space was freed");
    acknowledged.push(refused_trace);
    for trace in &acknowledged {
        let skeleton = get_json(&collector.url(&format!("/api/v1/traces/{trace}"))).await;
        assert_eq!(
            skeleton["spans"].as_array().map(Vec::len),
            Some(50),
            "{trace}"
        );
    }
    drop(collector);
    drop(tmpfs);
}
