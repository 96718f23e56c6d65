//! Storing messages: concurrent posts to several rooms, committed in batches, get gapless,
//! unique seqs per room; a post to a missing room, or by someone not a member, stores nothing
//! and leaves no gap. SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use protocol::{Member, RoomId, UserId};
use whisper::db::message_writer::{MessageWriter, Posted};
use whisper::db::{self, rooms, users};

on_both_databases!(
    concurrent_posts_get_gapless_seqs_per_room,
    a_post_reads_back_as_it_was_answered,
);

async fn user(db: &sea_orm::DatabaseConnection, name: &str) -> Member {
    let new = users::NewUser {
        username: name,
        password_hash: "not-a-real-hash".into(),
        is_admin: false,
        is_staff: false,
    };
    users::create(db, new).await.unwrap().member()
}

async fn concurrent_posts_get_gapless_seqs_per_room(url: String) {
    let db = db::connect(&url).await.unwrap();
    let author = user(&db, "poster").await;
    let outsider = user(&db, "outsider").await;
    let mut room_ids = Vec::new();
    for title in ["a", "b", "c"] {
        let room = rooms::create(&db, title, protocol::RoomKind::Open, None)
            .await
            .unwrap();
        rooms::add_member(&db, &room, author.id).await.unwrap();
        room_ids.push(room.id());
    }
    let writer = MessageWriter::start(&url, &db, &whisper::metrics::Metrics::default())
        .await
        .unwrap();
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

/// What the writer answers is what the room's history shows (read through the shared pool, not
/// the writer's connection): the same instants, the same mentions in the order written. A
/// retried nonce is answered with that message, mentions and all.
async fn a_post_reads_back_as_it_was_answered(url: String) {
    let db = db::connect(&url).await.unwrap();
    let ann = user(&db, "Ann").await;
    let bob = user(&db, "Bob").await;
    let carol = user(&db, "carol").await;
    let room = rooms::create(&db, "talk", protocol::RoomKind::Open, None)
        .await
        .unwrap();
    for member in [&ann, &bob] {
        rooms::add_member(&db, &room, member.id).await.unwrap();
    }
    let writer = MessageWriter::start(&url, &db, &whisper::metrics::Metrics::default())
        .await
        .unwrap();

    let body = "hi @bob, @carol and @ANN";
    let Some(Posted::New(posted)) = writer.post(room.id(), &ann, body, "n-1").await.unwrap() else {
        panic!("stored as new");
    };
    assert_eq!(
        posted.mentions,
        [bob.clone(), ann.clone()],
        "members only (carol is not one), in the order written"
    );
    let again = writer
        .post(room.id(), &ann, "edited?", "n-1")
        .await
        .unwrap();
    assert_eq!(again, Some(Posted::Duplicate(posted.clone())));
    let by_carol = writer.post(room.id(), &carol, "let me in", "n-2").await;
    assert_eq!(by_carol.unwrap(), None, "a non-member posts nothing");

    let history = db::messages::after(&db, room.id(), 0, None, 10)
        .await
        .unwrap();
    assert_eq!(history, [posted]);
}

/// SQLite in memory takes the other writer (sea-orm's, on the main pool).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_reads_back_as_it_was_answered_in_memory() {
    a_post_reads_back_as_it_was_answered("sqlite::memory:".into()).await;
}
