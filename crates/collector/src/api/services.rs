//! `/api/v1/services/graph`: calls between services (a span whose parent is in another
//! service) with counts, error rates and latency percentiles, for a time range and tags.

use axum::extract::{RawQuery, State};
use axum::Json;
use skein_model::service_graph::{ServiceGraph, ServiceGraphQuery};

use crate::context::{AppState, Project};
use crate::error::ApiResult;

pub async fn graph(
    State(state): State<AppState>,
    Project(project): Project,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<ServiceGraph>> {
    let query = ServiceGraphQuery::from_query_string(query.as_deref().unwrap_or(""))?;
    Ok(Json(state.store.service_graph(&project, &query).await?))
}
