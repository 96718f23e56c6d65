//! Storing messages: concurrent posts to several rooms, committed in batches, get gapless,
//! unique seqs per room; a post to a missing room, or by someone not a member, stores nothing
//! and leaves no gap. SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use protocol::{Member, RoomId, UserId};
use whisper::db::messages::{MessageWriter, Posted};
use whisper::db::{self, rooms, users};

on_both_databases!(concurrent_posts_get_gapless_seqs_per_room);

async fn concurrent_posts_get_gapless_seqs_per_room(url: String) {
    let db = db::connect(&url).await.unwrap();
    let author = users::create(
        &db,
        users::NewUser {
            username: "poster",
            password_hash: "not-a-real-hash".into(),
            is_admin: false,
            is_staff: false,
        },
    )
    .await
    .unwrap()
    .member();
    let outsider = users::create(
        &db,
        users::NewUser {
            username: "outsider",
            password_hash: "not-a-real-hash".into(),
            is_admin: false,
            is_staff: false,
        },
    )
    .await
    .unwrap()
    .member();
    let mut room_ids = Vec::new();
    for title in ["a", "b", "c"] {
        let room = rooms::create(&db, title, protocol::RoomKind::Open, None)
            .await
            .unwrap();
        rooms::add_member(&db, &room, author.id).await.unwrap();
        room_ids.push(room.id());
    }
    let writer = MessageWriter::start(db.clone(), &whisper::metrics::Metrics::default());
    let mut posts = Vec::new();
    let mut refused = Vec::new();
    for index in 0..300 {
        // Interleaved with the members' posts, so they share batches.
        if index % 10 == 0 {
            let (writer, outsider) = (writer.clone(), outsider.clone());
            let room = room_ids[index % 3];
            refused.push(tokio::spawn(async move {
                writer
                    .post(room, &outsider, "not a member", &format!("o{index}"))
                    .await
            }));
        }
        let (writer, author) = (writer.clone(), author.clone());
        let room = room_ids[index % 3];
        posts.push(tokio::spawn(async move {
            writer
                .post(
                    room,
                    &author,
                    &format!("message {index}"),
                    &format!("n{index}"),
                )
                .await
        }));
    }
    let missing = writer
        .post(
            RoomId(999_999),
            &Member {
                id: UserId(author.id.0),
                username: "poster".into(),
            },
            "lost?",
            "n-missing",
        )
        .await
        .unwrap();
    assert!(missing.is_none(), "a post to a missing room stores nothing");
    for post in refused {
        assert!(
            post.await.unwrap().unwrap().is_none(),
            "a post by a non-member stores nothing"
        );
    }

    let mut seqs: Vec<Vec<i64>> = vec![Vec::new(); 3];
    for post in posts {
        let Some(Posted::New(message)) = post.await.unwrap().unwrap() else {
            panic!("stored as new");
        };
        let slot = room_ids
            .iter()
            .position(|room| *room == message.room_id)
            .unwrap();
        seqs[slot].push(message.seq);
    }
    let mut latest_pages = db::messages::latest_of_each(&db, &room_ids, 50)
        .await
        .unwrap();
    for (slot, mut room_seqs) in seqs.into_iter().enumerate() {
        room_seqs.sort_unstable();
        assert_eq!(
            room_seqs,
            (1..=100).collect::<Vec<i64>>(),
            "room {slot}: 1..=100, once each"
        );
        let latest = latest_pages.remove(&room_ids[slot]).unwrap_or_default();
        assert_eq!(latest.len(), 50);
        // Room `slot` got posts number `slot`, `slot + 3`, …: none of another room's.
        let posted_here = |message: &protocol::ChatMessage| {
            let number: usize = message.body["message ".len()..].parse().unwrap();
            number % 3 == slot
        };
        assert!(latest.iter().all(posted_here), "only this room's posts");
        assert_eq!(
            (latest[0].seq, latest[49].seq),
            (51, 100),
            "latest 50, oldest first"
        );
    }
}
