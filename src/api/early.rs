//! The opened page's first request, sent by index.html before the app has started (beside
//! the wasm's download and compile) and handed to the page that would have sent it.

use gloo_net::http::Response;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::js_sys::{Promise, Reflect};

use super::key::key_forbidden;
use super::{send, ApiError};

/// Where index.html leaves `{url, response}`: the URL as the app builds it (`links`), and the
/// promise of the answer.
const EARLY: &str = "__skeinEarlyData";

/// `GET url`: the answer index.html asked for already if it asked for this very URL, else
/// the request sent now. An early answer is taken once (a reload asks again); one that was
/// refused for want of a key (401), or that did not come, is asked for again, as `send` does.
pub(super) async fn get(url: &str) -> Result<Response, ApiError> {
    if let Some(raw) = take(url).await {
        let response = Response::from(raw);
        match response.status() {
            401 => {}
            403 => {
                key_forbidden(url);
                return Ok(response);
            }
            _ => return Ok(response),
        }
    }
    send("GET", url, None).await
}

/// The early answer for `url`, if index.html sent that request; whatever it sent is dropped
/// at the first call, taken or not (the page's first request is the one it could guess).
async fn take(url: &str) -> Option<web_sys::Response> {
    let window = web_sys::window()?;
    let early = Reflect::get(&window, &EARLY.into()).ok()?;
    if early.is_undefined() || early.is_null() {
        return None;
    }
    let _ = Reflect::delete_property(&window, &EARLY.into());
    let early_url = Reflect::get(&early, &"url".into()).ok()?.as_string()?;
    if early_url != url {
        return None;
    }
    let promise: Promise = Reflect::get(&early, &"response".into())
        .ok()?
        .dyn_into()
        .ok()?;
    JsFuture::from(promise).await.ok()?.dyn_into().ok()
}
