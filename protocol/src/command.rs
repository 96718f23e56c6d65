//! Commands a client sends over its WebSocket.

use crate::ids::{MessageId, RequestId, RoomId};
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
}

impl ClientCommand {
    /// Every command's `type`, as it appears on the wire: a frame naming another is an unknown
    /// command, one naming these with bad fields an invalid one.
    pub const TYPES: &'static [&'static str] = &[
        "ping", "join", "leave", "history", "missed", "send", "edit", "delete",
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
            | ClientCommand::Delete { request_id, .. } => *request_id,
        }
    }
}
