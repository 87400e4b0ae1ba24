//! Shared helpers for the dashboard's browser tests: a collector with demo data serving the
//! built dashboard, a chromedriver, and a headless Chromium driven by thirtyfour.
//!
//! Needs `cargo build -p skein-collector` (the `skein` binary), `scripts/build-dashboard.sh`
//! (dist/) and Debian's chromium + chromium-driver (`scripts/setup.sh`).

#![allow(dead_code)]

mod browser;
pub mod keys;
pub mod timing;

// The browser and the page helpers every test names as `common::...`.
pub use browser::*;

use std::fs::File;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How long a collector may take to print that it is ready (a hang guard, not a timing).
const READY_TIMEOUT: Duration = Duration::from_secs(240);

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `skein` binary of this workspace (honours CARGO_TARGET_DIR).
pub fn collector_binary() -> PathBuf {
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

/// The built dashboard: `SKEIN_TEST_DIST` if set (a build elsewhere, e.g. `trunk build --dist`),
/// else dist/.
pub fn dist_dir() -> PathBuf {
    let dist = std::env::var_os("SKEIN_TEST_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("dist"));
    assert!(
        dist.join("index.html").exists(),
        "{} has no index.html: build the dashboard first with scripts/build-dashboard.sh",
        dist.display()
    );
    dist
}

/// The HTTP and OTLP ports of the collector's "Skein is ready: open http://A/traces (OTLP/HTTP:
/// http://B/v1/traces)" line, once it is in `log`.
fn ready_ports(log: &str) -> Option<(u16, u16)> {
    let line = log.lines().find(|l| l.starts_with("Skein is ready"))?;
    let mut ports = line
        .split("http://127.0.0.1:")
        .skip(1)
        .map(|rest| rest.split('/').next().and_then(|p| p.parse().ok()));
    Some((ports.next()??, ports.next()??))
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("skein-{label}-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed (and reaped) on drop.
pub struct Process {
    child: Child,
    pub log: PathBuf,
}

impl Process {
    fn spawn(mut command: Command, log: PathBuf) -> Process {
        let out = File::create(&log).expect("create log file");
        let err = out.try_clone().expect("clone log file");
        command.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        Process { child, log }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Panics (with the log) if the process has exited.
    pub fn assert_running(&mut self, what: &str) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{what} exited ({status}); its log:\n{}", self.log_text());
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 100 ms until it gives `Some`, or panics with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `skein serve --demo` on loopback ports the collector picks itself, serving dist/, with a
/// fresh data dir.
pub struct Collector {
    pub base: String,
    process: Option<Process>,
    /// The bound ports, 0 until the first start: the collector binds port 0 and reports what it
    /// got, so no other process can take a port between choosing it and binding it.
    http: u16,
    otlp: u16,
    demo: bool,
    runs: usize,
    data: TempDir,
}

impl Collector {
    pub async fn start_demo() -> Collector {
        Collector::start(true).await
    }

    pub async fn start(demo: bool) -> Collector {
        Collector::start_prepared(demo, |_| {}).await
    }

    /// Like `start`, with `prepare` run on the data dir before the collector starts (projects
    /// and keys made with `Collector::cli`).
    pub async fn start_prepared(demo: bool, prepare: impl FnOnce(&Path)) -> Collector {
        let mut collector = Collector {
            base: String::new(),
            process: None,
            http: 0,
            otlp: 0,
            demo,
            runs: 0,
            data: TempDir::new("collector"),
        };
        prepare(&collector.data_dir());
        collector.launch().await;
        collector
    }

    /// The collector's `--data-dir`.
    pub fn data_dir(&self) -> PathBuf {
        self.data.path().join("db")
    }

    /// Runs `skein <args> --data-dir <data_dir>` (`project create`, `key create`…) and returns
    /// its output; panics if it fails.
    pub fn cli(data_dir: &Path, args: &[&str]) -> String {
        let output = Command::new(collector_binary())
            .args(args)
            .arg("--data-dir")
            .arg(data_dir)
            .output()
            .unwrap_or_else(|e| panic!("skein {args:?}: {e}"));
        assert!(
            output.status.success(),
            "skein {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// Starts the binary on this collector's ports (fresh ones the first time) and data dir, and
    /// waits until it is ready.
    async fn launch(&mut self) {
        // A restart reuses the ports the browser already knows; something else may have taken
        // one meanwhile, so a failed bind is retried for a while.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.try_launch().await {
                Ok(()) => return,
                Err(log) if log.contains("Address already in use") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(log) => panic!("the collector exited; its log:\n{log}"),
            }
        }
    }

    /// One start; `Err(log)` if the process exits before it is ready.
    async fn try_launch(&mut self) -> Result<(), String> {
        let mut command = Command::new(collector_binary());
        command
            .arg("serve")
            .arg("--http-addr")
            .arg(format!("127.0.0.1:{}", self.http))
            .arg("--otlp-addr")
            .arg(format!("127.0.0.1:{}", self.otlp))
            .arg("--otlp-grpc-addr")
            .arg("off")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--dist")
            .arg(dist_dir())
            .env("RUST_LOG", "warn");
        if self.demo {
            command.arg("--demo");
        }
        self.runs += 1;
        let log = self
            .data
            .path()
            .join(format!("collector-{}.log", self.runs));
        let mut process = Process::spawn(command, log);
        // Ready means the collector printed "Skein is ready: open http://A/traces (OTLP/HTTP:
        // http://B/v1/traces)", after binding and (with --demo) loading the demo data. The bound
        // only catches a hang: a debug build loading the demo on a busy machine has taken > 90 s.
        let deadline = Instant::now() + READY_TIMEOUT;
        let (http, otlp) = loop {
            if process.exited() {
                return Err(process.log_text());
            }
            if let Some(ports) = ready_ports(&process.log_text()) {
                break ports;
            }
            if Instant::now() > deadline {
                panic!(
                    "the collector did not get ready in {} s; its log:\n{}",
                    READY_TIMEOUT.as_secs(),
                    process.log_text()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        self.http = http;
        self.otlp = otlp;
        self.base = format!("http://127.0.0.1:{http}");
        let health = format!("{}/api/v1/health", self.base);
        let healthy = reqwest::get(&health)
            .await
            .is_ok_and(|r| r.status().is_success());
        assert!(healthy, "the collector said it is ready but {health} fails");
        self.process = Some(process);
        Ok(())
    }

    /// Kills the collector (the data dir stays).
    pub fn stop(&mut self) {
        self.process = None;
    }

    /// Starts it again on the same address and data.
    pub async fn restart(&mut self) {
        self.stop();
        self.launch().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The OTLP/HTTP traces endpoint.
    pub fn otlp_traces_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1/traces", self.otlp)
    }

    /// Sends an OTLP/JSON export request to the OTLP endpoint; panics unless it is accepted.
    pub async fn send_otlp_json(&self, body: &serde_json::Value) {
        let response = reqwest::Client::new()
            .post(self.otlp_traces_url())
            .json(body)
            .send()
            .await
            .expect("OTLP request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "OTLP: {status}: {text}");
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = reqwest::get(self.url(path))
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.expect("JSON")
    }

    /// `POST`s JSON to the API; panics unless it is accepted. The answer's JSON (null if none).
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let response = reqwest::Client::new()
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = response.status();
        let answer = response.json().await.unwrap_or(serde_json::Value::Null);
        assert!(status.is_success(), "POST {path}: {status} {answer}");
        answer
    }
}
