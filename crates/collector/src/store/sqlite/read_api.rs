//! The read side of the store contract for SQLite: each query runs on a reader connection
//! (`SqliteStore::read`, one snapshot), by the module that answers it.

use async_trait::async_trait;
use skein_model::cohort::{CohortComparison, CohortQuery};
use skein_model::metrics::{MetricQuery, MetricResponse};
use skein_model::service_graph::{ServiceGraph, ServiceGraphQuery};
use skein_model::sessions::{SessionDetail, SessionPage, SessionQuery, UserDetail, UserPage};
use skein_model::skeleton_head::SkeletonHead;
use skein_model::span::Span;
use skein_model::span_list::{SpanPage, SpanQuery};
use skein_model::{
    FieldValueInfo, ProjectInfo, ServiceInfo, TagKeyInfo, TagValueInfo, TracePage, TraceQuery,
    TraceSkeleton, TraceSummary, ValueField,
};

use super::{
    catalog, cohort, list, metrics, reads, received, service_graph, sessions, span_list,
    SqliteStore,
};
use crate::clock::now_ms;
use crate::store::{JourneyStore, QueryStore, StoreResult};

#[async_trait]
impl QueryStore for SqliteStore {
    async fn list_traces(&self, project: &str, query: &TraceQuery) -> StoreResult<TracePage> {
        let (project, query) = (project.to_string(), query.clone());
        self.read(move |c| list::list_traces(c, &project, &query))
            .await
    }

    async fn trace_summaries(
        &self,
        project: &str,
        trace_ids: &[String],
        query: &TraceQuery,
    ) -> StoreResult<Vec<TraceSummary>> {
        let (project, trace_ids, query) = (project.to_string(), trace_ids.to_vec(), query.clone());
        self.read(move |c| received::trace_summaries(c, &project, &trace_ids, &query))
            .await
    }

    async fn trace(&self, project: &str, trace_id: &str) -> StoreResult<Option<TraceSkeleton>> {
        let (project, trace_id) = (project.to_string(), trace_id.to_string());
        let pool = self.readers.clone();
        self.read(move |c| reads::skeleton(c, &pool, &project, &trace_id))
            .await
    }

    async fn trace_head(
        &self,
        project: &str,
        trace_id: &str,
        spans: usize,
        from_spans: usize,
    ) -> StoreResult<Option<SkeletonHead>> {
        let (project, trace_id) = (project.to_string(), trace_id.to_string());
        self.read(move |c| reads::skeleton_head(c, &project, &trace_id, spans, from_spans))
            .await
    }

    async fn span(
        &self,
        project: &str,
        trace_id: &str,
        span_id: &str,
    ) -> StoreResult<Option<Span>> {
        let (project, trace_id, span_id) = (
            project.to_string(),
            trace_id.to_string(),
            span_id.to_string(),
        );
        self.read(move |c| reads::span(c, &project, &trace_id, &span_id))
            .await
    }

    async fn search_trace(
        &self,
        project: &str,
        trace_id: &str,
        needle: &str,
    ) -> StoreResult<Option<Vec<String>>> {
        crate::store::search_by_scan(self, project, trace_id, needle).await
    }

    async fn projects(&self) -> StoreResult<Vec<ProjectInfo>> {
        let writes = match self.projects.get() {
            Ok(kept) => return Ok(kept),
            Err(writes) => writes,
        };
        let list = self.read(catalog::projects).await?;
        self.projects.keep(writes, &list);
        Ok(list)
    }

    async fn project_names(&self) -> StoreResult<Vec<String>> {
        self.read(catalog::project_names).await
    }

    async fn services(&self, project: &str) -> StoreResult<Vec<ServiceInfo>> {
        let project = project.to_string();
        self.read(move |c| catalog::services(c, &project)).await
    }

    async fn tag_keys(&self, project: &str) -> StoreResult<Vec<TagKeyInfo>> {
        let project = project.to_string();
        self.read(move |c| catalog::tag_keys(c, &project)).await
    }

    async fn field_values(
        &self,
        project: &str,
        field: ValueField,
        prefix: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<FieldValueInfo>> {
        let project = project.to_string();
        let prefix = prefix.map(str::to_string);
        self.read(move |c| catalog::field_values(c, &project, field, prefix.as_deref(), limit))
            .await
    }

    async fn tag_values(
        &self,
        project: &str,
        key: &str,
        prefix: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<TagValueInfo>> {
        let (project, key) = (project.to_string(), key.to_string());
        let prefix = prefix.map(str::to_string);
        self.read(move |c| catalog::tag_values(c, &project, &key, prefix.as_deref(), limit))
            .await
    }

    async fn metrics(&self, project: &str, query: &MetricQuery) -> StoreResult<MetricResponse> {
        let (project, query) = (project.to_string(), query.clone());
        self.read(move |c| metrics::metrics(c, &project, &query))
            .await
    }

    async fn list_spans(&self, project: &str, query: &SpanQuery) -> StoreResult<SpanPage> {
        let (project, query) = (project.to_string(), query.clone());
        self.read(move |c| span_list::list_spans(c, &project, &query))
            .await
    }

    async fn compare_cohorts(
        &self,
        project: &str,
        query: &CohortQuery,
    ) -> StoreResult<CohortComparison> {
        // The two cohorts on two reader connections at once (each in its own snapshot).
        let side = |side: skein_model::TraceQuery| {
            let project = project.to_string();
            self.read(move |c| cohort::cohort(c, &project, &side))
        };
        let (a, b) = tokio::try_join!(side(query.a.clone()), side(query.b.clone()))?;
        Ok(skein_model::cohort::compare(query.by, &a, &b))
    }
}

#[async_trait]
impl JourneyStore for SqliteStore {
    async fn list_sessions(&self, project: &str, query: &SessionQuery) -> StoreResult<SessionPage> {
        let (project, query) = (project.to_string(), query.clone());
        self.read(move |c| sessions::list_sessions(c, &project, &query))
            .await
    }

    async fn session(&self, project: &str, session_id: &str) -> StoreResult<Option<SessionDetail>> {
        let (project, id) = (project.to_string(), session_id.to_string());
        self.read(move |c| sessions::session(c, &project, &id))
            .await
    }

    async fn list_users(&self, project: &str, query: &SessionQuery) -> StoreResult<UserPage> {
        let (project, query) = (project.to_string(), query.clone());
        self.read(move |c| sessions::list_users(c, &project, &query))
            .await
    }

    async fn user(
        &self,
        project: &str,
        user_id: &str,
        query: &SessionQuery,
    ) -> StoreResult<Option<UserDetail>> {
        let (project, id, query) = (project.to_string(), user_id.to_string(), query.clone());
        self.read(move |c| sessions::user(c, &project, &id, &query))
            .await
    }

    async fn service_graph(
        &self,
        project: &str,
        query: &ServiceGraphQuery,
    ) -> StoreResult<ServiceGraph> {
        let (project, query) = (project.to_string(), query.clone());
        self.read(move |c| service_graph::service_graph(c, &project, &query, now_ms()))
            .await
    }
}
