//! The example's services as real processes, exporting to a real collector: one request
//! through the gateway is one trace with spans from all eight services, every server span the
//! child of its caller's client span, including the hop that propagates with the seed's
//! `X-Trace-ID` / `X-Span-ID` headers (tool-service → search-service).
//!
//! Needs the collector binary: `cargo build -p skein-collector` (found under
//! `CARGO_TARGET_DIR`, else `target/`).

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const SERVICES: [&str; 8] = [
    "api-gateway",
    "auth-service",
    "agent-service",
    "model-service",
    "tool-service",
    "search-service",
    "cache-service",
    "analytics-service",
];

/// (caller, callee, route): every hop one chat request makes.
const HOPS: [(&str, &str, &str); 8] = [
    ("api-gateway", "auth-service", "/verify"),
    ("api-gateway", "agent-service", "/agent/run"),
    ("api-gateway", "analytics-service", "/events"),
    ("agent-service", "model-service", "/v1/completions"),
    ("agent-service", "tool-service", "/tools/search"),
    ("tool-service", "cache-service", "/cache/get"),
    ("tool-service", "search-service", "/search"),
    ("tool-service", "cache-service", "/cache/put"),
];

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn collector_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                repo_root().join(p)
            }
        })
        .unwrap_or_else(|| repo_root().join("target"));
    let bin = target.join("debug").join("skein");
    assert!(
        bin.exists(),
        "the collector binary {} is missing: run `cargo build -p skein-collector` first",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A child process, killed on drop, its output in a log file.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn start(name: &str, mut command: Command, dir: &std::path::Path) -> Proc {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        command.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            name: name.to_string(),
            child,
            log,
        }
    }

    fn check_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited ({status}); its log:\n{}",
                self.name,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "skein-microservices-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `http://127.0.0.1:PORT` from the collector's ready line, once it has printed it.
async fn collector_base(collector: &mut Proc) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        collector.check_running();
        let log = std::fs::read_to_string(&collector.log).unwrap_or_default();
        let base = log
            .lines()
            .find_map(|line| line.strip_prefix("Skein is ready: open "))
            .and_then(|rest| rest.split("/traces").next())
            .map(str::to_string);
        if let Some(base) = base {
            return base;
        }
        assert!(Instant::now() < deadline, "the collector did not get ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_healthy(client: &reqwest::Client, url: &str, proc: &mut Proc) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        proc.check_running();
        if let Ok(r) = client.get(url).send().await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} did not answer {url}",
            proc.name
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn get_json(client: &reqwest::Client, url: &str) -> Option<Value> {
    let r = client.get(url).send().await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json().await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_is_one_trace_across_every_service() {
    let dir = TempDir::new();
    let client = reqwest::Client::new();

    // The collector: OTLP on its HTTP address, on a port it picks (port 0) and reports in its
    // "Skein is ready: open http://127.0.0.1:PORT/traces ..." line.
    let mut command = Command::new(collector_binary());
    command
        .arg("serve")
        .arg("--http-addr")
        .arg("127.0.0.1:0")
        .arg("--otlp-addr")
        .arg("off")
        .arg("--otlp-grpc-addr")
        .arg("off")
        .arg("--data-dir")
        .arg(dir.0.join("data"))
        .env("RUST_LOG", "warn");
    let mut collector = Proc::start("collector", command, &dir.0);
    let base = collector_base(&mut collector).await;
    wait_healthy(&client, &format!("{base}/api/v1/health"), &mut collector).await;

    // The eight services, each its own process on its own port.
    let ports: HashMap<&str, u16> = SERVICES.iter().map(|s| (*s, free_port())).collect();
    let mut services = Vec::new();
    for name in SERVICES {
        let mut command = Command::new(env!("CARGO_BIN_EXE_skein-microservices"));
        command
            .arg(name)
            .arg("--port")
            .arg(ports[name].to_string())
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &base)
            .env(
                "OTEL_EXPORTER_OTLP_HEADERS",
                "x-skein-project=microservices",
            )
            .env("OTEL_BSP_SCHEDULE_DELAY", "100");
        for (peer, port) in &ports {
            command
                .arg("--peer")
                .arg(format!("{peer}=http://127.0.0.1:{port}"));
        }
        services.push(Proc::start(name, command, &dir.0));
    }
    for (name, proc) in SERVICES.iter().zip(services.iter_mut()) {
        wait_healthy(
            &client,
            &format!("http://127.0.0.1:{}/health", ports[name]),
            proc,
        )
        .await;
    }

    // One request through the gateway.
    let response = client
        .post(format!("http://127.0.0.1:{}/v1/chat", ports["api-gateway"]))
        .json(&json!({
            "message": "Compare the latest research on solid-state batteries",
            "user_id": "user_7",
            "session_id": "session_micro_1",
            "request_sequence": 1
        }))
        .send()
        .await
        .expect("the gateway answers");
    assert!(response.status().is_success(), "{}", response.status());
    let answer: Value = response.json().await.expect("JSON");
    let trace_id = answer["trace_id"].as_str().expect("a trace id").to_string();
    assert!(answer["answer"]
        .as_str()
        .is_some_and(|a| a.contains("sources")));

    // Every service's spans arrive (batches every 100 ms, from eight processes).
    let trace_url = format!("{base}/api/v1/traces/{trace_id}?project=microservices");
    let deadline = Instant::now() + Duration::from_secs(30);
    let skeleton = loop {
        for s in services.iter_mut() {
            s.check_running();
        }
        if let Some(t) = get_json(&client, &trace_url).await {
            let services: Vec<&str> = t["services"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let spans = t["spans"].as_array().map_or(0, Vec::len);
            // 1 gateway server + 8 hops × (client + server) + 1 LLM span = 18.
            if SERVICES.iter().all(|s| services.contains(s)) && spans >= 18 {
                break t;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the trace {trace_id} did not arrive whole: {:?}",
            get_json(&client, &trace_url).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The skeleton: [span_id, parent index, name index, service index, type, start, dur, status, tokens].
    let names: Vec<&str> = skeleton["names"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let service_names: Vec<&str> = skeleton["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    struct S {
        id: String,
        parent: Option<usize>,
        name: String,
        service: String,
    }
    let spans: Vec<S> = skeleton["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| S {
            id: s[0].as_str().unwrap().to_string(),
            parent: usize::try_from(s[1].as_i64().unwrap()).ok(),
            name: names[s[2].as_u64().unwrap() as usize].to_string(),
            service: service_names[s[3].as_u64().unwrap() as usize].to_string(),
        })
        .collect();
    assert_eq!(
        spans.len(),
        18,
        "spans: {:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    assert!(
        skeleton
            .get("orphans")
            .is_none_or(|o| o.as_object().is_some_and(|m| m.is_empty())),
        "every parent arrived: {:?}",
        skeleton["orphans"]
    );
    let roots: Vec<&S> = spans.iter().filter(|s| s.parent.is_none()).collect();
    assert_eq!(roots.len(), 1, "one root");
    assert_eq!(
        (roots[0].service.as_str(), roots[0].name.as_str()),
        ("api-gateway", "POST /v1/chat")
    );

    // Full spans, for kinds and attributes.
    let mut full: HashMap<String, Value> = HashMap::new();
    for s in &spans {
        let url = format!(
            "{base}/api/v1/traces/{trace_id}/spans/{}?project=microservices",
            s.id
        );
        full.insert(s.id.clone(), get_json(&client, &url).await.expect("span"));
    }

    // Every hop: the callee's server span is a child of the caller's client span, which is a
    // child of the caller's server span.
    let mut matched = vec![false; spans.len()];
    for (caller, callee, route) in HOPS {
        let server = spans
            .iter()
            .enumerate()
            .find(|(i, s)| !matched[*i] && s.service == callee && s.name == format!("POST {route}"))
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("no server span of {callee} for {route}"));
        matched[server] = true;
        let s = &spans[server];
        assert_eq!(full[&s.id]["kind"], "server", "{callee} {route}");
        let client_span = &spans[s
            .parent
            .unwrap_or_else(|| panic!("{callee} {route} has no parent"))];
        assert_eq!(
            client_span.service, caller,
            "{callee} {route} is called by {caller}"
        );
        assert_eq!(client_span.name, format!("POST {callee}{route}"));
        assert_eq!(full[&client_span.id]["kind"], "client");
        let caller_server = &spans[client_span.parent.expect("the client span has a parent")];
        assert_eq!(caller_server.service, caller);
        assert_eq!(full[&caller_server.id]["kind"], "server");

        // How the context travelled: the X- headers into search-service, traceparent elsewhere.
        let form = full[&s.id]["attributes"]["skein.example.propagation"].clone();
        if callee == "search-service" {
            assert_eq!(form, "x-headers", "the search hop uses the seed's headers");
        } else {
            assert_eq!(form, "traceparent", "{caller} → {callee}");
        }
    }

    // The LLM call inside the model service, under its server span.
    let llm = spans
        .iter()
        .find(|s| s.name == "chat example-model")
        .expect("the model call");
    assert_eq!(llm.service, "model-service");
    assert_eq!(
        spans[llm.parent.expect("a parent")].name,
        "POST /v1/completions"
    );

    // The request is in its session, with its input and output for the conversation view.
    let session = get_json(
        &client,
        &format!("{base}/api/v1/sessions/session_micro_1?project=microservices"),
    )
    .await
    .expect("the session");
    assert_eq!(session["summary"]["user_id"], "user_7");
    let requests = session["requests"].as_array().expect("requests");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["trace"]["trace_id"], trace_id.as_str());
    assert_eq!(requests[0]["sequence"], 1);
    assert_eq!(
        requests[0]["input"]["text"],
        "Compare the latest research on solid-state batteries"
    );

    // And the service graph has every edge.
    let graph = get_json(
        &client,
        &format!("{base}/api/v1/services/graph?project=microservices"),
    )
    .await
    .expect("the graph");
    let edges: Vec<(String, String)> = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["caller"].as_str().unwrap().to_string(),
                e["callee"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (caller, callee, _) in HOPS {
        assert!(
            edges.contains(&(caller.to_string(), callee.to_string())),
            "{caller} → {callee} missing from {edges:?}"
        );
    }
    assert_eq!(edges.len(), 7, "{edges:?}");
}
