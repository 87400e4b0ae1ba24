//! `/api/v1/compare/...`: comparisons computed in the store. `cohorts` compares two trace-list
//! filters span name by span name (`skein_model::cohort` has the query's URL form and the
//! answer): `GET /api/v1/compare/cohorts?a.tag=variant=A&b.tag=variant=B&by=duration`.

use axum::extract::{RawQuery, State};
use axum::Json;
use skein_model::cohort::{CohortComparison, CohortQuery};

use crate::context::{AppState, Project};
use crate::error::ApiResult;

pub async fn cohorts(
    State(state): State<AppState>,
    Project(project): Project,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<CohortComparison>> {
    // A query that cannot be parsed is a 400 naming the cohort and parameter.
    let query = CohortQuery::from_query_string(query.as_deref().unwrap_or(""))?;
    Ok(Json(state.store.compare_cohorts(&project, &query).await?))
}
