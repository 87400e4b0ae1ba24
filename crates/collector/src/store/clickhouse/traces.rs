//! Traces: which traces a query selects, in which order, is read from the per-trace table
//! (`trace_table`); the summaries of a page's traces are folded from their spans, by the same
//! rule SQLite folds on write (`skein_model::trace_fold`). ClickHouse computes each part of the
//! fold per trace and service (sums, the best-ranked root, name, session and user, the
//! service's best rank, the best-ranked span's tags); the parts become `TraceFold`s here,
//! merged per trace, whose `summary` is the row. A trace's skeleton is `skeleton`'s.

use std::collections::HashMap;

use serde_json::Value;
use skein_model::span::Span;
use skein_model::trace_fold::{Rank, Ranked, RootFacts, TraceFold};
use skein_model::trace_tags::is_internal_key;
use skein_model::{StatusFilter, TraceQuery, TraceSummary};

use super::client::{quote, RowExt};
use super::splits::{self, Copies};
use super::summary_sql;
use super::tag_index;
use super::trace_table::{self, IndexParts, PART_RANK};
use super::ClickhouseStore;
use crate::store::{StoreError, StoreResult};

/// A span's rank as SQL, the tuple `trace_fold::Rank` is: (tier, start, span id).
pub(super) const RANK: &str = "tuple(has_parent, start_ns, span_id)";

fn rank_of(v: &Value) -> Option<Rank> {
    serde_json::from_value(v.clone()).ok()
}

/// `trace_id IN (...)` for a list of ids.
pub(super) fn id_list(ids: &[String]) -> String {
    ids.iter().map(|i| quote(i)).collect::<Vec<_>>().join(", ")
}

/// A trace's fold of its spans of one service (a row of `folds_in`'s read): that service's
/// best rank, the part's sums and its best-ranked values (its tags when the row has them).
fn part_fold(row: &Value) -> TraceFold {
    let mut fold = TraceFold {
        start_ns: row.i64_of("first_start"),
        end_ns: row.i64_of("last_end"),
        span_count: row.i64_of("span_count").max(0) as u64,
        error_count: row.i64_of("errors").max(0) as u64,
        input_tokens: row.i64_of("model_in"),
        output_tokens: row.i64_of("model_out"),
        cost: row.f64_of("model_cost"),
        other_input_tokens: row.i64_of("other_in"),
        other_output_tokens: row.i64_of("other_out"),
        other_cost: row.f64_of("other_cost"),
        model_usage: row.i64_of("model_reports") > 0,
        ..TraceFold::default()
    };
    if row.i64_of("roots") > 0 {
        let r = &row["root"];
        let span_id = r[1].as_str().unwrap_or("").to_string();
        fold.root = Some(Ranked {
            rank: Rank(0, super::client::as_i64(&r[5]), span_id.clone()),
            value: RootFacts {
                name: r[0].as_str().unwrap_or("").to_string(),
                span_id,
                span_type: super::client::as_i64(&r[2]) as u8,
                status: super::client::as_i64(&r[3]) as u8,
                service: r[4].as_str().unwrap_or("").to_string(),
            },
        });
    }
    if let Some(rank) = rank_of(&row["first_rank"]) {
        fold.services.insert(row.str_of("service"), rank.clone());
        add_tags(&mut fold, row, &rank);
        fold.first_name = Some(Ranked {
            rank,
            value: row.str_of("first_name"),
        });
    }
    let ranked = |count: &str, v: &Value| -> Option<Ranked<String>> {
        (row.i64_of(count) > 0).then(|| Ranked {
            rank: rank_of(&v[1]).unwrap_or(Rank(1, 0, String::new())),
            value: v[0].as_str().unwrap_or("").to_string(),
        })
    };
    fold.session_id = ranked("sessions", &row["session"]);
    fold.user_id = ranked("users", &row["user"]);
    fold
}

/// The user tags of a row's `best_keys` and `best_values` (if it has them), at `rank`: the
/// best-ranked span's.
fn add_tags(fold: &mut TraceFold, row: &Value, rank: &Rank) {
    let keys = row["best_keys"].as_array().into_iter().flatten();
    let values = row["best_values"].as_array().into_iter().flatten();
    for (key, value) in keys.zip(values) {
        if let (Some(key), Some(value)) = (key.as_str(), value.as_str()) {
            if !is_internal_key(key) {
                fold.tags.insert(
                    key.to_string(),
                    Ranked {
                        rank: rank.clone(),
                        value: value.to_string(),
                    },
                );
            }
        }
    }
}

impl ClickhouseStore {
    pub(super) fn spans(&self) -> String {
        format!("{} FINAL", self.layout.table("spans"))
    }

    /// The folds of these traces of a project. A trace with each span once (whole, or split
    /// but not repeated: `splits`) has one row a span in `spans`, read as it is, and its tags
    /// are its per-trace rows' (`trace_table`: not every span's tag arrays); a repeated one's
    /// versions are folded (`FINAL`), which costs a merge of every part holding it.
    pub(super) async fn folds(
        &self,
        project: &str,
        trace_ids: &[String],
    ) -> StoreResult<HashMap<String, TraceFold>> {
        if trace_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let copies = self
            .copies(project, &format!("trace_id IN ({})", id_list(trace_ids)))
            .await?;
        let (repeated, once): (Vec<String>, Vec<String>) = trace_ids
            .iter()
            .cloned()
            .partition(|id| copies.is_repeated(id));
        let (stored, folded) = (self.layout.table("spans"), self.spans());
        let (mut folds, repeated) = tokio::try_join!(
            self.folds_in(project, &once, &stored, true),
            self.folds_in(project, &repeated, &folded, false)
        )?;
        folds.extend(repeated);
        Ok(folds)
    }

    /// The folds of these traces of a project from `spans` (`FINAL` or not), their tags from
    /// their per-trace rows when `tags_from_rows` (each span once), else from `spans`. One
    /// read folds each trace's spans per service (each service's best rank with its part's
    /// sums and best-ranked values), and the parts are merged here (`TraceFold::merge`, as
    /// any partial folds of a trace): a second read of the same granules for the services
    /// alone cost as much CPU as the fold.
    async fn folds_in(
        &self,
        project: &str,
        trace_ids: &[String],
        spans: &str,
        tags_from_rows: bool,
    ) -> StoreResult<HashMap<String, TraceFold>> {
        let mut folds: HashMap<String, TraceFold> = HashMap::new();
        if trace_ids.is_empty() {
            return Ok(folds);
        }
        let scope = format!(
            "project = {} AND trace_id IN ({})",
            quote(project),
            id_list(trace_ids)
        );
        let model = summary_sql::model_call();
        let tags = if tags_from_rows {
            String::new()
        } else {
            format!(
                "argMin(tag_keys, {RANK}) AS best_keys, argMin(tag_values, {RANK}) AS best_values, "
            )
        };
        let rows_tags_sql = format!(
            "SELECT trace_id, argMin(best_tag_keys, {PART_RANK}) AS best_keys, \
             argMin(best_tag_values, {PART_RANK}) AS best_values FROM {} WHERE {scope} \
             GROUP BY trace_id",
            self.trace_table()
        );
        let parts_sql = format!(
            "SELECT trace_id, service, min(start_ns) AS first_start, \
                 max(greatest(end_ns, start_ns)) AS last_end, \
                 count() AS span_count, countIf(status = 2) AS errors, \
                 sumIf(input_tokens, {model}) AS model_in, \
                 sumIf(output_tokens, {model}) AS model_out, sumIf(cost, {model}) AS model_cost, \
                 sumIf(input_tokens, NOT {model}) AS other_in, \
                 sumIf(output_tokens, NOT {model}) AS other_out, \
                 sumIf(cost, NOT {model}) AS other_cost, \
                 countIf({model} AND (input_tokens != 0 OR output_tokens != 0)) AS model_reports, \
                 {tags}countIf(has_parent = 0) AS roots, \
                 argMinIf(tuple(name, span_id, span_type, status, service, start_ns), {RANK}, \
                 has_parent = 0) AS root, \
                 min({RANK}) AS first_rank, argMin(name, {RANK}) AS first_name, \
                 countIf(session_id != '') AS sessions, \
                 argMinIf(tuple(session_id, {RANK}), {RANK}, session_id != '') AS session, \
                 countIf(user_id != '') AS users, \
                 argMinIf(tuple(user_id, {RANK}), {RANK}, user_id != '') AS user \
                 FROM {spans} WHERE {scope} GROUP BY trace_id, service"
        );
        let rows_tags = async {
            if tags_from_rows {
                self.client.rows(&rows_tags_sql).await
            } else {
                Ok(Vec::new())
            }
        };
        // The reads are independent: asked at once.
        let (parts, rows_tags) = tokio::try_join!(self.client.rows(&parts_sql), rows_tags)?;
        for row in parts {
            let part = part_fold(&row);
            match folds.get_mut(&row.str_of("trace_id")) {
                Some(fold) => fold.merge(part),
                None => {
                    folds.insert(row.str_of("trace_id"), part);
                }
            }
        }
        // The trace's tags: its best-ranked span's, as the fold keeps them, with its rank.
        for row in &rows_tags {
            if let Some(fold) = folds.get_mut(&row.str_of("trace_id")) {
                if let Some(rank) = fold.first_name.as_ref().map(|n| n.rank.clone()) {
                    add_tags(fold, row, &rank);
                }
            }
        }
        for fold in folds.values_mut() {
            fold.cap();
        }
        Ok(folds)
    }

    /// The summaries of these traces, in the order given (missing ones left out).
    pub(super) async fn summaries(
        &self,
        project: &str,
        trace_ids: &[String],
    ) -> StoreResult<Vec<TraceSummary>> {
        let folds = self.folds(project, trace_ids).await?;
        Ok(trace_ids
            .iter()
            .filter_map(|id| folds.get(id).map(|f| f.summary(id)))
            .collect())
    }

    /// Of these traces, those passing `q` (all but its order, cursor and limit), in the order
    /// given: the list's index over these traces only.
    pub(super) async fn passing(
        &self,
        project: &str,
        trace_ids: &[String],
        q: &TraceQuery,
        now_ms: i64,
    ) -> StoreResult<Vec<String>> {
        self.trace_list_filter(project, q)?;
        if trace_ids.is_empty() {
            return Ok(Vec::new());
        }
        if is_unfiltered(q) {
            return Ok(trace_ids.to_vec());
        }
        let scope = format!("trace_id IN ({})", id_list(trace_ids));
        let rows = self
            .client
            .rows(&format!(
                "SELECT trace_id FROM ({})",
                self.trace_index_in(project, q, now_ms, &scope, &[]).await?
            ))
            .await?;
        let found: std::collections::HashSet<String> =
            rows.iter().map(|r| r.str_of("trace_id")).collect();
        Ok(trace_ids
            .iter()
            .filter(|id| found.contains(*id))
            .cloned()
            .collect())
    }

    /// The per-trace aggregates a trace query filters and sorts on, for the traces matching
    /// `q` (without cursor and limit): `SELECT` over it for pages and counts.
    pub(super) async fn trace_index(
        &self,
        project: &str,
        q: &TraceQuery,
        now_ms: i64,
    ) -> StoreResult<String> {
        self.trace_index_in(project, q, now_ms, "1 = 1", &[]).await
    }

    /// `trace_index` with each trace's values of the tags `group_keys` (columns `g<i>`,
    /// `h<i>`: `trace_table::IndexQuery`).
    pub(super) async fn trace_index_grouped(
        &self,
        project: &str,
        q: &TraceQuery,
        now_ms: i64,
        group_keys: &[String],
    ) -> StoreResult<String> {
        self.trace_index_in(project, q, now_ms, "1 = 1", group_keys)
            .await
    }

    /// `trace_index` over the traces within `scope` (a condition on the trace id).
    async fn trace_index_in(
        &self,
        project: &str,
        q: &TraceQuery,
        now_ms: i64,
        scope: &str,
        group_keys: &[String],
    ) -> StoreResult<String> {
        Ok(self
            .trace_index_parts(project, q, now_ms, scope, group_keys)
            .await?
            .union())
    }

    /// `trace_index_in` as its whole and split parts (`trace_table::IndexParts`).
    pub(super) async fn trace_index_parts(
        &self,
        project: &str,
        q: &TraceQuery,
        now_ms: i64,
        scope: &str,
        group_keys: &[String],
    ) -> StoreResult<IndexParts> {
        let tags: Vec<(String, String)> = q
            .tags
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect();
        // Refused before (`trace_list_filter` in `list_traces`) when it does not compile.
        let filters = self
            .trace_list_filter_in(project, q, scope)
            .unwrap_or_default();
        let mut having: Vec<String> = Vec::new();
        if let Some(from) = q.start_from_ms(now_ms) {
            having.push(format!("start >= {}", from.saturating_mul(1_000_000)));
        }
        if let Some(to) = q.to_ms {
            having.push(format!("start < {}", to.saturating_mul(1_000_000)));
        }
        if let Some(name) = &q.name {
            having.push(format!(
                "positionCaseInsensitive(root_name, {}) > 0",
                quote(name)
            ));
        }
        match q.status {
            Some(StatusFilter::Error) => having.push("errors > 0".into()),
            Some(StatusFilter::Ok) => having.push("errors = 0".into()),
            None => {}
        }
        if let Some(ms) = q.min_duration_ms {
            having.push(format!("duration >= {}", (ms * 1e6) as i64));
        }
        if let Some(ms) = q.max_duration_ms {
            having.push(format!("duration <= {}", (ms * 1e6) as i64));
        }
        if let Some(s) = &q.session_id {
            having.push(format!("sess = {}", quote(s)));
        }
        if let Some(u) = &q.user_id {
            having.push(format!("usr = {}", quote(u)));
        }
        // A tag with few candidate traces narrows the rows merged, and the search for traces
        // fed twice, to those.
        let candidates = self.tag_candidates(project, &tags).await?;
        let copies = match &candidates {
            Some(candidates) => {
                self.copies(project, &format!("{scope} AND {candidates}"))
                    .await?
            }
            None => self.copies(project, scope).await?,
        };
        Ok(trace_table::index(
            &self.trace_table(),
            &self.layout.table("spans"),
            &trace_table::IndexQuery {
                project,
                candidates: candidates.as_deref(),
                scope,
                filters: &filters,
                tags: &tags,
                having: &having,
                group_keys,
            },
            &copies,
        ))
    }

    /// A condition naming the candidates of the rarest of `tags` (a superset of the traces
    /// with them), when it has few enough that probing the per-trace rows for them is cheaper
    /// than merging every trace's; `None` otherwise.
    async fn tag_candidates(
        &self,
        project: &str,
        tags: &[(String, String)],
    ) -> StoreResult<Option<String>> {
        let index = self.layout.table(tag_index::TAGS.name);
        let Some(sql) = tag_index::counts(&index, project, tags) else {
            return Ok(None);
        };
        let rows = self.client.rows(&sql).await?;
        Ok(tag_index::narrowing(&index, project, tags, &rows))
    }

    /// The split traces of a project within `scope`, and which of them are repeated
    /// (`splits::Copies`): reads of the few the writers named, not of every trace.
    pub(super) async fn copies(&self, project: &str, scope: &str) -> StoreResult<Copies> {
        let query = splits::splits_in(
            &self.layout.table(splits::SPLITS.name),
            &format!("project = {} AND {scope}", quote(project)),
        );
        let rows = self
            .client
            .rows(&format!("{query} LIMIT {}", splits::MAX_LISTED_COPIES + 1))
            .await?;
        if rows.len() > splits::MAX_LISTED_COPIES {
            return Ok(Copies::Query(query));
        }
        let split: Vec<String> = rows.iter().map(|r| r.str_of("trace_id")).collect();
        let repeated = if split.is_empty() {
            Vec::new()
        } else {
            self.client
                .rows(&format!(
                    "SELECT DISTINCT trace_id FROM {} WHERE project = {} AND trace_id IN ({})",
                    self.layout.table(splits::REPEATS.name),
                    quote(project),
                    id_list(&split)
                ))
                .await?
                .iter()
                .map(|r| r.str_of("trace_id"))
                .collect()
        };
        Ok(Copies::Ids { split, repeated })
    }

    /// The per-trace table (`trace_table`).
    pub(super) fn trace_table(&self) -> String {
        self.layout.table(trace_table::TRACES.name)
    }

    /// Rows (trace_id, key, value) of the tags of a project's traces, of `key` only if given.
    pub(super) async fn trace_tag_rows(
        &self,
        project: &str,
        key: Option<&str>,
    ) -> StoreResult<String> {
        let copies = self.copies(project, "1 = 1").await?;
        Ok(trace_table::tag_rows(
            &self.trace_table(),
            &self.layout.table("spans"),
            project,
            key,
            &copies,
        ))
    }

    /// The traces of a project whose tag `key` (as its fold picks it) is `value`.
    pub(super) async fn traces_with_tag(
        &self,
        project: &str,
        key: &str,
        value: &str,
    ) -> StoreResult<String> {
        Ok(format!(
            "SELECT trace_id FROM ({}) WHERE value = {}",
            self.trace_tag_rows(project, Some(key)).await?,
            quote(value)
        ))
    }

    /// Spans in full from `spans` rows holding `body`.
    pub(super) fn bodies(rows: &[Value]) -> StoreResult<Vec<Span>> {
        rows.iter()
            .map(|r| {
                serde_json::from_str(&r.str_of("body"))
                    .map_err(|e| StoreError::Internal(format!("a stored span is unreadable: {e}")))
            })
            .collect()
    }

    pub(super) async fn span_full(
        &self,
        project: &str,
        trace_id: &str,
        span_id: &str,
    ) -> StoreResult<Option<Span>> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT body FROM {} WHERE project = {} AND trace_id = {} AND span_id = {}",
                self.spans(),
                quote(project),
                quote(trace_id),
                quote(span_id)
            ))
            .await?;
        Ok(Self::bodies(&rows)?.pop())
    }

    /// Every span of a trace, in the order they first arrived.
    pub(super) async fn all_spans(&self, project: &str, trace_id: &str) -> StoreResult<Vec<Span>> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT body FROM {} WHERE project = {} AND trace_id = {} \
                 ORDER BY arrival, span_id",
                self.spans(),
                quote(project),
                quote(trace_id),
            ))
            .await?;
        Self::bodies(&rows)
    }
}

/// Whether `q` selects every trace (it may order and page them).
fn is_unfiltered(q: &TraceQuery) -> bool {
    *q == TraceQuery {
        sort: q.sort,
        cursor: q.cursor.clone(),
        limit: q.limit,
        ..TraceQuery::default()
    }
}

/// Tag values of a project's traces with counts, as their folds pick them.
pub(super) async fn tag_counts_sql(store: &ClickhouseStore, project: &str) -> StoreResult<String> {
    Ok(format!(
        "SELECT key, value, count() AS traces FROM ({}) GROUP BY key, value",
        store.trace_tag_rows(project, None).await?
    ))
}
