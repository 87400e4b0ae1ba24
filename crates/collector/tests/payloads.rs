//! What a user reads as a span's input and output, for each client that records
//! conversations its own way: the same small agent run (model asks for get_weather, the tool
//! answers, the model answers in words) traced by pydantic-ai's OTel instrumentation,
//! OpenInference's LangChain instrumentor and the LangSmith SDK, read back over HTTP and read
//! the way the dashboard, sessions and search read it (`skein_model::payload`).

mod common;

use common::sdks::{last_json_line, python};
use common::{get_json, wait_for_traces, Collector};
use serde_json::{json, Value};
use skein_model::payload::{self, ChatMessage, Payload};

fn run_client(collector: &Collector, client: &str, project: &str) {
    let answer = last_json_line(
        python("payload_clients.py")
            .arg(client)
            .env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &collector.otlp_traces)
            .env(
                "OTEL_EXPORTER_OTLP_HEADERS",
                format!("x-skein-project={project}"),
            )
            .env("LANGSMITH_ENDPOINT", collector.url("/api/langsmith"))
            .env("LANGSMITH_API_KEY", "test-key")
            .env("LANGSMITH_TRACING", "true")
            .env("LANGSMITH_PROJECT", project)
            .output()
            .expect("run the Python client"),
    );
    assert_eq!(answer["client"], client);
}

/// Every span of the project's one trace, in start order, as the span endpoint answers, once
/// it has `count` spans and the spans named `with_output` have their output (the LangSmith SDK
/// sends a run's end after its start).
async fn spans(
    collector: &Collector,
    project: &str,
    count: usize,
    with_output: &[&str],
) -> Vec<Value> {
    let page = wait_for_traces(collector, &format!("project={project}"), 1).await;
    let trace_id = page["traces"][0]["trace_id"].as_str().expect("trace id");
    for _ in 0..100 {
        let skeleton =
            get_json(&collector.url(&format!("/api/v1/traces/{trace_id}?project={project}"))).await;
        let mut out = Vec::new();
        for s in skeleton["spans"].as_array().expect("spans") {
            let id = s[0].as_str().expect("span id");
            out.push(
                get_json(&collector.url(&format!(
                    "/api/v1/traces/{trace_id}/spans/{id}?project={project}"
                )))
                .await,
            );
        }
        let ended = out
            .iter()
            .filter(|s| with_output.contains(&s["name"].as_str().unwrap_or("")))
            .all(|s| s["output"].is_string());
        if out.len() >= count && ended {
            out.sort_by_key(|s| s["start_ns"].as_i64());
            return out;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the trace of {project} did not complete");
}

fn conversation(span: &Value, side: &str) -> Vec<ChatMessage> {
    let text = span[side]
        .as_str()
        .unwrap_or_else(|| panic!("{}'s {side} is not recorded: {span}", span["name"]));
    match payload::read(text) {
        Payload::Chat(messages) => messages,
        other => panic!(
            "{}'s {side} does not read as a conversation: {other:?}",
            span["name"]
        ),
    }
}

fn named<'a>(spans: &'a [Value], name: &str) -> Vec<&'a Value> {
    spans.iter().filter(|s| s["name"] == name).collect()
}

/// The model's first turn asks for the tool; its second reads the tool's answer.
fn assert_model_turns(
    first_out: &[ChatMessage],
    second_in: &[ChatMessage],
    second_out: &[ChatMessage],
) {
    let ask = first_out.last().expect("the first answer");
    assert_eq!(ask.role, "assistant");
    assert_eq!(ask.tool_calls.len(), 1, "{ask:?}");
    assert_eq!(ask.tool_calls[0].name, "get_weather");
    let roles: Vec<&str> = second_in.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles[..2], ["system", "user"], "{second_in:?}");
    assert_eq!(second_in[1].text, "What's the weather in Paris?");
    assert!(
        second_in
            .iter()
            .any(|m| m.tool_calls.iter().any(|c| c.name == "get_weather")),
        "the second turn's input shows the call: {second_in:?}"
    );
    assert!(
        second_in
            .iter()
            .any(|m| m.summary().starts_with("Sunny in ")),
        "the second turn's input shows the tool's answer: {second_in:?}"
    );
    let answer = second_out.last().expect("the second answer");
    assert_eq!(answer.role, "assistant");
    assert!(!answer.summary().is_empty());
}

#[tokio::test]
async fn langchain_outputs_read_as_the_models_answer_with_openinference_and_langsmith() {
    let collector = Collector::start();
    for (client, project) in [
        ("openinference", "pl-openinference"),
        ("langsmith", "pl-langsmith"),
    ] {
        run_client(&collector, client, project);
        let spans = spans(
            &collector,
            project,
            4,
            &["weather_chain", "GenericFakeChatModel", "get_weather"],
        )
        .await;
        let models = named(&spans, "GenericFakeChatModel");
        assert_eq!(models.len(), 2, "{client}: two model calls");
        let first_out = conversation(models[0], "output");
        assert_model_turns(
            &first_out,
            &conversation(models[1], "input"),
            &conversation(models[1], "output"),
        );
        assert_eq!(
            first_out[0].tool_calls[0].arguments,
            json!({"city": "Paris"}),
            "{client}"
        );
        assert_eq!(
            conversation(models[1], "output")[0].text,
            "It is sunny in Paris.",
            "{client}"
        );
        // The tool span: its argument in, its answer out (a ToolMessage reads as one).
        let tool = named(&spans, "get_weather")[0];
        let out = match payload::read(tool["output"].as_str().expect("tool output")) {
            Payload::Chat(m) => m[0].summary(),
            Payload::Text(t) => t,
            Payload::Json(v) => v.to_string(),
        };
        assert_eq!(out, "Sunny in Paris", "{client}");
    }
}

#[tokio::test]
async fn genai_tool_and_agent_spans_show_arguments_results_and_the_final_result() {
    let collector = Collector::start();
    run_client(&collector, "pydantic-ai", "pl-pydantic");
    let spans = spans(&collector, "pl-pydantic", 4, &[]).await;
    let chats = named(&spans, "chat test");
    assert_eq!(chats.len(), 2);
    assert_model_turns(
        &conversation(chats[0], "output"),
        &conversation(chats[1], "input"),
        &conversation(chats[1], "output"),
    );
    // The tool span was "Not recorded" before: GenAI keeps its call in gen_ai.tool.call.*.
    let tool = named(&spans, "execute_tool get_weather")[0];
    let args: Value = serde_json::from_str(tool["input"].as_str().expect("tool input")).unwrap();
    assert!(args["city"].is_string(), "{args}");
    assert!(tool["output"]
        .as_str()
        .expect("tool output")
        .starts_with("Sunny in "));
    // The agent span: the run's conversation in, its final result out.
    let agent = named(&spans, "invoke_agent weather_agent")[0];
    let run = conversation(agent, "input");
    assert_eq!(run[1].text, "What's the weather in Paris?");
    assert!(run.iter().any(|m| !m.tool_results.is_empty()), "{run:?}");
    assert!(agent["output"]
        .as_str()
        .expect("final result")
        .contains("Sunny in "));
}

#[tokio::test]
async fn openai_responses_read_as_a_conversation_through_openinference() {
    let collector = Collector::start();
    run_client(&collector, "openai-agents", "pl-openai-agents");
    let spans = spans(&collector, "pl-openai-agents", 5, &[]).await;
    let responses = named(&spans, "response");
    assert_eq!(responses.len(), 2);
    // Its input: the Responses API's items (a message, a function call, its output).
    let second_in = conversation(responses[1], "input");
    assert_eq!(second_in[0].text, "What's the weather in Paris?");
    assert_eq!(second_in[1].tool_calls[0].name, "get_weather");
    assert_eq!(
        second_in[1].tool_calls[0].arguments,
        json!({"city": "Paris"})
    );
    assert_eq!(
        (second_in[2].role.as_str(), second_in[2].text.as_str()),
        ("tool", "Sunny in Paris")
    );
    // Its output: the Response object's output items.
    let first_out = conversation(responses[0], "output");
    assert_eq!(first_out[0].tool_calls[0].id.as_deref(), Some("call_1"));
    let answer = conversation(responses[1], "output");
    assert_eq!(answer[0].text, "It is sunny in Paris.");
    let tool = named(&spans, "get_weather")[0];
    assert_eq!(tool["output"], "Sunny in Paris");
}
