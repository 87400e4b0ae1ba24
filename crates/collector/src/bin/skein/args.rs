//! The `skein` command line's arguments (clap): the commands, their flags and environment
//! variables, and the store they name.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use skein_collector::export::client::{ExportFormat, ExportKind};
use skein_collector::ingest::limits::ContentLimits;
use skein_collector::store::clickhouse::{ClickhouseOptions, Connection};
use skein_collector::{demo, StoreConfig};

#[derive(Parser)]
#[command(
    name = "skein",
    version,
    about = "Skein: a trace explorer for multi-agent LLM systems"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Where the data lives: the embedded SQLite file (the default), or ClickHouse.
#[derive(clap::Args, Clone)]
pub(crate) struct StoreArgs {
    /// Where the SQLite database lives (created on first start); unused with --clickhouse-url.
    #[arg(
        long,
        env = "SKEIN_DATA_DIR",
        default_value = "skein-data",
        global = true
    )]
    pub(crate) data_dir: PathBuf,
    /// Store in ClickHouse at this HTTP address (`http://127.0.0.1:8123`) instead of SQLite.
    #[arg(long, env = "SKEIN_CLICKHOUSE_URL", global = true)]
    pub(crate) clickhouse_url: Option<String>,
    /// The ClickHouse database Skein keeps its tables in (created if missing).
    #[arg(
        long,
        env = "SKEIN_CLICKHOUSE_DATABASE",
        default_value = "skein",
        global = true
    )]
    pub(crate) clickhouse_database: String,
    #[arg(long, env = "SKEIN_CLICKHOUSE_USER", global = true)]
    pub(crate) clickhouse_user: Option<String>,
    #[arg(
        long,
        env = "SKEIN_CLICKHOUSE_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub(crate) clickhouse_password: Option<String>,
    /// A ClickHouse cluster (a name in the servers' `remote_servers`): tables are created
    /// `ON CLUSTER`, replicated, and sharded by trace id behind Distributed tables.
    #[arg(long, env = "SKEIN_CLICKHOUSE_CLUSTER", global = true)]
    pub(crate) clickhouse_cluster: Option<String>,
    /// Replicas that must acknowledge each insert before a span is acknowledged (2 for a
    /// cluster of 2 replicas a shard).
    #[arg(
        long,
        env = "SKEIN_CLICKHOUSE_INSERT_QUORUM",
        default_value_t = 1,
        global = true
    )]
    pub(crate) clickhouse_insert_quorum: u32,
    /// Append every statement sent to ClickHouse and its answer to this file (JSON lines), to
    /// see what Skein asks or replay it on another ClickHouse version.
    #[arg(long, env = "SKEIN_CLICKHOUSE_SQL_LOG", global = true)]
    pub(crate) clickhouse_sql_log: Option<PathBuf>,
}

impl StoreArgs {
    pub(crate) fn config(&self) -> StoreConfig {
        match &self.clickhouse_url {
            None => StoreConfig::Sqlite {
                dir: self.data_dir.clone(),
            },
            Some(url) => StoreConfig::Clickhouse(ClickhouseOptions {
                connection: Connection {
                    url: url.trim_end_matches('/').to_string(),
                    user: self.clickhouse_user.clone(),
                    password: self.clickhouse_password.clone(),
                },
                database: self.clickhouse_database.clone(),
                cluster: self.clickhouse_cluster.clone(),
                insert_quorum: self.clickhouse_insert_quorum,
                sql_log: self.clickhouse_sql_log.clone(),
                ..ClickhouseOptions::new(url)
            }),
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run the collector: OTLP ingest, the query API and the dashboard.
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        /// OTLP/HTTP address (`/v1/traces`); `off` to serve OTLP on the HTTP address only.
        #[arg(long, env = "SKEIN_OTLP_ADDR", default_value = "127.0.0.1:4318")]
        otlp_addr: String,
        /// OTLP/gRPC address (the TraceService, what OTel exporters send by default); `off`
        /// to serve no gRPC.
        #[arg(long, env = "SKEIN_OTLP_GRPC_ADDR", default_value = "127.0.0.1:4317")]
        otlp_grpc_addr: String,
        /// Dashboard, query API, and OTLP too.
        #[arg(long, env = "SKEIN_HTTP_ADDR", default_value = "127.0.0.1:8080")]
        http_addr: SocketAddr,
        /// The built dashboard (Trunk's `dist/`).
        #[arg(long, env = "SKEIN_DIST")]
        dist: Option<PathBuf>,
        /// Load the demo data set through the OTLP endpoint when the store has none.
        #[arg(long)]
        demo: bool,
        /// Largest request body accepted (bytes on the wire); compressed bodies may expand to
        /// four times this.
        #[arg(long, env = "SKEIN_MAX_REQUEST_BYTES", default_value_t = 32 << 20)]
        max_request_bytes: usize,
        /// Spans that may wait to be written; past this, ingest answers 503 with Retry-After
        /// (OTLP clients retry), which bounds memory under load.
        #[arg(long, env = "SKEIN_MAX_QUEUED_SPANS", default_value_t = 200_000)]
        max_queued_spans: usize,
        /// Live streams (`GET /api/v1/stream`) open at once; past this, 503 with Retry-After.
        #[arg(long, env = "SKEIN_MAX_LIVE_STREAMS", default_value_t = skein_collector::live::DEFAULT_MAX_STREAMS)]
        max_live_streams: usize,
        /// Most attributes on a span, event, link or resource (and keys in a LangSmith run's
        /// `extra.metadata`); a request with more is refused whole with 413.
        #[arg(long, env = "SKEIN_MAX_SPAN_ATTRIBUTES", default_value_t = ContentLimits::default().max_attributes)]
        max_span_attributes: usize,
        /// Most bytes in one attribute value (and in a LangSmith run's inputs, outputs, extra,
        /// error, events or tags as JSON); a request with more is refused whole with 413.
        #[arg(long, env = "SKEIN_MAX_ATTRIBUTE_BYTES", default_value_t = ContentLimits::default().max_attribute_bytes)]
        max_attribute_bytes: usize,
        /// Most events (and links) on a span or run; a request with more is refused whole
        /// with 413.
        #[arg(long, env = "SKEIN_MAX_SPAN_EVENTS", default_value_t = ContentLimits::default().max_events)]
        max_span_events: usize,
        /// Bytes of request bodies held at once, all requests together; past this, requests
        /// get 503 with Retry-After. Default: a quarter of the memory, at most 1 GiB.
        #[arg(long, env = "SKEIN_MAX_INFLIGHT_BYTES")]
        max_inflight_bytes: Option<usize>,
        /// Serve a non-loopback address although no API key exists (anyone who can reach it
        /// can read and write everything).
        #[arg(long)]
        allow_open: bool,
        /// Without API keys, Skein answers only requests whose Host is localhost or one of its
        /// IP addresses (a defence against DNS rebinding); these names too (comma-separated).
        #[arg(long, env = "SKEIN_ALLOWED_HOSTS", value_delimiter = ',')]
        allowed_hosts: Vec<String>,
        /// Remove traces that started more than this many days ago (checked hourly, on either
        /// engine); without it, traces are kept for good.
        #[arg(long, env = "SKEIN_RETENTION_DAYS")]
        retention_days: Option<u32>,
    },
    /// Projects: each API key reads and writes one.
    Project {
        #[command(subcommand)]
        action: ProjectAction,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// API keys: once one exists, every data endpoint needs a key.
    Key {
        #[command(subcommand)]
        action: KeyAction,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Move everything of the SQLite store in --data-dir (spans, feedback, projects, keys) into
    /// ClickHouse (--clickhouse-url ...): resumable, with a progress line, counts checked at the
    /// end. Stop the collectors writing to the SQLite file first.
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Send the demo data set to a running collector, through OTLP/HTTP and the feedback API.
    Demo {
        /// The collector's HTTP address (OTLP at /v1/traces, feedback at /api/v1/feedback).
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        endpoint: String,
        /// How many traces to generate.
        #[arg(long, default_value_t = demo::DEFAULT_TRACES)]
        traces: usize,
        /// The project to send to (`x-skein-project`).
        #[arg(long)]
        project: Option<String>,
        /// An API key, when the collector has keys.
        #[arg(long, env = "SKEIN_API_KEY")]
        api_key: Option<String>,
    },
    /// Write a running collector's traces or spans, selected with the filter language, to
    /// stdout or a file: CSV, JSON Lines, or OTLP/JSON (one export request per trace, a line
    /// each; POST a line to /v1/traces to store that trace again). Streamed, never held.
    Export {
        /// The collector's HTTP address.
        #[arg(long, env = "SKEIN_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// The project to export (the key's project when a key is given and this is not).
        #[arg(long)]
        project: Option<String>,
        /// Spans (--kind spans) or traces having a span (--kind traces) that pass this
        /// expression, e.g. 'and(eq(run_type, "llm"), gt(latency, "2s"))'.
        #[arg(long)]
        filter: Option<String>,
        /// Only where the trace's root span passes this expression.
        #[arg(long)]
        trace_filter: Option<String>,
        /// Only where some span of the trace passes this expression.
        #[arg(long)]
        tree_filter: Option<String>,
        /// jsonl, csv or otlp (otlp: whole traces with --kind traces; the selected spans, a line
        /// per trace, with --kind spans).
        #[arg(long, default_value = "jsonl", value_parser = ExportFormat::parse)]
        format: ExportFormat,
        /// A row per trace (traces) or per span (spans).
        #[arg(long, default_value = "traces", value_parser = ExportKind::parse)]
        kind: ExportKind,
        /// An API key, when the collector has keys.
        #[arg(long, env = "SKEIN_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
        /// Write here instead of stdout (whole or not at all: written beside it, then renamed).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub(crate) enum ProjectAction {
    /// Register a project (keys are created for a registered project).
    Create {
        name: String,
    },
    List,
}

#[derive(Subcommand)]
pub(crate) enum KeyAction {
    /// Create a key for a project; prints the secret, which is shown only this once.
    Create {
        #[arg(long)]
        project: String,
        /// What the key is for (`ci`, `agents-prod`…).
        #[arg(long, default_value = "")]
        label: String,
    },
    List,
    /// Revoke a key by id (`skein key list` shows ids); takes effect within seconds.
    Revoke {
        id: String,
    },
}
