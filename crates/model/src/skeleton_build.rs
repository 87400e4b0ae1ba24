//! Building a trace skeleton from its spans as a store reads them, in any order: each span's
//! ids parsed and its name and service interned as it is pushed (a store can hand over text it
//! only borrows for the row), then one sort by start and the parents resolved by id.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use crate::skeleton_id::SpanId;
use crate::trace::{SkeletonSpan, SkeletonSpanInput, TraceSkeleton, TraceSummary};

/// The spans of one trace, pushed one by one, made into its skeleton by [`finish`](Self::finish).
#[derive(Default)]
pub struct SkeletonBuilder {
    names: Interner,
    services: Interner,
    spans: Vec<Pushed>,
}

struct Pushed {
    id: SpanId,
    parent: Option<SpanId>,
    name: u32,
    service: u32,
    span_type: u8,
    start_ns: i64,
    end_ns: i64,
    status: u8,
    tokens: i64,
    kind: u8,
    cost: f64,
}

impl SkeletonBuilder {
    pub fn with_capacity(spans: usize) -> SkeletonBuilder {
        SkeletonBuilder {
            spans: Vec::with_capacity(spans),
            ..SkeletonBuilder::default()
        }
    }

    pub fn push(&mut self, s: SkeletonSpanInput<'_>) {
        self.spans.push(Pushed {
            id: SpanId::new(s.span_id),
            parent: s.parent_span_id.map(SpanId::new),
            name: self.names.intern(s.name),
            service: self.services.intern(s.service),
            span_type: s.span_type.code(),
            start_ns: s.start_ns,
            end_ns: s.end_ns,
            status: s.status.code(),
            tokens: s.tokens,
            kind: s.kind.code(),
            cost: s.cost,
        });
    }

    /// Takes the spans `other` was pushed, as if pushed here after this builder's (a store
    /// may read a trace in parts at once).
    pub fn append(&mut self, other: SkeletonBuilder) {
        let names: Vec<u32> = other
            .names
            .values
            .iter()
            .map(|v| self.names.intern(v))
            .collect();
        let services: Vec<u32> = other
            .services
            .values
            .iter()
            .map(|v| self.services.intern(v))
            .collect();
        self.spans.reserve(other.spans.len());
        self.spans.extend(other.spans.into_iter().map(|mut s| {
            s.name = names[s.name as usize];
            s.service = services[s.service as usize];
            s
        }));
    }

    /// Sorts the spans by start time (ties keep parents first, then by span id) and
    /// resolves parents to indexes; a parent that is not among the spans makes an orphan.
    pub fn finish(self, summary: TraceSummary) -> TraceSkeleton {
        let pushed = self.spans;
        // Sorted as (start, has parent, index): 16 bytes an entry, not the spans themselves.
        let mut order: Vec<(i64, u32)> = pushed
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    s.start_ns,
                    (i as u32) | (u32::from(s.parent.is_some()) << 31),
                )
            })
            .collect();
        let id_of = |key: u32| &pushed[(key & !(1 << 31)) as usize].id;
        // Ties by span id, whatever order the store read them in (a trace's head, read
        // apart, orders them so too: `skeleton_head`).
        order.sort_unstable_by(|&(a_start, a), &(b_start, b)| {
            (a_start, a >> 31)
                .cmp(&(b_start, b >> 31))
                .then_with(|| id_of(a).text_cmp(id_of(b)))
                .then_with(|| a.cmp(&b))
        });
        let at = |k: usize| &pushed[(order[k].1 & !(1 << 31)) as usize];
        let start_ns = order.first().map_or(summary.start_ns, |&(s, _)| s);
        let mut index_of: HashMap<&SpanId, u32, BuildHasherDefault<FastHasher>> =
            HashMap::with_capacity_and_hasher(pushed.len(), BuildHasherDefault::default());
        for k in 0..order.len() {
            index_of.insert(&at(k).id, k as u32);
        }
        let mut orphans = BTreeMap::new();
        let spans = (0..order.len())
            .map(|k| {
                let s = at(k);
                let parent = match &s.parent {
                    None => -1,
                    Some(p) => match index_of.get(p) {
                        Some(&pi) if pi as usize != k => pi as i32,
                        _ => {
                            orphans.insert(k as u32, p.text().to_string());
                            -1
                        }
                    },
                };
                let (start_us, duration_us) = span_times(s.start_ns, s.end_ns, start_ns);
                SkeletonSpan(
                    s.id.clone(),
                    parent,
                    s.name,
                    s.service,
                    s.span_type,
                    start_us,
                    duration_us,
                    s.status,
                    s.tokens,
                    s.kind,
                    skeleton_cost(s.cost),
                )
            })
            .collect();
        TraceSkeleton {
            summary,
            start_ns,
            names: self.names.values,
            services: self.services.values,
            spans,
            orphans,
        }
    }
}

/// A span's start (from the trace's) and duration, in microseconds, as a skeleton holds them.
pub(crate) fn span_times(start_ns: i64, end_ns: i64, trace_start_ns: i64) -> (i64, i64) {
    (
        (start_ns - trace_start_ns) / 1_000,
        (end_ns - start_ns).max(0) / 1_000,
    )
}

/// A span's cost as a skeleton holds it: rounded (the skeleton stays small, and no LLM call is
/// cheaper).
pub(crate) fn skeleton_cost(cost: f64) -> f64 {
    (cost * 1e9).round() / 1e9
}

/// Names or services, each kept once, numbered in order of first use.
#[derive(Default)]
pub(crate) struct Interner {
    index: HashMap<String, u32, BuildHasherDefault<FastHasher>>,
    pub(crate) values: Vec<String>,
}

impl Interner {
    pub(crate) fn intern(&mut self, value: &str) -> u32 {
        if let Some(&i) = self.index.get(value) {
            return i;
        }
        let i = self.values.len() as u32;
        self.values.push(value.to_string());
        self.index.insert(value.to_string(), i);
        i
    }
}

/// A fast hash for keys no outsider chooses to collide (a trace's own ids and names, over
/// a request's lifetime): FxHash's multiply-rotate, word by word.
#[derive(Default)]
struct FastHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.add(u64::from_le_bytes(w.try_into().unwrap_or_default()));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, v: u8) {
        self.add(u64::from(v));
    }

    fn write_u32(&mut self, v: u32) {
        self.add(u64::from(v));
    }

    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }

    fn write_usize(&mut self, v: usize) {
        self.add(v as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::SkeletonBuilder;
    use crate::span::{SpanKind, SpanStatus, SpanType};
    use crate::trace::{SkeletonSpanInput, TraceSummary};

    #[test]
    fn spans_read_in_parts_make_the_skeleton_read_at_once() {
        let ids: Vec<String> = (0..40u64)
            .map(|k| format!("{:016x}", k * 977 + 5))
            .collect();
        let names = ["plan", "search", "answer", "retry"];
        let services = ["a", "b", "c"];
        let input = |k: usize| SkeletonSpanInput {
            span_id: &ids[k],
            parent_span_id: (k > 0).then(|| ids[k / 3].as_str()),
            // The second part uses names and services the first did not, and some it did.
            name: names[(k * 5 / 13) % names.len()],
            service: services[(k * 7 / 11) % services.len()],
            span_type: SpanType::Chain,
            start_ns: 1_000_000 * (k as i64 % 9),
            end_ns: 50_000_000,
            status: SpanStatus::Unset,
            tokens: k as i64,
            kind: SpanKind::Internal,
            cost: 0.0,
        };
        let mut whole = SkeletonBuilder::default();
        (0..40).for_each(|k| whole.push(input(k)));
        let (mut first, mut second) = (SkeletonBuilder::default(), SkeletonBuilder::default());
        (0..17).for_each(|k| first.push(input(k)));
        (17..40).for_each(|k| second.push(input(k)));
        first.append(second);
        let (whole, parts) = (
            whole.finish(TraceSummary::default()),
            first.finish(TraceSummary::default()),
        );
        assert_eq!(whole.services.len(), 3);
        assert_eq!(parts, whole);
    }
}
