//! The demo data set, sent through the real paths: OTLP/HTTP protobuf to `/v1/traces` and
//! feedback to `/api/v1/feedback`.
//!
//! Shaped like the seed tutorial: a multi-agent run (main_agent → planning_agent,
//! execution_agent → sub_agent_1..3, synthesis_agent, with LLM and tool calls), a request
//! across microservices (api-gateway → auth-service, agent-service → model-service,
//! tool-service → search-service and cache-service, analytics-service), users with sessions
//! (`session.id`, `user.id`, `request_sequence`), metadata tags, tokens, some errors, and
//! feedback (`user_satisfaction`, `business_value`). Variant B of the A/B test is slower and
//! better liked. Deterministic for a given anchor time: same seed, same data.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, SpanKind};
use opentelemetry_proto::tonic::trace::v1::{status, ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use skein_model::random::SplitMix;
use skein_model::NewFeedback;

pub const DEFAULT_TRACES: usize = 2_000;

/// Traces per OTLP request.
const TRACES_PER_REQUEST: usize = 100;
/// Feedback requests in flight at once.
const FEEDBACK_CONCURRENCY: usize = 16;
const DAY_NS: i64 = 86_400_000_000_000;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The collector's HTTP base URL (`http://127.0.0.1:8080`).
    pub endpoint: String,
    pub traces: usize,
    pub project: Option<String>,
    /// Sent as `x-api-key` when the collector has keys.
    pub api_key: Option<String>,
    /// The newest trace starts shortly before this time (Unix ms).
    pub anchor_ms: i64,
    pub seed: u64,
}

impl DemoOptions {
    pub fn new(endpoint: &str) -> DemoOptions {
        DemoOptions {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            traces: DEFAULT_TRACES,
            project: None,
            api_key: None,
            anchor_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
            seed: 7,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub traces: usize,
    pub spans: usize,
    pub feedback: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot reach {url}: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("{url} answered {status}: {body}")]
    Refused {
        url: String,
        status: u16,
        body: String,
    },
}

/// Generates the data set and sends it; returns once the collector acknowledged everything.
pub async fn send(options: &DemoOptions) -> Result<DemoSummary, DemoError> {
    let data = generate(options);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|source| DemoError::Http {
            url: options.endpoint.clone(),
            source,
        })?;
    let otlp_url = format!("{}/v1/traces", options.endpoint);
    let mut spans = 0;
    for chunk in data.traces.chunks(TRACES_PER_REQUEST) {
        let request = to_request(chunk);
        spans += chunk.iter().map(|t| t.spans.len()).sum::<usize>();
        post(
            &client,
            &otlp_url,
            options,
            "application/x-protobuf",
            request.encode_to_vec(),
        )
        .await?;
    }

    let feedback_url = format!("{}/api/v1/feedback", options.endpoint);
    for chunk in data.feedback.chunks(FEEDBACK_CONCURRENCY) {
        let mut tasks = tokio::task::JoinSet::new();
        for f in chunk {
            let body = serde_json::to_vec(f).unwrap_or_default();
            let (client, url, options) = (client.clone(), feedback_url.clone(), options.clone());
            tasks.spawn(
                async move { post(&client, &url, &options, "application/json", body).await },
            );
        }
        while let Some(result) = tasks.join_next().await {
            if let Ok(r) = result {
                r?;
            }
        }
    }
    Ok(DemoSummary {
        traces: data.traces.len(),
        spans,
        feedback: data.feedback.len(),
    })
}

/// POSTs, retrying while the collector says it is overloaded (503 + Retry-After).
async fn post(
    client: &reqwest::Client,
    url: &str,
    options: &DemoOptions,
    content_type: &str,
    body: Vec<u8>,
) -> Result<(), DemoError> {
    for attempt in 0..20 {
        let mut request = client
            .post(url)
            .header("content-type", content_type)
            .body(body.clone());
        if let Some(project) = &options.project {
            request = request.header(skein_model::PROJECT_HEADER, project);
        }
        if let Some(key) = &options.api_key {
            request = request.header("x-api-key", key);
        }
        let response = request.send().await.map_err(|source| DemoError::Http {
            url: url.to_string(),
            source,
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        if (status.as_u16() == 503 || status.as_u16() == 429) && attempt < 19 {
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(1u64);
            tokio::time::sleep(Duration::from_secs(wait)).await;
            continue;
        }
        return Err(DemoError::Refused {
            url: url.to_string(),
            status: status.as_u16(),
            body: response.text().await.unwrap_or_default(),
        });
    }
    Ok(())
}

/// A generated trace: its spans grouped by service.
pub struct DemoTrace {
    pub spans: Vec<(String, Span)>,
}

pub struct DemoData {
    pub traces: Vec<DemoTrace>,
    pub feedback: Vec<NewFeedback>,
}

/// One OTLP request holding these traces, one `ResourceSpans` per service.
pub fn to_request(traces: &[DemoTrace]) -> ExportTraceServiceRequest {
    let mut by_service: Vec<(String, Vec<Span>)> = Vec::new();
    for (service, span) in traces.iter().flat_map(|t| t.spans.iter()) {
        match by_service.iter_mut().find(|(s, _)| s == service) {
            Some((_, spans)) => spans.push(span.clone()),
            None => by_service.push((service.clone(), vec![span.clone()])),
        }
    }
    ExportTraceServiceRequest {
        resource_spans: by_service
            .into_iter()
            .map(|(service, spans)| ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![
                        kv("service.name", service.as_str()),
                        kv("telemetry.sdk.name", "skein-demo"),
                    ],
                    ..Resource::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            })
            .collect(),
    }
}

const QUESTIONS: &[&str] = &[
    "Compare the latest research on solid-state batteries and summarise the trade-offs.",
    "What are the main causes of the 2008 financial crisis?",
    "Draft a migration plan from REST to gRPC for our payments service.",
    "Summarise this week's customer support tickets about login failures.",
    "Which vector database should we use for 50M embeddings, and why?",
    "Explain the difference between RLHF and DPO for a product manager.",
    "Find three papers on retrieval-augmented generation evaluation.",
    "Review this pull request for security issues: <script>alert('x')</script> in templates.",
    "Plan a three-day trip to Kyoto with a focus on architecture.",
    "What is our churn rate by plan tier over the last quarter?",
];
const FEATURES: &[&str] = &["research_assistant", "code_review", "summarization"];
const MODELS: &[(&str, f64, f64)] = &[
    // (model, $ per 1k input tokens, $ per 1k output tokens)
    ("gpt-4o-mini", 0.000_15, 0.000_6),
    ("claude-sonnet-4", 0.003, 0.015),
    ("gpt-4o", 0.002_5, 0.01),
];

struct Context {
    trace_id: [u8; 16],
    tags: Vec<(&'static str, String)>,
    session_id: String,
    user_id: String,
    request_sequence: i64,
    variant_b: bool,
}

/// Builds the whole data set in memory (a few MB).
pub fn generate(options: &DemoOptions) -> DemoData {
    let mut rng = Rng(SplitMix::new(options.seed));
    let anchor_ns = options.anchor_ms * 1_000_000;
    let users: Vec<(String, &str)> = (1..=120)
        .map(|i| {
            let tier = match i % 10 {
                0 => "enterprise",
                1..=3 => "premium",
                _ => "free",
            };
            (format!("user_{i:03}"), tier)
        })
        .collect();
    let mut traces = Vec::with_capacity(options.traces);
    let mut feedback = Vec::new();
    let mut session_no = 0;
    while traces.len() < options.traces {
        session_no += 1;
        let (user_id, tier) = rng.pick(&users).clone();
        let session_id = format!("session_{session_no:05}");
        let variant_b = rng.chance(0.5);
        let env = if rng.chance(0.75) {
            "production"
        } else {
            "staging"
        };
        let version = if rng.chance(0.6) { "v2.1.0" } else { "v2.0.3" };
        let feature = *rng.pick(FEATURES);
        let requests = 1 + rng.below(5);
        // Sessions spread over the last 7 days. A session lasts under an hour (at most 5
        // requests 10 minutes apart), so starting it an hour early keeps it in the past.
        let mut t = anchor_ns - (rng.unit() * 7.0 * DAY_NS as f64) as i64 - 3_600_000_000_000;
        for seq in 1..=requests {
            if traces.len() >= options.traces {
                break;
            }
            let ctx = Context {
                trace_id: rng.bytes::<16>(),
                tags: vec![
                    ("env", env.to_string()),
                    ("version", version.to_string()),
                    ("feature", feature.to_string()),
                    ("user_tier", tier.to_string()),
                    ("experiment", "improved_prompts_v3".to_string()),
                    (
                        "ab_test_variant",
                        if variant_b { "B" } else { "A" }.to_string(),
                    ),
                ],
                session_id: session_id.clone(),
                user_id: user_id.clone(),
                request_sequence: seq as i64,
                variant_b,
            };
            let (trace, root_span_id, failed) = if rng.chance(0.2) {
                microservice_trace(&mut rng, &ctx, t)
            } else {
                agent_trace(&mut rng, &ctx, t)
            };
            let trace_hex = skein_model::span::to_hex(&ctx.trace_id);
            let run_id = skein_model::span::to_hex(&root_span_id);
            if rng.chance(0.6) {
                let mean = if variant_b { 0.82 } else { 0.7 };
                let score = if failed {
                    rng.normal(0.25, 0.15)
                } else {
                    rng.normal(mean, 0.12)
                };
                let score = (score.clamp(0.0, 1.0) * 100.0).round() / 100.0;
                feedback.push(NewFeedback {
                    run_id: run_id.clone(),
                    trace_id: Some(trace_hex.clone()),
                    key: "user_satisfaction".into(),
                    score: Some(score),
                    comment: (score < 0.3)
                        .then(|| "The answer missed the point of my question.".to_string()),
                    source: Some("api".into()),
                    ..NewFeedback::default()
                });
            }
            if !failed && rng.chance(0.25) {
                let value = (rng.normal(if variant_b { 160.0 } else { 120.0 }, 40.0)).max(0.0);
                feedback.push(NewFeedback {
                    run_id,
                    trace_id: Some(trace_hex),
                    key: "business_value".into(),
                    score: Some(value.round()),
                    comment: Some("Estimated analyst minutes saved".into()),
                    source: Some("api".into()),
                    ..NewFeedback::default()
                });
            }
            traces.push(trace);
            t += rng.ms(20_000.0, 600_000.0);
        }
    }
    DemoData { traces, feedback }
}

mod agent;
mod microservice;
mod spans;

use agent::agent_trace;
use microservice::microservice_trace;
use spans::{kv, Rng};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_data_is_deterministic_and_shaped_like_the_seed() {
        let mut options = DemoOptions::new("http://unused");
        options.traces = 200;
        options.anchor_ms = 1_800_000_000_000;
        let a = generate(&options);
        let b = generate(&options);
        assert_eq!(a.traces.len(), 200);
        let ids = |d: &DemoData| -> Vec<Vec<u8>> {
            d.traces
                .iter()
                .flat_map(|t| t.spans.iter().map(|(_, s)| s.span_id.clone()))
                .collect()
        };
        assert_eq!(ids(&a), ids(&b));
        let agent = a
            .traces
            .iter()
            .find(|t| t.spans[0].1.name == "main_agent")
            .expect("an agent trace");
        for name in [
            "planning_agent",
            "execution_agent",
            "sub_agent_1",
            "sub_agent_2",
            "sub_agent_3",
            "synthesis_agent",
        ] {
            assert!(
                agent.spans.iter().any(|(_, s)| s.name == name),
                "{name} missing"
            );
        }
        for trace in &a.traces {
            for (_, s) in &trace.spans {
                assert!(
                    s.end_time_unix_nano >= s.start_time_unix_nano,
                    "{} ends before it starts",
                    s.name
                );
                if let Some((_, parent)) = trace
                    .spans
                    .iter()
                    .find(|(_, p)| p.span_id == s.parent_span_id)
                {
                    assert!(
                        parent.start_time_unix_nano <= s.start_time_unix_nano
                            && s.end_time_unix_nano <= parent.end_time_unix_nano,
                        "{} is not inside its parent {}",
                        s.name,
                        parent.name
                    );
                }
            }
        }
        let services: std::collections::BTreeSet<&str> = a
            .traces
            .iter()
            .flat_map(|t| t.spans.iter().map(|(svc, _)| svc.as_str()))
            .collect();
        for svc in [
            "api-gateway",
            "auth-service",
            "agent-service",
            "model-service",
            "tool-service",
            "search-service",
            "cache-service",
            "analytics-service",
        ] {
            assert!(services.contains(svc), "{svc} missing from {services:?}");
        }
        assert!(!a.feedback.is_empty());
        let anchor_ns = options.anchor_ms * 1_000_000;
        for trace in &a.traces {
            for (_, s) in &trace.spans {
                assert!(
                    (s.end_time_unix_nano as i64) < anchor_ns,
                    "{} ends in the future",
                    s.name
                );
            }
        }
    }
}
