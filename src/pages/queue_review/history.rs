//! What the reviewer rated (or skipped) on a queue, as `k` shows it again: kept per project
//! and queue in the tab's sessionStorage, so that a reload, or a visit to another page and
//! back, keeps it.

use serde::{Deserialize, Serialize};
use skein_model::queue::QueueItem;

/// How many rated items are kept per queue (the oldest go first).
const KEPT: usize = 200;

/// An item rated (or skipped), as the page showed it.
#[derive(Clone, Serialize, Deserialize)]
pub struct Rated {
    pub item: QueueItem,
    /// Each key and what was chosen, as the page showed it; empty for a skipped item.
    pub scores: Vec<(String, String)>,
    pub comment: String,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

fn key(project: &str, queue: &str) -> String {
    format!("skein-review-history:{project}:{queue}")
}

/// The items rated on this queue in this tab, oldest first.
pub fn load(project: &str, queue: &str) -> Vec<Rated> {
    storage()
        .and_then(|s| s.get_item(&key(project, queue)).ok().flatten())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Keeps the items rated on this queue (the newest `KEPT`).
pub fn save(project: &str, queue: &str, rated: &[Rated]) {
    let kept = &rated[rated.len().saturating_sub(KEPT)..];
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(kept)) {
        let _ = storage.set_item(&key(project, queue), &text);
    }
}
