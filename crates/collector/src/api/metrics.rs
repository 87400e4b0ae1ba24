//! `/api/v1/metrics`: a metric's aggregates per tag value and time bucket, for the dashboard's
//! charts and A/B panel (`skein_model::metrics` has the query and the answer; the statistics on
//! top of them are in `skein_model::stats`).

use axum::extract::{RawQuery, State};
use axum::Json;
use skein_model::metrics::{MetricQuery, MetricResponse};

use crate::context::{AppState, Project};
use crate::error::ApiResult;

pub async fn get(
    State(state): State<AppState>,
    Project(project): Project,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<MetricResponse>> {
    // A query that cannot be parsed is a 400 naming the parameter (QueryError → BadRequest).
    let query = MetricQuery::from_query_string(query.as_deref().unwrap_or(""))?;
    Ok(Json(state.store.metrics(&project, &query).await?))
}
