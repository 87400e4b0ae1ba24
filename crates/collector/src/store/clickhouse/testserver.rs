//! A ClickHouse server for tests: Debian's `clickhouse-server` (installed by
//! `scripts/setup.sh`), started once per test process from a temporary config on free loopback
//! ports, and stopped when the process ends. Each test gets a database of its own.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A running test server: its HTTP address and its directory (kept until the process ends).
pub struct TestServer {
    pub url: String,
    _dir: tempfile::TempDir,
    /// The watcher shell, which ends with the server.
    _watcher: std::process::Child,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn binary() -> PathBuf {
    for candidate in ["/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"] {
        if std::path::Path::new(candidate).exists() {
            return candidate.into();
        }
    }
    panic!(
        "clickhouse-server is not installed: `bash scripts/setup.sh clickhouse` installs \
         Debian's package (the ClickHouse tests need it)"
    );
}

fn start() -> TestServer {
    let binary = binary();
    let mut last_error = String::new();
    for _attempt in 0..3 {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path().display().to_string();
        let (http, tcp, inter) = (free_port(), free_port(), free_port());
        std::fs::write(
            dir.path().join("users.xml"),
            "<yandex><profiles><default></default></profiles><users><default><password></password>\
             <networks><ip>::1</ip><ip>127.0.0.1</ip></networks><profile>default</profile>\
             <quota>default</quota></default></users><quotas><default></default></quotas></yandex>",
        )
        .expect("users.xml");
        std::fs::write(
            dir.path().join("config.xml"),
            format!(
                "<yandex><logger><level>warning</level><log>{d}/server.log</log>\
                 <errorlog>{d}/error.log</errorlog></logger>\
                 <http_port>{http}</http_port><tcp_port>{tcp}</tcp_port>\
                 <interserver_http_port>{inter}</interserver_http_port>\
                 <listen_host>127.0.0.1</listen_host><path>{d}/data/</path><tmp_path>{d}/tmp/</tmp_path>\
                 <users_config>{d}/users.xml</users_config><default_profile>default</default_profile>\
                 <default_database>default</default_database><mark_cache_size>268435456</mark_cache_size>\
                 </yandex>"
            ),
        )
        .expect("config.xml");
        // The server stops when this test process does: a watcher kills it once the parent
        // pid is gone (a static server is never dropped).
        let script = format!(
            "'{}' --config-file='{d}/config.xml' >'{d}/stdout.log' 2>&1 & ch=$!; \
             while kill -0 {} 2>/dev/null && kill -0 $ch 2>/dev/null; do sleep 0.5; done; \
             kill $ch 2>/dev/null; sleep 2; kill -9 $ch 2>/dev/null",
            binary.display(),
            std::process::id()
        );
        let watcher = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start clickhouse-server");
        let url = format!("http://127.0.0.1:{http}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if answers(http) {
                return TestServer {
                    url,
                    _dir: dir,
                    _watcher: watcher,
                };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        last_error = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
        let mut watcher = watcher;
        let _ = watcher.kill();
        let _ = watcher.wait();
    }
    panic!("clickhouse-server did not start: {last_error}");
}

/// Whether the server on this port answers `SELECT 1` (a plain HTTP/1.0 request: no client
/// library needed).
fn answers(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /?query=SELECT%201 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.0 200") && answer.ends_with("\r\n\r\n1\n")
}

/// The process's test server, started on first use.
pub fn server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(start)
}

/// A database name no other test of this process uses.
pub fn fresh_database() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "skein_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}
