//! What each real client's trace looks like: the same small tool-using agent run sent by
//! pydantic-ai, OpenInference's LangChain and OpenAI Agents instrumentors and the LangSmith SDK
//! (crates/collector/tests/python/payload_clients.py), each in its own project: the list, the
//! trace with its last model call open (the conversation with its tool call and answer), two
//! traces compared, sessions and the tokens metric. Needs the test venv (`bash scripts/setup.sh venv`).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use thirtyfour::prelude::*;

use crate::common::{eventually, js, repo_root, texts, Browser, Collector};
use crate::shots::{set_theme, shot};

const WAIT: Duration = Duration::from_secs(20);
const CLIENTS: [&str; 4] = ["pydantic-ai", "openinference", "openai-agents", "langsmith"];

/// Runs one client of payload_clients.py into `project`, twice (two traces to compare).
fn send(collector: &Collector, client: &str, project: &str) {
    let root = repo_root();
    for _ in 0..2 {
        let mut command = Command::new(root.join(".venv/bin/python"));
        command.arg(root.join("crates/collector/tests/python/payload_clients.py"));
        for (key, _) in std::env::vars() {
            if ["LANGSMITH_", "LANGCHAIN_", "OTEL_"]
                .iter()
                .any(|p| key.starts_with(p))
            {
                command.env_remove(key);
            }
        }
        let status = command
            .arg(client)
            .env(
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                collector.otlp_traces_url(),
            )
            .env(
                "OTEL_EXPORTER_OTLP_HEADERS",
                format!("x-skein-project={project}"),
            )
            .env("LANGSMITH_ENDPOINT", collector.url("/api/langsmith"))
            .env("LANGSMITH_API_KEY", "screenshots")
            .env("LANGSMITH_TRACING", "true")
            .env("LANGSMITH_PROJECT", project)
            .status()
            .expect("run the Python client");
        assert!(status.success(), "{client} failed");
    }
}

pub async fn run(dir: &Path) {
    let collector = Collector::start(false).await;
    for client in CLIENTS {
        send(&collector, client, client);
    }
    let browser = Browser::start().await;
    let driver = &browser.driver;
    for theme in ["light", "dark"] {
        for client in CLIENTS {
            driver
                .goto(collector.url(&format!("/traces?project={client}")))
                .await
                .unwrap();
            set_theme(driver, theme).await;
            eventually(WAIT, "two traces", || async {
                (texts(driver, "tr.trace-row").await.len() >= 2).then_some(())
            })
            .await;
            shot(driver, dir, &format!("client-{client}-list-{theme}")).await;
            let mut ids = Vec::new();
            for row in driver.find_all(By::Css("tr.trace-row")).await.unwrap() {
                ids.push(row.attr("data-trace-id").await.unwrap().unwrap_or_default());
            }
            let (a, b) = (&ids[0], &ids[1]);
            driver
                .goto(collector.url(&format!("/traces/{a}?project={client}")))
                .await
                .unwrap();
            eventually(WAIT, "spans", || async {
                (!texts(driver, ".span-row[data-span-id]").await.is_empty()).then_some(())
            })
            .await;
            // The last model call: its input has the whole conversation.
            let model_rows = driver
                .find_all(By::Css(".span-row[data-span-id]"))
                .await
                .unwrap();
            let mut last_llm = None;
            for row in model_rows {
                if row.find(By::Css(".t-llm")).await.is_ok() {
                    last_llm = Some(row);
                }
            }
            if let Some(row) = last_llm {
                row.click().await.unwrap();
                eventually(WAIT, "the detail", || async {
                    (!texts(driver, "[data-testid=detail-input] .chat")
                        .await
                        .is_empty())
                    .then_some(())
                })
                .await;
            }
            shot(driver, dir, &format!("client-{client}-trace-{theme}")).await;
            js(
                driver,
                "document.querySelector('[data-testid=detail-input]')?.scrollIntoView({block: 'start'})",
            )
            .await;
            shot(
                driver,
                dir,
                &format!("client-{client}-conversation-{theme}"),
            )
            .await;
            driver
                .goto(collector.url(&format!("/compare?project={client}&a={a}&b={b}&row=1")))
                .await
                .unwrap();
            eventually(WAIT, "compared rows", || async {
                (!texts(driver, "[data-testid=compare-row]").await.is_empty()).then_some(())
            })
            .await;
            shot(driver, dir, &format!("client-{client}-compare-{theme}")).await;
            for (page, path) in [
                ("sessions", format!("/sessions?project={client}")),
                (
                    "metrics",
                    format!("/metrics?project={client}&metric=total_tokens"),
                ),
            ] {
                driver.goto(collector.url(&path)).await.unwrap();
                tokio::time::sleep(Duration::from_millis(1500)).await;
                shot(driver, dir, &format!("client-{client}-{page}-{theme}")).await;
            }
        }
    }
    browser.quit().await;
}
