//! What each service does when called: the handlers behind `services::router`'s routes, each
//! a server span with its work and its calls to the next services.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use opentelemetry::trace::{Span as _, SpanKind, TraceContextExt, Tracer as _};
use opentelemetry::KeyValue;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::services::{call, finish, server_span, work, AppState, CallError, Service};

#[derive(Debug, Deserialize, Serialize)]
pub struct ChatRequest {
    pub message: String,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub request_sequence: Option<i64>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct ChatResponse {
    pub trace_id: String,
    pub answer: String,
}

pub(crate) async fn chat(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(request): Json<ChatRequest>,
) -> Result<Json<ChatResponse>, CallError> {
    let cx = server_span(&state, &headers, "/v1/chat");
    let span = cx.span();
    span.set_attribute(KeyValue::new("input.value", request.message.clone()));
    if let Some(id) = &request.session_id {
        span.set_attribute(KeyValue::new("session.id", id.clone()));
    }
    if let Some(id) = &request.user_id {
        span.set_attribute(KeyValue::new("user.id", id.clone()));
    }
    if let Some(n) = request.request_sequence {
        span.set_attribute(KeyValue::new("request_sequence", n));
    }
    let trace_id = span.span_context().trace_id().to_string();
    let result = async {
        if request.message.trim().is_empty() {
            return Err(CallError::BadRequest("message is empty".into()));
        }
        call(
            &state,
            &cx,
            Service::Auth,
            "/verify",
            json!({"user_id": request.user_id}),
        )
        .await?;
        let answer = call(
            &state,
            &cx,
            Service::Agent,
            "/agent/run",
            json!({"message": request.message}),
        )
        .await?;
        let answer = answer["answer"].as_str().unwrap_or_default().to_string();
        call(
            &state,
            &cx,
            Service::Analytics,
            "/events",
            json!({"event": "chat", "user_id": request.user_id}),
        )
        .await?;
        Ok(answer)
    }
    .await;
    if let Ok(answer) = &result {
        cx.span()
            .set_attribute(KeyValue::new("output.value", answer.clone()));
    }
    finish(&cx, &result);
    result.map(|answer| Json(ChatResponse { trace_id, answer }))
}

pub(crate) async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, CallError> {
    let cx = server_span(&state, &headers, "/verify");
    work(&body.to_string(), 3, 6).await;
    let result = Ok(json!({"ok": true}));
    finish(&cx, &result);
    result.map(Json)
}

pub(crate) async fn run_agent(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, CallError> {
    let cx = server_span(&state, &headers, "/agent/run");
    let message = body["message"].as_str().unwrap_or_default().to_string();
    let result = async {
        let draft = call(
            &state,
            &cx,
            Service::Model,
            "/v1/completions",
            json!({"prompt": message}),
        )
        .await?;
        let found = call(
            &state,
            &cx,
            Service::Tool,
            "/tools/search",
            json!({"query": message}),
        )
        .await?;
        let sources = found["results"].as_array().map_or(0, Vec::len);
        Ok(json!({
            "answer": format!(
                "{} ({sources} sources)",
                draft["text"].as_str().unwrap_or_default()
            )
        }))
    }
    .await;
    finish(&cx, &result);
    result.map(Json)
}

pub(crate) async fn completions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, CallError> {
    let cx = server_span(&state, &headers, "/v1/completions");
    let prompt = body["prompt"].as_str().unwrap_or_default().to_string();
    // The model call itself, as an LLM span inside the model service.
    let input_tokens = 40 + prompt.len() as i64 / 4;
    let output_tokens = 120;
    let mut llm = state
        .tracer
        .span_builder("chat example-model")
        .with_kind(SpanKind::Client)
        .with_attributes([
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.provider.name", "example"),
            KeyValue::new("gen_ai.request.model", "example-model"),
            KeyValue::new("gen_ai.usage.input_tokens", input_tokens),
            KeyValue::new("gen_ai.usage.output_tokens", output_tokens),
            KeyValue::new("input.value", prompt.clone()),
        ])
        .start_with_context(&state.tracer, &cx);
    work(&prompt, 40, 40).await;
    let text = format!(
        "Here is a short answer to \"{}\"",
        prompt.chars().take(60).collect::<String>()
    );
    llm.set_attribute(KeyValue::new("output.value", text.clone()));
    llm.end();
    let result =
        Ok(json!({"text": text, "input_tokens": input_tokens, "output_tokens": output_tokens}));
    finish(&cx, &result);
    result.map(Json)
}

pub(crate) async fn tool_search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, CallError> {
    let cx = server_span(&state, &headers, "/tools/search");
    let query = body["query"].as_str().unwrap_or_default().to_string();
    let result = async {
        let cached = call(
            &state,
            &cx,
            Service::Cache,
            "/cache/get",
            json!({"key": query}),
        )
        .await?;
        if let Some(results) = cached.get("value").filter(|v| !v.is_null()) {
            cx.span()
                .set_attribute(KeyValue::new("skein.example.cache_hit", true));
            return Ok(json!({"results": results}));
        }
        cx.span()
            .set_attribute(KeyValue::new("skein.example.cache_hit", false));
        let found = call(
            &state,
            &cx,
            Service::Search,
            "/search",
            json!({"query": query}),
        )
        .await?;
        call(
            &state,
            &cx,
            Service::Cache,
            "/cache/put",
            json!({"key": query, "value": found["results"]}),
        )
        .await?;
        Ok(json!({"results": found["results"]}))
    }
    .await;
    finish(&cx, &result);
    result.map(Json)
}

pub(crate) async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, CallError> {
    let cx = server_span(&state, &headers, "/search");
    let query = body["query"].as_str().unwrap_or_default().to_string();
    work(&query, 15, 25).await;
    let result = Ok(json!({"results": [
        {"title": format!("About {query}"), "url": "https://example.org/1"},
        {"title": "Background", "url": "https://example.org/2"},
    ]}));
    finish(&cx, &result);
    result.map(Json)
}

pub(crate) async fn cache_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, CallError> {
    let cx = server_span(&state, &headers, "/cache/get");
    let key = body["key"].as_str().unwrap_or_default().to_string();
    let value = state.cache.lock().ok().and_then(|c| c.get(&key).cloned());
    cx.span()
        .set_attribute(KeyValue::new("skein.example.cache_hit", value.is_some()));
    let result = Ok(json!({"value": value}));
    finish(&cx, &result);
    result.map(Json)
}

pub(crate) async fn cache_put(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, CallError> {
    let cx = server_span(&state, &headers, "/cache/put");
    if let (Some(key), Ok(mut cache)) = (body["key"].as_str(), state.cache.lock()) {
        cache.insert(key.to_string(), body["value"].clone());
    }
    let result = Ok(json!({"ok": true}));
    finish(&cx, &result);
    result.map(Json)
}

pub(crate) async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, CallError> {
    let cx = server_span(&state, &headers, "/events");
    work(&body.to_string(), 1, 3).await;
    let result = Ok(json!({"ok": true}));
    finish(&cx, &result);
    result.map(Json)
}

pub(crate) async fn health(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"service": state.service.name(), "status": "ok"}))
}
