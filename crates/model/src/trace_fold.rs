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

/// `TraceFold` as stored: ranks in a table (`r`), every ranked fact as (rank number, value).
#[derive(Serialize, Deserialize)]
struct CompactFold {
    s: i64,
    e: i64,
    n: u64,
    x: u64,
    i: i64,
    o: i64,
    c: f64,
    /// The other spans' usage and whether a model call reports any.
    #[serde(default, skip_serializing_if = "is_zero")]
    oi: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    oo: i64,
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    oc: f64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    mu: bool,
    r: Vec<Rank>,
    /// (rank, name, span type, status, service): the root's span id is its rank's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    root: Option<(usize, String, u8, u8, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first: Option<(usize, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sv: Vec<(String, usize)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tg: Vec<(String, usize, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ss: Option<(usize, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    us: Option<(usize, String)>,
}

impl From<TraceFold> for CompactFold {
    fn from(f: TraceFold) -> CompactFold {
        let mut table: Vec<Rank> = Vec::new();
        let mut number = |rank: Rank| -> usize {
            match table.iter().position(|r| *r == rank) {
                Some(i) => i,
                None => {
                    table.push(rank);
                    table.len() - 1
                }
            }
        };
        let root = f.root.map(|r| {
            let v = r.value;
            (number(r.rank), v.name, v.span_type, v.status, v.service)
        });
        let first = f.first_name.map(|r| (number(r.rank), r.value));
        let ss = f.session_id.map(|r| (number(r.rank), r.value));
        let us = f.user_id.map(|r| (number(r.rank), r.value));
        let sv = f
            .services
            .into_iter()
            .map(|(name, rank)| (name, number(rank)))
            .collect();
        let tg = f
            .tags
            .into_iter()
            .map(|(key, v)| (key, number(v.rank), v.value))
            .collect();
        CompactFold {
            s: f.start_ns,
            e: f.end_ns,
            n: f.span_count,
            x: f.error_count,
            i: f.input_tokens,
            o: f.output_tokens,
            c: f.cost,
            oi: f.other_input_tokens,
            oo: f.other_output_tokens,
            oc: f.other_cost,
            mu: f.model_usage,
            r: table,
            root,
            first,
            sv,
            tg,
            ss,
            us,
        }
    }
}

impl From<CompactFold> for TraceFold {
    fn from(c: CompactFold) -> TraceFold {
        let rank = |i: usize| {
            c.r.get(i)
                .cloned()
                .unwrap_or(Rank(1, i64::MAX, String::new()))
        };
        let ranked = |(i, value): (usize, String)| Ranked {
            rank: rank(i),
            value,
        };
        TraceFold {
            start_ns: c.s,
            end_ns: c.e,
            span_count: c.n,
            error_count: c.x,
            input_tokens: c.i,
            output_tokens: c.o,
            cost: c.c,
            other_input_tokens: c.oi,
            other_output_tokens: c.oo,
            other_cost: c.oc,
            model_usage: c.mu,
            root: c.root.map(|(i, name, span_type, status, service)| {
                let rank = rank(i);
                Ranked {
                    value: RootFacts {
                        name,
                        span_id: rank.2.clone(),
                        span_type,
                        status,
                        service,
                    },
                    rank,
                }
            }),
            first_name: c.first.map(ranked),
            services: c.sv.into_iter().map(|(s, i)| (s, rank(i))).collect(),
            tags: c
                .tg
                .into_iter()
                .map(|(k, i, value)| {
                    (
                        k,
                        Ranked {
                            rank: rank(i),
                            value,
                        },
                    )
                })
                .collect(),
            session_id: c.ss.map(ranked),
            user_id: c.us.map(ranked),
        }
    }
}

fn reports_usage(input: i64, output: i64) -> bool {
    input != 0 || output != 0
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn is_zero_f64(n: &f64) -> bool {
    *n == 0.0
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
mod tests {
    use super::*;

    fn span(id: &str, parent: Option<&str>, start: i64) -> Span {
        Span {
            trace_id: "t".repeat(32),
            span_id: id.into(),
            parent_span_id: parent.map(String::from),
            name: format!("span-{id}"),
            service: format!("svc-{id}"),
            start_ns: start,
            end_ns: start + 10,
            ..Span::default()
        }
    }

    /// A trace with a root, children that disagree on tags, session and user, an error,
    /// tokens and cost, instrumentation keys, and more tag keys than a summary keeps.
    fn spans() -> Vec<Span> {
        let mut root = span("r", None, 100);
        root.status = SpanStatus::Ok;
        root.tags.insert("env".into(), "prod".into());
        root.tags.insert("langgraph_step".into(), "0".into());
        root.tags.insert("_type".into(), "fake".into());
        for i in 0..80 {
            root.tags.insert(format!("k{i:02}"), "v".into());
        }
        root.user_id = Some("u-root".into());
        let mut early = span("a", Some("r"), 50);
        early.tags.insert("env".into(), "dev".into());
        early.tags.insert("step".into(), "1".into());
        early.session_id = Some("s-early".into());
        early.user_id = Some("u-early".into());
        early.input_tokens = Some(5);
        let mut late = span("b", Some("a"), 300);
        late.tags.insert("step".into(), "2".into());
        late.session_id = Some("s-late".into());
        late.status = SpanStatus::Error;
        late.output_tokens = Some(7);
        late.cost = Some(0.5);
        late.tags.insert("k99".into(), "v".into());
        let mut other = span("c", Some("r"), 300);
        other.service = "svc-a".into();
        vec![root, early, late, other]
    }

    fn fold_in_order(spans: &[&Span]) -> TraceFold {
        TraceFold::of_all(spans.iter().map(|s| SpanFacts::from(*s)))
    }

    #[test]
    fn every_arrival_order_and_grouping_gives_the_same_summary() {
        let spans = spans();
        let reference = fold_in_order(&spans.iter().collect::<Vec<_>>()).summary("t");
        // Every order of the four spans...
        let mut orders = vec![vec![0usize, 1, 2, 3]];
        for _ in 0..23 {
            let mut next = orders.last().unwrap().clone();
            next_permutation(&mut next);
            orders.push(next);
        }
        for order in &orders {
            let ordered: Vec<&Span> = order.iter().map(|&i| &spans[i]).collect();
            assert_eq!(fold_in_order(&ordered).summary("t"), reference, "{order:?}");
            // ...and every split into two batches folded apart, then merged.
            for split in 0..=ordered.len() {
                let mut left = fold_in_order(&ordered[..split]);
                left.merge(fold_in_order(&ordered[split..]));
                assert_eq!(left.summary("t"), reference, "{order:?} split at {split}");
            }
        }
    }

    fn next_permutation(v: &mut [usize]) {
        let Some(i) = (0..v.len() - 1).rev().find(|&i| v[i] < v[i + 1]) else {
            v.reverse();
            return;
        };
        let j = (i + 1..v.len()).rev().find(|&j| v[j] > v[i]).unwrap();
        v.swap(i, j);
        v[i + 1..].reverse();
    }

    #[test]
    fn the_root_speaks_for_the_trace_and_the_earliest_span_for_the_rest() {
        let spans = spans();
        let s = fold_in_order(&spans.iter().collect::<Vec<_>>()).summary("t");
        assert_eq!(s.root_name, "span-r");
        assert_eq!(s.root_span_id.as_deref(), Some("r"));
        assert!(s.has_root);
        assert_eq!((s.start_ns, s.end_ns), (50, 310));
        assert_eq!((s.span_count, s.error_count), (4, 1));
        assert_eq!(s.status, SpanStatus::Error);
        // The root's tags, not its children's, and none of instrumentation's own.
        assert_eq!(s.tags["env"], "prod");
        assert!(!s.tags.contains_key("step"));
        assert!(!s.tags.contains_key("langgraph_step"));
        assert!(!s.tags.contains_key("_type"));
        assert!(!s.tags.contains_key("k99"));
        assert_eq!(s.tags.len(), MAX_TRACE_TAGS);
        assert_eq!(s.user_id.as_deref(), Some("u-root"));
        assert_eq!(s.session_id.as_deref(), Some("s-early"));
        assert_eq!((s.input_tokens, s.output_tokens), (5, 7));
        assert_eq!(s.cost, 0.5);
        // The root's service first, then by each service's earliest span.
        assert_eq!(s.services, vec!["svc-r", "svc-a", "svc-b"]);
    }

    #[test]
    fn without_its_root_a_trace_is_named_by_its_earliest_span() {
        let spans = spans();
        let s = fold_in_order(&[&spans[2], &spans[1]]).summary("t");
        assert_eq!(s.root_name, "span-a");
        assert!(!s.has_root);
        // ...and tagged by it (a root in a service that does not send here).
        assert_eq!(s.tags["env"], "dev");
        assert_eq!(s.tags["step"], "1");
        assert!(!s.tags.contains_key("k99"));
        assert_eq!(s.status, SpanStatus::Error);
        let s = fold_in_order(&[&spans[3]]).summary("t");
        assert_eq!(s.status, SpanStatus::Unset);
    }

    #[test]
    fn the_empty_fold_is_the_identity_and_survives_a_round_trip() {
        let spans = spans();
        let mut fold = fold_in_order(&spans.iter().collect::<Vec<_>>());
        let before = fold.clone();
        fold.merge(TraceFold::default());
        assert_eq!(fold, before);
        let text = serde_json::to_string(&fold).unwrap();
        assert_eq!(serde_json::from_str::<TraceFold>(&text).unwrap(), fold);
    }

    #[test]
    fn adding_a_span_is_merging_its_fold() {
        let spans = spans();
        for order in [[0usize, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]] {
            let mut added = TraceFold::default();
            let mut merged = TraceFold::default();
            for &i in &order {
                added.add(SpanFacts::from(&spans[i]));
                merged.merge(TraceFold::of(SpanFacts::from(&spans[i])));
            }
            assert_eq!(added, merged, "{order:?}");
        }
    }

    /// A LangGraph-like trace: a graph and a node that repeat their model call's usage, a
    /// model call, and a tool that reports none.
    fn usage_spans() -> Vec<Span> {
        let mut graph = span("g", None, 0);
        graph.span_type = SpanType::Chain;
        graph.input_tokens = Some(40);
        graph.output_tokens = Some(19);
        let mut node = span("n", Some("g"), 1);
        node.span_type = SpanType::Agent;
        node.input_tokens = Some(40);
        node.output_tokens = Some(19);
        node.cost = Some(0.2);
        let mut llm = span("l", Some("n"), 2);
        llm.span_type = SpanType::Llm;
        llm.input_tokens = Some(40);
        llm.output_tokens = Some(19);
        llm.cost = Some(0.1);
        let tool = span("t", Some("n"), 3);
        vec![graph, node, llm, tool]
    }

    #[test]
    fn usage_is_counted_at_the_model_call_in_every_order_and_grouping() {
        let spans = usage_spans();
        let mut orders = vec![vec![0usize, 1, 2, 3]];
        for _ in 0..23 {
            let mut next = orders.last().unwrap().clone();
            next_permutation(&mut next);
            orders.push(next);
        }
        for order in &orders {
            let ordered: Vec<&Span> = order.iter().map(|&i| &spans[i]).collect();
            for split in 0..=ordered.len() {
                let mut left = fold_in_order(&ordered[..split]);
                left.merge(fold_in_order(&ordered[split..]));
                // Through storage too: an engine keeps the fold between batches.
                let stored: TraceFold =
                    serde_json::from_str(&serde_json::to_string(&left).unwrap()).unwrap();
                let s = stored.summary("t");
                assert_eq!(
                    (s.input_tokens, s.output_tokens),
                    (40, 19),
                    "{order:?}/{split}"
                );
                assert_eq!(s.cost, 0.1);
            }
        }
        // Before the model call arrives, the parents' usage is all there is; a parent's
        // usage counts while no model call reports any.
        let s = fold_in_order(&[&spans[0], &spans[3]]).summary("t");
        assert_eq!((s.input_tokens, s.output_tokens), (40, 19));
        let s = fold_in_order(&[&spans[1], &spans[3]]).summary("t");
        assert_eq!((s.input_tokens, s.output_tokens, s.cost), (40, 19, 0.2));
        // A model call that reports no tokens leaves the others' usage counted.
        let mut silent = spans[2].clone();
        silent.input_tokens = None;
        silent.output_tokens = None;
        let s = fold_in_order(&[&spans[1], &silent]).summary("t");
        assert_eq!((s.input_tokens, s.output_tokens), (40, 19));
    }

    #[test]
    fn every_model_call_counts_embeddings_and_rerankers_too() {
        let mut spans = usage_spans();
        let mut embed = span("e", Some("g"), 5);
        embed.span_type = SpanType::Embedding;
        embed.input_tokens = Some(8);
        spans.push(embed);
        let s = fold_in_order(&spans.iter().collect::<Vec<_>>()).summary("t");
        assert_eq!((s.input_tokens, s.output_tokens), (48, 19));
    }

    #[test]
    fn a_better_ranked_span_replaces_the_tags_and_a_worse_one_adds_none() {
        let mut child = span("c", Some("r"), 10);
        child.tags.insert("langgraph_node".into(), "writer".into());
        child.tags.insert("customer".into(), "acme".into());
        let mut root = span("r", None, 20);
        root.tags.insert("env".into(), "prod".into());
        root.tags.insert("logfire.msg".into(), "run".into());
        for order in [[&child, &root], [&root, &child]] {
            let mut added = TraceFold::default();
            let mut merged = TraceFold::default();
            for s in order {
                added.add(SpanFacts::from(s));
                merged.merge(TraceFold::of(SpanFacts::from(s)));
            }
            assert_eq!(added, merged);
            assert_eq!(
                added.tag_values(),
                BTreeMap::from([("env".to_string(), "prod".to_string())])
            );
        }
    }

    #[test]
    fn a_non_finite_cost_is_left_out() {
        let mut s = span("x", None, 0);
        s.cost = Some(f64::INFINITY);
        assert_eq!(TraceFold::of(SpanFacts::from(&s)).cost, 0.0);
    }
}
