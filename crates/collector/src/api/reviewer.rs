//! Who reviews a queue's items: the server's to say once Skein has keys (the request's key
//! holder, its label, whatever the body claims); without keys, the name the body gives (the
//! dashboard asks it once per browser).

use axum::{Extension, Json};
use skein_model::queue::{self, Reviewer};

use crate::context::KeyHolder;
use crate::error::{ApiError, ApiResult};

/// The request's key holder, when Skein has keys.
pub type Holder = Option<Extension<KeyHolder>>;

/// Who reviews: the key's holder, else the name the request gives.
pub fn reviewer_name(given: &str, holder: &Holder) -> ApiResult<String> {
    match holder {
        Some(Extension(KeyHolder(name))) => queue::check_reviewer(name).map_err(|e| {
            ApiError::BadRequest(format!("this API key's label cannot name a reviewer: {e}"))
        }),
        None => queue::check_reviewer(given)
            .map_err(|e| ApiError::BadRequest(format!("{e} (\"reviewer\": who is reviewing)"))),
    }
}

/// `GET /api/v1/reviewer`: who this request reviews as, when the server knows (a key's
/// holder); none when the browser is to ask.
pub async fn reviewer(holder: Holder) -> Json<Reviewer> {
    Json(Reviewer {
        name: holder.map(|Extension(KeyHolder(name))| name),
    })
}
