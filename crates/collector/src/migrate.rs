//! `skein migrate`: moves everything of one store into another (SQLite into ClickHouse, when a
//! team outgrows one machine) through the store contract alone: projects and keys (as their
//! hashes, so every key keeps working), then each project's traces, oldest first, with their
//! spans and feedback. It can be stopped and started again: what was moved is recorded after
//! every page of traces, and moving a trace twice stores it once. At the end the counts of both
//! stores are compared.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use skein_model::span::Span;
use skein_model::span_pieces::ATTR_RUN_TYPE;
use skein_model::{TraceQuery, TraceSort};

use crate::store::{FeedbackFilter, Store, StoreError};

/// Traces moved per page (each page is one write of its spans).
const PAGE: u32 = 200;

/// Where each project's move stands, kept in a file beside the source.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    /// Project → the cursor after the last page moved.
    cursors: BTreeMap<String, String>,
    /// Projects moved completely.
    done: Vec<String>,
}

impl Progress {
    fn load(path: &Path) -> Progress {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn save(&self, path: &Path) -> Result<(), MigrateError> {
        let text = serde_json::to_vec_pretty(self).unwrap_or_default();
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| MigrateError::Progress(path.to_path_buf(), e))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot record the progress in {0}: {1}")]
    Progress(PathBuf, std::io::Error),
    #[error("the counts differ after the move: {0}")]
    Mismatch(String),
}

/// What was moved.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MigrateReport {
    pub projects: usize,
    pub keys: usize,
    pub traces: u64,
    pub spans: u64,
    pub feedback: u64,
    pub score_configs: u64,
}

/// A span that came from the LangSmith API is moved as a piece, so that it is found by its run
/// id there as here (`SpanStore::pieced_spans`).
fn came_in_pieces(span: &Span) -> bool {
    span.attributes.contains_key(ATTR_RUN_TYPE)
}

/// Moves everything of `from` into `to`, recording progress in `progress` and calling `say`
/// with a line after every page.
pub async fn migrate(
    from: &dyn Store,
    to: &dyn Store,
    progress_path: &Path,
    mut say: impl FnMut(&str),
) -> Result<MigrateReport, MigrateError> {
    let mut progress = Progress::load(progress_path);
    let mut report = MigrateReport::default();

    let mut registered = from.list_projects().await?;
    for project in &registered {
        to.create_project(project).await?;
    }
    report.projects = registered.len();
    for key in from.export_keys().await? {
        if !registered.contains(&key.info.project) {
            to.create_project(&key.info.project).await?;
            registered.push(key.info.project.clone());
        }
        to.import_key(key).await?;
        report.keys += 1;
    }

    let projects = from.projects().await?;
    // Score configs and settings of every project known (registered, or with traces).
    let mut named = registered.clone();
    named.extend(projects.iter().map(|p| p.name.clone()));
    named.sort();
    named.dedup();
    for project in &named {
        let scores = from.score_configs(project).await?;
        if scores.settings != Default::default() {
            to.set_score_settings(project, scores.settings).await?;
        }
        for config in scores.configs {
            to.put_score_config(config).await?;
            report.score_configs += 1;
        }
    }

    let total: u64 = projects.iter().map(|p| p.trace_count).sum();
    let mut moved_before: u64 = 0;
    for info in &projects {
        let project = &info.name;
        if progress.done.contains(project) {
            moved_before += info.trace_count;
            continue;
        }
        let mut query = TraceQuery {
            sort: TraceSort::StartAsc,
            limit: Some(PAGE),
            cursor: progress.cursors.get(project).cloned(),
            ..TraceQuery::default()
        };
        loop {
            let page = from.list_traces(project, &query).await?;
            let mut plain = Vec::new();
            let mut pieces = Vec::new();
            let mut feedback = Vec::new();
            for trace in &page.traces {
                for span in from.trace_spans(project, &trace.trace_id).await? {
                    if came_in_pieces(&span) {
                        pieces.push(span);
                    } else {
                        plain.push(span);
                    }
                }
                let filter = FeedbackFilter {
                    trace_id: Some(trace.trace_id.clone()),
                    limit: Some(10_000),
                    ..FeedbackFilter::default()
                };
                feedback.extend(from.list_feedback(project, filter).await?);
            }
            report.traces += page.traces.len() as u64;
            report.spans += (plain.len() + pieces.len()) as u64;
            to.write_spans(plain).await?;
            to.write_span_pieces(pieces).await?;
            for f in feedback {
                to.import_feedback(f).await?;
                report.feedback += 1;
            }
            say(&format!(
                "migrate: {} of {total} traces ({project}: {} spans so far)",
                moved_before + report.traces,
                report.spans
            ));
            match page.next_cursor {
                Some(cursor) => {
                    progress.cursors.insert(project.clone(), cursor.clone());
                    progress.save(progress_path)?;
                    query.cursor = Some(cursor);
                }
                None => break,
            }
        }
        // Feedback still waiting for its run has no trace to be found by.
        for f in from
            .list_feedback(project, FeedbackFilter::default())
            .await?
        {
            if f.trace_id.is_none() {
                to.import_feedback(f).await?;
                report.feedback += 1;
            }
        }
        progress.cursors.remove(project);
        progress.done.push(project.clone());
        progress.save(progress_path)?;
        moved_before += info.trace_count;
    }

    check_counts(from, to).await?;
    Ok(report)
}

/// Every project's trace and span counts, and its keys, agree in both stores.
async fn check_counts(from: &dyn Store, to: &dyn Store) -> Result<(), MigrateError> {
    let counts = |list: Vec<skein_model::ProjectInfo>| -> BTreeMap<String, (u64, u64)> {
        list.into_iter()
            .map(|p| (p.name, (p.trace_count, p.span_count)))
            .collect()
    };
    let (a, b) = (counts(from.projects().await?), counts(to.projects().await?));
    let mut differences = Vec::new();
    for (project, (traces, spans)) in &a {
        let (t, s) = b.get(project).copied().unwrap_or((0, 0));
        if (t, s) != (*traces, *spans) {
            differences.push(format!(
                "{project}: {traces} traces and {spans} spans here, {t} and {s} there"
            ));
        }
    }
    let (ka, kb) = (
        from.export_keys().await?.len(),
        to.export_keys().await?.len(),
    );
    if kb < ka {
        differences.push(format!("{ka} keys here, {kb} there"));
    }
    if differences.is_empty() {
        Ok(())
    } else {
        Err(MigrateError::Mismatch(differences.join("; ")))
    }
}
