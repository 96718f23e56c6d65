//! Carries [`Envelope`]s to the hub of every node, this one included.
//!
//! Everything that must reach sockets goes through [`Broker::publish`]: chat messages, member
//! notices, room-list changes, and the membership [`Control`] changes that keep each node's hub
//! current. With one node the in-process [`local::LocalBroker`] hands envelopes straight to the
//! hub; with `REDIS_URL` set, [`redis::RedisBroker`] applies them here and carries them to
//! every other node over Redis pub/sub.

pub mod local;
pub mod redis;

use crate::hub::Frame;
use protocol::{RoomId, RoomInfo, ServerEvent, UserId};
use serde::{Deserialize, Serialize};

/// Who receives an envelope's frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// Every socket of every member of the room (staff only, for staff-only rooms).
    Room(RoomId),
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
    /// Close every socket of the user now.
    UserDisabled {
        user: UserId,
    },
    /// Every node: your sockets may have missed events; close them so their clients catch up
    /// from the database (sent after envelopes were lost on their way between nodes).
    Resync,
}

/// One unit of fan-out.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub control: Option<Control>,
    pub audience: Audience,
    pub frame: Option<Frame>,
    /// May be dropped for a socket whose queue is full (typing, presence) instead of closing it.
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

/// Serializes an event for the wire. Protocol types have no maps with non-string keys and no
/// hand-written `Serialize`, so this cannot fail in practice; if it ever did, the failure is
/// logged and the frame goes out empty, which clients report as malformed.
pub fn serialize(event: &ServerEvent) -> Frame {
    serde_json::to_string(event)
        .map(Frame::from)
        .unwrap_or_else(|err| {
            tracing::error!(%err, "could not serialize an event");
            Frame::default()
        })
}

/// Delivers envelopes to every node's hub.
#[async_trait::async_trait]
pub trait Broker: Send + Sync + 'static {
    async fn publish(&self, envelope: Envelope);

    /// Makes sure this node hears what is published to the user and to the rooms from now on.
    /// Called before a socket reads its rooms' latest messages, so that nothing posted in
    /// between is heard by nobody.
    async fn listen(&self, _user: UserId, _rooms: &[RoomId]) {}

    /// Why this node cannot currently fan out to the others, if it cannot.
    fn unavailable(&self) -> Option<&'static str> {
        None
    }
}
