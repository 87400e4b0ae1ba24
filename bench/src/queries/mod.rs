//! The query benchmark: loads a collector with seed-shaped traces (the ingest benchmark's
//! generator) plus one very large trace, then times the dashboard's queries over HTTP, each
//! called repeatedly: the trace list with one and with three tag filters, a trace's skeleton,
//! one span, a metric grouped by a tag, and the large trace's skeleton. Then it stores
//! feedback through `POST /api/v1/feedback` (1M records by default: the demo's own on root
//! runs, and an evaluator's score on every span) and times the feedback metrics and the trace
//! list (whose rows carry a feedback summary) again. Latencies are the client's (request sent
//! to the last byte of the answer read), p50 and p95.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::collector::quantile;
use crate::ingest::{self, IngestConfig};
use crate::machine::Machine;

mod big_trace;
mod feedback;

pub use big_trace::big_trace;
use big_trace::load_big_trace;
use feedback::{eval_metric_path, store_feedback, time_feedback_queries, FeedbackSource};

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
