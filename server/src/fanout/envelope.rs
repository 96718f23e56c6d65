//! What fan-out carries: an [`Envelope`] is one event's frame (serialized once), who gets it
//! ([`Audience`]), and the membership or permission change ([`Control`]) each node's hub applies
//! before delivering it. Plain data, shared by the hub and the brokers.

use protocol::{RoomId, RoomInfo, RoomKind, ServerEvent, UserId};
use serde::{Deserialize, Serialize};
use tungstenite::Utf8Bytes;
use tungstenite::protocol::frame::coding::CloseCode;

/// A serialized [`protocol::ServerEvent`]: serialized once, shared by every recipient.
pub type Frame = Utf8Bytes;

/// Who receives an envelope's frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// Every socket of every member of the room who may read it (staff only, for staff-only
    /// rooms).
    Room(RoomId),
    /// Every socket whose user may see a room of this kind in their list (`may_list`), or
    /// every socket whose user may not: how a room's appearing, changing and disappearing
    /// reach exactly the room lists they concern.
    Listing {
        room: RoomId,
        kind: RoomKind,
        may_list: bool,
    },
    /// Every socket of every member of any of these rooms who may read it, but `except`'s:
    /// the people who see a user (in a member list, a direct conversation), told of their
    /// presence or typing. Each socket gets the frame once, however many rooms it shares.
    Fellows { rooms: Vec<RoomId>, except: UserId },
    /// Every socket of one user, on every node.
    User(UserId),
    /// Every socket.
    Everyone,
}

/// A membership or permission change every node's hub applies before delivering the frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Control {
    Join {
        user: UserId,
        room: RoomInfo,
    },
    Leave {
        user: UserId,
        room: RoomId,
    },
    RoomChanged {
        room: RoomInfo,
    },
    RoomDeleted {
        room: RoomId,
    },
    UserStaff {
        user: UserId,
        is_staff: bool,
    },
    /// Close the user's sockets opened with `session` now, or all of them when `None`: that
    /// session (log-out, expiry) or all their sessions (disabled, password reset, "log out
    /// everywhere") ended.
    SessionsEnded {
        user: UserId,
        session: Option<SessionKey>,
        reason: CloseReason,
    },
    /// A user came online (their first socket anywhere) or went offline: every node notes it
    /// for its presence (see `chat::presence`); the hub itself only passes it on.
    Presence {
        user: UserId,
        online: bool,
    },
    /// Every node: your sockets may have missed events; close them so their clients catch up
    /// from the database (sent after envelopes were lost on their way between nodes).
    Resync,
}

/// Which session a socket was opened with: the key the `sessions` table stores it under (a
/// hash of the cookie's token, never the token itself).
pub type SessionKey = String;

/// One unit of fan-out.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub control: Option<Control>,
    pub audience: Audience,
    pub frame: Option<Frame>,
    /// Passing news (presence, typing): a socket whose queue is full goes without it, instead
    /// of being closed to catch up, since nothing is lost that a catch-up would bring back.
    pub droppable: bool,
}

impl Envelope {
    /// An event for an audience, serialized here once for all of its recipients.
    pub fn event(audience: Audience, event: &ServerEvent) -> Envelope {
        Envelope {
            control: None,
            audience,
            frame: Some(serialize(event)),
            droppable: false,
        }
    }

    /// Passing news for an audience: dropped for a socket that is behind (see
    /// [`Envelope::droppable`]).
    pub fn passing(audience: Audience, event: &ServerEvent) -> Envelope {
        Envelope {
            droppable: true,
            ..Envelope::event(audience, event)
        }
    }

    /// The same, applying a control change first.
    pub fn with_control(mut self, control: Control) -> Envelope {
        self.control = Some(control);
        self
    }

    /// A control change with no frame.
    pub fn control(control: Control) -> Envelope {
        Envelope {
            control: Some(control),
            audience: Audience::Everyone,
            frame: None,
            droppable: false,
        }
    }
}

/// Serializes an event for the wire. Protocol types have no maps with non-string keys, and the
/// one hand-written `Serialize` (`protocol::Encoded`) writes what serde_json wrote before, so
/// this cannot fail in practice; if it ever did, the failure is logged and the frame goes out
/// empty, which clients report as malformed.
pub fn serialize(event: &ServerEvent) -> Frame {
    serde_json::to_string(event)
        .map(Frame::from)
        .unwrap_or_else(|err| {
            tracing::error!(%err, "could not serialize an event");
            Frame::default()
        })
}

/// Like [`serialize`], appending the event's text to `out` (nothing, if it fails).
pub fn serialize_into(event: &ServerEvent, out: &mut Vec<u8>) {
    let start = out.len();
    if let Err(err) = serde_json::to_writer(&mut *out, event) {
        tracing::error!(%err, "could not serialize an event");
        out.truncate(start);
    }
}

/// Why a socket is closed by the server, which sets the close frame's code and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CloseReason {
    /// Its queue overflowed: close code 1013 ("try again later"); the client resyncs.
    Overloaded,
    /// The account was disabled: close code 1008 (policy).
    Disabled,
    /// The session it was opened with ended (the password was reset): close code 1008
    /// (policy). The client finds it is signed out and goes to the log-in page.
    SessionEnded,
    /// This node may have missed events from other nodes (its Redis connection dropped):
    /// close code 1012 (service restart); the client reconnects and catches up from the
    /// database.
    Resync,
    /// A message over the protocol's size limit: close code 1009.
    TooBig,
    /// The user has as many sockets open as one user may: close code 1008 (policy).
    TooManySockets,
    /// A frame past the WebSocket layer's backstop size: close code 1009.
    Unreadable,
    /// A text frame that is not UTF-8: close code 1007 (RFC 6455, 7.4.1).
    NotUtf8,
    /// A frame breaking the WebSocket protocol: close code 1002.
    ProtocolError,
    /// The database failed while the socket was opening: close code 1011.
    ServerError,
    /// This node is stopping (SIGTERM): close code 1012 (service restart); the client
    /// reconnects, through the balancer to another node, and catches up.
    ShuttingDown,
}

impl CloseReason {
    /// The close frame's code and reason text.
    pub fn code_and_text(self) -> (CloseCode, &'static str) {
        match self {
            CloseReason::Overloaded => (CloseCode::Again, "too slow; reconnect to catch up"),
            CloseReason::Disabled => (CloseCode::Policy, "account disabled"),
            CloseReason::SessionEnded => (CloseCode::Policy, "session ended; sign in again"),
            CloseReason::Resync => (CloseCode::Restart, "reconnect to catch up"),
            CloseReason::TooBig => (CloseCode::Size, "message too big"),
            CloseReason::Unreadable => (CloseCode::Size, "frame too large"),
            CloseReason::TooManySockets => (CloseCode::Policy, "too many open connections"),
            CloseReason::NotUtf8 => (CloseCode::Invalid, "text frame is not UTF-8"),
            CloseReason::ProtocolError => (CloseCode::Protocol, "protocol error"),
            CloseReason::ServerError => (CloseCode::Error, "server error; reconnect"),
            CloseReason::ShuttingDown => (CloseCode::Restart, "server restarting; reconnect"),
        }
    }

    /// A short name, for the closed-sockets metric.
    pub fn label(self) -> &'static str {
        match self {
            CloseReason::Overloaded => "overloaded",
            CloseReason::Disabled => "disabled",
            CloseReason::SessionEnded => "session_ended",
            CloseReason::Resync => "resync",
            CloseReason::TooBig => "too_big",
            CloseReason::Unreadable => "unreadable",
            CloseReason::TooManySockets => "too_many_sockets",
            CloseReason::NotUtf8 => "not_utf8",
            CloseReason::ProtocolError => "protocol_error",
            CloseReason::ServerError => "server_error",
            CloseReason::ShuttingDown => "shutting_down",
        }
    }
}
