//! The `/ws` endpoint over a real socket: who may connect, the hello, and bad input answered
//! with errors on a socket that stays usable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, Client, Tab, TestDatabase, TestServer, fresh_database};
use protocol::{ErrorCode, PROTOCOL_VERSION, RequestId, ServerEvent};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::http::StatusCode;

/// A server started with `tweak` applied to the default settings, and its admin and plain
/// `users`; the database guard must outlive the server.
async fn configured(
    tweak: impl FnOnce(&mut whisper::config::Config),
    users: &[&str],
) -> (TestDatabase, TestServer, Client, Vec<Client>) {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let mut config = whisper::config::Config::for_database(database.url.clone());
    tweak(&mut config);
    let server = TestServer::start_with(config).await;
    let (admin, users) = server.with_users(users).await;
    (database, server, admin, users)
}

/// A raw TCP connection that asked for a WebSocket upgrade with `cookie`, and reads nothing:
/// for peers no client library would play (silent, stalled).
async fn raw_upgrade(server: &TestServer, cookie: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let handshake = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Cookie: {cookie}\r\n\r\n",
        server.addr
    );
    tcp.write_all(handshake.as_bytes()).await.unwrap();
    tcp
}

/// A server with its admin's cookie; the database guard must outlive the server.
async fn server_with_admin() -> (TestDatabase, TestServer, String) {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let server = TestServer::start(database.url.clone()).await;
    let (admin, _) = server.with_users(&[]).await;
    let cookie = admin.cookie.clone().unwrap();
    (database, server, cookie)
}

#[tokio::test]
async fn anonymous_and_foreign_origin_upgrades_are_refused() {
    let (_database, server, cookie) = server_with_admin().await;
    let refused = |result: Result<_, tokio_tungstenite::tungstenite::Error>| match result {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status(),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("upgrade accepted"),
    };
    let anonymous = Tab::connect(&server, None, None).await;
    assert_eq!(refused(anonymous), StatusCode::UNAUTHORIZED);
    let foreign = Tab::connect(&server, Some(&cookie), Some("http://evil.example")).await;
    assert_eq!(refused(foreign), StatusCode::FORBIDDEN);
    let forged = Tab::connect(&server, Some("whisper_session=forged"), None).await;
    assert_eq!(refused(forged), StatusCode::UNAUTHORIZED);
}

/// A request to `/ws` that is no WebSocket handshake is refused with what it lacks; a 426 names
/// the protocol and the version to ask for.
#[tokio::test]
async fn requests_that_are_no_handshake_are_refused_with_what_to_send() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_database, server, cookie) = server_with_admin().await;
    let upgrade = "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n";
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let cases = [
        (String::new(), "426"),
        (format!("{upgrade}{key}Sec-WebSocket-Version: 8\r\n"), "426"),
        (format!("{upgrade}Sec-WebSocket-Version: 13\r\n"), "400"),
        (
            format!("{upgrade}{key}Sec-WebSocket-Version: 13\r\n"),
            "101",
        ),
    ];
    for (headers, status) in cases {
        let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {}\r\n{headers}Cookie: {cookie}\r\n\r\n",
            server.addr
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0; 1];
            if tcp.read(&mut byte).await.unwrap() == 0 {
                break;
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        assert!(
            head.starts_with(&format!("http/1.1 {status}")),
            "{headers:?}: {head}"
        );
        if status == "426" {
            assert!(head.contains("upgrade: websocket\r\n"), "{head}");
            assert!(head.contains("sec-websocket-version: 13\r\n"), "{head}");
        }
        if status == "101" {
            assert!(
                head.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"),
                "{head}"
            );
        }
    }
}

#[tokio::test]
async fn hello_names_the_protocol_and_the_user() {
    let (_database, server, cookie) = server_with_admin().await;
    let own = format!("http://{}", server.addr);
    let mut tab = Tab::connect(&server, Some(&cookie), Some(&own))
        .await
        .unwrap();
    match tab.next().await {
        ServerEvent::Hello {
            protocol_version,
            user,
            ..
        } => {
            assert_eq!(protocol_version, PROTOCOL_VERSION);
            assert_eq!(user.username, "root");
            assert!(user.is_admin);
        }
        other => panic!("expected hello, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_frames_get_errors_and_the_socket_stays_usable() {
    let (_database, server, cookie) = server_with_admin().await;
    let mut tab = Tab::connect(&server, Some(&cookie), None).await.unwrap();
    tab.next().await;

    let cases: [(Message, Option<RequestId>, ErrorCode); 5] = [
        (Message::text("{not json"), None, ErrorCode::MalformedJson),
        (
            Message::text(r#"{"type":"launch_rockets","request_id":7}"#),
            Some(RequestId(7)),
            ErrorCode::UnknownCommand,
        ),
        (
            Message::text(r#"{"type":"ping","request_id":"eight"}"#),
            None,
            ErrorCode::InvalidCommand,
        ),
        (
            Message::text(r#"{"type":"ping","request_id":9,"sneaky":true}"#),
            Some(RequestId(9)),
            ErrorCode::InvalidCommand,
        ),
        (
            Message::binary(vec![1, 2, 3]),
            None,
            ErrorCode::UnsupportedFrame,
        ),
    ];
    for (frame, want_id, want_code) in cases {
        tab.send_frame(frame.clone()).await;
        match tab.next().await {
            ServerEvent::Error {
                request_id, code, ..
            } => {
                assert_eq!((request_id, code), (want_id, want_code), "for {frame:?}");
            }
            other => panic!("expected an error for {frame:?}, got {other:?}"),
        }
    }
    tab.send_frame(Message::text(r#"{"type":"ping","request_id":10}"#))
        .await;
    assert_eq!(
        tab.next().await,
        ServerEvent::Pong {
            request_id: RequestId(10)
        }
    );
}

#[tokio::test]
async fn oversize_frames_close_the_socket_with_1009() {
    let (_database, server, cookie) = server_with_admin().await;
    let mut tab = Tab::connect(&server, Some(&cookie), None).await.unwrap();
    tab.next().await;
    let huge = format!(
        r#"{{"type":"ping","request_id":1,"pad":"{}"}}"#,
        "x".repeat(protocol::MAX_FRAME_BYTES)
    );
    tab.send_frame(Message::text(huge)).await;
    assert_eq!(tab.closed().await, 1009);
}

/// A peer that stops answering pings is dropped: a raw client that completes the handshake and
/// then never replies sees pings arrive, then the server closing the connection.
#[tokio::test]
async fn silent_peers_are_dropped_after_missed_pings() {
    use tokio::io::AsyncReadExt;
    let (_database, server, admin, _) =
        configured(|config| config.heartbeat_seconds = 0.2, &[]).await;
    let mut tcp = raw_upgrade(&server, admin.cookie.as_deref().unwrap()).await;
    // Read raw bytes, never answering: until the server hangs up (EOF) or resets.
    let mut received = Vec::new();
    let read_all = async {
        let mut chunk = [0u8; 4096];
        loop {
            match tcp.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
            }
        }
    };
    tokio::time::timeout(common::EVENT_TIMEOUT, read_all)
        .await
        .expect("the server drops a silent peer");
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 101"), "upgraded: {text}");
    assert!(text.contains(r#""type":"hello""#));
    // 0x89: a final frame with the ping opcode.
    assert!(received.contains(&0x89), "pings were sent before giving up");
}

/// A peer's unreadable frame gets the close code RFC 6455 names for it: 1007 for a text frame
/// that is not UTF-8, 1002 for a frame breaking the protocol (a reserved bit set without an
/// extension that defines it).
#[tokio::test]
async fn unreadable_frames_close_with_their_own_codes() {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let (_database, server, cookie) = server_with_admin().await;

    let mut tab = Tab::connect(&server, Some(&cookie), None).await.unwrap();
    tab.next().await;
    let not_utf8 = Frame::message(vec![b'{', 0xC3, 0x28, b'}'], OpCode::Data(Data::Text), true);
    tab.send_frame(Message::Frame(not_utf8)).await;
    assert_eq!(tab.closed().await, 1007);

    let mut tab = Tab::connect(&server, Some(&cookie), None).await.unwrap();
    tab.next().await;
    let mut reserved = Frame::message(b"{}".to_vec(), OpCode::Data(Data::Text), true);
    reserved.header_mut().rsv1 = true;
    tab.send_frame(Message::Frame(reserved)).await;
    assert_eq!(tab.closed().await, 1002);
}

/// The longest message, every character an emoji written as a JSON surrogate-pair escape
/// (legal JSON, 12 bytes a character), fits the frame limit and posts.
#[tokio::test]
async fn the_longest_message_fits_even_fully_escaped() {
    let (_database, server, mut admin, _) = configured(|_| {}, &[]).await;
    let room = server.create_room(&mut admin, "Emoji", false).await;
    let (mut tab, _) = Tab::open(&server, &admin).await;
    tab.join(room).await;
    let body = r"\ud83d\ude00".repeat(protocol::MAX_MESSAGE_CHARS);
    let frame = format!(
        r#"{{"type":"send","request_id":77,"room_id":{room},"body":"{body}","nonce":"emoji"}}"#
    );
    assert!(frame.len() > 48_000, "{} bytes", frame.len());
    tab.send_raw(&frame).await;
    let stored = tab
        .until(|event| match event {
            ServerEvent::Message { message } => Some(message),
            ServerEvent::Error { code, .. } => panic!("refused: {code:?}"),
            _ => None,
        })
        .await;
    assert_eq!(stored.body.chars().count(), protocol::MAX_MESSAGE_CHARS);
    assert!(stored.body.chars().all(|c| c == '\u{1F600}'));
}

/// Text of nothing but invisible characters (zero-width spaces and joiners, a BOM) is empty:
/// as a message, and as a room title.
#[tokio::test]
async fn invisible_text_counts_as_empty() {
    let (_database, server, mut admin, _) = configured(|_| {}, &[]).await;
    let room = server.create_room(&mut admin, "Visible", false).await;
    let (mut tab, _) = Tab::open(&server, &admin).await;
    tab.join(room).await;
    let sent = tab
        .say(room, "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}")
        .await;
    assert_eq!(tab.error_for(sent).await, ErrorCode::EmptyMessage);

    let created = admin
        .post_form("/admin/rooms", &[("title", "\u{200B}\u{200B}")])
        .await;
    assert_eq!(
        common::location(&created),
        "/admin/rooms?error=invalid_title"
    );
}

/// One user may hold only so many sockets on a node; the next is refused with a policy close.
#[tokio::test]
async fn sockets_per_user_are_capped() {
    let (_database, server, admin, _) =
        configured(|config| config.max_sockets_per_user = 2, &[]).await;
    let (_first, _) = Tab::open(&server, &admin).await;
    let (_second, _) = Tab::open(&server, &admin).await;
    let cookie = admin.cookie.clone().unwrap();
    let mut third = Tab::connect(&server, Some(&cookie), None).await.unwrap();
    assert_eq!(third.closed().await, 1008);
}

/// A peer that stopped reading but keeps the connection alive with pongs is dropped once the
/// server's writes to it make no progress: it must not hold its queue and megabytes of kernel
/// buffer forever.
#[tokio::test]
async fn a_stalled_reader_that_answers_pings_is_dropped() {
    use tokio::io::AsyncWriteExt;
    let (_database, server, mut admin, users) = configured(
        |config| {
            config.heartbeat_seconds = 0.2;
            config.sends_per_second = 10_000;
        },
        &["reader"],
    )
    .await;
    let room = server.create_room(&mut admin, "Busy", false).await;
    let (mut writer, _) = Tab::open(&server, &admin).await;
    writer.join(room).await;
    {
        let (mut joining, _) = Tab::open(&server, &users[0]).await;
        joining.join(room).await;
    }
    let reader_id = server.user_id(&mut admin, "reader").await;
    let cookie = users[0].cookie.clone().unwrap();

    let mut tcp = raw_upgrade(&server, &cookie).await;
    // An empty masked pong, sent unasked every 100 ms: the peer looks alive, and never reads.
    let pongs = tokio::spawn(async move {
        for _ in 0..600 {
            if tcp.write_all(&[0x8A, 0x80, 1, 2, 3, 4]).await.is_err() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    });
    let deadline = tokio::time::Instant::now() + common::EVENT_TIMEOUT;
    while server.state.hub.sockets_of(reader_id) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reader connects"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    // About 7 MB in 450 frames: more than the kernel buffers hold, fewer frames than the queue.
    let body = "\u{1F600}".repeat(protocol::MAX_MESSAGE_CHARS);
    for _ in 0..450 {
        writer.say(room, &body).await;
    }
    for _ in 0..450 {
        writer
            .until(|event| matches!(event, ServerEvent::Message { .. }).then_some(()))
            .await;
    }
    let deadline = tokio::time::Instant::now() + common::EVENT_TIMEOUT;
    while server.state.hub.sockets_of(reader_id) > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled reader is still connected"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    pongs.abort();
}
