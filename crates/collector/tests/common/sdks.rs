//! The real client SDKs of the test venv, run against a test collector: hermetic (none of the
//! caller's LangSmith, LangChain or OpenTelemetry settings leak in).

use std::process::Command;

use serde_json::Value;

use super::Collector;

/// `python tests/python/{script}` with a clean client environment.
pub fn python(script: &str) -> Command {
    let mut command = Command::new(super::python());
    command.arg(format!(
        "{}/tests/python/{script}",
        env!("CARGO_MANIFEST_DIR")
    ));
    for (key, _) in std::env::vars() {
        if key.starts_with("LANGSMITH_")
            || key.starts_with("LANGCHAIN_")
            || key.starts_with("OTEL_")
        {
            command.env_remove(key);
        }
    }
    command
}

/// The script's last line of output, as JSON; fails the test when the script failed.
pub fn last_json_line(output: std::process::Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "python failed: {stderr}\n{stdout}");
    let line = stdout.lines().last().expect("a line of output");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// The OpenTelemetry Python SDK sends the seed's agents (session `session`) through
/// `collector`; the trace id.
pub fn send_otel_seed(collector: &Collector, session: &str) -> String {
    let answer = last_json_line(
        python("seed_agents.py")
            .arg(session)
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.otlp_base)
            .output()
            .expect("run python"),
    );
    answer["trace_id"].as_str().expect("trace id").to_string()
}

/// The LangSmith SDK sends its `@traceable` run and feedback to `project` through `collector`;
/// the trace id (32 hex digits).
pub fn send_langsmith_seed(collector: &Collector, project: &str) -> String {
    let answer = last_json_line(
        python("langsmith_agents.py")
            .arg("seed")
            .env("LANGSMITH_ENDPOINT", collector.url("/api/langsmith"))
            .env("LANGSMITH_API_KEY", "test-key")
            .env("LANGSMITH_TRACING", "true")
            .env("LANGSMITH_PROJECT", project)
            .output()
            .expect("run python"),
    );
    answer["trace_id"]
        .as_str()
        .expect("trace id")
        .replace('-', "")
}
