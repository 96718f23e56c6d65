//! What an operator relies on: `/metrics` for Prometheus, `whisper backup` of a live database,
//! and a node that stops cleanly (sockets closed with 1012, bounded exit) on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::process::{Served, create_user, whisper};
use common::{Backend, Client, Tab, fresh_database, server_with_users};
use protocol::{ClientCommand, ErrorCode};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use std::time::Duration;
use whisper::config::Config;

/// The value of one series (`name{labels}`) in a scrape, 0 when absent.
fn series(scrape: &str, name: &str) -> f64 {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .map_or(0.0, |value| value.trim().parse().unwrap())
}

async fn scrape(client: &Client, url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = client.http.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_happens_and_need_the_token() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let mut config = Config::for_database(database.url.clone());
    config.metrics_token = Some("scrape-secret".into());
    config.sends_per_second = 1;
    let (server, mut admin, users) = server_with_users(config, &["alice"]).await;
    let room = server.create_room(&mut admin, "general", false).await;
    let url = server.url("/metrics");
    let outsider = server.client();

    assert_eq!(
        scrape(&outsider, &url, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        scrape(&outsider, &url, Some("guess")).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A failed log-in, a socket, a post, a refused post, a burst past the send limit.
    let response = server
        .client()
        .post_form(
            "/auth/login",
            &[("username", "alice"), ("password", "wrong")],
        )
        .await;
    assert!(common::location(&response).contains("invalid_credentials"));
    let (mut tab, _) = Tab::open(&server, &users[0]).await;
    tab.join(room).await;
    tab.say(room, "hello").await;
    let empty = tab.say(room, " ").await;
    assert_eq!(tab.error_for(empty).await, ErrorCode::EmptyMessage);
    for n in 0..10 {
        tab.say(room, &format!("burst {n}")).await;
    }
    let refused = tab.drain().await.into_iter().any(|event| {
        matches!(
            event,
            protocol::ServerEvent::Error {
                code: ErrorCode::RateLimited,
                ..
            }
        )
    });
    assert!(refused, "the send limit refused a post");
    tab.send_raw("{not json").await;
    tab.drain().await;

    let response = scrape(&outsider, &url, Some("scrape-secret")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = response.text().await.unwrap();
    assert_eq!(series(&text, "whisper_sockets_open"), 1.0, "{text}");
    assert_eq!(series(&text, "whisper_login_failures_total"), 1.0);
    assert!(series(&text, "whisper_deliveries_total") >= 1.0);
    assert!(series(&text, r#"whisper_commands_total{kind="send",outcome="ok"}"#) >= 1.0);
    assert_eq!(
        series(
            &text,
            r#"whisper_commands_total{kind="send",outcome="empty_message"}"#
        ),
        1.0
    );
    assert_eq!(
        series(&text, r#"whisper_commands_total{kind="join",outcome="ok"}"#),
        1.0
    );
    assert_eq!(
        series(
            &text,
            r#"whisper_commands_total{kind="unparsed",outcome="malformed_json"}"#
        ),
        1.0
    );
    assert!(series(&text, r#"whisper_rate_limited_total{limit="send"}"#) >= 1.0);
    assert!(series(&text, "whisper_message_commit_seconds_count") >= 1.0);
    for name in [
        "whisper_frames_dropped_total",
        "whisper_broker_publish_failures_total",
        "whisper_resyncs_total",
    ] {
        assert!(text.contains(&format!("\n{name} 0\n")), "{name} in {text}");
    }

    // The socket closing is counted by its reason.
    tab.send_frame(tokio_tungstenite::tungstenite::Message::Binary(
        vec![0; protocol::MAX_FRAME_BYTES + 1].into(),
    ))
    .await;
    assert_eq!(tab.closed().await, 1009);
    let mut closed = 0.0;
    for _ in 0..100 {
        let text = scrape(&outsider, &url, Some("scrape-secret"))
            .await
            .text()
            .await
            .unwrap();
        closed = series(&text, r#"whisper_sockets_closed_total{reason="too_big"}"#);
        if closed > 0.0 {
            assert_eq!(series(&text, "whisper_sockets_open"), 0.0);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(closed, 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_without_a_token() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let server = common::TestServer::start(database.url.clone()).await;
    let response = scrape(&server.client(), &server.url("/metrics"), Some("any")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // A token configured but left empty is no token, not "anyone without a header".
    let mut config = Config::for_database(database.url.clone());
    config.metrics_token = Some(String::new());
    let blank = common::TestServer::start_with(config).await;
    for token in [None, Some("")] {
        let response = scrape(&blank.client(), &blank.url("/metrics"), token).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
}

/// Rows of one query, as (i64, i64, i64).
async fn triples(url: &str, sql: &str) -> Vec<(i64, i64, i64)> {
    let db = Database::connect(url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            (
                row.try_get_by_index(0).unwrap(),
                row.try_get_by_index(1).unwrap(),
                row.try_get_by_index(2).unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_takes_a_consistent_copy_while_messages_are_posted() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let mut config = Config::for_database(database.url.clone());
    config.sends_per_second = 10_000;
    let (server, mut admin, users) = server_with_users(config, &["alice"]).await;
    let room = server.create_room(&mut admin, "general", false).await;
    let (mut tab, _) = Tab::open(&server, &users[0]).await;
    tab.join(room).await;

    let dir = std::env::temp_dir().join(format!("whisper_backup_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("copy.db");
    let _ = std::fs::remove_file(&copy);

    // The copy is taken while a stream of posts commits.
    let url = database.url.clone();
    let target = copy.to_str().unwrap().to_owned();
    let backup = tokio::task::spawn_blocking(move || whisper(&url, &["backup", &target], ""));
    for n in 0..300 {
        tab.command(|request_id| ClientCommand::Send {
            request_id,
            room_id: room,
            body: format!("message {n}"),
            nonce: format!("n{n}"),
        })
        .await;
    }
    let done = backup.await.unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(String::from_utf8_lossy(&done.stdout).contains("backed up to"));

    // Consistent: the room's counter and its messages agree, with no gap.
    let copy_url = format!("sqlite://{}", copy.display());
    let rooms = triples(
        &copy_url,
        "SELECT r.id, r.last_seq, (SELECT COUNT(*) FROM messages m WHERE m.room_id = r.id) \
         FROM rooms r",
    )
    .await;
    let (_, last_seq, count) = rooms
        .iter()
        .find(|(id, _, _)| *id == room.0)
        .copied()
        .unwrap();
    assert_eq!(last_seq, count, "every seq up to last_seq is in the copy");
    let seqs = triples(
        &copy_url,
        &format!(
            "SELECT COUNT(*), COALESCE(MIN(seq), 1), COALESCE(MAX(seq), 0) FROM messages \
             WHERE room_id = {}",
            room.0
        ),
    )
    .await;
    assert_eq!(seqs[0], (count, 1, count), "seqs run 1..=count");
    // The copy is a working database: a server starts on it and the user can log in.
    let restored = common::TestServer::start(format!("{copy_url}?mode=rwc")).await;
    restored.login("alice", "a-password").await;

    let again = whisper(&database.url, &["backup", copy.to_str().unwrap()], "");
    assert!(
        !again.status.success(),
        "an existing file is not overwritten"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let missing = whisper(
        &format!("sqlite://{}/none.db?mode=rwc", dir.display()),
        &["backup", dir.join("x.db").to_str().unwrap()],
        "",
    );
    assert!(
        !missing.status.success(),
        "a missing database is not created"
    );
    assert!(!dir.join("none.db").exists());
    let postgres = whisper(
        "postgres://postgres@127.0.0.1:5432/test",
        &["backup", dir.join("pg.db").to_str().unwrap()],
        "",
    );
    assert!(!postgres.status.success());
    assert!(String::from_utf8_lossy(&postgres.stderr).contains("pg_dump"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_server_closes_sockets_with_1012_and_returns() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let (mut server, _admin, users) =
        server_with_users(Config::for_database(database.url.clone()), &["alice"]).await;
    let (mut first, _) = Tab::open(&server, &users[0]).await;
    let (mut second, _) = Tab::open(&server, &users[0]).await;
    let stopped = server.stop();
    assert_eq!(first.closed().await, 1012, "service restart: reconnect");
    assert_eq!(second.closed().await, 1012);
    let (status, _) =
        whisper::http::health::readyz(axum::extract::State(server.state.clone())).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "not ready while stopping"
    );
    tokio::time::timeout(Duration::from_secs(30), stopped)
        .await
        .expect("run returns once its sockets closed")
        .unwrap();
    assert!(
        Tab::connect(&server, users[0].cookie.as_deref(), None)
            .await
            .is_err(),
        "no longer accepting"
    );
}

/// The binary on SIGTERM: its sockets get 1012 and the process exits, successfully, within the
/// documented bound (about 20 s; asserted with room for a slow machine).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_sockets_and_exits() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let made = create_user(&database.url, &["ops", "--admin"], "a-password");
    assert!(made.status.success());
    let mut served = Served::start(&database.url, &[]);
    let mut ops = Client::new(served.url());
    let response = ops
        .post_form(
            "/auth/login",
            &[("username", "ops"), ("password", "a-password")],
        )
        .await;
    assert_eq!(common::location(&response), "/");
    let cookie = ops.cookie.clone().unwrap();
    let mut tab = Tab::connect_to(served.addr, Some(&cookie), None)
        .await
        .unwrap();
    assert!(matches!(
        tab.next().await,
        protocol::ServerEvent::Hello { .. }
    ));
    // A second socket that never reads again (its close frame still fits in the buffers).
    let _unread = Tab::connect_to(served.addr, Some(&cookie), None)
        .await
        .unwrap();

    served.terminate();
    assert_eq!(tab.closed().await, 1012);
    let status = tokio::task::spawn_blocking(move || served.exited_within(Duration::from_secs(25)))
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
}
