//! The query benchmark's one very large trace: built as OTLP requests, sent, waited for.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;

use super::{Api, QueriesConfig, QueriesError};

/// Sends one trace of `config.big_trace_spans` spans and waits until it is all stored;
/// returns its id.
pub(super) async fn load_big_trace(
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
