//! Events the server sends over a WebSocket.

use crate::dto::{ChatMessage, Member, ReadState, RoomInfo, UserSummary};
use crate::encoded::Encoded;
use crate::ids::{MessageId, RequestId, RoomId, UserId};
use crate::search::SearchHit;
use crate::tag_first::TagFirst;
use serde::{Deserialize, Deserializer, Serialize};

/// Declares [`ServerEvent`] from one list of variants, twice: the enum, which the server
/// writes tagged by its first field, `type` (`{"type": "hello", ...}`), and `ServerEventByType`,
/// the same variants for serde's `remote` derive, which is how the page reads them, through
/// [`TagFirst`]: serde's own reading of a field-tagged enum buffers the whole frame first
/// (see `tag_first.rs`).
///
/// rustfmt does not format inside the macro's braces: keep the variants formatted by hand. A
/// serde option for the whole enum goes here, on both copies, not on the enum in the call.
macro_rules! server_event {
    ($(#[$attr:meta])* pub enum ServerEvent { $($variants:tt)* }) => {
        $(#[$attr])*
        #[derive(Serialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        pub enum ServerEvent { $($variants)* }

        #[derive(Deserialize)]
        #[serde(remote = "ServerEvent", rename_all = "snake_case")]
        #[allow(dead_code)] // serde builds `ServerEvent`s from it, never one of these
        enum ServerEventByType { $($variants)* }
    };
}

impl<'de> Deserialize<'de> for ServerEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ServerEventByType::deserialize(TagFirst::new(deserializer, "type"))
    }
}

server_event! {
/// One event to the browser. It decodes only with `type` as its first field, as the server
/// writes it: not from a `serde_json::Value`, whose objects sort their keys (`tag_first.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// First event on every connection: which protocol the server speaks, who the socket
    /// belongs to (taken from the session cookie at the upgrade), and every room they may see
    /// (`rooms` and `private_rooms` together). A [`ServerEvent::Joined`] for each room in
    /// `memberships` follows; a reconnecting client forgets the rooms it held that are not
    /// listed (left from another device meanwhile).
    ///
    /// A page that cannot decode a `hello` still reads its version ([`ServerEvent::hello_version`])
    /// and reloads when it differs from its own.
    Hello {
        protocol_version: u32,
        user: UserSummary,
        /// Every open and staff-only room: everyone sees these listed, member or not, so every
        /// greeting that shares the server's read of them shares one encoding of the list.
        /// (Pages from before version 7 read it as every room the user may see, which lets
        /// them decode this `hello` and reload.)
        rooms: Encoded<Vec<RoomInfo>>,
        /// The closed rooms and direct conversations the user is in.
        private_rooms: Vec<RoomInfo>,
        memberships: Vec<RoomId>,
        /// Whether the user may create rooms (the server may keep that to admins).
        may_create_rooms: bool,
        /// The room the user had open last (on any device), if they may still read it.
        last_room: Option<RoomId>,
    },
    /// Answer to [`crate::ClientCommand::Ping`].
    Pong { request_id: RequestId },
    /// The user is a member of this room: sent to all their sockets when they join, and for
    /// each membership right after `hello`. Carries the members and the latest messages.
    Joined {
        /// The `join` command that caused it; absent when sent on connect.
        request_id: Option<RequestId>,
        room: RoomInfo,
        members: Vec<Member>,
        /// The latest messages, oldest first.
        recent: Vec<ChatMessage>,
        /// What the user has read of it, and what waits.
        read: ReadState,
        /// Which of `members` are online (a tab open on any node); [`ServerEvent::Presence`]
        /// keeps it current.
        online: Vec<UserId>,
    },
    /// The user is no longer a member of this room: they left (from any tab), the room became
    /// staff-only and they are not staff, a manager removed them, or the room was deleted.
    Left {
        request_id: Option<RequestId>,
        room_id: RoomId,
        reason: LeftReason,
    },
    /// A page of older messages, answering [`crate::ClientCommand::History`].
    History {
        request_id: RequestId,
        room_id: RoomId,
        /// Oldest first; at most [`crate::HISTORY_PAGE`], all with seq below the one asked for.
        messages: Vec<ChatMessage>,
        /// No older messages exist: the client has reached the beginning of the room.
        complete: bool,
    },
    /// A page of the messages asked for by [`crate::ClientCommand::Missed`]: oldest first, at
    /// most [`crate::HISTORY_PAGE`], all after the seq asked for (and before the bound, if one
    /// was given). Fewer than a page means the range is complete.
    Missed {
        request_id: RequestId,
        room_id: RoomId,
        messages: Vec<ChatMessage>,
    },
    /// A new message in a room the user is a member of; also the answer, to the sending socket
    /// alone, to a `send` whose nonce was already stored.
    Message { message: ChatMessage },
    /// A message was edited or deleted: the whole message as it is now, replacing the one with
    /// the same seq.
    MessageChanged { message: ChatMessage },
    /// Someone joined a room the user is a member of (and whether they are online).
    MemberJoined {
        room_id: RoomId,
        member: Member,
        online: bool,
    },
    /// Someone left a room the user is a member of.
    MemberLeft { room_id: RoomId, member: Member },
    /// A room the user may see was created (or became visible to them).
    RoomAdded { room: RoomInfo },
    /// A room the user may see was renamed or changed kind; add it if it is new to the list.
    RoomUpdated { room: RoomInfo },
    /// A room was deleted, or the user may no longer see it: drop it from the list.
    RoomRemoved { room_id: RoomId },
    /// The user's read position, counts or notification level of a room changed (from any of
    /// their tabs or devices), or the counts were taken again: replaces what the client holds
    /// unless it has already moved past `last_read_seq`.
    ReadChanged { read: ReadState },
    /// Answer to [`crate::ClientCommand::FindUsers`]: active users whose name contains the
    /// query, by name, at most [`crate::USER_SEARCH_RESULTS`], and which of them are online.
    UsersFound {
        request_id: RequestId,
        users: Vec<Member>,
        online: Vec<UserId>,
    },
    /// Someone the user shares a room with came online (their first tab anywhere) or went
    /// offline (their last tab closed, or their server stopped answering). Sent only to those
    /// who share a room with them, and dropped rather than queued for a socket that is behind.
    Presence { user_id: UserId, online: bool },
    /// Someone in a joined room is typing. Shown for [`crate::TYPING_SHOWN_MS`] unless their
    /// message (or another `typing`) comes first; never sent to the typer; dropped rather than
    /// queued for a socket that is behind.
    Typing { room_id: RoomId, user: Member },
    /// A page of search results, answering [`crate::ClientCommand::Search`]: newest first, at
    /// most [`crate::SEARCH_PAGE`]. `next`, when more may follow, is the `before` that asks
    /// for them (a query of only short words reads a bounded stretch of messages per page, so
    /// a page can be short, even empty, with more to come).
    SearchResults {
        request_id: RequestId,
        hits: Vec<SearchHit>,
        next: Option<MessageId>,
    },
    /// The messages around `seq` in a joined room, answering [`crate::ClientCommand::Around`]:
    /// oldest first; `beginning` when they reach back to the room's first message.
    Around {
        request_id: RequestId,
        room_id: RoomId,
        seq: i64,
        messages: Vec<ChatMessage>,
        beginning: bool,
    },
    /// A command whose effects arrive as their own events (a rename, a member added, …) was
    /// carried out.
    Done { request_id: RequestId },
    /// A command could not be carried out. The socket stays open.
    Error {
        /// The command this answers; absent when the frame was too broken to find one.
        request_id: Option<RequestId>,
        code: ErrorCode,
        /// Human-readable detail, in English; clients show it, never parse it.
        message: String,
    },
}
}

/// Why a membership ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftReason {
    /// The user left, from this or another tab.
    Left,
    /// The room became staff-only (or the user lost staff) and the user is not staff.
    StaffOnly,
    /// The room was deleted.
    RoomDeleted,
    /// One of the room's managers removed the user.
    Removed,
}

/// Why a command failed: stable, machine-readable, shared with the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not valid JSON, or not a JSON object.
    MalformedJson,
    /// The `type` field names no command this server knows.
    UnknownCommand,
    /// A known command with missing fields or fields of the wrong type.
    InvalidCommand,
    /// Binary frames are not part of the protocol.
    UnsupportedFrame,
    /// No such room: it never existed, was deleted, or is private to people the user is not
    /// among (the answer never tells which).
    UnknownRoom,
    /// The room is for staff only and the user is not staff.
    StaffOnly,
    /// The command needs membership of a room the user has not joined.
    NotJoined,
    /// No such message in a room the user is a member of.
    UnknownMessage,
    /// The message is empty or only whitespace.
    EmptyMessage,
    /// The message is longer than [`crate::MAX_MESSAGE_CHARS`].
    MessageTooLong,
    /// The user may not do this.
    Forbidden,
    /// Too many commands of this kind in a short time; retry later.
    RateLimited,
    /// A user named in the command does not exist.
    UnknownUser,
    /// A user named in the command is disabled.
    UserDisabled,
    /// The same user is named twice.
    DuplicateUser,
    /// More people than a direct conversation holds, or than one command may add.
    TooManyMembers,
    /// A room title that is empty or only invisible characters.
    EmptyTitle,
    /// A room title longer than [`crate::MAX_TITLE_CHARS`].
    TitleTooLong,
    /// Not a kind this command may set (users create and switch rooms between open and
    /// closed only).
    InvalidKind,
    /// A direct conversation's people are fixed: none can be added or removed, and it cannot
    /// become a room.
    DirectIsFixed,
    /// Only the room's creator and admins may manage it.
    NotManager,
    /// Only admins may create rooms on this server.
    CreationRestricted,
    /// A search with nothing to look for.
    EmptyQuery,
    /// A search longer than [`crate::MAX_SEARCH_CHARS`].
    QueryTooLong,
    /// A search of more than [`crate::MAX_SEARCH_WORDS`] words.
    TooManyWords,
    /// The server failed; the command may be retried.
    Internal,
}

impl ServerEvent {
    /// The protocol version of the `hello` in `text`, read without decoding the rest: a page
    /// whose code cannot decode another version's `hello` still learns that it must reload.
    /// `None` when `text` is not a `hello`.
    pub fn hello_version(text: &str) -> Option<u32> {
        #[derive(Deserialize)]
        struct Greeting {
            #[serde(rename = "type")]
            kind: String,
            protocol_version: u32,
        }
        let greeting: Greeting = serde_json::from_str(text).ok()?;
        (greeting.kind == "hello").then_some(greeting.protocol_version)
    }
}

impl ErrorCode {
    /// Every code, for tests and for tables that list them.
    pub const ALL: [ErrorCode; 26] = [
        ErrorCode::MalformedJson,
        ErrorCode::UnknownCommand,
        ErrorCode::InvalidCommand,
        ErrorCode::UnsupportedFrame,
        ErrorCode::UnknownRoom,
        ErrorCode::StaffOnly,
        ErrorCode::NotJoined,
        ErrorCode::UnknownMessage,
        ErrorCode::EmptyMessage,
        ErrorCode::MessageTooLong,
        ErrorCode::Forbidden,
        ErrorCode::RateLimited,
        ErrorCode::UnknownUser,
        ErrorCode::UserDisabled,
        ErrorCode::DuplicateUser,
        ErrorCode::TooManyMembers,
        ErrorCode::EmptyTitle,
        ErrorCode::TitleTooLong,
        ErrorCode::InvalidKind,
        ErrorCode::DirectIsFixed,
        ErrorCode::NotManager,
        ErrorCode::CreationRestricted,
        ErrorCode::EmptyQuery,
        ErrorCode::QueryTooLong,
        ErrorCode::TooManyWords,
        ErrorCode::Internal,
    ];

    /// The code as it appears on the wire (`"not_joined"`), e.g. for a metric's label.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::UnknownCommand => "unknown_command",
            ErrorCode::InvalidCommand => "invalid_command",
            ErrorCode::UnsupportedFrame => "unsupported_frame",
            ErrorCode::UnknownRoom => "unknown_room",
            ErrorCode::StaffOnly => "staff_only",
            ErrorCode::NotJoined => "not_joined",
            ErrorCode::UnknownMessage => "unknown_message",
            ErrorCode::EmptyMessage => "empty_message",
            ErrorCode::MessageTooLong => "message_too_long",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::UnknownUser => "unknown_user",
            ErrorCode::UserDisabled => "user_disabled",
            ErrorCode::DuplicateUser => "duplicate_user",
            ErrorCode::TooManyMembers => "too_many_members",
            ErrorCode::EmptyTitle => "empty_title",
            ErrorCode::TitleTooLong => "title_too_long",
            ErrorCode::InvalidKind => "invalid_kind",
            ErrorCode::DirectIsFixed => "direct_is_fixed",
            ErrorCode::NotManager => "not_manager",
            ErrorCode::CreationRestricted => "creation_restricted",
            ErrorCode::EmptyQuery => "empty_query",
            ErrorCode::QueryTooLong => "query_too_long",
            ErrorCode::TooManyWords => "too_many_words",
            ErrorCode::Internal => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ErrorCode, ServerEvent};

    #[test]
    fn a_hello_of_any_shape_tells_its_version() {
        let future = r#"{"type":"hello","protocol_version":99,"shape":"unknown"}"#;
        assert_eq!(ServerEvent::hello_version(future), Some(99));
        let pong = r#"{"type":"pong","request_id":1}"#;
        assert_eq!(ServerEvent::hello_version(pong), None);
        assert_eq!(ServerEvent::hello_version("{not json"), None);
    }

    #[test]
    fn an_event_decodes_only_with_its_tag_first() {
        let pong = ServerEvent::Pong {
            request_id: crate::RequestId(7),
        };
        let text = serde_json::to_string(&pong).unwrap();
        assert_eq!(serde_json::from_str::<ServerEvent>(&text).unwrap(), pong);
        // A `Value` sorts its keys: `request_id` comes before `type`.
        let sorted = serde_json::to_value(&pong).unwrap();
        let refused = serde_json::from_value::<ServerEvent>(sorted).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("the first field must be `type`"),
            "{refused}"
        );
    }

    #[test]
    fn error_code_strings_match_the_wire() {
        for code in ErrorCode::ALL {
            assert_eq!(
                serde_json::to_string(&code).unwrap(),
                format!("\"{}\"", code.as_str())
            );
        }
    }
}
