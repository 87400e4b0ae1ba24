//! `/pairwise/{id}`: blind pairwise review. The reviewer (named once, kept in the browser, as
//! on an ordinary queue's review page) is given one pair at a time under a lease: two runs side
//! by side (the root's input and output, and the tool calls by name), their cohorts hidden and
//! their sides shuffled by the collector. Keyboard: ← the left is better, → the right, ↓ a tie,
//! `s` skips.

use leptos::prelude::*;
use leptos::task::spawn_local;
use skein_model::pairwise_queue::{BlindPair, Judge, Pick};
use skein_model::queue::Claim;
use skein_model::span::{Span, SpanType};

use super::review::{on_review_keys, use_review, Pairs};
use super::trace::detail::io::PayloadView;
use crate::api::{self, ApiError};
use crate::components::error_banner::ErrorBanner;

/// One side of a pair as shown: the root span, and the tool calls' names in order.
#[derive(Clone)]
struct Run {
    root: Span,
    tools: Vec<String>,
}

async fn load_run(project: &str, trace_id: &str) -> Result<Run, ApiError> {
    let skeleton = api::trace(project, trace_id).await?;
    let root = skeleton
        .summary
        .root_span_id
        .clone()
        .ok_or_else(|| api::unreachable("the trace has no root span yet"))?;
    let tools = skeleton
        .spans
        .iter()
        .filter(|s| s.span_type() == SpanType::Tool)
        .map(|s| skeleton.name_of(s).to_string())
        .collect();
    let root = api::span(project, trace_id, &root).await?;
    Ok(Run { root, tools })
}

/// The pair under review and its two runs once loaded.
#[derive(Clone)]
struct Current {
    pair: BlindPair,
    left: Option<Result<Run, ApiError>>,
    right: Option<Result<Run, ApiError>>,
}

fn side_view(
    label: &'static str,
    key: &'static str,
    run: Option<Result<Run, ApiError>>,
) -> AnyView {
    let body = match run {
        None => view! { <p class="muted">"Loading the run…"</p> }.into_any(),
        Some(Err(e)) => view! { <ErrorBanner title=e.title() detail=e.detail()/> }.into_any(),
        Some(Ok(run)) => {
            let tools = (!run.tools.is_empty()).then(|| {
                let names = run
                    .tools
                    .iter()
                    .map(|t| view! { <li class="pw-tool">{t.clone()}</li> })
                    .collect_view();
                view! {
                    <h4>{format!("Tool calls ({})", run.tools.len())}</h4>
                    <ol class="pw-tools">{names}</ol>
                }
            });
            view! {
                <section class="review-io">
                    <h4>"Input"</h4>
                    <PayloadView text=run.root.input.clone()/>
                    <h4>"Output"</h4>
                    <PayloadView text=run.root.output.clone()/>
                    {tools}
                </section>
            }
            .into_any()
        }
    };
    view! {
        <article class="panel review-item pw-side" data-testid=format!("pw-{key}")>
            <div class="pw-side-head"><span class="pw-side-label">{label}</span></div>
            {body}
        </article>
    }
    .into_any()
}

#[component]
pub fn PairwiseReviewPage() -> impl IntoView {
    let current = RwSignal::new(None::<Current>);
    let review = use_review::<Pairs>(move |project, pair| {
        let Some(pair) = pair else {
            current.set(None);
            return;
        };
        current.set(Some(Current {
            pair: pair.clone(),
            left: None,
            right: None,
        }));
        for left in [true, false] {
            let project = project.to_string();
            let trace = if left {
                pair.left.clone()
            } else {
                pair.right.clone()
            };
            let pair_id = pair.id.clone();
            spawn_local(async move {
                let run = load_run(&project, &trace).await;
                current.try_update(|c| {
                    if let Some(c) = c.as_mut().filter(|c| c.pair.id == pair_id) {
                        if left {
                            c.left = Some(run);
                        } else {
                            c.right = Some(run);
                        }
                    }
                });
            });
        }
    });

    // A pick (`Some`) or a skip (`None`) of the pair under review, then the next pair.
    let answer = move |pick: Option<Pick>| {
        let Some(pair_id) = current.with_untracked(|c| c.as_ref().map(|c| c.pair.id.clone()))
        else {
            return;
        };
        review.answer(
            "Couldn't save",
            move |project, id, reviewer| async move {
                match pick {
                    Some(pick) => {
                        let judge = Judge { reviewer, pick };
                        api::judge_pair(&project, &id, &pair_id, &judge).await
                    }
                    None => {
                        let claim = Claim {
                            reviewer,
                            lease_secs: None,
                        };
                        api::skip_pair(&project, &id, &pair_id, &claim).await
                    }
                }
            },
            || {},
        );
    };

    on_review_keys(move |key| {
        if current.with_untracked(Option::is_none) {
            return false;
        }
        let choice = match key {
            "ArrowLeft" => Some(Pick::Left),
            "ArrowRight" => Some(Pick::Right),
            "ArrowDown" => Some(Pick::Tie),
            "s" | "S" => None,
            _ => return false,
        };
        answer(choice);
        true
    });

    let busy = review.busy;
    let pair_view = move || {
        let c = current.get()?;
        Some(view! {
            <div class="pw-pair" data-testid="pw-pair" data-pair-id=c.pair.id.clone()
                data-left=c.pair.left.clone() data-right=c.pair.right.clone()>
                {side_view("Left", "left", c.left)}
                {side_view("Right", "right", c.right)}
            </div>
            <div class="pw-actions" data-testid="pw-actions">
                <button type="button" class="button" name="pick-left"
                    disabled=move || busy.get() on:click=move |_| answer(Some(Pick::Left))>
                    <kbd>"←"</kbd>" Left is better"</button>
                <button type="button" class="button" name="pick-tie"
                    disabled=move || busy.get() on:click=move |_| answer(Some(Pick::Tie))>
                    <kbd>"↓"</kbd>" Tie"</button>
                <button type="button" class="button" name="pick-right"
                    disabled=move || busy.get() on:click=move |_| answer(Some(Pick::Right))>
                    "Right is better "<kbd>"→"</kbd></button>
                <button type="button" class="button pw-skip" name="pick-skip"
                    disabled=move || busy.get() on:click=move |_| answer(None)>
                    "Skip "<kbd>"S"</kbd></button>
            </div>
        })
    };

    view! {
        <div class="page review-page pairwise-page">
            {review.head(Some("Blind pairwise review: which answer is better?"))}
            {review.reviewer_form("Your name, as your judgements will show it")}
            {move || review.finished.get().then(|| view! {
                <p class="review-done" data-testid="review-done">"Nothing left to review in this queue."</p>
            })}
            {review.error_note()}
            {pair_view}
        </div>
    }
}
