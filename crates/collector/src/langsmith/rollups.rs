//! What LangSmith shows on a run beyond the span itself: `feedback_stats` (the run's feedback
//! per key) and the `total_tokens` of a run whose model calls are its descendants.
//!
//! Both come from what the store already keeps per trace: the trace's feedback records (what
//! the trace list's feedback summaries read) and its spans' token counts (the trace's spans,
//! or its skeleton). A run's usage is counted where the model call is, as the trace totals are:
//! a run with usage of its own keeps it; one without sums its children's, each counted the
//! same way, so a chain that repeats its LLM's usage is not counted on top of it.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};
use skein_model::span::Span;
use skein_model::Feedback;

use super::ids;
use crate::context::AppState;
use crate::error::ApiResult;
use crate::store::FeedbackFilter;

/// Most feedback records of one trace read for the runs' stats.
const MAX_TRACE_FEEDBACK: u32 = 10_000;
/// Most comments listed per key in a run's stats.
const MAX_COMMENTS: usize = 20;

/// The span id of a run UUID: its hash, or the span itself for an OTLP span's synthetic id.
pub fn span_of_run(run: &uuid::Uuid) -> String {
    ids::synthetic_span(run).unwrap_or_else(|| ids::span_hex(run))
}

/// Per span id, LangSmith's `feedback_stats` of the feedback on it, from the trace's records.
pub async fn feedback_stats(
    state: &AppState,
    project: &str,
    trace_id: &str,
) -> ApiResult<HashMap<String, Value>> {
    let records = state
        .store
        .list_feedback(
            project,
            FeedbackFilter {
                trace_id: Some(trace_id.to_string()),
                limit: Some(MAX_TRACE_FEEDBACK),
                ..FeedbackFilter::default()
            },
        )
        .await?;
    let mut by_run: HashMap<String, BTreeMap<String, Vec<&Feedback>>> = HashMap::new();
    for f in &records {
        by_run
            .entry(f.run_id.clone())
            .or_default()
            .entry(f.key.clone())
            .or_default()
            .push(f);
    }
    Ok(by_run
        .into_iter()
        .map(|(run, keys)| {
            let stats: Map<String, Value> = keys
                .into_iter()
                .map(|(key, records)| (key, key_stats(&records)))
                .collect();
            (run, Value::Object(stats))
        })
        .collect())
}

/// One key's stats as LangSmith gives them: count, mean, spread, extremes of the scores,
/// counts of the (non-numeric) values, and the comments.
fn key_stats(records: &[&Feedback]) -> Value {
    let scores: Vec<f64> = records.iter().filter_map(|f| f.score).collect();
    let avg = (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64);
    let stdev = avg.map(|m| {
        (scores.iter().map(|s| (s - m).powi(2)).sum::<f64>() / scores.len() as f64).sqrt()
    });
    let mut values: BTreeMap<String, u64> = BTreeMap::new();
    for v in records.iter().filter_map(|f| f.value.as_ref()) {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        *values.entry(text).or_default() += 1;
    }
    let comments: Vec<&str> = records
        .iter()
        .filter_map(|f| f.comment.as_deref())
        .take(MAX_COMMENTS)
        .collect();
    json!({
        "n": records.len(),
        "avg": avg,
        "stdev": stdev,
        "min": scores.iter().copied().reduce(f64::min),
        "max": scores.iter().copied().reduce(f64::max),
        "errors": 0,
        "values": values,
        "comments": comments,
    })
}

/// Token totals per span id with usage counted where the model call is (see the module docs),
/// from each span's own tokens (`None`: no usage of its own) and its parent.
pub fn subtree_tokens<'a>(
    spans: impl IntoIterator<Item = (&'a str, Option<&'a str>, Option<i64>)>,
) -> HashMap<String, i64> {
    let spans: Vec<(&str, Option<&str>, Option<i64>)> = spans.into_iter().collect();
    let index: HashMap<&str, usize> = spans.iter().enumerate().map(|(i, s)| (s.0, i)).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut roots = Vec::new();
    for (i, (_, parent, _)) in spans.iter().enumerate() {
        match parent.and_then(|p| index.get(p)).filter(|&&p| p != i) {
            Some(&p) => children[p].push(i),
            None => roots.push(i),
        }
    }
    // Post-order without recursion (a trace may be deep); a cycle in bad input is cut by
    // visiting each span once.
    let mut total: Vec<Option<i64>> = vec![None; spans.len()];
    let mut visited = vec![false; spans.len()];
    let mut stack: Vec<(usize, bool)> = roots.into_iter().map(|r| (r, false)).collect();
    // Spans only reachable through a cycle are roots of their own.
    stack.extend((0..spans.len()).rev().map(|i| (i, false)));
    while let Some((i, expanded)) = stack.pop() {
        if expanded {
            let own = spans[i].2.filter(|t| *t > 0);
            let kids: i64 = children[i].iter().filter_map(|&c| total[c]).sum();
            total[i] = own.or((kids > 0).then_some(kids));
            continue;
        }
        if visited[i] {
            continue;
        }
        visited[i] = true;
        stack.push((i, true));
        stack.extend(
            children[i]
                .iter()
                .filter(|&&c| !visited[c])
                .map(|&c| (c, false)),
        );
    }
    spans
        .iter()
        .zip(total)
        .filter_map(|(s, t)| t.map(|t| (s.0.to_string(), t)))
        .collect()
}

/// Subtree token totals from a trace's spans.
pub fn subtree_tokens_of_spans(spans: &[Span]) -> HashMap<String, i64> {
    subtree_tokens(spans.iter().map(|s| {
        (
            s.span_id.as_str(),
            s.parent_span_id.as_deref(),
            s.total_tokens(),
        )
    }))
}

/// Subtree token totals from the trace's skeleton (when only one span was read).
pub async fn subtree_tokens_of_trace(
    state: &AppState,
    project: &str,
    trace_id: &str,
) -> ApiResult<HashMap<String, i64>> {
    let Some(skeleton) = state.store.trace(project, trace_id).await? else {
        return Ok(HashMap::new());
    };
    let spans = &skeleton.spans;
    let ids: Vec<String> = spans.iter().map(|s| s.span_id().to_string()).collect();
    Ok(subtree_tokens(spans.iter().zip(&ids).map(|(s, id)| {
        (
            id.as_str(),
            s.parent().and_then(|p| ids.get(p)).map(String::as_str),
            Some(s.tokens()),
        )
    })))
}

/// Writes the stats and totals into runs (LangSmith run JSON, `id` their UUID).
pub fn apply(runs: &mut [Value], stats: &HashMap<String, Value>, tokens: &HashMap<String, i64>) {
    for run in runs {
        let Some(span) = run
            .get("id")
            .and_then(Value::as_str)
            .and_then(ids::parse_uuid)
            .map(|u| span_of_run(&u))
        else {
            continue;
        };
        if let Some(s) = stats.get(&span) {
            run["feedback_stats"] = s.clone();
        }
        if run.get("total_tokens").is_none_or(Value::is_null) {
            if let Some(t) = tokens.get(&span) {
                run["total_tokens"] = json!(t);
            }
        }
    }
}

/// Stats and totals for runs of one trace whose spans are all at hand.
pub async fn fill_from_spans(
    state: &AppState,
    project: &str,
    trace_id: &str,
    spans: &[Span],
    runs: &mut [Value],
) -> ApiResult<()> {
    let stats = feedback_stats(state, project, trace_id).await?;
    apply(runs, &stats, &subtree_tokens_of_spans(spans));
    Ok(())
}

/// Stats and totals for runs read alone (`runs[i]` is `spans[i]`'s run), one read of each
/// trace's feedback, and of its skeleton only when a run has no usage of its own.
pub async fn fill_many(state: &AppState, spans: &[Span], runs: &mut [Value]) -> ApiResult<()> {
    type Rollup = (HashMap<String, Value>, HashMap<String, i64>);
    let mut by_trace: HashMap<(&str, &str), Rollup> = HashMap::new();
    for (span, run) in spans.iter().zip(runs.iter_mut()) {
        let key = (span.project.as_str(), span.trace_id.as_str());
        let (stats, tokens) = match by_trace.entry(key) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => {
                new.insert((feedback_stats(state, key.0, key.1).await?, HashMap::new()))
            }
        };
        let needs_tokens = span.total_tokens().is_none();
        if needs_tokens && tokens.is_empty() {
            *tokens = subtree_tokens_of_trace(state, key.0, key.1).await?;
        }
        apply(std::slice::from_mut(run), stats, tokens);
    }
    Ok(())
}

/// Stats and totals for one run read alone.
pub async fn fill_one(state: &AppState, span: &Span, run: &mut Value) -> ApiResult<()> {
    fill_many(state, std::slice::from_ref(span), std::slice::from_mut(run)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_counted_where_the_model_call_is() {
        let spans = [
            ("root", None, None),
            ("chain", Some("root"), Some(59)), // repeats its LLM's usage
            ("llm", Some("chain"), Some(59)),
            ("tool", Some("root"), None),
            ("llm2", Some("root"), Some(10)),
        ];
        let totals = subtree_tokens(spans.iter().copied());
        assert_eq!(totals["root"], 69);
        assert_eq!(totals["chain"], 59);
        assert_eq!(totals["llm"], 59);
        assert!(!totals.contains_key("tool"));
    }

    #[test]
    fn a_parent_cycle_ends() {
        let spans = [("a", Some("b"), Some(1)), ("b", Some("a"), None)];
        let totals = subtree_tokens(spans.iter().copied());
        assert_eq!(totals["a"], 1);
    }

    #[test]
    fn stats_per_key() {
        let f = |score: Option<f64>, comment: Option<&str>| Feedback {
            id: "x".into(),
            project: "p".into(),
            run_id: "r".into(),
            trace_id: None,
            key: "k".into(),
            score,
            value: None,
            comment: comment.map(str::to_string),
            correction: None,
            source: "api".into(),
            queue_id: None,
            reviewer: None,
            created_ms: 0,
            modified_ms: 0,
        };
        let (a, b) = (f(Some(1.0), Some("good")), f(Some(0.0), None));
        let stats = key_stats(&[&a, &b]);
        assert_eq!(stats["n"], 2);
        assert_eq!(stats["avg"], 0.5);
        assert_eq!(stats["min"], 0.0);
        assert_eq!(stats["max"], 1.0);
        assert_eq!(stats["comments"], json!(["good"]));
    }
}
