//! Cross-site request protection for every state-changing request (anything but GET, HEAD and
//! OPTIONS) and for WebSocket upgrades.
//!
//! Browsers send `Origin` on cross-origin requests and on every POST; when present it must be an
//! allowed origin. When absent, `Sec-Fetch-Site: cross-site` is refused too. A request with
//! neither comes from a non-browser client, which carries no victim's cookies; the session
//! cookie is also `SameSite=Lax`, so it is not sent on cross-site POSTs in the first place.

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn reject_cross_site(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let safe_method = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe_method && !origin_is_allowed(&state.config.allowed_origins, request.headers()) {
        return (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response();
    }
    next.run(request).await
}

/// Whether the request comes from an allowed origin (by default the server's own), or from no
/// browser page at all (no `Origin`, and `Sec-Fetch-Site` does not say cross-site).
pub fn origin_is_allowed(allowed: &[String], headers: &HeaderMap) -> bool {
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => origin_allowed(allowed, headers, origin),
        None => headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) != Some("cross-site"),
    }
}

fn origin_allowed(allowed: &[String], headers: &HeaderMap, origin: &str) -> bool {
    if !allowed.is_empty() {
        return allowed.iter().any(|a| a.trim_end_matches('/') == origin);
    }
    // Default: only the server's own origin, i.e. the Origin's host:port equals the Host header.
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((host, origin_host), (Some(host), Some(origin_host)) if host == origin_host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn own_origin_by_default() {
        let h = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
        ]);
        assert!(origin_is_allowed(&[], &h));
        let h = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://evil.example"),
        ]);
        assert!(!origin_is_allowed(&[], &h));
    }

    #[test]
    fn configured_origins_replace_the_default() {
        let allowed = vec!["https://chat.example.com".to_owned()];
        let h = headers(&[
            ("host", "10.0.0.5:3000"),
            ("origin", "https://chat.example.com"),
        ]);
        assert!(origin_is_allowed(&allowed, &h));
        let h = headers(&[
            ("host", "10.0.0.5:3000"),
            ("origin", "http://10.0.0.5:3000"),
        ]);
        assert!(!origin_is_allowed(&allowed, &h));
    }

    #[test]
    fn no_origin_refused_only_when_fetch_metadata_says_cross_site() {
        assert!(origin_is_allowed(&[], &headers(&[])));
        assert!(!origin_is_allowed(
            &[],
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
    }
}
