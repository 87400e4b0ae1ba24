//! The span list (`GET /api/v1/spans/export?format=otlp`) as OTLP/JSON lines: a page of
//! selected spans read in full and written, per trace, as one export request on a line
//! (`otlp::trace_request`). Each line, POSTed to `/v1/traces` as `application/json`, stores
//! those spans again; a trace whose spans span pages has a line per page.

use skein_model::span::Span;
use skein_model::span_list::SpanRow;

use super::otlp;
use crate::store::{Store, StoreError, StoreResult};

/// The rows' traces, in the order they first appear, each with its rows' span ids.
fn by_trace(rows: &[SpanRow]) -> Vec<(&str, Vec<&str>)> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for row in rows {
        match groups.iter_mut().find(|(t, _)| *t == row.trace_id) {
            Some((_, ids)) => ids.push(&row.span_id),
            None => groups.push((&row.trace_id, vec![&row.span_id])),
        }
    }
    groups
}

/// The rows' spans in full, a trace at a time: one read for a trace's one span, else its
/// spans read together (a query per trace, not per span). A span removed since it was listed
/// (retention) is left out.
async fn full_spans(
    store: &dyn Store,
    project: &str,
    trace_id: &str,
    span_ids: &[&str],
) -> StoreResult<Vec<Span>> {
    if let [one] = span_ids {
        return Ok(store
            .span(project, trace_id, one)
            .await?
            .into_iter()
            .collect());
    }
    let mut all = store.trace_spans(project, trace_id).await?;
    all.retain(|s| span_ids.contains(&s.span_id.as_str()));
    // In the list's order.
    all.sort_by_key(|s| span_ids.iter().position(|id| *id == s.span_id));
    Ok(all)
}

/// Appends a line per trace of the page.
pub async fn write_page(
    store: &dyn Store,
    project: &str,
    rows: &[SpanRow],
    out: &mut Vec<u8>,
) -> StoreResult<()> {
    for (trace_id, span_ids) in by_trace(rows) {
        let spans = full_spans(store, project, trace_id, &span_ids).await?;
        if spans.is_empty() {
            continue;
        }
        serde_json::to_writer(&mut *out, &otlp::trace_request(&spans)).map_err(|e| {
            StoreError::Internal(format!("writing trace {trace_id} as OTLP JSON: {e}"))
        })?;
        out.push(b'\n');
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(trace: &str, span: &str) -> SpanRow {
        SpanRow::of_span(&Span {
            trace_id: trace.into(),
            span_id: span.into(),
            ..Span::default()
        })
    }

    #[test]
    fn rows_group_by_trace_in_first_appearance_order() {
        let rows = [row("b", "1"), row("a", "2"), row("b", "3")];
        assert_eq!(
            by_trace(&rows),
            vec![("b", vec!["1", "3"]), ("a", vec!["2"])]
        );
    }
}
