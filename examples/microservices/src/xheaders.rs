//! The seed tutorial's propagation headers as an OpenTelemetry `TextMapPropagator`, so that a
//! service speaking them joins the same trace as services speaking W3C `traceparent`.
//!
//! | header | carries |
//! | --- | --- |
//! | `X-Trace-ID` | the trace id: 32 hex digits (16 hex digits or a dashed UUID are accepted and widened) |
//! | `X-Span-ID` | the calling span (the caller's client span): the callee's server span becomes its child |
//! | `X-Parent-Span-ID` | the calling span's own parent, when the caller knows it (informational) |
//!
//! Extracting: the parent is `X-Span-ID`; a request that carries only `X-Parent-Span-ID` (a
//! caller that names the parent it wants there) gets that one instead. Headers that cannot be
//! read leave the context as it was, so the service starts a new trace rather than failing.
//! The headers carry no sampling decision: an extracted context is sampled.
//!
//! Injecting: the context's span goes into `X-Trace-ID` and `X-Span-ID`; `X-Parent-Span-ID` is
//! sent when the context carries a [`CallerParent`] (a `SpanContext` does not know its parent).

use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

pub const TRACE_ID_HEADER: &str = "x-trace-id";
pub const SPAN_ID_HEADER: &str = "x-span-id";
pub const PARENT_SPAN_ID_HEADER: &str = "x-parent-span-id";

/// The parent of the span being propagated, for `X-Parent-Span-ID`
/// (`cx.with_value(CallerParent(id))`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerParent(pub SpanId);

#[derive(Debug)]
pub struct XHeaderPropagator {
    fields: Vec<String>,
}

impl Default for XHeaderPropagator {
    fn default() -> Self {
        XHeaderPropagator::new()
    }
}

impl XHeaderPropagator {
    pub fn new() -> XHeaderPropagator {
        XHeaderPropagator {
            fields: vec![
                TRACE_ID_HEADER.to_string(),
                SPAN_ID_HEADER.to_string(),
                PARENT_SPAN_ID_HEADER.to_string(),
            ],
        }
    }
}

/// Hex digits only, lowercased; `None` for anything else.
fn hex(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty() && t.bytes().all(|b| b.is_ascii_hexdigit())).then(|| t.to_ascii_lowercase())
}

/// A trace id from 32 hex digits, 16 hex digits (left-padded with zeros, as Zipkin's 64-bit
/// ids are) or a dashed UUID; the all-zero id is invalid.
pub fn parse_trace_id(text: &str) -> Option<TraceId> {
    let trimmed = text.trim();
    let plain = if trimmed.len() == 36 && trimmed.matches('-').count() == 4 {
        trimmed.replace('-', "")
    } else {
        trimmed.to_string()
    };
    let digits = hex(&plain)?;
    let digits = match digits.len() {
        32 => digits,
        16 => format!("{:0>32}", digits),
        _ => return None,
    };
    TraceId::from_hex(&digits)
        .ok()
        .filter(|id| *id != TraceId::INVALID)
}

/// A span id from 16 hex digits; the all-zero id is invalid.
pub fn parse_span_id(text: &str) -> Option<SpanId> {
    let digits = hex(text)?;
    if digits.len() != 16 {
        return None;
    }
    SpanId::from_hex(&digits)
        .ok()
        .filter(|id| *id != SpanId::INVALID)
}

impl TextMapPropagator for XHeaderPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        injector.set(TRACE_ID_HEADER, sc.trace_id().to_string());
        injector.set(SPAN_ID_HEADER, sc.span_id().to_string());
        if let Some(CallerParent(parent)) = cx.get::<CallerParent>() {
            if *parent != SpanId::INVALID {
                injector.set(PARENT_SPAN_ID_HEADER, parent.to_string());
            }
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some(trace_id) = extractor.get(TRACE_ID_HEADER).and_then(parse_trace_id) else {
            return cx.clone();
        };
        let parent = extractor
            .get(SPAN_ID_HEADER)
            .and_then(parse_span_id)
            .or_else(|| extractor.get(PARENT_SPAN_ID_HEADER).and_then(parse_span_id));
        let Some(span_id) = parent else {
            return cx.clone();
        };
        cx.with_remote_span_context(SpanContext::new(
            trace_id,
            span_id,
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        ))
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn extracted(pairs: &[(&str, &str)]) -> SpanContext {
        XHeaderPropagator::new()
            .extract_with_context(&Context::new(), &headers(pairs))
            .span()
            .span_context()
            .clone()
    }

    #[test]
    fn the_calling_span_becomes_the_parent() {
        let sc = extracted(&[
            ("x-trace-id", "4BF92F3577B34DA6A3CE929D0E0E4736"),
            ("x-span-id", "00f067aa0ba902b7"),
            ("x-parent-span-id", "1111111111111111"),
        ]);
        assert!(sc.is_valid() && sc.is_remote() && sc.is_sampled());
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
    }

    #[test]
    fn only_a_parent_header_names_the_parent() {
        let sc = extracted(&[
            ("x-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736"),
            ("x-parent-span-id", "1111111111111111"),
        ]);
        assert_eq!(sc.span_id().to_string(), "1111111111111111");
    }

    #[test]
    fn other_id_forms_are_widened_and_bad_ones_ignored() {
        let sc = extracted(&[
            ("x-trace-id", "a3ce929d0e0e4736"),
            ("x-span-id", "00f067aa0ba902b7"),
        ]);
        assert_eq!(
            sc.trace_id().to_string(),
            "0000000000000000a3ce929d0e0e4736"
        );
        let sc = extracted(&[
            ("x-trace-id", "4bf92f35-77b3-4da6-a3ce-929d0e0e4736"),
            ("x-span-id", "00f067aa0ba902b7"),
        ]);
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        for bad in [
            vec![("x-trace-id", "xyz"), ("x-span-id", "00f067aa0ba902b7")],
            vec![
                ("x-trace-id", &"0".repeat(32)),
                ("x-span-id", "00f067aa0ba902b7"),
            ],
            vec![("x-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736")],
            vec![
                ("x-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736"),
                ("x-span-id", "0000000000000000"),
            ],
            vec![
                ("x-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736"),
                ("x-span-id", "123"),
            ],
            vec![],
        ] {
            assert!(!extracted(&bad).is_valid(), "{bad:?}");
        }
    }

    #[test]
    fn inject_then_extract_round_trips() {
        let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
        let span_id = SpanId::from_hex("00f067aa0ba902b7").unwrap();
        let parent = SpanId::from_hex("1111111111111111").unwrap();
        let cx = Context::new()
            .with_remote_span_context(SpanContext::new(
                trace_id,
                span_id,
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ))
            .with_value(CallerParent(parent));
        let mut carrier: HashMap<String, String> = HashMap::new();
        let propagator = XHeaderPropagator::new();
        propagator.inject_context(&cx, &mut carrier);
        assert_eq!(carrier["x-trace-id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(carrier["x-span-id"], "00f067aa0ba902b7");
        assert_eq!(carrier["x-parent-span-id"], "1111111111111111");
        let back = propagator.extract_with_context(&Context::new(), &carrier);
        assert_eq!(back.span().span_context().span_id(), span_id);

        // Nothing to propagate: nothing written.
        let mut empty: HashMap<String, String> = HashMap::new();
        propagator.inject_context(&Context::new(), &mut empty);
        assert!(empty.is_empty());
        assert_eq!(propagator.fields().count(), 3);
    }
}
