//! Read positions, unread and mention counts, mentions, notification levels and the last open
//! room, over real sockets on SQLite and PostgreSQL: what is stored, what each tab is told, and
//! what stays private.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Tab, TestServer, generous_limits, server_with_users};
use protocol::{
    ChatMessage, ClientCommand, ErrorCode, Member, NotifyLevel, ReadState, RoomId, RoomKind,
    ServerEvent,
};
use whisper::config::Config;

on_both_databases!(
    counts_follow_posts_and_reads_on_every_tab,
    mentions_resolve_to_members_when_stored_and_edited,
    direct_messages_count_as_mentions,
    notification_levels_are_stored_and_pushed,
    the_last_room_reopens_while_readable,
    read_commands_refuse_outsiders_and_floods,
);

/// The read state a `joined` of `room` carries.
fn joined_read(events: &[ServerEvent], room: RoomId) -> ReadState {
    events
        .iter()
        .find_map(|event| match event {
            ServerEvent::Joined {
                room: info, read, ..
            } if info.id == room => Some(read.clone()),
            _ => None,
        })
        .expect("a joined for the room")
}

/// A fresh tab's read state in `room` (from its greeting).
async fn fresh_read(server: &TestServer, client: &common::Client, room: RoomId) -> ReadState {
    let (mut tab, _) = Tab::open(server, client).await;
    joined_read(&tab.drain().await, room)
}

/// The last `read_changed` among `events`.
fn pushed(events: &[ServerEvent]) -> Option<ReadState> {
    events.iter().rev().find_map(|event| match event {
        ServerEvent::ReadChanged { read } => Some(read.clone()),
        _ => None,
    })
}

/// The message as the command `request` (an edit or a delete) left it.
async fn changed_message(tab: &mut Tab, request: protocol::RequestId) -> ChatMessage {
    tab.outcome(request)
        .await
        .unwrap()
        .into_iter()
        .find_map(|event| match event {
            ServerEvent::MessageChanged { message } => Some(message),
            _ => None,
        })
        .expect("the changed message")
}

async fn mark_read(tab: &mut Tab, room: RoomId, seq: i64) -> protocol::RequestId {
    tab.command(|request_id| ClientCommand::MarkRead {
        request_id,
        room_id: room,
        seq,
    })
    .await
}

fn counts(read: &ReadState) -> (i64, u32, u32) {
    (read.last_read_seq, read.unread, read.mentions)
}

async fn counts_follow_posts_and_reads_on_every_tab(db: String) {
    let (server, mut admin, users) = server_with_users(generous_limits(&db), &["ada", "ben"]).await;
    let room = server.create_room(&mut admin, "general", false).await;
    let (ada, ben) = (&users[0], &users[1]);
    let (mut ben_tab, _) = Tab::open(&server, ben).await;
    ben_tab.join(room).await;
    ben_tab.post(room, "before ada came").await;
    let (mut ada_one, _) = Tab::open(&server, ada).await;
    ada_one.join(room).await;
    let (mut ada_two, _) = Tab::open(&server, ada).await;
    let greeting = ada_two.drain().await;
    assert_eq!(
        counts(&joined_read(&greeting, room)),
        (1, 0, 0),
        "what came before joining is read"
    );

    // Four from ben (one mentions ada, one is deleted), one from ada herself.
    ben_tab.post(room, "one").await;
    ben_tab.post(room, "two @ada").await;
    let three = ben_tab.post(room, "three").await;
    ben_tab.post(room, "four").await;
    ada_one.post(room, "mine").await;
    let id = three.id;
    ben_tab
        .command(|request_id| ClientCommand::Delete {
            request_id,
            message_id: id,
        })
        .await;
    ben_tab.drain().await;
    let read = fresh_read(&server, ada, room).await;
    assert_eq!(counts(&read), (1, 3, 1), "one, two, four; two mentions her");
    assert_eq!(read.as_of_seq, 6);
    assert_eq!(
        counts(&fresh_read(&server, ben, room).await),
        (0, 1, 0),
        "ada's"
    );

    // Read up to "two" in one tab: both tabs are told, and every new tab agrees.
    ada_two.drain().await;
    let request = mark_read(&mut ada_one, room, 3).await;
    let told = pushed(&ada_one.outcome(request).await.unwrap()).expect("pushed to this tab");
    assert_eq!(counts(&told), (3, 1, 0));
    let other = pushed(&ada_two.drain().await).expect("pushed to the other tab");
    assert_eq!(other, told);
    assert_eq!(fresh_read(&server, ada, room).await, told);

    // Never backwards; never past the newest message.
    let request = mark_read(&mut ada_one, room, 1).await;
    assert_eq!(
        counts(&pushed(&ada_one.outcome(request).await.unwrap()).unwrap()),
        (3, 1, 0)
    );
    let request = mark_read(&mut ada_one, room, 1_000).await;
    let all_read = pushed(&ada_one.outcome(request).await.unwrap()).unwrap();
    assert_eq!(
        (all_read.last_read_seq, all_read.unread, all_read.as_of_seq),
        (6, 0, 6)
    );

    // Leaving and joining again starts from the room's end.
    ben_tab.post(room, "while she is away").await;
    let request = ada_one
        .command(|request_id| ClientCommand::Leave {
            request_id,
            room_id: room,
        })
        .await;
    ada_one.outcome(request).await.unwrap();
    ben_tab.post(room, "after she left").await;
    ada_one.join(room).await;
    assert_eq!(counts(&fresh_read(&server, ada, room).await), (8, 0, 0));
}

async fn mentions_resolve_to_members_when_stored_and_edited(db: String) {
    let (server, _admin, users) =
        server_with_users(generous_limits(&db), &["ada", "ben", "cy"]).await;
    let (ada, ben, cy) = (&users[0], &users[1], &users[2]);
    let (mut ben_tab, hello) = Tab::open(&server, ben).await;
    let ServerEvent::Hello { user: me, .. } = hello else {
        unreachable!()
    };
    let (mut ada_tab, hello) = Tab::open(&server, ada).await;
    let ServerEvent::Hello { user: ada_user, .. } = hello else {
        unreachable!()
    };
    let (mut cy_tab, hello) = Tab::open(&server, cy).await;
    let ServerEvent::Hello { user: cy_user, .. } = hello else {
        unreachable!()
    };
    // A closed room of ben and ada; cy is outside.
    let room = ben_tab
        .create_room("plans", RoomKind::Closed, &[ada_user.id])
        .await;
    let ada_member = Member {
        id: ada_user.id,
        username: "ada".into(),
    };
    let message = ben_tab
        .post(room, "@ADA, @cy, @nobody and ada@example.com")
        .await;
    assert_eq!(
        message.mentions,
        std::slice::from_ref(&ada_member),
        "members only, any case"
    );
    let seen = ada_tab
        .until(|event| match event {
            ServerEvent::Message { message } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(seen.mentions, std::slice::from_ref(&ada_member));
    let cy_heard = cy_tab.drain().await;
    assert!(
        cy_heard.iter().all(|event| !matches!(
            event,
            ServerEvent::Message { .. } | ServerEvent::RoomAdded { .. }
        )),
        "a mention of an outsider tells them nothing: {cy_heard:?}"
    );

    // History carries the mentions; an edit resolves them again; a deletion clears them.
    let history = ben_tab
        .command(|request_id| ClientCommand::History {
            request_id,
            room_id: room,
            before_seq: i64::MAX,
        })
        .await;
    let page = ben_tab.outcome(history).await.unwrap();
    let Some(ServerEvent::History { messages, .. }) = page
        .into_iter()
        .find(|event| matches!(event, ServerEvent::History { .. }))
    else {
        panic!("a history page")
    };
    assert_eq!(messages[0].mentions, [ada_member]);
    let id = message.id;
    let request = ben_tab
        .command(|request_id| ClientCommand::Edit {
            request_id,
            message_id: id,
            body: "never mind, @ben".into(),
        })
        .await;
    let changed = changed_message(&mut ben_tab, request).await;
    assert_eq!(
        changed.mentions,
        [me.member()],
        "one's own name resolves too"
    );
    assert_eq!(
        counts(&fresh_read(&server, ada, room).await),
        (0, 1, 0),
        "no longer a mention"
    );
    let request = ben_tab
        .command(|request_id| ClientCommand::Delete {
            request_id,
            message_id: id,
        })
        .await;
    let deleted = changed_message(&mut ben_tab, request).await;
    assert!(deleted.mentions.is_empty());

    // In an open room, too, only members are mentioned.
    let open = ben_tab.create_room("open", RoomKind::Open, &[]).await;
    cy_tab.join(open).await;
    let message = ben_tab.post(open, "@cy @ada").await;
    assert_eq!(
        message.mentions,
        [Member {
            id: cy_user.id,
            username: "cy".into()
        }]
    );
}

async fn direct_messages_count_as_mentions(db: String) {
    let (server, _admin, users) = server_with_users(generous_limits(&db), &["ada", "ben"]).await;
    let (ada, ben) = (&users[0], &users[1]);
    let (mut ada_tab, hello) = Tab::open(&server, ada).await;
    let ServerEvent::Hello { user: ada_user, .. } = hello else {
        unreachable!()
    };
    let (mut ben_tab, _) = Tab::open(&server, ben).await;
    let with = vec![ada_user.id];
    ben_tab
        .command(|request_id| ClientCommand::OpenDirect { request_id, with })
        .await;
    let room = ben_tab
        .until(|event| match event {
            ServerEvent::Joined { room, .. } if room.kind == RoomKind::Direct => Some(room.id),
            _ => None,
        })
        .await;
    ben_tab.post(room, "hi").await;
    ben_tab.post(room, "are you there?").await;
    ada_tab.drain().await;
    assert_eq!(counts(&fresh_read(&server, ada, room).await), (0, 2, 2));
    assert_eq!(counts(&fresh_read(&server, ben, room).await), (0, 0, 0));
}

async fn notification_levels_are_stored_and_pushed(db: String) {
    let (server, mut admin, users) = server_with_users(generous_limits(&db), &["ada"]).await;
    let room = server.create_room(&mut admin, "general", false).await;
    let (mut one, _) = Tab::open(&server, &users[0]).await;
    one.join(room).await;
    let (mut two, _) = Tab::open(&server, &users[0]).await;
    assert_eq!(
        joined_read(&two.drain().await, room).notify,
        None,
        "the default"
    );
    let request = one
        .command(|request_id| ClientCommand::SetNotify {
            request_id,
            room_id: room,
            level: Some(NotifyLevel::Nothing),
        })
        .await;
    let told = pushed(&one.outcome(request).await.unwrap()).unwrap();
    assert_eq!(told.notify, Some(NotifyLevel::Nothing));
    assert_eq!(
        pushed(&two.drain().await).unwrap().notify,
        Some(NotifyLevel::Nothing)
    );
    assert_eq!(
        fresh_read(&server, &users[0], room).await.notify,
        Some(NotifyLevel::Nothing)
    );
    let request = one
        .command(|request_id| ClientCommand::SetNotify {
            request_id,
            room_id: room,
            level: None,
        })
        .await;
    one.outcome(request).await.unwrap();
    assert_eq!(fresh_read(&server, &users[0], room).await.notify, None);
}

async fn the_last_room_reopens_while_readable(db: String) {
    let (server, mut admin, users) = server_with_users(generous_limits(&db), &["ada", "ben"]).await;
    let first = server.create_room(&mut admin, "first", false).await;
    let second = server.create_room(&mut admin, "second", false).await;
    let (ada, ben) = (&users[0], &users[1]);
    let last_room = |hello: ServerEvent| match hello {
        ServerEvent::Hello { last_room, .. } => last_room,
        _ => unreachable!(),
    };
    let (mut tab, hello) = Tab::open(&server, ada).await;
    assert_eq!(last_room(hello), None);
    tab.join(first).await;
    tab.join(second).await;
    view(&mut tab, second).await.unwrap();
    assert_eq!(
        last_room(Tab::open(&server, ada).await.1),
        Some(second),
        "another device"
    );

    // A closed room of ben's is not hers to view, and says nothing of itself.
    let (mut ben_tab, _) = Tab::open(&server, ben).await;
    let secret = ben_tab.create_room("secret", RoomKind::Closed, &[]).await;
    assert_eq!(view(&mut tab, secret).await, Err(ErrorCode::UnknownRoom));
    assert_eq!(last_room(Tab::open(&server, ada).await.1), Some(second));

    // Left: not reopened.
    let request = tab
        .command(|request_id| ClientCommand::Leave {
            request_id,
            room_id: second,
        })
        .await;
    tab.outcome(request).await.unwrap();
    assert_eq!(last_room(Tab::open(&server, ada).await.1), None);
}

/// Tells the server `tab` has `room` open; the outcome.
async fn view(tab: &mut Tab, room: RoomId) -> Result<(), ErrorCode> {
    let request = tab
        .command(|request_id| ClientCommand::ViewRoom {
            request_id,
            room_id: room,
        })
        .await;
    tab.outcome(request).await.map(|_| ())
}

async fn read_commands_refuse_outsiders_and_floods(db: String) {
    // Default limits: the read limit is what is tested.
    let (server, mut admin, users) =
        server_with_users(Config::for_database(&db), &["ada", "ben"]).await;
    let room = server.create_room(&mut admin, "general", false).await;
    let (mut ada_tab, _) = Tab::open(&server, &users[0]).await;
    let (mut ben_tab, _) = Tab::open(&server, &users[1]).await;
    let secret = ben_tab.create_room("secret", RoomKind::Closed, &[]).await;
    let request = mark_read(&mut ada_tab, room, 1).await;
    assert_eq!(
        ada_tab.outcome(request).await.unwrap_err(),
        ErrorCode::NotJoined
    );
    let request = mark_read(&mut ada_tab, secret, 1).await;
    assert_eq!(
        ada_tab.outcome(request).await.unwrap_err(),
        ErrorCode::UnknownRoom
    );
    let request = ada_tab
        .command(|request_id| ClientCommand::SetNotify {
            request_id,
            room_id: secret,
            level: Some(NotifyLevel::All),
        })
        .await;
    assert_eq!(
        ada_tab.outcome(request).await.unwrap_err(),
        ErrorCode::UnknownRoom
    );
    let request = mark_read(&mut ada_tab, RoomId(987_654), 1).await;
    assert_eq!(
        ada_tab.outcome(request).await.unwrap_err(),
        ErrorCode::UnknownRoom
    );

    // A flood of marks is cut off, and the socket stays usable.
    ada_tab.join(room).await;
    let mut requests = Vec::new();
    for seq in 0..60 {
        requests.push(mark_read(&mut ada_tab, room, seq).await);
    }
    let events = ada_tab.drain().await;
    let limited = events
        .iter()
        .filter(|event| {
            matches!(
                event,
                ServerEvent::Error {
                    code: ErrorCode::RateLimited,
                    ..
                }
            )
        })
        .count();
    assert!(limited > 0, "60 marks at once are limited");
    assert!(limited < 60, "a burst gets through");
}
