//! Headers every response carries so a browser refuses what Whisper never does: being framed
//! by another site (clickjacking), sniffing a file as another type, leaking the page address to
//! other sites, or running a script the page did not ship.
//!
//! Pages rendered by Leptos get their Content-Security-Policy from the shell, which knows the
//! page's script nonce (`app::shell`); every other response (assets, redirects, refusals) gets
//! a policy that allows nothing to run.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// For responses that are not rendered pages: nothing may load, run or frame them.
const LOCKED_DOWN: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub async fn add(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &str); 3] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(LOCKED_DOWN),
        );
    }
    response
}
