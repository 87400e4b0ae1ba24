//! `/users/:user_id`: one user's figures and their sessions, most recent first.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_params_map};
use skein_model::format;
use skein_model::sessions::{headline_feedback_key, SessionQuery, SessionSummary, UserDetail};

use crate::api;
use crate::components::empty_state::EmptyState;
use crate::components::error_banner::ErrorBanner;
use crate::components::icons::ArrowLeftIcon;
use crate::components::remote::{Latest, LoadMore, Phase, Remote};
use crate::components::session_table::{
    cost_text, feedback_means, session_columns, tokens_text, SessionHead, SessionRow,
};
use crate::components::skeleton::SkeletonRows;
use crate::time::{full_time, local_time, use_clock};
use crate::{links, text};

#[component]
pub fn UserPage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let user_id = Memo::new(move |_| params.read().get("user_id").unwrap_or_default());
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let state = RwSignal::new(Remote::<Box<UserDetail>>::Loading);
    // The sessions shown (the first page comes with the user, more by cursor).
    let sessions = RwSignal::new(Vec::<SessionSummary>::new());
    let next_cursor = RwSignal::new(None::<String>);
    let more = RwSignal::new(Phase::Ready);
    let latest = Latest::new();
    let fetch = move |cursor: Option<String>| {
        let (project, id) = (project.get_untracked(), user_id.get_untracked());
        move || {
            let (project, id) = (project.clone(), id.clone());
            let query = SessionQuery {
                cursor: cursor.clone(),
                ..SessionQuery::default()
            };
            async move { api::user(&project, &id, &query).await }
        }
    };

    Effect::new(move |_| {
        project.track();
        user_id.track();
        let ticket = latest.next();
        state.set(Remote::Loading);
        sessions.set(Vec::new());
        next_cursor.set(None);
        more.set(Phase::Ready);
        latest.fetch(ticket, fetch(None), move |result| match result {
            Ok(detail) => {
                sessions.set(detail.sessions.sessions.clone());
                next_cursor.set(detail.sessions.next_cursor.clone());
                state.set(Remote::Ready(Box::new(detail)));
            }
            Err(error) => state.set(Remote::Failed(error)),
        });
    });

    let load_more = Callback::new(move |_| {
        let Some(cursor) = next_cursor.get_untracked() else {
            return;
        };
        more.set(Phase::Loading);
        latest.fetch(
            latest.current(),
            fetch(Some(cursor)),
            move |result| match result {
                Ok(detail) => {
                    sessions.update(|s| s.extend(detail.sessions.sessions));
                    next_cursor.set(detail.sessions.next_cursor);
                    more.set(Phase::Ready);
                }
                Err(e) => more.set(Phase::Failed(e)),
            },
        );
    });

    let feedback_key = Signal::derive(move || {
        sessions.with(|rows| headline_feedback_key(rows.iter().map(|r| &r.stats)))
    });
    let back = move || links::users(&project.get());
    let body = move || match state.get() {
        Remote::Loading => view! {
            <div class="entity-header" aria-busy="true">
                <span class="shimmer" style="width: 200px; height: 16px"></span>
                <span class="shimmer" style="width: 60%"></span>
            </div>
            <div class="table-wrap">
                <table class="data-table sessions-table">
                    <thead><SessionHead show_user=false feedback_key=feedback_key/></thead>
                    <tbody><SkeletonRows rows=6 cols=session_columns(false)/></tbody>
                </table>
            </div>
        }
        .into_any(),
        Remote::Failed(error) if error.is_not_found() => {
            let id = user_id.get();
            view! {
                <EmptyState title="No such user">
                    <p>"No request in this project names the user "<code>{id}</code>"."</p>
                    <p><a href=back()>"All users"</a></p>
                </EmptyState>
            }
            .into_any()
        }
        Remote::Failed(error) => {
            let retrying = error.is_transient();
            view! { <ErrorBanner title=error.title() detail=error.detail() retrying=retrying/> }
                .into_any()
        }
        Remote::Ready(detail) => {
            let total = detail.sessions.total;
            view! {
                <UserHeader detail=*detail/>
                <div class="panel-head table-title">
                    <h2>"Sessions"</h2>
                    <span class="muted">{text::plural(total, "session", "sessions")}", most recent first"</span>
                </div>
                <div class="table-wrap">
                    <table class="data-table sessions-table">
                        <thead><SessionHead show_user=false feedback_key=feedback_key/></thead>
                        <tbody>
                            <For
                                each=move || sessions.get()
                                key=|s: &SessionSummary| s.session_id.clone()
                                children=move |s: SessionSummary| view! { <SessionRow session=s project=project show_user=false feedback_key=feedback_key/> }
                            />
                        </tbody>
                    </table>
                    {(total == 0).then(|| view! {
                        <EmptyState title="No sessions">
                            <p>"This user's requests carry no session id."</p>
                        </EmptyState>
                    })}
                </div>
                <LoadMore
                    shown=Signal::derive(move || sessions.with(Vec::len))
                    total=Signal::derive(move || Some(total))
                    has_more=Signal::derive(move || next_cursor.with(Option::is_some))
                    state=more.into()
                    on_more=load_more/>
            }
            .into_any()
        }
    };

    view! {
        <div class="page user-page">
            <a class="back-link" href=back><ArrowLeftIcon/>"Users"</a>
            {body}
        </div>
    }
}

#[component]
fn UserHeader(detail: UserDetail) -> impl IntoView {
    let clock = use_clock();
    let u = detail.summary;
    let s = u.stats;
    let (tokens, tokens_title) = tokens_text(&s);
    let first = local_time(s.first_start_ns, clock.get_untracked());
    let last_ms = s.last_start_ns / 1_000_000;
    let ago = move || text::relative(last_ms, clock.get());
    let feedback = feedback_means(&s);
    let outside = detail.requests_without_session;
    view! {
        <header class="entity-header">
            <div class="entity-title">
                <span class="entity-kind">"User"</span>
                <h1 title=u.user_id.clone()>{u.user_id.clone()}</h1>
            </div>
            <dl class="entity-meta">
                <div><dt>"Sessions"</dt><dd class="num">{text::thousands(u.session_count)}</dd></div>
                <div><dt>"Requests"</dt><dd class="num">{text::thousands(s.request_count)}</dd></div>
                <div><dt>"First seen"</dt><dd title=full_time(s.first_start_ns)>{first}</dd></div>
                <div><dt>"Last active"</dt><dd title=full_time(s.last_start_ns)>{ago}</dd></div>
                <div><dt>"Total time"</dt><dd class="num">{format::duration_ns(s.total_duration_ns)}</dd></div>
                <div><dt>"Tokens"</dt><dd class="num" title=tokens_title>{tokens}</dd></div>
                <div><dt>"Cost"</dt><dd class="num">{cost_text(s.cost)}</dd></div>
                <div><dt>"Failed requests"</dt><dd class="num">{text::thousands(s.error_count)}</dd></div>
                {feedback}
            </dl>
            {(outside > 0).then(|| view! {
                <p class="muted entity-note">{format!("{} outside any session.", text::plural(outside, "request", "requests"))}</p>
            })}
        </header>
    }
}
