#![allow(dead_code)]
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
        // pid is gone and removes its data (a static server, and its TempDir, is never dropped).
        let script = format!(
            "'{}' --config-file='{d}/config.xml' >'{d}/stdout.log' 2>&1 & ch=$!; \
             while kill -0 {} 2>/dev/null && kill -0 $ch 2>/dev/null; do sleep 0.5; done; \
             kill $ch 2>/dev/null; sleep 2; kill -9 $ch 2>/dev/null; wait $ch; rm -rf '{d}'",
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

/// A cluster for tests: one ZooKeeper and `shards` x `replicas` clickhouse-server processes on
/// loopback, named `skein_test` in every node's `remote_servers`. Stopped when dropped.
pub struct TestCluster {
    pub name: String,
    pub nodes: Vec<ClusterNode>,
    zookeeper: std::process::Child,
    dir: tempfile::TempDir,
}

pub struct ClusterNode {
    pub url: String,
    pub shard: usize,
    pub replica: usize,
    /// The native protocol's port (`clickhouse-client --port`).
    pub tcp: u16,
    http: u16,
    config: PathBuf,
    process: Option<std::process::Child>,
}

impl ClusterNode {
    /// Kills the node's server (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut p) = self.process.take() {
            let _ = p.kill();
            let _ = p.wait();
        }
    }

    /// Starts the node's server again on its data and waits until it answers.
    pub fn restart(&mut self) {
        self.kill();
        self.process = Some(spawn_node(&self.config));
        wait_until_answers(self.http, &self.config);
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
        let _ = self.zookeeper.kill();
        let _ = self.zookeeper.wait();
        let _ = &self.dir;
    }
}

fn spawn_node(config: &std::path::Path) -> std::process::Child {
    let dir = config.parent().expect("node dir");
    Command::new(binary())
        .arg(format!("--config-file={}", config.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("stdout.log")).map_or(Stdio::null(), Stdio::from))
        .stderr(Stdio::null())
        .spawn()
        .expect("start clickhouse-server")
}

fn wait_until_answers(port: u16, config: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if answers(port) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = config
        .parent()
        .map(|d| std::fs::read_to_string(d.join("error.log")).unwrap_or_default())
        .unwrap_or_default();
    panic!("a cluster node did not start: {log}");
}

/// ZooKeeper from Debian's package (`/usr/share/java`), answering `ruok` on its port.
fn start_zookeeper(dir: &std::path::Path) -> (std::process::Child, u16) {
    let port = free_port();
    let data = dir.join("zookeeper");
    std::fs::create_dir_all(&data).expect("zookeeper dir");
    let cfg = data.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={port}\n\
             clientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=ruok\n",
            data.display()
        ),
    )
    .expect("zoo.cfg");
    let jars: Vec<String> = std::fs::read_dir("/usr/share/java")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "jar"))
                .map(|p| p.display().to_string())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        jars.iter().any(|j| j.contains("zookeeper")),
        "ZooKeeper is not installed: `bash scripts/setup.sh clickhouse` installs Debian's package"
    );
    let mut child = Command::new("java")
        .arg("-Xmx256m")
        .arg("-cp")
        .arg(jars.join(":"))
        .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(data.join("out.log")).map_or(Stdio::null(), Stdio::from))
        .stderr(Stdio::null())
        .spawn()
        .expect("start zookeeper");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        use std::io::{Read, Write};
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = s.write_all(b"ruok");
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            if answer == "imok" {
                return (child, port);
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("zookeeper did not answer ruok");
}

/// Starts ZooKeeper and a cluster of `shards` x `replicas` nodes.
pub fn cluster(shards: usize, replicas: usize) -> TestCluster {
    let dir = tempfile::tempdir().expect("temp dir");
    let (zookeeper, zk_port) = start_zookeeper(dir.path());
    let name = "skein_test".to_string();
    struct Ports {
        http: u16,
        tcp: u16,
        inter: u16,
    }
    let ports: Vec<Vec<Ports>> = (0..shards)
        .map(|_| {
            (0..replicas)
                .map(|_| Ports {
                    http: free_port(),
                    tcp: free_port(),
                    inter: free_port(),
                })
                .collect()
        })
        .collect();
    let remote: String = ports
        .iter()
        .map(|shard| {
            let replicas: String = shard
                .iter()
                .map(|p| {
                    format!(
                        "<replica><host>127.0.0.1</host><port>{}</port></replica>",
                        p.tcp
                    )
                })
                .collect();
            format!("<shard><internal_replication>true</internal_replication>{replicas}</shard>")
        })
        .collect();
    let mut nodes = Vec::new();
    for (s, shard) in ports.iter().enumerate() {
        for (r, p) in shard.iter().enumerate() {
            let node_dir = dir.path().join(format!("node-{s}-{r}"));
            std::fs::create_dir_all(&node_dir).expect("node dir");
            let d = node_dir.display();
            std::fs::write(
                node_dir.join("users.xml"),
                "<yandex><profiles><default></default></profiles><users><default><password></password>\
                 <networks><ip>::1</ip><ip>127.0.0.1</ip></networks><profile>default</profile>\
                 <quota>default</quota></default></users><quotas><default></default></quotas></yandex>",
            )
            .expect("users.xml");
            let config = node_dir.join("config.xml");
            std::fs::write(
                &config,
                format!(
                    "<yandex><logger><level>warning</level><log>{d}/server.log</log>\
                     <errorlog>{d}/error.log</errorlog></logger>\
                     <http_port>{http}</http_port><tcp_port>{tcp}</tcp_port>\
                     <interserver_http_port>{inter}</interserver_http_port>\
                     <interserver_http_host>127.0.0.1</interserver_http_host>\
                     <listen_host>127.0.0.1</listen_host><path>{d}/data/</path><tmp_path>{d}/tmp/</tmp_path>\
                     <users_config>{d}/users.xml</users_config><default_profile>default</default_profile>\
                     <default_database>default</default_database><mark_cache_size>268435456</mark_cache_size>\
                     <zookeeper><node><host>127.0.0.1</host><port>{zk_port}</port></node></zookeeper>\
                     <macros><shard>{shard}</shard><replica>r{replica}</replica></macros>\
                     <remote_servers><{name}>{remote}</{name}></remote_servers>\
                     <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>\
                     </yandex>",
                    http = p.http,
                    tcp = p.tcp,
                    inter = p.inter,
                    shard = s + 1,
                    replica = r + 1,
                ),
            )
            .expect("config.xml");
            nodes.push(ClusterNode {
                url: format!("http://127.0.0.1:{}", p.http),
                shard: s,
                replica: r,
                tcp: p.tcp,
                http: p.http,
                process: Some(spawn_node(&config)),
                config,
            });
        }
    }
    for node in &nodes {
        wait_until_answers(node.http, &node.config);
    }
    TestCluster {
        name,
        nodes,
        zookeeper,
        dir,
    }
}
