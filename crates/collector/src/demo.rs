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

/// Deterministic for a seed: the same demo data every time.
struct Rng(SplitMix);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Roughly normal (sum of uniforms), mean and standard deviation given.
    fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let s: f64 = (0..6).map(|_| self.unit()).sum::<f64>() - 3.0;
        mean + sd * s / (0.5f64).sqrt()
    }
    fn ms(&mut self, low: f64, high: f64) -> i64 {
        ((low + (high - low) * self.unit()) * 1e6) as i64
    }
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        out[0] |= 1; // never all zeros
        out
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

struct SpanBuilder<'a> {
    ctx: &'a Context,
    spans: Vec<(String, Span)>,
}

impl<'a> SpanBuilder<'a> {
    /// The finished trace. A synchronous parent ends after its children: a parent whose
    /// layout came out shorter than a child is stretched to cover it.
    fn finish(mut self) -> DemoTrace {
        // Children are always added after their parents, so one backward pass settles all.
        for i in (0..self.spans.len()).rev() {
            let (parent_id, end) = {
                let s = &self.spans[i].1;
                (s.parent_span_id.clone(), s.end_time_unix_nano)
            };
            if let Some((_, parent)) = self.spans[..i]
                .iter_mut()
                .find(|(_, p)| p.span_id == parent_id)
            {
                parent.end_time_unix_nano = parent.end_time_unix_nano.max(end);
            }
        }
        DemoTrace { spans: self.spans }
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        rng: &mut Rng,
        service: &str,
        name: &str,
        kind: SpanKind,
        parent: Option<[u8; 8]>,
        start: i64,
        end: i64,
        mut attributes: Vec<KeyValue>,
    ) -> [u8; 8] {
        let span_id = rng.bytes::<8>();
        for (k, v) in &self.ctx.tags {
            attributes.push(kv(k, v.as_str()));
        }
        attributes.push(kv("session.id", self.ctx.session_id.as_str()));
        attributes.push(kv("user.id", self.ctx.user_id.as_str()));
        attributes.push(kv_int("request_sequence", self.ctx.request_sequence));
        self.spans.push((
            service.to_string(),
            Span {
                trace_id: self.ctx.trace_id.to_vec(),
                span_id: span_id.to_vec(),
                parent_span_id: parent.map(|p| p.to_vec()).unwrap_or_default(),
                name: name.to_string(),
                kind: kind as i32,
                start_time_unix_nano: start as u64,
                end_time_unix_nano: end as u64,
                attributes,
                status: Some(Status::default()),
                ..Span::default()
            },
        ));
        span_id
    }

    fn fail(&mut self, span_id: [u8; 8], time: i64, message: &str, exception_type: &str) {
        if let Some((_, span)) = self
            .spans
            .iter_mut()
            .find(|(_, s)| s.span_id == span_id.to_vec())
        {
            span.status = Some(Status {
                code: status::StatusCode::Error as i32,
                message: message.to_string(),
            });
            span.events.push(Event {
                time_unix_nano: time as u64,
                name: "exception".into(),
                attributes: vec![
                    kv("exception.type", exception_type),
                    kv("exception.message", message),
                    kv(
                        "exception.stacktrace",
                        format!(
                            "Traceback (most recent call last):\n  File \"agents/sub_agent.py\", line 88, in run\n    result = await self.llm.invoke(messages)\n  File \"llm/client.py\", line 142, in invoke\n    raise {exception_type}(\"{message}\")\n{exception_type}: {message}"
                        )
                        .as_str(),
                    ),
                ],
                ..Event::default()
            });
        }
    }
}

/// An LLM call: returns its span id, its end time and its token counts.
#[allow(clippy::too_many_arguments)]
fn llm_call(
    b: &mut SpanBuilder<'_>,
    rng: &mut Rng,
    service: &str,
    parent: [u8; 8],
    start: i64,
    prompt: &str,
    slow: bool,
    fixed_latency: Option<i64>,
) -> ([u8; 8], i64) {
    let &(model, in_price, out_price) = rng.pick(MODELS);
    let input_tokens = 200 + rng.below(1800) as i64;
    let output_tokens = 50 + rng.below(700) as i64;
    let latency = rng.ms(300.0, 1800.0) + if slow { rng.ms(200.0, 900.0) } else { 0 };
    let latency = fixed_latency.unwrap_or(latency);
    let end = start + latency;
    let cost = input_tokens as f64 / 1000.0 * in_price + output_tokens as f64 / 1000.0 * out_price;
    let messages = format!(
        "[{{\"role\":\"system\",\"content\":\"You are a careful research assistant.\"}},{{\"role\":\"user\",\"content\":{}}}]",
        serde_json::Value::String(prompt.to_string())
    );
    let answer = format!(
        "[{{\"role\":\"assistant\",\"content\":{}}}]",
        serde_json::Value::String(format!(
            "Here is what I found about \"{}\": three key points, each with sources.",
            prompt.chars().take(60).collect::<String>()
        ))
    );
    let id = b.add(
        rng,
        service,
        &format!("chat {model}"),
        SpanKind::Client,
        Some(parent),
        start,
        end,
        vec![
            kv("gen_ai.operation.name", "chat"),
            kv(
                "gen_ai.provider.name",
                if model.starts_with("claude") {
                    "anthropic"
                } else {
                    "openai"
                },
            ),
            kv("gen_ai.request.model", model),
            kv_int("gen_ai.usage.input_tokens", input_tokens),
            kv_int("gen_ai.usage.output_tokens", output_tokens),
            kv_f64("llm.cost.total", (cost * 1e6).round() / 1e6),
            kv("gen_ai.input.messages", messages.as_str()),
            kv("gen_ai.output.messages", answer.as_str()),
        ],
    );
    (id, end)
}

/// main_agent → planning_agent, execution_agent → sub_agent_1..3, synthesis_agent.
fn agent_trace(rng: &mut Rng, ctx: &Context, start: i64) -> (DemoTrace, [u8; 8], bool) {
    let service = "agent-service";
    let mut b = SpanBuilder {
        ctx,
        spans: Vec::new(),
    };
    let question = *rng.pick(QUESTIONS);
    let slow = ctx.variant_b;
    let agent = |name: &str| {
        vec![
            kv("gen_ai.operation.name", "invoke_agent"),
            kv("gen_ai.agent.name", name),
            kv("openinference.span.kind", "AGENT"),
        ]
    };
    // Ids are drawn first, times filled in once the children are laid out.
    let mut main_attrs = agent("main_agent");
    main_attrs.push(kv("input.value", question));
    let main = b.add(
        rng,
        service,
        "main_agent",
        SpanKind::Server,
        None,
        start,
        start,
        main_attrs,
    );

    let plan_start = start + rng.ms(2.0, 10.0);
    let planning = b.add(
        rng,
        service,
        "planning_agent",
        SpanKind::Internal,
        Some(main),
        plan_start,
        plan_start,
        agent("planning_agent"),
    );
    let at = plan_start + rng.ms(1.0, 5.0);
    let (_, plan_llm_end) = llm_call(&mut b, rng, service, planning, at, question, slow, None);
    let plan_end = plan_llm_end + rng.ms(1.0, 8.0);
    set_end(
        &mut b,
        planning,
        plan_end,
        Some((
            "output.value",
            "1. search sources 2. analyse 3. cross-check",
        )),
    );

    let exec_start = plan_end + rng.ms(1.0, 5.0);
    let execution = b.add(
        rng,
        service,
        "execution_agent",
        SpanKind::Internal,
        Some(main),
        exec_start,
        exec_start,
        agent("execution_agent"),
    );
    let mut exec_end = exec_start;
    let fails = rng.chance(0.05);
    let failing_sub = rng.below(3);
    for i in 0..3 {
        // Sub-agents run in parallel, staggered a little.
        let sub_start = exec_start + rng.ms(1.0, 30.0);
        let name = format!("sub_agent_{}", i + 1);
        let sub = b.add(
            rng,
            service,
            &name,
            SpanKind::Internal,
            Some(execution),
            sub_start,
            sub_start,
            agent(&name),
        );
        let mut cursor = sub_start + rng.ms(1.0, 5.0);
        if i == 1 {
            let tool_end = cursor + rng.ms(80.0, 400.0);
            b.add(
                rng,
                service,
                "web_search",
                SpanKind::Internal,
                Some(sub),
                cursor,
                tool_end,
                vec![
                    kv("gen_ai.operation.name", "execute_tool"),
                    kv("gen_ai.tool.name", "web_search"),
                    kv(
                        "input.value",
                        format!("{{\"query\": {:?}}}", question).as_str(),
                    ),
                    kv(
                        "output.value",
                        "[{\"title\": \"Result 1\", \"url\": \"https://example.org/1\"}]",
                    ),
                ],
            );
            cursor = tool_end + rng.ms(1.0, 5.0);
        }
        let (llm, llm_end) = llm_call(&mut b, rng, service, sub, cursor, question, slow, None);
        let sub_end = llm_end + rng.ms(1.0, 10.0);
        if fails && i == failing_sub {
            b.fail(llm, llm_end, "Request timed out after 30s", "TimeoutError");
            b.fail(
                sub,
                sub_end,
                "sub-agent failed: Request timed out after 30s",
                "TimeoutError",
            );
        }
        set_end(
            &mut b,
            sub,
            sub_end,
            Some((
                "output.value",
                "Findings: three sources agree on the main point.",
            )),
        );
        exec_end = exec_end.max(sub_end);
    }
    exec_end += rng.ms(1.0, 5.0);
    if fails {
        b.fail(
            execution,
            exec_end,
            "1 of 3 sub-agents failed",
            "AgentError",
        );
    }
    set_end(&mut b, execution, exec_end, None);

    let synth_start = exec_end + rng.ms(1.0, 5.0);
    let synthesis = b.add(
        rng,
        service,
        "synthesis_agent",
        SpanKind::Internal,
        Some(main),
        synth_start,
        synth_start,
        agent("synthesis_agent"),
    );
    let at = synth_start + rng.ms(1.0, 4.0);
    let (_, synth_llm_end) = llm_call(&mut b, rng, service, synthesis, at, question, slow, None);
    let synth_end = synth_llm_end + rng.ms(1.0, 6.0);
    set_end(
        &mut b,
        synthesis,
        synth_end,
        Some(("output.value", "A concise answer with three cited sources.")),
    );
    let main_end = synth_end + rng.ms(1.0, 8.0);
    set_end(
        &mut b,
        main,
        main_end,
        Some(("output.value", "A concise answer with three cited sources.")),
    );
    if fails {
        b.fail(
            main,
            main_end,
            "execution failed: 1 of 3 sub-agents failed",
            "AgentError",
        );
    }
    (b.finish(), main, fails)
}

fn set_end(b: &mut SpanBuilder<'_>, span_id: [u8; 8], end: i64, output: Option<(&str, &str)>) {
    if let Some((_, span)) = b
        .spans
        .iter_mut()
        .find(|(_, s)| s.span_id == span_id.to_vec())
    {
        span.end_time_unix_nano = end as u64;
        if let Some((k, v)) = output {
            span.attributes.push(kv(k, v));
        }
    }
}

/// api-gateway → auth-service, agent-service → model-service, tool-service → search-service and
/// cache-service, then analytics-service; client and server span for every hop.
fn microservice_trace(rng: &mut Rng, ctx: &Context, start: i64) -> (DemoTrace, [u8; 8], bool) {
    let mut b = SpanBuilder {
        ctx,
        spans: Vec::new(),
    };
    let http = |method: &str, route: &str, status: i64| {
        vec![
            kv("http.request.method", method),
            kv("http.route", route),
            kv_int("http.response.status_code", status),
        ]
    };
    let gateway = b.add(
        rng,
        "api-gateway",
        "POST /v1/chat",
        SpanKind::Server,
        None,
        start,
        start,
        http("POST", "/v1/chat", 200),
    );

    // A hop: client span in `from`, server span in `to`, a little network time each way.
    let hop = |b: &mut SpanBuilder<'_>,
               rng: &mut Rng,
               from: &str,
               to: &str,
               parent: [u8; 8],
               at: i64,
               route: &str,
               work_ms: (f64, f64)| {
        let client = b.add(
            rng,
            from,
            &format!("POST {to}{route}"),
            SpanKind::Client,
            Some(parent),
            at,
            at,
            http("POST", route, 200),
        );
        let server_start = at + rng.ms(0.3, 2.0);
        let server_end = server_start + rng.ms(work_ms.0, work_ms.1);
        let server = b.add(
            rng,
            to,
            &format!("POST {route}"),
            SpanKind::Server,
            Some(client),
            server_start,
            server_end,
            http("POST", route, 200),
        );
        let client_end = server_end + rng.ms(0.3, 2.0);
        set_end(b, client, client_end, None);
        (server, client_end)
    };

    let mut t = start + rng.ms(0.5, 2.0);
    let (_, auth_end) = hop(
        &mut b,
        rng,
        "api-gateway",
        "auth-service",
        gateway,
        t,
        "/verify",
        (3.0, 15.0),
    );
    t = auth_end + rng.ms(0.2, 1.0);
    let (agent_server, _) = hop(
        &mut b,
        rng,
        "api-gateway",
        "agent-service",
        gateway,
        t,
        "/agent/run",
        (0.0, 0.0),
    );
    let mut a = t + rng.ms(1.5, 4.0);
    let (model_server, model_end) = hop(
        &mut b,
        rng,
        "agent-service",
        "model-service",
        agent_server,
        a,
        "/v1/completions",
        (400.0, 1500.0),
    );
    let question = *rng.pick(QUESTIONS);
    // The model call fills the model-service's server span, less a little request handling.
    let (server_start, server_end) = b
        .spans
        .iter()
        .find(|(_, s)| s.span_id == model_server.to_vec())
        .map_or((a, a), |(_, s)| {
            (s.start_time_unix_nano as i64, s.end_time_unix_nano as i64)
        });
    let at = server_start + rng.ms(0.5, 2.0);
    let latency = (server_end - at - rng.ms(0.5, 2.0)).max(1);
    llm_call(
        &mut b,
        rng,
        "model-service",
        model_server,
        at,
        question,
        ctx.variant_b,
        Some(latency),
    );
    a = model_end + rng.ms(0.5, 2.0);
    let (tool_server, tool_end) = hop(
        &mut b,
        rng,
        "agent-service",
        "tool-service",
        agent_server,
        a,
        "/tools/search",
        (60.0, 300.0),
    );
    let tool_start = b
        .spans
        .iter()
        .find(|(_, s)| s.span_id == tool_server.to_vec())
        .map_or(a, |(_, s)| s.start_time_unix_nano as i64);
    let cache_miss = rng.chance(0.4);
    let at = tool_start + rng.ms(0.5, 2.0);
    let (_, cache_end) = hop(
        &mut b,
        rng,
        "tool-service",
        "cache-service",
        tool_server,
        at,
        "/cache/get",
        (0.5, 4.0),
    );
    if cache_miss {
        let at = cache_end + rng.ms(0.2, 1.0);
        hop(
            &mut b,
            rng,
            "tool-service",
            "search-service",
            tool_server,
            at,
            "/search",
            (40.0, 200.0),
        );
    }
    let failed = rng.chance(0.04);
    if failed {
        b.fail(
            tool_server,
            tool_end,
            "search backend returned 502",
            "UpstreamError",
        );
    }
    let agent_end = tool_end + rng.ms(1.0, 5.0);
    set_end(&mut b, agent_server, agent_end, None);
    // The gateway's client span to agent-service ends once agent-service answers.
    if let Some((_, s)) = b
        .spans
        .iter_mut()
        .find(|(svc, s)| svc == "api-gateway" && s.name == "POST agent-service/agent/run")
    {
        s.end_time_unix_nano = (agent_end + rng.ms(0.3, 1.5)) as u64;
    }
    let after_agent = agent_end + rng.ms(0.5, 2.0);
    let (_, analytics_end) = hop(
        &mut b,
        rng,
        "api-gateway",
        "analytics-service",
        gateway,
        after_agent,
        "/events",
        (1.0, 6.0),
    );
    let gateway_end = analytics_end + rng.ms(0.2, 1.0);
    set_end(&mut b, gateway, gateway_end, None);
    if failed {
        b.fail(
            gateway,
            gateway_end,
            "upstream tool-service failed",
            "UpstreamError",
        );
    }
    (b.finish(), gateway, failed)
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_string())),
        }),
    }
}

fn kv_int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
    }
}

fn kv_f64(key: &str, value: f64) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::DoubleValue(value)),
        }),
    }
}

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
