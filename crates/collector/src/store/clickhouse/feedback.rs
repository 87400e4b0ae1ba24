//! Feedback in ClickHouse: each record's versions in `feedback` (the latest wins; a deletion is a
//! version marked deleted). A record whose run had not arrived when it was written has no trace
//! id; it takes its run's trace on read, so it is found by trace as soon as the run is stored.

use std::collections::HashMap;

use serde_json::{json, Value};
use skein_model::trace::FeedbackStat;
use skein_model::{Feedback, FeedbackUpdate, NewFeedback, TraceSummary};

use super::client::{as_f64, quote, RowExt};
use super::span_row::{encode_receipt, RECEIPT_COLUMNS};
use super::traces::id_list;
use super::writer::arrivals;
use super::ClickhouseStore;
use crate::store::{FeedbackFilter, StoreResult};

const COLUMNS: &str = "project, id, run_id, trace_id, key, score, value, comment, correction, \
    source, queue_id, reviewer, created_ms, modified_ms";

fn now_ms() -> i64 {
    (arrivals(1) / 1000) as i64
}

fn from_row(row: &Value) -> Feedback {
    let text = |k: &str| -> Option<String> { row[k].as_str().map(str::to_string) };
    let json_of = |k: &str| -> Option<Value> {
        text(k)
            .filter(|t| !t.is_empty())
            .and_then(|t| serde_json::from_str(&t).ok())
    };
    Feedback {
        id: row.str_of("id"),
        project: row.str_of("project"),
        run_id: row.str_of("run_id"),
        trace_id: text("trace_id").filter(|t| !t.is_empty()),
        key: row.str_of("key"),
        score: (!row["score"].is_null()).then(|| as_f64(&row["score"])),
        value: json_of("value"),
        comment: text("comment"),
        correction: json_of("correction"),
        source: row.str_of("source"),
        queue_id: text("queue_id").filter(|t| !t.is_empty()),
        reviewer: text("reviewer").filter(|t| !t.is_empty()),
        created_ms: row.i64_of("created_ms"),
        modified_ms: row.i64_of("modified_ms"),
    }
}

fn to_row(f: &Feedback, deleted: bool) -> Value {
    let json_text = |v: &Option<Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    json!({
        "project": f.project,
        "id": f.id,
        "run_id": f.run_id,
        "trace_id": f.trace_id.as_deref().unwrap_or(""),
        "key": f.key,
        "score": f.score.filter(|s| s.is_finite()),
        "value": json_text(&f.value),
        "comment": f.comment,
        "correction": json_text(&f.correction),
        "source": f.source,
        "queue_id": f.queue_id.as_deref().unwrap_or(""),
        "reviewer": f.reviewer.as_deref().unwrap_or(""),
        "created_ms": f.created_ms,
        "modified_ms": f.modified_ms,
        "deleted": u8::from(deleted),
        "version": arrivals(1),
    })
}

impl ClickhouseStore {
    fn feedback_table(&self) -> String {
        format!("{} FINAL", self.layout.table("feedback"))
    }

    async fn feedback_where(&self, condition: &str) -> StoreResult<Vec<Feedback>> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT {COLUMNS} FROM {} WHERE {condition} AND deleted = 0",
                self.feedback_table()
            ))
            .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    /// The trace of run `run_id` in `project`, if it is stored.
    async fn trace_of_run(&self, project: &str, run_id: &str) -> StoreResult<Option<String>> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT trace_id FROM {} WHERE project = {} AND span_id = {} LIMIT 1",
                self.layout.table("spans"),
                quote(project),
                quote(run_id)
            ))
            .await?;
        Ok(rows.first().map(|r| r.str_of("trace_id")))
    }

    /// Gives records without a trace the trace of their run, where it is stored now.
    async fn resolve(&self, project: &str, records: &mut [Feedback]) -> StoreResult<()> {
        let runs: Vec<String> = records
            .iter()
            .filter(|f| f.trace_id.is_none())
            .map(|f| f.run_id.clone())
            .collect();
        if runs.is_empty() {
            return Ok(());
        }
        let rows = self
            .client
            .rows(&format!(
                "SELECT span_id, any(trace_id) AS trace_id FROM {} WHERE project = {} \
                 AND span_id IN ({}) GROUP BY span_id",
                self.layout.table("spans"),
                quote(project),
                id_list(&runs)
            ))
            .await?;
        let trace_of: HashMap<String, String> = rows
            .iter()
            .map(|r| (r.str_of("span_id"), r.str_of("trace_id")))
            .collect();
        for f in records.iter_mut().filter(|f| f.trace_id.is_none()) {
            f.trace_id = trace_of.get(&f.run_id).cloned();
        }
        Ok(())
    }

    /// The project's records of these traces, their runs' traces resolved.
    pub(super) async fn feedback_of_traces(
        &self,
        project: &str,
        trace_ids: &[String],
    ) -> StoreResult<Vec<Feedback>> {
        if trace_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = id_list(trace_ids);
        let p = quote(project);
        // Records without a trace (rated by run id before their run was stored) are rare: the
        // runs of these traces are read from their spans (granules of 8192 rows a trace, as
        // much as the page's summaries read) only when the project has any.
        let mut records = self
            .feedback_where(&format!(
                "project = {p} AND (trace_id IN ({ids}) OR trace_id = '')"
            ))
            .await?;
        if records.iter().any(|f| f.trace_id.is_none()) {
            records = self
                .feedback_where(&format!(
                    "project = {p} AND (trace_id IN ({ids}) OR (trace_id = '' AND run_id GLOBAL \
                     IN (SELECT span_id FROM {} WHERE project = {p} AND trace_id IN ({ids}))))",
                    self.layout.table("spans")
                ))
                .await?;
        }
        self.resolve(project, &mut records).await?;
        Ok(records)
    }

    pub(super) async fn create_feedback_record(
        &self,
        project: &str,
        new: NewFeedback,
    ) -> StoreResult<Feedback> {
        let now = now_ms();
        let id = new
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        // Ids are scoped by project: the same id in another project is another record.
        let created_ms = self
            .one_feedback(project, &id)
            .await?
            .map_or(now, |f| f.created_ms);
        let trace_id = match new.trace_id {
            Some(t) => Some(t),
            None => self.trace_of_run(project, &new.run_id).await?,
        };
        let feedback = Feedback {
            id,
            project: project.to_string(),
            run_id: new.run_id,
            trace_id,
            key: new.key,
            score: new.score,
            value: new.value,
            comment: new.comment,
            correction: new.correction,
            source: new.source.unwrap_or_else(|| "api".into()),
            queue_id: new.queue_id,
            reviewer: new.reviewer,
            created_ms,
            modified_ms: now,
        };
        self.client
            .insert(
                &self.layout.table("feedback"),
                &[to_row(&feedback, false)],
                self.quorum,
            )
            .await?;
        self.feedback_received(&feedback).await?;
        Ok(feedback)
    }

    /// After a record of `f`'s run was written (created, changed or removed): the run's span
    /// is received again, so that a stream whose conditions name feedback decides again. A
    /// record whose run has not arrived (no trace yet) changes nothing: the run's arrival is
    /// received then; a receipt of a span not stored is skipped by the reader.
    async fn feedback_received(&self, f: &Feedback) -> StoreResult<()> {
        let Some(trace_id) = &f.trace_id else {
            return Ok(());
        };
        let mut receipt = Vec::new();
        encode_receipt(&mut receipt, (&f.project, trace_id, &f.run_id), arrivals(1));
        self.client
            .insert_row_binary(
                &self.layout.table("received"),
                RECEIPT_COLUMNS,
                receipt,
                self.quorum,
            )
            .await
    }

    async fn one_feedback(&self, project: &str, id: &str) -> StoreResult<Option<Feedback>> {
        Ok(self
            .feedback_where(&format!(
                "project = {} AND id = {}",
                quote(project),
                quote(id)
            ))
            .await?
            .pop())
    }

    /// One record, its trace resolved from its run if that has arrived since.
    pub(super) async fn read_feedback_record(
        &self,
        project: &str,
        id: &str,
    ) -> StoreResult<Option<Feedback>> {
        let mut records: Vec<Feedback> =
            self.one_feedback(project, id).await?.into_iter().collect();
        self.resolve(project, &mut records).await?;
        Ok(records.pop())
    }

    pub(super) async fn update_feedback_record(
        &self,
        project: &str,
        id: &str,
        update: FeedbackUpdate,
    ) -> StoreResult<Option<Feedback>> {
        let Some(mut f) = self.one_feedback(project, id).await? else {
            return Ok(None);
        };
        if let Some(key) = update.key {
            f.key = key;
        }
        if update.score.is_some() {
            f.score = update.score;
        }
        if update.value.is_some() {
            f.value = update.value;
        }
        if update.comment.is_some() {
            f.comment = update.comment;
        }
        f.modified_ms = now_ms();
        self.client
            .insert(
                &self.layout.table("feedback"),
                &[to_row(&f, false)],
                self.quorum,
            )
            .await?;
        self.feedback_received(&f).await?;
        Ok(Some(f))
    }

    pub(super) async fn import_feedback_record(&self, f: &Feedback) -> StoreResult<()> {
        self.client
            .insert(
                &self.layout.table("feedback"),
                &[to_row(f, false)],
                self.quorum,
            )
            .await?;
        self.feedback_received(f).await
    }

    pub(super) async fn delete_feedback_record(
        &self,
        project: &str,
        id: &str,
    ) -> StoreResult<bool> {
        let Some(f) = self.one_feedback(project, id).await? else {
            return Ok(false);
        };
        self.client
            .insert(
                &self.layout.table("feedback"),
                &[to_row(&f, true)],
                self.quorum,
            )
            .await?;
        self.feedback_received(&f).await?;
        Ok(true)
    }

    pub(super) async fn list_feedback_records(
        &self,
        project: &str,
        filter: &FeedbackFilter,
    ) -> StoreResult<Vec<Feedback>> {
        let mut records = match &filter.trace_id {
            Some(trace) => {
                self.feedback_of_traces(project, std::slice::from_ref(trace))
                    .await?
            }
            None => {
                let of_queue = filter
                    .queue_id
                    .as_ref()
                    .map(|q| format!(" AND queue_id = {}", quote(q)))
                    .unwrap_or_default();
                let mut records = self
                    .feedback_where(&format!("project = {}{of_queue}", quote(project)))
                    .await?;
                self.resolve(project, &mut records).await?;
                records
            }
        };
        records.retain(|f| {
            filter.run_id.as_ref().is_none_or(|r| f.run_id == *r)
                && filter.key.as_ref().is_none_or(|k| f.key == *k)
                && filter
                    .queue_id
                    .as_ref()
                    .is_none_or(|q| f.queue_id.as_ref() == Some(q))
        });
        records.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        records.truncate(filter.limit.unwrap_or(1000).clamp(1, 10_000) as usize);
        Ok(records)
    }

    /// The summaries of these traces (`summaries`) with their feedback (`TraceSummary::feedback`:
    /// per key, how many records and the mean of their scores), the two read at once.
    pub(super) async fn summaries_with_feedback(
        &self,
        project: &str,
        trace_ids: &[String],
    ) -> StoreResult<Vec<TraceSummary>> {
        let (mut traces, records) = tokio::try_join!(
            self.summaries(project, trace_ids),
            self.feedback_of_traces(project, trace_ids)
        )?;
        add_feedback_stats(&mut traces, &records);
        Ok(traces)
    }

    /// Per trace, the mean score of its feedback with this key (records without a score are
    /// left out): the values of a feedback metric.
    pub(super) async fn feedback_means(
        &self,
        project: &str,
        key: &str,
    ) -> StoreResult<HashMap<String, f64>> {
        let mut records = self
            .feedback_where(&format!(
                "project = {} AND key = {} AND score IS NOT NULL",
                quote(project),
                quote(key)
            ))
            .await?;
        self.resolve(project, &mut records).await?;
        let mut sums: HashMap<String, (f64, u32)> = HashMap::new();
        for f in records {
            if let (Some(trace), Some(score)) = (f.trace_id, f.score) {
                let e = sums.entry(trace).or_default();
                e.0 += score;
                e.1 += 1;
            }
        }
        Ok(sums
            .into_iter()
            .map(|(t, (sum, n))| (t, sum / f64::from(n)))
            .collect())
    }
}

/// Fills each summary's `feedback` from the records of its trace: per key, how many records
/// and the mean of their scores.
fn add_feedback_stats(traces: &mut [TraceSummary], records: &[Feedback]) {
    let mut stats: HashMap<&str, std::collections::BTreeMap<&str, (u64, f64, u64)>> =
        HashMap::new();
    for f in records {
        let Some(trace) = f.trace_id.as_deref() else {
            continue;
        };
        let entry = stats
            .entry(trace)
            .or_default()
            .entry(f.key.as_str())
            .or_default();
        entry.0 += 1;
        if let Some(s) = f.score {
            entry.1 += s;
            entry.2 += 1;
        }
    }
    for t in traces.iter_mut() {
        if let Some(keys) = stats.get(t.trace_id.as_str()) {
            t.feedback = keys
                .iter()
                .map(|(key, (count, sum, scored))| FeedbackStat {
                    key: key.to_string(),
                    count: *count,
                    mean: (*scored > 0).then(|| sum / *scored as f64),
                })
                .collect();
        }
    }
}
