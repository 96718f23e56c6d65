//! The queries that answer many users at once (the reads a storm of greetings shares, see
//! `whisper::chat::shared_reads`) give each user exactly what a query of their own gives, and
//! nothing of anyone else's. SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, Utc};
use common::{Tab, server_with_users};
use protocol::{ReadState, RoomId, UserId};
use std::collections::BTreeMap;
use whisper::config::Config;
use whisper::db::users::Flag;
use whisper::db::{messages, read_state, rooms, sessions, users};

on_both_databases!(
    each_user_gets_their_own_rooms_and_counts_from_one_query,
    each_room_gets_its_own_latest_page_from_one_query,
    only_live_sessions_of_enabled_users_are_found,
);

/// ann is in the lobby and ops, bob in the lobby, cy in no room. bob is mentioned once in the
/// lobby, ann not at all. Asked together (three users, so the query is padded to four), each
/// gets what they get alone; and each room its own members.
async fn each_user_gets_their_own_rooms_and_counts_from_one_query(url: String) {
    let (server, mut admin, clients) =
        server_with_users(Config::for_database(url), &["ann", "bob", "cy"]).await;
    let lobby = server.create_room(&mut admin, "Lobby", false).await;
    let ops = server.create_room(&mut admin, "Ops", false).await;
    let (mut ann, _) = Tab::open(&server, &clients[0]).await;
    let (mut bob, _) = Tab::open(&server, &clients[1]).await;
    // bob joins first: the members must come by username, not by when they joined.
    bob.join(lobby).await;
    ann.join(lobby).await;
    ann.join(ops).await;
    ann.post(lobby, "hello @bob").await;
    bob.post(lobby, "hi").await;
    ann.post(ops, "note to self").await;
    let mut ids = Vec::new();
    for name in ["ann", "bob", "cy"] {
        ids.push(server.user_id(&mut admin, name).await);
    }
    let db = whisper::db::connect(&server.database_url).await.unwrap();

    let together = by_user_and_room(read_state::all_of(&db, &ids).await.unwrap());
    let mut alone = BTreeMap::new();
    for id in &ids {
        alone.extend(by_user_and_room(
            read_state::all_of(&db, &[*id]).await.unwrap(),
        ));
    }
    assert_eq!(together, alone);
    let (ann_id, bob_id) = (ids[0], ids[1]);
    let counts = |user, room| {
        let state: &ReadState = &together[&(user, room)];
        (state.unread, state.mentions)
    };
    assert_eq!(counts(ann_id, lobby), (1, 0), "bob's hi, no mention");
    assert_eq!(counts(ann_id, ops), (0, 0), "her own note");
    assert_eq!(counts(bob_id, lobby), (1, 1), "ann's mention of bob");
    assert_eq!(together.len(), 3, "cy is in no room: {together:?}");
    assert!(read_state::all_of(&db, &[]).await.unwrap().is_empty());

    let rooms_together = room_ids(rooms::rooms_of_each(&db, &ids).await.unwrap());
    let mut rooms_alone = BTreeMap::new();
    for id in &ids {
        rooms_alone.extend(room_ids(rooms::rooms_of_each(&db, &[*id]).await.unwrap()));
    }
    assert_eq!(rooms_together, rooms_alone);
    let mut ann_rooms = vec![lobby, ops];
    ann_rooms.sort();
    assert_eq!(rooms_together[&ann_id], ann_rooms);
    assert_eq!(rooms_together[&bob_id], [lobby]);
    assert!(!rooms_together.contains_key(&ids[2]), "cy is in no room");

    let mut members: BTreeMap<RoomId, Vec<String>> = BTreeMap::new();
    for (room, member) in rooms::members_of_each(&db, &[ops, lobby]).await.unwrap() {
        members.entry(room).or_default().push(member.username);
    }
    assert_eq!(members[&lobby], ["ann", "bob"], "by username");
    assert_eq!(members[&ops], ["ann"]);
}

/// Three rooms' latest pages asked together (the query padded to four): each room gets its own
/// newest messages only, oldest first, exactly as they were posted, edited and deleted (with
/// their authors and mentions); a room without messages gets no page.
async fn each_room_gets_its_own_latest_page_from_one_query(url: String) {
    let (server, mut admin, clients) =
        server_with_users(Config::for_database(url), &["ann", "bob"]).await;
    let lobby = server.create_room(&mut admin, "Lobby", false).await;
    let ops = server.create_room(&mut admin, "Ops", false).await;
    let quiet = server.create_room(&mut admin, "Quiet", false).await;
    let (mut ann, _) = Tab::open(&server, &clients[0]).await;
    let (mut bob, _) = Tab::open(&server, &clients[1]).await;
    ann.join(lobby).await;
    ann.join(ops).await;
    bob.join(lobby).await;
    let mut lobby_posts = Vec::new();
    for n in 0..4 {
        lobby_posts.push(ann.post(lobby, &format!("lobby {n}, @bob")).await);
    }
    lobby_posts.push(bob.post(lobby, "last").await);
    let ops_post = ann.post(ops, "ops only").await;
    let db = whisper::db::connect(&server.database_url).await.unwrap();
    let author = lobby_posts[3].author.clone();
    let edited = messages::edit(&db, lobby_posts[3].id, author.clone(), "edited", &[])
        .await
        .unwrap()
        .expect("edited");
    let deleted = messages::delete(&db, lobby_posts[2].id, author)
        .await
        .unwrap()
        .expect("deleted");

    // The lobby last: the padding arm comes after it.
    let mut pages = messages::latest_of_each(&db, &[quiet, ops, lobby], 3)
        .await
        .unwrap();
    let lobby_page = pages.remove(&lobby).expect("the lobby's page");
    assert_eq!(lobby_page, [deleted, edited, lobby_posts[4].clone()]);
    assert!(lobby_page[0].deleted && lobby_page[0].body.is_empty());
    assert_eq!(lobby_page[2].author.username, "bob");
    assert_eq!(pages.remove(&ops).expect("ops' page"), [ops_post]);
    assert!(pages.is_empty(), "the quiet room has no page: {pages:?}");

    let mentioned = &messages::latest_of_each(&db, &[lobby], 5).await.unwrap()[&lobby][0];
    assert_eq!(mentioned.body, "lobby 0, @bob");
    let names: Vec<&str> = mentioned
        .mentions
        .iter()
        .map(|m| m.username.as_str())
        .collect();
    assert_eq!(names, ["bob"], "the mention as stored");
}

/// Of five sessions asked together, the live ones of enabled users are found, each with its own
/// user: not an expired one, not a disabled user's, not an unknown one.
async fn only_live_sessions_of_enabled_users_are_found(url: String) {
    let (server, mut admin, _) =
        server_with_users(Config::for_database(url), &["ann", "bob", "cy"]).await;
    let mut ids = Vec::new();
    for name in ["ann", "bob", "cy"] {
        ids.push(server.user_id(&mut admin, name).await);
    }
    let db = whisper::db::connect(&server.database_url).await.unwrap();
    let later = Utc::now() + Duration::hours(1);
    let earlier = Utc::now() - Duration::seconds(1);
    for (hash, user, expires) in [
        ("ann-live", ids[0], later),
        ("ann-expired", ids[0], earlier),
        ("bob-live", ids[1], later),
        ("cy-live", ids[2], later),
    ] {
        sessions::create(&db, hash.to_owned(), user, expires)
            .await
            .unwrap();
    }
    users::set_flag(&db, ids[2], Flag::Disabled, true)
        .await
        .unwrap();

    let asked = ["ann-live", "ann-expired", "bob-live", "cy-live", "unknown"].map(str::to_owned);
    let mut found: Vec<(String, UserId)> = sessions::users_of(&db, &asked)
        .await
        .unwrap()
        .into_iter()
        .map(|(hash, user)| (hash, UserId(user.id)))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("ann-live".to_owned(), ids[0]),
            ("bob-live".to_owned(), ids[1])
        ]
    );
}

/// Each read state (position, newest seq, counts, notify level) by (user, room).
fn by_user_and_room(states: Vec<(UserId, ReadState)>) -> BTreeMap<(UserId, RoomId), ReadState> {
    states
        .into_iter()
        .map(|(user, state)| ((user, state.room_id), state))
        .collect()
}

/// Each user's room ids, sorted.
fn room_ids(rows: Vec<(UserId, rooms::Room)>) -> BTreeMap<UserId, Vec<RoomId>> {
    let mut by_user: BTreeMap<UserId, Vec<RoomId>> = BTreeMap::new();
    for (user, room) in rows {
        by_user.entry(user).or_default().push(room.id());
    }
    for rooms in by_user.values_mut() {
        rooms.sort();
    }
    by_user
}
