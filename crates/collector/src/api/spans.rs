//! `GET /api/v1/spans`: the project's spans across traces passing `filter` (on the span),
//! `trace_filter` (on its trace's root span) and `tree_filter` (on any span of its trace), in
//! the language of `skein_model::filter`; `sort=start_desc|duration_desc|tokens_desc|cost_desc`,
//! `cursor`, `limit`. A filter that cannot be used is a 400 whose body names the parameter and
//! where in it the problem is (`offset`/`end` in bytes, `char_offset` in characters).
//! `GET /api/v1/spans/export?format=csv|jsonl|otlp&…` streams every span the same query selects
//! (`otlp`: OTLP/JSON lines, a trace's spans of a page a line, that `/v1/traces` takes back).

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use skein_model::filter::{self, Expr};
use skein_model::query::parse_query_string;
use skein_model::span_list::{SpanPage, SpanQuery, SpanRow, SpanSort, MAX_SPAN_LIMIT};

use crate::context::{AppState, Project};
use crate::error::ApiError;
use crate::export::list::{file_safe, ListFormat};
use crate::export::{span_list, span_otlp};
use crate::store::StoreError;

pub(super) fn expression(param: &'static str, text: &str) -> Result<Option<Expr>, ApiError> {
    filter::parse(text).map_err(|e| ApiError::bad_filter(param, &e))
}

/// The query from the URL's pairs.
pub fn span_query(pairs: &[(String, String)]) -> Result<SpanQuery, ApiError> {
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
) -> Result<Json<SpanPage>, ApiError> {
    let pairs = parse_query_string(query.as_deref().unwrap_or(""));
    let q = span_query(&pairs)?;
    let page = state.store.list_spans(&project, &q).await?;
    Ok(Json(page))
}

/// How the span list is downloaded: as a list, or as OTLP/JSON lines that recreate the spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SpanExport {
    List(ListFormat),
    Otlp,
}

impl SpanExport {
    fn parse(name: &str) -> Result<SpanExport, ApiError> {
        if name == "otlp" {
            return Ok(SpanExport::Otlp);
        }
        ListFormat::parse(name).map(SpanExport::List).map_err(|_| {
            ApiError::BadRequest(format!("format must be csv, jsonl or otlp, not {name:?}"))
        })
    }

    fn content_type(self) -> &'static str {
        match self {
            SpanExport::List(f) => f.content_type(),
            SpanExport::Otlp => "application/x-ndjson",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            SpanExport::List(f) => f.extension(),
            SpanExport::Otlp => "otlp.jsonl",
        }
    }

    /// Appends a page's rows.
    async fn write(
        self,
        state: &AppState,
        project: &str,
        rows: &[SpanRow],
        out: &mut Vec<u8>,
    ) -> Result<(), StoreError> {
        match self {
            SpanExport::List(format) => {
                span_list::write_rows(format, rows, out);
                Ok(())
            }
            SpanExport::Otlp => {
                span_otlp::write_page(state.store.as_ref(), project, rows, out).await
            }
        }
    }
}

/// `GET /api/v1/spans/export?format=csv|jsonl|otlp&…`: every span the query selects (its
/// `cursor` and `limit` are the export's own), streamed a page at a time as a file to
/// download. The first page is read before answering, so a bad query gets its status; a
/// failure later ends the download early.
pub async fn export_list(
    State(state): State<AppState>,
    Project(project): Project,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = parse_query_string(query.as_deref().unwrap_or(""));
    let format_name = pairs
        .iter()
        .find(|(k, _)| k == "format")
        .map_or("csv", |(_, v)| v.as_str());
    let format = SpanExport::parse(format_name)?;
    let mut q = span_query(&pairs)?;
    q.cursor = None;
    q.limit = MAX_SPAN_LIMIT;
    let first = state.store.list_spans(&project, &q).await?;
    let mut head = Vec::new();
    if format == SpanExport::List(ListFormat::Csv) {
        head.extend_from_slice(span_list::csv_header().as_bytes());
    }
    format
        .write(&state, &project, &first.spans, &mut head)
        .await?;
    let pages = futures_util::stream::unfold(
        (state, project.clone(), q, first.next_cursor),
        move |(state, project, mut q, cursor)| async move {
            q.cursor = Some(cursor?);
            let mut out = Vec::new();
            let page = match state.store.list_spans(&project, &q).await {
                Ok(page) => format
                    .write(&state, &project, &page.spans, &mut out)
                    .await
                    .map(|()| page),
                Err(e) => Err(e),
            };
            match page {
                Ok(page) => Some((
                    Ok::<_, StoreError>(Bytes::from(out)),
                    (state, project, q, page.next_cursor),
                )),
                Err(e) => {
                    tracing::warn!(error = %e, "span list download ended early");
                    Some((Err(e), (state, project, q, None)))
                }
            }
        },
    );
    let body = futures_util::stream::once(async move { Ok::<_, StoreError>(Bytes::from(head)) })
        .chain(pages)
        // The compression layer may poll a body again after its end: a fused stream stays ended.
        .fuse();
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"spans-{}.{}\"",
                    file_safe(&project),
                    format.extension()
                ),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}
