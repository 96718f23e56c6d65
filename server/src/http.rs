//! The HTTP transport: everything a request meets besides the WebSocket (`ws`). Handlers here
//! parse forms and answer with redirects; what is allowed is decided in `chat` and what is
//! stored in `db`.
//!
//! # Layout
//!
//! - [`serve`]: the server loop (hyper, with header and request timeouts).
//! - [`security_headers`]: headers every response carries (framing, sniffing, referrer, CSP).
//! - [`auth`]: passwords, sessions, the gate middleware, cross-site protection, log-in forms,
//!   client addresses behind proxies.
//! - [`admin`]: the admin area's form handlers (users, rooms).
//! - [`health`]: `/healthz` and `/readyz`.
//! - [`metrics`]: `/metrics` for Prometheus, behind a bearer token.
//! - [`site`]: the WASM bundle, JavaScript and CSS (embedded in release builds), and caching.

pub mod admin;
pub mod auth;
pub mod health;
pub mod metrics;
pub mod security_headers;
pub mod serve;
pub mod site;
