//! Whisper's pages: Leptos components rendered on the server (`ssr`); the chat's are hydrated in
//! the browser (`hydrate`, the WASM bundle built by cargo-leptos). Never both features at once.
//!
//! # Layout
//!
//! - [`shell`] is the HTML document; [`App`] holds the router and the page chrome.
//! - `pages/`: one file per page (`login`, `setup`, `signup`, `home` (the chat), `admin_users`,
//!   `admin_rooms`). The chat's pages are hydrated; the others are the server's alone, and the
//!   WASM leaves them out ([`server_rendered`]).
//! - [`chat`]: the chat client — state reducer, WebSocket connection, chat components.
//! - `components/`: pieces shared by pages (the top bar, admin tabs, notices), and `KeyedList`
//!   and `ShowIf`, used instead of Leptos's `<For>` and `<Show>`: the same props, compiled once
//!   for the whole page rather than once per use.
//! - [`viewer`]: who is looking at the page, loaded once and shared through context.
//! - [`api`]: server functions the pages read their data through. They run on the server, where
//!   they reach the database through the [`backend::Backend`] trait that the `server` crate
//!   implements and provides as Leptos context (the server crate depends on this one, not the
//!   other way round). `api/json_text.rs` says how their answers cross the wire.
//!
//! # How a request flows
//!
//! Forms (log-in, set-up, admin actions) are plain HTML forms posting to the server's own
//! handlers, which answer with a redirect: they work the same with JavaScript off and on. Pages
//! render with `SsrMode::Async`, so the server sends complete HTML once every resource is loaded.
//! Who may see which page is decided on the server before Leptos runs (the server's `gate`
//! middleware); the server functions check again on their own.

// The chat page's view types nest deeply; the release (wasm-release) build needs more room to
// compute their layout than the default 128.
#![recursion_limit = "256"]

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod chat;
mod components;
mod pages;
pub mod viewer;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

/// The HTML document around the app; the server renders it for every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    send_content_security_policy(&options);
    // The bundle's scripts on every page but the server-rendered ones.
    #[cfg(feature = "ssr")]
    let hydrate = use_context::<axum::http::request::Parts>()
        .is_none_or(|request| !server_rendered(request.uri.path()));
    #[cfg(not(feature = "ssr"))]
    let hydrate = true;
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                // No favicon file: an inline empty icon keeps the browser from requesting one.
                <link rel="icon" href="data:," />
                // From the shell, which knows where this build's files are (`site_pkg_dir`).
                <link rel="stylesheet" id="leptos" href=format!("/{}/whisper.css", options.site_pkg_dir) />
                <AutoReload options=options.clone() />
                {if hydrate {
                    view! { <HydrationScripts options /> }.into_any()
                } else {
                    // The chat is usually next: its bundle is fetched into the cache while the
                    // form is filled in, and not run. (cargo-leptos names the files after
                    // `output-name`; the release binary serves them under a content hash,
                    // cached for good.)
                    let pkg = options.site_pkg_dir;
                    let name = options.output_name;
                    view! {
                        <link rel="prefetch" href=format!("/{pkg}/{name}.js") />
                        <link rel="prefetch" href=format!("/{pkg}/{name}.wasm") />
                    }
                        .into_any()
                }}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Sends this page's Content-Security-Policy: only this site's files, the inline scripts that
/// carry this response's nonce (Leptos puts it on its hydration and resource scripts), and
/// WebAssembly compilation; nothing may frame the page. Set here because only the rendering
/// knows the nonce; the server adds the other security headers to every response.
#[cfg(feature = "ssr")]
fn send_content_security_policy(options: &LeptosOptions) {
    use axum::http::{HeaderValue, header};
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    // `cargo leptos watch` injects a script that reloads the page through its own socket.
    let reload = std::env::var("LEPTOS_WATCH")
        .map(|_| format!(" ws://{}:{}", options.site_addr.ip(), options.reload_port))
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'{reload}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Whether the page at `path` is one the server renders alone and sends without the WASM
/// bundle: the log-in, sign-up, set-up and admin pages, which are forms posting to the server
/// (see "How a request flows" above) with nothing to run in the browser. Leaving them out of
/// the bundle takes about a twentieth off its gzip size, and the log-in page runs no WASM (it
/// only prefetches the bundle for the chat).
///
/// Must name exactly the routes [`App`] gives to [`server_page!`]. A page listed here and not
/// there would be sent without the WASM its page needs; a page there and not here would be
/// hydrated against the placeholder, which fails (the page stays as the server sent it).
pub fn server_rendered(path: &str) -> bool {
    // The router ignores a trailing slash.
    let path = path.trim_end_matches('/');
    matches!(
        path,
        "/login" | "/signup" | "/setup" | "/admin/users" | "/admin/rooms"
    )
}

/// A server-rendered page's view: the page on the server; in the WASM, a placeholder that
/// loads the page from the server ([`server_rendered`]).
#[cfg(feature = "ssr")]
macro_rules! server_page {
    ($page:path) => {
        $page
    };
}
#[cfg(not(feature = "ssr"))]
macro_rules! server_page {
    ($page:path) => {
        pages::server_rendered::ServerRendered
    };
}

/// The router and the pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    viewer::provide_viewer();

    view! {
        <Title text="Whisper" />
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=StaticSegment("") view=pages::home::HomePage ssr=SsrMode::Async />
                <Route
                    path=(StaticSegment("r"), ParamSegment("room"), ParamSegment("seq"))
                    view=pages::permalink::PermalinkPage
                    ssr=SsrMode::Async
                />
                <Route path=StaticSegment("login") view=server_page!(pages::login::LoginPage) ssr=SsrMode::Async />
                <Route path=StaticSegment("setup") view=server_page!(pages::setup::SetupPage) ssr=SsrMode::Async />
                <Route
                    path=StaticSegment("signup")
                    view=server_page!(pages::signup::SignupPage)
                    ssr=SsrMode::Async
                />
                <Route
                    path=(StaticSegment("admin"), StaticSegment("users"))
                    view=server_page!(pages::admin_users::AdminUsersPage)
                    ssr=SsrMode::Async
                />
                <Route
                    path=(StaticSegment("admin"), StaticSegment("rooms"))
                    view=server_page!(pages::admin_rooms::AdminRoomsPage)
                    ssr=SsrMode::Async
                />
            </Routes>
        </Router>
    }
}

/// Entry point of the WASM bundle: takes over the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // A marker for tests and tools: the page is interactive from here on.
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "");
    }
}

#[cfg(test)]
mod tests {
    use super::server_rendered;

    #[test]
    fn the_form_pages_are_server_rendered_and_the_chat_is_not() {
        for path in [
            "/login",
            "/login/",
            "/signup",
            "/setup",
            "/admin/users",
            "/admin/rooms/",
        ] {
            assert!(server_rendered(path), "{path}");
        }
        for path in [
            "/",
            "",
            "/r/3/41",
            "/admin",
            "/admin/users/7",
            "/loginx",
            "/nowhere",
        ] {
            assert!(!server_rendered(path), "{path}");
        }
    }

    /// `.cargo/config.toml` erases view types in every build, which makes the release WASM a
    /// fifth smaller; a RUSTFLAGS set in the environment replaces that setting and drops it.
    #[test]
    #[expect(
        clippy::assertions_on_constants,
        reason = "the constant is the build's configuration, which is what this checks"
    )]
    fn views_are_type_erased() {
        assert!(
            cfg!(erase_components),
            "built without `--cfg erase_components`: add it to RUSTFLAGS (see .cargo/config.toml)"
        );
    }
}
