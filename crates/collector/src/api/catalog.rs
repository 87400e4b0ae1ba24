//! What a project holds: `/api/v1/projects`, `/services`, `/tags`, `/tags/{key}/values`.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use skein_model::query::parse_query_string;
use skein_model::{ProjectInfo, ServiceInfo, TagKeyInfo, TagValueInfo};

use crate::context::{AppState, KeyScope, Project};
use crate::error::ApiResult;

/// Every project, or with an API key only the key's project.
pub async fn projects(
    State(state): State<AppState>,
    scope: KeyScope,
) -> ApiResult<Json<Vec<ProjectInfo>>> {
    let mut projects = state.store.projects().await?;
    if let KeyScope::Project(project) = scope {
        projects.retain(|p| p.name == project);
        // A key's project is there for it even before its first trace arrives: the dashboard
        // offers what this list holds.
        if projects.is_empty() {
            projects.push(ProjectInfo {
                name: project,
                trace_count: 0,
                span_count: 0,
                last_seen_ns: None,
            });
        }
    }
    Ok(Json(projects))
}

pub async fn services(
    State(state): State<AppState>,
    Project(project): Project,
) -> ApiResult<Json<Vec<ServiceInfo>>> {
    Ok(Json(state.store.services(&project).await?))
}

pub async fn tag_keys(
    State(state): State<AppState>,
    Project(project): Project,
) -> ApiResult<Json<Vec<TagKeyInfo>>> {
    Ok(Json(state.store.tag_keys(&project).await?))
}

pub async fn tag_values(
    State(state): State<AppState>,
    Project(project): Project,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Vec<TagValueInfo>>> {
    let pairs = parse_query_string(query.as_deref().unwrap_or(""));
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let limit = get("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
    Ok(Json(
        state
            .store
            .tag_values(&project, &key, get("prefix"), limit)
            .await?,
    ))
}
