//! The trace-summary rules of `skein_model::trace_fold` that ClickHouse applies in SQL when it
//! filters, groups or counts by them: a trace's tags are its best-ranked span's without
//! instrumentation's own keys (`skein_model::trace_tags`), and its usage is its model calls'
//! unless none reports any.

use skein_model::span::SpanType;
use skein_model::trace_tags::{internal_keys, internal_prefixes, is_model_call};

use super::client::quote;

/// Whether a `spans` row is a model call.
pub(super) fn model_call() -> String {
    let codes: Vec<String> = SpanType::ALL
        .into_iter()
        .filter(|t| is_model_call(*t))
        .map(|t| t.code().to_string())
        .collect();
    format!("span_type IN ({})", codes.join(", "))
}

/// A trace's counted usage as aggregates over its spans: `in_tokens`, `out_tokens`, `cost_sum`.
pub(super) fn counted_usage() -> String {
    let model = model_call();
    let reports = format!("countIf({model} AND (input_tokens != 0 OR output_tokens != 0)) > 0");
    format!(
        "if({reports}, sumIf(input_tokens, {model}), sum(input_tokens)) AS in_tokens, \
         if({reports}, sumIf(output_tokens, {model}), sum(output_tokens)) AS out_tokens, \
         if({reports}, sumIf(cost, {model}), sum(cost)) AS cost_sum"
    )
}

/// Whether the tag key in column `k` is a user's (not instrumentation's own).
pub(super) fn user_key(k: &str) -> String {
    let mut internal: Vec<String> = internal_prefixes()
        .iter()
        .map(|p| format!("substring({k}, 1, {}) = {}", p.len(), quote(p)))
        .collect();
    let keys: Vec<String> = internal_keys().iter().map(|key| quote(key)).collect();
    internal.push(format!("{k} IN ({})", keys.join(", ")));
    format!("NOT ({})", internal.join(" OR "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_calls_are_llm_embedding_and_reranker_codes() {
        assert_eq!(model_call(), "span_type IN (1, 5, 6)");
    }

    #[test]
    fn instrumentation_keys_are_filtered_by_prefix_and_name() {
        let sql = user_key("k");
        assert!(sql.contains("substring(k, 1, 10) = 'langgraph_'"), "{sql}");
        assert!(sql.contains("'final_result'"), "{sql}");
    }
}
