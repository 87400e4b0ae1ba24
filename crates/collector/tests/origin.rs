//! Without API keys (the default on a laptop) Skein is open to whoever reaches it, so it must
//! not be reachable through a browser from another site: a write from a page of another
//! origin is refused (its `Origin`, its `Sec-Fetch-Site`), JSON endpoints take only JSON
//! (a `text/plain` body needs no CORS preflight), and a Host that does not name the listening
//! address (DNS rebinding) is refused. SDKs and curl (no `Origin`) keep working, and so does
//! the dashboard, which is served from Skein's own origin.

mod common;

use common::{client, Collector};
use serde_json::{json, Value};

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

fn otlp() -> Value {
    json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": TRACE, "spanId": "b7ad6b7169203331", "name": "root", "kind": 1,
        "startTimeUnixNano": "1795500443630000000", "endTimeUnixNano": "1795500443631000000"}]}]}]})
}

fn run() -> Value {
    let id = "01a20c28-aec6-77ac-bd5e-0000000000c1";
    json!({"post": [{"id": id, "trace_id": id, "name": "r", "run_type": "chain",
        "dotted_order": format!("20261124T060449941486Z{id}"),
        "start_time": "2026-11-24T06:04:49.941486+00:00"}]})
}

async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> (u16, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client().request(method, url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    if let Some((content_type, bytes)) = body {
        request = request.header("content-type", content_type).body(bytes);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// A body: its content type and bytes.
type Body = Option<(&'static str, Vec<u8>)>;

fn json_body(v: &Value) -> Body {
    Some(("application/json", serde_json::to_vec(v).unwrap()))
}

#[tokio::test]
async fn writes_from_other_sites_are_refused_and_same_origin_ones_kept() {
    let collector = Collector::start();
    let c = &collector;
    let own_origin = c.http.clone();
    let feedback = json!({"run_id": "b7ad6b7169203331", "key": "k", "score": 1});
    let writes: Vec<(&str, String, Body)> = vec![
        ("POST", c.url("/v1/traces"), json_body(&otlp())),
        ("POST", c.otlp_traces.clone(), json_body(&otlp())),
        ("POST", c.url("/api/v1/feedback"), json_body(&feedback)),
        (
            "POST",
            c.url("/api/langsmith/runs/batch"),
            json_body(&run()),
        ),
        (
            "POST",
            c.url("/api/langsmith/feedback"),
            json_body(
                &json!({"run_id": "01a20c28-aec6-77ac-bd5e-0000000000c1", "key": "k", "score": 1}),
            ),
        ),
    ];
    let cross_site: [&[(&str, &str)]; 5] = [
        &[("origin", "http://evil.example")],
        &[("origin", "null")],
        // The same host on another port is another origin.
        &[("origin", "http://127.0.0.1:1")],
        &[("sec-fetch-site", "cross-site")],
        &[
            ("sec-fetch-site", "same-site"),
            ("origin", "http://localhost:3000"),
        ],
    ];
    for (method, url, body) in &writes {
        for headers in cross_site {
            let (status, answer) = send(method, url, headers, body.clone()).await;
            assert_eq!(status, 403, "{method} {url} with {headers:?}: {answer}");
            assert!(answer.contains("\"error\""), "{answer}");
        }
    }
    // A multipart upload is a "simple" request a page can send without asking: its Origin
    // decides too.
    let id = "01a20c28-aec6-77ac-bd5e-0000000000c2";
    let part = json!({"id": id, "trace_id": id, "name": "r", "run_type": "chain",
        "dotted_order": format!("20261124T060449941486Z{id}"),
        "start_time": "2026-11-24T06:04:49.941486+00:00"});
    let multipart = format!(
        "--XX\r\nContent-Disposition: form-data; name=\"post.{id}\"\r\n\r\n{part}\r\n--XX--\r\n"
    )
    .into_bytes();
    let (status, answer) = send(
        "POST",
        &c.url("/api/langsmith/runs/multipart"),
        &[("origin", "http://evil.example")],
        Some(("multipart/form-data; boundary=XX", multipart.clone())),
    )
    .await;
    assert_eq!(status, 403, "{answer}");

    // JSON endpoints take JSON only: text/plain (no preflight needed) is 415, whatever the
    // Origin says.
    for (url, body) in [
        (c.url("/api/v1/feedback"), &feedback),
        (c.url("/api/langsmith/runs/batch"), &run()),
        (c.url("/api/langsmith/runs/query"), &json!({"session": []})),
    ] {
        let bytes = serde_json::to_vec(body).unwrap();
        let (status, answer) =
            send("POST", &url, &[], Some(("text/plain;charset=UTF-8", bytes))).await;
        assert_eq!(status, 415, "{url}: {answer}");
        assert!(answer.contains("\"error\""), "{answer}");
    }

    // Nothing of the refused writes was stored.
    let (status, answer) = send("GET", &c.url(&format!("/api/v1/traces/{TRACE}")), &[], None).await;
    assert_eq!(status, 404, "{answer}");

    // SDKs and curl send no Origin; a page of Skein's own origin sends it: both write.
    for (method, url, body) in &writes {
        let origin: String = url.split('/').take(3).collect::<Vec<_>>().join("/");
        for headers in [
            &[][..],
            &[
                ("origin", origin.as_str()),
                ("sec-fetch-site", "same-origin"),
            ][..],
            &[("sec-fetch-site", "none")][..],
        ] {
            let (status, answer) = send(method, url, headers, body.clone()).await;
            assert!(
                (200..300).contains(&status),
                "{method} {url} with {headers:?}: {status} {answer}"
            );
        }
    }
    let (status, answer) = send(
        "POST",
        &c.url("/api/langsmith/runs/multipart"),
        &[("origin", own_origin.as_str())],
        Some(("multipart/form-data; boundary=XX", multipart)),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    // Reads from another site are left to CORS (Skein sends no CORS headers): they work for
    // curl, and a page cannot read the answer.
    let (status, _) = send(
        "GET",
        &c.url("/api/v1/traces"),
        &[("origin", "http://evil.example")],
        None,
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn only_hosts_naming_the_listening_address_are_answered() {
    let collector = Collector::start_with(&["--allowed-hosts", "skein.internal, Traces.Example"]);
    let c = &collector;
    let port = c.http.rsplit(':').next().unwrap().to_string();
    let otlp_port = c.otlp_base.rsplit(':').next().unwrap().to_string();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LOCALHOST:{port}"),
        format!("[::1]:{port}"),
        "localhost".to_string(),
        format!("skein.internal:{port}"),
        format!("traces.example:{port}"),
    ] {
        for path in ["/api/v1/traces", "/api/v1/health", "/traces"] {
            let (status, answer) =
                send("GET", &c.url(path), &[("host", host.as_str())], None).await;
            assert!(
                status == 200 || (path == "/traces" && status == 404),
                "Host {host} {path}: {status} {answer}"
            );
        }
    }
    // A rebinding domain that resolves to 127.0.0.1 names itself in Host.
    for host in [
        format!("evil.example:{port}"),
        "evil.example".to_string(),
        format!("localhost.evil.example:{port}"),
        format!("skein.internal.evil.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
    ] {
        for (method, path) in [
            ("GET", "/api/v1/traces"),
            ("GET", "/api/v1/projects"),
            ("GET", "/traces"),
            ("GET", "/api/langsmith/sessions"),
        ] {
            let (status, answer) =
                send(method, &c.url(path), &[("host", host.as_str())], None).await;
            assert_eq!(status, 403, "Host {host} {method} {path}: {answer}");
            assert!(
                answer.contains("\"error\"") && answer.contains("--allowed-hosts"),
                "{answer}"
            );
        }
        let (status, answer) = send(
            "POST",
            &c.otlp_traces,
            &[("host", host.as_str())],
            json_body(&otlp()),
        )
        .await;
        assert_eq!(status, 403, "Host {host} on the OTLP address: {answer}");
    }
    let (status, answer) = send(
        "POST",
        &c.otlp_traces,
        &[("host", format!("localhost:{otlp_port}").as_str())],
        json_body(&otlp()),
    )
    .await;
    assert_eq!(status, 200, "{answer}");

    // The environment variable names them too.
    let collector = Collector::start_with_env(&[("SKEIN_ALLOWED_HOSTS", "skein.internal")]);
    let port = collector.http.rsplit(':').next().unwrap().to_string();
    let host = format!("skein.internal:{port}");
    let (status, answer) = send(
        "GET",
        &collector.url("/api/v1/traces"),
        &[("host", host.as_str())],
        None,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
}
