//! Message search and opening a message in place, over real sockets on SQLite and PostgreSQL:
//! what matches (substrings in any case and script, syntax characters as text, short words),
//! the filters, that only what the user may read now is found, paging, bad queries, and the
//! page around a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Tab, TestServer, generous_limits, server_with_users};
use protocol::{
    ClientCommand, ErrorCode, HISTORY_PAGE, MessageId, RoomId, RoomKind, SEARCH_PAGE, SearchHit,
    ServerEvent, UserId,
};

on_both_databases!(
    words_match_as_substrings_in_any_case_and_script,
    syntax_characters_are_just_text,
    short_words_are_matched_within_what_the_rest_narrows,
    filters_narrow_by_author_and_room,
    only_what_the_user_may_read_now_is_found,
    edits_and_deletions_change_what_is_found,
    results_page_newest_first_without_repeats,
    bad_queries_are_refused_with_their_reason,
    around_opens_a_page_on_each_side,
    the_migration_indexes_messages_stored_before_it,
);

/// A server with these users signed in, each in one tab that has joined every one of the open
/// rooms `titles` (created by the admin, in this order).
async fn in_rooms(
    db: &str,
    names: &[&str],
    titles: &[&str],
) -> (TestServer, Vec<RoomId>, Vec<Tab>) {
    let (server, mut admin, users) = server_with_users(generous_limits(db), names).await;
    let mut rooms = Vec::new();
    for title in titles {
        rooms.push(server.create_room(&mut admin, title, false).await);
    }
    let mut tabs = Vec::new();
    for user in &users {
        let (mut tab, _) = Tab::open(&server, user).await;
        for room in &rooms {
            tab.join(*room).await;
        }
        tabs.push(tab);
    }
    (server, rooms, tabs)
}

/// One page of a search: its hits and whether more follow, or the error's code.
async fn search_page(
    tab: &mut Tab,
    query: &str,
    room: Option<RoomId>,
    before: Option<MessageId>,
) -> Result<(Vec<SearchHit>, Option<MessageId>), ErrorCode> {
    let query = query.to_owned();
    let request = tab
        .command(|request_id| ClientCommand::Search {
            request_id,
            query,
            room_id: room,
            before,
        })
        .await;
    tab.until(|event| match event {
        ServerEvent::SearchResults {
            request_id,
            hits,
            next,
        } if request_id == request => Some(Ok((hits, next))),
        ServerEvent::Error {
            request_id: Some(id),
            code,
            ..
        } if id == request => Some(Err(code)),
        _ => None,
    })
    .await
}

/// The bodies a search's first page finds, newest first.
async fn found(tab: &mut Tab, query: &str) -> Vec<String> {
    let (hits, _) = search_page(tab, query, None, None)
        .await
        .unwrap_or_else(|code| panic!("{query:?} refused: {code:?}"));
    hits.into_iter().map(|hit| hit.message.body).collect()
}

/// A signed-in tab's user id, from its greeting.
fn user_of(hello: &ServerEvent) -> UserId {
    match hello {
        ServerEvent::Hello { user, .. } => user.id,
        other => panic!("not a greeting: {other:?}"),
    }
}

async fn words_match_as_substrings_in_any_case_and_script(db: String) {
    let (_server, rooms, mut tabs) = in_rooms(&db, &["ada"], &["general"]).await;
    let (room, mut tab) = (rooms[0], tabs.remove(0));
    for body in [
        "Deploying the release tonight",
        "明日東京で会いましょう",
        "Un CAFÉ crème, s'il vous plaît",
        "party time 🎉🎉🎉 tonight",
        "the deploy failed, rolling back",
        "ΣΊΣΥΦΟΣ was here",
    ] {
        tab.post(room, body).await;
    }
    assert_eq!(
        found(&mut tab, "DEPLOY").await,
        [
            "the deploy failed, rolling back",
            "Deploying the release tonight"
        ],
        "any case, newest first"
    );
    assert_eq!(
        found(&mut tab, "ploy").await.len(),
        2,
        "part of a word finds it"
    );
    assert_eq!(found(&mut tab, "東京").await, ["明日東京で会いましょう"]);
    assert_eq!(found(&mut tab, "会いまし").await.len(), 1);
    assert_eq!(
        found(&mut tab, "café CRÈME").await,
        ["Un CAFÉ crème, s'il vous plaît"],
        "accents fold case like any letter"
    );
    assert_eq!(found(&mut tab, "σίσυφος").await, ["ΣΊΣΥΦΟΣ was here"]);
    assert_eq!(found(&mut tab, "🎉🎉🎉").await.len(), 1);
    assert_eq!(
        found(&mut tab, "tonight deploy").await,
        ["Deploying the release tonight"],
        "every word must occur"
    );
    assert!(found(&mut tab, "tonight nowhere").await.is_empty());

    // The snippet marks what matched, as text.
    let (hits, _) = search_page(&mut tab, "deploy", None, None).await.unwrap();
    let marked: Vec<&str> = hits[1]
        .snippet
        .iter()
        .filter(|fragment| fragment.hit)
        .map(|fragment| fragment.text.as_str())
        .collect();
    assert_eq!(marked, ["Deploy"]);
    assert_eq!(hits[1].room_title, "general");
}

async fn syntax_characters_are_just_text(db: String) {
    let (_server, rooms, mut tabs) = in_rooms(&db, &["ada"], &["general"]).await;
    let (room, mut tab) = (rooms[0], tabs.remove(0));
    for body in [
        "say \"hello\" NOT goodbye",
        "glob a*b and 100% sure_thing",
        "-flag (unbalanced and key:value",
        "a back\\slash here",
        "plain words only",
    ] {
        tab.post(room, body).await;
    }
    for (query, want) in [
        ("\"hello\"", "say \"hello\" NOT goodbye"),
        ("NOT goodbye", "say \"hello\" NOT goodbye"),
        ("a*b", "glob a*b and 100% sure_thing"),
        ("100%", "glob a*b and 100% sure_thing"),
        ("sure_thing", "glob a*b and 100% sure_thing"),
        ("-flag", "-flag (unbalanced and key:value"),
        ("(unbalanced", "-flag (unbalanced and key:value"),
        ("key:value", "-flag (unbalanced and key:value"),
        ("back\\slash", "a back\\slash here"),
    ] {
        assert_eq!(found(&mut tab, query).await, [want], "{query}");
    }
    // Wildcards are characters: "100%" is not "100 anything", "_" not any character.
    tab.post(room, "100 points").await;
    tab.post(room, "surexthing").await;
    assert_eq!(found(&mut tab, "100%").await.len(), 1);
    assert_eq!(found(&mut tab, "sure_thing").await.len(), 1);
    assert!(found(&mut tab, "NOT plain").await.is_empty());
}

async fn short_words_are_matched_within_what_the_rest_narrows(db: String) {
    let (_server, rooms, mut tabs) = in_rooms(&db, &["ada", "ben"], &["general", "random"]).await;
    let (general, random) = (rooms[0], rooms[1]);
    let (mut ada, mut ben) = (tabs.remove(0), tabs.remove(0));
    ada.post(general, "go team meeting").await;
    ada.post(general, "team lunch").await;
    ben.post(random, "Go Go Go").await;
    ben.post(random, "猫 photos").await;
    assert_eq!(
        found(&mut ada, "team GO").await,
        ["go team meeting"],
        "a two-letter word narrowed by a longer one"
    );
    let (hits, _) = search_page(&mut ada, "go", Some(random), None)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1, "or by the chosen room");
    assert_eq!(found(&mut ada, "go in:random").await, ["Go Go Go"]);
    assert_eq!(found(&mut ada, "from:ben 猫").await, ["猫 photos"]);
    assert_eq!(
        found(&mut ada, "GO").await,
        ["Go Go Go", "go team meeting"],
        "alone, it reads the newest messages a stretch at a time"
    );
    assert_eq!(found(&mut ada, "猫").await, ["猫 photos"]);
}

async fn filters_narrow_by_author_and_room(db: String) {
    let (_server, rooms, mut tabs) =
        in_rooms(&db, &["ada", "ben"], &["general", "General 2"]).await;
    let (general, general_two) = (rooms[0], rooms[1]);
    let (mut ada, mut ben) = (tabs.remove(0), tabs.remove(0));
    ada.post(general, "status report from ada").await;
    ben.post(general, "status report from ben").await;
    ben.post(general_two, "status report, second room").await;
    assert_eq!(
        found(&mut ada, "from:BEN status").await,
        ["status report, second room", "status report from ben"]
    );
    assert_eq!(
        found(&mut ada, "from:@ben").await.len(),
        2,
        "an author alone lists their messages"
    );
    assert_eq!(
        found(&mut ada, "status in:GENERAL").await.len(),
        2,
        "an exact title wins over titles containing it"
    );
    assert_eq!(
        found(&mut ada, "status in:eral").await.len(),
        3,
        "else every title containing it"
    );
    assert_eq!(
        found(&mut ada, "status in:general from:ada").await,
        ["status report from ada"]
    );
    let (hits, _) = search_page(&mut ada, "status", Some(general_two), None)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1, "the room chosen from the menu");
    assert!(found(&mut ada, "status from:nobody").await.is_empty());
    assert!(found(&mut ada, "status in:nowhere").await.is_empty());
}

async fn only_what_the_user_may_read_now_is_found(db: String) {
    let (server, mut admin, users) =
        server_with_users(generous_limits(&db), &["ada", "ben", "cy"]).await;
    let (ada, ben, cy) = (&users[0], &users[1], &users[2]);
    let open = server.create_room(&mut admin, "open", false).await;
    let staff = server.create_room(&mut admin, "staff", true).await;
    let (mut root, _) = Tab::open(&server, &admin).await;
    let (mut ada_tab, _) = Tab::open(&server, ada).await;
    let (mut ben_tab, ben_hello) = Tab::open(&server, ben).await;
    let (mut cy_tab, _) = Tab::open(&server, cy).await;
    let closed = ada_tab
        .create_room("secret", RoomKind::Closed, &[user_of(&ben_hello)])
        .await;
    let direct_request = ada_tab
        .command(|request_id| ClientCommand::OpenDirect {
            request_id,
            with: vec![user_of(&ben_hello)],
        })
        .await;
    let direct = ada_tab
        .until(|event| match event {
            ServerEvent::Joined {
                request_id: Some(id),
                room,
                ..
            } if id == direct_request => Some(room.id),
            _ => None,
        })
        .await;
    ada_tab.join(open).await;
    cy_tab.join(open).await;
    root.join(staff).await;
    ada_tab.post(open, "needle in the open room").await;
    ada_tab.post(closed, "needle in the closed room").await;
    ada_tab.post(direct, "needle in a direct message").await;
    root.post(staff, "needle for staff").await;

    assert_eq!(
        found(&mut ben_tab, "needle").await.len(),
        2,
        "closed and direct"
    );
    assert_eq!(
        found(&mut cy_tab, "needle").await,
        ["needle in the open room"],
        "private rooms stay private"
    );
    assert_eq!(
        found(&mut root, "needle").await,
        ["needle for staff"],
        "an admin reads only their own rooms"
    );
    // Open rooms too are read by members only.
    assert_eq!(found(&mut ben_tab, "open room").await, Vec::<String>::new());

    // Removed from the closed room: its messages are gone from ben's results at once.
    let request = ada_tab
        .command(|request_id| ClientCommand::RemoveMember {
            request_id,
            room_id: closed,
            user_id: user_of(&ben_hello),
        })
        .await;
    ada_tab.outcome(request).await.unwrap();
    assert_eq!(
        found(&mut ben_tab, "needle").await,
        ["needle in a direct message"]
    );
    assert!(
        search_page(&mut ben_tab, "needle", Some(closed), None)
            .await
            .unwrap()
            .0
            .is_empty(),
        "not even by naming the room"
    );
}

async fn edits_and_deletions_change_what_is_found(db: String) {
    let (_server, rooms, mut tabs) = in_rooms(&db, &["ada"], &["general"]).await;
    let (room, mut tab) = (rooms[0], tabs.remove(0));
    let typo = tab.post(room, "the meetign is at noon").await;
    let gone = tab.post(room, "secret password hunter2").await;
    let id = typo.id;
    let request = tab
        .command(|request_id| ClientCommand::Edit {
            request_id,
            message_id: id,
            body: "the meeting is at noon".into(),
        })
        .await;
    tab.outcome(request).await.unwrap();
    let id = gone.id;
    let request = tab
        .command(|request_id| ClientCommand::Delete {
            request_id,
            message_id: id,
        })
        .await;
    tab.outcome(request).await.unwrap();
    assert_eq!(found(&mut tab, "meeting").await, ["the meeting is at noon"]);
    assert!(found(&mut tab, "meetign").await.is_empty(), "the old text");
    assert!(found(&mut tab, "hunter2").await.is_empty(), "deleted");
    assert!(found(&mut tab, "from:ada secret").await.is_empty());
}

async fn results_page_newest_first_without_repeats(db: String) {
    let (_server, rooms, mut tabs) = in_rooms(&db, &["ada"], &["general"]).await;
    let (room, mut tab) = (rooms[0], tabs.remove(0));
    let total = 2 * SEARCH_PAGE + 5;
    for n in 0..total {
        tab.post(room, &format!("paged message {n}")).await;
        tab.post(room, &format!("unrelated {n}")).await;
    }
    let mut seen: Vec<String> = Vec::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let (hits, next) = search_page(&mut tab, "paged", None, before).await.unwrap();
        pages += 1;
        assert_eq!(next.is_some(), pages < 3);
        assert_eq!(
            next,
            hits.last().filter(|_| pages < 3).map(|hit| hit.message.id)
        );
        seen.extend(hits.into_iter().map(|hit| hit.message.body));
        before = next;
        if before.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    let want: Vec<String> = (0..total)
        .rev()
        .map(|n| format!("paged message {n}"))
        .collect();
    assert_eq!(seen, want, "every match once, newest first");
}

async fn bad_queries_are_refused_with_their_reason(db: String) {
    let mut limited = generous_limits(&db);
    limited.searches_per_second = 2;
    let (server, mut admin, users) = server_with_users(limited, &["ada"]).await;
    let room = server.create_room(&mut admin, "general", false).await;
    let (mut tab, _) = Tab::open(&server, &users[0]).await;
    tab.join(room).await;
    let long = "x".repeat(protocol::MAX_SEARCH_CHARS + 1);
    let many = ["word"; protocol::MAX_SEARCH_WORDS + 1].join(" ");
    for (query, code) in [
        ("", ErrorCode::EmptyQuery),
        ("   ", ErrorCode::EmptyQuery),
        ("in:general", ErrorCode::EmptyQuery),
        (long.as_str(), ErrorCode::QueryTooLong),
        (many.as_str(), ErrorCode::TooManyWords),
    ] {
        assert_eq!(
            search_page(&mut tab, query, None, None).await.unwrap_err(),
            code,
            "{query:?}"
        );
    }
    // A flood is refused, and the socket keeps working.
    let mut limited = false;
    for _ in 0..20 {
        if search_page(&mut tab, "anything", None, None).await == Err(ErrorCode::RateLimited) {
            limited = true;
            break;
        }
    }
    assert!(limited, "searches are rate-limited");
    tab.post(room, "still here").await;
}

/// The seqs of the page around `seq` and whether it reaches the room's beginning, or the
/// error's code.
async fn around(tab: &mut Tab, room: RoomId, seq: i64) -> Result<(Vec<i64>, bool), ErrorCode> {
    let request = tab
        .command(|request_id| ClientCommand::Around {
            request_id,
            room_id: room,
            seq,
        })
        .await;
    tab.until(|event| match event {
        ServerEvent::Around {
            request_id,
            messages,
            beginning,
            ..
        } if request_id == request => Some(Ok((
            messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
            beginning,
        ))),
        ServerEvent::Error {
            request_id: Some(id),
            code,
            ..
        } if id == request => Some(Err(code)),
        _ => None,
    })
    .await
}

async fn around_opens_a_page_on_each_side(db: String) {
    let (server, mut admin, users) = server_with_users(generous_limits(&db), &["ada", "cy"]).await;
    let room = server.create_room(&mut admin, "general", false).await;
    let (mut tab, _) = Tab::open(&server, &users[0]).await;
    tab.join(room).await;
    for n in 1..=120 {
        tab.post(room, &format!("m{n}")).await;
    }
    let half = HISTORY_PAGE as i64 / 2;
    let (seqs, beginning) = around(&mut tab, room, 60).await.unwrap();
    assert_eq!(seqs, ((60 - half)..(60 + half)).collect::<Vec<_>>());
    assert!(!beginning);
    let (seqs, beginning) = around(&mut tab, room, 3).await.unwrap();
    assert_eq!(
        seqs,
        (1..=HISTORY_PAGE as i64).collect::<Vec<_>>(),
        "a full page"
    );
    assert!(beginning);
    let (seqs, _) = around(&mut tab, room, 118).await.unwrap();
    assert_eq!(seqs, ((118 - half)..=120).collect::<Vec<_>>(), "to the end");
    let (mut cy, _) = Tab::open(&server, &users[1]).await;
    assert_eq!(
        around(&mut cy, room, 60).await.unwrap_err(),
        ErrorCode::NotJoined,
        "members only"
    );
}

async fn the_migration_indexes_messages_stored_before_it(db: String) {
    use migration::{Migrator, MigratorTrait};
    let (_server, rooms, mut tabs) = in_rooms(&db, &["ada"], &["general"]).await;
    let (room, mut tab) = (rooms[0], tabs.remove(0));
    tab.post(room, "Written BEFORE search existed").await;
    let gone = tab.post(room, "deleted before search existed").await;
    let id = gone.id;
    let request = tab
        .command(|request_id| ClientCommand::Delete {
            request_id,
            message_id: id,
        })
        .await;
    tab.outcome(request).await.unwrap();
    // Back to the schema before search (through both of its migrations), and forward again:
    // the text is folded and indexed. On one connection of its own: a SQLite connection checks
    // `ADD COLUMN` against the schema it last read, so a pooled one that had not read since the
    // column was dropped would refuse to add it again.
    let mut one = sea_orm::ConnectOptions::new(&db);
    one.max_connections(1);
    let migrations = sea_orm::Database::connect(one).await.unwrap();
    Migrator::down(&migrations, Some(2)).await.unwrap();
    Migrator::up(&migrations, None).await.unwrap();
    migrations.close().await.unwrap();
    assert_eq!(
        found(&mut tab, "before search").await,
        ["Written BEFORE search existed"],
        "old messages are found, deleted ones are not"
    );
    tab.post(room, "written after, before search too").await;
    assert_eq!(found(&mut tab, "before search").await.len(), 2);
}
