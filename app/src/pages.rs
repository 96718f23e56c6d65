//! One module per page.
//!
//! The log-in, sign-up, set-up and admin pages are forms posting to the server and nothing
//! more: the server renders them and sends them without the WASM bundle, which leaves them out
//! ([`crate::server_rendered`]). In the browser their routes show the WASM build's
//! `server_rendered::ServerRendered`, which loads them from the server.

#[cfg(feature = "ssr")]
pub mod admin_rooms;
#[cfg(feature = "ssr")]
pub mod admin_users;
pub mod home;
#[cfg(feature = "ssr")]
pub mod login;
pub mod not_found;
pub mod permalink;
#[cfg(not(feature = "ssr"))]
pub mod server_rendered;
#[cfg(feature = "ssr")]
pub mod setup;
#[cfg(feature = "ssr")]
pub mod signup;
