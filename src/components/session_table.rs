//! Rows of sessions and users with their aggregates, shared by `/sessions`, `/users` and
//! `/users/:id`. Ids and names are untrusted text: text nodes and attribute values only.

use leptos::prelude::*;
use skein_model::format;
use skein_model::format::fixed;
use skein_model::sessions::{SessionSummary, TraceAggregate, UserSummary};

use crate::components::row_link::row_opener_to;
use crate::links;
use crate::text;
use crate::time::{full_time, local_time, use_clock};

/// The mean of one feedback key as a cell (and how many records, in a tooltip); "—" when
/// the group has none.
pub fn feedback_text(stats: &TraceAggregate, key: Option<&str>) -> (String, String) {
    match key.and_then(|k| stats.feedback_for(k)) {
        Some(f) if f.mean.is_some() => {
            let mean = f.mean.unwrap_or(0.0);
            let shown = if mean.abs() < 10.0 {
                fixed(mean, 2)
            } else {
                fixed(mean, 0)
            };
            let title = format!(
                "{}: mean {shown} over {}",
                f.key,
                text::plural(f.count, "record", "records")
            );
            (shown, title)
        }
        _ => (
            "—".to_string(),
            format!("No {} feedback", key.unwrap_or("scored")),
        ),
    }
}

/// The header of `aggregate_cells`; the feedback column names the key it shows.
fn aggregate_header(key: Signal<Option<String>>) -> impl IntoView {
    view! {
        <th class="col-num col-wide">"Total time"</th>
        <th class="col-num">"Tokens"</th>
        <th class="col-num">"Cost"</th>
        <th class="col-num">"Errors"</th>
        <th class="col-num col-wide col-feedback"
            title=move || key.get().map(|k| format!("Mean score of the {k} feedback")).unwrap_or_else(|| "No scored feedback".into())>
            {move || key.get().unwrap_or_else(|| "Feedback".into())}
        </th>
    }
}

pub fn tokens_text(stats: &TraceAggregate) -> (String, String) {
    let total = stats.total_tokens();
    let title = format!(
        "{} input + {} output tokens",
        text::thousands(stats.input_tokens.max(0) as u64),
        text::thousands(stats.output_tokens.max(0) as u64)
    );
    let shown = if total > 0 {
        format::count(total)
    } else {
        "—".to_string()
    };
    (shown, title)
}

/// The header's feedback entries of an aggregate: each key's mean score (the number of records
/// in its tooltip).
pub fn feedback_means(stats: &TraceAggregate) -> impl IntoView {
    stats
        .feedback
        .iter()
        .map(|f| {
            let value = match f.mean {
                Some(m) if m.abs() < 10.0 => format::fixed(m, 2),
                Some(m) => format::fixed(m, 0),
                None => "—".to_string(),
            };
            let title = text::plural(f.count, "record", "records");
            view! { <div><dt>{f.key.clone()}</dt><dd class="num" title=title>{value}</dd></div> }
        })
        .collect_view()
}

pub fn cost_text(cost: f64) -> String {
    if cost > 0.0 {
        format::cost_usd(cost)
    } else {
        "—".to_string()
    }
}

/// The cells of a group's first and last request: when it started, and how long ago it was
/// last active.
fn time_cells(s: &TraceAggregate) -> impl IntoView {
    let clock = use_clock();
    let first = local_time(s.first_start_ns, clock.get_untracked());
    let first_title = full_time(s.first_start_ns);
    let last_ms = s.last_start_ns / 1_000_000;
    let last_title = full_time(s.last_start_ns);
    let ago = move || text::relative(last_ms, clock.get());
    view! {
        <td class="col-time" title=first_title><span class="time-main">{first}</span></td>
        <td class="col-ago" title=last_title>{ago}</td>
    }
}

/// The cells both tables end with: total time, tokens, cost, errors and the feedback key's
/// mean.
fn aggregate_cells(s: &TraceAggregate, feedback_key: Signal<Option<String>>) -> impl IntoView {
    let failed = s.error_count > 0;
    let (tokens, tokens_title) = tokens_text(s);
    let feedback = {
        let stats = s.clone();
        move || feedback_text(&stats, feedback_key.get().as_deref())
    };
    let feedback_title = {
        let f = feedback.clone();
        move || f().1
    };
    let duration_title = format!(
        "Sum of the requests' durations; {} from the first request's start to the last one's end",
        format::duration_ns(s.elapsed_ns())
    );
    view! {
        <td class="col-num col-wide" title=duration_title>{format::duration_ns(s.total_duration_ns)}</td>
        <td class="col-num" title=tokens_title>{tokens}</td>
        <td class="col-num">{cost_text(s.cost)}</td>
        <td class="col-num" class:error-count=failed>
            {if failed { text::thousands(s.error_count) } else { "—".to_string() }}
        </td>
        <td class="col-num col-wide col-feedback" title=feedback_title>{move || feedback().0}</td>
    }
}

/// Header cells of a session table (the user column optional).
#[component]
pub fn SessionHead(show_user: bool, feedback_key: Signal<Option<String>>) -> impl IntoView {
    view! {
        <tr>
            <th class="col-session">"Session"</th>
            {show_user.then(|| view! { <th class="col-user">"User"</th> })}
            <th class="col-time">"First request"</th>
            <th class="col-ago">"Last active"</th>
            <th class="col-num">"Requests"</th>
            {aggregate_header(feedback_key)}
        </tr>
    }
}

/// Number of columns of a session table.
pub fn session_columns(show_user: bool) -> usize {
    if show_user {
        10
    } else {
        9
    }
}

#[component]
pub fn SessionRow(
    session: SessionSummary,
    project: Memo<String>,
    show_user: bool,
    feedback_key: Signal<Option<String>>,
) -> impl IntoView {
    let project_name = project.get_untracked();
    let href = links::session(&project_name, &session.session_id);
    let open = row_opener_to(&href);
    let s = &session.stats;
    let failed = s.error_count > 0;
    let user = session.user_id.clone().map(|u| {
        let href = links::user(&project_name, &u);
        (u, href)
    });
    view! {
        <tr class="session-row" class:row-error=failed on:click=open
            data-session-id=session.session_id.clone()>
            <td class="col-session">
                <a class="session-link" href=href title=session.session_id.clone()>{session.session_id.clone()}</a>
            </td>
            {show_user.then(|| view! {
                <td class="col-user">
                    {match user.clone() {
                        Some((u, href)) => view! { <a class="user-link" href=href title=u.clone()>{u.clone()}</a> }.into_any(),
                        None => view! { <span class="muted">"—"</span> }.into_any(),
                    }}
                </td>
            })}
            {time_cells(s)}
            <td class="col-num">{text::thousands(s.request_count)}</td>
            {aggregate_cells(s, feedback_key)}
        </tr>
    }
}

#[component]
pub fn UserHead(feedback_key: Signal<Option<String>>) -> impl IntoView {
    view! {
        <tr>
            <th class="col-user-main">"User"</th>
            <th class="col-num">"Sessions"</th>
            <th class="col-num">"Requests"</th>
            <th class="col-time">"First seen"</th>
            <th class="col-ago">"Last active"</th>
            {aggregate_header(feedback_key)}
        </tr>
    }
}

pub const USER_COLUMNS: usize = 10;

#[component]
pub fn UserRow(
    user: UserSummary,
    project: Memo<String>,
    feedback_key: Signal<Option<String>>,
) -> impl IntoView {
    let href = links::user(&project.get_untracked(), &user.user_id);
    let open = row_opener_to(&href);
    let s = &user.stats;
    let failed = s.error_count > 0;
    view! {
        <tr class="user-row" class:row-error=failed on:click=open data-user-id=user.user_id.clone()>
            <td class="col-user-main">
                <a class="user-link" href=href title=user.user_id.clone()>{user.user_id.clone()}</a>
            </td>
            <td class="col-num">{text::thousands(user.session_count)}</td>
            <td class="col-num">{text::thousands(s.request_count)}</td>
            {time_cells(s)}
            {aggregate_cells(s, feedback_key)}
        </tr>
    }
}
