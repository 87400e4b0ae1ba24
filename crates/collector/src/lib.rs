//! Skein's collector: ingest (OTLP/HTTP and gRPC, LangSmith), storage, the query and feedback API, and
//! the built dashboard, as one binary (`skein`).
//!
//! From the bottom up: `store` (the storage contract and its engines), `error` (the one HTTP
//! error shape), `context` (what a handler is given), `auth` (API keys), `browser` (what a web
//! page may do without keys), `budget` (request bodies held at once), `ingest` (one module per
//! protocol), `langsmith` (LangSmith's API), `api` (one file per resource), `dashboard` (the
//! built files), `server` (the routers), and `start` here.

pub mod api;
pub mod auth;
pub mod browser;
pub mod budget;
pub mod clock;
pub mod context;
pub mod dashboard;
pub mod demo;
pub mod error;
pub mod export;
pub mod fuzzing;
pub mod ingest;
pub mod langsmith;
pub mod live;
pub mod migrate;
pub mod server;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

use crate::auth::KeyCache;
use crate::browser::BrowserPolicy;
use crate::budget::BodyBudget;
use crate::context::AppState;
pub use crate::ingest::body::BodyLimits;
use crate::ingest::grpc::OtlpGrpc;
use crate::live::LiveHub;
use crate::server::Guards;
use crate::store::clickhouse::{ClickhouseOptions, ClickhouseStore};
use crate::store::sqlite::{SqliteKeys, SqliteOptions, SqliteStore};
use crate::store::{KeyStore, Store, StoreError};

/// Which engine holds the data, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// One SQLite file, `skein.db`, in this directory (created on first start).
    Sqlite { dir: PathBuf },
    /// ClickHouse, one node or a cluster: the tables are created or upgraded on start.
    Clickhouse(ClickhouseOptions),
}

impl StoreConfig {
    /// Opens the store (creating or upgrading its schema) and starts its writers.
    /// `max_queued_spans`: spans that may wait to be written; past this, writes are refused
    /// as overloaded.
    pub async fn open(&self, max_queued_spans: usize) -> Result<Arc<dyn Store>, StoreError> {
        match self {
            StoreConfig::Sqlite { dir } => Ok(Arc::new(SqliteStore::open(SqliteOptions {
                max_queued_spans,
                ..SqliteOptions::new(dir.join("skein.db"))
            })?)),
            StoreConfig::Clickhouse(options) => Ok(Arc::new(
                ClickhouseStore::open(ClickhouseOptions {
                    max_queued_spans,
                    ..options.clone()
                })
                .await?,
            )),
        }
    }

    /// The projects and keys, for the CLI. On SQLite nothing else is opened or started, and
    /// reading keys creates nothing.
    pub async fn keys(&self) -> Result<Arc<dyn KeyStore>, StoreError> {
        match self {
            StoreConfig::Sqlite { dir } => Ok(Arc::new(SqliteKeys::new(dir.join("skein.db")))),
            StoreConfig::Clickhouse(options) => {
                Ok(Arc::new(ClickhouseStore::open(options.clone()).await?))
            }
        }
    }

    /// Where the data is, as an operator would name it (never a password).
    pub fn describe(&self) -> String {
        match self {
            StoreConfig::Sqlite { dir } => dir.join("skein.db").display().to_string(),
            StoreConfig::Clickhouse(o) => format!(
                "ClickHouse {} database {}{}",
                o.connection.url,
                o.database,
                o.cluster
                    .as_ref()
                    .map(|c| format!(" cluster {c}"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// How `skein serve` runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub store: StoreConfig,
    /// OTLP/HTTP only; `None` serves OTLP on the HTTP address alone.
    pub otlp_addr: Option<SocketAddr>,
    /// OTLP/gRPC (the TraceService); `None`: not served.
    pub otlp_grpc_addr: Option<SocketAddr>,
    pub http_addr: SocketAddr,
    pub dist: Option<PathBuf>,
    pub limits: BodyLimits,
    /// Spans that may wait for the store's writer; past this, ingest answers 503 + Retry-After.
    pub max_queued_spans: usize,
    /// Bytes of request bodies held at once; past this, requests get 503 + Retry-After.
    pub max_inflight_bytes: usize,
    /// Host names answered without keys besides localhost and IP addresses (`browser`).
    pub allowed_hosts: Vec<String>,
    /// Traces that started longer ago than this many days are removed (checked hourly);
    /// none: kept for good.
    pub retention_days: Option<u32>,
    /// Live streams (`GET /api/v1/stream`) open at once; past this, 503 + Retry-After.
    pub max_live_streams: usize,
}

/// A running collector: its bound addresses, until `shutdown` or drop of the runtime.
pub struct Running {
    pub http_addr: SocketAddr,
    pub otlp_addr: Option<SocketAddr>,
    pub otlp_grpc_addr: Option<SocketAddr>,
    pub store: Arc<dyn Store>,
    tasks: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// Waits until a server stops (it only stops on error or shutdown signal).
    pub async fn wait(self) -> std::io::Result<()> {
        for task in self.tasks {
            task.await.map_err(std::io::Error::other)??;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the store at {location}: {source}")]
    Store {
        location: String,
        source: StoreError,
    },
    #[error("cannot listen on {addr} ({flag}): {source}")]
    Bind {
        /// The flag that names the address, and what it serves.
        flag: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "the dashboard directory {0} has no index.html (build it with scripts/build-dashboard.sh)"
    )]
    Dist(PathBuf),
}

/// Opens the store and binds the listeners; servers run on the current Tokio runtime.
pub async fn start(config: &ServeConfig) -> Result<Running, StartError> {
    if let Some(dist) = &config.dist {
        if !dist.join("index.html").is_file() {
            return Err(StartError::Dist(dist.clone()));
        }
    }
    let store = config
        .store
        .open(config.max_queued_spans)
        .await
        .map_err(|source| StartError::Store {
            location: config.store.describe(),
            source,
        })?;
    let keys = Arc::new(KeyCache::new(store.clone()));
    let state = AppState {
        store: store.clone(),
        limits: config.limits,
        live: Arc::new(LiveHub::new(config.max_live_streams)),
    };

    let bind = |addr: SocketAddr, flag: &'static str| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { flag, addr, source })
    };
    let http = bind(config.http_addr, "--http-addr").await?;
    let http_addr = http.local_addr().unwrap_or(config.http_addr);
    let otlp = match config.otlp_addr {
        Some(addr) => {
            let otlp = bind(
                addr,
                "--otlp-addr, OTLP/HTTP; give another address, or `off`",
            )
            .await?;
            let bound = otlp.local_addr().unwrap_or(addr);
            Some((otlp, bound))
        }
        None => None,
    };
    let otlp_addr = otlp.as_ref().map(|(_, bound)| *bound);
    let grpc = match config.otlp_grpc_addr {
        Some(addr) => {
            let grpc = bind(
                addr,
                "--otlp-grpc-addr, OTLP/gRPC; give another address, or `off`",
            )
            .await?;
            let bound = grpc.local_addr().unwrap_or(addr);
            Some((grpc, bound))
        }
        None => None,
    };
    let otlp_grpc_addr = grpc.as_ref().map(|(_, bound)| *bound);
    let bound: Vec<SocketAddr> = std::iter::once(http_addr).chain(otlp_addr).collect();
    let guards = Guards {
        browser: Arc::new(BrowserPolicy::new(
            keys.clone(),
            &config.allowed_hosts,
            &bound,
        )),
        budget: Arc::new(BodyBudget::new(
            config.max_inflight_bytes,
            config.limits.max_body_bytes,
        )),
        keys,
    };

    let mut tasks = Vec::new();
    let http_app = server::http_router(state.clone(), &guards, config.dist.clone());
    // Without TCP_NODELAY a streamed answer's last small write waits for the client's delayed
    // ACK (~40 ms) on a reused connection: the browser's, for the trace page's skeleton.
    let http = http.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tasks.push(tokio::spawn(async move {
        axum::serve(http, http_app)
            .with_graceful_shutdown(shutdown_signal())
            .await
    }));
    if let Some((otlp, _)) = otlp {
        let otlp_app = server::otlp_router(state.clone(), &guards);
        tasks.push(tokio::spawn(async move {
            axum::serve(otlp, otlp_app)
                .with_graceful_shutdown(shutdown_signal())
                .await
        }));
    }
    if let Some((grpc, _)) = grpc {
        let service = OtlpGrpc::new(state, guards.keys.clone(), guards.budget.clone());
        tasks.push(tokio::spawn(async move {
            // Every path to the one service (not tonic's routing by name, which would answer
            // an OTLP/HTTP POST on this port 200 with an empty body, as if stored).
            let routes =
                tonic::service::Routes::from(axum::Router::new().fallback_service(service));
            tonic::transport::Server::builder()
                // HTTP/1 too, only to tell OTLP/HTTP exporters they have the wrong port.
                .accept_http1(true)
                .add_routes(routes)
                .serve_with_incoming_shutdown(TcpListenerStream::new(grpc), shutdown_signal())
                .await
                .map_err(std::io::Error::other)
        }));
    }
    if let Some(days) = config.retention_days {
        tokio::spawn(expire_old_traces(store.clone(), days));
    }
    Ok(Running {
        http_addr,
        otlp_addr,
        otlp_grpc_addr,
        store,
        tasks,
    })
}

/// `--retention-days`: a minute after start, then every hour, removes the traces that started
/// more than `days` ago.
async fn expire_old_traces(store: Arc<dyn Store>, days: u32) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    loop {
        let now_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        let cutoff = now_ns.saturating_sub(i64::from(days) * 86_400 * 1_000_000_000);
        match store.expire_before(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(traces = n, days, "removed traces past the retention"),
            Err(e) => tracing::warn!(error = %e, "removing traces past the retention failed"),
        }
        tokio::time::sleep(EVERY).await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
