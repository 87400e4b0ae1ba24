//! A cohort's traces as span-list filters: what the cohort page's row links put in `/spans`
//! (`trace_filter` on the trace's root span, `tree_filter` on any span of it) so that the list
//! shows one span name's spans in one cohort's traces.
//!
//! The trace list's own conditions map onto the root span: a trace's tags are its root's
//! (less instrumentation keys), its session and user are its root's, and its start is its
//! root's start when the root is its earliest span. A condition without such a form (the
//! root name's substring, duration bounds, status "ok", or `filter` and `tree_filter` both
//! set) gives no scope: the page then links the cohort's traces instead.

use crate::filter::complete::quote;
use crate::query::{StatusFilter, TraceQuery};
use crate::span::SpanType;

/// The span-list filters of one cohort.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpanScope {
    pub trace_filter: Option<String>,
    pub tree_filter: Option<String>,
}

/// `and(...)` of the conditions, the one condition alone, none for none.
fn all(conditions: Vec<String>) -> Option<String> {
    match conditions.len() {
        0 => None,
        1 => conditions.into_iter().next(),
        _ => Some(format!("and({})", conditions.join(", "))),
    }
}

/// The filter of a span name, type and service: `and(eq(name, "..."), ...)`.
pub fn name_filter(name: &str, span_type: SpanType, service: &str) -> String {
    format!(
        "and(eq(name, {}), eq(run_type, {}), eq(service, {}))",
        quote(name),
        quote(span_type.as_str()),
        quote(service)
    )
}

/// `eq(tag.env, "prod")`, or the pair form for a key that is not a plain name.
fn tag_condition(key: &str, value: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if plain {
        format!("eq(tag.{key}, {})", quote(value))
    } else {
        format!(
            "and(eq(metadata_key, {}), eq(metadata_value, {}))",
            quote(key),
            quote(value)
        )
    }
}

/// `2026-12-01T10:00:00.250Z` for Unix milliseconds (the filter language's timestamps).
pub fn utc_timestamp(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

impl TraceQuery {
    /// This list query's traces as span-list filters at `now_ms` (a recent range is fixed to
    /// its bounds then); none when a condition has no such form (see the module docs).
    pub fn span_scope(&self, now_ms: i64) -> Option<SpanScope> {
        if self.name.is_some()
            || self.min_duration_ms.is_some()
            || self.max_duration_ms.is_some()
            || self.status == Some(StatusFilter::Ok)
        {
            return None;
        }
        let mut root = Vec::new();
        for tag in &self.tags {
            root.push(tag_condition(&tag.key, &tag.value));
        }
        if let Some(from) = self.start_from_ms(now_ms) {
            root.push(format!("gte(start_time, {})", quote(&utc_timestamp(from))));
        }
        if let Some(to) = self.to_ms {
            root.push(format!("lt(start_time, {})", quote(&utc_timestamp(to))));
        }
        if let Some(s) = &self.session_id {
            root.push(format!("eq(session, {})", quote(s)));
        }
        if let Some(u) = &self.user_id {
            root.push(format!("eq(user, {})", quote(u)));
        }
        root.extend(self.trace_filter.clone());
        let mut any_span: Vec<String> = self
            .filter
            .iter()
            .chain(&self.tree_filter)
            .cloned()
            .collect();
        if self.status == Some(StatusFilter::Error) {
            any_span.push("eq(error, true)".into());
        }
        // One span must pass the tree filter: two conditions, each met by some span, are not
        // one span meeting both.
        if any_span.len() > 1 {
            return None;
        }
        Some(SpanScope {
            trace_filter: all(root),
            tree_filter: any_span.pop(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_timestamp_ns;

    #[test]
    fn timestamps_read_back() {
        for ms in [
            0,
            1_795_600_000_123,
            951_782_400_000,
            4_102_444_799_999,
            -86_400_001,
        ] {
            let text = utc_timestamp(ms);
            assert_eq!(parse_timestamp_ns(&text), Some(ms * 1_000_000), "{text}");
        }
        assert_eq!(utc_timestamp(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn list_conditions_become_root_and_tree_filters() {
        let q = TraceQuery::from_query_string(
            "tag=variant%3DA%22x&from=1795600000000&filter=eq(run_type%2C%20%22tool%22)",
        )
        .unwrap();
        let scope = q.span_scope(0).unwrap();
        assert_eq!(
            scope.trace_filter.as_deref(),
            Some("and(eq(tag.variant, \"A\\\"x\"), gte(start_time, \"2026-11-25T09:46:40.000Z\"))")
        );
        assert_eq!(scope.tree_filter.as_deref(), Some("eq(run_type, \"tool\")"));
        for f in [scope.trace_filter.unwrap(), scope.tree_filter.unwrap()] {
            crate::filter::parse(&f).unwrap().unwrap();
        }
        assert_eq!(
            TraceQuery::default().span_scope(0),
            Some(SpanScope::default())
        );
    }

    #[test]
    fn conditions_without_a_span_form_give_none() {
        for query in [
            "name=agent",
            "min_ms=10",
            "status=ok",
            "status=error&filter=eq(run_type%2C%20%22tool%22)",
        ] {
            let q = TraceQuery::from_query_string(query).unwrap();
            assert_eq!(q.span_scope(0), None, "{query}");
        }
    }

    #[test]
    fn names_and_odd_tag_keys_parse() {
        for f in [
            name_filter("say \"hi\"", SpanType::Tool, "svc"),
            tag_condition("user tier", "gold"),
            tag_condition("ab_test.variant", "B"),
        ] {
            crate::filter::parse(&f).unwrap().unwrap();
        }
    }
}
