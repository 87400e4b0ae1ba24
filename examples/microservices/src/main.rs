//! `skein-microservices`: runs one of the example services, or all of them as processes.
//!
//! ```text
//! skein-microservices all [--base-port 7000]
//! skein-microservices <service> [--port N] [--peer <service>=<url>]...
//! ```
//!
//! Services: api-gateway, auth-service, agent-service, model-service, tool-service,
//! search-service, cache-service, analytics-service. Spans go to `OTEL_EXPORTER_OTLP_ENDPOINT`
//! (default `http://localhost:4318`).

use std::net::SocketAddr;
use std::process::ExitCode;

use skein_example_microservices::services::{serve, Peers, Service};

const USAGE: &str = "usage:
  skein-microservices all [--base-port 7000]
  skein-microservices <service> [--port N] [--peer <service>=<url>]...

services: api-gateway auth-service agent-service model-service tool-service
          search-service cache-service analytics-service
spans go to $OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318)";

#[derive(Debug)]
enum Command {
    All {
        base_port: u16,
    },
    One {
        service: Service,
        port: u16,
        peers: Peers,
    },
}

fn parse(args: &[String]) -> Result<Command, String> {
    let (first, rest) = args.split_first().ok_or("no service named")?;
    let value = |i: usize, flag: &str| -> Result<&String, String> {
        rest.get(i + 1)
            .ok_or_else(|| format!("{flag} needs a value"))
    };
    if first == "all" {
        let mut base_port = 7000u16;
        let mut i = 0;
        while i < rest.len() {
            match rest[i].as_str() {
                "--base-port" => {
                    base_port = value(i, "--base-port")?
                        .parse()
                        .map_err(|_| "--base-port must be a port number")?;
                    i += 2;
                }
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        return Ok(Command::All { base_port });
    }
    let service = Service::parse(first).ok_or_else(|| format!("unknown service {first:?}"))?;
    let mut port = service.default_port();
    let mut peers = Peers::default();
    let mut i = 0;
    while i < rest.len() {
        match rest[i].as_str() {
            "--port" => {
                port = value(i, "--port")?
                    .parse()
                    .map_err(|_| "--port must be a port number")?;
                i += 2;
            }
            "--peer" => {
                let spec = value(i, "--peer")?;
                let (name, url) = spec
                    .split_once('=')
                    .ok_or_else(|| format!("--peer {spec:?} is not <service>=<url>"))?;
                let peer =
                    Service::parse(name).ok_or_else(|| format!("unknown service {name:?}"))?;
                peers.set(peer, url);
                i += 2;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Command::One {
        service,
        port,
        peers,
    })
}

/// Starts every service as a child process of this binary, on consecutive ports, and stops
/// them all when one exits or on Ctrl-C / SIGTERM (their spans are flushed as they stop).
async fn run_all(base_port: u16) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let port_of = |s: Service| base_port + (s.default_port() - 7000);
    let mut children = Vec::new();
    for service in Service::ALL {
        let mut command = tokio::process::Command::new(&exe);
        command
            .arg(service.name())
            .arg("--port")
            .arg(port_of(service).to_string())
            .kill_on_drop(true);
        for peer in service.callees() {
            command.arg("--peer").arg(format!(
                "{}=http://127.0.0.1:{}",
                peer.name(),
                port_of(*peer)
            ));
        }
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", service.name()))?;
        children.push((service, child));
    }
    eprintln!(
        "all services started; try:\n  curl -s -X POST http://127.0.0.1:{}/v1/chat -H 'content-type: application/json' \\\n    -d '{{\"message\": \"Compare solid-state batteries\", \"user_id\": \"user_1\", \"session_id\": \"session_1\"}}'",
        port_of(Service::ApiGateway)
    );
    let outcome = tokio::select! {
        _ = stop_signal() => Ok(()),
        exited = first_exit(&mut children) => Err(exited),
    };
    // Ask each to stop (SIGTERM: they flush their spans), then make sure.
    for (_, child) in &mut children {
        if let Some(pid) = child.id() {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
        }
    }
    for (_, child) in &mut children {
        if tokio::time::timeout(std::time::Duration::from_secs(5), child.wait())
            .await
            .is_err()
        {
            let _ = child.kill().await;
        }
    }
    outcome
}

/// Waits until one of the children exits; names it.
async fn first_exit(children: &mut [(Service, tokio::process::Child)]) -> String {
    loop {
        for (service, child) in children.iter_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                return format!("{} exited ({status})", service.name());
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let command = match parse(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command {
        Command::All { base_port } => runtime.block_on(run_all(base_port)),
        Command::One {
            service,
            port,
            peers,
        } => {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            runtime
                .block_on(serve(service, addr, peers))
                .map_err(|e| e.to_string())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
