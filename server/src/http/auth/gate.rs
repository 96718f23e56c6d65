//! The gate every request passes: finds who is signed in (from the session cookie), puts them in
//! the request's extensions as [`CurrentUser`], and decides whether the path may be seen.
//!
//! | path | who may |
//! |---|---|
//! | `/pkg/…`, `/healthz`, `/readyz`, `/metrics` | anyone (`/metrics` asks for its token) |
//! | `/setup`, `/auth/setup` | anyone, only while no account exists; 404 afterwards |
//! | everything else, while no account exists | redirected to `/setup` |
//! | `/login`, `/signup`, `/auth/…`, `/api/…` | anyone (server functions check on their own) |
//! | `/admin/…` | admins; others get 403 |
//! | `/ws` | signed-in users; others get 401 |
//! | any other page | signed-in users; others are redirected to `/login?next=…` |

use crate::error::AppError;
use crate::http::auth::session;
use crate::state::AppState;
use app::backend::CurrentUser;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;

pub async fn gate(
    State(state): State<AppState>,
    jar: CookieJar,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let path = request.uri().path().to_owned();
    if is_static(&path) {
        return Ok(next.run(request).await);
    }

    let user = session::current_user(&state, &jar).await?;
    let summary = user.as_ref().map(|user| user.summary());
    request
        .extensions_mut()
        .insert(CurrentUser(summary.clone()));

    let setup_path = path == "/setup" || path == "/auth/setup";
    if !state.setup.is_done(&state.db).await? {
        return Ok(if setup_path || path.starts_with("/api/") {
            next.run(request).await
        } else {
            Redirect::to("/setup").into_response()
        });
    }
    if setup_path {
        return Ok(setup_gone(&state));
    }

    let Some(user) = summary else {
        return Ok(if is_public(&path) {
            next.run(request).await
        } else if path != "/ws" && matches!(*request.method(), Method::GET | Method::HEAD) {
            Redirect::to(&login_redirect(&request)).into_response()
        } else {
            StatusCode::UNAUTHORIZED.into_response()
        });
    };

    if path == "/login" || path == "/signup" {
        return Ok(Redirect::to("/").into_response());
    }
    if (path == "/admin" || path.starts_with("/admin/")) && !user.is_admin {
        return Ok(status_page(
            &state,
            StatusCode::FORBIDDEN,
            "Admins only",
            "This page is for administrators.",
        ));
    }
    Ok(next.run(request).await)
}

/// Files of the built site and health probes: no session lookup at all.
fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/healthz" || path == "/readyz" || path == "/metrics"
}

/// Pages and endpoints that anonymous visitors may reach.
fn is_public(path: &str) -> bool {
    path == "/login" || path == "/signup" || path.starts_with("/auth/") || path.starts_with("/api/")
}

/// `/login?next=<where the visitor wanted to go>`.
fn login_redirect(request: &Request) -> String {
    let wanted = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    if wanted == "/" {
        "/login".into()
    } else {
        format!("/login?next={}", urlencode(wanted))
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986) for a query value.
pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Where to send a user after log-in: only paths on this site, so a crafted `next` cannot make
/// the log-in page an open redirect to another site. Browsers drop tabs and line breaks from a
/// `Location` (so `/\t/evil.example` would become `//evil.example`) and read `\` as `/`: any
/// control character, whitespace or backslash refuses the whole value, as does a length no
/// page of ours has.
pub fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 2048
        && !next
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace());
    if local { next } else { "/" }
}

/// A small complete page for refusals decided before Leptos runs (403, 404), styled like the
/// rest of the site. The texts are fixed strings, never user input.
pub fn status_page(state: &AppState, status: StatusCode, title: &str, text: &str) -> Response {
    let pkg = &state.leptos_options.site_pkg_dir;
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Whisper</title><link rel=\"icon\" href=\"data:,\">\
         <link rel=\"stylesheet\" href=\"/{pkg}/whisper.css\"></head><body><main class=\"centered\">\
         <div class=\"card\"><h1>{title}</h1><p>{text}</p>\
         <p><a href=\"/\">Back to Whisper</a></p></div></main></body></html>"
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// The answer to `/setup` once an admin exists.
pub fn setup_gone(state: &AppState) -> Response {
    status_page(
        state,
        StatusCode::NOT_FOUND,
        "Page not found",
        "Whisper is already set up.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/admin/users"), "/admin/users");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
        assert_eq!(safe_next("/\t/evil.example"), "/");
        assert_eq!(safe_next("/\r\nSet-Cookie: x=1"), "/");
        assert_eq!(safe_next("/ /evil.example"), "/");
        assert_eq!(safe_next("/r/caf\u{e9}"), "/r/caf\u{e9}");
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(
            urlencode("/admin/users?x=1&y"),
            "%2Fadmin%2Fusers%3Fx%3D1%26y"
        );
    }
}
