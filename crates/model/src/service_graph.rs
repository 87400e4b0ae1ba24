//! The service dependency graph (`GET /api/v1/services/graph`) and its drawing: a simple,
//! deterministic layered layout (left to right, callers before callees), pure so that it is
//! unit-tested here and runs unchanged in the browser.
//!
//! An edge is a call from one service into another: a span whose parent span belongs to
//! another service. A node's figures are those of its entry spans (spans with no parent, or a
//! parent in another service): the requests the service served.

use serde::{Deserialize, Serialize};

use crate::format::fixed;
use crate::query::{
    encode, parse_query_string, read_tag_or_time, tag_and_time_pairs, QueryError, TagFilter,
};

/// The widest time range the graph is computed over (the computation reads every span of the
/// traces in the range).
pub const MAX_RANGE_MS: i64 = 31 * 24 * 3_600_000;
/// The range when none is given: the last day.
pub const DEFAULT_RANGE_MS: i64 = 24 * 3_600_000;

/// What the graph is computed over: traces that started in [from, to) and carry every tag.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceGraphQuery {
    pub tags: Vec<TagFilter>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl ServiceGraphQuery {
    pub fn from_query_string(query: &str) -> Result<ServiceGraphQuery, QueryError> {
        let mut q = ServiceGraphQuery::default();
        for (key, value) in parse_query_string(query) {
            if !value.is_empty() {
                read_tag_or_time(&key, &value, &mut q.tags, &mut q.from_ms, &mut q.to_ms)?;
            }
        }
        Ok(q)
    }

    pub fn to_query_string(&self) -> String {
        encode(&tag_and_time_pairs(&self.tags, self.from_ms, self.to_ms))
    }

    /// The range to compute: `to` defaults to now, `from` to a day before `to`; a range
    /// wider than [`MAX_RANGE_MS`] or ending before it starts is refused.
    pub fn resolve(&self, now_ms: i64) -> Result<(i64, i64), QueryError> {
        let to = self.to_ms.unwrap_or(now_ms);
        let from = self.from_ms.unwrap_or(to.saturating_sub(DEFAULT_RANGE_MS));
        if from >= to {
            return Err(QueryError::new(format!(
                "from ({from}) must be before to ({to})"
            )));
        }
        if to.saturating_sub(from) > MAX_RANGE_MS {
            return Err(QueryError::new(format!(
                "the time range is limited to {} days; narrow from/to",
                MAX_RANGE_MS / 86_400_000
            )));
        }
        Ok((from, to))
    }
}

/// Figures of a set of calls: how many, how many failed, latency percentiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CallStats {
    pub calls: u64,
    pub errors: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ns: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ns: Option<i64>,
}

impl CallStats {
    /// Failed calls as a share of all (0 when there were none).
    pub fn error_rate(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            self.errors as f64 / self.calls as f64
        }
    }

    /// From the calls' durations (any order) and error count, with exact percentiles.
    pub fn from_durations(mut durations: Vec<i64>, errors: u64) -> CallStats {
        // The collector's only (not in the wasm): std's sort, the fastest on many values.
        durations.sort_unstable();
        CallStats {
            calls: durations.len() as u64,
            errors,
            p50_ns: percentile(&durations, 0.50),
            p95_ns: percentile(&durations, 0.95),
        }
    }
}

/// Linear-interpolated percentile of sorted values (numpy's default), rounded.
fn percentile(sorted: &[i64], q: f64) -> Option<i64> {
    let values: Vec<f64> = sorted.iter().map(|&v| v as f64).collect();
    crate::stats::quantile_sorted(&values, q).map(|v| v.round() as i64)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ServiceNode {
    pub name: String,
    /// The service's entry spans: requests it served (from another service or as a root).
    #[serde(flatten)]
    pub stats: CallStats,
    /// Of those, the traces' root spans (requests from outside any traced service).
    pub root_calls: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ServiceEdge {
    pub caller: String,
    pub callee: String,
    /// Calls, failed calls and latency of the callee's entry spans.
    #[serde(flatten)]
    pub stats: CallStats,
}

/// `GET /api/v1/services/graph`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ServiceGraph {
    pub from_ms: i64,
    pub to_ms: i64,
    /// Sorted by name.
    pub nodes: Vec<ServiceNode>,
    /// Sorted by caller, then callee.
    pub edges: Vec<ServiceEdge>,
    /// Traces in the range and filters.
    pub trace_count: u64,
    /// Spans read to build the graph.
    pub span_count: u64,
}

// ---------------------------------------------------------------------------------------------
// Layout

/// Sizes of the drawing, in SVG user units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayoutOptions {
    pub node_width: f64,
    pub node_height: f64,
    /// Horizontal space between layers (edge labels sit there).
    pub layer_gap: f64,
    /// Vertical space between nodes of one layer.
    pub node_gap: f64,
    pub margin: f64,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        LayoutOptions {
            node_width: 184.0,
            node_height: 58.0,
            layer_gap: 150.0,
            node_gap: 34.0,
            margin: 24.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeBox {
    /// Column, from 0 (services nothing calls) rightwards.
    pub layer: usize,
    /// Position in its column, from the top.
    pub order: usize,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// An edge drawn as one cubic Bézier curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgeCurve {
    /// Start, two control points, end.
    pub points: [(f64, f64); 4],
    /// The edge goes against the layout's direction (part of a cycle): drawn below the nodes.
    pub back: bool,
    /// Where a label goes: the curve's midpoint.
    pub label: (f64, f64),
}

impl EdgeCurve {
    /// The SVG path data (`M x y C x y, x y, x y`), numbers only.
    pub fn path(&self) -> String {
        let [a, b, c, d] = self.points;
        format!(
            "M {} {} C {} {}, {} {}, {} {}",
            fixed(a.0, 1),
            fixed(a.1, 1),
            fixed(b.0, 1),
            fixed(b.1, 1),
            fixed(c.0, 1),
            fixed(c.1, 1),
            fixed(d.0, 1),
            fixed(d.1, 1)
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GraphLayout {
    pub width: f64,
    pub height: f64,
    /// One per node, in the input's order.
    pub nodes: Vec<NodeBox>,
    /// One per edge, in the input's order (`None` for an edge from a node to itself or to a
    /// node out of range).
    pub edges: Vec<Option<EdgeCurve>>,
}

/// Lays out `node_count` nodes and directed `edges` (by index) in layers, left to right:
///
/// 1. cycles are broken by a depth-first search from the nodes nothing calls (in index
///    order), reversing the edges that lead back onto the search path;
/// 2. each node's layer is its longest path from a source;
/// 3. within a layer, nodes are ordered by the barycentre of their neighbours in the layers
///    before (then after), a few sweeps, ties kept in their previous order;
/// 4. layers are centred vertically; edges are curves from a node's right side to the
///    next's left side (back edges loop below).
///
/// The same input always gives the same layout; pass nodes sorted by name for a layout that
/// does not depend on the order data arrived in.
pub fn layout(node_count: usize, edges: &[(usize, usize)], options: &LayoutOptions) -> GraphLayout {
    let n = node_count;
    let valid = |&(a, b): &(usize, usize)| a < n && b < n && a != b;
    let mut out_edges = vec![Vec::new(); n];
    let mut has_incoming = vec![false; n];
    for e in edges.iter().filter(|e| valid(e)) {
        if !out_edges[e.0].contains(&e.1) {
            out_edges[e.0].push(e.1);
        }
        has_incoming[e.1] = true;
    }
    for list in &mut out_edges {
        crate::sort::sort(list);
    }

    // 1. Depth-first search: back edges and a visiting order.
    let mut state = vec![0u8; n]; // 0 new, 1 on the path, 2 done
    let mut back = std::collections::HashSet::new();
    let mut visit_order = Vec::with_capacity(n);
    let starts: Vec<usize> = (0..n)
        .filter(|&v| !has_incoming[v])
        .chain((0..n).filter(|&v| has_incoming[v]))
        .collect();
    for start in starts {
        if state[start] != 0 {
            continue;
        }
        // Iterative DFS: (node, next child index).
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        visit_order.push(start);
        while let Some(top) = stack.last_mut() {
            let v = top.0;
            let next = out_edges[v].get(top.1).copied();
            top.1 += 1;
            if let Some(w) = next {
                match state[w] {
                    0 => {
                        state[w] = 1;
                        visit_order.push(w);
                        stack.push((w, 0));
                    }
                    1 => {
                        back.insert((v, w));
                    }
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }

    // The acyclic graph: forward edges as they are, back edges reversed.
    let mut dag_out = vec![Vec::new(); n];
    let mut dag_in = vec![Vec::new(); n];
    for (v, list) in out_edges.iter().enumerate() {
        for &w in list {
            let (a, b) = if back.contains(&(v, w)) {
                (w, v)
            } else {
                (v, w)
            };
            if !dag_out[a].contains(&b) {
                dag_out[a].push(b);
                dag_in[b].push(a);
            }
        }
    }

    // 2. Longest-path layers, in topological order (Kahn, smallest index first).
    let mut layer = vec![0usize; n];
    let mut indegree: Vec<usize> = dag_in.iter().map(Vec::len).collect();
    // Filled by `extend`, not `collect`: `BTreeSet::from_iter` sorts its input with std's sort
    // (a copy of it in the wasm; see `crate::sort`).
    let mut ready = std::collections::BTreeSet::new();
    ready.extend((0..n).filter(|&v| indegree[v] == 0));
    while let Some(v) = ready.pop_first() {
        for &w in &dag_out[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            indegree[w] -= 1;
            if indegree[w] == 0 {
                ready.insert(w);
            }
        }
    }
    let layer_count = layer.iter().max().map_or(0, |m| m + 1);

    // 3. Order within layers: start from the search's visiting order, then barycentre sweeps.
    let mut rank_in_visit = vec![0usize; n];
    for (i, &v) in visit_order.iter().enumerate() {
        rank_in_visit[v] = i;
    }
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); layer_count];
    for v in 0..n {
        layers[layer[v]].push(v);
    }
    for l in &mut layers {
        crate::sort::sort_by_key(l, |&v| rank_in_visit[v]);
    }
    let mut position = vec![0f64; n];
    let place = |layers: &Vec<Vec<usize>>, position: &mut Vec<f64>| {
        for l in layers {
            for (i, &v) in l.iter().enumerate() {
                position[v] = i as f64 - (l.len() as f64 - 1.0) / 2.0;
            }
        }
    };
    place(&layers, &mut position);
    for sweep in 0..8 {
        let downward = sweep % 2 == 0;
        let order: Vec<usize> = if downward {
            (1..layer_count).collect()
        } else {
            (0..layer_count.saturating_sub(1)).rev().collect()
        };
        for li in order {
            let neighbours = |v: usize| -> Vec<usize> {
                if downward {
                    dag_in[v].clone()
                } else {
                    dag_out[v].clone()
                }
            };
            let mut keyed: Vec<(f64, usize, usize)> = layers[li]
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let ns = neighbours(v);
                    let key = if ns.is_empty() {
                        position[v]
                    } else {
                        ns.iter().map(|&u| position[u]).sum::<f64>() / ns.len() as f64
                    };
                    (key, i, v)
                })
                .collect();
            crate::sort::sort_by(&mut keyed, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            layers[li] = keyed.into_iter().map(|(_, _, v)| v).collect();
            for (i, &v) in layers[li].iter().enumerate() {
                position[v] = i as f64 - (layers[li].len() as f64 - 1.0) / 2.0;
            }
        }
    }

    // 4. Coordinates.
    let o = options;
    let tallest = layers.iter().map(Vec::len).max().unwrap_or(0);
    let column_height =
        |count: usize| count as f64 * o.node_height + count.saturating_sub(1) as f64 * o.node_gap;
    let has_back = !back.is_empty();
    let back_room = if has_back { o.node_gap * 2.0 } else { 0.0 };
    let mut nodes = vec![
        NodeBox {
            layer: 0,
            order: 0,
            x: 0.0,
            y: 0.0,
            width: o.node_width,
            height: o.node_height,
        };
        n
    ];
    for (li, l) in layers.iter().enumerate() {
        let top = o.margin + (column_height(tallest) - column_height(l.len())) / 2.0;
        for (i, &v) in l.iter().enumerate() {
            nodes[v] = NodeBox {
                layer: li,
                order: i,
                x: o.margin + li as f64 * (o.node_width + o.layer_gap),
                y: top + i as f64 * (o.node_height + o.node_gap),
                width: o.node_width,
                height: o.node_height,
            };
        }
    }
    let width = if n == 0 {
        0.0
    } else {
        2.0 * o.margin
            + layer_count as f64 * o.node_width
            + layer_count.saturating_sub(1) as f64 * o.layer_gap
    };
    let height = if n == 0 {
        0.0
    } else {
        2.0 * o.margin + column_height(tallest) + back_room
    };
    let bottom = o.margin + column_height(tallest);

    let curves = edges
        .iter()
        .map(|e| {
            if !valid(e) {
                return None;
            }
            let (a, b) = (&nodes[e.0], &nodes[e.1]);
            let forward = b.layer > a.layer;
            let points = if forward {
                let start = (a.x + a.width, a.y + a.height / 2.0);
                let end = (b.x, b.y + b.height / 2.0);
                let dx = (end.0 - start.0) / 2.0;
                [start, (start.0 + dx, start.1), (end.0 - dx, end.1), end]
            } else {
                // Below the tallest column, from the caller's bottom to the callee's bottom.
                let start = (a.x + a.width / 2.0, a.y + a.height);
                let end = (b.x + b.width / 2.0, b.y + b.height);
                let low = bottom + back_room * 0.8;
                [start, (start.0, low), (end.0, low), end]
            };
            let [p0, p1, p2, p3] = points;
            let label = (
                (p0.0 + 3.0 * p1.0 + 3.0 * p2.0 + p3.0) / 8.0,
                (p0.1 + 3.0 * p1.1 + 3.0 * p2.1 + p3.1) / 8.0,
            );
            Some(EdgeCurve {
                points,
                back: !forward,
                label,
            })
        })
        .collect();

    GraphLayout {
        width,
        height,
        nodes,
        edges: curves,
    }
}

#[cfg(test)]
#[path = "service_graph_tests.rs"]
mod tests;
