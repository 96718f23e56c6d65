//! Commands a client sends over its WebSocket.

use crate::dto::{NotifyLevel, RoomKind};
use crate::ids::{MessageId, RequestId, RoomId, UserId};
use serde::{Deserialize, Serialize};

/// One command from the browser. Every command carries the client's `request_id`, echoed on the
/// server's answer or on the [`crate::ServerEvent::Error`] it causes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientCommand {
    /// Application-level liveness check; answered by [`crate::ServerEvent::Pong`]. The browser
    /// cannot send WebSocket pings itself, so this is how it measures the round trip.
    Ping { request_id: RequestId },
    /// Become a member of a room. Membership belongs to the user: every tab and device of theirs
    /// gets [`crate::ServerEvent::Joined`], and it lasts until they leave.
    Join {
        request_id: RequestId,
        room_id: RoomId,
    },
    /// Stop being a member of a room (in every tab and device).
    Leave {
        request_id: RequestId,
        room_id: RoomId,
    },
    /// Ask for the messages of a joined room just before `before_seq` (oldest first), one page
    /// at a time; answered by [`crate::ServerEvent::History`].
    History {
        request_id: RequestId,
        room_id: RoomId,
        before_seq: i64,
    },
    /// Ask for the messages of a joined room after `after_seq` and, when given, before
    /// `before_seq` (oldest first), one page at a time; answered by
    /// [`crate::ServerEvent::Missed`]. The client fills the holes in what it holds with this:
    /// after a reconnect, or when a live message arrives ahead of one it has not seen.
    Missed {
        request_id: RequestId,
        room_id: RoomId,
        after_seq: i64,
        before_seq: Option<i64>,
    },
    /// Post a message to a room the user has joined. `nonce` is the client's own id for this
    /// post (at most [`crate::MAX_NONCE_CHARS`] characters): sending the same nonce again
    /// stores nothing new and answers with the message already stored, so a send retried after
    /// a lost connection never posts twice.
    Send {
        request_id: RequestId,
        room_id: RoomId,
        body: String,
        nonce: String,
    },
    /// Replace the text of one of the user's own messages.
    Edit {
        request_id: RequestId,
        message_id: MessageId,
        body: String,
    },
    /// Delete a message: the author's own, or anyone's for an admin. It stays in the room as a
    /// tombstone, so seqs keep no gaps.
    Delete {
        request_id: RequestId,
        message_id: MessageId,
    },
    /// Create an open or closed room with the user as its creator and first member, plus
    /// `members`. Every member's tabs get [`crate::ServerEvent::Joined`]; the creator's carries
    /// this request id.
    CreateRoom {
        request_id: RequestId,
        title: String,
        kind: RoomKind,
        members: Vec<UserId>,
    },
    /// Open the direct conversation between the user and `with` (empty: notes to self),
    /// creating it if that set of people has none yet. Answered by
    /// [`crate::ServerEvent::Joined`] with this request id.
    OpenDirect {
        request_id: RequestId,
        with: Vec<UserId>,
    },
    /// Rename a room the user manages.
    RenameRoom {
        request_id: RequestId,
        room_id: RoomId,
        title: String,
    },
    /// Switch a room the user manages between open and closed.
    SetRoomKind {
        request_id: RequestId,
        room_id: RoomId,
        kind: RoomKind,
    },
    /// Add users to a room the user manages.
    AddMembers {
        request_id: RequestId,
        room_id: RoomId,
        users: Vec<UserId>,
    },
    /// Remove someone from a room the user manages.
    RemoveMember {
        request_id: RequestId,
        room_id: RoomId,
        user_id: UserId,
    },
    /// Delete a room the user manages, with all its messages.
    DeleteRoom {
        request_id: RequestId,
        room_id: RoomId,
    },
    /// Find active users whose name contains `query` (for starting a conversation or adding
    /// members); answered by [`crate::ServerEvent::UsersFound`].
    FindUsers {
        request_id: RequestId,
        query: String,
    },
    /// The user has seen a joined room's messages up to `seq`. The read position only moves
    /// forward (and never past the room's newest message); every tab and device of the user
    /// gets the new counts as [`crate::ServerEvent::ReadChanged`].
    MarkRead {
        request_id: RequestId,
        room_id: RoomId,
        seq: i64,
    },
    /// Choose which messages of a joined room notify the user (`None`: the room's default).
    /// Every tab gets [`crate::ServerEvent::ReadChanged`].
    SetNotify {
        request_id: RequestId,
        room_id: RoomId,
        level: Option<NotifyLevel>,
    },
    /// The user opened this room: the next page load, on any device, opens it again.
    ViewRoom {
        request_id: RequestId,
        room_id: RoomId,
    },
    /// The user is typing in a joined room. Clients send it at most every
    /// [`crate::TYPING_EVERY_MS`] while typing; the room's other members get
    /// [`crate::ServerEvent::Typing`]. Never answered.
    Typing {
        request_id: RequestId,
        room_id: RoomId,
    },
    /// Find messages the user may read whose text holds every word of `query` (see
    /// [`crate::search`]), newest first, in `room_id` when given; `before` continues a search
    /// after the last result of its previous page. Answered by
    /// [`crate::ServerEvent::SearchResults`].
    Search {
        request_id: RequestId,
        query: String,
        room_id: Option<RoomId>,
        before: Option<MessageId>,
    },
    /// Ask for the messages of a joined room around `seq`: up to half a page before it, and it
    /// with what follows; answered by [`crate::ServerEvent::Around`]. Opening a search result or
    /// a permalink starts here, then pages older (`history`) and newer (`missed`) from it.
    Around {
        request_id: RequestId,
        room_id: RoomId,
        seq: i64,
    },
}

impl ClientCommand {
    /// Every command's `type`, as it appears on the wire: a frame naming another is an unknown
    /// command, one naming these with bad fields an invalid one.
    pub const TYPES: &'static [&'static str] = &[
        "ping",
        "join",
        "leave",
        "history",
        "missed",
        "send",
        "edit",
        "delete",
        "create_room",
        "open_direct",
        "rename_room",
        "set_room_kind",
        "add_members",
        "remove_member",
        "delete_room",
        "find_users",
        "mark_read",
        "set_notify",
        "view_room",
        "typing",
        "search",
        "around",
    ];

    /// This command's `type` on the wire (one of [`ClientCommand::TYPES`]).
    pub fn type_name(&self) -> &'static str {
        match self {
            ClientCommand::Ping { .. } => "ping",
            ClientCommand::Join { .. } => "join",
            ClientCommand::Leave { .. } => "leave",
            ClientCommand::History { .. } => "history",
            ClientCommand::Missed { .. } => "missed",
            ClientCommand::Send { .. } => "send",
            ClientCommand::Edit { .. } => "edit",
            ClientCommand::Delete { .. } => "delete",
            ClientCommand::CreateRoom { .. } => "create_room",
            ClientCommand::OpenDirect { .. } => "open_direct",
            ClientCommand::RenameRoom { .. } => "rename_room",
            ClientCommand::SetRoomKind { .. } => "set_room_kind",
            ClientCommand::AddMembers { .. } => "add_members",
            ClientCommand::RemoveMember { .. } => "remove_member",
            ClientCommand::DeleteRoom { .. } => "delete_room",
            ClientCommand::FindUsers { .. } => "find_users",
            ClientCommand::MarkRead { .. } => "mark_read",
            ClientCommand::SetNotify { .. } => "set_notify",
            ClientCommand::ViewRoom { .. } => "view_room",
            ClientCommand::Typing { .. } => "typing",
            ClientCommand::Search { .. } => "search",
            ClientCommand::Around { .. } => "around",
        }
    }

    /// The id the server echoes back for this command.
    pub fn request_id(&self) -> RequestId {
        match self {
            ClientCommand::Ping { request_id }
            | ClientCommand::Join { request_id, .. }
            | ClientCommand::Leave { request_id, .. }
            | ClientCommand::History { request_id, .. }
            | ClientCommand::Missed { request_id, .. }
            | ClientCommand::Send { request_id, .. }
            | ClientCommand::Edit { request_id, .. }
            | ClientCommand::Delete { request_id, .. }
            | ClientCommand::CreateRoom { request_id, .. }
            | ClientCommand::OpenDirect { request_id, .. }
            | ClientCommand::RenameRoom { request_id, .. }
            | ClientCommand::SetRoomKind { request_id, .. }
            | ClientCommand::AddMembers { request_id, .. }
            | ClientCommand::RemoveMember { request_id, .. }
            | ClientCommand::DeleteRoom { request_id, .. }
            | ClientCommand::FindUsers { request_id, .. }
            | ClientCommand::MarkRead { request_id, .. }
            | ClientCommand::SetNotify { request_id, .. }
            | ClientCommand::ViewRoom { request_id, .. }
            | ClientCommand::Typing { request_id, .. }
            | ClientCommand::Search { request_id, .. }
            | ClientCommand::Around { request_id, .. } => *request_id,
        }
    }
}
