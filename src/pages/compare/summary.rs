//! The two traces' figures side by side, and B's difference from A.

use leptos::prelude::*;
use skein_model::format;
use skein_model::trace::TraceSummary;

use super::Comparison;
use crate::components::status_badge::StatusBadge;
use crate::links;
use crate::time::{full_time, local_time, now_ms};

/// `+12.0%` (B over A), or nothing when A is zero.
pub fn percent_change(a: f64, b: f64) -> Option<String> {
    (a != 0.0).then(|| {
        let change = (b - a) / a * 100.0;
        let sign = if change > 0.0 { "+" } else { "" };
        format!("{sign}{}%", format::fixed(change, 1))
    })
}

/// The class of a difference where more is worse (time, tokens, cost, errors).
pub fn change_class(a: f64, b: f64) -> &'static str {
    if b > a {
        "delta worse"
    } else if b < a {
        "delta better"
    } else {
        "delta same"
    }
}

#[component]
pub fn CompareSummary(comparison: Comparison, project: String) -> impl IntoView {
    let a = comparison.a.skeleton.summary.clone();
    let b = comparison.b.skeleton.summary.clone();
    let (only_a, only_b) = comparison.rows.iter().fold((0, 0), |(x, y), r| {
        (
            x + usize::from(r.b.is_none()),
            y + usize::from(r.a.is_none()),
        )
    });
    let da = a.duration_ns() as f64;
    let db = b.duration_ns() as f64;
    let (ta, tb) = (a.total_tokens() as f64, b.total_tokens() as f64);
    let deltas = vec![
        (
            "Duration",
            format::signed_duration_ns(b.duration_ns() - a.duration_ns()),
            percent_change(da, db),
            change_class(da, db),
        ),
        (
            "Tokens",
            signed(b.total_tokens() - a.total_tokens()),
            percent_change(ta, tb),
            change_class(ta, tb),
        ),
        (
            "Cost",
            signed_cost(b.cost - a.cost),
            percent_change(a.cost, b.cost),
            change_class(a.cost, b.cost),
        ),
        (
            "Errors",
            signed(b.error_count as i64 - a.error_count as i64),
            None,
            change_class(a.error_count as f64, b.error_count as f64),
        ),
    ];
    view! {
        <section class="compare-summary" aria-label="The two traces">
            <TraceCard side="A" summary=a project=project.clone()/>
            <TraceCard side="B" summary=b project=project.clone()/>
            <div class="compare-card compare-delta" data-testid="compare-delta">
                <div class="compare-card-head"><span class="side-badge">"B − A"</span></div>
                <dl>
                    {deltas.into_iter().map(|(label, value, pct, class)| view! {
                        <div><dt>{label}</dt><dd class=class>{value}
                            {pct.map(|p| view! { <span class="muted">" " {p}</span> })}</dd></div>
                    }).collect_view()}
                    <div><dt>"Spans only in A / B"</dt><dd class="num">{format!("{only_a} / {only_b}")}</dd></div>
                </dl>
            </div>
        </section>
    }
}

fn signed(n: i64) -> String {
    if n > 0 {
        format!("+{}", format::count(n))
    } else if n < 0 {
        format!("−{}", format::count(-n))
    } else {
        "0".to_string()
    }
}

fn signed_cost(c: f64) -> String {
    if c > 0.0 {
        format!("+{}", format::cost_usd(c))
    } else if c < 0.0 {
        format!("−{}", format::cost_usd(-c))
    } else {
        "$0".to_string()
    }
}

#[component]
fn TraceCard(side: &'static str, summary: TraceSummary, project: String) -> impl IntoView {
    let href = links::trace_href(&project, &summary.trace_id);
    let name = if summary.root_name.is_empty() {
        "(unnamed trace)".to_string()
    } else {
        summary.root_name.clone()
    };
    let title = name.clone();
    let tags: Vec<String> = summary
        .tags
        .iter()
        .take(4)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    view! {
        <div class="compare-card" data-testid=format!("compare-card-{}", side.to_ascii_lowercase())>
            <div class="compare-card-head">
                <span class="side-badge">{side}</span>
                <a href=href class="compare-name" title=title>{name}</a>
                <StatusBadge status=summary.status error_count=summary.error_count/>
            </div>
            <dl>
                <div><dt>"Duration"</dt><dd class="num">{format::duration_ns(summary.duration_ns())}</dd></div>
                <div><dt>"Spans"</dt><dd class="num">{format::count(summary.span_count as i64)}</dd></div>
                <div><dt>"Tokens"</dt><dd class="num">{format::count(summary.total_tokens())}</dd></div>
                <div><dt>"Cost"</dt><dd class="num">{format::cost_usd(summary.cost)}</dd></div>
                <div><dt>"Started"</dt><dd title=full_time(summary.start_ns)>{local_time(summary.start_ns, now_ms())}</dd></div>
            </dl>
            <div class="compare-tags muted" title=tags.join(", ")>{tags.join(" · ")}</div>
        </div>
    }
}
