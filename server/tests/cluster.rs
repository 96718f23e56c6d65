//! Two nodes sharing PostgreSQL and Redis behave as one server: events cross between them
//! (messages, edits, deletions, membership, room list, staff-only revocation, disabled
//! users), and
//! Redis connections killed mid-conversation or a node going away lose and double nothing.
//! Needs PostgreSQL (`TEST_DATABASE_URL`) and Redis (`TEST_REDIS_URL`); skipped without them
//! unless `REQUIRE_SERVICES=1`. Each test has its own database and Redis channel prefix.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, Client, Tab, TestServer, fresh_database, fresh_redis, location, two_nodes};
use fred::interfaces::ClientLike;
use protocol::{ChatMessage, ClientCommand, LeftReason, RoomId, ServerEvent};
use std::collections::BTreeMap;
use whisper::config::Config;

/// The fault test kills every pub/sub connection on the Redis server, other tests' too: the
/// tests of this file take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn message_with(tab: &mut Tab, body: &str) -> ChatMessage {
    tab.until(|event| match event {
        ServerEvent::Message { message } if message.body == body => Some(message),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cross_between_nodes() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some((_database, a, b)) = two_nodes().await else {
        return;
    };
    let (admin, users) = a.with_users(&["alice", "bob"]).await;
    drop(admin);
    // Sessions live in the database: the same cookie works on either node.
    let mut admin_on_b = b.login("root", "s3cret-pass").await;
    let lobby = b.create_room(&mut admin_on_b, "Lobby", false).await;
    let (mut alice, _) = Tab::open(&a, &users[0]).await;
    let (mut bob, _) = Tab::open(&b, &users[1]).await;
    let (mut root, _) = Tab::open(&b, &admin_on_b).await;
    alice.join(lobby).await;
    root.join(lobby).await;
    bob.join(lobby).await;
    alice
        .until(|event| {
            matches!(event, ServerEvent::MemberJoined { member, .. } if member.username == "bob")
                .then_some(())
        })
        .await;

    // Messages both ways, and an edit.
    bob.say(lobby, "from node b").await;
    let seen = message_with(&mut alice, "from node b").await;
    alice.say(lobby, "from node a").await;
    message_with(&mut bob, "from node a").await;
    bob.command(|request_id| ClientCommand::Edit {
        request_id,
        message_id: seen.id,
        body: "from node b, edited".into(),
    })
    .await;
    let edited = alice
        .until(|event| match event {
            ServerEvent::MessageChanged { message } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(
        (edited.seq, edited.body.as_str()),
        (seen.seq, "from node b, edited")
    );

    // Room list changes made through node b reach node a.
    b.create_room(&mut admin_on_b, "Second", false).await;
    let added = alice
        .until(|event| match event {
            ServerEvent::RoomAdded { room } => Some(room.title),
            _ => None,
        })
        .await;
    assert_eq!(added, "Second");

    // Staff-only, switched on node b: alice (not staff) is removed on node a at once, and
    // hears nothing more from the room; root (staff) stays.
    let flip = admin_on_b
        .post_form(
            &format!("/admin/rooms/{lobby}/kind"),
            &[("kind", "staff_only")],
        )
        .await;
    assert_eq!(location(&flip), "/admin/rooms?notice=room_updated");
    let reason = alice
        .until(|event| match event {
            ServerEvent::Left {
                room_id, reason, ..
            } if room_id == lobby => Some(reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, LeftReason::StaffOnly);
    root.say(lobby, "staff only now").await;
    message_with(&mut root, "staff only now").await;
    assert!(
        common::messages(&alice.drain().await).is_empty(),
        "nothing leaks to node a after the revocation"
    );

    // A user disabled through node a loses their socket on node b at once.
    let mut admin_on_a = a.login("root", "s3cret-pass").await;
    let bob_id = a.user_id(&mut admin_on_a, "bob").await;
    let disable = admin_on_a
        .post_form(
            &format!("/admin/users/{bob_id}/disabled"),
            &[("value", "true")],
        )
        .await;
    assert_eq!(location(&disable), "/admin/users?notice=user_disabled");
    assert_eq!(bob.closed().await, 1008, "policy close on node b");

    // A password reset through node b ends alice's sessions and closes her socket on node a.
    let alice_id = a.user_id(&mut admin_on_a, "alice").await;
    let reset = admin_on_b
        .post_form(
            &format!("/admin/users/{alice_id}/password"),
            &[("password", "a-new-password")],
        )
        .await;
    assert_eq!(location(&reset), "/admin/users?notice=password_reset");
    assert_eq!(alice.closed().await, 1008, "policy close on node a");
}

/// A client following one room by the delivery contract, reconnecting (to `servers`, in turn)
/// whenever its socket is closed, until it holds every seq up to `last`.
async fn follow_until(
    servers: &[&TestServer],
    user: &Client,
    room: RoomId,
    mut tab: Tab,
    held: &mut BTreeMap<i64, ChatMessage>,
    last: i64,
) {
    let mut asking = false;
    let mut attempt = 0;
    loop {
        let gap = held
            .keys()
            .zip(held.keys().skip(1))
            .find(|(a, b)| **b > **a + 1)
            .map(|(a, b)| (*a, *b));
        if gap.is_none() && held.keys().next_back() >= Some(&last) {
            return;
        }
        if !asking && let Some((after_seq, before_seq)) = gap {
            tab.command(|request_id| ClientCommand::Missed {
                request_id,
                room_id: room,
                after_seq,
                before_seq: Some(before_seq),
            })
            .await;
            asking = true;
        }
        let mut hold = |messages: Vec<ChatMessage>| {
            for message in messages.into_iter().filter(|m| m.room_id == room) {
                let previous = held.insert(message.seq, message.clone());
                if let Some(previous) = previous {
                    assert_eq!(previous, message, "one seq, one message");
                }
            }
        };
        match tab.next_or_closed().await {
            Some(ServerEvent::Joined { recent, .. }) => hold(recent),
            Some(ServerEvent::Message { message }) => hold(vec![message]),
            Some(ServerEvent::Missed { messages, .. }) => {
                asking = false;
                hold(messages);
            }
            Some(_) => {}
            None => {
                attempt += 1;
                tab = Tab::open(servers[attempt % servers.len()], user).await.0;
                asking = false;
            }
        }
    }
}

async fn whisper_user_id(server: &TestServer, name: &str) -> protocol::UserId {
    let db = whisper::db::connect(&server.database_url).await.unwrap();
    let user = whisper::db::users::find_by_username(&db, name)
        .await
        .unwrap()
        .unwrap();
    protocol::UserId(user.id)
}

async fn last_seq(server: &TestServer, room: RoomId) -> i64 {
    let db = whisper::db::connect(&server.database_url).await.unwrap();
    whisper::db::rooms::find(&db, room)
        .await
        .unwrap()
        .unwrap()
        .last_seq
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_connections_killed_mid_conversation_lose_nothing() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some((_database, a, b)) = two_nodes().await else {
        return;
    };
    let (mut admin, users) = a.with_users(&["alice", "bob"]).await;
    let lobby = a.create_room(&mut admin, "Lobby", false).await;
    let (mut alice, _) = Tab::open(&a, &users[0]).await;
    alice.join(lobby).await;
    let (mut bob, _) = Tab::open(&b, &users[1]).await;
    bob.join(lobby).await;
    bob.say(lobby, "before").await;
    let first = message_with(&mut alice, "before").await;

    // Bob posts 200 messages on node b while every Redis connection is killed under both
    // nodes (publishers and subscribers alike).
    for index in 1..=200 {
        bob.say(lobby, &format!("flowing {index}")).await;
    }
    let redis_url =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let killer =
        fred::prelude::Builder::from_config(fred::prelude::Config::from_url(&redis_url).unwrap())
            .build()
            .unwrap();
    killer.init().await.unwrap();
    for kind in ["pubsub", "normal"] {
        let _: fred::prelude::Value = killer
            .custom(
                fred::cmd!("CLIENT"),
                vec!["KILL".to_owned(), "TYPE".to_owned(), kind.to_owned()],
            )
            .await
            .unwrap();
    }
    let _ = killer.quit().await;
    // Bob's socket may be closed for a resync too; what counts is what got stored. The count is
    // final once his last send came back, or once node b let go of his closed socket: its
    // reader finishes the command in hand before it lets go, and reads no more.
    let mut echoed_last = false;
    while let Some(event) = bob.next_or_closed().await {
        if matches!(&event, ServerEvent::Message { message } if message.body == "flowing 200") {
            echoed_last = true;
            break;
        }
    }
    if !echoed_last {
        let bob_id = whisper_user_id(&b, "bob").await;
        let deadline = tokio::time::Instant::now() + common::EVENT_TIMEOUT;
        while b.state.hub.sockets_of(bob_id) > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "node b drops bob's socket"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    let last = last_seq(&a, lobby).await;
    assert!(last > first.seq, "bob's messages were stored");

    let mut held = BTreeMap::from([(first.seq, first)]);
    follow_until(&[&a, &b], &users[0], lobby, alice, &mut held, last).await;
    assert_eq!(
        held.keys().copied().collect::<Vec<_>>(),
        (1..=last).collect::<Vec<_>>(),
        "every seq, once"
    );
    let bodies: Vec<&str> = held.values().map(|m| m.body.as_str()).collect();
    let sent: Vec<String> = std::iter::once("before".to_owned())
        .chain((1..last).map(|i| format!("flowing {i}")))
        .collect();
    assert_eq!(bodies, sent, "in the order bob sent them");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_of_a_stopped_node_catch_up_on_the_other() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some((_database, a, b)) = two_nodes().await else {
        return;
    };
    let (mut admin, users) = b.with_users(&["alice", "bob"]).await;
    let lobby = b.create_room(&mut admin, "Lobby", false).await;
    let (mut alice, _) = Tab::open(&a, &users[0]).await;
    alice.join(lobby).await;
    let (mut bob, _) = Tab::open(&b, &users[1]).await;
    bob.join(lobby).await;
    bob.say(lobby, "message 1").await;
    let first = message_with(&mut alice, "message 1").await;

    // Node a goes away with alice's socket; bob talks on; alice comes back through node b.
    drop(alice);
    drop(a);
    for index in 2..=120 {
        bob.say(lobby, &format!("message {index}")).await;
    }
    message_with(&mut bob, "message 120").await;
    let last = last_seq(&b, lobby).await;
    let (tab, _) = Tab::open(&b, &users[0]).await;
    let mut held = BTreeMap::from([(first.seq, first)]);
    follow_until(&[&b], &users[0], lobby, tab, &mut held, last).await;
    let bodies: Vec<String> = held.values().map(|m| m.body.clone()).collect();
    let sent: Vec<String> = (1..=120).map(|i| format!("message {i}")).collect();
    assert_eq!(bodies, sent, "complete, once each, in order");
}

/// A TCP proxy in front of Redis that the test can cut and restore, like Redis going down and
/// coming back (the real Redis is shared by the machine and must stay up).
struct RedisLink {
    addr: std::net::SocketAddr,
    target: String,
    cut: tokio::sync::watch::Sender<bool>,
}

impl RedisLink {
    async fn start(redis_url: &str) -> RedisLink {
        let target = redis_url
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cut, _) = tokio::sync::watch::channel(false);
        let link = RedisLink { addr, target, cut };
        link.serve(listener);
        link
    }

    fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Accepts and relays until cut; then drops every connection and the listener.
    fn serve(&self, listener: tokio::net::TcpListener) {
        let (target, mut cut) = (self.target.clone(), self.cut.subscribe());
        tokio::spawn(async move {
            loop {
                let mut connection_cut = cut.clone();
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((mut client, _)) = accepted else { return };
                        let target = target.clone();
                        tokio::spawn(async move {
                            let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else { return };
                            tokio::select! {
                                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                                _ = connection_cut.wait_for(|cut| *cut) => {}
                            }
                        });
                    }
                    _ = cut.wait_for(|cut| *cut) => return,
                }
            }
        });
    }

    fn cut(&self) {
        self.cut.send_replace(true);
    }

    async fn restore(&self) {
        self.cut.send_replace(false);
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }
}

async fn readiness(server: &TestServer) -> u16 {
    server.client().get("/readyz").await.status().as_u16()
}

/// Waits (bounded) until `/readyz` answers `status`.
async fn until_readiness(server: &TestServer, status: u16) {
    tokio::time::timeout(common::EVENT_TIMEOUT, async {
        while readiness(server).await != status {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("/readyz never answered {status}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_and_back_each_node_serves_its_own_then_all_catch_up() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(database) = fresh_database(Backend::Postgres).await else {
        return;
    };
    let Some((redis, prefix)) = fresh_redis().await else {
        return;
    };
    let link = RedisLink::start(&redis).await;
    let node = || {
        let mut config = Config::for_database(&database.url);
        config.redis_url = Some(link.url());
        config.redis_prefix = prefix.clone();
        config
    };
    let a = TestServer::start_with(node()).await;
    let b = TestServer::start_with(node()).await;
    let (mut admin, users) = a.with_users(&["alice", "bob", "carol"]).await;
    let lobby = a.create_room(&mut admin, "Lobby", false).await;
    let (mut alice, _) = Tab::open(&a, &users[0]).await;
    alice.join(lobby).await;
    let (mut carol, _) = Tab::open(&a, &users[2]).await;
    carol.join(lobby).await;
    let (mut bob, _) = Tab::open(&b, &users[1]).await;
    bob.join(lobby).await;
    assert_eq!((readiness(&a).await, readiness(&b).await), (200, 200));

    link.cut();
    // Both nodes notice and say so; each still serves its own sockets.
    for node in [&a, &b] {
        until_readiness(node, 503).await;
    }
    alice.say(lobby, "said on a during the outage").await;
    message_with(&mut carol, "said on a during the outage").await;
    bob.say(lobby, "said on b during the outage").await;
    message_with(&mut bob, "said on b during the outage").await;
    // A tab opened during the outage, by a user with no other tab on this node (so it needs
    // new subscriptions), is served too: the subscribing does not wait for Redis.
    let (mut late, _) = Tab::open(&a, &users[1]).await;
    late.until(|event| matches!(event, ServerEvent::Joined { .. }).then_some(()))
        .await;

    link.restore().await;
    for node in [&a, &b] {
        until_readiness(node, 200).await;
    }
    // Every socket is told to resync, and each client then holds the whole conversation.
    let last = last_seq(&a, lobby).await;
    assert_eq!(last, 2);
    for (tab, server, user) in [(alice, &a, &users[0]), (bob, &b, &users[1])] {
        let mut held = BTreeMap::new();
        follow_until(&[server], user, lobby, tab, &mut held, last).await;
        let bodies: Vec<&str> = held.values().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies.len(), 2, "both messages, once each: {bodies:?}");
    }
    // And fan-out crosses again.
    let (mut bob, _) = Tab::open(&b, &users[1]).await;
    let (mut alice, _) = Tab::open(&a, &users[0]).await;
    bob.say(lobby, "after the outage").await;
    message_with(&mut alice, "after the outage").await;
}

/// The channels of `prefix` that some connection is subscribed to.
async fn subscribed(redis: &fred::clients::Client, prefix: &str) -> Vec<String> {
    let mut channels: Vec<String> = redis
        .custom(
            fred::cmd!("PUBSUB"),
            vec!["CHANNELS".to_owned(), format!("{prefix}:*")],
        )
        .await
        .unwrap();
    channels.sort();
    channels
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_hears_only_rooms_and_users_it_serves() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(database) = fresh_database(Backend::Postgres).await else {
        return;
    };
    let Some((redis_url, prefix)) = fresh_redis().await else {
        return;
    };
    let mut config = Config::for_database(&database.url);
    config.redis_url = Some(redis_url.clone());
    config.redis_prefix = prefix.clone();
    let a = TestServer::start_with(config).await;
    let (mut admin, users) = a.with_users(&["alice"]).await;
    let lobby = a.create_room(&mut admin, "Lobby", false).await;
    let redis =
        fred::prelude::Builder::from_config(fred::prelude::Config::from_url(&redis_url).unwrap())
            .build()
            .unwrap();
    redis.init().await.unwrap();
    assert_eq!(subscribed(&redis, &prefix).await, [format!("{prefix}:all")]);

    let (mut alice, hello) = Tab::open(&a, &users[0]).await;
    let ServerEvent::Hello { user, .. } = hello else {
        unreachable!()
    };
    alice.join(lobby).await;
    let room_channel = format!("{prefix}:room:{lobby}");
    let user_channel = format!("{prefix}:user:{}", user.id);
    let mut want = vec![format!("{prefix}:all"), room_channel.clone(), user_channel];
    want.sort();
    assert_eq!(
        subscribed(&redis, &prefix).await,
        want,
        "subscribed before `joined`"
    );

    // Left, then gone: the sweep unsubscribes what nobody here needs (within two sweeps).
    alice
        .command(|request_id| ClientCommand::Leave {
            request_id,
            room_id: lobby,
        })
        .await;
    drop(alice);
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        // Asked every 50 ms rather than in a tight loop: the sweep runs every 5 s.
        let mut polls = tokio::time::interval(std::time::Duration::from_millis(50));
        while subscribed(&redis, &prefix).await != [format!("{prefix}:all")] {
            polls.tick().await;
        }
    })
    .await
    .expect("room and user channels unsubscribed");
    let _ = redis.quit().await;
}
