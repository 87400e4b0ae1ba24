//! The feedback half of the query benchmark: stores the records through the API, then times
//! the feedback metrics and the trace list whose rows carry them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Api, FeedbackLoad, QueriesConfig, QueriesError, QueryTiming, EVAL_KEY};

/// What the feedback records refer to: the demo's own records and every loaded span.
pub(super) struct FeedbackSource {
    pub(super) demo: Vec<skein_model::NewFeedback>,
    pub(super) span_ids: Vec<([u8; 16], [u8; 8])>,
}

impl FeedbackSource {
    /// The `i`-th record: the demo's records first, then the evaluator's score on each span
    /// in turn (a span gets a second one only past one per span).
    fn record(&self, i: usize) -> Option<skein_model::NewFeedback> {
        if let Some(f) = self.demo.get(i) {
            return Some(f.clone());
        }
        let n = self.span_ids.len().max(1);
        let (trace, span) = self.span_ids.get((i - self.demo.len()) % n)?;
        let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
        // Scores spread over [0, 1] in hundredths, varying from record to record.
        let score = ((i as u64).wrapping_mul(2_654_435_761) % 101) as f64 / 100.0;
        Some(skein_model::NewFeedback {
            run_id: hex(span),
            trace_id: Some(hex(trace)),
            key: EVAL_KEY.into(),
            score: Some(score),
            source: Some("model".into()),
            ..skein_model::NewFeedback::default()
        })
    }
}

/// Stores `config.feedback` records, one `POST /api/v1/feedback` each (the API has no batch
/// form), `config.feedback_connections` at a time; a 201 means committed.
pub(super) async fn store_feedback(
    http: &reqwest::Client,
    config: &QueriesConfig,
    source: FeedbackSource,
) -> Result<FeedbackLoad, QueriesError> {
    let total = config.feedback;
    let url = format!("{}/api/v1/feedback", config.api_url);
    let connections = config.feedback_connections.max(1);
    eprintln!("  storing {total} feedback records, {connections} requests at a time");
    let demo_records = source.demo.len().min(total);
    let source = Arc::new(source);
    let next = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (source, next, retries, http) =
            (source.clone(), next.clone(), retries.clone(), http.clone());
        let (url, project) = (url.clone(), config.project.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok(());
                }
                let Some(record) = source.record(i) else {
                    return Err(QueriesError::Unexpected {
                        url: url.clone(),
                        why: "no span to give feedback on".into(),
                    });
                };
                let body = serde_json::to_vec(&record).unwrap_or_default();
                loop {
                    let response = http
                        .post(&url)
                        .header(skein_model::PROJECT_HEADER, &project)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .map_err(|source| QueriesError::Http {
                            url: url.clone(),
                            source,
                        })?;
                    let status = response.status().as_u16();
                    if status == 201 {
                        break;
                    }
                    if status == 503 || status == 429 {
                        retries.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                    return Err(QueriesError::Refused {
                        url: url.clone(),
                        status,
                        body: response.text().await.unwrap_or_default(),
                    });
                }
            }
        });
    }
    while let Some(result) = workers.join_next().await {
        if let Ok(r) = result {
            r?;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let loaded = FeedbackLoad {
        records: total,
        demo_records,
        connections,
        retries: retries.load(Ordering::Relaxed),
        seconds,
        records_per_second: total as f64 / seconds,
    };
    eprintln!(
        "  stored {total} feedback records in {seconds:.1} s ({:.0} a second)",
        loaded.records_per_second
    );
    Ok(loaded)
}

/// The evaluator's feedback metric, grouped as the benchmark times it.
pub(super) fn eval_metric_path() -> String {
    format!("/api/v1/metrics?metric=feedback:{EVAL_KEY}&group_by=ab_test_variant")
}

/// The feedback metrics (the evaluator's key on every span; the users' key on some root runs)
/// and the trace list, whose rows now carry feedback summaries.
pub(super) async fn time_feedback_queries(
    client: &Api<'_>,
    repeats: usize,
) -> Result<Vec<QueryTiming>, QueriesError> {
    // A metric over no feedback would be fast and meaningless: check there is some.
    let path = eval_metric_path();
    if !client.has_feedback().await? {
        return Err(QueriesError::Unexpected {
            url: path,
            why: "no trace has the feedback just stored".into(),
        });
    }
    let timed = [
        (
            "feedback metric by tag (feedback:quality by ab_test_variant)".to_string(),
            path,
            Some(100.0),
        ),
        (
            "feedback metric by tag (feedback:user_satisfaction by ab_test_variant)".to_string(),
            "/api/v1/metrics?metric=feedback:user_satisfaction&group_by=ab_test_variant".into(),
            Some(100.0),
        ),
        (
            "trace list with feedback, no filter".to_string(),
            "/api/v1/traces?limit=50".into(),
            Some(100.0),
        ),
        (
            "trace list with feedback, 1 tag filter".to_string(),
            "/api/v1/traces?tag=env%3Dproduction&limit=50".into(),
            Some(100.0),
        ),
    ];
    let mut out = Vec::new();
    for (name, path, target) in timed {
        out.push(
            client
                .time(&name, target, repeats, |_| path.clone())
                .await?,
        );
    }
    Ok(out)
}
