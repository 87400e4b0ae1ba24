//! What is stored, for the pickers: projects, services, tag keys and values with their counts
//! (kept by the writer in `services` and `tag_values`).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};

use rusqlite::{params, Connection};
use skein_model::catalog::FIELD_VALUE_TRACES;
use skein_model::{FieldValueInfo, ProjectInfo, ServiceInfo, TagKeyInfo, TagValueInfo, ValueField};
use tokio::sync::oneshot;

use crate::store::StoreResult;

/// The project list as last read, kept until a write may have changed it. Every page of the
/// dashboard asks for it at start, and reading it is a pass over every trace's row; this
/// store is the only writer of its file, so it knows when the list can have changed.
#[derive(Default)]
pub(super) struct ProjectsCache {
    /// Bumped after every write that may add, grow or remove a trace (`SqliteStore::send`).
    writes: AtomicU64,
    /// The list, and the `writes` it was read after.
    kept: Mutex<Option<(u64, Vec<ProjectInfo>)>>,
}

impl ProjectsCache {
    /// Called once a write that may change the traces is committed, before it is
    /// acknowledged: whoever has seen the acknowledgement reads the list afresh.
    fn written(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }

    /// The writer's `answer` to a job that may change the traces, noting the write once it
    /// comes. A caller that stops waiting (its client went away) leaves a task that notes it
    /// once the job is done: it may still be committed.
    pub(super) fn after_write<T: Send + 'static>(
        self: &Arc<Self>,
        answer: oneshot::Receiver<T>,
    ) -> WriteAnswer<T> {
        WriteAnswer {
            answer: Some(answer),
            cache: self.clone(),
        }
    }

    /// The kept list if nothing was written since it was read, else what to pass to `keep`
    /// with the list read now.
    pub(super) fn get(&self) -> Result<Vec<ProjectInfo>, u64> {
        let writes = self.writes.load(Ordering::SeqCst);
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        match &*kept {
            Some((at, list)) if *at == writes => Ok(list.clone()),
            _ => Err(writes),
        }
    }

    /// Keeps `list`, read after `writes` writes (taken before the read began: a write
    /// committed meanwhile makes it stale at once).
    pub(super) fn keep(&self, writes: u64, list: &[ProjectInfo]) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        *kept = Some((writes, list.to_vec()));
    }
}

/// A write's answer (`ProjectsCache::after_write`); dropped before it came, the wait goes on
/// in a task.
pub(super) struct WriteAnswer<T: Send + 'static> {
    answer: Option<oneshot::Receiver<T>>,
    cache: Arc<ProjectsCache>,
}

impl<T: Send + 'static> Future for WriteAnswer<T> {
    type Output = Result<T, oneshot::error::RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(answer) = self.answer.as_mut() else {
            panic!("WriteAnswer polled after it completed");
        };
        let answered = ready!(Pin::new(answer).poll(cx));
        self.answer = None;
        self.cache.written();
        Poll::Ready(answered)
    }
}

impl<T: Send + 'static> Drop for WriteAnswer<T> {
    fn drop(&mut self) {
        let Some(answer) = self.answer.take() else {
            return;
        };
        let cache = self.cache.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    let _ = answer.await;
                    cache.written();
                });
            }
            // No runtime left to wait in (shutting down): the list is read afresh from now.
            Err(_) => cache.written(),
        }
    }
}

/// One pass over `traces` in table order. `NOT INDEXED`: the planner would walk an index
/// ordered by project (`traces_by_user`) and fetch every row from it in random order, about
/// three times slower for the same answer (bench/README.md, "The app's start").
pub(super) fn projects(conn: &Connection) -> StoreResult<Vec<ProjectInfo>> {
    let mut stmt = conn.prepare(
        "SELECT project, count(*), sum(span_count), max(end_ns) FROM traces NOT INDEXED \
         GROUP BY project ORDER BY project",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(ProjectInfo {
                name: r.get(0)?,
                trace_count: r.get::<_, i64>(1)? as u64,
                span_count: r.get::<_, i64>(2)? as u64,
                last_seen_ns: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The names of the projects with traces, sorted: one probe of `traces_by_id` per project
/// (each step seeks the first name after the last), not a pass over the traces.
pub(super) fn project_names(conn: &Connection) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE names(name) AS ( \
             SELECT min(project) FROM traces \
             UNION ALL \
             SELECT (SELECT min(project) FROM traces WHERE project > names.name) FROM names \
             WHERE names.name IS NOT NULL \
         ) SELECT name FROM names WHERE name IS NOT NULL",
    )?;
    let names = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}

pub(super) fn services(conn: &Connection, project: &str) -> StoreResult<Vec<ServiceInfo>> {
    let mut stmt = conn.prepare(
        "SELECT name, span_count, error_count FROM services WHERE project = ?1 \
         ORDER BY span_count DESC, name",
    )?;
    let rows = stmt
        .query_map(params![project], |r| {
            Ok(ServiceInfo {
                name: r.get(0)?,
                span_count: r.get::<_, i64>(1)? as u64,
                error_count: r.get::<_, i64>(2)? as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub(super) fn tag_keys(conn: &Connection, project: &str) -> StoreResult<Vec<TagKeyInfo>> {
    let mut stmt = conn.prepare(
        "SELECT key, sum(trace_count) AS n FROM tag_values WHERE project = ?1 \
         GROUP BY key HAVING n > 0 ORDER BY n DESC, key LIMIT 500",
    )?;
    let rows = stmt
        .query_map(params![project], |r| {
            Ok(TagKeyInfo {
                key: r.get(0)?,
                trace_count: r.get::<_, i64>(1)? as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The values of a tag key starting with `prefix` (as typed: `%` and `_` are plain
/// characters), most used first.
pub(super) fn tag_values(
    conn: &Connection,
    project: &str,
    key: &str,
    prefix: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<TagValueInfo>> {
    let pattern = format!(
        "{}%",
        prefix
            .unwrap_or("")
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let limit = limit.clamp(1, 1000);
    let mut stmt = conn.prepare(
        "SELECT value, trace_count FROM tag_values WHERE project = ?1 AND key = ?2 \
         AND trace_count > 0 AND value LIKE ?3 ESCAPE '\\' \
         ORDER BY trace_count DESC, value LIMIT ?4",
    )?;
    let rows = stmt
        .query_map(params![project, key, pattern, limit], |r| {
            Ok(TagValueInfo {
                value: r.get(0)?,
                trace_count: r.get::<_, i64>(1)? as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The values of a span field starting with `prefix` among the spans of the project's latest
/// `FIELD_VALUE_TRACES` traces (by start, through `traces_by_start`), most used first.
pub(super) fn field_values(
    conn: &Connection,
    project: &str,
    field: ValueField,
    prefix: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<FieldValueInfo>> {
    let column = match field {
        ValueField::Model => "ifnull(f.model, '')",
        ValueField::Name => "s.name",
    };
    let limit = limit.clamp(1, 1000);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT v, count(*) AS n FROM (SELECT {column} AS v \
         FROM (SELECT id FROM traces WHERE project = ?1 ORDER BY start_ns DESC LIMIT ?2) t \
         JOIN spans s ON s.trace = t.id LEFT JOIN span_facts f ON f.span = s.id) \
         WHERE v != '' AND substr(v, 1, length(?3)) = ?3 \
         GROUP BY v ORDER BY n DESC, v LIMIT ?4"
    ))?;
    let rows = stmt
        .query_map(
            params![project, FIELD_VALUE_TRACES, prefix.unwrap_or(""), limit],
            |r| {
                Ok(FieldValueInfo {
                    value: r.get(0)?,
                    span_count: r.get::<_, i64>(1)? as u64,
                })
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
