//! Sessions, users and the service graph on ClickHouse. Sessions and users are aggregated here
//! from the trace index rows in scope (`trace_table`), with the sort orders
//! and cursors of SQLite's `GROUP BY`; the service graph joins each span to its parent here.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use skein_model::service_graph::{
    CallStats, ServiceEdge, ServiceGraph, ServiceGraphQuery, ServiceNode,
};
use skein_model::sessions::{
    self, CursorKey, GroupCursor, SessionDetail, SessionPage, SessionQuery, SessionRequest,
    SessionSort, SessionSummary, TraceAggregate, UserDetail, UserPage, UserSummary,
};
use skein_model::trace::FeedbackStat;
use skein_model::{TraceQuery, TraceSummary};

use super::client::{quote, RowExt};
use super::ClickhouseStore;
use crate::clock::now_ms;
use crate::store::{StoreError, StoreResult};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Session,
    User,
}

struct GroupAcc {
    id: String,
    /// A session's user (the greatest, as SQL's max).
    user: Option<String>,
    /// A user's sessions.
    sessions: BTreeSet<String>,
    stats: TraceAggregate,
    traces: Vec<String>,
}

impl GroupAcc {
    fn new(id: &str) -> GroupAcc {
        GroupAcc {
            id: id.to_string(),
            user: None,
            sessions: BTreeSet::new(),
            stats: TraceAggregate {
                first_start_ns: i64::MAX,
                last_start_ns: i64::MIN,
                last_end_ns: i64::MIN,
                ..TraceAggregate::default()
            },
            traces: Vec::new(),
        }
    }

    fn add(&mut self, t: &TraceSummary) {
        let s = &mut self.stats;
        s.request_count += 1;
        s.first_start_ns = s.first_start_ns.min(t.start_ns);
        s.last_start_ns = s.last_start_ns.max(t.start_ns);
        s.last_end_ns = s.last_end_ns.max(t.end_ns);
        s.total_duration_ns += t.duration_ns();
        s.span_count += t.span_count;
        s.error_count += u64::from(t.error_count > 0);
        s.input_tokens += t.input_tokens;
        s.output_tokens += t.output_tokens;
        s.cost += t.cost;
        if t.user_id > self.user {
            self.user.clone_from(&t.user_id);
        }
        if let Some(session) = &t.session_id {
            self.sessions.insert(session.clone());
        }
        self.traces.push(t.trace_id.clone());
    }

    /// The sort key, and whether the order descends.
    fn key(&self, sort: SessionSort, group: Group) -> (CursorKey, bool) {
        let s = &self.stats;
        match sort {
            SessionSort::LastDesc => (CursorKey::Int(s.last_start_ns), true),
            SessionSort::FirstAsc => (CursorKey::Int(s.first_start_ns), false),
            SessionSort::RequestsDesc => (CursorKey::Int(s.request_count as i64), true),
            SessionSort::DurationDesc => (CursorKey::Int(s.total_duration_ns), true),
            SessionSort::TokensDesc => (CursorKey::Int(s.total_tokens()), true),
            SessionSort::CostDesc => (CursorKey::Real(s.cost), true),
            SessionSort::ErrorsDesc => (CursorKey::Int(s.error_count as i64), true),
            SessionSort::SessionsDesc => match group {
                Group::User => (CursorKey::Int(self.sessions.len() as i64), true),
                Group::Session => (CursorKey::Int(s.request_count as i64), true),
            },
        }
    }
}

fn compare(a: &CursorKey, b: &CursorKey) -> std::cmp::Ordering {
    match (a, b) {
        (CursorKey::Int(x), CursorKey::Int(y)) => x.cmp(y),
        (CursorKey::Real(x), CursorKey::Real(y)) => x.total_cmp(y),
        (CursorKey::Int(_), CursorKey::Real(_)) => std::cmp::Ordering::Less,
        (CursorKey::Real(_), CursorKey::Int(_)) => std::cmp::Ordering::Greater,
    }
}

struct Page {
    groups: Vec<GroupAcc>,
    total: u64,
    next: Option<String>,
}

impl ClickhouseStore {
    /// The figures sessions and users add up (start, end, spans, errors, usage, session and
    /// user) of every trace of the project matching `q` (its filters only), from the trace
    /// index: summaries without their names, services and tags.
    async fn scope_summaries(
        &self,
        project: &str,
        q: &TraceQuery,
    ) -> StoreResult<Vec<TraceSummary>> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT trace_id, start, duration, errors, sess, usr, span_count, in_tokens, \
                 out_tokens, cost_sum FROM ({}) ORDER BY start, trace_id",
                self.trace_index(project, q, now_ms()).await?
            ))
            .await?;
        let text =
            |r: &serde_json::Value, column: &str| Some(r.str_of(column)).filter(|v| !v.is_empty());
        Ok(rows
            .iter()
            .map(|r| TraceSummary {
                trace_id: r.str_of("trace_id"),
                start_ns: r.i64_of("start"),
                end_ns: r.i64_of("start").saturating_add(r.i64_of("duration")),
                span_count: r.i64_of("span_count").max(0) as u64,
                error_count: r.i64_of("errors").max(0) as u64,
                session_id: text(r, "sess"),
                user_id: text(r, "usr"),
                input_tokens: r.i64_of("in_tokens"),
                output_tokens: r.i64_of("out_tokens"),
                cost: r.f64_of("cost_sum"),
                ..TraceSummary::default()
            })
            .collect())
    }

    async fn groups(
        &self,
        project: &str,
        q: &SessionQuery,
        group: Group,
        fixed: Option<&str>,
    ) -> StoreResult<Page> {
        let mut traces = q.requests();
        self.trace_list_filter(project, &traces)?;
        match (group, fixed) {
            (Group::Session, Some(id)) => traces.session_id = Some(id.to_string()),
            (Group::User, Some(id)) => traces.user_id = Some(id.to_string()),
            _ => {}
        }
        if group == Group::Session {
            if let Some(user) = &q.user_id {
                traces.user_id = Some(user.clone());
            }
        }
        let summaries = self.scope_summaries(project, &traces).await?;
        let mut by_id: BTreeMap<String, GroupAcc> = BTreeMap::new();
        for t in &summaries {
            let id = match group {
                Group::Session => t.session_id.as_deref(),
                Group::User => t.user_id.as_deref(),
            };
            if let Some(id) = id {
                by_id
                    .entry(id.to_string())
                    .or_insert_with(|| GroupAcc::new(id))
                    .add(t);
            }
        }
        let total = by_id.len() as u64;
        let mut groups: Vec<(CursorKey, bool, GroupAcc)> = by_id
            .into_values()
            .map(|g| {
                let (key, desc) = g.key(q.sort, group);
                (key, desc, g)
            })
            .collect();
        groups.sort_by(|(ka, desc, a), (kb, _, b)| {
            let order = compare(ka, kb).then_with(|| a.id.cmp(&b.id));
            if *desc {
                order.reverse()
            } else {
                order
            }
        });
        if let Some(cursor) = &q.cursor {
            let c = GroupCursor::parse(cursor).ok_or_else(|| {
                StoreError::Invalid(format!("cursor {cursor:?} is not one this API gave"))
            })?;
            groups.retain(|(key, desc, g)| {
                let order = compare(key, &c.key).then_with(|| g.id.cmp(&c.id));
                if *desc {
                    order == std::cmp::Ordering::Less
                } else {
                    order == std::cmp::Ordering::Greater
                }
            });
        }
        let limit = q.limit() as usize;
        let next = (groups.len() > limit).then(|| {
            let (key, _, g) = &groups[limit - 1];
            GroupCursor {
                key: *key,
                id: g.id.clone(),
            }
            .to_string()
        });
        groups.truncate(limit);
        let mut groups: Vec<GroupAcc> = groups.into_iter().map(|(_, _, g)| g).collect();
        self.add_group_feedback(project, &mut groups).await?;
        Ok(Page {
            groups,
            total,
            next,
        })
    }

    async fn add_group_feedback(&self, project: &str, groups: &mut [GroupAcc]) -> StoreResult<()> {
        let traces: Vec<String> = groups.iter().flat_map(|g| g.traces.clone()).collect();
        let records = self.feedback_of_traces(project, &traces).await?;
        let mut per_trace: HashMap<&str, Vec<&skein_model::Feedback>> = HashMap::new();
        for f in &records {
            if let Some(t) = f.trace_id.as_deref() {
                per_trace.entry(t).or_default().push(f);
            }
        }
        for g in groups.iter_mut() {
            let mut keys: BTreeMap<&str, (u64, f64, u64)> = BTreeMap::new();
            for t in &g.traces {
                for f in per_trace.get(t.as_str()).into_iter().flatten() {
                    let e = keys.entry(f.key.as_str()).or_default();
                    e.0 += 1;
                    if let Some(s) = f.score {
                        e.1 += s;
                        e.2 += 1;
                    }
                }
            }
            g.stats.feedback = keys
                .into_iter()
                .map(|(key, (count, sum, scored))| FeedbackStat {
                    key: key.to_string(),
                    count,
                    mean: (scored > 0).then(|| sum / scored as f64),
                })
                .collect();
        }
        Ok(())
    }

    pub(super) async fn sessions_page(
        &self,
        project: &str,
        q: &SessionQuery,
    ) -> StoreResult<SessionPage> {
        let page = self.groups(project, q, Group::Session, None).await?;
        Ok(SessionPage {
            sessions: page
                .groups
                .into_iter()
                .map(|g| SessionSummary {
                    session_id: g.id,
                    user_id: g.user,
                    stats: g.stats,
                })
                .collect(),
            total: page.total,
            next_cursor: page.next,
        })
    }

    pub(super) async fn users_page(
        &self,
        project: &str,
        q: &SessionQuery,
    ) -> StoreResult<UserPage> {
        let page = self.groups(project, q, Group::User, None).await?;
        Ok(UserPage {
            users: page
                .groups
                .into_iter()
                .map(|g| UserSummary {
                    user_id: g.id,
                    session_count: g.sessions.len() as u64,
                    stats: g.stats,
                })
                .collect(),
            total: page.total,
            next_cursor: page.next,
        })
    }

    pub(super) async fn session_detail(
        &self,
        project: &str,
        session_id: &str,
    ) -> StoreResult<Option<SessionDetail>> {
        let everything = SessionQuery::default();
        let mut page = self
            .groups(project, &everything, Group::Session, Some(session_id))
            .await?;
        let Some(group) = page.groups.pop() else {
            return Ok(None);
        };
        let max = SessionDetail::MAX_REQUESTS;
        let truncated = group.traces.len() > max;
        let ids: Vec<String> = group.traces.iter().take(max).cloned().collect();
        let mut traces = self.summaries_with_feedback(project, &ids).await?;
        traces.sort_by(|a, b| (a.start_ns, &a.trace_id).cmp(&(b.start_ns, &b.trace_id)));
        let mut requests = Vec::with_capacity(traces.len());
        for trace in traces {
            let root = match &trace.root_span_id {
                Some(root) => self.span_full(project, &trace.trace_id, root).await?,
                None => None,
            };
            let (input, output) = root.map_or((None, None), |s| (s.input, s.output));
            requests.push(SessionRequest::of(
                trace,
                input.as_deref(),
                output.as_deref(),
            ));
        }
        sessions::order_requests(&mut requests);
        Ok(Some(SessionDetail {
            summary: SessionSummary {
                session_id: group.id,
                user_id: group.user,
                stats: group.stats,
            },
            requests,
            truncated,
        }))
    }

    pub(super) async fn user_detail(
        &self,
        project: &str,
        user_id: &str,
        q: &SessionQuery,
    ) -> StoreResult<Option<UserDetail>> {
        let everything = SessionQuery::default();
        let mut page = self
            .groups(project, &everything, Group::User, Some(user_id))
            .await?;
        let Some(group) = page.groups.pop() else {
            return Ok(None);
        };
        let mut q = q.clone();
        q.user_id = Some(user_id.to_string());
        let sessions = self.sessions_page(project, &q).await?;
        let rows = self
            .client
            .rows(&format!(
                "SELECT count() AS n FROM ({}) WHERE sess = ''",
                self.trace_index(
                    project,
                    &TraceQuery {
                        user_id: Some(user_id.to_string()),
                        ..TraceQuery::default()
                    },
                    now_ms()
                )
                .await?
            ))
            .await?;
        let without = rows.first().map_or(0, |r| r.i64_of("n")).max(0) as u64;
        Ok(Some(UserDetail {
            summary: UserSummary {
                user_id: group.id,
                session_count: group.sessions.len() as u64,
                stats: group.stats,
            },
            sessions,
            requests_without_session: without,
        }))
    }

    pub(super) async fn graph(
        &self,
        project: &str,
        q: &ServiceGraphQuery,
    ) -> StoreResult<ServiceGraph> {
        let now = now_ms();
        let (from_ms, to_ms) = q.resolve(now).map_err(|e| StoreError::Invalid(e.0))?;
        let scope = TraceQuery {
            tags: q.tags.clone(),
            from_ms: Some(from_ms),
            to_ms: Some(to_ms),
            ..TraceQuery::default()
        };
        let in_scope = format!(
            "SELECT trace_id FROM ({})",
            self.trace_index(project, &scope, now).await?
        );
        let rows = self
            .client
            .rows(&format!(
                "SELECT trace_id, span_id, parent_span_id, has_parent, service, \
                 end_ns - start_ns AS duration, status FROM {} \
                 WHERE project = {} AND trace_id IN ({in_scope})",
                self.spans(),
                quote(project)
            ))
            .await?;
        let mut service_of: HashMap<(String, String), String> = HashMap::new();
        let mut traces: BTreeSet<String> = BTreeSet::new();
        for r in &rows {
            service_of.insert(
                (r.str_of("trace_id"), r.str_of("span_id")),
                r.str_of("service"),
            );
            traces.insert(r.str_of("trace_id"));
        }
        #[derive(Default)]
        struct Calls {
            durations: Vec<i64>,
            errors: u64,
            roots: u64,
        }
        let mut nodes: BTreeMap<String, Calls> = BTreeMap::new();
        let mut edges: BTreeMap<(String, String), Calls> = BTreeMap::new();
        for r in &rows {
            let callee = r.str_of("service");
            let has_parent = r.i64_of("has_parent") != 0;
            let caller = has_parent
                .then(|| service_of.get(&(r.str_of("trace_id"), r.str_of("parent_span_id"))))
                .flatten();
            if caller == Some(&callee) {
                continue;
            }
            let duration = r.i64_of("duration").max(0);
            let failed = r.i64_of("status") == 2;
            let node = nodes.entry(callee.clone()).or_default();
            node.durations.push(duration);
            node.errors += u64::from(failed);
            node.roots += u64::from(!has_parent);
            if let Some(caller) = caller {
                let edge = edges.entry((caller.clone(), callee)).or_default();
                edge.durations.push(duration);
                edge.errors += u64::from(failed);
            }
        }
        for (caller, _) in edges.keys() {
            nodes.entry(caller.clone()).or_default();
        }
        Ok(ServiceGraph {
            from_ms,
            to_ms,
            nodes: nodes
                .into_iter()
                .map(|(name, c)| ServiceNode {
                    name,
                    root_calls: c.roots,
                    stats: CallStats::from_durations(c.durations, c.errors),
                })
                .collect(),
            edges: edges
                .into_iter()
                .map(|((caller, callee), c)| ServiceEdge {
                    caller,
                    callee,
                    stats: CallStats::from_durations(c.durations, c.errors),
                })
                .collect(),
            trace_count: traces.len() as u64,
            span_count: rows.len() as u64,
        })
    }
}
