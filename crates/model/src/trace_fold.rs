//! How a trace's summary (the trace list's row) is folded from its spans: the one rule every
//! store engine applies, whatever order spans arrive in and however it groups them.
//!
//! A `TraceFold` is a partial summary of any set of a trace's spans. `TraceFold::of` folds one
//! span, `merge` joins two partials, and `summary` reads the row out. `merge` is associative
//! and commutative, so an engine may fold in arrival order (SQLite keeps the fold of what it
//! has and merges each new batch in), fold on read (an append-only engine), or both, and get
//! the same row. Where spans disagree, the one that ranks first wins: the root before any other
//! span, then the earliest start, then the span id (hashed), then the value itself, so no
//! choice depends on arrival order.
//!
//! The trace's tags are those of the span that ranks first, instrumentation's own keys left
//! out (`trace_tags`): a fold keeps the tags of its best-ranked span only, and a better-ranked
//! span replaces them. Usage is summed in two parts, the model calls' and the other spans', and
//! the summary counts the other spans' only when no model call reports any (`trace_tags::
//! is_model_call`): both are sums and a flag, so folding stays associative.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::span::{Span, SpanStatus, SpanType};
use crate::trace::TraceSummary;
use crate::trace_tags::{is_internal_key, is_model_call};

mod compact;

use self::compact::CompactFold;

/// Most services a summary lists (a runaway client must not grow a row).
pub const MAX_TRACE_SERVICES: usize = 64;
/// Most tag keys a summary keeps.
pub const MAX_TRACE_TAGS: usize = 64;

/// Which of two spans speaks for the trace: smaller ranks first. Kept as a tuple
/// `[tier, start_ns, span_id]` on the wire, which an SQL engine compares the same way
/// (`argMin(value, (tier, start_ns, span_id))`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Rank(
    /// 0 for a root span (no parent), 1 for any other.
    pub u8,
    /// The span's start.
    pub i64,
    /// The span id: the last tie-break.
    pub String,
);

impl Rank {
    pub fn of(is_root: bool, start_ns: i64, span_id: &str) -> Rank {
        Rank(u8::from(!is_root), start_ns, span_id.to_string())
    }
}

/// A value picked by rank: the candidate with the smallest (rank, value) wins.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ranked<T> {
    pub rank: Rank,
    pub value: T,
}

fn pick<T: Ord>(slot: &mut Option<Ranked<T>>, other: Option<Ranked<T>>) {
    match (slot.as_ref(), other) {
        (_, None) => {}
        (Some(mine), Some(theirs)) if *mine <= theirs => {}
        (_, Some(theirs)) => *slot = Some(theirs),
    }
}

/// The root span's part of the summary.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RootFacts {
    pub name: String,
    pub span_id: String,
    pub span_type: u8,
    pub status: u8,
    pub service: String,
}

/// What one span contributes, borrowed from wherever the engine keeps it.
#[derive(Debug, Clone, Copy)]
pub struct SpanFacts<'a> {
    pub span_id: &'a str,
    pub parent_span_id: Option<&'a str>,
    pub name: &'a str,
    pub span_type: SpanType,
    pub service: &'a str,
    pub start_ns: i64,
    pub end_ns: i64,
    pub status: SpanStatus,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost: Option<f64>,
    pub session_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub tags: &'a BTreeMap<String, String>,
}

impl<'a> From<&'a Span> for SpanFacts<'a> {
    fn from(s: &'a Span) -> SpanFacts<'a> {
        SpanFacts {
            span_id: &s.span_id,
            parent_span_id: s.parent_span_id.as_deref(),
            name: &s.name,
            span_type: s.span_type,
            service: &s.service,
            start_ns: s.start_ns,
            end_ns: s.end_ns,
            status: s.status,
            input_tokens: s.input_tokens,
            output_tokens: s.output_tokens,
            cost: s.cost,
            session_id: s.session_id.as_deref(),
            user_id: s.user_id.as_deref(),
            tags: &s.tags,
        }
    }
}

/// The partial summary of some of a trace's spans (see the module doc). Stored compactly
/// (`CompactFold`): most of a trace's facts come from its root, so each rank is written once
/// and referred to by number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "CompactFold", from = "CompactFold")]
pub struct TraceFold {
    pub start_ns: i64,
    pub end_ns: i64,
    pub span_count: u64,
    pub error_count: u64,
    /// Usage of model-call spans (`trace_tags::is_model_call`).
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost: f64,
    /// Usage of every other span: counted only while no model call reports tokens.
    #[serde(default)]
    pub other_input_tokens: i64,
    #[serde(default)]
    pub other_output_tokens: i64,
    #[serde(default)]
    pub other_cost: f64,
    /// Whether a model-call span reports tokens.
    #[serde(default)]
    pub model_usage: bool,
    /// The best-ranked root span, if any has arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<Ranked<RootFacts>>,
    /// The best-ranked span's name: the trace's name until its root arrives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<Ranked<String>>,
    /// Each service with the best rank of its spans; the best `MAX_TRACE_SERVICES`.
    #[serde(default)]
    pub services: BTreeMap<String, Rank>,
    /// The tags of the best-ranked span (its rank is `first_name`'s), instrumentation's own
    /// keys left out; the first `MAX_TRACE_TAGS` keys.
    #[serde(default)]
    pub tags: BTreeMap<String, Ranked<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Ranked<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Ranked<String>>,
}

impl Default for TraceFold {
    /// The fold of no span: the identity of `merge`.
    fn default() -> TraceFold {
        TraceFold {
            start_ns: i64::MAX,
            end_ns: i64::MIN,
            span_count: 0,
            error_count: 0,
            input_tokens: 0,
            output_tokens: 0,
            cost: 0.0,
            other_input_tokens: 0,
            other_output_tokens: 0,
            other_cost: 0.0,
            model_usage: false,
            root: None,
            first_name: None,
            services: BTreeMap::new(),
            tags: BTreeMap::new(),
            session_id: None,
            user_id: None,
        }
    }
}

impl TraceFold {
    /// The fold of one span.
    pub fn of(span: SpanFacts<'_>) -> TraceFold {
        let is_root = span.parent_span_id.is_none();
        let rank = Rank::of(is_root, span.start_ns, span.span_id);
        let ranked = |v: &str| Ranked {
            rank: rank.clone(),
            value: v.to_string(),
        };
        let mut fold = TraceFold {
            start_ns: span.start_ns,
            end_ns: span.end_ns.max(span.start_ns),
            span_count: 1,
            error_count: u64::from(span.status.is_error()),
            ..TraceFold::default()
        };
        fold.add_usage(&span);
        fold = TraceFold {
            root: is_root.then(|| Ranked {
                rank: rank.clone(),
                value: RootFacts {
                    name: span.name.to_string(),
                    span_id: span.span_id.to_string(),
                    span_type: span.span_type.code(),
                    status: span.status.code(),
                    service: span.service.to_string(),
                },
            }),
            first_name: Some(ranked(span.name)),
            services: BTreeMap::from([(span.service.to_string(), rank.clone())]),
            tags: span
                .tags
                .iter()
                .filter(|(k, _)| !is_internal_key(k))
                .map(|(k, v)| (k.clone(), ranked(v)))
                .collect(),
            session_id: span.session_id.map(ranked),
            user_id: span.user_id.map(ranked),
            ..fold
        };
        fold.cap();
        fold
    }

    /// Adds a span's usage to the model calls' part or the other spans' part.
    fn add_usage(&mut self, span: &SpanFacts<'_>) {
        let input = span.input_tokens.unwrap_or(0);
        let output = span.output_tokens.unwrap_or(0);
        // A non-finite cost (a broken client) would poison every sum it joins.
        let cost = span.cost.filter(|c| c.is_finite()).unwrap_or(0.0);
        if is_model_call(span.span_type) {
            self.input_tokens = self.input_tokens.saturating_add(input);
            self.output_tokens = self.output_tokens.saturating_add(output);
            self.cost += cost;
            self.model_usage |= reports_usage(input, output);
        } else {
            self.other_input_tokens = self.other_input_tokens.saturating_add(input);
            self.other_output_tokens = self.other_output_tokens.saturating_add(output);
            self.other_cost += cost;
        }
    }

    /// The usage the trace counts: (input tokens, output tokens, cost).
    pub fn counted_usage(&self) -> (i64, i64, f64) {
        if self.model_usage {
            (self.input_tokens, self.output_tokens, self.cost)
        } else {
            (
                self.input_tokens.saturating_add(self.other_input_tokens),
                self.output_tokens.saturating_add(self.other_output_tokens),
                self.cost + self.other_cost,
            )
        }
    }

    /// The fold of many spans.
    pub fn of_all<'a>(spans: impl IntoIterator<Item = SpanFacts<'a>>) -> TraceFold {
        let mut fold = TraceFold::default();
        for span in spans {
            fold.add(span);
        }
        fold
    }

    /// Folds one more span in: `merge(TraceFold::of(span))`, allocating only for what the span
    /// changes (the write path folds every span it stores).
    pub fn add(&mut self, span: SpanFacts<'_>) {
        let is_root = span.parent_span_id.is_none();
        let tier = u8::from(!is_root);
        let key = (tier, span.start_ns, span.span_id);
        let beats = |rank: &Rank| key < (rank.0, rank.1, rank.2.as_str());
        let rank = || Rank(tier, span.start_ns, span.span_id.to_string());
        self.start_ns = self.start_ns.min(span.start_ns);
        self.end_ns = self.end_ns.max(span.end_ns.max(span.start_ns));
        self.span_count += 1;
        self.error_count += u64::from(span.status.is_error());
        self.add_usage(&span);
        // The tags follow the best-ranked span: decided against the best rank so far, before
        // this span may become it.
        let versus_best = match self.first_name.as_ref() {
            None => std::cmp::Ordering::Less,
            Some(f) => key.cmp(&(f.rank.0, f.rank.1, f.rank.2.as_str())),
        };
        if is_root && self.root.as_ref().is_none_or(|r| beats(&r.rank)) {
            self.root = Some(Ranked {
                rank: rank(),
                value: RootFacts {
                    name: span.name.to_string(),
                    span_id: span.span_id.to_string(),
                    span_type: span.span_type.code(),
                    status: span.status.code(),
                    service: span.service.to_string(),
                },
            });
        }
        let pick = |slot: &mut Option<Ranked<String>>, value: Option<&str>| {
            if let Some(v) = value {
                let better = match slot.as_ref() {
                    None => true,
                    Some(r) => {
                        (key, v) < ((r.rank.0, r.rank.1, r.rank.2.as_str()), r.value.as_str())
                    }
                };
                if better {
                    *slot = Some(Ranked {
                        rank: rank(),
                        value: v.to_string(),
                    });
                }
            }
        };
        pick(&mut self.first_name, Some(span.name));
        pick(&mut self.session_id, span.session_id);
        pick(&mut self.user_id, span.user_id);
        match self.services.get_mut(span.service) {
            Some(r) if !beats(r) => {}
            Some(r) => *r = rank(),
            None => {
                self.services.insert(span.service.to_string(), rank());
            }
        }
        if versus_best == std::cmp::Ordering::Less {
            self.tags.clear();
        }
        if versus_best != std::cmp::Ordering::Greater {
            for (k, v) in span.tags.iter().filter(|(k, _)| !is_internal_key(k)) {
                match self.tags.get_mut(k) {
                    // The same span in pieces: the smaller value, as `merge` picks.
                    Some(r) if *v >= r.value => {}
                    Some(r) => {
                        *r = Ranked {
                            rank: rank(),
                            value: v.clone(),
                        }
                    }
                    None => {
                        self.tags.insert(
                            k.clone(),
                            Ranked {
                                rank: rank(),
                                value: v.clone(),
                            },
                        );
                    }
                }
            }
        }
        if self.services.len() > MAX_TRACE_SERVICES || self.tags.len() > MAX_TRACE_TAGS {
            self.cap();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.span_count == 0
    }

    /// Joins another partial fold of the same trace into this one.
    pub fn merge(&mut self, other: TraceFold) {
        self.start_ns = self.start_ns.min(other.start_ns);
        self.end_ns = self.end_ns.max(other.end_ns);
        self.span_count += other.span_count;
        self.error_count += other.error_count;
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.cost += other.cost;
        self.other_input_tokens = self
            .other_input_tokens
            .saturating_add(other.other_input_tokens);
        self.other_output_tokens = self
            .other_output_tokens
            .saturating_add(other.other_output_tokens);
        self.other_cost += other.other_cost;
        self.model_usage |= other.model_usage;
        let versus_best = match (&self.first_name, &other.first_name) {
            (_, None) => std::cmp::Ordering::Greater,
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(mine), Some(theirs)) => theirs.rank.cmp(&mine.rank),
        };
        pick(&mut self.root, other.root);
        pick(&mut self.first_name, other.first_name);
        pick(&mut self.session_id, other.session_id);
        pick(&mut self.user_id, other.user_id);
        for (service, rank) in other.services {
            match self.services.get_mut(&service) {
                Some(mine) if *mine <= rank => {}
                Some(mine) => *mine = rank,
                None => {
                    self.services.insert(service, rank);
                }
            }
        }
        match versus_best {
            std::cmp::Ordering::Less => self.tags = other.tags,
            std::cmp::Ordering::Equal => {
                for (key, value) in other.tags {
                    match self.tags.get_mut(&key) {
                        Some(mine) if *mine <= value => {}
                        Some(mine) => *mine = value,
                        None => {
                            self.tags.insert(key, value);
                        }
                    }
                }
            }
            std::cmp::Ordering::Greater => {}
        }
        self.cap();
    }

    /// Keeps the best-ranked services and tag keys. Dropping all but the best k by their best
    /// rank keeps `merge` associative: a key dropped from one part had k better keys there,
    /// which stay ahead of it in any union. An engine that builds a fold from its own
    /// aggregates calls it once they are in.
    pub fn cap(&mut self) {
        if self.services.len() > MAX_TRACE_SERVICES {
            let keep = best(
                self.services.iter().map(|(s, r)| (r, s)),
                MAX_TRACE_SERVICES,
            );
            self.services.retain(|s, _| keep.contains(s));
        }
        if self.tags.len() > MAX_TRACE_TAGS {
            let keep = best(self.tags.iter().map(|(k, v)| (&v.rank, k)), MAX_TRACE_TAGS);
            self.tags.retain(|k, _| keep.contains(k));
        }
    }

    /// The tags the summary shows: each key's best-ranked value.
    pub fn tag_values(&self) -> BTreeMap<String, String> {
        self.tags
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    }

    /// The trace list's row for this trace (without feedback, which the store adds).
    pub fn summary(&self, trace_id: &str) -> TraceSummary {
        let root = self.root.as_ref().map(|r| &r.value);
        let mut services: Vec<(&Rank, &String)> =
            self.services.iter().map(|(s, r)| (r, s)).collect();
        services.sort();
        let mut services: Vec<String> = services.into_iter().map(|(_, s)| s.clone()).collect();
        // The root's service first, whatever its rank among the others.
        if let Some(root) = root {
            if let Some(i) = services.iter().position(|s| *s == root.service) {
                let service = services.remove(i);
                services.insert(0, service);
            }
        }
        let (input_tokens, output_tokens, cost) = self.counted_usage();
        let status = if self.error_count > 0 {
            SpanStatus::Error
        } else if root.is_some_and(|r| SpanStatus::from_code(r.status) == SpanStatus::Ok) {
            SpanStatus::Ok
        } else {
            SpanStatus::Unset
        };
        TraceSummary {
            trace_id: trace_id.to_string(),
            root_name: match (root, &self.first_name) {
                (Some(r), _) => r.name.clone(),
                (None, Some(first)) => first.value.clone(),
                (None, None) => String::new(),
            },
            root_span_id: root.map(|r| r.span_id.clone()),
            has_root: root.is_some(),
            root_span_type: root.map(|r| SpanType::from_code(r.span_type)),
            start_ns: if self.is_empty() { 0 } else { self.start_ns },
            end_ns: if self.is_empty() { 0 } else { self.end_ns },
            span_count: self.span_count,
            error_count: self.error_count,
            status,
            services,
            tags: self.tag_values(),
            session_id: self.session_id.as_ref().map(|s| s.value.clone()),
            user_id: self.user_id.as_ref().map(|s| s.value.clone()),
            input_tokens,
            output_tokens,
            cost,
            feedback: Vec::new(),
        }
    }
}

fn reports_usage(input: i64, output: i64) -> bool {
    input != 0 || output != 0
}

/// The names of the `k` entries with the smallest (rank, name).
fn best<'a>(
    entries: impl Iterator<Item = (&'a Rank, &'a String)>,
    k: usize,
) -> std::collections::BTreeSet<String> {
    let mut all: Vec<(&Rank, &String)> = entries.collect();
    all.sort();
    all.truncate(k);
    all.into_iter().map(|(_, s)| s.clone()).collect()
}

#[cfg(test)]
mod tests;
