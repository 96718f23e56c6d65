//! Conversations over real sockets: closed rooms, direct conversations and rooms users create.
//!
//! The access test checks, for every (user, room) pair over every room kind, that the room
//! list, join, send, history, catch-up, edit, delete and live delivery all give the answer of
//! the policy (`chat::access::decide`, whose own table test pins the answers) — before and after
//! membership and kind changes, on SQLite, on PostgreSQL, and across two nodes sharing
//! PostgreSQL and Redis. The other tests cover direct conversations being found again (also
//! when two people start one at the same moment), bad input, and membership changes reaching
//! every tab at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    Client, Tab, TestServer, generous_limits, listed_rooms, location, server_with_users, two_nodes,
};
use protocol::{
    ClientCommand, ErrorCode, LeftReason, MessageId, RequestId, RoomId, RoomInfo, RoomKind,
    ServerEvent, UserId,
};
use std::collections::HashSet;
use whisper::chat::access::{self, Action, Denied, Viewer};
use whisper::config::RoomCreation;
use whisper::pause::Point;

on_both_databases!(
    every_user_and_room_agree_with_the_policy,
    direct_conversations_are_found_again_by_their_people,
    bad_conversation_input_gets_specific_errors_and_stores_nothing,
    membership_changes_reach_every_tab_at_once,
);

/// The code a refusal of the policy reaches the client as.
fn code(denied: Denied) -> ErrorCode {
    match denied {
        Denied::StaffOnly => ErrorCode::StaffOnly,
        Denied::NotMember => ErrorCode::NotJoined,
        Denied::Hidden => ErrorCode::UnknownRoom,
        Denied::NotAuthor | Denied::NotAuthorOrAdmin => ErrorCode::Forbidden,
        Denied::NotManager => ErrorCode::NotManager,
        Denied::DirectIsFixed => ErrorCode::DirectIsFixed,
        Denied::CannotCreate => ErrorCode::CreationRestricted,
    }
}

/// The same for a command on a message: outside the room, the message does not exist.
fn message_code(denied: Denied) -> ErrorCode {
    match denied {
        Denied::StaffOnly | Denied::NotMember | Denied::Hidden => ErrorCode::UnknownMessage,
        other => code(other),
    }
}

/// One of the test's people.
struct Person {
    name: &'static str,
    id: UserId,
    viewer: Viewer,
    client: Client,
}

/// One of the test's rooms, and who the test knows to be in it.
struct Place {
    name: &'static str,
    id: RoomId,
    kind: RoomKind,
    members: HashSet<UserId>,
    /// A message in it, and who wrote it (a member, who also posts the probes).
    seed: MessageId,
    author: usize,
}

impl Place {
    fn decide(&self, person: &Person, action: Action) -> Result<(), Denied> {
        let member = self.members.contains(&person.id);
        access::decide(person.viewer, self.kind, member, action)
    }
}

/// The `joined` answering `request_id` (or any `joined` of `room`, when given).
async fn joined(tab: &mut Tab, request_id: RequestId) -> Result<RoomInfo, ErrorCode> {
    tab.until(|event| match event {
        ServerEvent::Joined {
            request_id: Some(id),
            room,
            ..
        } if id == request_id => Some(Ok(room)),
        ServerEvent::Error {
            request_id: Some(id),
            code,
            ..
        } if id == request_id => Some(Err(code)),
        _ => None,
    })
    .await
}

/// Posts `body` in `room` and returns the stored message's id.
async fn post(tab: &mut Tab, room: RoomId, body: &str) -> MessageId {
    tab.say(room, body).await;
    tab.until(|event| match event {
        ServerEvent::Message { message } if message.body == body => Some(message.id),
        _ => None,
    })
    .await
}

async fn create_room(tab: &mut Tab, title: &str, kind: RoomKind, members: &[UserId]) -> RoomInfo {
    let members = members.to_vec();
    let title = title.to_owned();
    let request = tab
        .command(|request_id| ClientCommand::CreateRoom {
            request_id,
            title,
            kind,
            members,
        })
        .await;
    joined(tab, request).await.expect("room created")
}

async fn open_direct(tab: &mut Tab, with: &[UserId]) -> Result<RoomInfo, ErrorCode> {
    let with = with.to_vec();
    let request = tab
        .command(|request_id| ClientCommand::OpenDirect { request_id, with })
        .await;
    joined(tab, request).await
}

/// Every person's tab, each on one of `nodes` in turn, and the rooms each `hello` listed.
async fn open_tabs(nodes: &[&TestServer], people: &[Person]) -> (Vec<Tab>, Vec<Vec<RoomId>>) {
    let mut tabs = Vec::new();
    let mut listed = Vec::new();
    for (i, person) in people.iter().enumerate() {
        let (tab, hello) = Tab::open(nodes[i % nodes.len()], &person.client).await;
        listed.push(listed_rooms(&hello).iter().map(|room| room.id).collect());
        tabs.push(tab);
    }
    (tabs, listed)
}

/// One round of the access test: every person against every place, on every path.
async fn check_every_pair(
    nodes: &[&TestServer],
    people: &[Person],
    places: &mut [Place],
    round: u32,
) {
    let (mut tabs, listed) = open_tabs(nodes, people).await;
    for (p, person) in people.iter().enumerate() {
        for place in places.iter_mut() {
            let what = format!("round {round}: {} in {}", person.name, place.name);
            let tab = &mut tabs[p];
            // Listed in `hello`?
            assert_eq!(
                listed[p].contains(&place.id),
                place.decide(person, Action::List).is_ok(),
                "{what}: list"
            );
            // History and catch-up pages.
            let read = place.decide(person, Action::Read).map_err(code);
            let room_id = place.id;
            let history = tab
                .command(|request_id| ClientCommand::History {
                    request_id,
                    room_id,
                    before_seq: i64::MAX,
                })
                .await;
            assert_eq!(
                tab.outcome(history).await.map(|_| ()),
                read,
                "{what}: history"
            );
            let missed = tab
                .command(|request_id| ClientCommand::Missed {
                    request_id,
                    room_id,
                    after_seq: 0,
                    before_seq: None,
                })
                .await;
            assert_eq!(
                tab.outcome(missed).await.map(|_| ()),
                read,
                "{what}: missed"
            );
            // Editing and deleting someone's message.
            let own = place.author == p;
            let seed = place.seed;
            let edit_expected = place
                .decide(person, Action::Edit { own })
                .map_err(message_code);
            let body = format!("seed, edited by {} in round {round}", person.name);
            let edit = tab
                .command(|request_id| ClientCommand::Edit {
                    request_id,
                    message_id: seed,
                    body,
                })
                .await;
            assert_eq!(
                tab.outcome(edit).await.map(|_| ()),
                edit_expected,
                "{what}: edit"
            );
            if !own {
                let expected = place
                    .decide(person, Action::Delete { own: false })
                    .map_err(message_code);
                // A deletion that must go through takes a message of its own, so the seed
                // stays for the others.
                let target = if expected.is_ok() {
                    let victim = format!("victim r{round} {} {}", place.name, person.name);
                    post(&mut tabs[place.author], room_id, &victim).await
                } else {
                    seed
                };
                let tab = &mut tabs[p];
                let delete = tab
                    .command(|request_id| ClientCommand::Delete {
                        request_id,
                        message_id: target,
                    })
                    .await;
                assert_eq!(
                    tab.outcome(delete).await.map(|_| ()),
                    expected,
                    "{what}: delete"
                );
            }
            // Sending.
            let tab = &mut tabs[p];
            let send = tab
                .say(room_id, &format!("r{round} {} says hi", person.name))
                .await;
            let expected = place.decide(person, Action::Send).map_err(code);
            assert_eq!(
                tab.outcome(send).await.map(|_| ()),
                expected,
                "{what}: send"
            );
            // Joining; a join that goes through makes them a member from now on.
            let expected = place.decide(person, Action::Join).map_err(code);
            let join = tab
                .command(|request_id| ClientCommand::Join {
                    request_id,
                    room_id,
                })
                .await;
            let outcome = tab.outcome(join).await;
            assert_eq!(
                outcome.as_ref().map(|_| ()).map_err(|c| *c),
                expected,
                "{what}: join"
            );
            if expected.is_ok() {
                place.members.insert(person.id);
            }
        }
    }
    // Live delivery: each place's author posts a probe; exactly its readers receive it. Each
    // tab waits for every probe it must get (across nodes they take a moment), then drains:
    // a probe it must not get fails either way.
    let probe = |place: &Place| format!("probe r{round} {}", place.name);
    for place in places.iter() {
        tabs[place.author].say(place.id, &probe(place)).await;
    }
    for (p, person) in people.iter().enumerate() {
        let expected: HashSet<String> = places
            .iter()
            .filter(|place| place.decide(person, Action::Read).is_ok())
            .map(probe)
            .collect();
        let all: HashSet<String> = places.iter().map(probe).collect();
        let mut received = HashSet::new();
        let tab = &mut tabs[p];
        while !expected.is_subset(&received) {
            if let ServerEvent::Message { message } = tab.next().await
                && all.contains(&message.body)
            {
                received.insert(message.body);
            }
        }
        for event in tab.drain().await {
            if let ServerEvent::Message { message } = event
                && all.contains(&message.body)
            {
                received.insert(message.body);
            }
        }
        assert_eq!(received, expected, "round {round}: {} live", person.name);
    }
}

/// The people (root: admin and staff; carol: staff; the rest plain) and a room of every kind,
/// each with a seed message, made through `nodes[0]`.
async fn cast(nodes: &[&TestServer]) -> (Vec<Person>, Vec<Place>) {
    let server = nodes[0];
    let (mut admin, users) = server.with_users(&["alice", "bob", "carol", "dave"]).await;
    let carol_id = server.user_id(&mut admin, "carol").await;
    let staffed = admin
        .post_form(
            &format!("/admin/users/{carol_id}/staff"),
            &[("value", "true")],
        )
        .await;
    assert_eq!(location(&staffed), "/admin/users?notice=roles_updated");
    let names = ["root", "alice", "bob", "carol", "dave"];
    let mut ids = Vec::new();
    for name in names {
        ids.push(server.user_id(&mut admin, name).await);
    }
    let mut people = Vec::new();
    let mut clients = vec![admin];
    clients.extend(users);
    for ((name, id), client) in names.into_iter().zip(ids).zip(clients) {
        let viewer = Viewer {
            is_staff: name == "root" || name == "carol",
            is_admin: name == "root",
        };
        people.push(Person {
            name,
            id,
            viewer,
            client,
        });
    }
    let (root, alice, bob, carol) = (0, 1, 2, 3);
    let open = server
        .create_room(&mut people[root].client, "Open", false)
        .await;
    let staff = server
        .create_room(&mut people[root].client, "Staff", true)
        .await;
    let (mut tabs, _) = open_tabs(&[server], &people).await;
    tabs[root].join(open).await;
    tabs[root].join(staff).await;
    let closed = create_room(
        &mut tabs[alice],
        "Closed",
        RoomKind::Closed,
        &[people[bob].id],
    )
    .await;
    let garden = create_room(&mut tabs[alice], "Garden", RoomKind::Open, &[]).await;
    let direct = open_direct(&mut tabs[bob], &[people[alice].id])
        .await
        .unwrap();
    let notes = open_direct(&mut tabs[carol], &[]).await.unwrap();
    let mut places = Vec::new();
    for (name, id, kind, author, members) in [
        ("Open", open, RoomKind::Open, root, vec![root]),
        ("Staff", staff, RoomKind::StaffOnly, root, vec![root]),
        (
            "Closed",
            closed.id,
            RoomKind::Closed,
            alice,
            vec![alice, bob],
        ),
        ("Garden", garden.id, RoomKind::Open, alice, vec![alice]),
        ("Direct", direct.id, RoomKind::Direct, bob, vec![alice, bob]),
        ("Notes", notes.id, RoomKind::Direct, carol, vec![carol]),
    ] {
        let seed = post(&mut tabs[author], id, &format!("seed of {name}")).await;
        places.push(Place {
            name,
            id,
            kind,
            members: members.iter().map(|&i| people[i].id).collect(),
            seed,
            author,
        });
    }
    (people, places)
}

/// The managers' changes between rounds: alice removes bob from her closed room and adds
/// dave, and turns her open room closed (its members stay).
async fn change_memberships(server: &TestServer, people: &[Person], places: &mut [Place]) {
    let (alice, bob, dave) = (&people[1], &people[2], &people[4]);
    let (mut tab, _) = Tab::open(server, &alice.client).await;
    let closed = places
        .iter()
        .position(|place| place.name == "Closed")
        .unwrap();
    let garden = places
        .iter()
        .position(|place| place.name == "Garden")
        .unwrap();
    let room_id = places[closed].id;
    let (bob_id, dave_id) = (bob.id, dave.id);
    let remove = tab
        .command(|request_id| ClientCommand::RemoveMember {
            request_id,
            room_id,
            user_id: bob_id,
        })
        .await;
    tab.outcome(remove).await.unwrap();
    let add = tab
        .command(|request_id| ClientCommand::AddMembers {
            request_id,
            room_id,
            users: vec![dave_id],
        })
        .await;
    tab.outcome(add).await.unwrap();
    places[closed].members.remove(&bob_id);
    places[closed].members.insert(dave_id);
    let room_id = places[garden].id;
    let close = tab
        .command(|request_id| ClientCommand::SetRoomKind {
            request_id,
            room_id,
            kind: RoomKind::Closed,
        })
        .await;
    tab.outcome(close).await.unwrap();
    places[garden].kind = RoomKind::Closed;
}

async fn every_user_and_room_agree_with_the_policy(db: String) {
    let server = TestServer::start_with(generous_limits(&db)).await;
    let (people, mut places) = cast(&[&server]).await;
    check_every_pair(&[&server], &people, &mut places, 1).await;
    change_memberships(&server, &people, &mut places).await;
    check_every_pair(&[&server], &people, &mut places, 2).await;
}

/// The same on two nodes: each person's tab on one or the other, changes made on either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_user_and_room_agree_with_the_policy_on_two_nodes() {
    let Some((_database, a, b)) = two_nodes().await else {
        return;
    };
    let (people, mut places) = cast(&[&a, &b]).await;
    check_every_pair(&[&a, &b], &people, &mut places, 1).await;
    change_memberships(&b, &people, &mut places).await;
    check_every_pair(&[&b, &a], &people, &mut places, 2).await;
}

/// Signed-in tabs of root, alice, bob, carol and dave on a fresh server, with their ids.
async fn five_tabs(server: &TestServer) -> (Vec<Tab>, Vec<UserId>, Client) {
    let (mut admin, users) = server.with_users(&["alice", "bob", "carol", "dave"]).await;
    let mut ids = Vec::new();
    for name in ["root", "alice", "bob", "carol", "dave"] {
        ids.push(server.user_id(&mut admin, name).await);
    }
    let (root, _) = Tab::open(server, &admin).await;
    let mut tabs = vec![root];
    for client in &users {
        tabs.push(Tab::open(server, client).await.0);
    }
    (tabs, ids, admin)
}

async fn direct_conversations_are_found_again_by_their_people(db: String) {
    let server = TestServer::start_with(generous_limits(&db)).await;
    let (mut tabs, ids, _admin) = five_tabs(&server).await;
    let (alice, bob, carol, dave) = (1, 2, 3, 4);

    // Started from either side, it is the one conversation; the other side hears of it at once.
    let started = open_direct(&mut tabs[alice], &[ids[bob]]).await.unwrap();
    assert_eq!(started.kind, RoomKind::Direct);
    let heard = tabs[bob]
        .until(|event| match event {
            ServerEvent::Joined { room, members, .. } => Some((room, members)),
            _ => None,
        })
        .await;
    assert_eq!(heard.0.id, started.id);
    let names: Vec<&str> = heard.1.iter().map(|m| m.username.as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);
    let again = open_direct(&mut tabs[bob], &[ids[alice]]).await.unwrap();
    assert_eq!(
        again.id, started.id,
        "the same people, the same conversation"
    );
    let listed_self = open_direct(&mut tabs[alice], &[ids[bob], ids[alice]])
        .await
        .unwrap();
    assert_eq!(listed_self.id, started.id, "naming oneself changes nothing");

    // Two people starting the same conversation at the same moment get one: carol's request
    // is held after finding none, dave's creates it, then carol's goes on.
    let mut held = server.state.pauses.arm(Point::DirectLookedUp);
    let dave_id = ids[dave];
    let carols = tabs[carol]
        .command(|request_id| ClientCommand::OpenDirect {
            request_id,
            with: vec![dave_id],
        })
        .await;
    held.reached().await;
    let daves = open_direct(&mut tabs[dave], &[ids[carol]]).await.unwrap();
    held.release();
    let carols = joined(&mut tabs[carol], carols).await.unwrap();
    assert_eq!(carols.id, daves.id, "one conversation for both");

    // Notes to self.
    let notes = open_direct(&mut tabs[carol], &[]).await.unwrap();
    assert_eq!(
        open_direct(&mut tabs[carol], &[ids[carol]])
            .await
            .unwrap()
            .id,
        notes.id
    );

    // Nobody else sees them, and none can be reshaped.
    let (_, hello) = Tab::open(&server, &server.login("alice", "a-password").await).await;
    let listed: Vec<RoomId> = listed_rooms(&hello).iter().map(|room| room.id).collect();
    assert!(listed.contains(&started.id));
    assert!(!listed.contains(&daves.id) && !listed.contains(&notes.id));
    let room_id = started.id;
    let carol_id = ids[carol];
    for (who, expected) in [
        (alice, ErrorCode::DirectIsFixed),
        (carol, ErrorCode::UnknownRoom),
    ] {
        let tab = &mut tabs[who];
        for command in [
            ClientCommand::AddMembers {
                request_id: RequestId(0),
                room_id,
                users: vec![carol_id],
            },
            ClientCommand::RemoveMember {
                request_id: RequestId(0),
                room_id,
                user_id: ids[bob],
            },
            ClientCommand::SetRoomKind {
                request_id: RequestId(0),
                room_id,
                kind: RoomKind::Open,
            },
            ClientCommand::RenameRoom {
                request_id: RequestId(0),
                room_id,
                title: "Ours".into(),
            },
            ClientCommand::DeleteRoom {
                request_id: RequestId(0),
                room_id,
            },
            ClientCommand::Leave {
                request_id: RequestId(0),
                room_id,
            },
        ] {
            let request = tab
                .command(|request_id| with_request(command, request_id))
                .await;
            let what = format!("{who} {request:?}");
            assert_eq!(
                tab.outcome(request).await.map(|_| ()),
                Err(expected),
                "{what}"
            );
        }
    }
    // The admin area lists no direct conversations.
    let mut admin = server.login("root", "s3cret-pass").await;
    let managed: Vec<RoomInfo> = admin
        .post_form("/api/list_rooms", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(
        managed.iter().all(|room| room.kind != RoomKind::Direct),
        "{managed:?}"
    );
}

/// `command` with its request id replaced.
fn with_request(command: ClientCommand, id: RequestId) -> ClientCommand {
    let mut json = serde_json::to_value(command).unwrap();
    json["request_id"] = id.0.into();
    serde_json::from_value(json).unwrap()
}

async fn bad_conversation_input_gets_specific_errors_and_stores_nothing(db: String) {
    let server = TestServer::start_with(generous_limits(&db)).await;
    let (mut tabs, ids, mut admin) = five_tabs(&server).await;
    let (alice, bob, dave) = (1, 2, 4);
    let disabled = admin
        .post_form(
            &format!("/admin/users/{}/disabled", ids[dave]),
            &[("value", "true")],
        )
        .await;
    assert_eq!(location(&disabled), "/admin/users?notice=user_disabled");
    let unknown = UserId(999_999);
    let many: Vec<UserId> = (1000..1051).map(UserId).collect();
    let others: Vec<UserId> = (100..108).map(UserId).collect();
    let create = |title: &str, kind: RoomKind, members: Vec<UserId>| ClientCommand::CreateRoom {
        request_id: RequestId(0),
        title: title.to_owned(),
        kind,
        members,
    };
    let direct = |with: Vec<UserId>| ClientCommand::OpenDirect {
        request_id: RequestId(0),
        with,
    };
    let cases = [
        (create("   ", RoomKind::Open, vec![]), ErrorCode::EmptyTitle),
        (
            create("\u{200B}", RoomKind::Open, vec![]),
            ErrorCode::EmptyTitle,
        ),
        (
            create(&"x".repeat(81), RoomKind::Open, vec![]),
            ErrorCode::TitleTooLong,
        ),
        (
            create("Ok", RoomKind::Closed, vec![unknown]),
            ErrorCode::UnknownUser,
        ),
        (
            create("Ok", RoomKind::Closed, vec![ids[bob], ids[bob]]),
            ErrorCode::DuplicateUser,
        ),
        (
            create("Ok", RoomKind::Closed, many),
            ErrorCode::TooManyMembers,
        ),
        (
            create("Ok", RoomKind::Closed, vec![ids[bob], ids[dave]]),
            ErrorCode::UserDisabled,
        ),
        (
            create("Ok", RoomKind::StaffOnly, vec![]),
            ErrorCode::InvalidKind,
        ),
        (
            create("Ok", RoomKind::Direct, vec![]),
            ErrorCode::InvalidKind,
        ),
        (direct(vec![unknown]), ErrorCode::UnknownUser),
        (direct(vec![ids[bob], unknown]), ErrorCode::UnknownUser),
        (direct(vec![ids[dave]]), ErrorCode::UserDisabled),
        (direct(vec![ids[bob], ids[bob]]), ErrorCode::DuplicateUser),
        (direct(others), ErrorCode::TooManyMembers),
    ];
    for (command, expected) in cases {
        let what = format!("{command:?}");
        let tab = &mut tabs[alice];
        let request = tab
            .command(|request_id| with_request(command, request_id))
            .await;
        assert_eq!(
            tab.outcome(request).await.map(|_| ()),
            Err(expected),
            "{what}"
        );
    }
    // Nothing was stored: no room in the admin list, none in alice's or bob's list.
    let managed: Vec<RoomInfo> = admin
        .post_form("/api/list_rooms", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(managed.is_empty(), "{managed:?}");
    for name in ["alice", "bob"] {
        let (_, hello) = Tab::open(&server, &server.login(name, "a-password").await).await;
        let rooms = listed_rooms(&hello);
        let ServerEvent::Hello { memberships, .. } = hello else {
            unreachable!()
        };
        assert!(
            rooms.is_empty() && memberships.is_empty(),
            "{name}: {rooms:?}"
        );
    }

    // Managing needs to be the creator or an admin.
    let room = create_room(&mut tabs[alice], "Alice's", RoomKind::Open, &[]).await;
    let room_id = room.id;
    let rename = tabs[bob]
        .command(|request_id| ClientCommand::RenameRoom {
            request_id,
            room_id,
            title: "Bob's now".into(),
        })
        .await;
    assert_eq!(
        tabs[bob].outcome(rename).await.map(|_| ()),
        Err(ErrorCode::NotManager)
    );
    let rename = tabs[0]
        .command(|request_id| ClientCommand::RenameRoom {
            request_id,
            room_id,
            title: "Renamed by root".into(),
        })
        .await;
    assert!(
        tabs[0].outcome(rename).await.is_ok(),
        "admins manage every room"
    );
    // Made staff-only by an admin, the room is no longer its non-staff creator's to manage:
    // she cannot open it up again (and so read it).
    let staffed = admin
        .post_form(
            &format!("/admin/rooms/{room_id}/kind"),
            &[("kind", "staff_only")],
        )
        .await;
    assert_eq!(location(&staffed), "/admin/rooms?notice=room_updated");
    let reopen = tabs[alice]
        .command(|request_id| ClientCommand::SetRoomKind {
            request_id,
            room_id,
            kind: RoomKind::Open,
        })
        .await;
    assert_eq!(
        tabs[alice].outcome(reopen).await.map(|_| ()),
        Err(ErrorCode::StaffOnly)
    );
}

async fn membership_changes_reach_every_tab_at_once(db: String) {
    let server = TestServer::start_with(generous_limits(&db)).await;
    let (mut tabs, ids, _admin) = five_tabs(&server).await;
    let (alice, bob, carol, dave) = (1, 2, 3, 4);
    let bob_client = server.login("bob", "a-password").await;
    let carol_client = server.login("carol", "a-password").await;
    let (mut bob_second, _) = Tab::open(&server, &bob_client).await;
    let (mut carol_second, _) = Tab::open(&server, &carol_client).await;

    // A closed room with bob: both his tabs have it; carol's and dave's hear nothing of it.
    let room = create_room(&mut tabs[alice], "Plans", RoomKind::Closed, &[ids[bob]]).await;
    let room_id = room.id;
    for tab in [&mut tabs[bob], &mut bob_second] {
        let seen = tab.drain().await;
        assert!(
            seen.iter()
                .any(|e| matches!(e, ServerEvent::Joined { room, .. } if room.id == room_id))
        );
    }
    post(&mut tabs[alice], room_id, "before carol").await;
    let [carol_tab, dave_tab] = tabs.get_disjoint_mut([carol, dave]).unwrap();
    for tab in [carol_tab, &mut carol_second, dave_tab] {
        let seen = tab.drain().await;
        assert!(seen.is_empty(), "an outsider hears nothing: {seen:?}");
    }

    // Added: every tab of carol's gets it with its recent messages.
    let carol_id = ids[carol];
    let add = tabs[alice]
        .command(|request_id| ClientCommand::AddMembers {
            request_id,
            room_id,
            users: vec![carol_id],
        })
        .await;
    tabs[alice].outcome(add).await.unwrap();
    for tab in [&mut tabs[carol], &mut carol_second] {
        let recent = tab
            .until(|event| match event {
                ServerEvent::Joined { room, recent, .. } if room.id == room_id => Some(recent),
                _ => None,
            })
            .await;
        assert!(recent.iter().any(|m| m.body == "before carol"));
    }
    post(&mut tabs[alice], room_id, "with carol").await;
    // Waited for, not drained: alice's own copy may go out before carol's is queued.
    tabs[carol]
        .until(|event| match event {
            ServerEvent::Message { message } if message.body == "with carol" => Some(()),
            _ => None,
        })
        .await;

    // Removed: gone from every tab at once, and every path refuses her from then on.
    let remove = tabs[alice]
        .command(|request_id| ClientCommand::RemoveMember {
            request_id,
            room_id,
            user_id: carol_id,
        })
        .await;
    tabs[alice].outcome(remove).await.unwrap();
    for tab in [&mut tabs[carol], &mut carol_second] {
        let reason = tab
            .until(|event| match event {
                ServerEvent::Left {
                    room_id: id,
                    reason,
                    ..
                } if id == room_id => Some(reason),
                _ => None,
            })
            .await;
        assert_eq!(reason, LeftReason::Removed);
    }
    post(&mut tabs[alice], room_id, "after carol").await;
    let seen = tabs[carol].drain().await;
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, ServerEvent::Message { .. })),
        "{seen:?}"
    );
    let history = tabs[carol]
        .command(|request_id| ClientCommand::History {
            request_id,
            room_id,
            before_seq: i64::MAX,
        })
        .await;
    assert_eq!(
        tabs[carol].outcome(history).await.map(|_| ()),
        Err(ErrorCode::UnknownRoom)
    );
    let send = tabs[carol].say(room_id, "let me back").await;
    assert_eq!(
        tabs[carol].outcome(send).await.map(|_| ()),
        Err(ErrorCode::UnknownRoom)
    );

    // An open room turning closed: dave (who joined) keeps it, bob's list loses it.
    let garden = create_room(&mut tabs[alice], "Garden", RoomKind::Open, &[]).await;
    tabs[dave].join(garden.id).await;
    tabs[bob].drain().await;
    let garden_id = garden.id;
    let close = tabs[alice]
        .command(|request_id| ClientCommand::SetRoomKind {
            request_id,
            room_id: garden_id,
            kind: RoomKind::Closed,
        })
        .await;
    tabs[alice].outcome(close).await.unwrap();
    let updated = tabs[dave]
        .until(|event| match event {
            ServerEvent::RoomUpdated { room } if room.id == garden_id => Some(room),
            _ => None,
        })
        .await;
    assert_eq!(updated.kind, RoomKind::Closed);
    let seen = tabs[bob].drain().await;
    assert!(
        seen.iter()
            .any(|e| matches!(e, ServerEvent::RoomRemoved { room_id } if *room_id == garden_id)),
        "{seen:?}"
    );
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, ServerEvent::RoomUpdated { .. }))
    );

    // Deleted: gone from its members' lists; nobody else hears of it.
    let delete = tabs[alice]
        .command(|request_id| ClientCommand::DeleteRoom {
            request_id,
            room_id,
        })
        .await;
    tabs[alice].outcome(delete).await.unwrap();
    for tab in [&mut tabs[bob], &mut bob_second] {
        tab.until(|event| match event {
            ServerEvent::RoomRemoved { room_id: id } if id == room_id => Some(()),
            _ => None,
        })
        .await;
    }
    let seen = tabs[dave].drain().await;
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, ServerEvent::RoomRemoved { room_id: id } if *id == room_id))
    );
}

/// `WHISPER_ROOM_CREATION=admins`: users may not create rooms, admins may, and anyone may
/// still start a direct conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_creation_can_be_restricted_to_admins() {
    let database = common::fresh_database(common::Backend::Sqlite)
        .await
        .unwrap();
    let mut config = generous_limits(&database.url);
    config.room_creation = RoomCreation::Admins;
    let (server, admin, users) = server_with_users(config, &["alice", "bob"]).await;
    let (mut alice, _) = Tab::open(&server, &users[0]).await;
    let (mut root, _) = Tab::open(&server, &admin).await;
    let request = alice
        .command(|request_id| ClientCommand::CreateRoom {
            request_id,
            title: "Mine".into(),
            kind: RoomKind::Open,
            members: vec![],
        })
        .await;
    assert_eq!(
        alice.outcome(request).await.map(|_| ()),
        Err(ErrorCode::CreationRestricted)
    );
    create_room(&mut root, "Admins may", RoomKind::Closed, &[]).await;
    open_direct(&mut alice, &[]).await.unwrap();
}
