//! The first rows of a big trace, read before the rest of it: a store walks the tree from its
//! roots (children in start order, ties by span id: the order [`SkeletonBuilder`] and the
//! tree give them), and the collector sends them as the binary skeleton's first chunk while
//! it reads the whole trace (`skeleton_wire::encode_head`, `skeleton_wire::Pieces::after_head`).
//!
//! [`SkeletonBuilder`]: crate::skeleton_build::SkeletonBuilder

use crate::skeleton_build::{skeleton_cost, span_times, Interner};
use crate::skeleton_id::SpanId;
use crate::trace::{SkeletonSpan, SkeletonSpanInput, TraceSkeleton, TraceSummary};

/// The first spans of a trace in display order, with the span count and start the summary
/// gives for the whole trace.
#[derive(Debug, Clone, PartialEq)]
pub struct SkeletonHead {
    /// The head's spans (parents among them), names and services in order of first use; no
    /// orphans (the head holds the roots' subtrees only).
    pub skeleton: TraceSkeleton,
    /// Spans in the whole trace.
    pub total: usize,
}

/// A [`SkeletonHead`] filled span by span in display order.
pub struct HeadBuilder {
    names: Interner,
    services: Interner,
    skeleton: TraceSkeleton,
    total: usize,
}

impl HeadBuilder {
    /// A head of the trace `summary` describes (its start and span count are the whole
    /// trace's).
    pub fn new(summary: TraceSummary) -> HeadBuilder {
        HeadBuilder {
            names: Interner::default(),
            services: Interner::default(),
            total: usize::try_from(summary.span_count).unwrap_or(0),
            skeleton: TraceSkeleton {
                start_ns: summary.start_ns,
                summary,
                ..TraceSkeleton::default()
            },
        }
    }

    /// Spans pushed so far.
    pub fn len(&self) -> usize {
        self.skeleton.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.skeleton.spans.is_empty()
    }

    /// The next span in display order, under the span pushed as `parent` (none for a root);
    /// returns its index.
    pub fn push(&mut self, s: SkeletonSpanInput<'_>, parent: Option<u32>) -> u32 {
        let (start_us, duration_us) = span_times(s.start_ns, s.end_ns, self.skeleton.start_ns);
        let index = self.skeleton.spans.len() as u32;
        self.skeleton.spans.push(SkeletonSpan(
            SpanId::new(s.span_id),
            parent.map_or(-1, |p| p as i32),
            self.names.intern(s.name),
            self.services.intern(s.service),
            s.span_type.code(),
            start_us,
            duration_us,
            s.status.code(),
            s.tokens,
            s.kind.code(),
            skeleton_cost(s.cost),
        ));
        index
    }

    pub fn finish(mut self) -> SkeletonHead {
        self.skeleton.names = self.names.values;
        self.skeleton.services = self.services.values;
        SkeletonHead {
            skeleton: self.skeleton,
            total: self.total,
        }
    }
}
