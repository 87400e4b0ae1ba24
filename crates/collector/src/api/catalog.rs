//! What a project holds: `/api/v1/projects`, `/services`, `/tags`, `/tags/{key}/values`,
//! `/fields/{field}/values` (a span field's stored values: `model`, `name`).

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use skein_model::query::parse_query_string;
use skein_model::{FieldValueInfo, ProjectInfo, ServiceInfo, TagKeyInfo, TagValueInfo, ValueField};

use crate::context::{AppState, KeyScope, Project};
use crate::error::{ApiError, ApiResult};

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

/// `GET /api/v1/fields/{field}/values?prefix=&limit=`: the values of a span field in use in
/// the project's latest traces (`QueryStore::field_values`), most used first.
pub async fn field_values(
    State(state): State<AppState>,
    Project(project): Project,
    Path(field): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Vec<FieldValueInfo>>> {
    let field = ValueField::parse(&field).ok_or_else(|| {
        let known: Vec<&str> = ValueField::ALL.iter().map(|f| f.as_str()).collect();
        ApiError::BadRequest(format!(
            "values are listed for the fields {}, not {field:?}",
            known.join(", ")
        ))
    })?;
    let pairs = parse_query_string(query.as_deref().unwrap_or(""));
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let limit = match get("limit").filter(|l| !l.is_empty()) {
        None => 100,
        Some(l) => l.parse().map_err(|_| {
            ApiError::BadRequest(format!("limit must be a whole number, not {l:?}"))
        })?,
    };
    Ok(Json(
        state
            .store
            .field_values(&project, field, get("prefix"), limit)
            .await?,
    ))
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
