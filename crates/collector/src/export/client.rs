//! `skein export`: a running collector's traces or spans, selected with the filter language,
//! written for scripts, through the API a browser uses (so keys and projects apply as to any
//! read):
//! - `csv`, `jsonl`: the list downloads (`/api/v1/traces/export`, `/api/v1/spans/export`),
//!   copied chunk by chunk as the collector streams them;
//! - `otlp`: each selected trace as an OTLP/JSON export request (`/api/v1/traces/{id}/export`)
//!   on a line of its own, a page of trace ids at a time. Each line, POSTed to `/v1/traces`
//!   as `application/json`, stores that trace again. With `--kind spans`, the selected spans
//!   as the span download writes them (`/api/v1/spans/export?format=otlp`: a line per trace
//!   and page, holding that trace's selected spans), which `/v1/traces` takes back alike.
//!
//! Nothing is held but a page of ids or one trace. A refusal (a bad filter, a missing key) is
//! an error carrying the collector's message.

use std::io::Write;
use std::time::Duration;

use skein_model::query::encode_pairs;
use skein_model::{TracePage, TraceQuery};

/// What is exported: a row per trace, or a row per span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Traces,
    Spans,
}

impl ExportKind {
    pub fn parse(text: &str) -> Result<ExportKind, String> {
        match text {
            "traces" => Ok(ExportKind::Traces),
            "spans" => Ok(ExportKind::Spans),
            other => Err(format!("--kind is traces or spans, not {other:?}")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Jsonl,
    /// One OTLP/JSON export request per trace (`--kind spans`: per trace and page), a line each.
    Otlp,
}

impl ExportFormat {
    pub fn parse(text: &str) -> Result<ExportFormat, String> {
        match text {
            "csv" => Ok(ExportFormat::Csv),
            "jsonl" | "ndjson" => Ok(ExportFormat::Jsonl),
            "otlp" => Ok(ExportFormat::Otlp),
            other => Err(format!("--format is jsonl, csv or otlp, not {other:?}")),
        }
    }
}

/// An export as asked on the command line.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The collector's HTTP address (`http://127.0.0.1:8080`).
    pub url: String,
    pub project: Option<String>,
    pub api_key: Option<String>,
    pub kind: ExportKind,
    pub format: ExportFormat,
    /// The filter language's `filter`, `trace_filter` and `tree_filter`, as the API takes
    /// them for the kind exported.
    pub filter: Option<String>,
    pub trace_filter: Option<String>,
    pub tree_filter: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot reach {url}: {source}")]
    Http { url: String, source: reqwest::Error },
    /// The collector refused: its status and its `error` message.
    #[error("the collector answered {status}: {message}")]
    Refused { status: u16, message: String },
    #[error("{url} did not answer the JSON expected: {message}")]
    Unexpected { url: String, message: String },
    #[error("{0}")]
    Usage(String),
    #[error("writing the export: {0}")]
    Write(#[from] std::io::Error),
}

/// How many times a request is retried while the collector says it is busy (503, 429).
const BUSY_RETRIES: u32 = 10;
/// Traces listed a request when exporting OTLP.
const ID_PAGE: u32 = 500;

struct Api {
    client: reqwest::Client,
    options: ExportOptions,
}

impl Api {
    fn url(&self, path: &str, pairs: &[(&str, &str)]) -> String {
        let mut all: Vec<(&str, &str)> = Vec::new();
        if let Some(project) = &self.options.project {
            all.push(("project", project));
        }
        all.extend_from_slice(pairs);
        format!(
            "{}{path}?{}",
            self.options.url.trim_end_matches('/'),
            encode_pairs(all)
        )
    }

    /// GETs `url`, retrying while the collector is busy; a refusal carries its message.
    async fn get(&self, url: &str) -> Result<reqwest::Response, ExportError> {
        let mut attempt = 0;
        loop {
            let mut request = self.client.get(url);
            if let Some(key) = &self.options.api_key {
                request = request.header("x-api-key", key);
            }
            let response = request.send().await.map_err(|source| ExportError::Http {
                url: url.to_string(),
                source,
            })?;
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            if matches!(status.as_u16(), 429 | 503) && attempt < BUSY_RETRIES {
                attempt += 1;
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(1u64)
                    .clamp(1, 30);
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            return Err(refusal(status.as_u16(), response).await);
        }
    }
}

/// The collector's `{"error": ...}`, or its body as text.
async fn refusal(status: u16, response: reqwest::Response) -> ExportError {
    let body = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .unwrap_or_else(|| body.trim().to_string());
    ExportError::Refused { status, message }
}

/// A whole answer as JSON (a page of traces, one trace's OTLP document).
async fn read_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    url: &str,
) -> Result<T, ExportError> {
    let body = response.bytes().await.map_err(|source| ExportError::Http {
        url: url.to_string(),
        source,
    })?;
    serde_json::from_slice(&body).map_err(|e| ExportError::Unexpected {
        url: url.to_string(),
        message: e.to_string(),
    })
}

/// Runs the export into `out`; returns the rows (traces, for OTLP) or bytes written.
pub async fn export(options: &ExportOptions, out: &mut dyn Write) -> Result<u64, ExportError> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|source| ExportError::Http {
            url: options.url.clone(),
            source,
        })?;
    let api = Api {
        client,
        options: options.clone(),
    };
    match (options.format, options.kind) {
        (ExportFormat::Otlp, ExportKind::Traces) => otlp(&api, out).await,
        (format, kind) => list(&api, format, kind, out).await,
    }
}

fn filter_pairs(options: &ExportOptions) -> Vec<(&'static str, &str)> {
    [
        ("filter", &options.filter),
        ("trace_filter", &options.trace_filter),
        ("tree_filter", &options.tree_filter),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
    .collect()
}

/// A list download (OTLP lines too, for spans) copied as it streams.
async fn list(
    api: &Api,
    format: ExportFormat,
    kind: ExportKind,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    let path = match kind {
        ExportKind::Traces => "/api/v1/traces/export",
        ExportKind::Spans => "/api/v1/spans/export",
    };
    let format = match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Jsonl => "jsonl",
        ExportFormat::Otlp => "otlp",
    };
    let mut pairs = vec![("format", format)];
    pairs.extend(filter_pairs(&api.options));
    let url = api.url(path, &pairs);
    let mut response = api.get(&url).await?;
    let mut written = 0u64;
    // A download that breaks off midway is an error, never a short file that looks whole.
    while let Some(chunk) = response.chunk().await.map_err(|source| ExportError::Http {
        url: url.clone(),
        source,
    })? {
        out.write_all(&chunk)?;
        written += chunk.len() as u64;
    }
    out.flush()?;
    Ok(written)
}

/// Each trace the filters select, newest first, as one OTLP/JSON line.
async fn otlp(api: &Api, out: &mut dyn Write) -> Result<u64, ExportError> {
    let mut query = TraceQuery {
        filter: api.options.filter.clone(),
        trace_filter: api.options.trace_filter.clone(),
        tree_filter: api.options.tree_filter.clone(),
        limit: Some(ID_PAGE),
        ..TraceQuery::default()
    };
    let mut traces = 0u64;
    loop {
        let pairs = query.to_pairs();
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let url = api.url("/api/v1/traces", &pairs);
        let page: TracePage = read_json(api.get(&url).await?, &url).await?;
        for trace in &page.traces {
            let url = api.url(&format!("/api/v1/traces/{}/export", trace.trace_id), &[]);
            let document = match api.get(&url).await {
                // Removed since it was listed (retention): nothing to export.
                Err(ExportError::Refused { status: 404, .. }) => continue,
                other => other?,
            };
            let document: serde_json::Value = read_json(document, &url).await?;
            serde_json::to_writer(&mut *out, &document).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
            traces += 1;
        }
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    out.flush()?;
    Ok(traces)
}
