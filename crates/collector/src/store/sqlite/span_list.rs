//! Spans across traces (`QueryStore::list_spans`): the filters compiled to SQL over `spans`,
//! their trace (`traces`, for the project) and `span_facts`, with bound parameters; counted up
//! to a cap and paged by cursor (sort value, then rowid).

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection};
use skein_model::filter::{Expr, Field, Op, Value};
use skein_model::span::{SpanStatus, SpanType};
use skein_model::span_list::{row_tags, SpanPage, SpanQuery, SpanRow, SpanSort, SPAN_COUNT_CAP};
use skein_model::TraceQuery;

use crate::store::filter_sql::{condition, Cursor, CursorValue, Dialect};
use crate::store::{StoreError, StoreResult};

#[derive(Default, Clone)]
struct Sqlite {
    params: Vec<SqlValue>,
    /// Plain `?` placeholders (for a statement whose other parameters are plain), rather than
    /// numbered ones. Either way parameters are bound in the order they are written.
    plain: bool,
}

impl Sqlite {
    fn bind(&mut self, value: SqlValue) -> String {
        self.params.push(value);
        if self.plain {
            "?".to_string()
        } else {
            format!("?{}", self.params.len())
        }
    }

    fn text(&mut self, text: &str) -> String {
        self.bind(SqlValue::Text(text.to_string()))
    }
}

impl Dialect for Sqlite {
    fn column(&mut self, field: &Field, a: &str) -> String {
        match field {
            Field::Name => format!("{a}.name"),
            Field::Type => format!("{a}.span_type"),
            Field::Service => format!("{a}.service"),
            Field::Model => format!("ifnull({a}f.model, '')"),
            Field::Start => format!("{a}.start_ns"),
            Field::End => format!("{a}.end_ns"),
            Field::Latency => format!("max({a}.end_ns - {a}.start_ns, 0)"),
            Field::Error => format!("({a}.status = {})", SpanStatus::Error.code()),
            Field::Tokens => format!("{a}.tokens"),
            Field::PromptTokens => format!("ifnull({a}f.input_tokens, 0)"),
            Field::CompletionTokens => format!("ifnull({a}f.output_tokens, 0)"),
            Field::Cost => format!("{a}.cost"),
            Field::TraceId => format!("{a}t.trace_id"),
            Field::SpanId => format!("{a}.span_id"),
            Field::ParentId => format!("ifnull({a}.parent_span_id, '')"),
            Field::IsRoot => format!("({a}.parent_span_id IS NULL)"),
            Field::Session => format!("ifnull({a}f.session_id, '')"),
            Field::User => format!("ifnull({a}f.user_id, '')"),
            Field::Tag(key) => {
                let key = self.text(key);
                format!(
                    "ifnull((SELECT j.value FROM json_each(skein_text({a}f.tags)) j WHERE j.key = {key}), '')"
                )
            }
            Field::Attr(key) => {
                let key = self.text(key);
                format!(
                    "ifnull((SELECT j.value FROM json_each(skein_text({a}f.attrs)) j WHERE j.key = {key}), '')"
                )
            }
            // Set fields are only ever tested with `has`.
            Field::AnyTagValue | Field::Labels => "''".to_string(),
        }
    }

    fn attr_number(&mut self, a: &str, key: &str, op: Op, number: f64) -> String {
        let key = self.text(key);
        let number = self.bind(SqlValue::Real(number));
        // NULL (not a number) compares as nothing: only `neq` holds.
        format!(
            "ifnull((SELECT j.value FROM json_each(skein_text({a}f.attr_nums)) j WHERE j.key = {key}) {} {number}, {})",
            op.sql(),
            u8::from(op == Op::Neq)
        )
    }

    fn literal(&mut self, value: &Value) -> String {
        self.bind(match value {
            Value::Text(t) => SqlValue::Text(t.clone()),
            Value::Int(i) => SqlValue::Integer(*i),
            Value::Float(f) => SqlValue::Real(*f),
            Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        })
    }

    fn has_label(&mut self, a: &str, label: &str) -> String {
        let label = self.text(label);
        format!(
            "EXISTS (SELECT 1 FROM json_each(skein_text({a}f.labels)) j WHERE j.value = {label})"
        )
    }

    fn has_tag_value(&mut self, a: &str, value: &str) -> String {
        let value = self.text(value);
        format!("EXISTS (SELECT 1 FROM json_each(skein_text({a}f.tags)) j WHERE j.value = {value})")
    }

    fn tag_exists(&mut self, a: &str, key: &str) -> String {
        let key = self.text(key);
        format!("EXISTS (SELECT 1 FROM json_each(skein_text({a}f.tags)) j WHERE j.key = {key})")
    }

    fn feedback(&mut self, a: &str, key: &str, score: Option<(Op, f64)>) -> String {
        let key = self.text(key);
        let score = match score {
            Some((op, v)) => {
                let v = self.bind(SqlValue::Real(v));
                format!(" AND fb.score {} {v}", op.sql())
            }
            None => String::new(),
        };
        format!(
            "EXISTS (SELECT 1 FROM feedback fb WHERE fb.project = {a}t.project \
             AND fb.run_id = {a}.span_id AND ifnull(fb.trace_id, {a}t.trace_id) = {a}t.trace_id \
             AND fb.key = {key}{score})"
        )
    }

    /// Through the trigram index (`span_text`), its candidates checked against their texts,
    /// and the texts still waiting for it.
    fn search(&mut self, a: &str, needle: &str) -> String {
        super::span_text::search_sql(&format!("{a}.id"), needle, |value| self.text(&value))
    }
}

/// `expr` as a condition on the span row `a` (`{a}t` its trace, `{a}f` its facts), with plain
/// `?` parameters.
pub(super) fn span_condition(expr: &Expr, a: &str) -> StoreResult<(String, Vec<SqlValue>)> {
    let mut d = Sqlite {
        plain: true,
        ..Sqlite::default()
    };
    let cond = condition(expr, a, &mut d)?;
    Ok((cond, d.params))
}

/// The span rows aliased `a` (`{a}t` its trace, `{a}f` its facts).
fn rows(a: &str) -> String {
    format!(
        "spans {a} JOIN traces {a}t ON {a}t.id = {a}.trace \
         LEFT JOIN span_facts {a}f ON {a}f.span = {a}.id"
    )
}

/// The span rows aliased `a` that `cond` reads: `{a}t` and `{a}f` joined only when it names
/// them (a search or a name reads the span alone; joining its trace for each span of every
/// candidate trace is most of a trace-list search's time otherwise).
fn rows_read_by(a: &str, cond: &str) -> String {
    let mut from = format!("spans {a}");
    if cond.contains(&format!("{a}t.")) {
        from.push_str(&format!(" JOIN traces {a}t ON {a}t.id = {a}.trace"));
    }
    if cond.contains(&format!("{a}f.")) {
        from.push_str(&format!(" LEFT JOIN span_facts {a}f ON {a}f.span = {a}.id"));
    }
    from
}

/// The conditions of `trace_filter` (on the trace's root spans) and `tree_filter` (on any of
/// its spans) for the span row `a`.
fn trace_conditions(
    d: &mut Sqlite,
    a: &str,
    trace_filter: Option<&Expr>,
    tree_filter: Option<&Expr>,
) -> StoreResult<Vec<String>> {
    let mut out = Vec::new();
    if let Some(expr) = trace_filter {
        let cond = condition(expr, "r", d)?;
        out.push(format!(
            "EXISTS (SELECT 1 FROM {} WHERE r.trace = {a}.trace AND r.parent_span_id IS NULL \
             AND ({cond}))",
            rows("r")
        ));
    }
    if let Some(expr) = tree_filter {
        let cond = condition(expr, "x", d)?;
        out.push(format!(
            "EXISTS (SELECT 1 FROM {} WHERE x.trace = {a}.trace AND ({cond}))",
            rows("x")
        ));
    }
    Ok(out)
}

/// A trace scope's span conditions (`filter` and `tree_filter`: a span of the trace passes;
/// `trace_filter`: its root span passes), parsed and checked: an expression this engine
/// cannot compile is `StoreError::Invalid` naming the parameter.
pub(super) struct TraceConditions {
    any_span: Vec<Expr>,
    root: Option<Expr>,
}

impl TraceConditions {
    /// Whether any condition searches text.
    pub(super) fn searches(&self) -> bool {
        self.any_span.iter().chain(&self.root).any(searches)
    }

    /// The texts the traces are narrowed by (`push_trace_list_filter`).
    pub(super) fn required_searches(&self) -> Vec<&str> {
        self.any_span
            .iter()
            .chain(&self.root)
            .flat_map(Expr::required_searches)
            .collect()
    }
}

/// Whether `expr` searches text anywhere.
fn searches(expr: &Expr) -> bool {
    expr.any(&|e| matches!(e, Expr::Search(_)))
}

pub(super) fn trace_list_filter(q: &TraceQuery) -> StoreResult<TraceConditions> {
    let parse = |name: &str, text: &Option<String>| -> StoreResult<Option<Expr>> {
        let Some(text) = text else { return Ok(None) };
        let expr = skein_model::filter::parse(text)
            .map_err(|e| StoreError::Invalid(format!("{name}: {e}")))?;
        if let Some(expr) = &expr {
            condition(expr, "x", &mut Sqlite::default())
                .map_err(|e| StoreError::Invalid(format!("{name}: {e}")))?;
        }
        Ok(expr)
    };
    Ok(TraceConditions {
        any_span: [
            parse("filter", &q.filter)?,
            parse("tree_filter", &q.tree_filter)?,
        ]
        .into_iter()
        .flatten()
        .collect(),
        root: parse("trace_filter", &q.trace_filter)?,
    })
}

/// For a trace scope (`traces t`, plain `?` parameters): ` AND` the query's span conditions.
/// Nothing for a condition that does not compile: `list_traces` (and every scope's reader)
/// has refused it with `trace_list_filter` first.
/// The traces are narrowed to those of a searched text's candidates only for the texts
/// `narrow_by` says (reading a candidate's trace costs a row of `spans` each: for a common
/// word, testing the traces in the list's order until the page is full is cheaper).
pub(super) fn push_trace_list_filter(
    q: &TraceQuery,
    sql: &mut String,
    args: &mut Vec<SqlValue>,
    narrow_by: &dyn Fn(&str) -> bool,
) {
    let Ok(conditions) = trace_list_filter(q) else {
        return;
    };
    let roots = conditions
        .root
        .iter()
        .map(|e| (e, " AND x.parent_span_id IS NULL"));
    let spans = conditions.any_span.iter().map(|e| (e, ""));
    for (expr, which) in roots.chain(spans) {
        let mut d = Sqlite {
            plain: true,
            ..Sqlite::default()
        };
        if let Ok(cond) = condition(expr, "x", &mut d) {
            // The traces holding the searched texts' candidates first, from the index alone:
            // the spans of the other traces are never read, and the `EXISTS` below reads the
            // texts of a candidate trace only until one of its spans passes.
            for needle in expr
                .required_searches()
                .into_iter()
                .filter(|n| narrow_by(n))
            {
                let candidates = super::span_text::candidates(needle, |value| {
                    args.push(SqlValue::Text(value));
                    "?".to_string()
                });
                sql.push_str(&format!(
                    " AND t.id IN (SELECT s.trace FROM spans s WHERE s.id IN ({candidates}))"
                ));
            }
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM {} WHERE x.trace = t.id{which} AND ({cond}))",
                rows_read_by("x", &cond)
            ));
            args.extend(d.params);
        }
    }
}

fn sort_column(sort: SpanSort) -> &'static str {
    match sort {
        SpanSort::StartDesc => "s.start_ns",
        SpanSort::DurationDesc => "(s.end_ns - s.start_ns)",
        SpanSort::TokensDesc => "s.tokens",
        SpanSort::CostDesc => "s.cost",
    }
}

/// The searches every listed span must pass (`search` alone or in a top-level `and`), and the
/// rest of the filter.
fn split_searches(expr: &Expr) -> (Vec<&str>, Vec<&Expr>) {
    fn walk<'a>(expr: &'a Expr, needles: &mut Vec<&'a str>, rest: &mut Vec<&'a Expr>) {
        match expr {
            Expr::Search(needle) => needles.push(needle),
            Expr::And(items) => items.iter().for_each(|e| walk(e, needles, rest)),
            other => rest.push(other),
        }
    }
    let (mut needles, mut rest) = (Vec::new(), Vec::new());
    walk(expr, &mut needles, &mut rest);
    (needles, rest)
}

/// The display columns of a span row `s` (`{sort}` the list's sort value), as `span_row` reads
/// them.
fn row_columns(sort: &str) -> String {
    format!(
        "st.trace_id, s.span_id, s.parent_span_id, s.name, s.span_type, s.service, sf.model, \
         s.start_ns, s.end_ns, s.tokens, s.cost, s.status, skein_text(sf.tags), {sort}, s.id"
    )
}

/// A row of `row_columns`, and its cursor.
fn span_row(r: &rusqlite::Row<'_>, sort: SpanSort) -> rusqlite::Result<(SpanRow, String)> {
    let (start_ns, end_ns): (i64, i64) = (r.get(7)?, r.get(8)?);
    let tags: Option<String> = r.get(12)?;
    let tags: std::collections::BTreeMap<String, String> = tags
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let row = SpanRow {
        trace_id: r.get(0)?,
        span_id: r.get(1)?,
        parent_span_id: r.get(2)?,
        name: r.get(3)?,
        span_type: SpanType::from_code(r.get::<_, i64>(4)? as u8),
        service: r.get(5)?,
        model: r.get::<_, Option<String>>(6)?.filter(|m| !m.is_empty()),
        start_ns,
        duration_ns: (end_ns - start_ns).max(0),
        tokens: r.get(9)?,
        cost: r.get(10)?,
        status: SpanStatus::from_code(r.get::<_, i64>(11)? as u8),
        tags: row_tags(tags),
    };
    let sort_value: SqlValue = r.get(13)?;
    let (int, float) = match sort_value {
        SqlValue::Integer(i) => (i, i as f64),
        SqlValue::Real(f) => (f as i64, f),
        _ => (0, 0.0),
    };
    let cursor = Cursor::encode(sort, int, float, &r.get::<_, i64>(14)?.to_string());
    Ok((row, cursor))
}

pub(super) fn list_spans(conn: &Connection, project: &str, q: &SpanQuery) -> StoreResult<SpanPage> {
    let mut d = Sqlite::default();
    let project = d.text(project);
    let mut wheres = vec![format!("st.project = {project}")];
    // The searches every span must pass are left out of the filter: the page reads their
    // candidates from the index and checks the kept texts of its own rows only.
    let (needles, rest) = match &q.filter {
        Some(expr) => split_searches(expr),
        None => (Vec::new(), Vec::new()),
    };
    for expr in rest {
        wheres.push(condition(expr, "s", &mut d)?);
    }
    wheres.extend(trace_conditions(
        &mut d,
        "s",
        q.trace_filter.as_ref(),
        q.tree_filter.as_ref(),
    )?);
    let joined = |wheres: &[String]| {
        wheres
            .iter()
            .map(|w| format!("({w})"))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    // With searches, the rows are read from the first one's candidates (in rowid order), never
    // by scanning the project's traces: without statistics the planner would take the
    // project's index, reading every span of the project.
    let mut counting = d.clone();
    let mut count_wheres = wheres.clone();
    let (from, count_from) = match needles.split_first() {
        None => (rows("s"), rows("s")),
        Some((first, others)) => {
            let from_candidates = |d: &mut Sqlite| {
                let candidates = super::span_text::candidates(first, |value| d.text(&value));
                format!(
                    "({candidates}) c CROSS JOIN spans s ON s.id = c.id \
                     CROSS JOIN traces st ON st.id = s.trace \
                     LEFT JOIN span_facts sf ON sf.span = s.id"
                )
            };
            let (from, count_from) = (from_candidates(&mut d), from_candidates(&mut counting));
            let first = counting.text(first);
            count_wheres.push(super::span_text::check("s.id", &first));
            for needle in others {
                count_wheres.push(super::span_text::search_sql("s.id", needle, |value| {
                    counting.text(&value)
                }));
                let candidates = super::span_text::candidates(needle, |value| d.text(&value));
                wheres.push(format!("s.id IN ({candidates})"));
            }
            (from, count_from)
        }
    };

    // Counted (in rowid order, with searches) up to the cap, each row checked until then.
    let counted: i64 = conn
        .prepare(&format!(
            "SELECT count(*) FROM (SELECT 1 FROM {count_from} WHERE {} LIMIT {})",
            joined(&count_wheres),
            SPAN_COUNT_CAP + 1
        ))?
        .query_row(params_from_iter(counting.params.iter()), |r| r.get(0))?;

    let sort = sort_column(q.sort);
    if let Some(text) = &q.cursor {
        let cursor = Cursor::parse(q.sort, text)?;
        let tie: i64 = cursor.tie.parse().map_err(|_| {
            StoreError::Invalid(format!("cursor {text:?} is not one this list gave"))
        })?;
        let value = d.bind(match cursor.value {
            CursorValue::Int(i) => SqlValue::Integer(i),
            CursorValue::Float(f) => SqlValue::Real(f),
        });
        let tie = d.bind(SqlValue::Integer(tie));
        wheres.push(format!(
            "{sort} < {value} OR ({sort} = {value} AND s.id < {tie})"
        ));
    }
    let limit = q.limit() as usize;
    let (mut page, from) = if needles.is_empty() {
        (d, from)
    } else {
        // The rows in the page's order, without their texts; each checked until the page (and
        // one more row) is full; then those rows read.
        let ids = checked_ids(conn, &from, &joined(&wheres), sort, &d, &needles, limit + 1)?;
        let mut page = Sqlite::default();
        let ids = ids
            .into_iter()
            .map(|id| page.bind(SqlValue::Integer(id)))
            .collect::<Vec<_>>()
            .join(", ");
        wheres = vec![format!("s.id IN ({ids})")];
        let by_id = "spans s CROSS JOIN traces st ON st.id = s.trace \
                     LEFT JOIN span_facts sf ON sf.span = s.id";
        (page, by_id.to_string())
    };
    let sql = format!(
        "SELECT {} FROM {from} WHERE {} ORDER BY {sort} DESC, s.id DESC LIMIT {}",
        row_columns(sort),
        joined(&wheres),
        limit + 1
    );
    let mut statement = conn.prepare(&sql)?;
    let mut rows = statement.query(params_from_iter(std::mem::take(&mut page.params).iter()))?;
    let mut spans = Vec::new();
    let mut last: Option<String> = None;
    let mut more = false;
    while let Some(r) = rows.next()? {
        if spans.len() == limit {
            more = true;
            break;
        }
        let (row, cursor) = span_row(r, q.sort)?;
        last = Some(cursor);
        spans.push(row);
    }
    let next_cursor = if more { last } else { None };
    let counted = counted.max(0) as u64;
    let searching = [&q.filter, &q.trace_filter, &q.tree_filter]
        .into_iter()
        .flatten()
        .any(searches);
    let partial = searching && super::span_text::waiting_beyond_checked(conn)?;
    Ok(SpanPage {
        spans,
        total: counted.min(SPAN_COUNT_CAP),
        total_exact: counted <= SPAN_COUNT_CAP && !partial,
        next_cursor,
    })
}

/// The ids of the first `wanted` rows (in the list's order) of those `filter` selects whose
/// kept texts hold every needle: the rows are sorted without reading a text, then checked one
/// by one until enough pass.
fn checked_ids(
    conn: &Connection,
    from: &str,
    filter: &str,
    sort: &str,
    d: &Sqlite,
    needles: &[&str],
    wanted: usize,
) -> StoreResult<Vec<i64>> {
    let mut statement = conn.prepare(&format!(
        "SELECT s.id FROM {from} WHERE {filter} ORDER BY {sort} DESC, s.id DESC"
    ))?;
    let mut rows = statement.query(params_from_iter(d.params.iter()))?;
    let mut check =
        conn.prepare_cached(&format!("SELECT {}", super::span_text::check("?1", "?2")))?;
    let mut ids = Vec::new();
    while ids.len() < wanted {
        let Some(row) = rows.next()? else { break };
        let id: i64 = row.get(0)?;
        let mut holds = true;
        for needle in needles {
            holds = check.query_row(rusqlite::params![id, needle], |r| r.get(0))?;
            if !holds {
                break;
            }
        }
        if holds {
            ids.push(id);
        }
    }
    Ok(ids)
}
