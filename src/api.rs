//! The collector's JSON API, as the dashboard uses it. Same origin as the page; every
//! call names the project. URLs are built in `links`.
//!
//! Every request carries the browser session's API key (`x-api-key`, kept in sessionStorage)
//! when there is one. A 401 asks the shell to prompt for a key and waits: the request is sent
//! again once a key is accepted, so pages never see it. A 403 (the key is for another project)
//! is told to the shell, which offers the key's projects, and returned to the page as usual.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use skein_model::ErrorBody;

mod body;
mod early;
mod feedback;
mod key;
mod pairwise;
mod queues;
mod reads;

use self::key::{key_forbidden, key_refused, KEY_HEADER};

pub use self::feedback::*;
pub use self::key::*;
pub use self::pairwise::*;
pub use self::queues::*;
pub use self::reads::*;

/// `/{id}{rest}` below a resource's URL, the id encoded (`rest` already is).
fn id_tail(id: &str, rest: &str) -> String {
    format!("/{}{rest}", skein_model::query::percent_encode(id))
}

/// Why a call failed, told apart because the page reacts differently to each.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No answer (the collector is down, or a proxy in front of it says so): retry.
    Unreachable(String),
    /// The collector answered with an error status and its message.
    Status { status: u16, message: String },
    /// The answer was not what the API promises (another server on the address?).
    Unexpected(String),
}

impl ApiError {
    /// Worth trying again by itself (the problem may go away without the user).
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Unreachable(_) => true,
            ApiError::Status { status, .. } => *status >= 500,
            ApiError::Unexpected(_) => true,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::Status { status: 404, .. })
    }

    /// A one-line headline for a banner.
    pub fn title(&self) -> String {
        match self {
            ApiError::Unreachable(_) => "Can't reach the Skein collector".to_string(),
            ApiError::Status { status, .. } if *status >= 500 => {
                "The Skein collector had a problem".to_string()
            }
            ApiError::Status { status: 403, .. } => {
                "This API key can't see this project".to_string()
            }
            ApiError::Status { .. } => "The Skein collector refused the request".to_string(),
            ApiError::Unexpected(_) => "Unexpected answer from the collector".to_string(),
        }
    }

    /// The detail: the collector's own message, or what went wrong on the way.
    pub fn detail(&self) -> String {
        match self {
            ApiError::Unreachable(why) => why.clone(),
            ApiError::Status { status, message } => format!("{message} (HTTP {status})"),
            ApiError::Unexpected(why) => why.clone(),
        }
    }
}

/// The page's origin, for messages.
fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_else(|| "this address".to_string())
}

/// No answer from the collector, and `why` in a few words.
pub fn unreachable(why: &str) -> ApiError {
    ApiError::Unreachable(format!(
        "No answer from {} ({why}). Is the collector (skein serve) running?",
        origin()
    ))
}

/// Sends a request with the session's key (built afresh for each try), waiting out a 401
/// until a key is accepted, and telling the shell about a 403.
async fn send(method: &str, url: &str, json_body: Option<String>) -> Result<Response, ApiError> {
    loop {
        let key = stored_key();
        let mut builder: RequestBuilder = match method {
            "POST" => Request::post(url),
            "PATCH" => Request::patch(url),
            "PUT" => Request::put(url),
            "DELETE" => Request::delete(url),
            _ => Request::get(url),
        };
        builder = builder.header("accept", "application/json");
        if let Some(key) = &key {
            builder = builder.header(KEY_HEADER, key);
        }
        let request = match &json_body {
            Some(json) => builder
                .header("content-type", "application/json")
                .body(json.as_str()),
            None => builder.build(),
        }
        .map_err(|e| ApiError::Unexpected(e.to_string()))?;
        let response = request
            .send()
            .await
            .map_err(|e| unreachable(&e.to_string()))?;
        match response.status() {
            401 => key_refused(key.as_deref()).await,
            403 => {
                key_forbidden(url);
                return Ok(response);
            }
            _ => return Ok(response),
        }
    }
}

async fn get<T: DeserializeOwned>(url: String) -> Result<T, ApiError> {
    let body = get_body(&url).await?;
    parse(&url, &body)
}

/// The body of a successful GET. Not generic, unlike `get`: the request's code is compiled
/// once, not once per response type.
async fn get_body(url: &str) -> Result<String, ApiError> {
    let response = send("GET", url, None).await?;
    answer_body(response).await
}

/// Reads an answer: the collector's `{"error"}` for a failed status, else the JSON body.
async fn answer<T: DeserializeOwned>(url: &str, response: Response) -> Result<T, ApiError> {
    let body = answer_body(response).await?;
    parse(url, &body)
}

/// The body of an answer with a successful status.
async fn answer_body(response: Response) -> Result<String, ApiError> {
    check(&response).await?;
    response
        .text()
        .await
        .map_err(|e| unreachable(&e.to_string()))
}

/// The JSON body as `T`, or what is wrong with it.
fn parse<T: DeserializeOwned>(url: &str, body: &str) -> Result<T, ApiError> {
    serde_json::from_str(body).map_err(|e| {
        if body.trim_start().starts_with('<') {
            ApiError::Unexpected(format!(
                "{url} answered with a web page, not JSON: is the collector serving this dashboard?"
            ))
        } else {
            ApiError::Unexpected(format!("{url}: {e}"))
        }
    })
}

/// `Err` for a failed status, with the collector's message.
async fn check(response: &Response) -> Result<(), ApiError> {
    let status = response.status();
    if !response.ok() {
        let body = response.text().await.unwrap_or_default();
        match serde_json::from_str::<ErrorBody>(&body) {
            Ok(error) => {
                return Err(ApiError::Status {
                    status,
                    message: error.error,
                })
            }
            // The collector always explains its errors in JSON: a bare 5xx comes from a
            // proxy or gateway (`trunk serve`, nginx…) that could not reach it.
            Err(_) if status >= 500 => {
                return Err(unreachable(&format!("HTTP {status} from a proxy")));
            }
            Err(_) => {
                return Err(ApiError::Status {
                    status,
                    message: response.status_text(),
                })
            }
        }
    }
    Ok(())
}

/// Fetches `url` with the session's key and hands the answer to the browser as the file
/// `filename` (a plain link could not carry the key).
pub async fn download(url: &str, filename: &str) -> Result<(), ApiError> {
    let response = send("GET", url, None).await?;
    check(&response).await?;
    let bytes = response
        .binary()
        .await
        .map_err(|e| unreachable(&e.to_string()))?;
    save_file(&bytes, filename)
        .map_err(|e| ApiError::Unexpected(format!("saving {filename}: {e:?}")))
}

fn save_file(bytes: &[u8], filename: &str) -> Result<(), wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;
    use web_sys::{js_sys, Blob, HtmlAnchorElement, Url};
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let blob = Blob::new_with_u8_array_sequence(&parts)?;
    let href = Url::create_object_url_with_blob(&blob)?;
    let document = leptos::prelude::document();
    let anchor: HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    anchor.set_href(&href);
    anchor.set_download(filename);
    anchor.click();
    // Released once the browser has taken the file (released at once, a download may fail).
    leptos::prelude::set_timeout(
        move || {
            let _ = Url::revoke_object_url(&href);
        },
        std::time::Duration::from_secs(60),
    );
    Ok(())
}

async fn send_json<B: serde::Serialize, T: DeserializeOwned>(
    method: &str,
    url: String,
    body: &B,
) -> Result<T, ApiError> {
    let json = serde_json::to_string(body).map_err(|e| ApiError::Unexpected(e.to_string()))?;
    let response = send(method, &url, Some(json)).await?;
    answer(&url, response).await
}
