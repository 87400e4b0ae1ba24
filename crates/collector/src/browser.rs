//! What a web browser may do to a Skein that has no API keys (the default on a laptop), where
//! whoever reaches the collector may read and write everything. A page of another site must
//! not reach it through the user's browser:
//!
//! - DNS rebinding: a domain of the attacker's that resolves to 127.0.0.1 is a page of the
//!   attacker's origin that can read what it fetches from "its" server. Its requests name the
//!   attacker's domain in `Host`, so only Hosts naming the listening address are answered:
//!   `localhost`, a loopback address, a bound address (any address when bound to 0.0.0.0 or
//!   `::`: a rebinding always names a domain), or a name given with `--allowed-hosts`.
//! - Cross-site writes: any page may send a form, `text/plain` or multipart POST anywhere
//!   without asking first (no CORS preflight). A write (any method but GET, HEAD, OPTIONS) that
//!   a browser marks as coming from another origin (`Origin`, `Sec-Fetch-Site`) is refused; JSON
//!   endpoints also take JSON only (`ingest::body::require_json`), which a browser sends across
//!   sites only after a preflight that Skein never answers.
//!
//! SDKs, exporters and curl send no `Origin` and name the address they were given, so they are
//! unaffected; so is the dashboard, served from Skein's own origin. With keys, every data
//! request needs one, which another site's page does not have: these checks are not needed
//! and not made (a reverse proxy may then use any Host).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::KeyCache;
use crate::error::ApiError;

pub struct BrowserPolicy {
    keys: Arc<KeyCache>,
    /// Host names answered besides localhost and IP addresses, lowercase.
    allowed_hosts: Vec<String>,
    /// The addresses listened on.
    bound: Vec<IpAddr>,
}

impl BrowserPolicy {
    pub fn new(keys: Arc<KeyCache>, allowed_hosts: &[String], bound: &[SocketAddr]) -> Self {
        BrowserPolicy {
            keys,
            allowed_hosts: allowed_hosts
                .iter()
                .map(|h| normalize_name(h))
                .filter(|h| !h.is_empty())
                .collect(),
            bound: bound.iter().map(SocketAddr::ip).collect(),
        }
    }

    /// Whether `Host` names this collector (a request without one comes from no browser).
    fn check_host(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(value) = headers.get(header::HOST) else {
            return Ok(());
        };
        let host = String::from_utf8_lossy(value.as_bytes());
        if self.host_allowed(&host) {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!(
            "Host {host:?} does not name this Skein: without API keys it answers only localhost, \
             its IP addresses and the names given with --allowed-hosts (SKEIN_ALLOWED_HOSTS)"
        )))
    }

    fn host_allowed(&self, host: &str) -> bool {
        let name = host_name(host);
        if let Some(ip) = parse_ip(&name) {
            return ip.is_loopback()
                || self.bound.contains(&ip)
                || self.bound.iter().any(IpAddr::is_unspecified);
        }
        name == "localhost" || self.allowed_hosts.contains(&name)
    }

    /// Refuses a write that a browser says comes from a page of another origin.
    fn check_origin(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let text = |name: &str| {
            headers.get(name).map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .trim()
                    .to_ascii_lowercase()
            })
        };
        let refuse = |why: String| {
            Err(ApiError::Forbidden(format!(
                "{why}: without API keys Skein takes writes from its own pages, SDKs and \
                 command-line clients only"
            )))
        };
        if let Some(site) = text("sec-fetch-site") {
            if site != "same-origin" && site != "none" {
                return refuse(format!("a {site} request from a web page"));
            }
        }
        if let Some(origin) = text("origin") {
            let host = text("host").unwrap_or_default();
            let authority = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            if authority.is_none_or(|a| a != host || !self.host_allowed(a)) {
                return refuse(format!("a request from the web page origin {origin:?}"));
            }
        }
        Ok(())
    }
}

/// A Host's name without its port, lowercase, without a trailing dot; an IPv6 address keeps
/// no brackets.
fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(name, _port)| name)
    };
    normalize_name(name)
}

fn normalize_name(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn parse_ip(name: &str) -> Option<IpAddr> {
    name.parse().ok()
}

/// The middleware on both addresses, before the key check.
pub async fn check_browser(
    State(policy): State<Arc<BrowserPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    match policy.keys.required().await {
        Ok(true) => return next.run(request).await,
        Ok(false) => {}
        Err(e) => return e.into_response(),
    }
    let headers = request.headers();
    let checked = policy.check_host(headers).and_then(|()| {
        if request.method().is_safe() {
            Ok(())
        } else {
            policy.check_origin(headers)
        }
    });
    match checked {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_read_without_port_case_or_brackets() {
        assert_eq!(host_name("LocalHost:8080"), "localhost");
        assert_eq!(host_name("[::1]:8080"), "::1");
        assert_eq!(host_name("[::1]"), "::1");
        assert_eq!(host_name("example.com."), "example.com");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
    }
}
