//! Whisper's pages: Leptos components rendered on the server (`ssr`) and hydrated in the browser
//! (`hydrate`, the WASM bundle built by cargo-leptos). Never both features at once.
//!
//! # Layout
//!
//! - [`shell`] is the HTML document; [`App`] holds the router and the page chrome.
//! - `pages/`: one file per page (`login`, `setup`, `signup`, `home` (the chat), `admin_users`,
//!   `admin_rooms`).
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
                <HydrationScripts options />
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
                <Route path=StaticSegment("login") view=pages::login::LoginPage ssr=SsrMode::Async />
                <Route path=StaticSegment("setup") view=pages::setup::SetupPage ssr=SsrMode::Async />
                <Route
                    path=StaticSegment("signup")
                    view=pages::signup::SignupPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=(StaticSegment("admin"), StaticSegment("users"))
                    view=pages::admin_users::AdminUsersPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=(StaticSegment("admin"), StaticSegment("rooms"))
                    view=pages::admin_rooms::AdminRoomsPage
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
