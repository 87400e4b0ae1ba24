//! The rule for a span that arrives in pieces: LangSmith sends a run as a `post` (start,
//! inputs) and later a `patch` (end, outputs, error), sometimes the other way round, sometimes
//! twice. A store keeps the pieces of a span as versions, in arrival order, and every reader sees
//! them folded by `merge`, however the engine does it (SQLite merges on write; an append-only
//! engine may merge on read). `merge` is idempotent (`merge(&s, s.clone()) == s`), so a re-sent
//! piece is a duplicate.

use serde_json::Value;

use crate::span::{Span, SpanLink, SpanStatus};

/// The run type the client gave (a piece without one keeps the stored span type).
pub const ATTR_RUN_TYPE: &str = "langsmith.run_type";
/// Present once the run has ended (a `post` of a run still running has no end time).
pub const ATTR_END_TIME: &str = "langsmith.end_time";
/// Set while only pieces without a start time have arrived (a bare `PATCH`).
pub const ATTR_START_UNKNOWN: &str = "langsmith.start_time_unknown";
pub const ATTR_ERROR: &str = "langsmith.error";

/// Folds the pieces of one span, in arrival order.
pub fn fold(pieces: impl IntoIterator<Item = Span>) -> Option<Span> {
    pieces.into_iter().fold(None, |folded, piece| {
        Some(match folded {
            None => piece,
            Some(stored) => merge(&stored, piece),
        })
    })
}

/// Merges a newer piece of a span into what is known of it (`stored`): what the newer
/// piece knows wins, what it lacks is kept. The end time is kept once known, an error is never
/// undone by a piece without one, inputs and outputs are only replaced by real values, and
/// tags, labels, attributes and events are unions. Idempotent: a re-sent run is a duplicate.
pub fn merge(stored: &Span, incoming: Span) -> Span {
    let incoming_start_known = !incoming.attributes.contains_key(ATTR_START_UNKNOWN);
    let stored_start_known = !stored.attributes.contains_key(ATTR_START_UNKNOWN);
    let incoming_ended = incoming.attributes.contains_key(ATTR_END_TIME);
    let stored_ended = stored.attributes.contains_key(ATTR_END_TIME);

    let mut merged = incoming;
    let start_ns = if incoming_start_known || !stored_start_known {
        merged.start_ns
    } else {
        stored.start_ns
    };
    let end_ns = if incoming_ended {
        merged.end_ns
    } else if stored_ended {
        stored.end_ns
    } else {
        start_ns
    };
    merged.start_ns = start_ns;
    merged.end_ns = end_ns.max(start_ns);

    if merged.name.is_empty() {
        merged.name.clone_from(&stored.name);
    }
    if merged.parent_span_id.is_none() {
        merged.parent_span_id.clone_from(&stored.parent_span_id);
    }
    if !merged.attributes.contains_key(ATTR_RUN_TYPE) {
        merged.span_type = stored.span_type;
    }
    let rank = |s: SpanStatus| match s {
        SpanStatus::Error => 2,
        SpanStatus::Ok => 1,
        SpanStatus::Unset => 0,
    };
    if rank(stored.status) > rank(merged.status) {
        merged.status = stored.status;
        merged.status_message.clone_from(&stored.status_message);
    }
    if merged.status != SpanStatus::Error {
        merged.status_message = None;
    }
    merged.model = merged.model.or_else(|| stored.model.clone());
    if merged.input_tokens.is_none() && merged.output_tokens.is_none() {
        merged.input_tokens = stored.input_tokens;
        merged.output_tokens = stored.output_tokens;
    }
    merged.cost = merged.cost.or(stored.cost);
    merged.input = merged.input.or_else(|| stored.input.clone());
    merged.output = merged.output.or_else(|| stored.output.clone());
    merged.session_id = merged.session_id.or_else(|| stored.session_id.clone());
    merged.user_id = merged.user_id.or_else(|| stored.user_id.clone());

    let mut tags = stored.tags.clone();
    tags.extend(std::mem::take(&mut merged.tags));
    merged.tags = tags;
    merged.labels = union(&stored.labels, std::mem::take(&mut merged.labels));
    merged.events = union(&stored.events, std::mem::take(&mut merged.events));
    merged.links = union::<SpanLink>(&stored.links, std::mem::take(&mut merged.links));

    let mut attributes = stored.attributes.clone();
    for (k, v) in std::mem::take(&mut merged.attributes) {
        match attributes.get_mut(&k) {
            Some(existing) if existing.is_object() && v.is_object() => deep_merge(existing, v),
            _ => {
                attributes.insert(k, v);
            }
        }
    }
    if incoming_start_known || stored_start_known {
        attributes.remove(ATTR_START_UNKNOWN);
    }
    if merged.status != SpanStatus::Error {
        attributes.remove(ATTR_ERROR);
    }
    if !incoming_ended && stored_ended {
        if let Some(end) = stored.attributes.get(ATTR_END_TIME) {
            attributes.insert(ATTR_END_TIME.into(), end.clone());
        }
    }
    merged.attributes = attributes;
    let mut resource = stored.resource.clone();
    resource.extend(std::mem::take(&mut merged.resource));
    merged.resource = resource;
    merged
}

fn union<T: PartialEq + Clone>(stored: &[T], incoming: Vec<T>) -> Vec<T> {
    let mut out = stored.to_vec();
    for item in incoming {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Merges JSON objects key by key, recursively; anything else is replaced.
pub fn deep_merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}
