//! The ingest benchmark: pre-encodes OTLP/HTTP protobuf batches of seed-shaped traces (the
//! demo generator's agents and microservice requests: ~10 attributes a span, prompts and
//! answers of a few hundred bytes), sends them over a few concurrent connections to any OTLP
//! endpoint, and measures spans per second acknowledged and queryable.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prost::Message;
use serde::Serialize;
use skein_collector::demo::{self, DemoOptions};

use crate::machine::{process_usage, Machine, ProcessUsage};

#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// The OTLP traces URL, e.g. `http://127.0.0.1:4318/v1/traces`.
    pub otlp_url: String,
    /// The collector's API base (`http://127.0.0.1:8080`), to poll until the spans are
    /// queryable; `None` skips that measure.
    pub api_url: Option<String>,
    pub spans: usize,
    pub connections: usize,
    /// Traces per request (a demo trace has ~13 spans).
    pub traces_per_request: usize,
    /// The collector's process id, for its CPU time and peak memory.
    pub collector_pid: Option<u32>,
    pub project: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct IngestReport {
    pub machine: Machine,
    pub spans: usize,
    pub traces: usize,
    pub requests: usize,
    pub request_bytes: usize,
    pub connections: usize,
    pub retries: usize,
    pub seconds_to_ack: f64,
    pub spans_per_second_acked: f64,
    pub seconds_to_queryable: Option<f64>,
    pub spans_per_second_queryable: Option<f64>,
    pub collector: Option<ProcessUsage>,
    /// CPU seconds this load generator used while sending (it shares the machine).
    pub client_cpu_seconds: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("request to {url} failed: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("{url} answered {status}: {body}")]
    Refused {
        url: String,
        status: u16,
        body: String,
    },
    #[error("the spans were not all queryable after {0:?}")]
    NotQueryable(Duration),
    #[error("a sending worker failed: {0}")]
    Worker(String),
}

/// A load ready to send: the encoded requests and what they hold.
pub struct Prepared {
    pub requests: Vec<Vec<u8>>,
    pub traces: usize,
    pub spans: usize,
    /// Every span's (trace id, span id), for benchmarks that refer to them (feedback).
    pub span_ids: Vec<([u8; 16], [u8; 8])>,
    /// The feedback the demo generator gives these traces (on root runs).
    pub feedback: Vec<skein_model::NewFeedback>,
}

/// Builds the encoded requests: about `spans` spans, in requests of `traces_per_request`
/// traces. Trace ids are fresh for every call (seeded from the clock).
pub fn prepare(config: &IngestConfig) -> Prepared {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let mut options = DemoOptions::new("http://unused");
    options.seed = seed;
    // Demo traces average ~13 spans; generate a little more and stop at the span budget.
    options.traces = config.spans / 10 + 1;
    let data = demo::generate(&options);
    let mut traces = Vec::new();
    let mut spans = 0;
    for t in data.traces {
        if spans >= config.spans {
            break;
        }
        spans += t.spans.len();
        traces.push(t);
    }
    let span_ids = traces
        .iter()
        .flat_map(|t| &t.spans)
        .filter_map(|(_, s)| {
            Some((
                <[u8; 16]>::try_from(s.trace_id.as_slice()).ok()?,
                <[u8; 8]>::try_from(s.span_id.as_slice()).ok()?,
            ))
        })
        .collect();
    // The demo's feedback of the traces kept (it names their trace ids).
    let kept: std::collections::HashSet<[u8; 16]> = traces
        .iter()
        .filter_map(|t| t.spans.first())
        .filter_map(|(_, s)| <[u8; 16]>::try_from(s.trace_id.as_slice()).ok())
        .collect();
    let feedback = data
        .feedback
        .into_iter()
        .filter(|f| {
            f.trace_id
                .as_deref()
                .and_then(parse_hex16)
                .is_some_and(|t| kept.contains(&t))
        })
        .collect();
    let requests = traces
        .chunks(config.traces_per_request.max(1))
        .map(|chunk| demo::to_request(chunk).encode_to_vec())
        .collect();
    Prepared {
        requests,
        traces: traces.len(),
        spans,
        span_ids,
        feedback,
    }
}

fn parse_hex16(text: &str) -> Option<[u8; 16]> {
    let n = u128::from_str_radix(text, 16).ok()?;
    (text.len() == 32).then(|| n.to_be_bytes())
}

async fn stored_spans(
    client: &reqwest::Client,
    api: &str,
    project: &str,
) -> Result<u64, IngestError> {
    let url = format!("{api}/api/v1/projects");
    let text = client
        .get(&url)
        .send()
        .await
        .map_err(|source| IngestError::Http {
            url: url.clone(),
            source,
        })?
        .text()
        .await
        .map_err(|source| IngestError::Http {
            url: url.clone(),
            source,
        })?;
    let projects: Vec<skein_model::ProjectInfo> = serde_json::from_str(&text).unwrap_or_default();
    Ok(projects
        .iter()
        .find(|p| p.name == project)
        .map_or(0, |p| p.span_count))
}

pub async fn run(config: &IngestConfig) -> Result<IngestReport, IngestError> {
    send(config, &mut prepare(config)).await
}

/// Sends a prepared load; its requests are taken (the ids and feedback stay for the caller).
pub async fn send(config: &IngestConfig, load: &mut Prepared) -> Result<IngestReport, IngestError> {
    let machine = Machine::now();
    let requests = std::mem::take(&mut load.requests);
    let (traces, spans) = (load.traces, load.spans);
    let request_bytes = requests.iter().map(Vec::len).sum();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(config.connections)
        .build()
        .map_err(|source| IngestError::Http {
            url: config.otlp_url.clone(),
            source,
        })?;
    let baseline = match &config.api_url {
        Some(api) => stored_spans(&client, api, &config.project).await?,
        None => 0,
    };
    let usage_before = config.collector_pid.and_then(process_usage);
    let client_before = process_usage(std::process::id());

    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..config.connections.max(1) {
        let (requests, next, retries, client) = (
            requests.clone(),
            next.clone(),
            retries.clone(),
            client.clone(),
        );
        let (url, project) = (config.otlp_url.clone(), config.project.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = requests.get(i) else {
                    return Ok(());
                };
                loop {
                    let response = client
                        .post(&url)
                        .header("content-type", "application/x-protobuf")
                        .header(skein_model::PROJECT_HEADER, &project)
                        .body(body.clone())
                        .send()
                        .await
                        .map_err(|source| IngestError::Http {
                            url: url.clone(),
                            source,
                        })?;
                    let status = response.status().as_u16();
                    if response.status().is_success() {
                        break;
                    }
                    if status == 429 || status == 503 {
                        retries.fetch_add(1, Ordering::Relaxed);
                        let wait = response
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse::<f64>().ok())
                            .unwrap_or(0.5)
                            .min(0.5);
                        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
                        continue;
                    }
                    return Err(IngestError::Refused {
                        url: url.clone(),
                        status,
                        body: response.text().await.unwrap_or_default(),
                    });
                }
            }
        });
    }
    join_workers(workers).await?;
    let seconds_to_ack = started.elapsed().as_secs_f64();
    let client_cpu_seconds = match (client_before, process_usage(std::process::id())) {
        (Some(before), Some(after)) => Some(after.cpu_seconds - before.cpu_seconds),
        _ => None,
    };

    let mut seconds_to_queryable = None;
    if let Some(api) = &config.api_url {
        let deadline = Duration::from_secs(600);
        loop {
            if stored_spans(&client, api, &config.project).await? >= baseline + spans as u64 {
                seconds_to_queryable = Some(started.elapsed().as_secs_f64());
                break;
            }
            if started.elapsed() > deadline {
                return Err(IngestError::NotQueryable(deadline));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let collector = match (usage_before, config.collector_pid.and_then(process_usage)) {
        (Some(before), Some(after)) => Some(ProcessUsage {
            cpu_seconds: after.cpu_seconds - before.cpu_seconds,
            peak_rss_mib: after.peak_rss_mib,
        }),
        _ => None,
    };
    Ok(IngestReport {
        machine,
        spans,
        traces,
        requests: requests.len(),
        request_bytes,
        connections: config.connections,
        retries: retries.load(Ordering::Relaxed),
        seconds_to_ack,
        spans_per_second_acked: spans as f64 / seconds_to_ack,
        seconds_to_queryable,
        spans_per_second_queryable: seconds_to_queryable.map(|s| spans as f64 / s),
        collector,
        client_cpu_seconds,
    })
}

/// Waits for every worker. A worker that panicked or was cancelled fails the run as one that
/// returned an error does (the others are stopped): its requests were not all sent, so a rate
/// over all spans would be a lie.
async fn join_workers(
    mut workers: tokio::task::JoinSet<Result<(), IngestError>>,
) -> Result<(), IngestError> {
    while let Some(result) = workers.join_next().await {
        result.map_err(|e| IngestError::Worker(e.to_string()))??;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_worker_that_panics_fails_the_run() {
        let mut workers = tokio::task::JoinSet::new();
        workers.spawn(async { Ok(()) });
        workers.spawn(async { panic!("a worker's bug") });
        workers.spawn(async { Ok(()) });
        let result = join_workers(workers).await;
        assert!(
            matches!(&result, Err(IngestError::Worker(why)) if why.contains("panic")),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn a_worker_that_fails_fails_the_run_and_all_ok_is_ok() {
        let mut workers = tokio::task::JoinSet::new();
        workers.spawn(async { Ok(()) });
        workers.spawn(async { Err(IngestError::NotQueryable(Duration::from_secs(1))) });
        assert!(matches!(
            join_workers(workers).await,
            Err(IngestError::NotQueryable(_))
        ));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..4 {
            workers.spawn(async { Ok(()) });
        }
        assert!(join_workers(workers).await.is_ok());
    }
}
