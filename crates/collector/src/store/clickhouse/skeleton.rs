//! A trace's skeleton and summary from its spans' rows: every version (`spans` without
//! `FINAL`: merging a 100k-span trace's versions in ClickHouse costs more than reading them),
//! each span's latest version kept here as `FINAL` keeps it, and the summary folded from them
//! by the rule SQLite folds by (`TraceFold`).
//!
//! The read asks only for what the skeleton and the fold use, in RowBinary: not the spans'
//! tag arrays, since a trace's tags are its best-ranked span's alone (`trace_fold`). Those
//! come from a second read asked at once, of the trace's per-trace rows (its best-ranked
//! span's tags: a few rows); a trace with a span stored twice (`splits`) reads them after, of
//! the roots' rows (the best-ranked span is a root whenever the trace has one), or, for a
//! trace without a root, of the best-ranked span's row.

use std::collections::{BTreeMap, HashMap};

use skein_model::span::{SpanKind, SpanStatus, SpanType};
use skein_model::trace_fold::{SpanFacts, TraceFold};
use skein_model::{SkeletonSpanInput, TraceSkeleton};

use super::client::{quote, RowExt};
use super::row_binary::RowBinary;
use super::splits::REPEATS;
use super::trace_table::PART_RANK;
use super::ClickhouseStore;
use crate::store::StoreResult;

/// The columns `SkeletonRow::read` reads, in its order.
const COLUMNS: &str = "span_id, parent_span_id, has_parent, name, service, span_type, kind, \
    status, start_ns, end_ns, input_tokens, output_tokens, cost, session_id, user_id, \
    version, arrival";

/// The columns of a row's tags (`Tagged::read`), in its order.
const TAG_COLUMNS: &str = "span_id, version, arrival, tag_keys, tag_values";

impl ClickhouseStore {
    pub(super) async fn skeleton(
        &self,
        project: &str,
        trace_id: &str,
    ) -> StoreResult<Option<TraceSkeleton>> {
        let scope = format!(
            "FROM {} WHERE project = {} AND trace_id = {}",
            self.layout.table("spans"),
            quote(project),
            quote(trace_id)
        );
        let spans = async {
            let bytes = self
                .client
                .binary(&format!("SELECT {COLUMNS} {scope}"))
                .await?;
            SkeletonRow::read_all(&bytes)
        };
        // A trace with each span once (not named repeated) has its best-ranked span's tags in
        // its per-trace rows (`trace_table`): a few rows, not every root's tag arrays.
        let from_rows_sql = format!(
            "SELECT argMin(best_span, {PART_RANK}) AS span, \
             argMin(best_tag_keys, {PART_RANK}) AS keys, \
             argMin(best_tag_values, {PART_RANK}) AS values, \
             (SELECT count() FROM {} WHERE project = {p} AND trace_id = {t}) AS repeated \
             FROM {} WHERE project = {p} AND trace_id = {t}",
            self.layout.table(REPEATS.name),
            self.trace_table(),
            p = quote(project),
            t = quote(trace_id)
        );
        let from_rows = self.client.rows(&from_rows_sql);
        // Independent reads: asked at once.
        let (spans, from_rows) = tokio::try_join!(spans, from_rows)?;
        let mut spans = latest_versions(spans);
        let Some(best) = spans
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.rank_cmp(b.1))
            .map(|(i, _)| i)
        else {
            return Ok(None);
        };
        let strings = |row: &serde_json::Value, key: &str| -> Vec<String> {
            row[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v.as_str().unwrap_or("").to_string())
                .collect()
        };
        let tags = match from_rows.first() {
            Some(row)
                if row.i64_of("repeated") == 0 && row.str_of("span") == spans[best].span_id =>
            {
                Some((strings(row, "keys"), strings(row, "values")))
            }
            // Repeated (the rows may hold an older version's tags), or rows not written yet.
            _ => self
                .best_span_tags(&scope, &spans[best])
                .await?
                .map(|t| (t.keys, t.values)),
        };
        if let Some((keys, values)) = tags {
            spans[best].tags = keys.into_iter().zip(values).collect();
        }
        let fold = TraceFold::of_all(spans.iter().map(SkeletonRow::facts));
        let inputs = spans.iter().map(SkeletonRow::input).collect();
        Ok(Some(TraceSkeleton::build(fold.summary(trace_id), inputs)))
    }

    /// The tags of a trace's best-ranked span `best` (this version) from `spans` (`scope` is
    /// `FROM spans WHERE` the trace): among the roots' rows (the best-ranked span is a root
    /// whenever the trace has one), or else its own row.
    async fn best_span_tags(&self, scope: &str, best: &SkeletonRow) -> StoreResult<Option<Tagged>> {
        let bytes = self
            .client
            .binary(&format!("SELECT {TAG_COLUMNS} {scope} AND has_parent = 0"))
            .await?;
        if let Some(found) = Tagged::read_all(&bytes)?.into_iter().find(|t| best.is(t)) {
            return Ok(Some(found));
        }
        let bytes = self
            .client
            .binary(&format!(
                "SELECT {TAG_COLUMNS} {scope} AND span_id = {} AND version = {} \
                 AND arrival = {} LIMIT 1",
                quote(&best.span_id),
                best.version,
                best.arrival
            ))
            .await?;
        Ok(Tagged::read_all(&bytes)?.pop())
    }
}

/// Of a trace's rows, each span's latest version (the highest version, of equal ones the later
/// arrival), as `FINAL` reads them, in the order the spans were first read.
fn latest_versions(rows: Vec<SkeletonRow>) -> Vec<SkeletonRow> {
    let mut latest: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    let mut kept: Vec<SkeletonRow> = Vec::with_capacity(rows.len());
    for row in rows {
        match latest.entry(row.span_id.clone()) {
            std::collections::hash_map::Entry::Occupied(at) => {
                let old = &mut kept[*at.get()];
                if (row.version, row.arrival) > (old.version, old.arrival) {
                    *old = row;
                }
            }
            std::collections::hash_map::Entry::Vacant(at) => {
                at.insert(kept.len());
                kept.push(row);
            }
        }
    }
    kept
}

/// One version of a span as the skeleton reads it; `tags` stays empty but for the trace's
/// best-ranked span.
struct SkeletonRow {
    span_id: String,
    parent: Option<String>,
    name: String,
    service: String,
    span_type: SpanType,
    kind: SpanKind,
    status: SpanStatus,
    start_ns: i64,
    end_ns: i64,
    input_tokens: i64,
    output_tokens: i64,
    cost: f64,
    session_id: String,
    user_id: String,
    version: u64,
    arrival: u64,
    tags: BTreeMap<String, String>,
}

impl SkeletonRow {
    /// The rows of a RowBinary answer of `COLUMNS`.
    fn read_all(bytes: &[u8]) -> StoreResult<Vec<SkeletonRow>> {
        let mut r = RowBinary::new(bytes);
        let mut rows = Vec::new();
        while !r.done() {
            let span_id = r.string()?;
            let parent_span_id = r.string()?;
            let has_parent = r.u8()? != 0;
            rows.push(SkeletonRow {
                span_id,
                parent: has_parent.then_some(parent_span_id),
                name: r.string()?,
                service: r.string()?,
                span_type: SpanType::from_code(r.u8()?),
                kind: SpanKind::from_code(r.u8()?),
                status: SpanStatus::from_code(r.u8()?),
                start_ns: r.i64()?,
                end_ns: r.i64()?,
                input_tokens: r.i64()?,
                output_tokens: r.i64()?,
                cost: r.f64()?,
                session_id: r.string()?,
                user_id: r.string()?,
                version: r.u64()?,
                arrival: r.u64()?,
                tags: BTreeMap::new(),
            });
        }
        Ok(rows)
    }

    /// The order of the fold's ranks (`trace_fold::Rank`: roots first, then by start, then
    /// by span id): the first is the span whose tags are the trace's.
    fn rank_cmp(&self, other: &SkeletonRow) -> std::cmp::Ordering {
        fn rank(s: &SkeletonRow) -> (bool, i64, &str) {
            (s.parent.is_some(), s.start_ns, s.span_id.as_str())
        }
        rank(self).cmp(&rank(other))
    }

    /// Whether `tagged` is this version's row.
    fn is(&self, tagged: &Tagged) -> bool {
        (self.span_id.as_str(), self.version, self.arrival)
            == (tagged.span_id.as_str(), tagged.version, tagged.arrival)
    }

    /// What the span gives the trace's fold: stored empty texts are absent values, as the
    /// folds in SQL read them.
    fn facts(&self) -> SpanFacts<'_> {
        fn present(s: &str) -> Option<&str> {
            (!s.is_empty()).then_some(s)
        }
        SpanFacts {
            span_id: &self.span_id,
            parent_span_id: self.parent.as_deref(),
            name: &self.name,
            span_type: self.span_type,
            service: &self.service,
            start_ns: self.start_ns,
            end_ns: self.end_ns,
            status: self.status,
            input_tokens: Some(self.input_tokens),
            output_tokens: Some(self.output_tokens),
            cost: Some(self.cost),
            session_id: present(&self.session_id),
            user_id: present(&self.user_id),
            tags: &self.tags,
        }
    }

    fn input(&self) -> SkeletonSpanInput<'_> {
        SkeletonSpanInput {
            span_id: &self.span_id,
            parent_span_id: self.parent.as_deref(),
            name: &self.name,
            service: &self.service,
            span_type: self.span_type,
            start_ns: self.start_ns,
            end_ns: self.end_ns,
            status: self.status,
            tokens: self.input_tokens + self.output_tokens,
            kind: self.kind,
            cost: self.cost,
        }
    }
}

/// One version of a span's tags (`TAG_COLUMNS`).
struct Tagged {
    span_id: String,
    version: u64,
    arrival: u64,
    keys: Vec<String>,
    values: Vec<String>,
}

impl Tagged {
    fn read_all(bytes: &[u8]) -> StoreResult<Vec<Tagged>> {
        let mut r = RowBinary::new(bytes);
        let mut rows = Vec::new();
        while !r.done() {
            rows.push(Tagged {
                span_id: r.string()?,
                version: r.u64()?,
                arrival: r.u64()?,
                keys: r.strings()?,
                values: r.strings()?,
            });
        }
        Ok(rows)
    }
}
