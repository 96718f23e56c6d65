//! The delivery contract: a client that lost its socket catches up with everything it missed,
//! once and in order; a send retried with its nonce posts once; only authors edit, and authors
//! or admins delete, with everyone seeing the change live and in history. SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, Tab, TestServer};
use protocol::{ChatMessage, ClientCommand, ErrorCode, MessageId, RoomId, ServerEvent};
use std::collections::BTreeMap;
use whisper::config::Config;

on_both_databases!(
    reconnect_catches_up_a_500_message_outage_once_and_in_order,
    a_send_retried_with_its_nonce_posts_once,
    authors_edit_authors_and_admins_delete,
);

/// What a conforming client holds of one room: messages by seq, holes filled with `missed` —
/// the contract the browser client follows. A seq can legitimately reach it twice (in the
/// `joined` snapshot and live, when posted as the socket opens); the contract has the client
/// drop the second copy, which it must be identical to.
struct Follower {
    tab: Tab,
    room: RoomId,
    held: BTreeMap<i64, ChatMessage>,
    asking: bool,
}

impl Follower {
    fn hold(&mut self, messages: Vec<ChatMessage>) {
        for message in messages {
            if message.room_id != self.room {
                continue;
            }
            if let Some(held) = self.held.get(&message.seq) {
                assert_eq!(held, &message, "two different messages with one seq");
            } else {
                self.held.insert(message.seq, message);
            }
        }
    }

    /// The first hole: (last seq before it, first seq after it).
    fn first_gap(&self) -> Option<(i64, i64)> {
        let seqs: Vec<i64> = self.held.keys().copied().collect();
        seqs.windows(2)
            .find(|pair| pair[1] > pair[0] + 1)
            .map(|pair| (pair[0], pair[1]))
    }

    /// Reads events, filling holes, until it holds every seq from its oldest up to `last`.
    async fn follow_until(&mut self, last: i64) {
        loop {
            let complete =
                self.held.keys().next_back() >= Some(&last) && self.first_gap().is_none();
            if complete && !self.asking {
                return;
            }
            if !self.asking
                && let Some((after_seq, before_seq)) = self.first_gap()
            {
                let room_id = self.room;
                self.tab
                    .command(|request_id| ClientCommand::Missed {
                        request_id,
                        room_id,
                        after_seq,
                        before_seq: Some(before_seq),
                    })
                    .await;
                self.asking = true;
            }
            match self.tab.next().await {
                ServerEvent::Joined { recent, .. } => self.hold(recent),
                ServerEvent::Message { message } => self.hold(vec![message]),
                ServerEvent::Missed { messages, .. } => {
                    assert!(
                        !messages.is_empty(),
                        "a hole is never answered with nothing"
                    );
                    self.asking = false;
                    self.hold(messages);
                }
                ServerEvent::Error { code, message, .. } => panic!("{code:?}: {message}"),
                _ => {}
            }
        }
    }
}

/// A server whose send limit lets a test post hundreds of messages at once, with admin `root`
/// and the given users signed in.
async fn fast_server(db: String, names: &[&str]) -> (TestServer, Client, Vec<Client>) {
    let mut config = Config::for_database(db);
    config.sends_per_second = 10_000;
    common::server_with_users(config, names).await
}

/// Sends `count` messages `"{prefix} {i}"` and waits until the sender has seen all of them
/// come back; returns the last seq.
async fn post_many(tab: &mut Tab, room: RoomId, prefix: &str, count: usize) -> i64 {
    for index in 1..=count {
        tab.say(room, &format!("{prefix} {index}")).await;
    }
    let mut seen = 0;
    let mut last = 0;
    while seen < count {
        if let ServerEvent::Message { message } = tab.next().await
            && message.room_id == room
            && message.body.starts_with(prefix)
        {
            seen += 1;
            last = last.max(message.seq);
        }
    }
    last
}

async fn reconnect_catches_up_a_500_message_outage_once_and_in_order(db: String) {
    let (server, mut admin, users) = fast_server(db, &["alice", "bob"]).await;
    let lobby = server.create_room(&mut admin, "Lobby", false).await;
    let (mut alice, _) = Tab::open(&server, &users[0]).await;
    alice.join(lobby).await;
    let (mut bob, _) = Tab::open(&server, &users[1]).await;
    bob.join(lobby).await;
    let before = post_many(&mut bob, lobby, "before", 20).await;
    let mut held = BTreeMap::new();
    while held.len() < 20 {
        if let ServerEvent::Message { message } = alice.next().await {
            held.insert(message.seq, message);
        }
    }
    // Alice's connection drops; 300 messages go by; she reconnects while 200 more are sent.
    drop(alice);
    post_many(&mut bob, lobby, "outage", 300).await;
    let (tab, _) = Tab::open(&server, &users[0]).await;
    let mut alice = Follower {
        tab,
        room: lobby,
        held,
        asking: false,
    };
    let sender = tokio::spawn(async move {
        let last = post_many(&mut bob, lobby, "during", 200).await;
        (bob, last)
    });
    let (_bob, last) = sender.await.unwrap();
    assert_eq!(last, before + 500);
    alice.follow_until(last).await;

    assert_eq!(
        alice.held.keys().copied().collect::<Vec<_>>(),
        (1..=last).collect::<Vec<_>>(),
        "every seq from the first to the last held"
    );
    let bodies: Vec<&str> = alice.held.values().map(|m| m.body.as_str()).collect();
    let expected: Vec<String> = (1..=20)
        .map(|i| format!("before {i}"))
        .chain((1..=300).map(|i| format!("outage {i}")))
        .chain((1..=200).map(|i| format!("during {i}")))
        .collect();
    assert_eq!(bodies, expected, "the conversation as bob sent it");
    // Nothing beyond the last message arrives afterwards.
    let beyond: Vec<i64> = alice
        .tab
        .drain()
        .await
        .into_iter()
        .filter_map(|event| match event {
            ServerEvent::Message { message } if message.seq > last => Some(message.seq),
            _ => None,
        })
        .collect();
    assert!(beyond.is_empty(), "no message beyond the last: {beyond:?}");
}

async fn a_send_retried_with_its_nonce_posts_once(db: String) {
    let (server, mut admin, users) = fast_server(db, &["alice", "bob"]).await;
    let lobby = server.create_room(&mut admin, "Lobby", false).await;
    let (mut first_tab, _) = Tab::open(&server, &users[0]).await;
    first_tab.join(lobby).await;
    let (mut second_tab, _) = Tab::open(&server, &users[0]).await;
    let (mut bob, _) = Tab::open(&server, &users[1]).await;
    bob.join(lobby).await;

    let send = |nonce: &str| {
        let nonce = nonce.to_owned();
        move |request_id| ClientCommand::Send {
            request_id,
            room_id: lobby,
            body: "only once".into(),
            nonce,
        }
    };
    // The first try, an immediate retry on the same socket, and a retry from another tab
    // after a reconnect: one message.
    first_tab.command(send("n-1")).await;
    first_tab.command(send("n-1")).await;
    let original = bob
        .until(|event| match event {
            ServerEvent::Message { message } if message.body == "only once" => Some(message),
            _ => None,
        })
        .await;
    second_tab.command(send("n-1")).await;
    let answer = second_tab
        .until(|event| match event {
            ServerEvent::Message { message } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(
        answer, original,
        "a retry is answered with the stored message"
    );
    assert_eq!(original.nonce.as_deref(), Some("n-1"));
    let to_first: Vec<i64> = first_tab
        .drain()
        .await
        .into_iter()
        .filter_map(|event| match event {
            ServerEvent::Message { message } => Some(message.seq),
            _ => None,
        })
        .collect();
    assert!(
        to_first.iter().all(|seq| *seq == original.seq),
        "the retrying tab only ever hears of seq {}: {to_first:?}",
        original.seq
    );
    assert!(
        common::messages(&bob.drain().await).is_empty(),
        "others hear of it once"
    );
    // Another nonce is another message; the same nonce from another user is theirs.
    first_tab.command(send("n-2")).await;
    bob.command(send("n-1")).await;
    let mut seqs = Vec::new();
    while seqs.len() < 2 {
        if let ServerEvent::Message { message } = bob.next().await {
            seqs.push(message.seq);
        }
    }
    seqs.sort_unstable();
    assert_eq!(seqs, [original.seq + 1, original.seq + 2]);

    // A missing or oversized nonce is refused.
    let asked = first_tab.command(send("")).await;
    assert_eq!(first_tab.error_for(asked).await, ErrorCode::InvalidCommand);
    let asked = first_tab.command(send(&"n".repeat(65))).await;
    assert_eq!(first_tab.error_for(asked).await, ErrorCode::InvalidCommand);
}

/// The `message_changed` event for `id`.
async fn changed(tab: &mut Tab, id: MessageId) -> ChatMessage {
    tab.until(|event| match event {
        ServerEvent::MessageChanged { message } if message.id == id => Some(message),
        _ => None,
    })
    .await
}

async fn authors_edit_authors_and_admins_delete(db: String) {
    let (server, mut admin, users) = fast_server(db, &["alice", "bob", "carol"]).await;
    let lobby = server.create_room(&mut admin, "Lobby", false).await;
    let (mut alice, _) = Tab::open(&server, &users[0]).await;
    alice.join(lobby).await;
    let (mut bob, _) = Tab::open(&server, &users[1]).await;
    bob.join(lobby).await;
    let (mut root, _) = Tab::open(&server, &admin).await;
    root.join(lobby).await;
    let (mut carol, _) = Tab::open(&server, &users[2]).await;

    alice.say(lobby, "typo teh").await;
    bob.say(lobby, "bob's words").await;
    let mut posted = BTreeMap::new();
    while posted.len() < 2 {
        if let ServerEvent::Message { message } = root.next().await {
            posted.insert(message.author.username.clone(), message);
        }
    }
    let (by_alice, by_bob) = (posted["alice"].id, posted["bob"].id);
    let edit = |message_id: MessageId, body: &str| {
        let body = body.to_owned();
        move |request_id| ClientCommand::Edit {
            request_id,
            message_id,
            body,
        }
    };
    let delete = |message_id: MessageId| {
        move |request_id| ClientCommand::Delete {
            request_id,
            message_id,
        }
    };

    // Others cannot edit or delete alice's message; the admin cannot edit it either.
    let asked = bob.command(edit(by_alice, "hijacked")).await;
    assert_eq!(bob.error_for(asked).await, ErrorCode::Forbidden);
    let asked = bob.command(delete(by_alice)).await;
    assert_eq!(bob.error_for(asked).await, ErrorCode::Forbidden);
    let asked = root.command(edit(by_alice, "admin words")).await;
    assert_eq!(root.error_for(asked).await, ErrorCode::Forbidden);
    // Outside the room, a message does not exist; nor does a made-up one; nor empty text.
    let asked = carol.command(edit(by_alice, "hi")).await;
    assert_eq!(carol.error_for(asked).await, ErrorCode::UnknownMessage);
    let asked = alice.command(edit(MessageId(987_654), "hi")).await;
    assert_eq!(alice.error_for(asked).await, ErrorCode::UnknownMessage);
    let asked = alice.command(edit(by_alice, "   ")).await;
    assert_eq!(alice.error_for(asked).await, ErrorCode::EmptyMessage);

    // The author edits: everyone sees it live.
    alice.command(edit(by_alice, "typo the")).await;
    let seen_by_bob = changed(&mut bob, by_alice).await;
    assert_eq!(seen_by_bob, changed(&mut alice, by_alice).await);
    assert_eq!(seen_by_bob.body, "typo the");
    assert!(seen_by_bob.edited_at.is_some() && !seen_by_bob.deleted);
    assert_eq!(seen_by_bob.seq, posted["alice"].seq);

    // The admin deletes bob's message; bob deletes his own (already gone: refused).
    root.command(delete(by_bob)).await;
    let tombstone = changed(&mut bob, by_bob).await;
    assert!(tombstone.deleted);
    assert_eq!(tombstone.body, "");
    let asked = bob.command(delete(by_bob)).await;
    assert_eq!(bob.error_for(asked).await, ErrorCode::Forbidden);
    let asked = bob.command(edit(by_bob, "back")).await;
    assert_eq!(bob.error_for(asked).await, ErrorCode::Forbidden);
    // The author deletes their own (root also saw the edit before).
    alice.command(delete(by_alice)).await;
    let seen_by_root = root
        .until(|event| match event {
            ServerEvent::MessageChanged { message }
                if message.id == by_alice && message.deleted =>
            {
                Some(message)
            }
            _ => None,
        })
        .await;
    assert_eq!(seen_by_root.body, "");

    // History, for a newcomer, shows the same: tombstones keep their seqs.
    let (mut later, _) = Tab::open(&server, &users[2]).await;
    later.join(lobby).await;
    let asked = later
        .command(|request_id| ClientCommand::History {
            request_id,
            room_id: lobby,
            before_seq: i64::MAX,
        })
        .await;
    let page = later
        .until(|event| match event {
            ServerEvent::History {
                request_id,
                messages,
                ..
            } if request_id == asked => Some(messages),
            _ => None,
        })
        .await;
    let shown: Vec<(i64, &str, bool)> = page
        .iter()
        .map(|m| (m.seq, m.body.as_str(), m.deleted))
        .collect();
    assert_eq!(shown, [(1, "", true), (2, "", true)]);
    // alice and bob sent at once, so either may hold seq 1: find each by id.
    let edited = |id: MessageId| page.iter().any(|m| m.id == id && m.edited_at.is_some());
    assert!(edited(by_alice), "alice's edit is remembered");
    assert!(!edited(by_bob), "bob's message was never edited");
}
