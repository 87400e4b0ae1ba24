//! Feedback at a glance: a span's badge in the tree, a trace's summary in the list.

use leptos::prelude::*;
use skein_model::trace::FeedbackStat;

use super::icons::{NoteIcon, ThumbDownIcon, ThumbUpIcon};
use super::score::score_text;
use super::store::TraceFeedback;
use crate::text;

/// A span's feedback as one small badge (for tree rows): thumbs when every score is 0 or 1,
/// else a note glyph; the number of records; the details in the tooltip. Nothing without
/// feedback. Reads the `TraceFeedback` context.
#[component]
pub fn FeedbackBadge(#[prop(into)] span_id: String) -> impl IntoView {
    let store = TraceFeedback::from_context();
    move || {
        let items = store.map(|s| s.for_span(&span_id)).unwrap_or_default();
        if items.is_empty() {
            return None;
        }
        let scores: Vec<f64> = items.iter().filter_map(|i| i.record.score).collect();
        let thumbs = !scores.is_empty() && scores.iter().all(|s| *s == 0.0 || *s == 1.0);
        let ups = scores.iter().filter(|s| **s == 1.0).count();
        let pending = items.iter().any(|i| i.pending);
        let title = items
            .iter()
            .map(|i| {
                let mut line = format!("{}: {}", i.record.key, score_text(i.record.score));
                if let Some(c) = &i.record.comment {
                    line.push_str(&format!(" — {}", text_shorten(c, 60)));
                }
                if i.pending {
                    line.push_str(" (saving…)");
                }
                line
            })
            .collect::<Vec<_>>()
            .join("\n");
        let glyph = if thumbs {
            if ups * 2 >= scores.len() {
                view! { <ThumbUpIcon/> }.into_any()
            } else {
                view! { <ThumbDownIcon/> }.into_any()
            }
        } else {
            view! { <NoteIcon/> }.into_any()
        };
        let count = items.len();
        Some(view! {
            <span class="fb-badge" class:pending=pending data-testid="feedback-badge"
                title=title aria-label=format!("{count} feedback")>
                {glyph}
                {(count > 1).then(|| view! { <span class="fb-badge-count">{count}</span> })}
            </span>
        })
    }
}

/// A trace's feedback in the trace list: the first key's mean score (or count), its key whole
/// where the column allows (never cut to nothing), and "+N"; the full summary in the tooltip.
#[component]
pub fn FeedbackSummary(stats: Vec<FeedbackStat>) -> impl IntoView {
    if stats.is_empty() {
        return view! { <span class="muted">"—"</span> }.into_any();
    }
    let title = stats
        .iter()
        .map(|s| {
            let records = text::plural(s.count, "record", "records");
            match s.mean {
                Some(m) => format!("{}: mean {} over {records}", s.key, score_text(Some(m))),
                None => format!("{}: {records}, no scores", s.key),
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (shown, rest) = text::shown_and_rest(&stats, 1);
    view! {
        <div class="fb-summary" title=title data-testid="feedback-summary">
            {shown
                .into_iter()
                .map(|s| {
                    let value = match s.mean {
                        Some(m) => score_text(Some(m)),
                        None => format!("×{}", s.count),
                    };
                    view! {
                        <span class="fb-stat">
                            <span class="fb-stat-key" title=s.key.clone()>{s.key.clone()}</span>
                            <span class="fb-stat-value">{value}</span>
                        </span>
                    }
                })
                .collect_view()}
            {(rest > 0).then(|| view! { <span class="more-chip">{format!("+{rest}")}</span> })}
        </div>
    }
    .into_any()
}

pub fn text_shorten(text: &str, max: usize) -> String {
    crate::svg::shorten(text, max)
}
