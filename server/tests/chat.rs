//! Rooms and live chat over real WebSockets: messages reach exactly a room's members, staff-only
//! rooms hold under every path, bad commands get precise errors on a socket that stays usable,
//! and one user's tabs stay in step. Every test runs on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, Tab, TestServer, listed_rooms, location, messages, server_with_users};
use protocol::{
    ClientCommand, ErrorCode, LeftReason, MAX_MESSAGE_CHARS, RoomId, RoomKind, ServerEvent,
};
use whisper::config::Config;

on_both_databases!(
    two_users_chat_in_a_room,
    three_rooms_three_users_each_message_reaches_exactly_its_members,
    staff_only_rooms_refuse_non_staff_on_join_send_and_fan_out,
    bad_commands_get_errors_and_the_socket_stays_usable,
    tabs_of_one_user_share_membership_and_messages,
    room_list_changes_reach_every_tab_live,
);

/// A server with admin `root` (staff) and the given plain users, all signed in.
async fn server_with(db: String, names: &[&str]) -> (TestServer, Client, Vec<Client>) {
    server_with_users(Config::for_database(db), names).await
}

/// The message in `room` with `body`, waiting for it.
async fn receive(tab: &mut Tab, room: RoomId, body: &str) -> protocol::ChatMessage {
    tab.until(|event| match event {
        ServerEvent::Message { message } if message.room_id == room && message.body == body => {
            Some(message)
        }
        _ => None,
    })
    .await
}

async fn two_users_chat_in_a_room(db: String) {
    let (server, mut admin, users) = server_with(db, &["alice", "bob"]).await;
    let lobby = server.create_room(&mut admin, "Lobby", false).await;
    let (mut alice, hello) = Tab::open(&server, &users[0]).await;
    assert_eq!(
        listed_rooms(&hello)
            .iter()
            .map(|r| r.title.as_str())
            .collect::<Vec<_>>(),
        ["Lobby"]
    );
    let (mut bob, _) = Tab::open(&server, &users[1]).await;

    let members = alice.join(lobby).await;
    assert_eq!(
        members
            .iter()
            .map(|m| m.username.as_str())
            .collect::<Vec<_>>(),
        ["alice"]
    );
    let members = bob.join(lobby).await;
    assert_eq!(
        members
            .iter()
            .map(|m| m.username.as_str())
            .collect::<Vec<_>>(),
        ["alice", "bob"]
    );
    let newcomer = alice
        .until(|event| match event {
            ServerEvent::MemberJoined {
                room_id, member, ..
            } if room_id == lobby && member.username != "alice" => Some(member),
            _ => None,
        })
        .await;
    assert_eq!(newcomer.username, "bob");

    bob.say(lobby, "  hi <b>alice</b>  ").await;
    let seen_by_alice = receive(&mut alice, lobby, "hi <b>alice</b>").await;
    let seen_by_bob = receive(&mut bob, lobby, "hi <b>alice</b>").await;
    assert_eq!(seen_by_alice, seen_by_bob, "both get the same message");
    assert_eq!(
        (seen_by_alice.seq, seen_by_alice.author.username.as_str()),
        (1, "bob")
    );
    alice.say(lobby, "hello bob").await;
    assert_eq!(receive(&mut bob, lobby, "hello bob").await.seq, 2);

    // Leaving: bob's tab is told, alice sees the notice, and bob gets nothing more.
    bob.command(|request_id| ClientCommand::Leave {
        request_id,
        room_id: lobby,
    })
    .await;
    let reason = bob
        .until(|event| match event {
            ServerEvent::Left {
                room_id, reason, ..
            } if room_id == lobby => Some(reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, LeftReason::Left);
    alice
        .until(|event| {
            matches!(event, ServerEvent::MemberLeft { member, .. } if member.username == "bob")
                .then_some(())
        })
        .await;
    alice.say(lobby, "still there?").await;
    receive(&mut alice, lobby, "still there?").await;
    assert!(messages(&bob.drain().await).is_empty());

    // A new socket (a reload) gets the recent messages with the room.
    let (mut again, _) = Tab::open(&server, &users[0]).await;
    let recent = again
        .until(|event| match event {
            ServerEvent::Joined { room, recent, .. } if room.id == lobby => Some(recent),
            _ => None,
        })
        .await;
    let bodies: Vec<&str> = recent.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["hi <b>alice</b>", "hello bob", "still there?"]);
}

async fn three_rooms_three_users_each_message_reaches_exactly_its_members(db: String) {
    let (server, mut admin, users) = server_with(db, &["u1", "u2", "u3"]).await;
    let a = server.create_room(&mut admin, "A", false).await;
    let b = server.create_room(&mut admin, "B", false).await;
    let c = server.create_room(&mut admin, "C", false).await;
    let membership = [vec![a, b], vec![b, c], vec![a, c]];
    let mut tabs = Vec::new();
    for (client, rooms) in users.iter().zip(&membership) {
        let (mut tab, _) = Tab::open(&server, client).await;
        for room in rooms {
            tab.join(*room).await;
        }
        tabs.push(tab);
    }
    for tab in &mut tabs {
        tab.drain().await;
    }
    // Each user posts to each of their rooms, keeping every event that arrives meanwhile.
    let mut got: Vec<Vec<(RoomId, String)>> = vec![Vec::new(); tabs.len()];
    for (index, tab) in tabs.iter_mut().enumerate() {
        for room in &membership[index] {
            let body = format!("from u{} to {room}", index + 1);
            tab.say(*room, &body).await;
            loop {
                let event = tab.next().await;
                got[index].extend(messages(std::slice::from_ref(&event)));
                if matches!(&event, ServerEvent::Message { message } if message.body == body) {
                    break;
                }
            }
        }
    }
    // Each tab waits for every message it must get (a sender's own copy may go out before the
    // others' are queued), then drains: an unwanted message or a second copy already queued
    // fails the comparison.
    for (index, tab) in tabs.iter_mut().enumerate() {
        let mut want: Vec<(RoomId, String)> = Vec::new();
        for (sender, rooms) in membership.iter().enumerate() {
            for room in rooms.iter().filter(|room| membership[index].contains(room)) {
                want.push((*room, format!("from u{} to {room}", sender + 1)));
            }
        }
        want.sort();
        let mut got = std::mem::take(&mut got[index]);
        while !want.iter().all(|wanted| got.contains(wanted)) {
            got.extend(messages(&[tab.next().await]));
        }
        got.extend(messages(&tab.drain().await));
        got.sort();
        assert_eq!(
            got,
            want,
            "u{} gets exactly its rooms' messages, once each",
            index + 1
        );
    }
}

async fn staff_only_rooms_refuse_non_staff_on_join_send_and_fan_out(db: String) {
    let (server, mut admin, users) = server_with(db, &["bob", "carol"]).await;
    let carol_id = server.user_id(&mut admin, "carol").await;
    let grant = admin
        .post_form(
            &format!("/admin/users/{carol_id}/staff"),
            &[("value", "true")],
        )
        .await;
    assert_eq!(location(&grant), "/admin/users?notice=roles_updated");
    let carol_client = server.login("carol", "a-password").await;
    let staff_room = server.create_room(&mut admin, "Staff", true).await;
    let open_room = server.create_room(&mut admin, "Open", false).await;

    let (mut root, _) = Tab::open(&server, &admin).await;
    let (mut bob, _) = Tab::open(&server, &users[0]).await;
    let (mut carol, _) = Tab::open(&server, &carol_client).await;

    // Join and send are refused.
    let join = bob
        .command(|request_id| ClientCommand::Join {
            request_id,
            room_id: staff_room,
        })
        .await;
    assert_eq!(bob.error_for(join).await, ErrorCode::StaffOnly);
    let send = bob.say(staff_room, "let me in").await;
    assert_eq!(bob.error_for(send).await, ErrorCode::StaffOnly);
    root.join(staff_room).await;
    root.say(staff_room, "staff secret").await;
    receive(&mut root, staff_room, "staff secret").await;
    assert!(
        messages(&bob.drain().await).is_empty(),
        "no staff frame reaches bob"
    );

    // A public room made staff-only removes bob at once; carol (staff) stays.
    bob.join(open_room).await;
    carol.join(open_room).await;
    root.join(open_room).await;
    let flip = admin
        .post_form(
            &format!("/admin/rooms/{open_room}/kind"),
            &[("kind", "staff_only")],
        )
        .await;
    assert_eq!(location(&flip), "/admin/rooms?notice=room_updated");
    let reason = bob
        .until(|event| match event {
            ServerEvent::Left {
                room_id, reason, ..
            } if room_id == open_room => Some(reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, LeftReason::StaffOnly);
    root.say(open_room, "now staff only").await;
    receive(&mut carol, open_room, "now staff only").await;
    assert!(messages(&bob.drain().await).is_empty());
    let send = bob.say(open_room, "still here?").await;
    assert_eq!(bob.error_for(send).await, ErrorCode::StaffOnly);

    // Revoking carol's staff takes her out of the staff-only room she is in.
    let revoke = admin
        .post_form(
            &format!("/admin/users/{carol_id}/staff"),
            &[("value", "false")],
        )
        .await;
    assert_eq!(location(&revoke), "/admin/users?notice=roles_updated");
    let reason = carol
        .until(|event| match event {
            ServerEvent::Left {
                room_id, reason, ..
            } if room_id == open_room => Some(reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, LeftReason::StaffOnly);
    root.say(open_room, "carol is gone").await;
    receive(&mut root, open_room, "carol is gone").await;
    assert!(messages(&carol.drain().await).is_empty());
}

async fn bad_commands_get_errors_and_the_socket_stays_usable(db: String) {
    let (server, mut admin, users) = server_with(db, &["bob"]).await;
    let room = server.create_room(&mut admin, "Room", false).await;
    let doomed = server.create_room(&mut admin, "Doomed", false).await;
    let (mut bob, _) = Tab::open(&server, &users[0]).await;

    let unknown = bob
        .command(|request_id| ClientCommand::Join {
            request_id,
            room_id: RoomId(999_999),
        })
        .await;
    assert_eq!(bob.error_for(unknown).await, ErrorCode::UnknownRoom);
    let not_joined = bob.say(room, "hello?").await;
    assert_eq!(bob.error_for(not_joined).await, ErrorCode::NotJoined);
    let leave = bob
        .command(|request_id| ClientCommand::Leave {
            request_id,
            room_id: room,
        })
        .await;
    assert_eq!(bob.error_for(leave).await, ErrorCode::NotJoined);

    bob.join(room).await;
    for empty in ["", "   ", "\n\t "] {
        let id = bob.say(room, empty).await;
        assert_eq!(bob.error_for(id).await, ErrorCode::EmptyMessage);
    }
    let long = bob.say(room, &"x".repeat(MAX_MESSAGE_CHARS + 1)).await;
    assert_eq!(bob.error_for(long).await, ErrorCode::MessageTooLong);
    let longest = "é".repeat(MAX_MESSAGE_CHARS);
    bob.say(room, &longest).await;
    receive(&mut bob, room, &longest).await;

    bob.send_raw(r#"{"type":"send","request_id":77,"room_id":"one","body":"x"}"#)
        .await;
    assert_eq!(
        bob.error_for(protocol::RequestId(77)).await,
        ErrorCode::InvalidCommand
    );
    bob.send_raw(r#"{"type":"join","request_id":78}"#).await;
    assert_eq!(
        bob.error_for(protocol::RequestId(78)).await,
        ErrorCode::InvalidCommand
    );

    // A deleted room: members are told, and it can no longer be used.
    bob.join(doomed).await;
    let delete = admin
        .post_form(&format!("/admin/rooms/{doomed}/delete"), &[])
        .await;
    assert_eq!(location(&delete), "/admin/rooms?notice=room_deleted");
    bob.until(|event| {
        matches!(event, ServerEvent::RoomRemoved { room_id } if room_id == doomed).then_some(())
    })
    .await;
    let gone = bob.say(doomed, "anyone?").await;
    assert_eq!(bob.error_for(gone).await, ErrorCode::UnknownRoom);
    let rejoin = bob
        .command(|request_id| ClientCommand::Join {
            request_id,
            room_id: doomed,
        })
        .await;
    assert_eq!(bob.error_for(rejoin).await, ErrorCode::UnknownRoom);

    bob.say(room, "still working").await;
    receive(&mut bob, room, "still working").await;
}

async fn tabs_of_one_user_share_membership_and_messages(db: String) {
    let (server, mut admin, users) = server_with(db, &["alice"]).await;
    let room = server.create_room(&mut admin, "Room", false).await;
    let (mut first, _) = Tab::open(&server, &users[0]).await;
    let (mut second, _) = Tab::open(&server, &users[0]).await;

    first.join(room).await;
    second
        .until(|event| {
            matches!(event, ServerEvent::Joined { room: info, .. } if info.id == room).then_some(())
        })
        .await;
    second.say(room, "from the second tab").await;
    let a = receive(&mut first, room, "from the second tab").await;
    let b = receive(&mut second, room, "from the second tab").await;
    assert_eq!(a, b);

    // Membership survives a reload: a third socket is in the room from the start.
    let (mut third, _) = Tab::open(&server, &users[0]).await;
    third
        .until(|event| {
            matches!(event, ServerEvent::Joined { room: info, .. } if info.id == room).then_some(())
        })
        .await;

    second
        .command(|request_id| ClientCommand::Leave {
            request_id,
            room_id: room,
        })
        .await;
    for tab in [&mut first, &mut second, &mut third] {
        tab.until(|event| {
            matches!(event, ServerEvent::Left { room_id, .. } if room_id == room).then_some(())
        })
        .await;
    }
}

async fn room_list_changes_reach_every_tab_live(db: String) {
    let (server, mut admin, users) = server_with(db, &["alice"]).await;
    let (mut alice, _) = Tab::open(&server, &users[0]).await;
    let room = server.create_room(&mut admin, "Fresh", false).await;
    let added = alice
        .until(|event| match event {
            ServerEvent::RoomAdded { room } => Some(room),
            _ => None,
        })
        .await;
    assert_eq!(
        (added.id, added.title.as_str(), added.kind),
        (room, "Fresh", RoomKind::Open)
    );

    let rename = admin
        .post_form(
            &format!("/admin/rooms/{room}/title"),
            &[("title", "Renamed")],
        )
        .await;
    assert_eq!(location(&rename), "/admin/rooms?notice=room_renamed");
    let updated = alice
        .until(|event| match event {
            ServerEvent::RoomUpdated { room } => Some(room),
            _ => None,
        })
        .await;
    assert_eq!(updated.title, "Renamed");
    let blank = admin
        .post_form(&format!("/admin/rooms/{room}/title"), &[("title", "   ")])
        .await;
    assert_eq!(location(&blank), "/admin/rooms?error=invalid_title");

    let flip = admin
        .post_form(
            &format!("/admin/rooms/{room}/kind"),
            &[("kind", "staff_only")],
        )
        .await;
    assert_eq!(location(&flip), "/admin/rooms?notice=room_updated");
    let updated = alice
        .until(|event| match event {
            ServerEvent::RoomUpdated { room } => Some(room),
            _ => None,
        })
        .await;
    assert_eq!(updated.kind, RoomKind::StaffOnly);

    let delete = admin
        .post_form(&format!("/admin/rooms/{room}/delete"), &[])
        .await;
    assert_eq!(location(&delete), "/admin/rooms?notice=room_deleted");
    let removed = alice
        .until(|event| match event {
            ServerEvent::RoomRemoved { room_id } => Some(room_id),
            _ => None,
        })
        .await;
    assert_eq!(removed, room);
}
