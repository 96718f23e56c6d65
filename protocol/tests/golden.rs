#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Golden tests: the exact JSON of every command and event. A failure here means the wire format
//! changed; update the client, the server and `PROTOCOL_VERSION` together.

use chrono::{TimeZone, Utc};
use protocol::{
    AdminUserView, ChatMessage, ClientCommand, Encoded, ErrorCode, LeftReason, Member, MessageId,
    NotifyLevel, ReadState, RequestId, RoomId, RoomInfo, RoomKind, ServerEvent, UserId,
    UserSummary,
};
use protocol::{Fragment, SearchHit};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// Serializes `value`, compares with `json`, and parses `json` back into an equal value.
fn golden<T>(value: T, json: &str)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    assert_eq!(serde_json::to_string(&value).unwrap(), json);
    assert_eq!(serde_json::from_str::<T>(json).unwrap(), value);
}

fn alice() -> UserSummary {
    UserSummary {
        id: UserId(7),
        username: "alice".into(),
        is_admin: true,
        is_staff: false,
    }
}

#[test]
fn ping_command() {
    golden(
        ClientCommand::Ping {
            request_id: RequestId(42),
        },
        r#"{"type":"ping","request_id":42}"#,
    );
}

fn lobby() -> RoomInfo {
    RoomInfo {
        id: RoomId(3),
        title: "Lobby".into(),
        kind: RoomKind::Open,
        created_by: None,
    }
}

fn bob() -> Member {
    Member {
        id: UserId(8),
        username: "bob".into(),
    }
}

fn message() -> ChatMessage {
    ChatMessage {
        id: MessageId(100),
        room_id: RoomId(3),
        seq: 12,
        author: bob(),
        body: "<b>hi</b>".into(),
        created_at: Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap(),
        edited_at: None,
        deleted: false,
        nonce: Some("n1".into()),
        mentions: Vec::new(),
    }
}

fn read_state() -> ReadState {
    ReadState {
        room_id: RoomId(3),
        last_read_seq: 10,
        as_of_seq: 12,
        unread: 2,
        mentions: 1,
        notify: None,
    }
}

const READ_JSON: &str =
    r#"{"room_id":3,"last_read_seq":10,"as_of_seq":12,"unread":2,"mentions":1,"notify":null}"#;

const MESSAGE_JSON: &str = r#"{"id":100,"room_id":3,"seq":12,"author":{"id":8,"username":"bob"},"body":"<b>hi</b>","created_at":"2026-11-22T03:00:00Z","nonce":"n1"}"#;

#[test]
fn room_commands() {
    golden(
        ClientCommand::Join {
            request_id: RequestId(1),
            room_id: RoomId(3),
        },
        r#"{"type":"join","request_id":1,"room_id":3}"#,
    );
    golden(
        ClientCommand::Leave {
            request_id: RequestId(2),
            room_id: RoomId(3),
        },
        r#"{"type":"leave","request_id":2,"room_id":3}"#,
    );
    golden(
        ClientCommand::Send {
            request_id: RequestId(3),
            room_id: RoomId(3),
            body: "hello".into(),
            nonce: "k3".into(),
        },
        r#"{"type":"send","request_id":3,"room_id":3,"body":"hello","nonce":"k3"}"#,
    );
}

#[test]
fn edit_and_delete() {
    golden(
        ClientCommand::Edit {
            request_id: RequestId(5),
            message_id: MessageId(100),
            body: "fixed".into(),
        },
        r#"{"type":"edit","request_id":5,"message_id":100,"body":"fixed"}"#,
    );
    golden(
        ClientCommand::Delete {
            request_id: RequestId(6),
            message_id: MessageId(100),
        },
        r#"{"type":"delete","request_id":6,"message_id":100}"#,
    );
    let tombstone = ChatMessage {
        body: String::new(),
        edited_at: Some(Utc.with_ymd_and_hms(2026, 11, 22, 3, 5, 0).unwrap()),
        deleted: true,
        nonce: None,
        ..message()
    };
    golden(
        ServerEvent::MessageChanged { message: tombstone },
        r#"{"type":"message_changed","message":{"id":100,"room_id":3,"seq":12,"author":{"id":8,"username":"bob"},"body":"","created_at":"2026-11-22T03:00:00Z","edited_at":"2026-11-22T03:05:00Z","deleted":true}}"#,
    );
}

#[test]
fn hello_event() {
    golden(
        ServerEvent::Hello {
            protocol_version: 1,
            user: alice(),
            rooms: Encoded::new(vec![lobby()]),
            private_rooms: vec![RoomInfo {
                id: RoomId(4),
                title: "Plans".into(),
                kind: RoomKind::Closed,
                created_by: Some(UserId(7)),
            }],
            memberships: vec![RoomId(3), RoomId(4)],
            may_create_rooms: true,
            last_room: Some(RoomId(3)),
        },
        r#"{"type":"hello","protocol_version":1,"user":{"id":7,"username":"alice","is_admin":true,"is_staff":false},"rooms":[{"id":3,"title":"Lobby","kind":"open","created_by":null}],"private_rooms":[{"id":4,"title":"Plans","kind":"closed","created_by":7}],"memberships":[3,4],"may_create_rooms":true,"last_room":3}"#,
    );
}

/// The list every greeting shares, encoded once on the server, goes out as it would encoded
/// with its `hello`, and comes back as the value.
#[test]
fn hello_with_its_rooms_encoded_once() {
    let hello = |rooms| ServerEvent::Hello {
        protocol_version: 1,
        user: alice(),
        rooms,
        private_rooms: Vec::new(),
        memberships: Vec::new(),
        may_create_rooms: false,
        last_room: None,
    };
    let text = serde_json::to_string(&hello(Encoded::encode(&vec![lobby()]).unwrap())).unwrap();
    assert_eq!(
        text,
        serde_json::to_string(&hello(Encoded::new(vec![lobby()]))).unwrap()
    );
    let ServerEvent::Hello { rooms, .. } = serde_json::from_str(&text).unwrap() else {
        panic!("not a hello: {text}");
    };
    assert_eq!(rooms.decode().unwrap(), vec![lobby()]);
}

/// A page of version 6 (open across an upgrade) decodes this `hello` (every field it requires
/// is there, of the type it expects), so it sees the new version and reloads.
#[test]
fn a_version_6_page_reads_a_hello_and_reloads() {
    #[derive(serde::Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Version6 {
        Hello {
            protocol_version: u32,
            user: UserSummary,
            rooms: Vec<RoomInfo>,
            memberships: Vec<RoomId>,
            may_create_rooms: bool,
            last_room: Option<RoomId>,
        },
    }
    let hello = ServerEvent::Hello {
        protocol_version: protocol::PROTOCOL_VERSION,
        user: alice(),
        rooms: Encoded::encode(&vec![lobby()]).unwrap(),
        private_rooms: Vec::new(),
        memberships: vec![RoomId(3)],
        may_create_rooms: true,
        last_room: None,
    };
    let text = serde_json::to_string(&hello).unwrap();
    let Version6::Hello {
        protocol_version, ..
    } = serde_json::from_str(&text).unwrap();
    assert_ne!(protocol_version, 6);
}

#[test]
fn membership_events() {
    golden(
        ServerEvent::Joined {
            request_id: Some(RequestId(1)),
            room: lobby(),
            members: vec![bob()],
            recent: vec![message()],
            read: read_state(),
            online: vec![UserId(8)],
        },
        &format!(
            r#"{{"type":"joined","request_id":1,"room":{{"id":3,"title":"Lobby","kind":"open","created_by":null}},"members":[{{"id":8,"username":"bob"}}],"recent":[{MESSAGE_JSON}],"read":{READ_JSON},"online":[8]}}"#
        ),
    );
    golden(
        ServerEvent::Left {
            request_id: None,
            room_id: RoomId(3),
            reason: LeftReason::StaffOnly,
        },
        r#"{"type":"left","request_id":null,"room_id":3,"reason":"staff_only"}"#,
    );
    for (reason, name) in [
        (LeftReason::Left, "left"),
        (LeftReason::StaffOnly, "staff_only"),
        (LeftReason::RoomDeleted, "room_deleted"),
        (LeftReason::Removed, "removed"),
    ] {
        golden(reason, &format!("\"{name}\""));
    }
    golden(
        ServerEvent::MemberJoined {
            room_id: RoomId(3),
            member: bob(),
            online: true,
        },
        r#"{"type":"member_joined","room_id":3,"member":{"id":8,"username":"bob"},"online":true}"#,
    );
    golden(
        ServerEvent::MemberLeft {
            room_id: RoomId(3),
            member: bob(),
        },
        r#"{"type":"member_left","room_id":3,"member":{"id":8,"username":"bob"}}"#,
    );
}

#[test]
fn history() {
    golden(
        ClientCommand::History {
            request_id: RequestId(4),
            room_id: RoomId(3),
            before_seq: 13,
        },
        r#"{"type":"history","request_id":4,"room_id":3,"before_seq":13}"#,
    );
    golden(
        ServerEvent::History {
            request_id: RequestId(4),
            room_id: RoomId(3),
            messages: vec![message()],
            complete: true,
        },
        &format!(
            r#"{{"type":"history","request_id":4,"room_id":3,"messages":[{MESSAGE_JSON}],"complete":true}}"#
        ),
    );
}

#[test]
fn missed() {
    golden(
        ClientCommand::Missed {
            request_id: RequestId(7),
            room_id: RoomId(3),
            after_seq: 11,
            before_seq: Some(40),
        },
        r#"{"type":"missed","request_id":7,"room_id":3,"after_seq":11,"before_seq":40}"#,
    );
    golden(
        ClientCommand::Missed {
            request_id: RequestId(8),
            room_id: RoomId(3),
            after_seq: 11,
            before_seq: None,
        },
        r#"{"type":"missed","request_id":8,"room_id":3,"after_seq":11,"before_seq":null}"#,
    );
    golden(
        ServerEvent::Missed {
            request_id: RequestId(7),
            room_id: RoomId(3),
            messages: vec![message()],
        },
        &format!(r#"{{"type":"missed","request_id":7,"room_id":3,"messages":[{MESSAGE_JSON}]}}"#),
    );
}

#[test]
fn message_event() {
    golden(
        ServerEvent::Message { message: message() },
        &format!(r#"{{"type":"message","message":{MESSAGE_JSON}}}"#),
    );
}

#[test]
fn room_list_events() {
    golden(
        ServerEvent::RoomAdded { room: lobby() },
        r#"{"type":"room_added","room":{"id":3,"title":"Lobby","kind":"open","created_by":null}}"#,
    );
    golden(
        ServerEvent::RoomUpdated { room: lobby() },
        r#"{"type":"room_updated","room":{"id":3,"title":"Lobby","kind":"open","created_by":null}}"#,
    );
    golden(
        ServerEvent::RoomRemoved { room_id: RoomId(3) },
        r#"{"type":"room_removed","room_id":3}"#,
    );
}

#[test]
fn conversation_commands() {
    golden(
        ClientCommand::CreateRoom {
            request_id: RequestId(1),
            title: "Plans".into(),
            kind: RoomKind::Closed,
            members: vec![UserId(8)],
        },
        r#"{"type":"create_room","request_id":1,"title":"Plans","kind":"closed","members":[8]}"#,
    );
    golden(
        ClientCommand::OpenDirect {
            request_id: RequestId(2),
            with: vec![UserId(8), UserId(9)],
        },
        r#"{"type":"open_direct","request_id":2,"with":[8,9]}"#,
    );
    golden(
        ClientCommand::SetRoomKind {
            request_id: RequestId(3),
            room_id: RoomId(3),
            kind: RoomKind::Open,
        },
        r#"{"type":"set_room_kind","request_id":3,"room_id":3,"kind":"open"}"#,
    );
    golden(
        ClientCommand::RemoveMember {
            request_id: RequestId(4),
            room_id: RoomId(3),
            user_id: UserId(8),
        },
        r#"{"type":"remove_member","request_id":4,"room_id":3,"user_id":8}"#,
    );
    golden(
        ClientCommand::FindUsers {
            request_id: RequestId(5),
            query: "bo".into(),
        },
        r#"{"type":"find_users","request_id":5,"query":"bo"}"#,
    );
}

#[test]
fn conversation_events() {
    golden(
        ServerEvent::UsersFound {
            request_id: RequestId(5),
            users: vec![bob()],
            online: vec![UserId(8)],
        },
        r#"{"type":"users_found","request_id":5,"users":[{"id":8,"username":"bob"}],"online":[8]}"#,
    );
    golden(
        ServerEvent::Done {
            request_id: RequestId(6),
        },
        r#"{"type":"done","request_id":6}"#,
    );
    golden(
        ServerEvent::RoomAdded {
            room: RoomInfo {
                id: RoomId(4),
                title: String::new(),
                kind: RoomKind::Direct,
                created_by: Some(UserId(7)),
            },
        },
        r#"{"type":"room_added","room":{"id":4,"title":"","kind":"direct","created_by":7}}"#,
    );
    for kind in RoomKind::ALL {
        golden(kind, &format!("\"{}\"", kind.as_str()));
        assert_eq!(RoomKind::parse(kind.as_str()), Some(kind));
    }
}

#[test]
fn awareness() {
    golden(
        ClientCommand::MarkRead {
            request_id: RequestId(9),
            room_id: RoomId(3),
            seq: 12,
        },
        r#"{"type":"mark_read","request_id":9,"room_id":3,"seq":12}"#,
    );
    golden(
        ClientCommand::SetNotify {
            request_id: RequestId(10),
            room_id: RoomId(3),
            level: Some(NotifyLevel::Mentions),
        },
        r#"{"type":"set_notify","request_id":10,"room_id":3,"level":"mentions"}"#,
    );
    golden(
        ClientCommand::ViewRoom {
            request_id: RequestId(11),
            room_id: RoomId(3),
        },
        r#"{"type":"view_room","request_id":11,"room_id":3}"#,
    );
    golden(
        ServerEvent::ReadChanged { read: read_state() },
        &format!(r#"{{"type":"read_changed","read":{READ_JSON}}}"#),
    );
    let mut mentioning = message();
    mentioning.mentions = vec![bob()];
    golden(
        ServerEvent::Message {
            message: mentioning,
        },
        r#"{"type":"message","message":{"id":100,"room_id":3,"seq":12,"author":{"id":8,"username":"bob"},"body":"<b>hi</b>","created_at":"2026-11-22T03:00:00Z","nonce":"n1","mentions":[{"id":8,"username":"bob"}]}}"#,
    );
    golden(
        ClientCommand::Typing {
            request_id: RequestId(12),
            room_id: RoomId(3),
        },
        r#"{"type":"typing","request_id":12,"room_id":3}"#,
    );
    golden(
        ServerEvent::Typing {
            room_id: RoomId(3),
            user: bob(),
        },
        r#"{"type":"typing","room_id":3,"user":{"id":8,"username":"bob"}}"#,
    );
    golden(
        ServerEvent::Presence {
            user_id: UserId(8),
            online: false,
        },
        r#"{"type":"presence","user_id":8,"online":false}"#,
    );
    for level in NotifyLevel::ALL {
        golden(level, &format!("\"{}\"", level.as_str()));
        assert_eq!(NotifyLevel::parse(level.as_str()), Some(level));
    }
}

#[test]
fn pong_event() {
    golden(
        ServerEvent::Pong {
            request_id: RequestId(42),
        },
        r#"{"type":"pong","request_id":42}"#,
    );
}

#[test]
fn error_event_with_and_without_request_id() {
    golden(
        ServerEvent::Error {
            request_id: Some(RequestId(3)),
            code: ErrorCode::InvalidCommand,
            message: "missing field `request_id`".into(),
        },
        r#"{"type":"error","request_id":3,"code":"invalid_command","message":"missing field `request_id`"}"#,
    );
    golden(
        ServerEvent::Error {
            request_id: None,
            code: ErrorCode::MalformedJson,
            message: "not JSON".into(),
        },
        r#"{"type":"error","request_id":null,"code":"malformed_json","message":"not JSON"}"#,
    );
}

#[test]
fn every_error_code() {
    let all = [
        (ErrorCode::MalformedJson, "malformed_json"),
        (ErrorCode::UnknownCommand, "unknown_command"),
        (ErrorCode::InvalidCommand, "invalid_command"),
        (ErrorCode::UnsupportedFrame, "unsupported_frame"),
        (ErrorCode::UnknownRoom, "unknown_room"),
        (ErrorCode::StaffOnly, "staff_only"),
        (ErrorCode::NotJoined, "not_joined"),
        (ErrorCode::UnknownMessage, "unknown_message"),
        (ErrorCode::EmptyMessage, "empty_message"),
        (ErrorCode::MessageTooLong, "message_too_long"),
        (ErrorCode::Forbidden, "forbidden"),
        (ErrorCode::RateLimited, "rate_limited"),
        (ErrorCode::UnknownUser, "unknown_user"),
        (ErrorCode::UserDisabled, "user_disabled"),
        (ErrorCode::DuplicateUser, "duplicate_user"),
        (ErrorCode::TooManyMembers, "too_many_members"),
        (ErrorCode::EmptyTitle, "empty_title"),
        (ErrorCode::TitleTooLong, "title_too_long"),
        (ErrorCode::InvalidKind, "invalid_kind"),
        (ErrorCode::DirectIsFixed, "direct_is_fixed"),
        (ErrorCode::NotManager, "not_manager"),
        (ErrorCode::CreationRestricted, "creation_restricted"),
        (ErrorCode::EmptyQuery, "empty_query"),
        (ErrorCode::QueryTooLong, "query_too_long"),
        (ErrorCode::TooManyWords, "too_many_words"),
        (ErrorCode::Internal, "internal"),
    ];
    assert_eq!(all.len(), ErrorCode::ALL.len(), "every code is pinned");
    for (code, name) in all {
        golden(code, &format!("\"{name}\""));
    }
}

#[test]
fn admin_user_view() {
    golden(
        AdminUserView {
            id: UserId(1),
            username: "bob".into(),
            is_admin: false,
            is_staff: true,
            disabled: true,
            created_at: Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap(),
        },
        r#"{"id":1,"username":"bob","is_admin":false,"is_staff":true,"disabled":true,"created_at":"2026-11-22T03:00:00Z"}"#,
    );
}

#[test]
fn unknown_fields_and_types_are_rejected() {
    assert!(serde_json::from_str::<ClientCommand>(r#"{"type":"ping","request_id":"x"}"#).is_err());
    assert!(serde_json::from_str::<ClientCommand>(r#"{"type":"shout","request_id":1}"#).is_err());
    assert!(
        serde_json::from_str::<ClientCommand>(r#"{"type":"ping","request_id":1,"extra":2}"#)
            .is_err()
    );
}

/// The list of command types the server classifies bad frames by is the wire's own: every
/// variant's `type` is its `type_name`, listed once in `TYPES`.
#[test]
fn command_types_are_listed_exactly() {
    let one_of_each = [
        ClientCommand::Ping {
            request_id: RequestId(1),
        },
        ClientCommand::Join {
            request_id: RequestId(1),
            room_id: RoomId(1),
        },
        ClientCommand::Leave {
            request_id: RequestId(1),
            room_id: RoomId(1),
        },
        ClientCommand::History {
            request_id: RequestId(1),
            room_id: RoomId(1),
            before_seq: 1,
        },
        ClientCommand::Missed {
            request_id: RequestId(1),
            room_id: RoomId(1),
            after_seq: 1,
            before_seq: None,
        },
        ClientCommand::Send {
            request_id: RequestId(1),
            room_id: RoomId(1),
            body: "b".into(),
            nonce: "n".into(),
        },
        ClientCommand::Edit {
            request_id: RequestId(1),
            message_id: MessageId(1),
            body: "b".into(),
        },
        ClientCommand::Delete {
            request_id: RequestId(1),
            message_id: MessageId(1),
        },
        ClientCommand::CreateRoom {
            request_id: RequestId(1),
            title: "t".into(),
            kind: RoomKind::Closed,
            members: vec![UserId(2)],
        },
        ClientCommand::OpenDirect {
            request_id: RequestId(1),
            with: vec![UserId(2)],
        },
        ClientCommand::RenameRoom {
            request_id: RequestId(1),
            room_id: RoomId(1),
            title: "t".into(),
        },
        ClientCommand::SetRoomKind {
            request_id: RequestId(1),
            room_id: RoomId(1),
            kind: RoomKind::Open,
        },
        ClientCommand::AddMembers {
            request_id: RequestId(1),
            room_id: RoomId(1),
            users: vec![UserId(2)],
        },
        ClientCommand::RemoveMember {
            request_id: RequestId(1),
            room_id: RoomId(1),
            user_id: UserId(2),
        },
        ClientCommand::DeleteRoom {
            request_id: RequestId(1),
            room_id: RoomId(1),
        },
        ClientCommand::FindUsers {
            request_id: RequestId(1),
            query: "bo".into(),
        },
        ClientCommand::MarkRead {
            request_id: RequestId(1),
            room_id: RoomId(1),
            seq: 1,
        },
        ClientCommand::SetNotify {
            request_id: RequestId(1),
            room_id: RoomId(1),
            level: None,
        },
        ClientCommand::ViewRoom {
            request_id: RequestId(1),
            room_id: RoomId(1),
        },
        ClientCommand::Typing {
            request_id: RequestId(1),
            room_id: RoomId(1),
        },
        ClientCommand::Search {
            request_id: RequestId(1),
            query: "x".into(),
            room_id: None,
            before: None,
        },
        ClientCommand::Around {
            request_id: RequestId(1),
            room_id: RoomId(1),
            seq: 1,
        },
    ];
    let mut seen = Vec::new();
    for command in &one_of_each {
        let json: serde_json::Value = serde_json::to_value(command).unwrap();
        assert_eq!(json["type"], command.type_name());
        seen.push(command.type_name());
    }
    assert_eq!(seen, ClientCommand::TYPES, "every type, once, in order");
}

#[test]
fn search_and_around() {
    golden(
        ClientCommand::Search {
            request_id: RequestId(13),
            query: "from:bob hi".into(),
            room_id: Some(RoomId(3)),
            before: Some(MessageId(100)),
        },
        r#"{"type":"search","request_id":13,"query":"from:bob hi","room_id":3,"before":100}"#,
    );
    golden(
        ServerEvent::SearchResults {
            request_id: RequestId(13),
            hits: vec![SearchHit {
                message: message(),
                room_title: "Lobby".into(),
                snippet: vec![
                    Fragment {
                        text: "<b>".into(),
                        hit: false,
                    },
                    Fragment {
                        text: "hi".into(),
                        hit: true,
                    },
                ],
            }],
            next: Some(MessageId(100)),
        },
        r#"{"type":"search_results","request_id":13,"hits":[{"message":{"id":100,"room_id":3,"seq":12,"author":{"id":8,"username":"bob"},"body":"<b>hi</b>","created_at":"2026-11-22T03:00:00Z","nonce":"n1"},"room_title":"Lobby","snippet":[{"text":"<b>"},{"text":"hi","hit":true}]}],"next":100}"#,
    );
    golden(
        ClientCommand::Around {
            request_id: RequestId(14),
            room_id: RoomId(3),
            seq: 12,
        },
        r#"{"type":"around","request_id":14,"room_id":3,"seq":12}"#,
    );
    golden(
        ServerEvent::Around {
            request_id: RequestId(14),
            room_id: RoomId(3),
            seq: 12,
            messages: vec![message()],
            beginning: true,
        },
        r#"{"type":"around","request_id":14,"room_id":3,"seq":12,"messages":[{"id":100,"room_id":3,"seq":12,"author":{"id":8,"username":"bob"},"body":"<b>hi</b>","created_at":"2026-11-22T03:00:00Z","nonce":"n1"}],"beginning":true}"#,
    );
}
