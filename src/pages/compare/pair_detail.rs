//! The selected row's two spans in full: their inputs and outputs side by side, line by line,
//! what only A says and what only B says marked (`skein_model::text_diff`).

use leptos::either::EitherOf3;
use leptos::prelude::*;
use skein_model::payload::comparable_text;
use skein_model::span::Span;
use skein_model::text_diff::{diff_lines, Change};
use skein_model::trace_diff::DiffRow;

use super::Comparison;
use crate::api::{self, ApiError};
use crate::components::error_banner::ErrorBanner;
use crate::components::remote::{Loader, Remote};

/// The two spans of a row (either may be absent: only in the other trace).
type Pair = (Option<Span>, Option<Span>);

async fn fetch(
    project: String,
    a: Option<(String, String)>,
    b: Option<(String, String)>,
) -> Result<Pair, ApiError> {
    let one = |side: Option<(String, String)>| {
        let project = project.clone();
        async move {
            match side {
                Some((trace, span)) => api::span(&project, &trace, &span).await.map(Some),
                None => Ok(None),
            }
        }
    };
    Ok((one(a).await?, one(b).await?))
}

#[component]
pub fn PairDetail(comparison: Comparison, row: DiffRow, project: String) -> impl IntoView {
    let ids = |side: &super::Compared, pos: Option<usize>| {
        side.span_at(pos).map(|s| {
            (
                side.skeleton.summary.trace_id.clone(),
                s.span_id().to_string(),
            )
        })
    };
    let (a, b) = (ids(&comparison.a, row.a), ids(&comparison.b, row.b));
    let loader = Loader::<Pair>::new();
    loader.load(false, move || fetch(project.clone(), a.clone(), b.clone()));
    view! {
        <section class="pair-detail" data-testid="pair-detail" aria-label="The selected spans">
            {move || match loader.state.get() {
                Remote::Loading => EitherOf3::A(view! { <p class="muted">"Loading the two spans…"</p> }),
                Remote::Failed(e) => EitherOf3::B(view! {
                    <ErrorBanner title=e.title() detail=e.detail() retrying=e.is_transient()/>
                }),
                Remote::Ready((a, b)) => EitherOf3::C(view! {
                    <PayloadDiff title="Input" a=a.as_ref().and_then(|s| s.input.clone()) b=b.as_ref().and_then(|s| s.input.clone())/>
                    <PayloadDiff title="Output" a=a.as_ref().and_then(|s| s.output.clone()) b=b.as_ref().and_then(|s| s.output.clone())/>
                }),
            }}
        </section>
    }
}

/// One payload of both spans, aligned line by line.
#[component]
fn PayloadDiff(title: &'static str, a: Option<String>, b: Option<String>) -> impl IntoView {
    let (a, b) = (
        a.as_deref().map(comparable_text).unwrap_or_default(),
        b.as_deref().map(comparable_text).unwrap_or_default(),
    );
    let same = a == b;
    let lines: Vec<(String, String, &'static str)> = diff_lines(&a, &b)
        .into_iter()
        .map(|l| match l.change {
            Change::Same => (l.text.to_string(), l.text.to_string(), "same"),
            Change::Removed => (l.text.to_string(), String::new(), "removed"),
            Change::Added => (String::new(), l.text.to_string(), "added"),
        })
        .collect();
    let empty = lines.is_empty();
    view! {
        <div class="payload-diff" data-testid=format!("diff-{}", title.to_ascii_lowercase())>
            <h3>{title} {same.then(|| view! { <span class="muted">" · the same"</span> })}</h3>
            {if empty {
                view! { <p class="muted empty-note">"Not recorded in either."</p> }.into_any()
            } else {
                view! {
                    <div class="diff-grid" role="table">
                        <div class="diff-line diff-head" role="row"><span>"A"</span><span>"B"</span></div>
                        {lines.into_iter().map(|(left, right, class)| view! {
                            <div class=format!("diff-line {class}") role="row">
                                <span class="diff-a">{left}</span>
                                <span class="diff-b">{right}</span>
                            </div>
                        }).collect_view()}
                    </div>
                }.into_any()
            }}
        </div>
    }
}
