//! The service dependency graph as SVG, built from Leptos view nodes (no markup strings):
//! service names are untrusted text and only ever become text nodes; attributes carry
//! numbers computed here (positions, the palette hue).

use std::collections::HashMap;

use leptos::prelude::*;
use skein_model::format;
use skein_model::format::fixed;
use skein_model::palette::service_hue;
use skein_model::service_graph::{layout, CallStats, LayoutOptions, ServiceGraph};

/// Longest service name drawn in a node (the full name is in its tooltip).
const MAX_NAME_CHARS: usize = 24;

fn short(name: &str, max: usize) -> String {
    if name.is_empty() {
        return "unknown".to_string();
    }
    match name.char_indices().nth(max) {
        None => name.to_string(),
        Some((at, _)) => format!("{}…", &name[..at]),
    }
}

fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    if p == 0.0 {
        "0%".to_string()
    } else if p < 0.1 {
        "<0.1%".to_string()
    } else if p < 10.0 {
        format!("{}%", fixed(p, 1))
    } else {
        format!("{}%", fixed(p, 0))
    }
}

/// `p95 1.43 s` (or nothing without calls).
pub fn p95_text(stats: &CallStats) -> String {
    stats
        .p95_ns
        .map(|p| format!("p95 {}", format::duration_ns(p)))
        .unwrap_or_default()
}

pub fn error_rate_text(stats: &CallStats) -> String {
    percent(stats.error_rate())
}

fn tooltip(title: &str, stats: &CallStats) -> String {
    let mut t = format!(
        "{title}\n{} calls, {} failed ({})",
        crate::text::thousands(stats.calls),
        crate::text::thousands(stats.errors),
        percent(stats.error_rate())
    );
    if let (Some(p50), Some(p95)) = (stats.p50_ns, stats.p95_ns) {
        t.push_str(&format!(
            "\np50 {}, p95 {}",
            format::duration_ns(p50),
            format::duration_ns(p95)
        ));
    }
    t
}

#[component]
pub fn ServiceGraphView(graph: ServiceGraph) -> impl IntoView {
    let options = LayoutOptions::default();
    let index: HashMap<&str, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i))
        .collect();
    // Edges whose ends are both nodes (always, from the API), paired with their layout index.
    let drawn: Vec<(usize, (usize, usize))> = graph
        .edges
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            Some((
                i,
                (
                    *index.get(e.caller.as_str())?,
                    *index.get(e.callee.as_str())?,
                ),
            ))
        })
        .collect();
    let pairs: Vec<(usize, usize)> = drawn.iter().map(|(_, p)| *p).collect();
    let g = layout(graph.nodes.len(), &pairs, &options);
    let max_calls = graph
        .edges
        .iter()
        .map(|e| e.stats.calls)
        .max()
        .unwrap_or(1)
        .max(1);
    let width_of =
        |calls: u64| 1.25 + 2.75 * ((1 + calls) as f64).ln() / ((1 + max_calls) as f64).ln();

    let edges = drawn
        .iter()
        .enumerate()
        .filter_map(|(k, (i, _))| {
            let curve = g.edges.get(k).copied().flatten()?;
            let e = &graph.edges[*i];
            let failing = e.stats.errors > 0;
            let title = tooltip(&format!("{} → {}", e.caller, e.callee), &e.stats);
            let stroke = fixed(width_of(e.stats.calls), 2);
            let marker = if failing {
                "url(#svc-arrow-error)"
            } else {
                "url(#svc-arrow)"
            };
            Some(view! {
                <g class="svc-edge" class:edge-error=failing class:edge-back=curve.back
                    data-caller=e.caller.clone() data-callee=e.callee.clone()>
                    <title>{title}</title>
                    <path class="edge-hit" d=curve.path()></path>
                    <path class="edge-line" d=curve.path() stroke-width=stroke marker-end=marker></path>
                </g>
            })
        })
        .collect_view();

    let labels = drawn
        .iter()
        .enumerate()
        .filter_map(|(k, (i, _))| {
            let curve = g.edges.get(k).copied().flatten()?;
            let e = &graph.edges[*i];
            let main = format!(
                "{} · {}",
                format::count(e.stats.calls as i64),
                p95_text(&e.stats)
            );
            let err = (e.stats.errors > 0).then(|| format!(" · {}", error_rate_text(&e.stats)));
            let chars = main.chars().count() + err.as_ref().map_or(0, |s| s.chars().count());
            let w = chars as f64 * 5.9 + 12.0;
            let transform = format!(
                "translate({} {})",
                fixed(curve.label.0, 1),
                fixed(curve.label.1, 1)
            );
            Some(view! {
                <g class="edge-label" transform=transform>
                    <rect x=fixed(-w / 2.0, 1) y="-9" width=fixed(w, 1) height="18" rx="4"></rect>
                    <text text-anchor="middle" y="3.5">
                        <tspan>{main}</tspan>
                        {err.map(|t| view! { <tspan class="label-error">{t}</tspan> })}
                    </text>
                </g>
            })
        })
        .collect_view();

    let nodes = graph
        .nodes
        .iter()
        .zip(g.nodes.iter())
        .map(|(n, b)| {
            let style = format!("--svc-h: {}", service_hue(&n.name));
            let transform = format!("translate({} {})", fixed(b.x, 1), fixed(b.y, 1));
            let failing = n.stats.errors > 0;
            let mut title = tooltip(&n.name, &n.stats);
            if n.root_calls > 0 {
                title.push_str(&format!(
                    "\n{} started here (trace roots)",
                    crate::text::thousands(n.root_calls)
                ));
            }
            let stats_line = format!(
                "{} req · {}",
                format::count(n.stats.calls as i64),
                p95_text(&n.stats)
            );
            let errors_line = if failing {
                format!("{} errors", error_rate_text(&n.stats))
            } else {
                "no errors".to_string()
            };
            view! {
                <g class="svc-node" class:node-error=failing style=style transform=transform
                    data-service=n.name.clone()>
                    <title>{title}</title>
                    <rect class="node-box" width=fixed(b.width, 1) height=fixed(b.height, 1) rx="8"></rect>
                    <rect class="node-stripe" x="0" y="0" width="5" height=fixed(b.height, 1) rx="2"></rect>
                    <text class="node-name" x="16" y="21">{short(&n.name, MAX_NAME_CHARS)}</text>
                    <text class="node-stats" x="16" y="37">{stats_line}</text>
                    <text class="node-errors" x="16" y="50">{errors_line}</text>
                </g>
            }
        })
        .collect_view();

    let view_box = format!(
        "0 0 {} {}",
        fixed(g.width.max(1.0), 0),
        fixed(g.height.max(1.0), 0)
    );
    let width = fixed(g.width.max(1.0), 0);
    view! {
        <svg class="service-graph" viewBox=view_box width=width role="img"
            aria-label="Service dependency graph" data-testid="service-graph">
            <defs>
                <marker id="svc-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8"
                    markerUnits="userSpaceOnUse" orient="auto-start-reverse">
                    <path class="arrow-head" d="M 0 0 L 10 5 L 0 10 z"></path>
                </marker>
                <marker id="svc-arrow-error" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8"
                    markerUnits="userSpaceOnUse" orient="auto-start-reverse">
                    <path class="arrow-head arrow-error" d="M 0 0 L 10 5 L 0 10 z"></path>
                </marker>
            </defs>
            <g class="edges">{edges}</g>
            <g class="edge-labels">{labels}</g>
            <g class="nodes">{nodes}</g>
        </svg>
    }
}
