//! The split traces' values (`splits`) as reads take them, a row a trace: a repeated one
//! folded from `spans FINAL` (each span's latest version), any other merged from its
//! per-trace rows by their ranks (`trace_table`: a few rows, not its spans; the 100k-span
//! trace sent in ten requests is ten rows). Both give the index's columns under the same
//! names, so that either joins the whole traces' rows.

use skein_model::trace_tags::is_internal_key;

use super::client::quote;
use super::splits::Copies;
use super::summary_sql;
use super::trace_table::{IndexQuery, PART_RANK, SESSION_RANK, USER_RANK};
use super::traces::RANK;

/// Where some split traces' values come from, as aggregates over their rows grouped by trace.
pub(super) struct SplitSource {
    /// `spans FINAL` or the per-trace rows.
    from: String,
    /// The traces' ids, as SQL.
    ids: String,
    merged: bool,
}

/// The sources of the split traces `copies`: the repeated ones from `spans FINAL` (`spans` is
/// the table's name), the others from the per-trace rows `traces`; none when there are none.
pub(super) fn sources(traces: &str, spans: &str, copies: &Copies) -> Vec<SplitSource> {
    let mut sources = Vec::new();
    if let Some(ids) = copies.repeated() {
        sources.push(SplitSource {
            from: format!("{spans} FINAL"),
            ids,
            merged: false,
        });
    }
    if let Some(ids) = copies.once() {
        sources.push(SplitSource {
            from: traces.to_string(),
            ids,
            merged: true,
        });
    }
    sources
}

impl SplitSource {
    /// The trace's start.
    pub(super) fn start(&self) -> &'static str {
        if self.merged {
            "min(first_start)"
        } else {
            "min(start_ns)"
        }
    }

    /// The trace index's columns (`trace_table::INDEX_COLUMNS`' names and types).
    fn index_columns(&self) -> String {
        if !self.merged {
            return format!(
                "trace_id, min(start_ns) AS start, \
                 max(greatest(end_ns, start_ns)) - min(start_ns) AS duration, \
                 countIf(status = 2) AS errors, argMin(name, {RANK}) AS root_name, \
                 argMinIf(session_id, {RANK}, session_id != '') AS sess, \
                 argMinIf(user_id, {RANK}, user_id != '') AS usr, count() AS span_count, {}",
                summary_sql::counted_usage()
            );
        }
        let counted = |model: &str, all: &str| {
            format!("if(sum(model_reports) > 0, sum({model}), sum({all}))")
        };
        format!(
            "trace_id, min(first_start) AS start, max(last_end) - min(first_start) AS duration, \
             sum(error_spans) AS errors, argMin(best_name, {PART_RANK}) AS root_name, \
             argMinIf(best_session, {SESSION_RANK}, best_session != '') AS sess, \
             argMinIf(best_user, {USER_RANK}, best_user != '') AS usr, \
             sum(row_count) AS span_count, {} AS in_tokens, {} AS out_tokens, \
             {} AS cost_sum",
            counted("model_in", "all_in"),
            counted("model_out", "all_out"),
            counted("model_cost", "all_cost")
        )
    }

    /// The best-ranked span's tag keys and values.
    fn best_tags(&self) -> (String, String) {
        if self.merged {
            (
                format!("argMin(best_tag_keys, {PART_RANK})"),
                format!("argMin(best_tag_values, {PART_RANK})"),
            )
        } else {
            (
                format!("argMin(tag_keys, {RANK})"),
                format!("argMin(tag_values, {RANK})"),
            )
        }
    }

    /// Whether the trace's tag `key` is `value` (a user's key: an internal one is never a
    /// trace's tag).
    pub(super) fn has_tag(&self, key: &str, value: &str) -> String {
        if is_internal_key(key) {
            return "0".into();
        }
        let (keys, values) = self.best_tags();
        let k = quote(key);
        format!(
            "indexOf({keys}, {k}) > 0 AND {values}[indexOf({keys}, {k})] = {}",
            quote(value)
        )
    }

    /// `SELECT {columns} ... GROUP BY trace_id`, of the project's traces of this source that
    /// pass `where_` (conditions on the trace id, each starting ` AND `) and `having`.
    pub(super) fn select(
        &self,
        columns: &str,
        project: &str,
        where_: &str,
        having: &[String],
    ) -> String {
        let having = if having.is_empty() {
            String::new()
        } else {
            format!(" HAVING {}", having.join(" AND "))
        };
        format!(
            "SELECT {columns} FROM {} WHERE project = {} AND trace_id IN ({}){where_} \
             GROUP BY trace_id{having}",
            self.from,
            quote(project),
            self.ids
        )
    }

    /// The index rows of this source's traces that `q` selects.
    pub(super) fn index(&self, q: &IndexQuery<'_>) -> String {
        let mut having: Vec<String> = q.having.to_vec();
        having.extend(q.tags.iter().map(|(k, v)| self.has_tag(k, v)));
        let (keys, values) = self.best_tags();
        let mut columns = self.index_columns();
        for (i, key) in q.group_keys.iter().enumerate() {
            if is_internal_key(key) {
                columns.push_str(&format!(", '' AS g{i}, toUInt8(0) AS h{i}"));
                continue;
            }
            let k = quote(key);
            columns.push_str(&format!(
                ", {values}[indexOf({keys}, {k})] AS g{i}, indexOf({keys}, {k}) > 0 AS h{i}"
            ));
        }
        self.select(
            &columns,
            q.project,
            &format!(" AND {}{}", q.scope, q.filters),
            &having,
        )
    }

    /// Rows (trace_id, key, value) of this source's traces' tags, of `key` only when given.
    pub(super) fn tag_rows(&self, project: &str, key: Option<&str>) -> String {
        let (keys, values) = self.best_tags();
        let key_only = key
            .map(|k| format!(" AND k = {}", quote(k)))
            .unwrap_or_default();
        format!(
            "SELECT trace_id, k AS key, v AS value FROM ({}) ARRAY JOIN ks AS k, vs AS v \
             WHERE {}{key_only}",
            self.select(
                &format!("trace_id, {keys} AS ks, {values} AS vs"),
                project,
                "",
                &[]
            ),
            summary_sql::user_key("k")
        )
    }
}
