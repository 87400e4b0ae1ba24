//! Page URLs of the session, user and service views. The project stays in the query string
//! (`?project=NAME`, left out for the default project), as on every page.

use skein_model::query::{encode_pairs, percent_encode};
use skein_model::DEFAULT_PROJECT;

/// `path?project=…&query`, leaving out what is empty.
pub fn page(path: &str, project: &str, query: &str) -> String {
    let mut parts = Vec::new();
    if project != DEFAULT_PROJECT && !project.is_empty() {
        parts.push(encode_pairs([("project", project)]));
    }
    if !query.is_empty() {
        parts.push(query.to_string());
    }
    if parts.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", parts.join("&"))
    }
}

pub fn sessions(project: &str) -> String {
    page("/sessions", project, "")
}

pub fn session(project: &str, session_id: &str) -> String {
    page(
        &format!("/sessions/{}", percent_encode(session_id)),
        project,
        "",
    )
}

pub fn users(project: &str) -> String {
    page("/users", project, "")
}

pub fn user(project: &str, user_id: &str) -> String {
    page(&format!("/users/{}", percent_encode(user_id)), project, "")
}

pub fn services(project: &str) -> String {
    page("/services", project, "")
}
