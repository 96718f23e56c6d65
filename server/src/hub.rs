//! This node's live sockets, and which rooms their users are in.
//!
//! The hub answers one question fast: "who on this node gets this frame?". It knows each
//! locally connected user's sockets, their staff flag, and their room memberships (loaded from
//! the database when a socket connects, then kept current by [`Control`] changes that arrive
//! through the broker, from this node or another).
//!
//! Delivery never waits: each socket has a bounded queue, and a frame that does not fit is
//! either dropped (typing and presence, which the next one supersedes) or makes the hub close
//! that socket with [`CloseReason::Overloaded`]; the client reconnects and resyncs. A slow
//! reader can thus never make the server's memory grow or hold up anyone else.

use crate::broker::{Audience, Control, Envelope};
use axum::extract::ws::Utf8Bytes;
use protocol::{RoomId, RoomInfo, UserId, UserSummary};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::{mpsc, watch};

/// A serialized [`protocol::ServerEvent`]: serialized once, shared by every recipient.
pub type Frame = Utf8Bytes;

/// How many frames may wait for one socket before it counts as not keeping up.
pub const SOCKET_QUEUE: usize = 512;

/// What a socket's writer task sends. Kept to the size of a [`Frame`] (32 bytes): every
/// socket's queue allocates its first block of slots up front, idle or not. The frame's one
/// niche fits a single variant beside it, so anything else a writer must send goes in
/// [`Signal`].
#[derive(Debug, Clone)]
pub enum Outbound {
    Frame(Frame),
    Signal(Signal),
}

const _: () = assert!(std::mem::size_of::<Outbound>() == std::mem::size_of::<Frame>());

/// What a writer sends that is not one of our frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A WebSocket ping (heartbeat).
    Ping,
    /// Close the socket for this reason, after what is already queued.
    Close(CloseReason),
}

/// Why a socket is closed by the server, which sets the close frame's code and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// Its queue overflowed: close code 1013 ("try again later"); the client resyncs.
    Overloaded,
    /// The account was disabled: close code 1008 (policy).
    Disabled,
    /// This node may have missed events from other nodes (its Redis connection dropped):
    /// close code 1012 (service restart); the client reconnects and catches up from the
    /// database.
    Resync,
    /// A message over the protocol's size limit: close code 1009.
    TooBig,
    /// A frame the WebSocket layer refused to read (past its backstop size, or malformed):
    /// close code 1009.
    Unreadable,
    /// The database failed while the socket was opening: close code 1011.
    ServerError,
}

impl CloseReason {
    /// The close frame's code and reason text.
    pub fn code_and_text(self) -> (u16, &'static str) {
        use axum::extract::ws::close_code;
        match self {
            CloseReason::Overloaded => (close_code::AGAIN, "too slow; reconnect to catch up"),
            CloseReason::Disabled => (close_code::POLICY, "account disabled"),
            CloseReason::Resync => (close_code::RESTART, "reconnect to catch up"),
            CloseReason::TooBig => (close_code::SIZE, "message too big"),
            CloseReason::Unreadable => (close_code::SIZE, "frame too large or invalid"),
            CloseReason::ServerError => (close_code::ERROR, "server error; reconnect"),
        }
    }
}

/// This socket's handle as the hub holds it.
struct Socket {
    id: u64,
    queue: mpsc::Sender<Outbound>,
    close: watch::Sender<Option<CloseReason>>,
}

impl Socket {
    /// Queues a frame. When the queue is full the frame is dropped if `droppable`; otherwise
    /// the socket is told to close, since it can no longer be kept complete.
    fn offer(&self, frame: &Frame, droppable: bool) {
        if self.queue.try_send(Outbound::Frame(frame.clone())).is_err() && !droppable {
            // `send_replace` never fails, even once the session is gone.
            self.close.send_replace(Some(CloseReason::Overloaded));
        }
    }
}

struct LocalUser {
    is_staff: bool,
    sockets: Vec<Socket>,
    rooms: HashSet<RoomId>,
}

#[derive(Default)]
struct LocalRoom {
    staff_only: bool,
    users: HashSet<UserId>,
}

#[derive(Default)]
struct Inner {
    users: HashMap<UserId, LocalUser>,
    rooms: HashMap<RoomId, LocalRoom>,
}

impl Inner {
    fn join(&mut self, user: UserId, room: &RoomInfo) {
        let Some(local) = self.users.get_mut(&user) else {
            return;
        };
        local.rooms.insert(room.id);
        let entry = self.rooms.entry(room.id).or_default();
        entry.staff_only = room.staff_only;
        entry.users.insert(user);
    }

    fn leave(&mut self, user: UserId, room: RoomId) {
        if let Some(local) = self.users.get_mut(&user) {
            local.rooms.remove(&room);
        }
        if let Some(entry) = self.rooms.get_mut(&room) {
            entry.users.remove(&user);
            if entry.users.is_empty() {
                self.rooms.remove(&room);
            }
        }
    }
}

/// Tells every socket of these users to close, for `reason`.
fn close<'a>(users: impl IntoIterator<Item = &'a LocalUser>, reason: CloseReason) {
    for local in users {
        for socket in &local.sockets {
            // `send_replace` never fails, even once the session is gone.
            socket.close.send_replace(Some(reason));
        }
    }
}

/// The registration of one socket: its queue and its close signal.
pub struct Registration {
    pub id: u64,
    pub queue: mpsc::Sender<Outbound>,
    pub outbound: mpsc::Receiver<Outbound>,
    pub close: watch::Receiver<Option<CloseReason>>,
}

#[derive(Default)]
pub struct Hub {
    /// A std lock, not tokio's: it is never held across an `.await`, and delivery under it is a
    /// handful of non-blocking `try_send`s.
    inner: RwLock<Inner>,
    next_id: AtomicU64,
}

impl Hub {
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than losing every socket, so a poisoned lock is used as is.
        self.inner
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a socket of `user`, who is a member of `rooms` (as the database says right now).
    pub fn register(&self, user: &UserSummary, rooms: &[RoomInfo]) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (queue, outbound) = mpsc::channel(SOCKET_QUEUE);
        let (close_tx, close) = watch::channel(None);
        let mut inner = self.write();
        let local = inner.users.entry(user.id).or_insert_with(|| LocalUser {
            is_staff: user.is_staff,
            sockets: Vec::new(),
            rooms: HashSet::new(),
        });
        local.is_staff = user.is_staff;
        local.sockets.push(Socket {
            id,
            queue: queue.clone(),
            close: close_tx,
        });
        for room in rooms {
            inner.join(user.id, room);
        }
        Registration {
            id,
            queue,
            outbound,
            close,
        }
    }

    /// Removes a socket; the user's memberships stay known while they have other sockets here.
    pub fn unregister(&self, user: UserId, socket: u64) {
        let mut inner = self.write();
        let Some(local) = inner.users.get_mut(&user) else {
            return;
        };
        local.sockets.retain(|s| s.id != socket);
        if local.sockets.is_empty() {
            let rooms: Vec<RoomId> = local.rooms.iter().copied().collect();
            for room in rooms {
                inner.leave(user, room);
            }
            inner.users.remove(&user);
        }
    }

    /// Whether `user` is a member of `room`, as far as this node knows (every user with a
    /// socket here is known).
    pub fn is_member(&self, user: UserId, room: RoomId) -> bool {
        self.read()
            .users
            .get(&user)
            .is_some_and(|local| local.rooms.contains(&room))
    }

    /// Applies an envelope: its membership change first, then its frame to its audience.
    pub fn apply(&self, envelope: &Envelope) {
        if let Some(control) = &envelope.control {
            self.control(control);
        }
        if let Some(frame) = &envelope.frame {
            self.deliver(&envelope.audience, frame, envelope.droppable);
        }
    }

    fn control(&self, control: &Control) {
        let mut inner = self.write();
        match control {
            Control::Join { user, room } => inner.join(*user, room),
            Control::Leave { user, room } => inner.leave(*user, *room),
            Control::RoomChanged { room } => {
                if let Some(entry) = inner.rooms.get_mut(&room.id) {
                    entry.staff_only = room.staff_only;
                }
            }
            Control::RoomDeleted { room } => {
                let users: Vec<UserId> = inner
                    .rooms
                    .get(room)
                    .map(|entry| entry.users.iter().copied().collect())
                    .unwrap_or_default();
                for user in users {
                    inner.leave(user, *room);
                }
            }
            Control::UserStaff { user, is_staff } => {
                if let Some(local) = inner.users.get_mut(user) {
                    local.is_staff = *is_staff;
                }
            }
            Control::UserDisabled { user } => {
                close(inner.users.get(user), CloseReason::Disabled);
            }
            Control::Resync => close(inner.users.values(), CloseReason::Resync),
        }
    }

    fn deliver(&self, audience: &Audience, frame: &Frame, droppable: bool) {
        let inner = self.read();
        match audience {
            Audience::Room(room) => {
                let Some(entry) = inner.rooms.get(room) else {
                    return;
                };
                for user in &entry.users {
                    let Some(local) = inner.users.get(user) else {
                        continue;
                    };
                    // Checked at fan-out too, not only at join: a user who lost staff, or a
                    // room that just became staff-only, must not leak a single frame.
                    if entry.staff_only && !local.is_staff {
                        continue;
                    }
                    for socket in &local.sockets {
                        socket.offer(frame, droppable);
                    }
                }
            }
            Audience::User(user) => {
                if let Some(local) = inner.users.get(user) {
                    for socket in &local.sockets {
                        socket.offer(frame, droppable);
                    }
                }
            }
            Audience::Everyone => {
                for local in inner.users.values() {
                    for socket in &local.sockets {
                        socket.offer(frame, droppable);
                    }
                }
            }
        }
    }

    /// Closes every socket on this node with [`CloseReason::Resync`].
    pub fn resync_all(&self) {
        close(self.read().users.values(), CloseReason::Resync);
    }

    /// The rooms with a member here and the users with a socket here: what this node must
    /// hear about.
    pub fn interest(&self) -> (HashSet<RoomId>, HashSet<UserId>) {
        let inner = self.read();
        (
            inner.rooms.keys().copied().collect(),
            inner.users.keys().copied().collect(),
        )
    }

    /// Sockets connected to this node.
    #[cfg(test)]
    fn socket_count(&self) -> usize {
        self.read()
            .users
            .values()
            .map(|local| local.sockets.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::Envelope;
    use protocol::ServerEvent;

    fn user(id: i64, is_staff: bool) -> UserSummary {
        UserSummary {
            id: UserId(id),
            username: format!("u{id}"),
            is_admin: false,
            is_staff,
        }
    }

    fn room(id: i64, staff_only: bool) -> RoomInfo {
        RoomInfo {
            id: RoomId(id),
            title: format!("r{id}"),
            staff_only,
        }
    }

    fn to_room(id: i64) -> Envelope {
        Envelope::event(
            Audience::Room(RoomId(id)),
            &ServerEvent::RoomRemoved {
                room_id: RoomId(id),
            },
        )
    }

    #[test]
    fn a_socket_that_cannot_keep_up_is_closed_not_buffered() {
        let hub = Hub::default();
        let reader = hub.register(&user(1, false), &[room(1, false)]);
        let mut typing = to_room(1);
        typing.droppable = true;
        for _ in 0..SOCKET_QUEUE + 10 {
            hub.apply(&typing);
        }
        assert_eq!(
            *reader.close.borrow(),
            None,
            "droppable frames are dropped, not fatal"
        );
        hub.apply(&to_room(1));
        assert_eq!(*reader.close.borrow(), Some(CloseReason::Overloaded));
        assert_eq!(
            reader.outbound.len(),
            SOCKET_QUEUE,
            "the queue never grew past its bound"
        );
    }

    #[test]
    fn staff_only_frames_skip_non_staff_even_if_subscribed() {
        let hub = Hub::default();
        let mut member = hub.register(&user(1, false), &[room(1, false)]);
        let mut staff = hub.register(&user(2, true), &[room(1, false)]);
        hub.apply(&Envelope::control(Control::RoomChanged {
            room: room(1, true),
        }));
        hub.apply(&to_room(1));
        assert!(member.outbound.try_recv().is_err());
        assert!(staff.outbound.try_recv().is_ok());
    }

    #[test]
    fn membership_follows_controls_and_ends_with_the_last_socket() {
        let hub = Hub::default();
        let first = hub.register(&user(1, false), &[]);
        let second = hub.register(&user(1, false), &[]);
        hub.apply(&Envelope::control(Control::Join {
            user: UserId(1),
            room: room(5, false),
        }));
        assert!(hub.is_member(UserId(1), RoomId(5)));
        hub.unregister(UserId(1), first.id);
        assert!(
            hub.is_member(UserId(1), RoomId(5)),
            "another tab is still open"
        );
        hub.unregister(UserId(1), second.id);
        assert!(!hub.is_member(UserId(1), RoomId(5)));
        assert_eq!(hub.socket_count(), 0);
    }
}
