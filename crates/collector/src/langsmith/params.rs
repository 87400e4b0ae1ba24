//! What a LangSmith API request carries: a JSON object body, query parameters that repeat.

use serde_json::{Map, Value};
use skein_model::query::parse_query_string;

use crate::error::{ApiError, ApiResult};

/// The body as one JSON object; `what` names it in the error ("a run query").
pub fn json_object(body: &[u8], what: &str) -> ApiResult<Map<String, Value>> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadRequest(format!("{what} is a JSON object"))),
        Err(e) => Err(ApiError::BadRequest(format!("invalid JSON body: {e}"))),
    }
}

/// A query string's parameters (the SDK repeats a parameter for a list: `run=a&run=b`).
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn parse(query: Option<&str>) -> QueryParams {
        QueryParams(parse_query_string(query.unwrap_or("")))
    }

    /// Every non-empty value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The first non-empty value of `name`.
    pub fn one(&self, name: &str) -> Option<String> {
        self.all(name).into_iter().next()
    }
}
