//! Spans across traces on ClickHouse (`QueryStore::list_spans`): the filters compiled to SQL
//! over the folded span rows, literals written through `quote`; fields the rows do not have as
//! columns (model, labels) read from the span's JSON body with `visitParamExtract*` (the core
//! runs on 18.16: no JSON functions), attributes from the flat `attrs`/`attr_nums` objects. `trace_filter` and `tree_filter` select trace ids with a
//! `GLOBAL IN` subquery (a trace lives on one shard, and a cluster's subquery reads the
//! distributed table). Counted up to a cap, paged by cursor (sort value, trace id, span id).

use std::collections::BTreeMap;

use serde_json::Value as Json;
use skein_model::filter::{Field, Op, Value};
use skein_model::span::{SpanStatus, SpanType};
use skein_model::span_list::{row_tags, SpanPage, SpanQuery, SpanRow, SpanSort, SPAN_COUNT_CAP};
use skein_model::TraceQuery;

use super::client::{quote, RowExt};
use super::ClickhouseStore;
use crate::store::filter_sql::{condition, Cursor, Dialect};
use crate::store::{StoreError, StoreResult};

struct Clickhouse {
    project: String,
    feedback_table: String,
}

impl Dialect for Clickhouse {
    fn column(&mut self, field: &Field, _alias: &str) -> String {
        match field {
            Field::Name => "name".into(),
            Field::Type => "span_type".into(),
            Field::Service => "service".into(),
            Field::Model => "visitParamExtractString(body, 'model')".into(),
            Field::Start => "start_ns".into(),
            Field::End => "end_ns".into(),
            Field::Latency => "greatest(end_ns - start_ns, 0)".into(),
            Field::Error => format!("(status = {})", SpanStatus::Error.code()),
            Field::Tokens => "(input_tokens + output_tokens)".into(),
            Field::PromptTokens => "input_tokens".into(),
            Field::CompletionTokens => "output_tokens".into(),
            Field::Cost => "cost".into(),
            Field::TraceId => "trace_id".into(),
            Field::SpanId => "span_id".into(),
            Field::ParentId => "parent_span_id".into(),
            Field::IsRoot => "(has_parent = 0)".into(),
            Field::Session => "session_id".into(),
            Field::User => "user_id".into(),
            // Index 0 (no such key) reads the default, ''.
            Field::Tag(key) => format!(
                "arrayElement(tag_values, indexOf(tag_keys, {}))",
                quote(key)
            ),
            Field::Attr(key) => attr_text(key),
            Field::AnyTagValue | Field::Labels => "''".into(),
        }
    }

    fn attr_number(&mut self, _alias: &str, key: &str, op: Op, number: f64) -> String {
        let (text, k) = (body_attr_text(key), quote(key));
        let neq = u8::from(op == Op::Neq);
        let op = op.sql();
        format!(
            "if(attrs != '', \
             if(visitParamHas(attr_nums, {k}), visitParamExtractFloat(attr_nums, {k}) {op} {number:?}, {neq}), \
             if(match({text}, {}), toFloat64OrZero({text}) {op} {number:?}, {neq}))",
            quote(DECIMAL),
        )
    }

    fn literal(&mut self, value: &Value) -> String {
        match value {
            Value::Text(t) => quote(t),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format!("{f:?}"),
            Value::Bool(b) => u8::from(*b).to_string(),
        }
    }

    /// The labels as their JSON array text; an element starts right after `[` or `,` (a quote
    /// inside a label is escaped, so `,"x"` cannot occur within one).
    fn has_label(&mut self, _alias: &str, label: &str) -> String {
        let element = serde_json::to_string(label).unwrap_or_default();
        format!(
            "(position(visitParamExtractRaw(body, 'labels'), {}) > 0 \
             OR position(visitParamExtractRaw(body, 'labels'), {}) > 0)",
            quote(&format!("[{element}")),
            quote(&format!(",{element}"))
        )
    }

    fn has_tag_value(&mut self, _alias: &str, value: &str) -> String {
        format!("has(tag_values, {})", quote(value))
    }

    fn tag_exists(&mut self, _alias: &str, key: &str) -> String {
        format!("has(tag_keys, {})", quote(key))
    }

    fn feedback(&mut self, _alias: &str, key: &str, score: Option<(Op, f64)>) -> String {
        let score = score
            .map(|(op, v)| format!(" AND score {} {v:?}", op.sql()))
            .unwrap_or_default();
        // A record written before its run arrived may have no trace yet.
        let records = format!(
            "FROM {} WHERE project = {} AND deleted = 0 AND key = {}{score}",
            self.feedback_table,
            quote(&self.project),
            quote(key)
        );
        format!(
            "((trace_id, span_id) GLOBAL IN (SELECT trace_id, run_id {records} AND trace_id != '') \
             OR span_id GLOBAL IN (SELECT run_id {records} AND trace_id = ''))"
        )
    }

    /// A `LIKE` on the lowercased search text, its wildcards and backslash escaped (the form
    /// the n-gram index, where the server has one, serves).
    fn search(&mut self, _alias: &str, needle: &str) -> String {
        let escaped = needle
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("search_text LIKE {}", quote(&format!("%{escaped}%")))
    }
}

/// For a row written before schema 3 (`attrs` = ''), the span's own attributes object in its
/// stored JSON body ('' when it has none). The first
/// `"attributes":{` of a body is the span's: the fields before it (tags, labels, input...)
/// hold strings, whose quotes are escaped. A span without attributes has none there, and
/// then the first one is an event's or a link's, which come after `"events":[`/`"links":[`.
const ATTRIBUTES: &str = "if(position(body, '\"attributes\":{') > 0 \
    AND (position(body, '\"events\":[') = 0 \
        OR position(body, '\"attributes\":{') < position(body, '\"events\":[')) \
    AND (position(body, '\"links\":[') = 0 \
        OR position(body, '\"attributes\":{') < position(body, '\"links\":[')), \
    visitParamExtractRaw(substring(body, position(body, '\"attributes\":{')), 'attributes'), '')";

/// `skein_model::filter::is_decimal` as a regular expression.
pub(super) const DECIMAL: &str = r"^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$";

/// From the body: an attribute's value as text, a string unescaped, anything else its JSON
/// ('' if missing). A key nested in an object value may be found too: rows written since
/// schema 3 read the flat `attrs` instead.
pub(super) fn body_attr_text(key: &str) -> String {
    let key = quote(key);
    format!(
        "if(substring(visitParamExtractRaw({ATTRIBUTES}, {key}), 1, 1) = '\"', \
         visitParamExtractString({ATTRIBUTES}, {key}), visitParamExtractRaw({ATTRIBUTES}, {key}))"
    )
}

/// An attribute's text as filters compare it (`skein_model::filter::attr_text`): null and
/// payload-sized text read as ''.
fn attr_text(key: &str) -> String {
    let text = body_attr_text(key);
    format!(
        "if(attrs != '', visitParamExtractString(attrs, {key}), \
         if(visitParamExtractRaw({ATTRIBUTES}, {key}) = 'null' OR length({text}) > {max}, '', {text}))",
        key = quote(key),
        max = skein_model::filter::MAX_ATTR_TEXT
    )
}

fn sort_column(sort: SpanSort) -> &'static str {
    match sort {
        SpanSort::StartDesc => "start_ns",
        SpanSort::DurationDesc => "(end_ns - start_ns)",
        SpanSort::TokensDesc => "(input_tokens + output_tokens)",
        SpanSort::CostDesc => "cost",
    }
}

fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

impl ClickhouseStore {
    fn dialect(&self, project: &str) -> Clickhouse {
        Clickhouse {
            project: project.to_string(),
            feedback_table: format!("{} FINAL", self.layout.table("feedback")),
        }
    }

    /// `expr` as a condition on a span row of `project`.
    pub(super) fn span_condition(
        &self,
        project: &str,
        expr: &skein_model::filter::Expr,
    ) -> StoreResult<String> {
        condition(expr, "", &mut self.dialect(project))
    }

    /// A trace scope's span conditions (`filter` and `tree_filter`: a span of the trace
    /// passes; `trace_filter`: its root span passes) as ` AND trace_id GLOBAL IN (...)` each;
    /// an expression this engine cannot compile is `StoreError::Invalid` naming the parameter.
    pub(super) fn trace_list_filter(&self, project: &str, q: &TraceQuery) -> StoreResult<String> {
        self.trace_list_filter_in(project, q, "1 = 1")
    }

    /// `trace_list_filter` reading only the spans within `scope` (a condition on a span row).
    pub(super) fn trace_list_filter_in(
        &self,
        project: &str,
        q: &TraceQuery,
        scope: &str,
    ) -> StoreResult<String> {
        let mut out = String::new();
        for (name, text, roots) in [
            ("filter", &q.filter, ""),
            ("trace_filter", &q.trace_filter, " AND has_parent = 0"),
            ("tree_filter", &q.tree_filter, ""),
        ] {
            let Some(text) = text else { continue };
            let invalid = |e: &dyn std::fmt::Display| StoreError::Invalid(format!("{name}: {e}"));
            let Some(expr) = skein_model::filter::parse(text).map_err(|e| invalid(&e))? else {
                continue;
            };
            let cond = condition(&expr, "", &mut self.dialect(project)).map_err(|e| invalid(&e))?;
            out.push_str(&format!(
                " AND trace_id GLOBAL IN (SELECT trace_id FROM {} WHERE project = {} \
                 AND {scope}{roots} AND ({cond}))",
                self.spans(),
                quote(project)
            ));
        }
        Ok(out)
    }

    pub(super) async fn span_list(&self, project: &str, q: &SpanQuery) -> StoreResult<SpanPage> {
        let mut d = self.dialect(project);
        let spans = self.spans();
        let in_project = format!("project = {}", quote(project));
        let mut wheres = vec![in_project.clone()];
        if let Some(expr) = &q.filter {
            wheres.push(condition(expr, "", &mut d)?);
        }
        if let Some(expr) = &q.trace_filter {
            wheres.push(format!(
                "trace_id GLOBAL IN (SELECT trace_id FROM {spans} WHERE {in_project} \
                 AND has_parent = 0 AND ({}))",
                condition(expr, "", &mut d)?
            ));
        }
        if let Some(expr) = &q.tree_filter {
            wheres.push(format!(
                "trace_id GLOBAL IN (SELECT trace_id FROM {spans} WHERE {in_project} AND ({}))",
                condition(expr, "", &mut d)?
            ));
        }
        let filter = wheres
            .iter()
            .map(|w| format!("({w})"))
            .collect::<Vec<_>>()
            .join(" AND ");

        let counted = self
            .client
            .rows(&format!(
                "SELECT count() AS n FROM (SELECT 1 FROM {spans} WHERE {filter} LIMIT {})",
                SPAN_COUNT_CAP + 1
            ))
            .await?
            .first()
            .map(|r| r.i64_of("n"))
            .unwrap_or(0)
            .max(0) as u64;

        let sort = sort_column(q.sort);
        let mut page_filter = filter;
        if let Some(text) = &q.cursor {
            let cursor = Cursor::parse(q.sort, text)?;
            let (trace, span) = cursor.tie.split_once(':').ok_or_else(|| {
                StoreError::Invalid(format!("cursor {text:?} is not one this list gave"))
            })?;
            let (v, t, s) = (cursor.value_sql(), quote(trace), quote(span));
            page_filter.push_str(&format!(
                " AND ({sort} < {v} OR ({sort} = {v} AND (trace_id < {t} \
                 OR (trace_id = {t} AND span_id < {s}))))"
            ));
        }
        let limit = q.limit() as usize;
        let rows = self
            .client
            .rows(&format!(
                "SELECT trace_id, span_id, has_parent, parent_span_id, name, span_type, service, \
                 visitParamExtractString(body, 'model') AS model, start_ns, end_ns, \
                 input_tokens + output_tokens AS tokens, cost, status, tag_keys, tag_values, \
                 {sort} AS sort_value FROM {spans} WHERE {page_filter} \
                 ORDER BY sort_value DESC, trace_id DESC, span_id DESC LIMIT {}",
                limit + 1
            ))
            .await?;
        let more = rows.len() > limit;
        let mut page = Vec::with_capacity(limit);
        let mut last = None;
        for r in rows.iter().take(limit) {
            let (start_ns, end_ns) = (r.i64_of("start_ns"), r.i64_of("end_ns"));
            let tags: BTreeMap<String, String> = strings(&r["tag_keys"])
                .into_iter()
                .zip(strings(&r["tag_values"]))
                .collect();
            let (trace_id, span_id) = (r.str_of("trace_id"), r.str_of("span_id"));
            last = Some(Cursor::encode(
                q.sort,
                r.i64_of("sort_value"),
                r.f64_of("sort_value"),
                &format!("{trace_id}:{span_id}"),
            ));
            page.push(SpanRow {
                trace_id,
                span_id,
                parent_span_id: (r.i64_of("has_parent") != 0).then(|| r.str_of("parent_span_id")),
                name: r.str_of("name"),
                span_type: SpanType::from_code(r.i64_of("span_type") as u8),
                service: r.str_of("service"),
                model: Some(r.str_of("model")).filter(|m| !m.is_empty()),
                start_ns,
                duration_ns: (end_ns - start_ns).max(0),
                tokens: r.i64_of("tokens"),
                cost: r.f64_of("cost"),
                status: SpanStatus::from_code(r.i64_of("status") as u8),
                tags: row_tags(tags),
            });
        }
        Ok(SpanPage {
            spans: page,
            total: counted.min(SPAN_COUNT_CAP),
            total_exact: counted <= SPAN_COUNT_CAP,
            next_cursor: if more { last } else { None },
        })
    }
}
