//! Shared test harness, one file per concern.
//!
//! - [`db`]: a fresh database (SQLite or PostgreSQL) and a Redis prefix per test.
//! - [`server`]: a real server on `127.0.0.1:0`, with its admin and users.
//! - [`http`]: a cookie-keeping HTTP client, like one browser profile.
//! - [`tab`]: a WebSocket client speaking the protocol, like one browser tab.
//! - [`process`]: the `whisper` binary run as a child process.
// Each test binary uses part of the harness.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

pub mod db;
pub mod http;
pub mod process;
pub mod server;
pub mod tab;

pub use db::{Backend, TestDatabase, fresh_database, fresh_redis};
pub use http::{Client, location};
pub use server::{TestServer, generous_limits, server_with_users, two_nodes};
pub use tab::{EVENT_TIMEOUT, Tab, listed_rooms, messages};

/// Runs a test body once on SQLite and once on PostgreSQL (skipped or failed per
/// `fresh_database` when PostgreSQL is missing).
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let database = $crate::common::fresh_database($crate::common::Backend::Sqlite).await.unwrap();
                    super::$name(database.url.clone()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(database) = $crate::common::fresh_database($crate::common::Backend::Postgres).await {
                        super::$name(database.url.clone()).await;
                    }
                }
            )*
        }
    };
}
