//! Presence and typing over real sockets: who hears that someone came, went or is typing (only
//! those who share a room with them), on one node and across two — including a node that dies
//! without a word, whose users must go offline on the other within the presence time to live.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Tab, server_with_users, two_nodes};
use protocol::{ClientCommand, ErrorCode, RoomId, RoomKind, ServerEvent, UserId};
use whisper::config::Config;

on_both_databases!(
    presence_reaches_those_who_share_a_room,
    typing_reaches_the_room_but_not_the_typer,
);

fn config(db: &str) -> Config {
    let mut config = Config::for_database(db);
    config.joins_per_second = 10_000;
    config
}

/// The presence notices among `events`, as (user, online).
fn presence(events: &[ServerEvent]) -> Vec<(UserId, bool)> {
    events
        .iter()
        .filter_map(|event| match event {
            ServerEvent::Presence { user_id, online } => Some((*user_id, *online)),
            _ => None,
        })
        .collect()
}

/// The next presence notice about `user` that `tab` hears: online or not.
async fn next_presence_of(tab: &mut Tab, user: UserId) -> bool {
    tab.until(|event| match event {
        ServerEvent::Presence { user_id, online } if user_id == user => Some(online),
        _ => None,
    })
    .await
}

fn typing(events: &[ServerEvent]) -> Vec<(RoomId, String)> {
    events
        .iter()
        .filter_map(|event| match event {
            ServerEvent::Typing { room_id, user } => Some((*room_id, user.username.clone())),
            _ => None,
        })
        .collect()
}

/// Who a `joined` of `room` among `events` says is online.
fn joined_online(events: &[ServerEvent], room: RoomId) -> Vec<UserId> {
    events
        .iter()
        .find_map(|event| match event {
            ServerEvent::Joined {
                room: info, online, ..
            } if info.id == room => Some(online.clone()),
            _ => None,
        })
        .expect("a joined for the room")
}

fn hello_user(hello: &ServerEvent) -> UserId {
    match hello {
        ServerEvent::Hello { user, .. } => user.id,
        _ => unreachable!(),
    }
}

async fn presence_reaches_those_who_share_a_room(db: String) {
    let (server, mut admin, users) = server_with_users(config(&db), &["ada", "ben", "cy"]).await;
    let room = server.create_room(&mut admin, "general", false).await;
    let (ada, ben, cy) = (&users[0], &users[1], &users[2]);
    let (mut ada_one, hello) = Tab::open(&server, ada).await;
    let ada_id = hello_user(&hello);
    ada_one.join(room).await;
    drop(ada_one);
    let (mut ben_tab, hello) = Tab::open(&server, ben).await;
    let ben_id = hello_user(&hello);
    ben_tab.join(room).await;
    let (mut cy_tab, _) = Tab::open(&server, cy).await;
    cy_tab.drain().await;

    // Ada comes back: ben (who shares the room) hears it, cy does not; her greeting says ben
    // is online.
    let (mut ada_one, _) = Tab::open(&server, ada).await;
    let online = joined_online(&ada_one.drain().await, room);
    assert!(
        online.contains(&ben_id) && online.len() == 2,
        "ben and herself: {online:?}"
    );
    assert_eq!(presence(&ben_tab.drain().await), [(ada_id, true)]);
    assert!(
        presence(&cy_tab.drain().await).is_empty(),
        "cy shares no room with her"
    );

    // Cy joins: ada and ben learn she is online; her `joined` says they are.
    let request = cy_tab
        .command(|request_id| ClientCommand::Join {
            request_id,
            room_id: room,
        })
        .await;
    let events = cy_tab.outcome(request).await.unwrap();
    let seen = joined_online(&events, room);
    assert!(seen.contains(&ada_id) && seen.contains(&ben_id), "{seen:?}");
    let joined_online_flag = ben_tab
        .until(|event| match event {
            ServerEvent::MemberJoined { online, .. } => Some(online),
            _ => None,
        })
        .await;
    assert!(joined_online_flag);

    // A second tab changes nothing; closing one of two changes nothing; the last, offline.
    let (mut ada_two, _) = Tab::open(&server, ada).await;
    ada_two.drain().await;
    assert!(presence(&ben_tab.drain().await).is_empty());
    drop(ada_two);
    ada_one.drain().await;
    assert!(presence(&ben_tab.drain().await).is_empty());
    drop(ada_one);
    let online = next_presence_of(&mut ben_tab, ada_id).await;
    assert!(!online);
    let (mut ben_two, _) = Tab::open(&server, ben).await;
    assert!(!joined_online(&ben_two.drain().await, room).contains(&ada_id));

    // The user picker says who is online.
    let (found, online) = ben_tab.find_users("a").await;
    assert!(found.iter().any(|user| user.id == ada_id));
    assert!(!online.contains(&ada_id), "ada is offline");
}

async fn typing_reaches_the_room_but_not_the_typer(db: String) {
    let (server, _admin, users) = server_with_users(config(&db), &["ada", "ben", "cy"]).await;
    let (ada, ben, cy) = (&users[0], &users[1], &users[2]);
    let (mut ben_tab, hello) = Tab::open(&server, ben).await;
    let ben_id = hello_user(&hello);
    let (mut ada_one, _) = Tab::open(&server, ada).await;
    let (mut ada_two, _) = Tab::open(&server, ada).await;
    let (mut cy_tab, _) = Tab::open(&server, cy).await;
    let room = ada_one
        .create_room("plans", RoomKind::Closed, &[ben_id])
        .await;
    ben_tab.drain().await;
    ada_two.drain().await;

    let request = ada_one
        .command(|request_id| ClientCommand::Typing {
            request_id,
            room_id: room,
        })
        .await;
    assert!(ada_one.outcome(request).await.is_ok(), "never answered");
    assert_eq!(typing(&ben_tab.drain().await), [(room, "ada".to_owned())]);
    assert!(
        typing(&ada_two.drain().await).is_empty(),
        "not to the typer's other tab"
    );
    assert!(
        typing(&cy_tab.drain().await).is_empty(),
        "not outside the room"
    );

    // An outsider cannot type into it (nor learn it exists).
    let request = cy_tab
        .command(|request_id| ClientCommand::Typing {
            request_id,
            room_id: room,
        })
        .await;
    assert_eq!(
        cy_tab.outcome(request).await.unwrap_err(),
        ErrorCode::UnknownRoom
    );

    // A flood is cut to the limit's burst, silently.
    for _ in 0..20 {
        ada_one
            .command(|request_id| ClientCommand::Typing {
                request_id,
                room_id: room,
            })
            .await;
    }
    let answers = ada_one.drain().await;
    assert!(
        answers.is_empty(),
        "no errors for dropped notices: {answers:?}"
    );
    let heard = typing(&ben_tab.drain().await).len();
    assert!((1..=4).contains(&heard), "{heard} notices of 20");

    // The user picker finds cy (online) but does not say so to ben: they share no room.
    let (found, online) = ben_tab.find_users("cy").await;
    assert_eq!(found.len(), 1);
    assert!(
        online.is_empty(),
        "presence only among people who share a room"
    );
    drop(cy_tab);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_node_takes_its_users_offline_on_the_other() {
    let Some((_database, a, b)) = two_nodes().await else {
        return;
    };
    let (mut admin, users) = a.with_users(&["ada", "ben"]).await;
    let room = a.create_room(&mut admin, "general", false).await;
    let (mut ben_tab, hello) = Tab::open(&b, &users[1]).await;
    let ben_id = hello_user(&hello);
    ben_tab.join(room).await;
    let (mut ada_tab, hello) = Tab::open(&a, &users[0]).await;
    let ada_id = hello_user(&hello);
    ada_tab.join(room).await;

    // Across nodes: her tab closing on A reaches ben on B at once.
    drop(ada_tab);
    let online = next_presence_of(&mut ben_tab, ada_id).await;
    assert!(!online);
    // Node A takes a fresh look at who is on the other nodes (as it does every third of the
    // time to live) before her greeting is built.
    a.state.presence.beat(&a.state.db).await;
    let (mut ada_tab, _) = Tab::open(&a, &users[0]).await;
    let online_now = joined_online(&ada_tab.drain().await, room);
    assert!(
        online_now.contains(&ben_id),
        "ben is online on the other node"
    );
    let online = next_presence_of(&mut ben_tab, ada_id).await;
    assert!(online);

    // Node A hangs: its socket stays open, but its heartbeat stops. Within the time to live
    // (2 s in these tests) and one look, B tells ben she is gone.
    // (B may repeat that she is online first, once its own look finds her: news is
    // idempotent.)
    a.state.presence.halt_heartbeat();
    ben_tab
        .until(|event| match event {
            ServerEvent::Presence {
                user_id,
                online: false,
            } if user_id == ada_id => Some(()),
            _ => None,
        })
        .await;
    let (mut ben_two, _) = Tab::open(&b, &users[1]).await;
    assert!(!joined_online(&ben_two.drain().await, room).contains(&ada_id));
    drop(ada_tab);
}
