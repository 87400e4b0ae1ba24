//! One cohort's spans folded into its `NameAggregates` in one pass, trace after trace: what a
//! store that reads the spans of a cohort's traces (SQLite) computes, with the self-time rule
//! of `cohort::self_time_ns` and numpy's "linear" quantiles (`stats::quantile_ranks`).
//!
//! A trace's spans are held until the trace ends (the caller passes a trace key with each span
//! and every span of a trace before the next trace's); its children are then matched to their
//! parent by a sort of the span ids, and its per-name sums are added to the names' moments. The
//! durations of every span are kept per name (8 bytes a span) for the exact quantiles, picked
//! by selection rather than a sort.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::cohort::{self_time_ns, NameAggregates};
use crate::span::SpanType;
use crate::stats::{quantile_ranks, Moments};

/// One span as the fold reads it. The texts are bytes borrowed for the call only, as a store
/// reads them (the ids are only compared, the names decoded once each).
#[derive(Debug, Clone, Copy)]
pub struct FoldSpan<'a> {
    pub span_id: &'a [u8],
    pub parent_span_id: Option<&'a [u8]>,
    pub name: &'a [u8],
    pub span_type: SpanType,
    pub service: &'a [u8],
    pub start_ns: i64,
    pub end_ns: i64,
    pub error: bool,
    pub tokens: i64,
    pub cost: f64,
}

/// A span of the current trace: its ids as ranges of `TraceBuffer::ids`.
struct HeldSpan {
    id: (u32, u32),
    parent: Option<(u32, u32)>,
    name: u32,
    start_ns: i64,
    end_ns: i64,
    error: bool,
    tokens: i64,
    cost: f64,
}

/// A name's sums within the current trace.
#[derive(Default)]
struct TraceSums {
    name: u32,
    spans: u64,
    duration_ns: i64,
    self_ns: i64,
    errors: u64,
    tokens: i64,
    cost: f64,
}

/// A name's aggregates over the traces folded so far.
struct NameState {
    name: String,
    span_type: SpanType,
    service: String,
    spans: u64,
    traces_with: u64,
    duration_ns: i64,
    /// Sums and sums of squares of the per-trace self time (ms), tokens, cost, error spans.
    self_ms: (f64, f64),
    tokens: (f64, f64),
    cost: (f64, f64),
    errors: (f64, f64),
    durations_ns: Vec<i64>,
    /// The trace (`CohortFold::traces`) whose sums are in `TraceBuffer::sums[slot]`.
    seen_in: u64,
    slot: u32,
}

#[derive(Default)]
struct TraceBuffer {
    key: Option<i64>,
    ids: Vec<u8>,
    spans: Vec<HeldSpan>,
    /// Span indexes sorted by span id; the children's (sum, first start, last end) by index.
    by_id: Vec<u32>,
    children: Vec<Option<(i64, i64, i64)>>,
    sums: Vec<TraceSums>,
}

/// The fold of one cohort's spans (see the module docs).
#[derive(Default)]
pub struct CohortFold {
    names: Vec<NameState>,
    /// (name, type code, service) to `names` index, the texts interned first.
    name_ids: HashMap<Vec<u8>, u32, Fnv>,
    service_ids: HashMap<Vec<u8>, u32, Fnv>,
    keys: HashMap<u64, u32, Fnv>,
    trace: TraceBuffer,
    traces: u64,
}

/// FNV-1a: the maps are keyed by short texts and small integers read from a store, and a
/// lookup per span is on the fold's hot path (SipHash's flood resistance is not needed here).
#[derive(Default)]
struct FnvHasher(u64);

impl Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type Fnv = BuildHasherDefault<FnvHasher>;

fn push_id(ids: &mut Vec<u8>, id: &[u8]) -> (u32, u32) {
    let start = ids.len() as u32;
    ids.extend_from_slice(id);
    (start, ids.len() as u32)
}

fn intern(map: &mut HashMap<Vec<u8>, u32, Fnv>, text: &[u8]) -> u32 {
    if let Some(&id) = map.get(text) {
        return id;
    }
    let id = map.len() as u32;
    map.insert(text.to_vec(), id);
    id
}

impl CohortFold {
    pub fn new() -> CohortFold {
        CohortFold::default()
    }

    /// Adds a span of trace `trace`. Every span of a trace comes before any of the next one's:
    /// a span of another trace ends the current one.
    pub fn push(&mut self, trace: i64, span: FoldSpan<'_>) {
        if self.trace.key != Some(trace) {
            self.end_trace();
            self.trace.key = Some(trace);
        }
        let name = self.name_index(span.name, span.span_type, span.service);
        let t = &mut self.trace;
        let id = push_id(&mut t.ids, span.span_id);
        let parent = span.parent_span_id.map(|p| push_id(&mut t.ids, p));
        t.spans.push(HeldSpan {
            id,
            parent,
            name,
            start_ns: span.start_ns,
            end_ns: span.end_ns,
            error: span.error,
            tokens: span.tokens,
            cost: span.cost,
        });
    }

    fn name_index(&mut self, name: &[u8], span_type: SpanType, service: &[u8]) -> u32 {
        let key = (u64::from(intern(&mut self.name_ids, name)) << 40)
            | (u64::from(span_type.code()) << 32)
            | u64::from(intern(&mut self.service_ids, service));
        if let Some(&i) = self.keys.get(&key) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(NameState {
            name: String::from_utf8_lossy(name).into_owned(),
            span_type,
            service: String::from_utf8_lossy(service).into_owned(),
            spans: 0,
            traces_with: 0,
            duration_ns: 0,
            self_ms: (0.0, 0.0),
            tokens: (0.0, 0.0),
            cost: (0.0, 0.0),
            errors: (0.0, 0.0),
            durations_ns: Vec::new(),
            seen_in: u64::MAX,
            slot: 0,
        });
        self.keys.insert(key, i);
        i
    }

    /// Folds the held trace into the names' aggregates.
    fn end_trace(&mut self) {
        let t = &mut self.trace;
        if t.spans.is_empty() {
            t.key = None;
            return;
        }
        let ids = t.ids.as_slice();
        let text = |(a, b): (u32, u32)| &ids[a as usize..b as usize];
        // Each span's direct children: summed durations and envelope.
        t.by_id.clear();
        t.by_id.extend(0..t.spans.len() as u32);
        let spans = &t.spans;
        t.by_id
            .sort_unstable_by(|&x, &y| text(spans[x as usize].id).cmp(text(spans[y as usize].id)));
        t.children.clear();
        t.children.resize(spans.len(), None);
        for child in spans {
            let Some(parent) = child.parent else { continue };
            let parent = text(parent);
            let Ok(at) = t
                .by_id
                .binary_search_by(|&i| text(spans[i as usize].id).cmp(parent))
            else {
                continue;
            };
            let d = (child.end_ns - child.start_ns).max(0);
            let slot = &mut t.children[t.by_id[at] as usize];
            *slot = Some(match *slot {
                None => (d, child.start_ns, child.end_ns),
                Some((sum, first, last)) => {
                    (sum + d, first.min(child.start_ns), last.max(child.end_ns))
                }
            });
        }
        // Per name, the trace's sums.
        let trace_no = self.traces;
        t.sums.clear();
        for (span, children) in spans.iter().zip(&t.children) {
            let d = (span.end_ns - span.start_ns).max(0);
            let own = match *children {
                None => d,
                Some((sum, first, last)) => {
                    self_time_ns(span.start_ns, span.end_ns, sum, first, last)
                }
            };
            let state = &mut self.names[span.name as usize];
            if state.seen_in != trace_no {
                state.seen_in = trace_no;
                state.slot = t.sums.len() as u32;
                t.sums.push(TraceSums {
                    name: span.name,
                    ..Default::default()
                });
            }
            state.durations_ns.push(d);
            let sums = &mut t.sums[state.slot as usize];
            sums.spans += 1;
            sums.duration_ns += d;
            sums.self_ns += own;
            sums.errors += u64::from(span.error);
            sums.tokens += span.tokens;
            sums.cost += span.cost;
        }
        for sums in &t.sums {
            let state = &mut self.names[sums.name as usize];
            state.spans += sums.spans;
            state.traces_with += 1;
            state.duration_ns += sums.duration_ns;
            let add = |m: &mut (f64, f64), x: f64| {
                m.0 += x;
                m.1 += x * x;
            };
            add(&mut state.self_ms, sums.self_ns as f64 / 1e6);
            add(&mut state.tokens, sums.tokens as f64);
            add(&mut state.cost, sums.cost);
            add(&mut state.errors, sums.errors as f64);
        }
        self.traces += 1;
        t.key = None;
        t.ids.clear();
        t.spans.clear();
    }

    /// The names, the `max_names` with the most self time first (ties by name), each with the
    /// exact p50 and p95 of its spans' durations.
    pub fn finish(mut self, max_names: usize) -> Vec<NameAggregates> {
        self.end_trace();
        let mut names = self.names;
        names.sort_by(|x, y| {
            y.self_ms
                .0
                .total_cmp(&x.self_ms.0)
                .then_with(|| x.name.cmp(&y.name))
        });
        names.truncate(max_names);
        names
            .into_iter()
            .map(|mut g| {
                let n = g.traces_with;
                let moments = |(sum, sum_sq): (f64, f64)| Moments::new(n, sum, sum_sq);
                NameAggregates {
                    p50_ms: quantile_ms(&mut g.durations_ns, 0.5),
                    p95_ms: quantile_ms(&mut g.durations_ns, 0.95),
                    name: g.name,
                    span_type: g.span_type,
                    service: g.service,
                    spans: g.spans,
                    traces_with: n,
                    duration_ms_sum: g.duration_ns as f64 / 1e6,
                    self_ms: moments(g.self_ms),
                    tokens: moments(g.tokens),
                    cost: moments(g.cost),
                    errors: moments(g.errors),
                }
            })
            .collect()
    }
}

/// The type-7 quantile `q` (ms) of durations in ns, by selecting its two ranks.
fn quantile_ms(durations_ns: &mut [i64], q: f64) -> f64 {
    let Some((lo, hi, frac)) = quantile_ranks(durations_ns.len() as u64, q) else {
        return 0.0;
    };
    let (_, &mut low, above) = durations_ns.select_nth_unstable(lo as usize);
    // The rank after `lo` is the least of the values above it.
    let high = if hi == lo {
        low
    } else {
        above.iter().copied().min().unwrap_or(low)
    };
    let (a, b) = (low as f64 / 1e6, high as f64 / 1e6);
    a + (b - a) * frac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::quantile_sorted;

    struct S {
        trace: i64,
        id: String,
        parent: Option<String>,
        name: &'static str,
        start: i64,
        end: i64,
        error: bool,
        tokens: i64,
        cost: f64,
    }

    fn fold(spans: &[S]) -> Vec<NameAggregates> {
        let mut f = CohortFold::new();
        for s in spans {
            f.push(
                s.trace,
                FoldSpan {
                    span_id: s.id.as_bytes(),
                    parent_span_id: s.parent.as_deref().map(str::as_bytes),
                    name: s.name.as_bytes(),
                    span_type: SpanType::Chain,
                    service: b"svc",
                    start_ns: s.start,
                    end_ns: s.end,
                    error: s.error,
                    tokens: s.tokens,
                    cost: s.cost,
                },
            );
        }
        f.finish(100)
    }

    /// A small deterministic generator (no dependency): xorshift.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// The fold against the rule computed span by span, the obvious way, over random trees.
    #[test]
    fn the_fold_matches_a_direct_computation() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let names = ["root", "llm", "tool", "retrieve"];
        let mut spans = Vec::new();
        for trace in 0..40 {
            let n = 1 + rng.next(12) as usize;
            for i in 0..n {
                let start = rng.next(1_000_000) as i64;
                // Some spans end before they start (a duration of 0).
                let end = start + rng.next(2_000_000) as i64 - 100_000;
                spans.push(S {
                    trace,
                    id: format!("{:x}", rng.next(1 << 40) * 64 + i as u64),
                    parent: None,
                    name: names[rng.next(names.len() as u64) as usize],
                    start,
                    end,
                    error: rng.next(4) == 0,
                    tokens: rng.next(500) as i64,
                    cost: rng.next(100) as f64 * 0.001,
                });
            }
            let first = spans.len() - n;
            for i in first + 1..spans.len() {
                // A parent among the earlier spans, or one not in the trace.
                let p = first + rng.next((i - first) as u64 + 1) as usize;
                spans[i].parent = Some(if p == i {
                    "missing".into()
                } else {
                    spans[p].id.clone()
                });
            }
        }
        let got = fold(&spans);
        for name in names {
            let g = got.iter().find(|g| g.name == name).expect(name);
            let mine: Vec<&S> = spans.iter().filter(|s| s.name == name).collect();
            let mut per_trace: HashMap<i64, (f64, f64, f64, f64)> = HashMap::new();
            let mut durations = Vec::new();
            for s in &mine {
                let kids: Vec<&S> = spans
                    .iter()
                    .filter(|c| c.trace == s.trace && c.parent.as_deref() == Some(&s.id))
                    .collect();
                let d = (s.end - s.start).max(0);
                let own = if kids.is_empty() {
                    d
                } else {
                    self_time_ns(
                        s.start,
                        s.end,
                        kids.iter().map(|c| (c.end - c.start).max(0)).sum(),
                        kids.iter().map(|c| c.start).min().unwrap(),
                        kids.iter().map(|c| c.end).max().unwrap(),
                    )
                };
                durations.push(d as f64 / 1e6);
                let e = per_trace.entry(s.trace).or_default();
                e.0 += own as f64 / 1e6;
                e.1 += s.tokens as f64;
                e.2 += s.cost;
                e.3 += f64::from(u8::from(s.error));
            }
            let col = |f: fn(&(f64, f64, f64, f64)) -> f64| -> Vec<f64> {
                per_trace.values().map(f).collect()
            };
            let close = |a: f64, b: f64, what: &str| {
                assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "{name} {what}: {a} {b}"
                )
            };
            assert_eq!(g.spans, mine.len() as u64);
            assert_eq!(g.traces_with, per_trace.len() as u64);
            for (m, want, what) in [
                (g.self_ms, col(|t| t.0), "self"),
                (g.tokens, col(|t| t.1), "tokens"),
                (g.cost, col(|t| t.2), "cost"),
                (g.errors, col(|t| t.3), "errors"),
            ] {
                let want = Moments::from_values(&want);
                close(m.sum, want.sum, what);
                close(m.sum_sq, want.sum_sq, what);
            }
            close(g.duration_ms_sum, durations.iter().sum(), "duration");
            durations.sort_by(f64::total_cmp);
            close(g.p50_ms, quantile_sorted(&durations, 0.5).unwrap(), "p50");
            close(g.p95_ms, quantile_sorted(&durations, 0.95).unwrap(), "p95");
        }
        // Most self time first.
        assert!(got.windows(2).all(|w| w[0].self_ms.sum >= w[1].self_ms.sum));
    }

    #[test]
    fn names_beyond_the_limit_are_the_least_self_time() {
        let spans: Vec<S> = ["a", "b", "c"]
            .iter()
            .enumerate()
            .map(|(i, name)| S {
                trace: 1,
                id: i.to_string(),
                parent: None,
                name,
                start: 0,
                end: (i as i64 + 1) * 1_000_000,
                error: false,
                tokens: 0,
                cost: 0.0,
            })
            .collect();
        let mut f = CohortFold::new();
        for s in &spans {
            f.push(
                s.trace,
                FoldSpan {
                    span_id: s.id.as_bytes(),
                    parent_span_id: None,
                    name: s.name.as_bytes(),
                    span_type: SpanType::Chain,
                    service: b"svc",
                    start_ns: s.start,
                    end_ns: s.end,
                    error: false,
                    tokens: 0,
                    cost: 0.0,
                },
            );
        }
        let got = f.finish(2);
        let names: Vec<&str> = got.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["c", "b"]);
        assert_eq!(got[0].p50_ms, 3.0);
    }
}
