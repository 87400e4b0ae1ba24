//! `GET /api/v1/spans`: the project's spans across traces passing `filter` (on the span),
//! `trace_filter` (on its trace's root span) and `tree_filter` (on any span of its trace), in
//! the language of `skein_model::filter`; `sort=start_desc|duration_desc|tokens_desc|cost_desc`,
//! `cursor`, `limit`. A filter that cannot be used is a 400 whose body names the parameter and
//! where in it the problem is (`offset`/`end` in bytes, `char_offset` in characters).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use skein_model::filter::{self, Expr, FilterError};
use skein_model::query::parse_query_string;
use skein_model::span_list::{SpanPage, SpanQuery, SpanSort};

use crate::context::{AppState, Project};
use crate::error::ApiError;

/// Why a span query is refused.
pub enum SpanQueryError {
    Filter(&'static str, FilterError),
    Api(ApiError),
}

impl From<ApiError> for SpanQueryError {
    fn from(e: ApiError) -> Self {
        SpanQueryError::Api(e)
    }
}

impl IntoResponse for SpanQueryError {
    fn into_response(self) -> Response {
        match self {
            SpanQueryError::Api(e) => e.into_response(),
            SpanQueryError::Filter(param, e) => (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({
                    "error": format!("{param}: {e}"),
                    "param": param,
                    "offset": e.offset,
                    "end": e.end,
                    "char_offset": e.char_offset,
                })),
            )
                .into_response(),
        }
    }
}

pub(super) fn expression(param: &'static str, text: &str) -> Result<Option<Expr>, SpanQueryError> {
    filter::parse(text).map_err(|e| SpanQueryError::Filter(param, e))
}

/// The query from the URL's pairs.
pub fn span_query(pairs: &[(String, String)]) -> Result<SpanQuery, SpanQueryError> {
    let mut q = SpanQuery::default();
    for (key, value) in pairs {
        match key.as_str() {
            "filter" => q.filter = expression("filter", value)?,
            "trace_filter" => q.trace_filter = expression("trace_filter", value)?,
            "tree_filter" => q.tree_filter = expression("tree_filter", value)?,
            "sort" if !value.is_empty() => {
                q.sort = SpanSort::parse(value).ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "sort must be start_desc, duration_desc, tokens_desc or cost_desc, not {value:?}"
                    ))
                })?
            }
            "cursor" if !value.is_empty() => q.cursor = Some(value.clone()),
            "limit" if !value.is_empty() => {
                q.limit = value.parse().map_err(|_| {
                    ApiError::BadRequest(format!("limit must be a whole number, not {value:?}"))
                })?
            }
            _ => {}
        }
    }
    Ok(q)
}

pub async fn list(
    State(state): State<AppState>,
    Project(project): Project,
    RawQuery(query): RawQuery,
) -> Result<Json<SpanPage>, SpanQueryError> {
    let pairs = parse_query_string(query.as_deref().unwrap_or(""));
    let q = span_query(&pairs)?;
    let page = state
        .store
        .list_spans(&project, &q)
        .await
        .map_err(ApiError::from)?;
    Ok(Json(page))
}
