//! `whisper create-user` from a script: the account it makes can log in with its roles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::process::create_user;
use common::{Backend, TestServer, fresh_database};

#[tokio::test]
async fn create_user_from_the_command_line() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let db = database.url.clone();
    let made = create_user(&db, &["ops", "--admin", "--staff"], "piped-password");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(String::from_utf8_lossy(&made.stdout).contains("created user ops"));

    let again = create_user(&db, &["OPS"], "piped-password");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("taken"));
    let weak = create_user(&db, &["dev"], "short");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 8"));

    // The account exists, so the server skips first-run set-up and ops is an admin.
    let server = TestServer::start(db).await;
    assert_eq!(
        server.client().get("/setup").await.status(),
        reqwest::StatusCode::NOT_FOUND
    );
    let mut ops = server.login("ops", "piped-password").await;
    assert!(ops.page("/admin/users").await.contains("ops"));
}
