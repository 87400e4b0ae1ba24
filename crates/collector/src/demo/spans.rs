//! What every demo trace is built with: the seeded random numbers, the span builder and
//! attribute helpers.

use super::*;

/// Deterministic for a seed: the same demo data every time.
pub(super) struct Rng(pub(super) SplitMix);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// Uniform in [0, 1).
    pub(super) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Roughly normal (sum of uniforms), mean and standard deviation given.
    pub(super) fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let s: f64 = (0..6).map(|_| self.unit()).sum::<f64>() - 3.0;
        mean + sd * s / (0.5f64).sqrt()
    }
    pub(super) fn ms(&mut self, low: f64, high: f64) -> i64 {
        ((low + (high - low) * self.unit()) * 1e6) as i64
    }
    pub(super) fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        out[0] |= 1; // never all zeros
        out
    }
}

pub(super) struct SpanBuilder<'a> {
    pub(super) ctx: &'a Context,
    pub(super) spans: Vec<(String, Span)>,
}

impl<'a> SpanBuilder<'a> {
    /// The finished trace. A synchronous parent ends after its children: a parent whose
    /// layout came out shorter than a child is stretched to cover it.
    pub(super) fn finish(mut self) -> DemoTrace {
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
    pub(super) fn add(
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

    pub(super) fn fail(
        &mut self,
        span_id: [u8; 8],
        time: i64,
        message: &str,
        exception_type: &str,
    ) {
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

pub(super) fn set_end(
    b: &mut SpanBuilder<'_>,
    span_id: [u8; 8],
    end: i64,
    output: Option<(&str, &str)>,
) {
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

pub(super) fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_string())),
        }),
    }
}

pub(super) fn kv_int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
    }
}

pub(super) fn kv_f64(key: &str, value: f64) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::DoubleValue(value)),
        }),
    }
}

/// An LLM call: returns its span id, its end time and its token counts.
#[allow(clippy::too_many_arguments)]
pub(super) fn llm_call(
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
