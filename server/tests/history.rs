//! Paging back through a room's history: the latest page comes with `joined`, older pages by
//! keyset on seq, and the pages add up to every message exactly once. SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Tab, TestServer};
use protocol::{ClientCommand, ErrorCode, HISTORY_PAGE, RoomId, ServerEvent};
use whisper::db::{self, message_writer::MessageWriter};

on_both_databases!(history_pages_cover_every_message_once);

/// Joins `room` and pages back to its beginning; returns the seqs seen, oldest first, and the
/// size of each page.
async fn read_back(tab: &mut Tab, room: RoomId) -> (Vec<i64>, Vec<usize>) {
    tab.command(|request_id| ClientCommand::Join {
        request_id,
        room_id: room,
    })
    .await;
    let recent = tab
        .until(|event| match event {
            ServerEvent::Joined {
                room: info, recent, ..
            } if info.id == room => Some(recent),
            _ => None,
        })
        .await;
    let mut seqs: Vec<i64> = recent.iter().map(|m| m.seq).collect();
    let mut pages = vec![recent.len()];
    let mut complete = recent.len() < HISTORY_PAGE;
    while !complete {
        let before_seq = seqs.first().copied().unwrap_or(i64::MAX);
        let asked = tab
            .command(|request_id| ClientCommand::History {
                request_id,
                room_id: room,
                before_seq,
            })
            .await;
        let (messages, done) = tab
            .until(|event| match event {
                ServerEvent::History {
                    request_id,
                    messages,
                    complete,
                    ..
                } if request_id == asked => Some((messages, complete)),
                _ => None,
            })
            .await;
        assert!(messages.iter().all(|m| m.seq < before_seq));
        pages.push(messages.len());
        let mut older: Vec<i64> = messages.iter().map(|m| m.seq).collect();
        older.extend(seqs);
        seqs = older;
        complete = done;
    }
    (seqs, pages)
}

async fn history_pages_cover_every_message_once(url: String) {
    let server = TestServer::start(url).await;
    let mut admin = server.setup_admin("root", "s3cret-pass").await;
    let db = db::connect(&server.database_url).await.unwrap();
    let root = db::users::find_by_username(&db, "root")
        .await
        .unwrap()
        .unwrap()
        .member();
    let metrics = whisper::metrics::Metrics::default();
    let writer = MessageWriter::start(&server.database_url, &db, &metrics)
        .await
        .unwrap();
    let (mut tab, _) = Tab::open(&server, &admin).await;

    for (count, want_pages) in [
        (0, vec![0]),
        (50, vec![50, 0]),
        (51, vec![50, 1]),
        (120, vec![50, 50, 20]),
    ] {
        let room = server
            .create_room(&mut admin, &format!("room with {count}"), false)
            .await;
        // Only members post: the writer checks as it commits.
        tab.join(room).await;
        for index in 1..=count {
            writer
                .post(
                    room,
                    &root,
                    &format!("message {index}"),
                    &format!("{room}-{index}"),
                )
                .await
                .unwrap()
                .expect("stored");
        }
        let (seqs, pages) = read_back(&mut tab, room).await;
        assert_eq!(
            seqs,
            (1..=count).collect::<Vec<i64>>(),
            "{count} messages, in order, once each"
        );
        assert_eq!(pages, want_pages, "page sizes for {count} messages");
    }

    // Not a member: refused, like sending.
    let outsider = server.create_room(&mut admin, "not joined", false).await;
    let asked = tab
        .command(|request_id| ClientCommand::History {
            request_id,
            room_id: outsider,
            before_seq: 10,
        })
        .await;
    assert_eq!(tab.error_for(asked).await, ErrorCode::NotJoined);
}
