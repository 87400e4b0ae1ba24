//! The project's score configs, read through a wasm chunk of its own (`score_configs`, cut by
//! scripts/build-wasm.sh): decoding a config (its kind tagged by `type`, which serde reads by
//! buffering the object) is a few KiB of code that the trace page needs only once the rating
//! widget shows and the metrics page only to name a feedback metric's scores.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use leptos::wasm_split::{self as split, wasm_split, SplitLoaderError};
use skein_model::ScoreConfigList;

use crate::api::{self, ApiError};

type Read = Pin<Box<dyn Future<Output = Result<ScoreConfigList, ApiError>>>>;
type ReadCode = fn(String) -> Read;

/// The code once loaded (for the rest of the visit).
static LOADED: OnceLock<ReadCode> = OnceLock::new();

#[wasm_split(score_configs, wasm_split_path = split, fallible)]
fn read_code() -> Result<ReadCode, SplitLoaderError> {
    Ok(|project| Box::pin(async move { api::score_configs(&project).await }))
}

/// `GET /api/v1/score-configs`, loading the chunk first if need be (a chunk that does not load
/// reads as the collector being away: it serves the chunks).
pub async fn score_configs(project: String) -> Result<ScoreConfigList, ApiError> {
    let read = match LOADED.get() {
        Some(read) => *read,
        None => match read_code().await {
            Ok(read) => *LOADED.get_or_init(|| read),
            Err(_) => return Err(api::unreachable("the score configs' code did not load")),
        },
    };
    read(project).await
}
