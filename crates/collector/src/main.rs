//! `skein`: the collector's command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use skein_collector::{demo, start, ServeConfig};

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

#[derive(Subcommand)]
enum Command {
    /// Run the collector: OTLP ingest, the query API and the dashboard.
    Serve {
        /// Where the SQLite database lives (created on first start).
        #[arg(long, env = "SKEIN_DATA_DIR", default_value = "skein-data")]
        data_dir: PathBuf,
        /// OTLP/HTTP address (`/v1/traces`); `off` to serve OTLP on the HTTP address only.
        #[arg(long, env = "SKEIN_OTLP_ADDR", default_value = "127.0.0.1:4318")]
        otlp_addr: String,
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

async fn run(command: Command) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        Command::Serve {
            data_dir,
            otlp_addr,
            http_addr,
            dist,
            demo: with_demo,
            max_request_bytes,
            max_queued_spans,
        } => {
            let otlp_addr = match otlp_addr.as_str() {
                "off" | "" => None,
                text => Some(
                    text.parse::<SocketAddr>()
                        .map_err(|e| format!("--otlp-addr {text:?}: {e}"))?,
                ),
            };
            let config = ServeConfig {
                data_dir,
                otlp_addr,
                http_addr,
                dist,
                limits: skein_collector::BodyLimits {
                    max_body_bytes: max_request_bytes,
                    max_decoded_bytes: max_request_bytes.saturating_mul(4),
                },
                max_queued_spans,
            };
            let running = start(&config).await?;
            tracing::info!(
                data = %config.data_dir.join("skein.db").display(),
                otlp = %running.otlp_addr.map_or("off".to_string(), |a| format!("http://{a}/v1/traces")),
                "collector listening"
            );
            if config.dist.is_none() {
                tracing::warn!("no --dist given: the dashboard is not served, only the API");
            }
            if with_demo {
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
            // Scripts and tests read this line for the bound addresses.
            let otlp = running.otlp_addr.unwrap_or(running.http_addr);
            println!(
                "Skein is ready: open http://{}/traces (OTLP/HTTP: http://{otlp}/v1/traces)",
                running.http_addr
            );
            running.wait().await?;
            Ok(())
        }
        Command::Demo {
            endpoint,
            traces,
            project,
        } => {
            let mut options = demo::DemoOptions::new(&endpoint);
            options.traces = traces;
            options.project = project;
            let summary = demo::send(&options).await?;
            println!(
                "sent {} traces ({} spans) and {} feedback records to {endpoint}",
                summary.traces, summary.spans, summary.feedback
            );
            Ok(())
        }
    }
}
