//! The query benchmark: loads a collector with seed-shaped traces (the ingest benchmark's
//! generator) plus one very large trace, then times the dashboard's queries over HTTP, each
//! called repeatedly: the trace list with one and with three tag filters, a trace's skeleton,
//! one span, a metric grouped by a tag, and the large trace's skeleton. Then it stores
//! feedback through `POST /api/v1/feedback` (1M records by default: the demo's own on root
//! runs, and an evaluator's score on every span) and times the feedback metrics and the trace
//! list (whose rows carry a feedback summary) again. Latencies are the client's (request sent
//! to the last byte of the answer read), p50 and p95.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use serde::Serialize;

use crate::collector::quantile;
use crate::ingest::{self, IngestConfig};
use crate::machine::Machine;

#[derive(Debug, Clone)]
pub struct QueriesConfig {
    /// The OTLP traces URL the data is loaded through.
    pub otlp_url: String,
    /// The collector's API base (`http://127.0.0.1:8080`).
    pub api_url: String,
    /// Seed-shaped spans to load first (0: load nothing, query what is there).
    pub spans: usize,
    /// Spans of the one large trace (0: none, and no large-trace query).
    pub big_trace_spans: usize,
    /// Timed calls of each query (after two untimed ones).
    pub repeats: usize,
    pub project: String,
    pub collector_pid: Option<u32>,
    /// Feedback records to store after the first round of queries (0: none, and no
    /// feedback queries). Needs `spans` > 0: the records name the loaded spans.
    pub feedback: usize,
    /// Concurrent `POST /api/v1/feedback` requests while storing them.
    pub feedback_connections: usize,
}

/// The evaluator's feedback key: a score on every span (`feedback:quality`).
pub const EVAL_KEY: &str = "quality";

/// One query's latencies.
#[derive(Debug, Clone, Serialize)]
pub struct QueryTiming {
    pub name: String,
    /// One of the paths called (ids vary from call to call for the trace and span fetches).
    pub example: String,
    pub calls: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// The target p50 from the issue, where there is one.
    pub target_p50_ms: Option<f64>,
    /// Bytes of the last answer.
    pub response_bytes: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueriesReport {
    pub machine: Machine,
    /// Spans and traces stored when the queries ran.
    pub spans_stored: u64,
    pub traces_stored: u64,
    pub big_trace_spans: usize,
    pub load: Option<ingest::IngestReport>,
    pub feedback_load: Option<FeedbackLoad>,
    pub queries: Vec<QueryTiming>,
}

/// How the feedback was stored.
#[derive(Debug, Clone, Serialize)]
pub struct FeedbackLoad {
    pub records: usize,
    /// Of which the demo generator's (`user_satisfaction`, `business_value` on root runs).
    pub demo_records: usize,
    pub connections: usize,
    /// 503 answers retried (the write queue was full).
    pub retries: usize,
    pub seconds: f64,
    pub records_per_second: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum QueriesError {
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    #[error("request to {url} failed: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("{url} answered {status}: {body}")]
    Refused {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url}: unexpected answer: {why}")]
    Unexpected { url: String, why: String },
}

/// Loads the data (unless `config.spans` is 0) and times the queries.
pub async fn run(config: &QueriesConfig) -> Result<QueriesReport, QueriesError> {
    let machine = Machine::now();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .map_err(|source| QueriesError::Http {
            url: config.api_url.clone(),
            source,
        })?;
    let mut prepared = None;
    let load = if config.spans > 0 {
        let ingest_config = IngestConfig {
            otlp_url: config.otlp_url.clone(),
            api_url: Some(config.api_url.clone()),
            spans: config.spans,
            connections: 4,
            traces_per_request: 100,
            collector_pid: config.collector_pid,
            project: config.project.clone(),
        };
        let (report, sent) = ingest::run_keeping(&ingest_config, config.feedback > 0).await?;
        prepared = Some(sent);
        Some(report)
    } else {
        None
    };
    let big_trace = if config.big_trace_spans > 0 {
        Some(load_big_trace(&http, config).await?)
    } else {
        None
    };
    let client = Api {
        http: &http,
        base: &config.api_url,
        project: &config.project,
    };
    let (spans_stored, traces_stored) = client.stored().await?;
    let mut queries = Vec::new();
    if load.is_some() {
        queries.push(search_after_burst(&client).await?);
    }

    // Ids to fetch: the latest traces, one span of each.
    let page: skein_model::TracePage = client.json("/api/v1/traces?limit=50").await?.0;
    let mut targets = Vec::new();
    for t in page.traces.iter().filter(|t| t.span_count < 1_000).take(20) {
        let skeleton: skein_model::TraceSkeleton = client
            .json(&format!("/api/v1/traces/{}", t.trace_id))
            .await?
            .0;
        if let Some(span) = skeleton.spans.get(skeleton.spans.len() / 2) {
            targets.push((t.trace_id.clone(), span.span_id().to_string()));
        }
    }
    if targets.is_empty() {
        return Err(QueriesError::Unexpected {
            url: config.api_url.clone(),
            why: "no trace to fetch".into(),
        });
    }

    let fixed = [
        (
            "trace list, 1 tag filter",
            "/api/v1/traces?tag=env%3Dproduction&limit=50",
            Some(50.0),
        ),
        (
            "trace list, 3 tag filters",
            "/api/v1/traces?tag=env%3Dproduction&tag=version%3Dv2.1.0&tag=ab_test_variant%3DB&limit=50",
            Some(50.0),
        ),
        (
            "metric by tag (latency_p95 by ab_test_variant)",
            "/api/v1/metrics?metric=latency_p95&group_by=ab_test_variant",
            Some(100.0),
        ),
        (
            "trace list, one-word search (search(\"kyoto\"), in ~10% of traces)",
            "/api/v1/traces?filter=search(%22kyoto%22)&limit=50",
            Some(300.0),
        ),
        (
            "span list, one-word search (search(\"kyoto\"))",
            "/api/v1/spans?filter=search(%22kyoto%22)&limit=50",
            Some(300.0),
        ),
        (
            "trace list, rare-word search (search(\"timeouterror\"))",
            "/api/v1/traces?filter=search(%22timeouterror%22)&limit=50",
            Some(300.0),
        ),
        (
            "cohort compare (ab_test_variant A vs B, by duration)",
            "/api/v1/compare/cohorts?a.tag=ab_test_variant%3DA&b.tag=ab_test_variant%3DB&by=duration",
            Some(1000.0),
        ),
    ];
    for (name, path, target) in fixed {
        queries.push(
            client
                .time(name, target, config.repeats, |_| path.to_string())
                .await?,
        );
    }
    queries.push(
        client
            .time(
                "trace fetch (skeleton, ~13 spans)",
                None,
                config.repeats,
                |i| format!("/api/v1/traces/{}", targets[i % targets.len()].0),
            )
            .await?,
    );
    queries.push(
        client
            .time("span fetch (full span)", None, config.repeats, |i| {
                let (trace, span) = &targets[i % targets.len()];
                format!("/api/v1/traces/{trace}/spans/{span}")
            })
            .await?,
    );
    if let Some(id) = &big_trace {
        let name = format!("trace fetch (skeleton, {} spans)", config.big_trace_spans);
        queries.push(
            client
                .time(&name, Some(300.0), config.repeats, |_| {
                    format!("/api/v1/traces/{id}")
                })
                .await?,
        );
        // The form the trace page reads (issue 20's target: a million spans in <= 1 s).
        let name = format!(
            "trace fetch (binary skeleton, {} spans)",
            config.big_trace_spans
        );
        queries.push(
            client
                .time(&name, Some(1000.0), config.repeats, |_| {
                    format!("/api/v1/traces/{id}?format=binary")
                })
                .await?,
        );
    }

    let feedback_load = match (prepared, config.feedback) {
        (Some(data), n) if n > 0 => {
            let source = FeedbackSource {
                demo: data.feedback,
                span_ids: data.span_ids,
            };
            let loaded = store_feedback(&http, config, source).await?;
            queries.extend(time_feedback_queries(&client, config.repeats).await?);
            Some(loaded)
        }
        // A data dir loaded before (`--api-url` without `--otlp-url`): its feedback, if any,
        // is timed as it is, without the ~10 minutes of loading it again.
        _ if load.is_none() && client.has_feedback().await? => {
            queries.extend(time_feedback_queries(&client, config.repeats).await?);
            None
        }
        _ => None,
    };
    Ok(QueriesReport {
        machine,
        spans_stored,
        traces_stored,
        big_trace_spans: config.big_trace_spans,
        load,
        feedback_load,
        queries,
    })
}

/// The trace list's one-word search called once right after loading, while the full-text
/// index may still be catching up (the waiting spans are in the name); then waits until it
/// has caught up, so that the searches timed after it measure the index itself.
async fn search_after_burst(client: &Api<'_>) -> Result<QueryTiming, QueriesError> {
    let path = "/api/v1/traces?filter=search(%22kyoto%22)&limit=50";
    let waiting = client.search_index_waiting().await?;
    let (body, elapsed) = client.get(path).await?;
    let ms = elapsed.as_secs_f64() * 1e3;
    let name = format!(
        "right after loading, trace list search(\"kyoto\") ({waiting} spans waiting for the index)"
    );
    eprintln!("  {name}: {ms:.1} ms");
    let started = Instant::now();
    while client.search_index_waiting().await? > 0 {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "  the search index caught up {:.1} s after that search",
        started.elapsed().as_secs_f64()
    );
    Ok(QueryTiming {
        name,
        example: path.to_string(),
        calls: 1,
        p50_ms: ms,
        p95_ms: ms,
        max_ms: ms,
        target_p50_ms: None,
        response_bytes: body.len(),
    })
}

/// What the feedback records refer to: the demo's own records and every loaded span.
struct FeedbackSource {
    demo: Vec<skein_model::NewFeedback>,
    span_ids: Vec<([u8; 16], [u8; 8])>,
}

impl FeedbackSource {
    /// The `i`-th record: the demo's records first, then the evaluator's score on each span
    /// in turn (a span gets a second one only past one per span).
    fn record(&self, i: usize) -> Option<skein_model::NewFeedback> {
        if let Some(f) = self.demo.get(i) {
            return Some(f.clone());
        }
        let n = self.span_ids.len().max(1);
        let (trace, span) = self.span_ids.get((i - self.demo.len()) % n)?;
        let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
        // Scores spread over [0, 1] in hundredths, varying from record to record.
        let score = ((i as u64).wrapping_mul(2_654_435_761) % 101) as f64 / 100.0;
        Some(skein_model::NewFeedback {
            run_id: hex(span),
            trace_id: Some(hex(trace)),
            key: EVAL_KEY.into(),
            score: Some(score),
            source: Some("model".into()),
            ..skein_model::NewFeedback::default()
        })
    }
}

/// Stores `config.feedback` records, one `POST /api/v1/feedback` each (the API has no batch
/// form), `config.feedback_connections` at a time; a 201 means committed.
async fn store_feedback(
    http: &reqwest::Client,
    config: &QueriesConfig,
    source: FeedbackSource,
) -> Result<FeedbackLoad, QueriesError> {
    let total = config.feedback;
    let url = format!("{}/api/v1/feedback", config.api_url);
    let connections = config.feedback_connections.max(1);
    eprintln!("  storing {total} feedback records, {connections} requests at a time");
    let demo_records = source.demo.len().min(total);
    let source = Arc::new(source);
    let next = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (source, next, retries, http) =
            (source.clone(), next.clone(), retries.clone(), http.clone());
        let (url, project) = (url.clone(), config.project.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok(());
                }
                let Some(record) = source.record(i) else {
                    return Err(QueriesError::Unexpected {
                        url: url.clone(),
                        why: "no span to give feedback on".into(),
                    });
                };
                let body = serde_json::to_vec(&record).unwrap_or_default();
                loop {
                    let response = http
                        .post(&url)
                        .header(skein_model::PROJECT_HEADER, &project)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .map_err(|source| QueriesError::Http {
                            url: url.clone(),
                            source,
                        })?;
                    let status = response.status().as_u16();
                    if status == 201 {
                        break;
                    }
                    if status == 503 || status == 429 {
                        retries.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                    return Err(QueriesError::Refused {
                        url: url.clone(),
                        status,
                        body: response.text().await.unwrap_or_default(),
                    });
                }
            }
        });
    }
    while let Some(result) = workers.join_next().await {
        if let Ok(r) = result {
            r?;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let loaded = FeedbackLoad {
        records: total,
        demo_records,
        connections,
        retries: retries.load(Ordering::Relaxed),
        seconds,
        records_per_second: total as f64 / seconds,
    };
    eprintln!(
        "  stored {total} feedback records in {seconds:.1} s ({:.0} a second)",
        loaded.records_per_second
    );
    Ok(loaded)
}

/// The evaluator's feedback metric, grouped as the benchmark times it.
fn eval_metric_path() -> String {
    format!("/api/v1/metrics?metric=feedback:{EVAL_KEY}&group_by=ab_test_variant")
}

/// The feedback metrics (the evaluator's key on every span; the users' key on some root runs)
/// and the trace list, whose rows now carry feedback summaries.
async fn time_feedback_queries(
    client: &Api<'_>,
    repeats: usize,
) -> Result<Vec<QueryTiming>, QueriesError> {
    // A metric over no feedback would be fast and meaningless: check there is some.
    let path = eval_metric_path();
    if !client.has_feedback().await? {
        return Err(QueriesError::Unexpected {
            url: path,
            why: "no trace has the feedback just stored".into(),
        });
    }
    let timed = [
        (
            "feedback metric by tag (feedback:quality by ab_test_variant)".to_string(),
            path,
            Some(100.0),
        ),
        (
            "feedback metric by tag (feedback:user_satisfaction by ab_test_variant)".to_string(),
            "/api/v1/metrics?metric=feedback:user_satisfaction&group_by=ab_test_variant".into(),
            Some(100.0),
        ),
        (
            "trace list with feedback, no filter".to_string(),
            "/api/v1/traces?limit=50".into(),
            Some(100.0),
        ),
        (
            "trace list with feedback, 1 tag filter".to_string(),
            "/api/v1/traces?tag=env%3Dproduction&limit=50".into(),
            Some(100.0),
        ),
    ];
    let mut out = Vec::new();
    for (name, path, target) in timed {
        out.push(
            client
                .time(&name, target, repeats, |_| path.clone())
                .await?,
        );
    }
    Ok(out)
}

struct Api<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
    project: &'a str,
}

impl Api<'_> {
    /// GETs `path`; the body and how long it took to have all of it.
    async fn get(&self, path: &str) -> Result<(Vec<u8>, Duration), QueriesError> {
        let url = format!("{}{path}", self.base);
        let started = Instant::now();
        let response = self
            .http
            .get(&url)
            .header(skein_model::PROJECT_HEADER, self.project)
            .send()
            .await
            .map_err(|source| QueriesError::Http {
                url: url.clone(),
                source,
            })?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|source| QueriesError::Http {
                url: url.clone(),
                source,
            })?;
        let elapsed = started.elapsed();
        if status != 200 {
            let body = String::from_utf8_lossy(&body).into_owned();
            return Err(QueriesError::Refused { url, status, body });
        }
        Ok((body.to_vec(), elapsed))
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<(T, Duration), QueriesError> {
        let (body, elapsed) = self.get(path).await?;
        let value = serde_json::from_slice(&body).map_err(|e| QueriesError::Unexpected {
            url: format!("{}{path}", self.base),
            why: e.to_string(),
        })?;
        Ok((value, elapsed))
    }

    /// Spans waiting for the full-text index (`GET /api/v1/health`; 0 from a collector that
    /// does not say).
    /// Whether some trace has the evaluator's feedback.
    async fn has_feedback(&self) -> Result<bool, QueriesError> {
        let (metric, _): (skein_model::metrics::MetricResponse, _) =
            self.json(&eval_metric_path()).await?;
        Ok(metric.groups.iter().map(|g| g.n).sum::<u64>() > 0)
    }

    async fn search_index_waiting(&self) -> Result<u64, QueriesError> {
        let (health, _): (serde_json::Value, _) = self.json("/api/v1/health").await?;
        Ok(health["search_index"]["waiting"].as_u64().unwrap_or(0))
    }

    /// Spans and traces of the project.
    async fn stored(&self) -> Result<(u64, u64), QueriesError> {
        let (projects, _): (Vec<skein_model::ProjectInfo>, _) =
            self.json("/api/v1/projects").await?;
        Ok(projects
            .iter()
            .find(|p| p.name == self.project)
            .map_or((0, 0), |p| (p.span_count, p.trace_count)))
    }

    /// Calls `path(i)` twice untimed, then `repeats` times timed, one after the other.
    async fn time(
        &self,
        name: &str,
        target_p50_ms: Option<f64>,
        repeats: usize,
        path: impl Fn(usize) -> String,
    ) -> Result<QueryTiming, QueriesError> {
        for i in 0..2 {
            self.get(&path(i)).await?;
        }
        let mut samples = Vec::with_capacity(repeats);
        let mut response_bytes = 0;
        for i in 0..repeats.max(1) {
            let (body, elapsed) = self.get(&path(i)).await?;
            response_bytes = body.len();
            samples.push(elapsed.as_secs_f64() * 1e3);
        }
        let timing = QueryTiming {
            name: name.to_string(),
            example: path(0),
            calls: samples.len(),
            p50_ms: quantile(samples.clone(), 0.5),
            p95_ms: quantile(samples.clone(), 0.95),
            max_ms: samples.iter().copied().fold(f64::NAN, f64::max),
            target_p50_ms,
            response_bytes,
        };
        eprintln!(
            "  {name}: p50 {:.1} ms, p95 {:.1} ms ({} calls, {} bytes)",
            timing.p50_ms, timing.p95_ms, timing.calls, timing.response_bytes
        );
        Ok(timing)
    }
}

/// Sends one trace of `config.big_trace_spans` spans and waits until it is all stored;
/// returns its id.
async fn load_big_trace(
    http: &reqwest::Client,
    config: &QueriesConfig,
) -> Result<String, QueriesError> {
    let (trace_id, requests) = big_trace(config.big_trace_spans, 10_000);
    for body in requests {
        let response = http
            .post(&config.otlp_url)
            .header("content-type", "application/x-protobuf")
            .header(skein_model::PROJECT_HEADER, &config.project)
            .body(body)
            .send()
            .await
            .map_err(|source| QueriesError::Http {
                url: config.otlp_url.clone(),
                source,
            })?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(QueriesError::Refused {
                url: config.otlp_url.clone(),
                status,
                body: response.text().await.unwrap_or_default(),
            });
        }
    }
    // Acknowledged means committed, so the trace is complete already; check it.
    let api = Api {
        http,
        base: &config.api_url,
        project: &config.project,
    };
    let (skeleton, _): (skein_model::TraceSkeleton, _) =
        api.json(&format!("/api/v1/traces/{trace_id}")).await?;
    if skeleton.spans.len() != config.big_trace_spans {
        return Err(QueriesError::Unexpected {
            url: config.api_url.clone(),
            why: format!(
                "the large trace has {} spans stored, not {}",
                skeleton.spans.len(),
                config.big_trace_spans
            ),
        });
    }
    Ok(trace_id)
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
    }
}

/// One trace of `spans` spans as OTLP requests of at most `per_request` spans: a tree of
/// fan-out 10 (an orchestrating agent, its agents, their steps, LLM and tool calls, ...),
/// each span inside its parent's time, with the seed's tags. Returns the trace id (hex).
pub fn big_trace(spans: usize, per_request: usize) -> (String, Vec<Vec<u8>>) {
    const FANOUT: usize = 10;
    const NAMES: [(&str, &str); 6] = [
        ("research_run", "AGENT"),
        ("sub_agent", "AGENT"),
        ("plan_step", "CHAIN"),
        ("chat gpt-4o-mini", "LLM"),
        ("search_documents", "TOOL"),
        ("fetch_page", "RETRIEVER"),
    ];
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let mut trace_id = [0u8; 16];
    trace_id[..8].copy_from_slice(&seed.to_be_bytes());
    trace_id[8..].copy_from_slice(&0x05ee_db16_u64.to_be_bytes());
    let span_id = |i: usize| ((i as u64 + 1) | (seed << 32)).to_be_bytes().to_vec();
    // An hour ago, lasting ten minutes; children split their parent's time in FANOUT.
    let now = seed as i64;
    let mut window = vec![(now - 3_600_000_000_000, now - 3_000_000_000_000); spans];
    let mut depth = vec![0usize; spans];
    let mut out = Vec::new();
    let mut batch = Vec::new();
    for i in 0..spans {
        let parent = (i > 0).then(|| (i - 1) / FANOUT);
        if let Some(p) = parent {
            let (start, end) = window[p];
            let slot = (end - start) / FANOUT as i64;
            let k = ((i - 1) % FANOUT) as i64;
            window[i] = (start + k * slot, start + (k + 1) * slot - slot / 10);
            depth[i] = depth[p] + 1;
        }
        let (name, kind) = NAMES[depth[i].min(NAMES.len() - 1)];
        batch.push(Span {
            trace_id: trace_id.to_vec(),
            span_id: span_id(i),
            parent_span_id: parent.map(span_id).unwrap_or_default(),
            name: name.into(),
            kind: 1,
            start_time_unix_nano: window[i].0 as u64,
            end_time_unix_nano: window[i].1.max(window[i].0) as u64,
            attributes: vec![
                kv("openinference.span.kind", kind),
                kv("env", "production"),
                kv("version", "v2.1.0"),
                kv("ab_test_variant", "B"),
                kv(
                    "input.value",
                    "Summarise what the documents say about the question.",
                ),
            ],
            status: Some(Status::default()),
            ..Span::default()
        });
        if batch.len() == per_request || i + 1 == spans {
            let request = ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![kv("service.name", "deep-research")],
                        ..Resource::default()
                    }),
                    scope_spans: vec![ScopeSpans {
                        spans: std::mem::take(&mut batch),
                        ..ScopeSpans::default()
                    }],
                    ..ResourceSpans::default()
                }],
            };
            out.push(request.encode_to_vec());
        }
    }
    let hex: String = trace_id.iter().map(|b| format!("{b:02x}")).collect();
    (hex, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_big_trace_is_one_tree_in_pieces() {
        let (id, requests) = big_trace(2_345, 1_000);
        assert_eq!(id.len(), 32);
        assert_eq!(requests.len(), 3);
        let spans: Vec<Span> = requests
            .iter()
            .flat_map(|r| {
                ExportTraceServiceRequest::decode(r.as_slice())
                    .unwrap()
                    .resource_spans[0]
                    .scope_spans[0]
                    .spans
                    .clone()
            })
            .collect();
        assert_eq!(spans.len(), 2_345);
        let roots = spans.iter().filter(|s| s.parent_span_id.is_empty()).count();
        assert_eq!(roots, 1);
        let ids: std::collections::HashSet<_> = spans.iter().map(|s| s.span_id.clone()).collect();
        assert_eq!(ids.len(), spans.len());
        for s in &spans[1..] {
            assert!(ids.contains(&s.parent_span_id));
            assert!(s.start_time_unix_nano <= s.end_time_unix_nano);
        }
    }
}
