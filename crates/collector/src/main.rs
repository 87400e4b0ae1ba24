//! `skein`: the collector's command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use skein_collector::export::client::{ExportFormat, ExportKind, ExportOptions};
use skein_collector::ingest::limits::ContentLimits;
use skein_collector::store::clickhouse::{ClickhouseOptions, Connection};
use skein_collector::{demo, start, ServeConfig, StoreConfig};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "skein",
    version,
    about = "Skein: a trace explorer for multi-agent LLM systems"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives: the embedded SQLite file (the default), or ClickHouse.
#[derive(clap::Args, Clone)]
struct StoreArgs {
    /// Where the SQLite database lives (created on first start); unused with --clickhouse-url.
    #[arg(
        long,
        env = "SKEIN_DATA_DIR",
        default_value = "skein-data",
        global = true
    )]
    data_dir: PathBuf,
    /// Store in ClickHouse at this HTTP address (`http://127.0.0.1:8123`) instead of SQLite.
    #[arg(long, env = "SKEIN_CLICKHOUSE_URL", global = true)]
    clickhouse_url: Option<String>,
    /// The ClickHouse database Skein keeps its tables in (created if missing).
    #[arg(
        long,
        env = "SKEIN_CLICKHOUSE_DATABASE",
        default_value = "skein",
        global = true
    )]
    clickhouse_database: String,
    #[arg(long, env = "SKEIN_CLICKHOUSE_USER", global = true)]
    clickhouse_user: Option<String>,
    #[arg(
        long,
        env = "SKEIN_CLICKHOUSE_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    clickhouse_password: Option<String>,
    /// A ClickHouse cluster (a name in the servers' `remote_servers`): tables are created
    /// `ON CLUSTER`, replicated, and sharded by trace id behind Distributed tables.
    #[arg(long, env = "SKEIN_CLICKHOUSE_CLUSTER", global = true)]
    clickhouse_cluster: Option<String>,
    /// Replicas that must acknowledge each insert before a span is acknowledged (2 for a
    /// cluster of 2 replicas a shard).
    #[arg(
        long,
        env = "SKEIN_CLICKHOUSE_INSERT_QUORUM",
        default_value_t = 1,
        global = true
    )]
    clickhouse_insert_quorum: u32,
    /// Append every statement sent to ClickHouse and its answer to this file (JSON lines), to
    /// see what Skein asks or replay it on another ClickHouse version.
    #[arg(long, env = "SKEIN_CLICKHOUSE_SQL_LOG", global = true)]
    clickhouse_sql_log: Option<PathBuf>,
}

impl StoreArgs {
    fn config(&self) -> StoreConfig {
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
enum Command {
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
enum ProjectAction {
    /// Register a project (keys are created for a registered project).
    Create {
        name: String,
    },
    List,
}

#[derive(Subcommand)]
enum KeyAction {
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

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SKEIN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        // stdout carries the ready line that scripts read; logs go to stderr.
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("skein: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("skein: {e}");
            ExitCode::FAILURE
        }
    }
}

/// An address flag that may be `off`.
fn optional_addr(flag: &str, text: &str) -> Result<Option<SocketAddr>, String> {
    match text.trim() {
        "off" | "" => Ok(None),
        text => text.parse::<SocketAddr>().map(Some).map_err(|e| {
            format!("{flag} {text:?}: {e} (an address like 127.0.0.1:4317, or `off`)")
        }),
    }
}

async fn run(command: Command) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        Command::Serve {
            store,
            otlp_addr,
            otlp_grpc_addr,
            http_addr,
            dist,
            demo: with_demo,
            max_request_bytes,
            max_queued_spans,
            max_live_streams,
            max_span_attributes,
            max_attribute_bytes,
            max_span_events,
            max_inflight_bytes,
            allow_open,
            allowed_hosts,
            retention_days,
        } => {
            let max_inflight_bytes = match max_inflight_bytes {
                Some(n) if n < max_request_bytes => {
                    return Err(format!(
                        "--max-inflight-bytes ({n}) must be at least --max-request-bytes \
                         ({max_request_bytes}), or no request of the largest size could ever fit"
                    )
                    .into())
                }
                Some(n) => n,
                None => skein_collector::budget::default_budget(max_request_bytes),
            };
            let otlp_addr = optional_addr("--otlp-addr", &otlp_addr)?;
            let otlp_grpc_addr = optional_addr("--otlp-grpc-addr", &otlp_grpc_addr)?;
            let config = ServeConfig {
                store: store.config(),
                otlp_addr,
                otlp_grpc_addr,
                http_addr,
                dist,
                limits: skein_collector::BodyLimits {
                    max_body_bytes: max_request_bytes,
                    max_decoded_bytes: max_request_bytes.saturating_mul(4),
                    content: ContentLimits {
                        max_attributes: max_span_attributes,
                        max_attribute_bytes,
                        max_events: max_span_events,
                    },
                },
                max_queued_spans,
                max_inflight_bytes,
                allowed_hosts: allowed_hosts
                    .into_iter()
                    .map(|h| h.trim().to_string())
                    .filter(|h| !h.is_empty())
                    .collect(),
                retention_days,
                max_live_streams,
            };
            let has_keys = config.store.keys().await?.key_table().await?.required;
            let exposed: Vec<SocketAddr> = [
                Some(config.http_addr),
                config.otlp_addr,
                config.otlp_grpc_addr,
            ]
            .into_iter()
            .flatten()
            .filter(|a| !a.ip().is_loopback())
            .collect();
            if !has_keys {
                if !exposed.is_empty() && !allow_open {
                    return Err(format!(
                        "refusing to serve {exposed:?} without API keys: anyone who can reach it could \
                         read and write every project. Create a key (`skein project create NAME`, then \
                         `skein key create --project NAME`) or pass --allow-open"
                    )
                    .into());
                }
                tracing::warn!(
                    "no API keys: Skein is open to anyone who can reach its addresses{}",
                    if exposed.is_empty() {
                        " (loopback only)"
                    } else {
                        " (--allow-open)"
                    }
                );
            }
            let running = start(&config).await?;
            tracing::info!(
                data = %config.store.describe(),
                otlp = %running.otlp_addr.map_or("off".to_string(), |a| format!("http://{a}/v1/traces")),
                otlp_grpc = %running.otlp_grpc_addr.map_or("off".to_string(), |a| format!("http://{a}")),
                "collector listening"
            );
            if config.dist.is_none() {
                tracing::warn!("no --dist given: the dashboard is not served, only the API");
            }
            if with_demo && has_keys {
                tracing::warn!(
                    "demo data not loaded: this Skein has API keys; send it with `skein demo --api-key KEY`"
                );
            } else if with_demo {
                let base = format!("http://{}", running.http_addr);
                let has_data = running
                    .store
                    .projects()
                    .await?
                    .iter()
                    .any(|p| p.name == skein_model::DEFAULT_PROJECT && p.trace_count > 0);
                if has_data {
                    tracing::info!("the store already has data: demo data not loaded again");
                } else {
                    let summary = demo::send(&demo::DemoOptions::new(&base)).await?;
                    tracing::info!(
                        traces = summary.traces,
                        spans = summary.spans,
                        feedback = summary.feedback,
                        "demo data loaded"
                    );
                }
            }
            // Scripts and tests read this line for the bound addresses (the first two URLs are
            // the dashboard and OTLP/HTTP; the gRPC one comes last).
            let otlp = running.otlp_addr.unwrap_or(running.http_addr);
            let grpc = running
                .otlp_grpc_addr
                .map_or("off".to_string(), |a| format!("http://{a}"));
            println!(
                "Skein is ready: open http://{}/traces (OTLP/HTTP: http://{otlp}/v1/traces) \
                 (OTLP/gRPC: {grpc})",
                running.http_addr
            );
            running.wait().await?;
            Ok(())
        }
        Command::Project { action, store } => {
            let keys = store.config().keys().await?;
            match action {
                ProjectAction::Create { name } => {
                    let name = name.trim();
                    if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
                        return Err("a project name is 1 to 128 printable characters".into());
                    }
                    if keys.create_project(name).await? {
                        println!("created project {name}");
                    } else {
                        println!("project {name} already exists");
                    }
                }
                ProjectAction::List => {
                    for name in keys.list_projects().await? {
                        println!("{name}");
                    }
                }
            }
            Ok(())
        }
        Command::Key { action, store } => {
            let keys = store.config().keys().await?;
            match action {
                KeyAction::Create { project, label } => {
                    let key = keys.create_key(&project, &label).await?;
                    eprintln!(
                        "created {} for project {}; the secret is shown only now:",
                        key.info.id, key.info.project
                    );
                    println!("{}", key.secret);
                }
                KeyAction::List => {
                    for k in keys.list_keys().await? {
                        println!(
                            "{}\t{}\t{}\t{}",
                            k.id,
                            k.project,
                            if k.revoked { "revoked" } else { "active" },
                            k.label
                        );
                    }
                }
                KeyAction::Revoke { id } => {
                    if keys.revoke_key(&id).await? {
                        println!("revoked {id}");
                    } else {
                        return Err(format!("no active key {id}").into());
                    }
                }
            }
            Ok(())
        }
        Command::Migrate { store } => {
            let StoreConfig::Clickhouse(_) = store.config() else {
                return Err(
                    "skein migrate moves the SQLite store into ClickHouse: give --clickhouse-url"
                        .into(),
                );
            };
            let from = StoreConfig::Sqlite {
                dir: store.data_dir.clone(),
            };
            if !store.data_dir.join("skein.db").exists() {
                return Err(format!("no SQLite store in {}", store.data_dir.display()).into());
            }
            let source = from.open(200_000).await?;
            let target = store.config().open(200_000).await?;
            let progress = store
                .data_dir
                .join(format!("migrate-to-{}.json", store.clickhouse_database));
            let report = skein_collector::migrate::migrate(
                source.as_ref(),
                target.as_ref(),
                &progress,
                |line| eprintln!("{line}"),
            )
            .await?;
            println!(
                "moved {} projects, {} keys, {} traces, {} spans, {} feedback records and {} score \
                 configs from {} to {}; the counts agree",
                report.projects,
                report.keys,
                report.traces,
                report.spans,
                report.feedback,
                report.score_configs,
                from.describe(),
                store.config().describe()
            );
            Ok(())
        }
        Command::Demo {
            endpoint,
            traces,
            project,
            api_key,
        } => {
            let mut options = demo::DemoOptions::new(&endpoint);
            options.traces = traces;
            options.project = project;
            options.api_key = api_key;
            let summary = demo::send(&options).await?;
            println!(
                "sent {} traces ({} spans) and {} feedback records to {endpoint}",
                summary.traces, summary.spans, summary.feedback
            );
            Ok(())
        }
        Command::Export {
            url,
            project,
            filter,
            trace_filter,
            tree_filter,
            format,
            kind,
            api_key,
            output,
        } => {
            let blank = |t: Option<String>| t.filter(|t| !t.trim().is_empty());
            let options = ExportOptions {
                url,
                project,
                api_key,
                kind,
                format,
                filter: blank(filter),
                trace_filter: blank(trace_filter),
                tree_filter: blank(tree_filter),
            };
            export_to(&options, output).await
        }
    }
}

/// Runs an export into the file (written beside it, renamed once whole; removed on failure)
/// or stdout (a reader that stops early, as `head` does, ends it quietly).
async fn export_to(
    options: &ExportOptions,
    output: Option<PathBuf>,
) -> Result<(), Box<dyn std::error::Error>> {
    use skein_collector::export::client::{export, ExportError};
    use std::io::{BufWriter, ErrorKind};
    let Some(path) = output else {
        let mut out = BufWriter::new(std::io::stdout().lock());
        return match export(options, &mut out).await {
            Err(ExportError::Write(e)) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
            other => other.map(|_| ()).map_err(Into::into),
        };
    };
    let name = path
        .file_name()
        .ok_or_else(|| format!("--output {} is not a file name", path.display()))?;
    let partial = path.with_file_name(format!(".{}.partial", name.to_string_lossy()));
    let file = std::fs::File::create(&partial)
        .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    let mut out = BufWriter::new(file);
    let written = export(options, &mut out).await;
    let finished = written.and_then(|_| {
        let file = out
            .into_inner()
            .map_err(|e| ExportError::Write(e.into_error()))?;
        file.sync_all()?;
        Ok(())
    });
    match finished {
        Ok(()) => {
            std::fs::rename(&partial, &path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e.into())
        }
    }
}
