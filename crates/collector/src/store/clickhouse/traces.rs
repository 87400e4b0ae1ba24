//! Traces: which traces a query selects, in which order, is read from the per-trace table
//! (`trace_table`); the summaries of a page's traces are folds by the same rule SQLite folds on
//! write (`skein_model::trace_fold`), merged here (`TraceFold::merge`) from each trace's parts
//! per service (`service_parts`: sums, the best-ranked span's name, type and status, session
//! and user, each with its rank), stored by a view or, for a repeated trace, folded from its
//! spans' latest versions; its tags are its best-ranked span's. A trace's skeleton is
//! `skeleton`'s.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use skein_model::span::Span;
use skein_model::trace_fold::{Rank, Ranked, RootFacts, TraceFold};
use skein_model::trace_tags::is_internal_key;
use skein_model::{StatusFilter, TraceQuery, TraceSummary};

use super::client::{quote, RowExt};
use super::service_parts;
use super::splits::{self, Copies};
use super::tag_index;
use super::trace_table::{self, IndexParts};
use super::ClickhouseStore;
use crate::store::{StoreError, StoreResult};

/// The per-trace rows' columns a page's summaries read (`row_fold`).
const ROW_COLUMNS: &str = "trace_id, row_count, first_start, last_end, error_spans, model_in, \
    model_out, model_cost, all_in, all_out, all_cost, model_reports, best_name, \
    best_has_parent, best_start, best_span, best_session, session_has_parent, session_start, \
    session_span, best_user, user_has_parent, user_start, user_span, \
    best_tag_keys AS best_keys, best_tag_values AS best_values";

/// A span's rank as SQL, the tuple `trace_fold::Rank` is: (tier, start, span id).
pub(super) const RANK: &str = "tuple(has_parent, start_ns, span_id)";

/// `trace_id IN (...)` for a list of ids.
pub(super) fn id_list(ids: &[String]) -> String {
    ids.iter().map(|i| quote(i)).collect::<Vec<_>>().join(", ")
}

/// A trace's part of one service folded from its spans (`service_parts::part_columns`, with
/// the best-ranked span's tags): that service's best rank, the part's sums and its
/// best-ranked values.
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
    let best = rank_in(row, "best");
    add_tags(&mut fold, row, &best);
    fold.first_name = Some(Ranked {
        rank: best,
        value: row.str_of("best_name"),
    });
    fold.session_id = ranked_in(row, "session", "session_value");
    fold.user_id = ranked_in(row, "user", "user_value");
    fold.merge(service_fold(row));
    fold
}

/// A trace's per-trace row (`trace_table`, an insert's spans of it): its sums and its
/// best-ranked values, without its services (`service_fold`) or tags (`add_tags`).
fn row_fold(row: &Value) -> TraceFold {
    let model_in = row.i64_of("model_in");
    let model_out = row.i64_of("model_out");
    let model_cost = row.f64_of("model_cost");
    TraceFold {
        start_ns: row.i64_of("first_start"),
        end_ns: row.i64_of("last_end"),
        span_count: row.i64_of("row_count").max(0) as u64,
        error_count: row.i64_of("error_spans").max(0) as u64,
        input_tokens: model_in,
        output_tokens: model_out,
        cost: model_cost,
        other_input_tokens: row.i64_of("all_in").saturating_sub(model_in),
        other_output_tokens: row.i64_of("all_out").saturating_sub(model_out),
        other_cost: row.f64_of("all_cost") - model_cost,
        model_usage: row.i64_of("model_reports") > 0,
        first_name: Some(Ranked {
            rank: rank_in(row, "best"),
            value: row.str_of("best_name"),
        }),
        session_id: ranked_in(row, "session", "best_session"),
        user_id: ranked_in(row, "user", "best_user"),
        ..TraceFold::default()
    }
}

/// A service's part of a trace (`service_parts`' stored columns): the service's best rank,
/// and the root when its best-ranked span is one (roots rank first).
fn service_fold(row: &Value) -> TraceFold {
    let mut fold = TraceFold::default();
    let service = row.str_of("service");
    let best = rank_in(row, "best");
    if best.0 == 0 {
        fold.root = Some(Ranked {
            rank: best.clone(),
            value: RootFacts {
                name: row.str_of("best_name"),
                span_id: best.2.clone(),
                span_type: row.i64_of("best_type").clamp(0, 255) as u8,
                status: row.i64_of("best_status").clamp(0, 255) as u8,
                service: service.clone(),
            },
        });
    }
    fold.services.insert(service, best);
    fold
}

/// The rank in a row's columns `{prefix}_has_parent`, `{prefix}_start`, `{prefix}_span`.
fn rank_in(row: &Value, prefix: &str) -> Rank {
    Rank(
        row.i64_of(&format!("{prefix}_has_parent")).clamp(0, 1) as u8,
        row.i64_of(&format!("{prefix}_start")),
        row.str_of(&format!("{prefix}_span")),
    )
}

/// The value in column `value` at the rank `prefix` names, if the row has one.
fn ranked_in(row: &Value, prefix: &str, value: &str) -> Option<Ranked<String>> {
    let value = row.str_of(value);
    (!value.is_empty()).then(|| Ranked {
        rank: rank_in(row, prefix),
        value,
    })
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

/// `project = … AND trace_id IN (…)`: these traces of a project.
fn traces_of(project: &str, trace_ids: &[String]) -> String {
    format!(
        "project = {} AND trace_id IN ({})",
        quote(project),
        id_list(trace_ids)
    )
}

impl ClickhouseStore {
    pub(super) fn spans(&self) -> String {
        format!("{} FINAL", self.layout.table("spans"))
    }

    /// The folds of these traces of a project. A trace with each span once (whole, or split
    /// but not repeated: `splits`) is its per-trace rows (`trace_table`: sums, best-ranked
    /// values, its best-ranked row's tags) and per-service parts (`service_parts`: the
    /// services' order, the root) merged; a repeated one's spans' versions are folded
    /// (`FINAL`, which costs a merge of every part holding it) by service. Which are repeated
    /// is read beside the rows.
    pub(super) async fn folds(
        &self,
        project: &str,
        trace_ids: &[String],
    ) -> StoreResult<HashMap<String, TraceFold>> {
        if trace_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let scope = traces_of(project, trace_ids);
        // `PREWHERE`: of the granules the key selects, only the page's rows' other columns
        // are read (half the time at 10M spans; 18.16 moves no condition on a key column).
        let rows_sql = format!(
            "SELECT {ROW_COLUMNS} FROM {} PREWHERE {scope}",
            self.trace_table()
        );
        let services_sql = format!(
            "SELECT {} FROM {} PREWHERE {scope}",
            service_parts::stored_columns(),
            self.layout.table(service_parts::SERVICE_PARTS.name)
        );
        let repeats_sql = splits::splits_in(&self.layout.table(splits::REPEATS.name), &scope);
        // The reads are independent: asked at once.
        let (rows, services, repeated) = tokio::try_join!(
            self.client.rows(&rows_sql),
            self.client.rows(&services_sql),
            self.client.rows(&repeats_sql)
        )?;
        let repeated: HashSet<String> = repeated.iter().map(|r| r.str_of("trace_id")).collect();
        let mut folds: HashMap<String, TraceFold> = HashMap::new();
        // Each trace's best-ranked row: its tags are the trace's.
        let mut best_rows: HashMap<String, (Rank, &Value)> = HashMap::new();
        for row in &rows {
            let id = row.str_of("trace_id");
            if repeated.contains(&id) {
                continue;
            }
            let rank = rank_in(row, "best");
            match best_rows.get(&id) {
                Some((best, _)) if *best <= rank => {}
                _ => {
                    best_rows.insert(id.clone(), (rank, row));
                }
            }
            folds.entry(id).or_default().merge(row_fold(row));
        }
        for row in &services {
            let id = row.str_of("trace_id");
            if !repeated.contains(&id) {
                folds.entry(id).or_default().merge(service_fold(row));
            }
        }
        // The trace's tags: its best-ranked span's, with its rank.
        for (id, (rank, row)) in best_rows {
            if let Some(fold) = folds.get_mut(&id) {
                add_tags(fold, row, &rank);
            }
        }
        let repeated: Vec<String> = repeated.into_iter().collect();
        folds.extend(self.folds_of_spans(project, &repeated).await?);
        for fold in folds.values_mut() {
            fold.cap();
        }
        Ok(folds)
    }

    /// The folds of repeated traces from `spans FINAL`: one read folds each trace's spans' latest
    /// versions per service (`service_parts::part_columns`), with the best-ranked span's tags.
    async fn folds_of_spans(
        &self,
        project: &str,
        trace_ids: &[String],
    ) -> StoreResult<HashMap<String, TraceFold>> {
        if trace_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let parts_sql = format!(
            "SELECT trace_id, service, {}, argMin(tag_keys, {RANK}) AS best_keys, \
             argMin(tag_values, {RANK}) AS best_values FROM {} WHERE {} \
             GROUP BY trace_id, service",
            service_parts::part_columns(),
            self.spans(),
            traces_of(project, trace_ids)
        );
        let mut folds: HashMap<String, TraceFold> = HashMap::new();
        for row in &self.client.rows(&parts_sql).await? {
            folds
                .entry(row.str_of("trace_id"))
                .or_default()
                .merge(part_fold(row));
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
        let within = format!("project = {} AND {scope}", quote(project));
        let query = splits::splits_in(&self.layout.table(splits::SPLITS.name), &within);
        let limited = |sql: &str| format!("{sql} LIMIT {}", splits::MAX_LISTED_COPIES + 1);
        // The repeated traces are among the split ones (the writer names them first, then
        // both): the two read at once, the repeats kept among the split.
        let repeats = limited(&splits::splits_in(
            &self.layout.table(splits::REPEATS.name),
            &within,
        ));
        let splits = limited(&query);
        let (rows, repeats) =
            tokio::try_join!(self.client.rows(&splits), self.client.rows(&repeats))?;
        if rows.len() > splits::MAX_LISTED_COPIES || repeats.len() > splits::MAX_LISTED_COPIES {
            return Ok(Copies::Query(query));
        }
        let split: Vec<String> = rows.iter().map(|r| r.str_of("trace_id")).collect();
        let named: std::collections::HashSet<String> =
            repeats.iter().map(|r| r.str_of("trace_id")).collect();
        let repeated = split
            .iter()
            .filter(|id| named.contains(*id))
            .cloned()
            .collect();
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
