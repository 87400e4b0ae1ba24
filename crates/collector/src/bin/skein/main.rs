//! `skein`: the collector's command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use skein_collector::export::client::ExportOptions;
use skein_collector::ingest::limits::ContentLimits;
use skein_collector::{demo, start, ServeConfig, StoreConfig};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod args;

use args::{Cli, Command, KeyAction, ProjectAction};

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
