//! The races of a live socket against a change of rights, each interleaved deterministically:
//! the test holds one side at a pause point (`whisper::pause`), runs the other side to the end,
//! then lets the first go on. A live socket must never keep access the database no longer
//! grants. SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Tab, location, messages, server_with_users};
use protocol::{ClientCommand, ErrorCode, LeftReason, ServerEvent};
use whisper::config::Config;
use whisper::pause::Point;

on_both_databases!(
    a_leave_while_a_socket_opens_is_not_lost,
    a_join_racing_a_switch_to_staff_only_is_refused,
    posts_are_refused_once_a_switch_to_staff_only_commits,
    a_password_reset_closes_the_users_sockets,
);

/// A second tab reads alice's rooms; before it hands them to the hub, she leaves one from her
/// first tab. The second tab must not stay in the room it read.
async fn a_leave_while_a_socket_opens_is_not_lost(url: String) {
    let (server, mut admin, users) =
        server_with_users(Config::for_database(url), &["alice", "bob"]).await;
    let room = server.create_room(&mut admin, "Lobby", false).await;
    let (mut first, _) = Tab::open(&server, &users[0]).await;
    first.join(room).await;
    let (mut bob, _) = Tab::open(&server, &users[1]).await;
    bob.join(room).await;

    let mut held = server.state.pauses.arm(Point::SocketRead);
    let opening = Tab::open(&server, &users[0]);
    let leaving = async {
        held.reached().await;
        first
            .command(|request_id| ClientCommand::Leave {
                request_id,
                room_id: room,
            })
            .await;
        first
            .until(|event| match event {
                ServerEvent::Left { room_id, .. } if room_id == room => Some(()),
                _ => None,
            })
            .await;
        held.release();
    };
    let ((mut second, hello), ()) = tokio::join!(opening, leaving);

    let ServerEvent::Hello { memberships, .. } = hello else {
        unreachable!("Tab::open returns the hello")
    };
    assert!(!memberships.contains(&room), "the greeting knows she left");
    bob.say(room, "after she left").await;
    bob.until(|event| matches!(event, ServerEvent::Message { .. }).then_some(()))
        .await;
    assert!(
        messages(&second.drain().await).is_empty(),
        "the new tab gets nothing from the room she left"
    );
}

/// Alice's join has found the room open; before it decides, an admin makes the room
/// staff-only. The join must be refused, not store a member the room no longer admits.
async fn a_join_racing_a_switch_to_staff_only_is_refused(url: String) {
    let (server, mut admin, users) = server_with_users(Config::for_database(url), &["alice"]).await;
    let room = server.create_room(&mut admin, "Ops", false).await;
    let (mut alice, _) = Tab::open(&server, &users[0]).await;
    let (mut staff, _) = Tab::open(&server, &admin).await;
    staff.join(room).await;

    let mut held = server.state.pauses.arm(Point::JoinLookedUp);
    let asked = alice
        .command(|request_id| ClientCommand::Join {
            request_id,
            room_id: room,
        })
        .await;
    held.reached().await;
    let switched = admin
        .post_form(
            &format!("/admin/rooms/{room}/kind"),
            &[("kind", "staff_only")],
        )
        .await;
    assert_eq!(location(&switched), "/admin/rooms?notice=room_updated");
    held.release();

    assert_eq!(alice.error_for(asked).await, ErrorCode::StaffOnly);
    staff.say(room, "staff only").await;
    staff
        .until(|event| matches!(event, ServerEvent::Message { .. }).then_some(()))
        .await;
    let seen = alice.drain().await;
    assert!(
        !seen.iter().any(|event| matches!(
            event,
            ServerEvent::Joined { .. } | ServerEvent::Message { .. }
        )),
        "alice never got into the room: {seen:?}"
    );
    let db = whisper::db::connect(&server.database_url).await.unwrap();
    let members = whisper::db::rooms::members_of_each(&db, &[room])
        .await
        .unwrap();
    assert_eq!(
        members
            .iter()
            .map(|(_, m)| m.username.as_str())
            .collect::<Vec<_>>(),
        ["root"],
        "no member the room does not admit"
    );
}

/// The switch to staff-only has committed and nobody has been told yet (not even this node's
/// hub): a post by a member it shut out must already be refused.
async fn posts_are_refused_once_a_switch_to_staff_only_commits(url: String) {
    let (server, mut admin, users) = server_with_users(Config::for_database(url), &["alice"]).await;
    let room = server.create_room(&mut admin, "Ops", false).await;
    let (mut alice, _) = Tab::open(&server, &users[0]).await;
    alice.join(room).await;

    let mut held = server.state.pauses.arm(Point::KindChangeCommitted);
    let path = format!("/admin/rooms/{room}/kind");
    let switch = admin.post_form(&path, &[("kind", "staff_only")]);
    let post_meanwhile = async {
        held.reached().await;
        let sent = alice.say(room, "sneaking in").await;
        let code = alice.error_for(sent).await;
        held.release();
        code
    };
    let (switched, code) = tokio::join!(switch, post_meanwhile);
    assert_eq!(location(&switched), "/admin/rooms?notice=room_updated");
    assert_eq!(code, ErrorCode::StaffOnly, "refused before anyone was told");

    let reason = alice
        .until(|event| match event {
            ServerEvent::Left {
                room_id, reason, ..
            } if room_id == room => Some(reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, LeftReason::StaffOnly);
    let db = whisper::db::connect(&server.database_url).await.unwrap();
    let stored = whisper::db::messages::latest_of_each(&db, &[room], 10)
        .await
        .unwrap();
    assert!(stored.is_empty(), "nothing was stored: {stored:?}");
}

/// A reset password usually means the old one leaked: every live socket of the user closes at
/// once (policy), not only the sessions behind them.
async fn a_password_reset_closes_the_users_sockets(url: String) {
    let (server, mut admin, users) = server_with_users(Config::for_database(url), &["alice"]).await;
    let (mut first, _) = Tab::open(&server, &users[0]).await;
    let (mut second, _) = Tab::open(&server, &users[0]).await;
    let (mut own, _) = Tab::open(&server, &admin).await;
    let alice = server.user_id(&mut admin, "alice").await;
    let root = server.user_id(&mut admin, "root").await;

    let reset = admin
        .post_form(
            &format!("/admin/users/{alice}/password"),
            &[("password", "a-new-password")],
        )
        .await;
    assert_eq!(location(&reset), "/admin/users?notice=password_reset");
    assert_eq!(first.closed().await, 1008);
    assert_eq!(second.closed().await, 1008);

    // An admin resetting their own password keeps the session they use, and its sockets; the
    // same account signed in elsewhere is signed out there.
    let mut elsewhere = server.login("root", "s3cret-pass").await;
    let (mut elsewhere_tab, _) = Tab::open(&server, &elsewhere).await;
    let reset = admin
        .post_form(
            &format!("/admin/users/{root}/password"),
            &[("password", "another-password")],
        )
        .await;
    assert_eq!(location(&reset), "/admin/users?notice=password_reset");
    assert_eq!(elsewhere_tab.closed().await, 1008);
    assert!(
        location(&elsewhere.get("/admin/users").await).starts_with("/login"),
        "the other device is signed out"
    );
    own.drain().await;
    assert_eq!(admin.get("/admin/users").await.status(), 200);
}
