//! The ingest benchmark: generates OTLP/HTTP protobuf batches of seed-shaped traces (the
//! demo generator's agents and microservice requests: ~10 attributes a span, prompts and
//! answers of a few hundred bytes) while it sends them over a few concurrent connections to
//! any OTLP endpoint, and measures spans per second acknowledged and queryable.
//!
//! The load is made on one blocking thread and queued a few requests per connection ahead of
//! the senders: demo traces in chunks of `CHUNK_TRACES` up to `POOL_SPANS` spans, then that
//! pool again with new ids, round after round (`ingest_pool`). The generator's memory is the
//! same for 1M spans as for 100M (pre-encoding every request held ~11 GiB at 3M spans), and
//! its CPU a copy of each request's bytes past the pool.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prost::Message;
use serde::Serialize;
use skein_collector::demo::{self, DemoOptions, DemoTrace};
use skein_model::random::SplitMix;
use tokio::sync::{mpsc, Mutex};

use crate::ingest_pool::{Round, Template};
use crate::machine::{process_usage, Machine, ProcessUsage};

/// Traces the generator builds at once (the demo's default data set: a few MB of spans).
const CHUNK_TRACES: usize = 2_000;
/// Spans of demo traces made (and kept, encoded: ~1.5 KB a span); later spans are these again
/// with new ids.
const POOL_SPANS: usize = 100_000;
/// Encoded requests queued ahead of each connection.
const QUEUED_PER_CONNECTION: usize = 4;

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

/// What a sent load held, and (when asked for) what other benchmarks refer to.
#[derive(Debug, Default)]
pub struct Sent {
    pub traces: usize,
    pub spans: usize,
    pub requests: usize,
    pub request_bytes: usize,
    /// Every span's (trace id, span id), for benchmarks that refer to them (feedback); kept
    /// only when asked for.
    pub span_ids: Vec<([u8; 16], [u8; 8])>,
    /// The feedback the demo generator gives these traces (on root runs); kept only when
    /// asked for.
    pub feedback: Vec<skein_model::NewFeedback>,
}

/// Generates about `config.spans` spans in requests of `config.traces_per_request` traces and
/// queues them (blocking while the queue is full); stops early when the senders are gone.
/// The first `pool_spans` are demo traces made in chunks of `chunk_traces` (each chunk with
/// its own seed: trace ids are fresh for every call); the rest are rounds of that pool with
/// new ids (`ingest_pool`), which costs a copy of the bytes instead of making and encoding
/// spans on the cores the collector needs.
fn generate(
    config: &IngestConfig,
    keep_ids: bool,
    chunk_traces: usize,
    pool_spans: usize,
    queue: &mpsc::Sender<Vec<u8>>,
) -> Sent {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let mut sent = Sent::default();
    let mut pool: Vec<Template> = Vec::new();
    let mut pool_ids = Sent::default();
    let mut chunk_no = 0u64;
    while sent.spans < config.spans.min(pool_spans) {
        let mut options = DemoOptions::new("http://unused");
        // Mixed, not offset: the demo's generator steps its state by a constant, so seeds a
        // multiple of it apart give the same traces shifted.
        options.seed = SplitMix::new(seed ^ chunk_no.rotate_left(32)).next_u64();
        // Demo traces average ~13 spans; generate a little more and stop at the span budget.
        options.traces = ((config.spans - sent.spans) / 10 + 1).min(chunk_traces);
        let data = demo::generate(&options);
        let mut traces = Vec::with_capacity(data.traces.len());
        let mut spans = sent.spans;
        for mut trace in data.traces {
            if spans >= config.spans {
                break;
            }
            spans += trace.spans.len();
            distinct_sessions(&mut trace, chunk_no);
            traces.push(trace);
        }
        if keep_ids {
            keep(&mut pool_ids, &traces, data.feedback);
        }
        for request in traces.chunks(config.traces_per_request.max(1)) {
            let template = Template::new(demo::to_request(request).encode_to_vec(), request.len());
            if !send_one(&mut sent, &template, template.body.clone(), queue) {
                return sent;
            }
            pool.push(template);
        }
        chunk_no += 1;
    }
    let pool_span_count = sent.spans;
    if keep_ids {
        sent.span_ids.extend_from_slice(&pool_ids.span_ids);
        sent.feedback.extend(pool_ids.feedback.iter().cloned());
    }
    let mut round_no = 1;
    while sent.spans < config.spans && !pool.is_empty() {
        let round = Round::new(seed, round_no);
        let before = sent.spans;
        for template in &pool {
            if sent.spans >= config.spans {
                break;
            }
            if !send_one(&mut sent, template, round.body(template), queue) {
                return sent;
            }
        }
        if keep_ids {
            let spans = sent.spans - before;
            keep_round(&mut sent, &pool_ids, &round, spans);
        }
        round_no += 1;
    }
    debug_assert!(pool_span_count <= sent.spans);
    sent
}

/// Queues one request; false when the senders are gone.
fn send_one(sent: &mut Sent, t: &Template, body: Vec<u8>, queue: &mpsc::Sender<Vec<u8>>) -> bool {
    sent.traces += t.traces;
    sent.spans += t.spans;
    sent.requests += 1;
    sent.request_bytes += body.len();
    queue.blocking_send(body).is_ok()
}

/// Session ids end with the chunk's number and 8 hex digits a round rewrites
/// (`ingest_pool`): a session stays one user's few requests however large the load.
fn distinct_sessions(trace: &mut DemoTrace, chunk_no: u64) {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    for (_, span) in &mut trace.spans {
        for attribute in &mut span.attributes {
            if attribute.key != "session.id" {
                continue;
            }
            if let Some(Value::StringValue(id)) =
                attribute.value.as_mut().and_then(|v| v.value.as_mut())
            {
                id.push_str(&format!("-{chunk_no:x}-00000000"));
            }
        }
    }
}

/// Keeps the ids a round sent (the first `spans` of the pool's) and the demo's feedback on
/// those traces, with the round's ids.
fn keep_round(sent: &mut Sent, pool: &Sent, round: &Round, spans: usize) {
    let ids = &pool.span_ids[..spans.min(pool.span_ids.len())];
    sent.span_ids.extend(
        ids.iter()
            .map(|(t, s)| (round.trace_id(*t), round.span_id(*s))),
    );
    let traces: std::collections::HashSet<[u8; 16]> = ids.iter().map(|(t, _)| *t).collect();
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    for f in &pool.feedback {
        let Some(trace) = f.trace_id.as_deref().and_then(parse_hex16) else {
            continue;
        };
        let Some(run) = parse_hex16(&format!("{:0>32}", f.run_id)) else {
            continue;
        };
        if !traces.contains(&trace) {
            continue;
        }
        let run: [u8; 8] = std::array::from_fn(|i| run[8 + i]);
        sent.feedback.push(skein_model::NewFeedback {
            trace_id: Some(hex(&round.trace_id(trace))),
            run_id: hex(&round.span_id(run)),
            ..f.clone()
        });
    }
}

/// Keeps the traces' span ids and the demo's feedback on them.
fn keep(sent: &mut Sent, traces: &[DemoTrace], feedback: Vec<skein_model::NewFeedback>) {
    sent.span_ids
        .extend(traces.iter().flat_map(|t| &t.spans).filter_map(|(_, s)| {
            Some((
                <[u8; 16]>::try_from(s.trace_id.as_slice()).ok()?,
                <[u8; 8]>::try_from(s.span_id.as_slice()).ok()?,
            ))
        }));
    let kept: std::collections::HashSet<[u8; 16]> = traces
        .iter()
        .filter_map(|t| t.spans.first())
        .filter_map(|(_, s)| <[u8; 16]>::try_from(s.trace_id.as_slice()).ok())
        .collect();
    sent.feedback.extend(feedback.into_iter().filter(|f| {
        f.trace_id
            .as_deref()
            .and_then(parse_hex16)
            .is_some_and(|t| kept.contains(&t))
    }));
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
    Ok(run_keeping(config, false).await?.0)
}

/// Generates and sends the load; with `keep_ids`, the sent spans' ids and the demo's feedback
/// on them come back too (a few dozen bytes a span).
pub async fn run_keeping(
    config: &IngestConfig,
    keep_ids: bool,
) -> Result<(IngestReport, Sent), IngestError> {
    let machine = Machine::now();
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

    let connections = config.connections.max(1);
    let (queue, requests) = mpsc::channel(connections * QUEUED_PER_CONNECTION);
    let generator = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            generate(&config, keep_ids, CHUNK_TRACES, POOL_SPANS, &queue)
        })
    };
    let requests = Arc::new(Mutex::new(requests));
    let retries = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (requests, retries, client) = (requests.clone(), retries.clone(), client.clone());
        let (url, project) = (config.otlp_url.clone(), config.project.clone());
        workers.spawn(async move {
            loop {
                let next = requests.lock().await.recv().await;
                let Some(body) = next else {
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
    let sent = generator
        .await
        .map_err(|e| IngestError::Worker(format!("the generator: {e}")))?;
    let (traces, spans) = (sent.traces, sent.spans);
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
    let report = IngestReport {
        machine,
        spans,
        traces,
        requests: sent.requests,
        request_bytes: sent.request_bytes,
        connections: config.connections,
        retries: retries.load(Ordering::Relaxed),
        seconds_to_ack,
        spans_per_second_acked: spans as f64 / seconds_to_ack,
        seconds_to_queryable,
        spans_per_second_queryable: seconds_to_queryable.map(|s| spans as f64 / s),
        collector,
        client_cpu_seconds,
    };
    Ok((report, sent))
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
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

    /// Chunk after chunk, the generator sends fresh traces and sessions, as many spans as asked
    /// for, and keeps the ids asked for.
    #[test]
    fn chunks_hold_distinct_traces_and_sessions() {
        use opentelemetry_proto::tonic::common::v1::any_value::Value;
        let config = IngestConfig {
            otlp_url: String::new(),
            api_url: None,
            spans: 3_000,
            connections: 1,
            traces_per_request: 7,
            collector_pid: None,
            project: "bench".into(),
        };
        let (queue, mut requests) = mpsc::channel(2);
        // Chunks of 40 traces, the pool ~1,000 spans, then rounds.
        let generator = std::thread::spawn(move || generate(&config, true, 40, 1_000, &queue));
        let (mut traces, mut spans, mut sessions) = (
            std::collections::HashSet::new(),
            0,
            std::collections::HashSet::new(),
        );
        let mut count = 0;
        let (mut ids, mut parents) = (std::collections::HashSet::new(), Vec::new());
        while let Some(body) = requests.blocking_recv() {
            count += 1;
            let request = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
            for span in request
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .flat_map(|s| &s.spans)
            {
                spans += 1;
                traces.insert(span.trace_id.clone());
                ids.insert((span.trace_id.clone(), span.span_id.clone()));
                if !span.parent_span_id.is_empty() {
                    parents.push((span.trace_id.clone(), span.parent_span_id.clone()));
                }
                for a in &span.attributes {
                    if let ("session.id", Some(Value::StringValue(id))) = (
                        a.key.as_str(),
                        a.value.as_ref().and_then(|v| v.value.as_ref()),
                    ) {
                        sessions.insert(id.clone());
                    }
                }
            }
        }
        let sent = generator.join().unwrap();
        assert!(sent.spans >= 3_000 && sent.spans < 3_100, "{sent:?}");
        assert_eq!(spans, sent.spans);
        assert_eq!(count, sent.requests);
        assert!(sent.traces > 200, "several chunks of 40: {sent:?}");
        assert_eq!(traces.len(), sent.traces, "every trace id once");
        assert_eq!(ids.len(), sent.spans, "every span id once in its trace");
        // Rewritten ids keep the tree: every parent is a span of the same trace.
        assert!(parents.iter().all(|p| ids.contains(p)));
        let kept: std::collections::HashSet<(Vec<u8>, Vec<u8>)> = sent
            .span_ids
            .iter()
            .map(|(t, s)| (t.to_vec(), s.to_vec()))
            .collect();
        assert_eq!(kept, ids);
        let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let runs: std::collections::HashSet<(String, String)> =
            ids.iter().map(|(t, s)| (hex(t), hex(s))).collect();
        for f in &sent.feedback {
            let run = (f.trace_id.clone().unwrap_or_default(), f.run_id.clone());
            assert!(runs.contains(&run), "feedback on a span sent: {run:?}");
        }
        // Sessions of a few requests each, not the first chunk's again and again.
        assert!(
            sessions.len() * 5 >= sent.traces,
            "{} sessions",
            sessions.len()
        );
        assert!(sent.feedback.len() > 100, "{}", sent.feedback.len());
    }

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
