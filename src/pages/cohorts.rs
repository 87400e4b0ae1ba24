//! `/compare/cohorts?a.<list key>=…&b.<list key>=…&by=duration|tokens|cost|errors`: two
//! cohorts of traces (each a trace-list query: a filter expression, tags, a time window)
//! compared span name by span name (`GET /api/v1/compare/cohorts`, computed in the store). The
//! page's query is the API's (`CohortQuery`), so a comparison is a link. The table says where
//! B spends its extra time (tokens, cost, errors): one row per span name, type and service,
//! sorted by its contribution to the difference per trace.

mod controls;
mod table;

use std::sync::Arc;

use leptos::either::EitherOf4;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use skein_model::cohort::{CohortComparison, CohortQuery};
use skein_model::TraceQuery;

use crate::api::{self, ApiError};
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::components::remote::{Loader, Remote};
use crate::{links, number};

use controls::{CohortControls, Presets};
use table::{CohortTable, CohortTotals};

/// The page's query, or why the link cannot be read (its filters are the collector's to check).
fn read(search: &str) -> Result<CohortQuery, String> {
    CohortQuery::from_link(search, number::parse_finite).map_err(|e| e.to_string())
}

#[component]
pub fn CohortsPage() -> impl IntoView {
    let location = use_location();
    let navigate = use_navigate();
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let parsed = Memo::new(move |_| read(&location.search.get()));
    let query = Memo::new(move |_| parsed.get().unwrap_or_default());
    let set_query = Callback::new(move |q: CohortQuery| {
        navigate(
            &links::cohorts_href(&project.get_untracked(), &q),
            NavigateOptions {
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    });
    let chosen =
        move || query.with(|q| q.a != TraceQuery::default() || q.b != TraceQuery::default());

    let loader = Loader::<Arc<CohortComparison>>::new();
    Effect::new(move |_| {
        let (project, q) = (project.get(), query.get());
        if parsed.with(Result::is_ok) && chosen() {
            loader.load(true, move || {
                let (project, q) = (project.clone(), q.clone());
                async move { Ok(Arc::new(api::compare_cohorts(&project, &q).await?)) }
            });
        }
    });

    let state = move || {
        if let Err(why) = parsed.get() {
            return Some(EitherOf4::A(view! {
                <ErrorBanner title="This link's cohorts can't be read".to_string() detail=why retrying=false/>
            }));
        }
        if !chosen() {
            return Some(EitherOf4::B(view! {
                <EmptyState title="Choose two cohorts to compare">
                    <p>"Give each cohort a filter (its traces have a span passing it), or start from a preset above: "
                       "one tag's two values, or last week against this week."</p>
                    <p>"Each span name then gets a row: spans per trace, p50/p95 duration, self time, errors, tokens "
                       "and cost in A and in B, and what it adds to B − A."</p>
                </EmptyState>
            }));
        }
        match loader.state.get() {
            Remote::Ready(_) => None,
            Remote::Loading => Some(EitherOf4::C(view! {
                <div class="cohort-loading" aria-busy="true" aria-label="Comparing the cohorts">
                    <span class="shimmer" style="width: 100%; height: 64px"></span>
                    <span class="shimmer" style="width: 100%; height: 28px"></span>
                    <span class="shimmer" style="width: 100%; height: 28px"></span>
                    <span class="shimmer" style="width: 100%; height: 28px"></span>
                </div>
            })),
            Remote::Failed(error) => Some(EitherOf4::D(error_view(error))),
        }
    };
    let ready = move || match (loader.state.get(), chosen(), parsed.with(Result::is_ok)) {
        (Remote::Ready(c), true, true) => Some(c),
        _ => None,
    };
    let empty_cohorts = move |c: &CohortComparison| {
        (c.a.traces == 0 || c.b.traces == 0).then(|| {
            let which = match (c.a.traces, c.b.traces) {
                (0, 0) => "Neither cohort has traces",
                (0, _) => "Cohort A has no traces",
                _ => "Cohort B has no traces",
            };
            view! {
                <EmptyState title=which>
                    <p>"Loosen that cohort's filter (or pick another value) to compare span by span."</p>
                </EmptyState>
            }
        })
    };

    view! {
        <div class="page cohorts-page">
            <div class="page-head">
                <h1>"Compare cohorts"</h1>
                <span class="muted">"Where does B spend its time, tokens, cost and errors?"</span>
            </div>
            <Presets project=project query=query set_query=set_query/>
            <CohortControls project=project query=query set_query=set_query/>
            {state}
            {move || ready().map(|c| {
                let by = c.by;
                view! {
                    <CohortTotals comparison=c.clone()/>
                    {empty_cohorts(&c)}
                    <CohortTable comparison=c project=project.get_untracked()
                        query=query.get_untracked() by=by set_query=set_query/>
                }
            })}
        </div>
    }
}

fn error_view(error: ApiError) -> impl IntoView {
    let refused = matches!(error, ApiError::Status { status: 400, .. });
    let title = if refused {
        "A cohort's filter can't be used".to_string()
    } else {
        error.title()
    };
    view! { <ErrorBanner title=title detail=error.detail() retrying=error.is_transient()/> }
}
