//! Accounts and sessions over HTTP.
//!
//! # Layout
//!
//! - [`password`]: argon2id hashing, off the async runtime.
//! - [`session`]: the session cookie and the token behind it.
//! - [`validate`]: what a username and a password must look like.
//! - [`rate_limit`]: log-in attempt limits per username and per IP.
//! - [`client_ip`]: the client's address, through trusted proxies.
//! - [`gate`]: middleware that finds the signed-in user and decides who may see which path.
//! - [`origin`]: middleware refusing cross-site state-changing requests.
//! - [`handlers`]: the log-in, log-out, first-run set-up and sign-up form handlers.

pub mod client_ip;
pub mod gate;
pub mod handlers;
pub mod origin;
pub mod password;
pub mod rate_limit;
pub mod session;
pub mod validate;
