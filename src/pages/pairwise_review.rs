//! `/pairwise/{id}`: blind pairwise review. The reviewer (named once, kept in the browser, as
//! on an ordinary queue's review page) is given one pair at a time under a lease: two runs side
//! by side (the root's input and output, and the tool calls by name), their cohorts hidden and
//! their sides shuffled by the collector. Keyboard: ← the left is better, → the right, ↓ a tie,
//! `s` skips.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_params_map};
use skein_model::pairwise_queue::{BlindPair, ClaimedPair, Judge, PairwiseQueue, Pick};
use skein_model::queue::Claim;
use skein_model::span::{Span, SpanType};
use wasm_bindgen::JsCast;

use super::queue_review::{remember_reviewer, use_reviewer};
use super::queues::progress_bar;
use super::trace::detail::io::PayloadView;
use crate::api::{self, ApiError};
use crate::components::error_banner::ErrorBanner;
use crate::links;

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
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let location = use_location();
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let (reviewer, keyed) = use_reviewer(project);
    let queue = RwSignal::new(None::<Result<PairwiseQueue, ApiError>>);
    let current = RwSignal::new(None::<Current>);
    let finished = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let show = move |claimed: ClaimedPair| {
        queue.update(|q| {
            if let Some(Ok(q)) = q {
                q.counts = claimed.counts;
            }
        });
        let Some(pair) = claimed.pair else {
            current.set(None);
            finished.set(true);
            return;
        };
        finished.set(false);
        current.set(Some(Current {
            pair: pair.clone(),
            left: None,
            right: None,
        }));
        for left in [true, false] {
            let project = project.get_untracked();
            let (pair_id, trace) = (
                pair.id.clone(),
                if left {
                    pair.left.clone()
                } else {
                    pair.right.clone()
                },
            );
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
    };
    let claim_next = move || {
        let Some(name) = reviewer.get_untracked() else {
            return;
        };
        let (project, id) = (project.get_untracked(), id.get_untracked());
        busy.set(true);
        spawn_local(async move {
            let claim = Claim {
                reviewer: name,
                lease_secs: None,
            };
            let result = api::claim_pair(&project, &id, &claim).await;
            busy.try_set(false);
            match result {
                Ok(claimed) => show(claimed),
                Err(e) => {
                    error.try_set(Some(format!("Couldn't get the next pair: {}", e.detail())));
                }
            }
        });
    };
    Effect::new(move |_| {
        let (project, id) = (project.get(), id.get());
        spawn_local(async move {
            queue.try_set(Some(api::pairwise_queue(&project, &id).await));
        });
    });
    Effect::new(move |_| {
        if reviewer.get().is_some() && !id.get().is_empty() {
            claim_next();
        }
    });

    // A pick (`Some`) or a skip (`None`) of the pair under review, then the next pair.
    let answer = move |pick: Option<Pick>| {
        if busy.get_untracked() {
            return;
        }
        let (Some(c), Some(name)) = (current.get_untracked(), reviewer.get_untracked()) else {
            return;
        };
        error.set(None);
        busy.set(true);
        let (project, id) = (project.get_untracked(), id.get_untracked());
        spawn_local(async move {
            let result = match pick {
                Some(pick) => {
                    let judge = Judge {
                        reviewer: name,
                        pick,
                    };
                    api::judge_pair(&project, &id, &c.pair.id, &judge).await
                }
                None => {
                    let claim = Claim {
                        reviewer: name,
                        lease_secs: None,
                    };
                    api::skip_pair(&project, &id, &c.pair.id, &claim).await
                }
            };
            busy.try_set(false);
            match result {
                Ok(_) => claim_next(),
                Err(e) => {
                    error.try_set(Some(format!("Couldn't save: {}", e.detail())));
                }
            }
        });
    };

    let on_key = move |ev: web_sys::KeyboardEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.default_prevented() {
            return;
        }
        let tag = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .map(|el| el.tag_name().to_ascii_uppercase())
            .unwrap_or_default();
        if matches!(tag.as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            || current.with_untracked(Option::is_none)
        {
            return;
        }
        let choice = match ev.key().as_str() {
            "ArrowLeft" => Some(Some(Pick::Left)),
            "ArrowRight" => Some(Some(Pick::Right)),
            "ArrowDown" => Some(Some(Pick::Tie)),
            "s" | "S" => Some(None),
            _ => None,
        };
        if let Some(choice) = choice {
            ev.prevent_default();
            answer(choice);
        }
    };
    let listener = window_event_listener(leptos::ev::keydown, on_key);
    on_cleanup(move || listener.remove());

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

    let name_input = NodeRef::<html::Input>::new();
    let set_name = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = name_input
            .get_untracked()
            .map(|i| i.value().trim().to_string())
            .unwrap_or_default();
        if !name.is_empty() {
            remember_reviewer(&name);
            reviewer.set(Some(name));
        }
    };

    view! {
        <div class="page review-page pairwise-page">
            {move || match queue.get() {
                None => view! { <p class="muted">"Loading the queue…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner title=e.title() detail=e.detail()/> }.into_any(),
                Some(Ok(q)) => view! {
                    <div class="page-head">
                        <h1>{q.name.clone()}</h1>
                        <span class="result-count">"Blind pairwise review: which answer is better?"</span>
                        <a class="muted" href=links::queues(&project.get_untracked())>"All queues"</a>
                    </div>
                    {progress_bar(q.counts)}
                }
                .into_any(),
            }}
            {move || match reviewer.get() {
                None if keyed.get() => ().into_any(),
                None => view! {
                    <form class="panel review-name" data-testid="reviewer-form" on:submit=set_name>
                        <label class="fb-field">
                            <span class="fb-label">"Your name, as your judgements will show it"</span>
                            <input class="input" name="reviewer-name" node_ref=name_input autofocus=true/>
                        </label>
                        <button type="submit" class="button primary">"Start reviewing"</button>
                    </form>
                }
                .into_any(),
                Some(name) => view! {
                    <p class="muted review-who">{format!("Reviewing as {name}")}</p>
                }
                .into_any(),
            }}
            {move || finished.get().then(|| view! {
                <p class="review-done" data-testid="review-done">"Nothing left to review in this queue."</p>
            })}
            {move || error.get().map(|message| view! {
                <div class="fb-error" role="alert" data-testid="review-error"><span>{message}</span></div>
            })}
            {pair_view}
        </div>
    }
}
