//! Every way a session ends closes the sockets that rode on it, at once: log-out (that
//! session's sockets only), "log out everywhere" (all of the user's), and expiry. SQLite and
//! PostgreSQL; the two-node case is in `cluster.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, Tab, TestServer, location, server_with_users};
use sea_orm::ConnectionTrait;
use whisper::config::Config;
use whisper::pause::Point;

on_both_databases!(
    a_socket_opening_as_its_session_ends_does_not_open,
    log_out_closes_that_sessions_sockets_only,
    log_out_everywhere_closes_every_socket,
    an_expired_session_loses_its_sockets,
);

/// The upgrade found the session live; before the socket registered (and so before it could
/// hear that the session ended), the user logged out. The socket must not open on a session
/// that no longer exists.
async fn a_socket_opening_as_its_session_ends_does_not_open(url: String) {
    let (server, _admin, mut users) =
        server_with_users(Config::for_database(url), &["alice"]).await;
    let mut alice = users.remove(0);
    let cookie = alice.cookie.clone().unwrap();
    let mut held = server.state.pauses.arm(Point::SocketAccepted);
    let mut tab = Tab::connect(&server, Some(&cookie), None).await.unwrap();
    held.reached().await;
    let response = alice.post_form("/auth/logout", &[]).await;
    assert_eq!(location(&response), "/login");
    held.release();
    assert_eq!(tab.closed().await, 1008, "closed, never greeted");
}

/// Alice signed in on a laptop and a phone, a socket open on each.
async fn alice_on_two_devices(url: String) -> (TestServer, Client, Client, Tab, Tab) {
    let (server, _admin, mut users) =
        server_with_users(Config::for_database(url), &["alice"]).await;
    let laptop = users.remove(0);
    let phone = server.login("alice", "a-password").await;
    let (on_laptop, _) = Tab::open(&server, &laptop).await;
    let (on_phone, _) = Tab::open(&server, &phone).await;
    (server, laptop, phone, on_laptop, on_phone)
}

async fn log_out_closes_that_sessions_sockets_only(url: String) {
    let (_server, mut laptop, _phone, mut on_laptop, mut on_phone) =
        alice_on_two_devices(url).await;

    let response = laptop.post_form("/auth/logout", &[]).await;
    assert_eq!(location(&response), "/login");
    assert_eq!(on_laptop.closed().await, 1008, "the laptop's socket closes");
    on_phone.drain().await;
}

async fn log_out_everywhere_closes_every_socket(url: String) {
    let (server, mut laptop, phone, mut on_laptop, mut on_phone) = alice_on_two_devices(url).await;

    let response = laptop.post_form("/auth/logout_everywhere", &[]).await;
    assert_eq!(location(&response), "/login");
    assert_eq!(on_laptop.closed().await, 1008);
    assert_eq!(on_phone.closed().await, 1008, "other devices too");
    assert!(
        Tab::connect(&server, phone.cookie.as_deref(), None)
            .await
            .is_err(),
        "the phone's session is gone"
    );
}

async fn an_expired_session_loses_its_sockets(url: String) {
    let (server, _admin, users) = server_with_users(Config::for_database(url), &["alice"]).await;
    let (mut tab, _) = Tab::open(&server, &users[0]).await;
    let db = whisper::db::connect(&server.database_url).await.unwrap();
    db.execute_unprepared("UPDATE sessions SET expires_at = created_at")
        .await
        .unwrap();

    whisper::http::auth::session::end_expired(&server.state)
        .await
        .unwrap();
    assert_eq!(tab.closed().await, 1008);
}
