//! A server-sent-events client for tests: reads a streamed answer as EventSource does (events
//! separated by a blank line; `event`, `id`, `data` fields; comments skipped).

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub name: String,
    pub id: String,
    pub data: serde_json::Value,
}

pub struct SseStream {
    response: reqwest::Response,
    buffer: String,
}

impl SseStream {
    /// Opens `url` (with extra headers) and checks that it streams events.
    pub async fn open(url: &str, headers: &[(&str, &str)]) -> SseStream {
        let mut request = reqwest::Client::new()
            .get(url)
            .header("accept", "text/event-stream");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("GET the stream");
        let status = response.status();
        assert_eq!(status, 200, "GET {url}");
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        SseStream {
            response,
            buffer: String::new(),
        }
    }

    /// The next event within `wait`, or none.
    pub async fn next(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse(&block) {
                    return Some(event);
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .expect("read the stream")?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Every event that comes within `wait` of the previous one.
    pub async fn drain(&mut self, wait: Duration) -> Vec<SseEvent> {
        let mut events = Vec::new();
        while let Some(e) = self.next(wait).await {
            events.push(e);
        }
        events
    }
}

fn parse(block: &str) -> Option<SseEvent> {
    let (mut name, mut id, mut data) = (String::from("message"), String::new(), Vec::new());
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => name = value.to_string(),
            "id" => id = value.to_string(),
            "data" => data.push(value.to_string()),
            _ => {}
        }
    }
    if data.is_empty() {
        return None;
    }
    let data = data.join("\n");
    Some(SseEvent {
        name,
        id,
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data)),
    })
}
