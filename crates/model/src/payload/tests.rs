//! How every client's payload reads.

use super::*;
use serde_json::json;

fn chat(text: &str) -> Vec<ChatMessage> {
    match read(text) {
        Payload::Chat(m) => m,
        other => panic!("not a chat: {other:?}"),
    }
}

#[test]
fn openai_style_messages_are_a_chat() {
    let m =
        chat(r#"[{"role":"system","content":"You are careful."},{"role":"user","content":"Hi"}]"#);
    assert_eq!(m.len(), 2);
    assert_eq!(
        (m[0].role.as_str(), m[0].text.as_str()),
        ("system", "You are careful.")
    );
    assert_eq!((m[1].role.as_str(), m[1].text.as_str()), ("user", "Hi"));
    assert!(m[1].extra.is_empty());
}

#[test]
fn parts_tool_calls_and_wrappers() {
    let m = chat(
        r#"{"messages":[{"role":"user","content":[{"type":"text","text":"Look:"},{"type":"image_url","image_url":{"url":"x"}}]},
            {"role":"assistant","content":null,"tool_calls":[{"id":"c1","function":{"name":"search"}}]}]}"#,
    );
    assert_eq!(m[0].text, "Look:");
    assert_eq!(
        m[0].extra,
        vec![json!({"type":"image_url","image_url":{"url":"x"}})]
    );
    assert_eq!(m[1].text, "");
    assert!(m[1].extra.is_empty());
    assert_eq!(m[1].tool_calls.len(), 1);
    assert_eq!(m[1].tool_calls[0].name, "search");
    assert_eq!(m[1].tool_calls[0].id.as_deref(), Some("c1"));

    // OTel GenAI parts.
    let g = chat(r#"[{"role":"user","parts":[{"type":"text","content":"Hello"}]}]"#);
    assert_eq!(g[0].text, "Hello");
}

#[test]
fn langchain_shapes() {
    let m = chat(r#"[[{"type":"human","content":"Q"},{"type":"ai","content":"A"}]]"#);
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].role, "user");
    assert_eq!(m[1].role, "assistant");
    let s = chat(
        r#"{"messages":[{"lc":1,"type":"constructor","id":["langchain","schema","messages","HumanMessage"],"kwargs":{"content":"Hey","type":"human"}}]}"#,
    );
    assert_eq!((s[0].role.as_str(), s[0].text.as_str()), ("user", "Hey"));
}

#[test]
fn everything_else_is_json_or_text() {
    assert_eq!(
        read(r#"{"query": "x"}"#),
        Payload::Json(json!({"query": "x"}))
    );
    assert_eq!(read(r#"[1, 2]"#), Payload::Json(json!([1, 2])));
    assert_eq!(read(r#"[]"#), Payload::Json(json!([])));
    assert_eq!(
        read(r#"[{"title": "Result 1"}]"#),
        Payload::Json(json!([{"title": "Result 1"}]))
    );
    assert_eq!(read(r#""quoted""#), Payload::Text("quoted".into()));
    assert_eq!(read("plain words"), Payload::Text("plain words".into()));
    assert_eq!(read("{not json"), Payload::Text("{not json".into()));
    // A list where one item is not a message is not a chat.
    assert!(matches!(
        read(r#"[{"role":"user","content":"a"}, 5]"#),
        Payload::Json(_)
    ));
}

fn calls(m: &ChatMessage) -> Vec<(String, Value)> {
    m.tool_calls
        .iter()
        .map(|c| (c.name.clone(), c.arguments.clone()))
        .collect()
}

#[test]
fn langchain_llm_result_reads_as_the_answer_with_its_tool_calls() {
    // What the LangSmith SDK, LangGraph and OpenInference record as a chat model's output.
    let m = chat(
        r#"{"generations": [[{"text": "", "generation_info": null, "type": "ChatGeneration",
            "message": {"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", "AIMessage"],
              "kwargs": {"content": "", "type": "ai", "tool_calls": [{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}],
                         "usage_metadata": {"input_tokens": 40, "output_tokens": 19, "total_tokens": 59}}}}]],
            "llm_output": null, "run": null, "type": "LLMResult"}"#,
    );
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].role, "assistant");
    assert_eq!(
        calls(&m[0]),
        vec![("get_weather".to_string(), json!({"city": "Paris"}))]
    );
    assert_eq!(m[0].tool_calls[0].id.as_deref(), Some("call_1"));
    assert_eq!(m[0].summary(), r#"get_weather({"city":"Paris"})"#);

    // A completion model's generation: text only.
    let t = chat(r#"{"generations": [[{"text": "It is sunny.", "type": "Generation"}]]}"#);
    assert_eq!(
        (t[0].role.as_str(), t[0].text.as_str()),
        ("assistant", "It is sunny.")
    );
}

#[test]
fn langchain_message_dicts_and_chain_wrappers() {
    // message_to_dict, as OpenInference records a tool's ToolMessage output.
    let m = chat(
        r#"{"type": "tool", "data": {"content": "Sunny in Paris", "type": "tool", "name": "get_weather", "tool_call_id": "call_1"}}"#,
    );
    assert_eq!(m[0].role, "tool");
    assert_eq!(m[0].text, "Sunny in Paris");
    assert_eq!(m[0].tool_call_id.as_deref(), Some("call_1"));
    assert_eq!(m[0].name.as_deref(), Some("get_weather"));
    // A chain's {"output": AIMessage}.
    let o = chat(
        r#"{"output": {"lc": 1, "type": "constructor", "id": ["langchain_core", "messages", "AIMessageChunk"], "kwargs": {"content": "Done."}}}"#,
    );
    assert_eq!(
        (o[0].role.as_str(), o[0].text.as_str()),
        ("assistant", "Done.")
    );
    // Other one-key objects stay JSON.
    assert!(matches!(read(r#"{"output": "Done."}"#), Payload::Json(_)));
}

#[test]
fn openai_completions_and_tool_messages() {
    let m = chat(
        r#"{"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "tool_calls",
            "message": {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
              "function": {"name": "search", "arguments": "{\"q\": \"rust\"}"}}]}}]}"#,
    );
    assert_eq!(
        calls(&m[0]),
        vec![("search".to_string(), json!({"q": "rust"}))]
    );
    let t = chat(r#"[{"role": "tool", "tool_call_id": "c1", "content": "3 results"}]"#);
    assert_eq!(t[0].tool_call_id.as_deref(), Some("c1"));
    assert_eq!(t[0].summary(), "3 results");
    // Arguments that are not JSON stay a string.
    let s = chat(
        r#"[{"role": "assistant", "tool_calls": [{"id": "c2", "function": {"name": "echo", "arguments": "hi"}}]}]"#,
    );
    assert_eq!(calls(&s[0]), vec![("echo".to_string(), json!("hi"))]);
}

#[test]
fn anthropic_content_blocks() {
    let m = chat(
        r#"{"id": "msg_1", "type": "message", "role": "assistant", "model": "claude",
            "content": [{"type": "text", "text": "Let me check."},
                        {"type": "tool_use", "id": "tu_1", "name": "get_weather", "input": {"city": "Oslo"}}]}"#,
    );
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].text, "Let me check.");
    assert_eq!(
        calls(&m[0]),
        vec![("get_weather".to_string(), json!({"city": "Oslo"}))]
    );
    let r = chat(
        r#"[{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": [{"type": "text", "text": "Rain"}]}]}]"#,
    );
    assert_eq!(r[0].tool_results.len(), 1);
    assert_eq!(r[0].tool_results[0].id.as_deref(), Some("tu_1"));
    assert_eq!(r[0].tool_results[0].content, "Rain");
    assert_eq!(r[0].summary(), "Rain");
}

#[test]
fn genai_parts_with_tool_calls_and_responses() {
    // pydantic-ai's gen_ai.input.messages.
    let m = chat(
        r#"[{"role":"system","parts":[{"type":"text","content":"Be brief."}]},
            {"role":"user","parts":[{"type":"text","content":"Weather in Paris?"}]},
            {"role":"assistant","parts":[{"type":"tool_call","id":"t1","name":"get_weather","arguments":{"city":"Paris"}}]},
            {"role":"user","parts":[{"type":"tool_call_response","id":"t1","name":"get_weather","result":"Sunny"}]}]"#,
    );
    assert_eq!(m.len(), 4);
    assert_eq!(
        calls(&m[2]),
        vec![("get_weather".to_string(), json!({"city": "Paris"}))]
    );
    assert_eq!(m[3].tool_results[0].content, "Sunny");
    assert_eq!(m[3].tool_results[0].name.as_deref(), Some("get_weather"));
    // The semantic conventions' own name for the answer.
    let s = chat(
        r#"[{"role":"tool","parts":[{"type":"tool_call_response","id":"t1","response":{"temp":21}}]}]"#,
    );
    assert_eq!(s[0].tool_results[0].content, r#"{"temp":21}"#);
}

#[test]
fn openai_responses_items() {
    let m = chat(
        r#"{"id": "resp_1", "object": "response", "output": [
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Need weather."}]},
            {"type": "function_call", "call_id": "fc_1", "name": "get_weather", "arguments": "{\"city\":\"Rome\"}"},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]}]}"#,
    );
    assert_eq!(m.len(), 3);
    assert_eq!(m[0].role, "reasoning");
    assert_eq!(
        calls(&m[1]),
        vec![("get_weather".to_string(), json!({"city": "Rome"}))]
    );
    assert_eq!(m[2].text, "Checking.");
    let input = chat(
        r#"[{"role": "user", "content": "Weather?"}, {"type": "function_call_output", "call_id": "fc_1", "output": "Warm"}]"#,
    );
    assert_eq!(
        (input[1].role.as_str(), input[1].text.as_str()),
        ("tool", "Warm")
    );
}

#[test]
fn vercel_ai_parts() {
    let m = chat(
        r#"[{"role": "assistant", "content": [{"type": "tool-call", "toolCallId": "v1", "toolName": "lookup", "args": {"id": 7}}]},
            {"role": "tool", "content": [{"type": "tool-result", "toolCallId": "v1", "toolName": "lookup", "result": "found"}]}]"#,
    );
    assert_eq!(calls(&m[0]), vec![("lookup".to_string(), json!({"id": 7}))]);
    assert_eq!(m[1].tool_results[0].content, "found");
}

fn attrs(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

#[test]
fn openinference_flattened_messages_become_a_conversation() {
    let a = attrs(json!({
        "llm.input_messages.0.message.role": "system",
        "llm.input_messages.0.message.content": "Be brief.",
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.contents.0.message_content.type": "text",
        "llm.input_messages.1.message.contents.0.message_content.text": "What is in",
        "llm.input_messages.1.message.contents.1.message_content.type": "image",
        "llm.input_messages.1.message.contents.1.message_content.image.image.url": "https://x/cat.png",
        "llm.input_messages.2.message.role": "assistant",
        "llm.input_messages.2.message.tool_calls.0.tool_call.id": "call_1",
        "llm.input_messages.2.message.tool_calls.0.tool_call.function.name": "get_weather",
        "llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments": "{\"city\": \"Paris\"}",
        "llm.input_messages.10.message.role": "tool",
        "llm.input_messages.10.message.content": "Sunny in Paris",
        "llm.input_messages.10.message.tool_call_id": "call_1",
        "llm.input_messages.10.message.name": "get_weather",
        "llm.input_messages_other.0.message.role": "ignored",
    }));
    let text = span_io::input(&a).expect("an input");
    let m = chat(&text);
    assert_eq!(m.len(), 4, "{text}");
    assert_eq!(
        (m[0].role.as_str(), m[0].text.as_str()),
        ("system", "Be brief.")
    );
    assert_eq!(m[1].text, "What is in");
    assert_eq!(
        m[1].extra,
        vec![json!({"type": "image_url", "image_url": {"url": "https://x/cat.png"}})]
    );
    assert_eq!(
        calls(&m[2]),
        vec![("get_weather".to_string(), json!({"city": "Paris"}))]
    );
    // Index 10 comes after 2 (numeric order, not text order).
    assert_eq!(m[3].tool_call_id.as_deref(), Some("call_1"));
    assert_eq!(m[3].name.as_deref(), Some("get_weather"));
}

#[test]
fn raw_values_win_when_they_read_as_a_conversation() {
    let langchain_input = r#"{"messages": [[{"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", "HumanMessage"], "kwargs": {"content": "Hi", "type": "human"}}]]}"#;
    let a = attrs(json!({
        "input.value": langchain_input,
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "Hi",
    }));
    assert_eq!(span_io::input(&a).as_deref(), Some(langchain_input));
    // A raw request that is not a conversation gives way to the flattened messages.
    let b = attrs(json!({
        "input.value": "{\"model\": \"gpt-4o\", \"input\": 5}",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "Hi",
    }));
    assert_eq!(chat(&span_io::input(&b).unwrap())[0].text, "Hi");
    // Plain OpenInference values are kept as sent.
    let c = attrs(json!({"input.value": "Paris", "output.value": "Sunny"}));
    assert_eq!(span_io::input(&c).as_deref(), Some("Paris"));
    assert_eq!(span_io::output(&c).as_deref(), Some("Sunny"));
}

#[test]
fn openllmetry_flattened_prompt_and_completion() {
    let a = attrs(json!({
        "gen_ai.prompt.0.role": "user",
        "gen_ai.prompt.0.content": "Add 2 and 3",
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.tool_calls.0.name": "add",
        "gen_ai.completion.0.tool_calls.0.arguments": "{\"a\": 2, \"b\": 3}",
    }));
    assert_eq!(chat(&span_io::input(&a).unwrap())[0].text, "Add 2 and 3");
    let out = chat(&span_io::output(&a).unwrap());
    assert_eq!(
        calls(&out[0]),
        vec![("add".to_string(), json!({"a": 2, "b": 3}))]
    );
}

#[test]
fn genai_tool_and_agent_spans_have_their_input_and_output() {
    // pydantic-ai's execute_tool span.
    let tool = attrs(json!({
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.call.arguments": "{\"city\":\"a\"}",
        "gen_ai.tool.call.result": "Sunny in a",
    }));
    assert_eq!(span_io::input(&tool).as_deref(), Some("{\"city\":\"a\"}"));
    assert_eq!(span_io::output(&tool).as_deref(), Some("Sunny in a"));
    // Its invoke_agent span: the run's conversation in, the final result out.
    let agent = attrs(json!({
        "final_result": "{\"get_weather\":\"Sunny in a\"}",
        "pydantic_ai.all_messages": "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Weather?\"}]}]",
    }));
    assert_eq!(chat(&span_io::input(&agent).unwrap())[0].text, "Weather?");
    assert_eq!(
        span_io::output(&agent).as_deref(),
        Some("{\"get_weather\":\"Sunny in a\"}")
    );
    // Structured values arrive as JSON text.
    let structured = attrs(json!({"gen_ai.tool.call.arguments": {"city": "b"}}));
    assert_eq!(
        span_io::input(&structured).as_deref(),
        Some(r#"{"city":"b"}"#)
    );
}

#[test]
fn genai_system_instructions_come_first() {
    let a = attrs(json!({
        "gen_ai.system_instructions": "[{\"type\":\"text\",\"content\":\"Be kind.\"}]",
        "gen_ai.input.messages": "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Hi\"}]}]",
    }));
    let m = chat(&span_io::input(&a).unwrap());
    assert_eq!(
        (m[0].role.as_str(), m[0].text.as_str()),
        ("system", "Be kind.")
    );
    assert_eq!(m[1].text, "Hi");
}

#[test]
fn vercel_ai_response_with_tool_calls() {
    let a = attrs(json!({
        "ai.response.text": "",
        "ai.response.toolCalls": "[{\"toolCallType\":\"function\",\"toolCallId\":\"x\",\"toolName\":\"weather\",\"args\":\"{\\\"city\\\":\\\"Lima\\\"}\"}]",
    }));
    let m = chat(&span_io::output(&a).unwrap());
    assert_eq!(
        calls(&m[0]),
        vec![("weather".to_string(), json!({"city": "Lima"}))]
    );
    let plain = attrs(json!({"ai.response.text": "Hello"}));
    assert_eq!(span_io::output(&plain).as_deref(), Some("Hello"));
}
