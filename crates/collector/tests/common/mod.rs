//! Starts the real `skein` binary on free loopback ports (the HTTP, OTLP/HTTP and OTLP/gRPC
//! addresses all on port 0, each reported in its ready line) with a fresh data dir, and stops
//! it when dropped. Tests talk to it over HTTP and gRPC.
#![allow(dead_code)]

pub mod live;
pub mod sdks;
pub mod sse;
pub mod stats;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Collector {
    child: Child,
    /// `http://127.0.0.1:PORT`: API, dashboard, and OTLP too.
    pub http: String,
    /// `http://127.0.0.1:PORT/v1/traces` on the OTLP-only address.
    pub otlp_traces: String,
    /// `http://127.0.0.1:PORT` of the OTLP-only address (what OTEL_EXPORTER_OTLP_ENDPOINT takes).
    pub otlp_base: String,
    /// `http://127.0.0.1:PORT` of OTLP/gRPC (what OTEL_EXPORTER_OTLP_ENDPOINT takes with the gRPC
    /// protocol), on a free port the collector picked; `None` when started with
    /// `--otlp-grpc-addr off`.
    pub otlp_grpc: Option<String>,
    pub data_dir: tempfile::TempDir,
}

impl Collector {
    pub fn start() -> Collector {
        Collector::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Collector {
        let data_dir = tempfile::tempdir().expect("temp dir");
        Collector::start_in(data_dir, extra)
    }

    /// Starts on an existing data dir (to check what survives a restart).
    pub fn start_in(data_dir: tempfile::TempDir, extra: &[&str]) -> Collector {
        Collector::start_in_env(data_dir, extra, &[])
    }

    /// Starts with extra environment variables for the binary (`SKEIN_LANGSMITH_INGEST`...).
    pub fn start_with_env(env: &[(&str, &str)]) -> Collector {
        Collector::start_in_env(tempfile::tempdir().expect("temp dir"), &[], env)
    }

    pub fn start_in_env(
        data_dir: tempfile::TempDir,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Collector {
        Collector::start_logged(data_dir, extra, env, None)
    }

    /// Starts with the collector's log (stderr, `SKEIN_LOG=warn`) written to `log`, for tests
    /// that check what it says.
    pub fn start_logged(
        data_dir: tempfile::TempDir,
        extra: &[&str],
        env: &[(&str, &str)],
        log: Option<&Path>,
    ) -> Collector {
        let stderr = match log {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("create the log file")),
            None => Stdio::inherit(),
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_skein"))
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(["--http-addr", "127.0.0.1:0", "--otlp-addr", "127.0.0.1:0"])
            // Never the default 4317: tests run many collectors at once.
            .args(
                (!extra.contains(&"--otlp-grpc-addr"))
                    .then_some(["--otlp-grpc-addr", "127.0.0.1:0"])
                    .into_iter()
                    .flatten(),
            )
            .args(extra)
            .env("SKEIN_LOG", "warn")
            .env_remove("SKEIN_DIST")
            .env_remove("SKEIN_LANGSMITH_INGEST")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start the skein binary");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("Skein is ready") {
                    let _ = tx.send(line);
                }
            }
        });
        let line = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("skein did not report ready within 120 s");
            }
        };
        // "Skein is ready: open http://A/traces (OTLP/HTTP: http://B/v1/traces) (OTLP/gRPC: http://C)"
        let urls: Vec<&str> = line
            .split_whitespace()
            .filter(|w| w.starts_with("http://"))
            .collect();
        let http = urls[0].trim_end_matches("/traces").to_string();
        let otlp_traces = urls[1].trim_end_matches(')').to_string();
        let otlp_base = otlp_traces.trim_end_matches("/v1/traces").to_string();
        let otlp_grpc = line
            .split("(OTLP/gRPC: ")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .filter(|addr| addr.starts_with("http://"))
            .map(str::to_string);
        Collector {
            child,
            http,
            otlp_traces,
            otlp_base,
            otlp_grpc,
            data_dir,
        }
    }

    /// The OTLP/gRPC address (`http://127.0.0.1:PORT`); panics if started with it `off`.
    pub fn grpc_url(&self) -> String {
        self.otlp_grpc
            .clone()
            .expect("this collector serves no gRPC (--otlp-grpc-addr off)")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.http, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the process (SIGKILL) and hands back its data dir.
    pub fn kill(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.data_dir, dir)
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

pub async fn get_json(url: &str) -> serde_json::Value {
    let response = client().get(url).send().await.expect("GET");
    let status = response.status();
    let body = response.text().await.expect("body");
    assert!(status.is_success(), "GET {url} answered {status}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {body}"))
}

/// A JSON API call (`key`: sent as `x-api-key`): the status and the answer's JSON (a JSON
/// string when it is not JSON).
pub async fn call(
    method: &str,
    url: &str,
    body: Option<&serde_json::Value>,
    key: Option<&str>,
) -> (u16, serde_json::Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = client().request(method, url);
    if let Some(body) = body {
        request = request.json(body);
    }
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// Sends spans (OTLP/JSON `scopeSpans`' spans, one resource of `service`) to `project`;
/// panics unless they are accepted.
pub async fn send_spans(
    collector: &Collector,
    project: &str,
    service: &str,
    spans: Vec<serde_json::Value>,
) {
    send_services(collector, project, vec![(service, spans)]).await;
}

/// Sends spans of several services (one resource each) to `project`; panics unless they are
/// accepted.
pub async fn send_services(
    collector: &Collector,
    project: &str,
    services: Vec<(&str, Vec<serde_json::Value>)>,
) {
    let resources: Vec<serde_json::Value> = services
        .into_iter()
        .map(|(service, spans)| {
            serde_json::json!({
                "resource": {"attributes": [
                    {"key": "service.name", "value": {"stringValue": service}}]},
                "scopeSpans": [{"spans": spans}],
            })
        })
        .collect();
    let body = serde_json::json!({ "resourceSpans": resources });
    let response = client()
        .post(collector.url("/v1/traces"))
        .header("x-skein-project", project)
        .json(&body)
        .send()
        .await
        .expect("POST /v1/traces");
    assert!(response.status().is_success(), "{}", response.status());
}

/// Polls until the trace list of `project` holds at least `count` traces matching `query`.
pub async fn wait_for_traces(collector: &Collector, query: &str, count: u64) -> serde_json::Value {
    for _ in 0..100 {
        let page = get_json(&collector.url(&format!("/api/v1/traces?{query}"))).await;
        if page["total"].as_u64().unwrap_or(0) >= count {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {count} traces for {query:?} after 10 s");
}

/// A trace's spans by name: (span JSON from the span endpoint).
pub async fn spans_by_name(
    collector: &Collector,
    trace_id: &str,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    let skeleton = get_json(&collector.url(&format!("/api/v1/traces/{trace_id}"))).await;
    let mut out = std::collections::BTreeMap::new();
    for s in skeleton["spans"].as_array().expect("spans") {
        let id = s[0].as_str().expect("span id");
        let span = get_json(&collector.url(&format!("/api/v1/traces/{trace_id}/spans/{id}"))).await;
        out.insert(span["name"].as_str().expect("name").to_string(), span);
    }
    out
}

/// The Python interpreter of the test venv (created by scripts/test.sh).
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("SKEIN_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        venv.exists(),
        "no Python venv at {}: run `bash scripts/test.sh` (it creates it) or set SKEIN_TEST_PYTHON",
        venv.display()
    );
    venv
}

/// Asserts that the seed's 7-span agent tree (main_agent → planning_agent, execution_agent →
/// sub_agent_1..3, synthesis_agent) arrived with its parents.
pub fn assert_seed_tree(spans: &std::collections::BTreeMap<String, serde_json::Value>) {
    let id = |name: &str| {
        spans
            .get(name)
            .unwrap_or_else(|| panic!("span {name} missing; got {:?}", spans.keys()))["span_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let parent = |name: &str| spans[name]["parent_span_id"].as_str().map(str::to_string);
    assert_eq!(parent("main_agent"), None, "main_agent is the root");
    for child in ["planning_agent", "execution_agent", "synthesis_agent"] {
        assert_eq!(parent(child), Some(id("main_agent")), "{child}'s parent");
    }
    for sub in ["sub_agent_1", "sub_agent_2", "sub_agent_3"] {
        assert_eq!(parent(sub), Some(id("execution_agent")), "{sub}'s parent");
    }
}

/// Runs `skein <args> --data-dir <dir>` (projects, keys) and returns what it printed.
pub fn skein_cli(data_dir: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_skein"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run skein");
    assert!(
        output.status.success(),
        "skein {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// GET `url` with an API key (`x-api-key`), as JSON; panics unless 2xx.
pub async fn get_json_with_key(url: &str, key: &str) -> serde_json::Value {
    let response = client()
        .get(url)
        .header("x-api-key", key)
        .send()
        .await
        .expect("GET");
    let status = response.status();
    let body = response.text().await.expect("body");
    assert!(status.is_success(), "GET {url} answered {status}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {body}"))
}

/// An answer's body as JSON, the way a client reads it: a protobuf `google.rpc.Status` (what
/// OTLP/HTTP protobuf requests get on error) as `{"error": message, "grpc_code": code}`, JSON as
/// it is, anything else as a JSON string.
pub async fn answer_json(response: reqwest::Response) -> serde_json::Value {
    use prost::Message;
    let protobuf = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-protobuf"));
    let success = response.status().is_success();
    let bytes = response.bytes().await.expect("body");
    if protobuf && !success {
        let status = tonic_types::pb::Status::decode(bytes.as_ref())
            .unwrap_or_else(|e| panic!("an error answer that is not a google.rpc.Status: {e}"));
        return serde_json::json!({"error": status.message, "grpc_code": status.code});
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
}
