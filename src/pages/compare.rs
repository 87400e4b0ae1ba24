//! `/compare?a={trace}&b={trace}`: two traces side by side. Their trees are aligned span by
//! span (`skein_model::trace_diff`: matched by path of names and types); each row shows both
//! durations and token counts with the difference, both bars on one time scale, and what only
//! one trace has. A selected row (`&row=`) shows the two spans' inputs and outputs with a line
//! diff.

mod pair_detail;
mod rows;
mod summary;

use std::sync::Arc;

use leptos::either::EitherOf4;
use leptos::prelude::*;
use leptos_router::hooks::use_location;
use skein_model::trace_diff::{align, DiffRow, Side};
use skein_model::tree::TraceTree;
use skein_model::TraceSkeleton;

use crate::api::{self, ApiError};
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::components::remote::{Loader, Remote};
use crate::links;

use pair_detail::PairDetail;
use rows::CompareRows;
use summary::CompareSummary;

/// One compared trace: its skeleton and tree.
#[derive(Clone)]
pub struct Compared {
    pub skeleton: Arc<TraceSkeleton>,
    pub tree: Arc<TraceTree>,
}

impl Compared {
    fn new(skeleton: TraceSkeleton) -> Compared {
        let tree = TraceTree::build(&skeleton);
        Compared {
            skeleton: Arc::new(skeleton),
            tree: Arc::new(tree),
        }
    }

    fn side(&self) -> Side<'_> {
        Side {
            skeleton: &self.skeleton,
            tree: &self.tree,
        }
    }

    /// The span index at a tree position (none for a missing parent's stand-in).
    pub fn span_at(&self, pos: Option<usize>) -> Option<&skein_model::SkeletonSpan> {
        pos.and_then(|p| self.tree.span_at(p))
            .map(|i| &self.skeleton.spans[i])
    }
}

/// The two traces and their aligned rows, built once per load.
#[derive(Clone)]
pub struct Comparison {
    pub a: Compared,
    pub b: Compared,
    pub rows: Arc<Vec<DiffRow>>,
}

async fn fetch(project: String, a: String, b: String) -> Result<Comparison, ApiError> {
    let a = Compared::new(api::trace(&project, &a).await?);
    let b = Compared::new(api::trace(&project, &b).await?);
    let rows = Arc::new(align(a.side(), b.side()));
    Ok(Comparison { a, b, rows })
}

#[component]
pub fn ComparePage() -> impl IntoView {
    let location = use_location();
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let a = Memo::new(move |_| links::param(&location.search.get(), "a").unwrap_or_default());
    let b = Memo::new(move |_| links::param(&location.search.get(), "b").unwrap_or_default());
    let row = Memo::new(move |_| {
        links::param(&location.search.get(), "row").and_then(|r| r.parse::<usize>().ok())
    });
    let loader = Loader::<Comparison>::new();
    Effect::new(move |_| {
        let (project, a, b) = (project.get(), a.get(), b.get());
        if !a.is_empty() && !b.is_empty() {
            loader.load(false, move || fetch(project.clone(), a.clone(), b.clone()));
        }
    });
    let chosen = move || !a.get().is_empty() && !b.get().is_empty();
    let other = move || {
        if !chosen() {
            return Some(EitherOf4::A(view! {
                <EmptyState title="Choose two traces to compare">
                    <p>"Open a trace and press " <b>"Compare with…"</b> ", then pick the other one in the list."</p>
                    <p>"Or link to " <code>"/compare?a=TRACE_ID&b=TRACE_ID"</code> "."</p>
                </EmptyState>
            }));
        }
        match loader.state.get() {
            Remote::Ready(_) => None,
            Remote::Loading => Some(EitherOf4::B(view! {
                <div class="compare-loading" aria-busy="true" aria-label="Loading the two traces">
                    <span class="shimmer" style="width: 420px; height: 20px"></span>
                    <span class="shimmer" style="width: 640px"></span>
                </div>
            })),
            Remote::Failed(error) if error.is_not_found() => Some(EitherOf4::C(view! {
                <EmptyState title="A trace was not found">
                    <p>{error.detail()}</p>
                    <p>"Both traces must be in project " <code>{project.get()}</code> "."</p>
                </EmptyState>
            })),
            Remote::Failed(error) => Some(EitherOf4::D(view! {
                <ErrorBanner title=error.title() detail=error.detail() retrying=error.is_transient()/>
            })),
        }
    };
    let ready = move || match loader.state.get() {
        Remote::Ready(c) => Some(c),
        _ => None,
    };
    view! {
        <div class="page compare-page">
            <div class="page-head"><h1>"Compare traces"</h1></div>
            {other}
            <For each=ready key=|c| Arc::as_ptr(&c.rows) as usize children=move |c: Comparison| {
                let project_now = project.get_untracked();
                view! {
                    <CompareSummary comparison=c.clone() project=project_now.clone()/>
                    <CompareRows comparison=c.clone() project=project_now.clone() selected=row/>
                    {move || row.get().and_then(|r| c.rows.get(r).copied()).map(|r| view! {
                        <PairDetail comparison=c.clone() row=r project=project_now.clone()/>
                    })}
                }
            }/>
        </div>
    }
}
