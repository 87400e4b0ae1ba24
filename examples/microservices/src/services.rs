//! The eight services: their names, ports and peers, their routes, and the tracing every
//! handler shares: a server span continuing the caller's context, and each call to another
//! service a client span whose context the callee continues. What each handler does is in
//! `routes.rs`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use serde_json::{json, Value};

use crate::routes::{
    cache_get, cache_put, chat, completions, events, health, run_agent, search, tool_search, verify,
};
use crate::telemetry::{self, Propagation};
use crate::xheaders::CallerParent;

/// The services, in the order of their default ports (7000…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    ApiGateway,
    Auth,
    Agent,
    Model,
    Tool,
    Search,
    Cache,
    Analytics,
}

impl Service {
    pub const ALL: [Service; 8] = [
        Service::ApiGateway,
        Service::Auth,
        Service::Agent,
        Service::Model,
        Service::Tool,
        Service::Search,
        Service::Cache,
        Service::Analytics,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Service::ApiGateway => "api-gateway",
            Service::Auth => "auth-service",
            Service::Agent => "agent-service",
            Service::Model => "model-service",
            Service::Tool => "tool-service",
            Service::Search => "search-service",
            Service::Cache => "cache-service",
            Service::Analytics => "analytics-service",
        }
    }

    pub fn parse(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn default_port(self) -> u16 {
        7000 + Service::ALL.iter().position(|s| *s == self).unwrap_or(0) as u16
    }

    /// The services this one calls.
    pub fn callees(self) -> &'static [Service] {
        match self {
            Service::ApiGateway => &[Service::Auth, Service::Agent, Service::Analytics],
            Service::Agent => &[Service::Model, Service::Tool],
            Service::Tool => &[Service::Cache, Service::Search],
            _ => &[],
        }
    }

    /// How calls into this service propagate the trace: the search service is the "legacy"
    /// one that speaks the seed's X- headers.
    pub fn propagation(self) -> Propagation {
        match self {
            Service::Search => Propagation::XHeaders,
            _ => Propagation::TraceContext,
        }
    }
}

/// Where each service listens: `http://127.0.0.1:<default port>` unless given.
#[derive(Debug, Clone, Default)]
pub struct Peers(HashMap<Service, String>);

impl Peers {
    pub fn set(&mut self, service: Service, url: &str) {
        self.0
            .insert(service, url.trim_end_matches('/').to_string());
    }

    pub fn url(&self, service: Service) -> String {
        self.0
            .get(&service)
            .cloned()
            .unwrap_or_else(|| format!("http://127.0.0.1:{}", service.default_port()))
    }
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) service: Service,
    pub(crate) tracer: SdkTracer,
    pub(crate) peers: Arc<Peers>,
    pub(crate) client: reqwest::Client,
    pub(crate) cache: Arc<Mutex<HashMap<String, Value>>>,
}

/// A failed request: the status to answer and why (recorded on the server span too).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{callee} answered {status}")]
    Status { callee: &'static str, status: u16 },
    #[error("cannot reach {callee}: {message}")]
    Unreachable {
        callee: &'static str,
        message: String,
    },
    #[error("bad request: {0}")]
    BadRequest(String),
}

impl IntoResponse for CallError {
    fn into_response(self) -> Response {
        let status = match self {
            CallError::BadRequest(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::BAD_GATEWAY,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

/// A server span for an incoming request, continuing the caller's trace.
pub(crate) fn server_span(state: &AppState, headers: &HeaderMap, route: &str) -> Context {
    let (parent, form) = telemetry::extract(headers);
    let span = state
        .tracer
        .span_builder(format!("POST {route}"))
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", "POST"),
            KeyValue::new("http.route", route.to_string()),
            KeyValue::new("skein.example.propagation", form),
        ])
        .start_with_context(&state.tracer, &parent);
    parent.with_span(span)
}

/// Ends the request's server span with the outcome.
pub(crate) fn finish<T>(cx: &Context, result: &Result<T, CallError>) {
    let span = cx.span();
    match result {
        Ok(_) => {
            span.set_attribute(KeyValue::new("http.response.status_code", 200));
            span.set_status(Status::Ok);
        }
        Err(e) => {
            span.set_attribute(KeyValue::new("http.response.status_code", 502));
            span.set_status(Status::error(e.to_string()));
        }
    }
    span.end();
}

/// Calls `callee` with a client span, propagating the trace the way the callee expects.
pub(crate) async fn call(
    state: &AppState,
    cx: &Context,
    callee: Service,
    route: &str,
    body: Value,
) -> Result<Value, CallError> {
    let url = format!("{}{route}", state.peers.url(callee));
    let mut span = state
        .tracer
        .span_builder(format!("POST {}{route}", callee.name()))
        .with_kind(SpanKind::Client)
        .with_attributes([
            KeyValue::new("http.request.method", "POST"),
            KeyValue::new("url.full", url.clone()),
            KeyValue::new("server.address", callee.name()),
        ])
        .start_with_context(&state.tracer, cx);
    let parent_id = cx.span().span_context().span_id();
    span.set_attribute(KeyValue::new(
        "skein.example.propagation",
        match callee.propagation() {
            Propagation::TraceContext => "traceparent",
            Propagation::XHeaders => "x-headers",
        },
    ));
    let call_cx = cx.with_span(span).with_value(CallerParent(parent_id));
    let mut headers = HeaderMap::new();
    callee.propagation().inject(&call_cx, &mut headers);

    let result = async {
        let response = state
            .client
            .post(&url)
            .headers(headers)
            .json(&body)
            .send()
            .await
            .map_err(|e| CallError::Unreachable {
                callee: callee.name(),
                message: e.to_string(),
            })?;
        let status = response.status();
        call_cx.span().set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(status.as_u16()),
        ));
        if !status.is_success() {
            return Err(CallError::Status {
                callee: callee.name(),
                status: status.as_u16(),
            });
        }
        response
            .json::<Value>()
            .await
            .map_err(|e| CallError::Unreachable {
                callee: callee.name(),
                message: e.to_string(),
            })
    }
    .await;
    let span = call_cx.span();
    if let Err(e) = &result {
        span.set_status(Status::error(e.to_string()));
    }
    span.end();
    result
}

/// A few milliseconds of "work", varied by the text so runs differ a little.
pub(crate) async fn work(text: &str, base_ms: u64, spread_ms: u64) {
    let jitter = text
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let ms = base_ms + jitter % spread_ms.max(1);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// The service's routes.
fn router(state: AppState) -> Router {
    let routes = Router::new().route("/health", get(health));
    let routes = match state.service {
        Service::ApiGateway => routes.route("/v1/chat", post(chat)),
        Service::Auth => routes.route("/verify", post(verify)),
        Service::Agent => routes.route("/agent/run", post(run_agent)),
        Service::Model => routes.route("/v1/completions", post(completions)),
        Service::Tool => routes.route("/tools/search", post(tool_search)),
        Service::Search => routes.route("/search", post(search)),
        Service::Cache => routes
            .route("/cache/get", post(cache_get))
            .route("/cache/put", post(cache_put)),
        Service::Analytics => routes.route("/events", post(events)),
    };
    routes.with_state(state)
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Telemetry(#[from] telemetry::TelemetryError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// Runs one service until Ctrl-C or SIGTERM, then flushes its spans.
pub async fn serve(service: Service, addr: SocketAddr, peers: Peers) -> Result<(), ServeError> {
    let provider: SdkTracerProvider = telemetry::init(service.name())?;
    let state = AppState {
        service,
        tracer: provider.tracer("skein-example-microservices"),
        peers: Arc::new(peers),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ServeError::Client(e.to_string()))?,
        cache: Arc::new(Mutex::new(HashMap::new())),
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    eprintln!("{} listening on http://{addr}", service.name());
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    // Spans still in the batch go out before the process ends.
    let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_have_names_ports_and_one_x_header_hop() {
        for s in Service::ALL {
            assert_eq!(Service::parse(s.name()), Some(s));
        }
        assert_eq!(Service::ApiGateway.default_port(), 7000);
        assert_eq!(Service::Analytics.default_port(), 7007);
        let x_hops: Vec<Service> = Service::ALL
            .into_iter()
            .filter(|s| s.propagation() == Propagation::XHeaders)
            .collect();
        assert_eq!(x_hops, vec![Service::Search]);
        assert!(Service::Tool.callees().contains(&Service::Search));
        let mut peers = Peers::default();
        peers.set(Service::Auth, "http://10.0.0.1:9/");
        assert_eq!(peers.url(Service::Auth), "http://10.0.0.1:9");
        assert_eq!(peers.url(Service::Cache), "http://127.0.0.1:7006");
    }
}
