//! This node's live sockets, and which rooms their users are in.
//!
//! The hub answers one question fast: "who on this node gets this frame?". It knows each
//! locally connected user's sockets, their staff flag, and their room memberships (loaded from
//! the database when a socket connects, then kept current by [`Control`] changes that arrive
//! through the broker, from this node or another).
//!
//! Delivery never waits: each socket has a bounded queue, and a frame that does not fit makes the
//! hub close that socket with [`CloseReason::Overloaded`]; the client reconnects and resyncs. A
//! slow reader can thus never make the server's memory grow or hold up anyone else.
//!
//! Who receives a room's frame is asked of [`crate::chat::access::decide`] for each member.

use super::envelope::{Audience, CloseReason, Control, Envelope, Frame, SessionKey};
use crate::chat::access::{self, Action, Denied, RoomKind, Viewer};
use crate::metrics::Metrics;
use protocol::{RoomId, UserId};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::{mpsc, watch};

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

/// This socket's handle as the hub holds it.
struct Socket {
    id: u64,
    /// The session it was opened with: ending that session closes it.
    session: SessionKey,
    queue: mpsc::Sender<Outbound>,
    close: watch::Sender<Option<CloseReason>>,
}

impl Socket {
    /// Queues a frame; `false` when the queue is full, and then the socket is told to close,
    /// since it can no longer be kept complete.
    fn offer(&self, frame: &Frame) -> bool {
        if self.queue.try_send(Outbound::Frame(frame.clone())).is_err() {
            // `send_replace` never fails, even once the session is gone.
            self.close.send_replace(Some(CloseReason::Overloaded));
            return false;
        }
        true
    }

    /// Queues passing news if there is room; `false` when it was dropped (the socket stays).
    fn offer_if_room(&self, frame: &Frame) -> bool {
        self.queue.try_send(Outbound::Frame(frame.clone())).is_ok()
    }
}

struct LocalUser {
    /// The user's flags, as last settled from the database or changed by a control.
    viewer: Viewer,
    /// Counts the controls applied to this user (joins, leaves, flags, sessions).
    epoch: u64,
    sockets: Vec<Socket>,
    rooms: HashSet<RoomId>,
}

struct LocalRoom {
    kind: RoomKind,
    users: HashSet<UserId>,
}

#[derive(Default)]
struct Inner {
    users: HashMap<UserId, LocalUser>,
    rooms: HashMap<RoomId, LocalRoom>,
    /// Counts the room-wide controls applied (a kind change, a deletion): they may touch a
    /// user whose standing is being read before the hub knows them in that room.
    rooms_epoch: u64,
    /// The node is stopping: no socket may register any more.
    shut: bool,
}

/// Where the hub stood for one user when their standing was read (see [`Hub::settle`]): the
/// room-wide count and that user's own count of controls. Per user, so a storm of other
/// users' joins does not make every opening socket read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch {
    rooms: u64,
    user: u64,
}

impl Inner {
    /// Adds `user` (if they have a socket here) to the room. The room's kind is taken from
    /// `kind` only when the hub did not know the room: a join carries the kind as its joiner
    /// read it, which a later kind change may already have overtaken.
    fn join(&mut self, user: UserId, room: RoomId, kind: RoomKind) {
        let Some(local) = self.users.get_mut(&user) else {
            return;
        };
        local.rooms.insert(room);
        self.rooms
            .entry(room)
            .or_insert_with(|| LocalRoom {
                kind,
                users: HashSet::new(),
            })
            .users
            .insert(user);
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

/// Tells every socket of these users to close, for `reason`, unless it is closing already: a
/// socket told its session ended must still say so (1008, sign in again) when a resync or a
/// shutdown follows, not invite its client to reconnect.
fn close<'a>(users: impl IntoIterator<Item = &'a LocalUser>, reason: CloseReason) {
    for local in users {
        for socket in &local.sockets {
            socket.close.send_if_modified(|pending| {
                pending.is_none() && {
                    *pending = Some(reason);
                    true
                }
            });
        }
    }
}

/// The registration of one socket: its queue and its close signal.
pub struct Registration {
    pub id: u64,
    /// The user had no other socket on this node.
    pub first_here: bool,
    pub queue: mpsc::Sender<Outbound>,
    pub outbound: mpsc::Receiver<Outbound>,
    pub close: watch::Receiver<Option<CloseReason>>,
}

/// What the database says about a user right now, for [`Hub::settle`].
#[derive(Debug, Clone)]
pub struct Standing {
    pub viewer: Viewer,
    /// Every room the user is a member of and may read, with its kind.
    pub rooms: Vec<(RoomId, RoomKind)>,
}

#[derive(Default)]
pub struct Hub {
    /// A std lock, not tokio's: it is never held across an `.await`, and delivery under it is a
    /// handful of non-blocking `try_send`s.
    inner: RwLock<Inner>,
    next_id: AtomicU64,
    /// Where the hub asks for a user's standing to be read again from the database (see
    /// `chat::membership::settle_requested`): after a join or a kind change, which may have
    /// arrived out of order with a removal published by another node or task.
    resettle: OnceLock<mpsc::UnboundedSender<UserId>>,
    /// Where presence changes heard through the broker go (see `chat::presence`).
    presence: OnceLock<mpsc::UnboundedSender<(UserId, bool)>>,
    /// Open sockets, deliveries, dropped frames, resyncs.
    metrics: Metrics,
}

impl Hub {
    /// A hub counting into `metrics`.
    pub fn new(metrics: Metrics) -> Hub {
        Hub {
            inner: RwLock::default(),
            next_id: AtomicU64::default(),
            resettle: OnceLock::new(),
            presence: OnceLock::new(),
            metrics,
        }
    }

    /// The metrics this hub counts into, shared with the rest of the server.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

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

    /// Sends the users whose standing should be read again to `requests` from now on.
    pub fn on_resettle(&self, requests: mpsc::UnboundedSender<UserId>) {
        let _ = self.resettle.set(requests);
    }

    /// Sends the presence changes published from now on (by any node) to `notes`.
    pub fn on_presence(&self, notes: mpsc::UnboundedSender<(UserId, bool)>) {
        let _ = self.presence.set(notes);
    }

    fn ask_resettle(&self, users: impl IntoIterator<Item = UserId>) {
        if let Some(requests) = self.resettle.get() {
            for user in users {
                let _ = requests.send(user);
            }
        }
    }

    /// Adds a socket of `user`. It gets the frames of the user's rooms as this hub knows them
    /// (none, for a user new to this node) until [`Hub::settle`] brings the database's answer.
    /// Refused when the user has `cap` sockets here already, or the node is stopping.
    pub fn register(
        &self,
        user: UserId,
        session: SessionKey,
        cap: usize,
    ) -> Result<Registration, CloseReason> {
        let mut inner = self.write();
        if inner.shut {
            return Err(CloseReason::ShuttingDown);
        }
        if inner
            .users
            .get(&user)
            .is_some_and(|local| local.sockets.len() >= cap)
        {
            return Err(CloseReason::TooManySockets);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let first_here = !inner.users.contains_key(&user);
        let (queue, outbound) = mpsc::channel(SOCKET_QUEUE);
        let (close_tx, close) = watch::channel(None);
        let local = inner.users.entry(user).or_insert_with(|| LocalUser {
            viewer: Viewer {
                is_staff: false,
                is_admin: false,
            },
            epoch: 0,
            sockets: Vec::new(),
            rooms: HashSet::new(),
        });
        local.sockets.push(Socket {
            id,
            session,
            queue: queue.clone(),
            close: close_tx,
        });
        self.metrics.sockets_open.inc();
        Ok(Registration {
            id,
            first_here,
            queue,
            outbound,
            close,
        })
    }

    /// Where the hub stands for `user`; take it before reading their standing.
    pub fn epoch(&self, user: UserId) -> Epoch {
        let inner = self.read();
        Epoch {
            rooms: inner.rooms_epoch,
            user: inner.users.get(&user).map_or(0, |local| local.epoch),
        }
    }

    /// Makes the hub's view of `user` exactly `standing`, unless a control was applied since
    /// `epoch` (then `false`: the read may have missed it; read again). A control published
    /// after the read arrives after this and applies on top, so nothing is lost either way.
    pub fn settle(&self, user: UserId, standing: &Standing, epoch: Epoch) -> bool {
        let mut inner = self.write();
        let rooms_epoch = inner.rooms_epoch;
        let Some(local) = inner.users.get_mut(&user) else {
            // No socket here any more: nothing to keep current.
            return true;
        };
        let now = Epoch {
            rooms: rooms_epoch,
            user: local.epoch,
        };
        if now != epoch {
            return false;
        }
        local.viewer = standing.viewer;
        let held: Vec<RoomId> = local.rooms.iter().copied().collect();
        for room in held {
            if !standing.rooms.iter().any(|(id, _)| *id == room) {
                inner.leave(user, room);
            }
        }
        for &(room, kind) in &standing.rooms {
            inner.join(user, room, kind);
            // Read just now: fresher than whatever the hub held.
            if let Some(entry) = inner.rooms.get_mut(&room) {
                entry.kind = kind;
            }
        }
        true
    }

    /// Removes a socket; the user's memberships stay known while they have other sockets here.
    /// When it was their last socket here, the rooms they were in.
    pub fn unregister(&self, user: UserId, socket: u64) -> Option<Vec<RoomId>> {
        let mut inner = self.write();
        let local = inner.users.get_mut(&user)?;
        let before = local.sockets.len();
        local.sockets.retain(|s| s.id != socket);
        if local.sockets.len() < before {
            self.metrics.sockets_open.dec();
        }
        if !local.sockets.is_empty() {
            return None;
        }
        let rooms: Vec<RoomId> = local.rooms.iter().copied().collect();
        for room in &rooms {
            inner.leave(user, *room);
        }
        inner.users.remove(&user);
        Some(rooms)
    }

    /// Whether `user` is a member of `room`, as far as this node knows (every user with a
    /// socket here is known).
    pub fn is_member(&self, user: UserId, room: RoomId) -> bool {
        self.read()
            .users
            .get(&user)
            .is_some_and(|local| local.rooms.contains(&room))
    }

    /// The policy's answer for `user` doing `action` in `room`, from what this node holds: the
    /// fast check of the hot path (sending), which the database confirms when it matters.
    pub fn decide(&self, user: UserId, room: RoomId, action: Action) -> Option<Result<(), Denied>> {
        let inner = self.read();
        let local = inner.users.get(&user)?;
        let entry = inner.rooms.get(&room)?;
        let member = local.rooms.contains(&room);
        Some(access::decide(local.viewer, entry.kind, member, action))
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
        if let Control::Presence { user, online } = control {
            if let Some(observer) = self.presence.get() {
                let _ = observer.send((*user, *online));
            }
            return;
        }
        let mut inner = self.write();
        match control {
            Control::Join { user, .. }
            | Control::Leave { user, .. }
            | Control::UserStaff { user, .. }
            | Control::SessionsEnded { user, .. } => {
                if let Some(local) = inner.users.get_mut(user) {
                    local.epoch += 1;
                }
            }
            Control::RoomChanged { .. } | Control::RoomDeleted { .. } | Control::Resync => {
                inner.rooms_epoch += 1;
            }
            Control::Presence { .. } => {}
        }
        let mut resettle = Vec::new();
        match control {
            Control::Join { user, room } => {
                inner.join(*user, room.id, room.kind);
                if inner.users.contains_key(user) {
                    resettle.push(*user);
                }
            }
            Control::Leave { user, room } => {
                inner.leave(*user, *room);
                // A leave may arrive after a later re-join published by another node.
                if inner.users.contains_key(user) {
                    resettle.push(*user);
                }
            }
            Control::RoomChanged { room } => {
                if let Some(entry) = inner.rooms.get_mut(&room.id) {
                    entry.kind = room.kind;
                    // Two kind changes from two nodes may arrive in either order.
                    resettle.extend(entry.users.iter().copied());
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
                    local.viewer.is_staff = *is_staff;
                    resettle.push(*user);
                }
            }
            Control::SessionsEnded {
                user,
                session,
                reason,
            } => {
                if let Some(local) = inner.users.get(user) {
                    for socket in &local.sockets {
                        if session
                            .as_ref()
                            .is_none_or(|ended| *ended == socket.session)
                        {
                            socket.close.send_replace(Some(*reason));
                        }
                    }
                }
            }
            Control::Resync => {
                self.metrics.resyncs.inc();
                close(inner.users.values(), CloseReason::Resync);
            }
            Control::Presence { .. } => {}
        }
        drop(inner);
        self.ask_resettle(resettle);
    }

    fn deliver(&self, audience: &Audience, frame: &Frame, droppable: bool) {
        let inner = self.read();
        // Counted here and added once: one atomic add per fan-out, not per socket.
        let (mut delivered, mut dropped) = (0u64, 0u64);
        let mut offer = |socket: &Socket| {
            let queued = if droppable {
                socket.offer_if_room(frame)
            } else {
                socket.offer(frame)
            };
            if queued {
                delivered += 1;
            } else {
                dropped += 1;
            }
        };
        match audience {
            Audience::Room(room) => {
                let Some(entry) = inner.rooms.get(room) else {
                    return;
                };
                for user in &entry.users {
                    let Some(local) = inner.users.get(user) else {
                        continue;
                    };
                    // Asked at fan-out too, not only at join: a user who lost staff, or a room
                    // that just became staff-only, must not leak a single frame.
                    if access::decide(local.viewer, entry.kind, true, Action::Read).is_err() {
                        continue;
                    }
                    for socket in &local.sockets {
                        offer(socket);
                    }
                }
            }
            Audience::Listing {
                room,
                kind,
                may_list,
            } => {
                for local in inner.users.values() {
                    let member = local.rooms.contains(room);
                    let lists = access::decide(local.viewer, *kind, member, Action::List).is_ok();
                    if lists == *may_list {
                        for socket in &local.sockets {
                            offer(socket);
                        }
                    }
                }
            }
            Audience::Fellows { rooms, except } => {
                let mut fellows: HashSet<UserId> = HashSet::new();
                for room in rooms {
                    let Some(entry) = inner.rooms.get(room) else {
                        continue;
                    };
                    for user in &entry.users {
                        let reads = inner.users.get(user).is_some_and(|local| {
                            access::decide(local.viewer, entry.kind, true, Action::Read).is_ok()
                        });
                        if reads && user != except {
                            fellows.insert(*user);
                        }
                    }
                }
                for user in fellows {
                    if let Some(local) = inner.users.get(&user) {
                        for socket in &local.sockets {
                            offer(socket);
                        }
                    }
                }
            }
            Audience::User(user) => {
                if let Some(local) = inner.users.get(user) {
                    for socket in &local.sockets {
                        offer(socket);
                    }
                }
            }
            Audience::Everyone => {
                for local in inner.users.values() {
                    for socket in &local.sockets {
                        offer(socket);
                    }
                }
            }
        }
        drop(inner);
        if delivered > 0 {
            self.metrics.deliveries.inc_by(delivered);
        }
        if dropped > 0 {
            self.metrics.frames_dropped.inc_by(dropped);
        }
    }

    /// Closes every socket of `user` on this node, for `reason`.
    pub fn close_user(&self, user: UserId, reason: CloseReason) {
        close(self.read().users.get(&user), reason);
    }

    /// Closes every socket on this node with [`CloseReason::Resync`].
    pub fn resync_all(&self) {
        self.metrics.resyncs.inc();
        self.close_all(CloseReason::Resync);
    }

    /// Closes every socket on this node, for `reason`.
    fn close_all(&self, reason: CloseReason) {
        close(self.read().users.values(), reason);
    }

    /// The node is stopping: closes every socket with [`CloseReason::ShuttingDown`] and
    /// refuses new ones.
    pub fn shut_down(&self) {
        self.write().shut = true;
        self.close_all(CloseReason::ShuttingDown);
    }

    /// Whether the node is stopping.
    pub fn is_shut(&self) -> bool {
        self.read().shut
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

    /// The rooms `user` is in, as this node knows them (none unless they have a socket here).
    pub fn rooms_of(&self, user: UserId) -> Vec<RoomId> {
        self.read()
            .users
            .get(&user)
            .map(|local| local.rooms.iter().copied().collect())
            .unwrap_or_default()
    }

    /// How many sockets `user` has open on this node.
    pub fn sockets_of(&self, user: UserId) -> usize {
        self.read()
            .users
            .get(&user)
            .map_or(0, |local| local.sockets.len())
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
    use crate::fanout::envelope::Envelope;
    use protocol::{RoomInfo, ServerEvent};

    fn viewer(is_staff: bool) -> Viewer {
        Viewer {
            is_staff,
            is_admin: false,
        }
    }

    /// Room `id`, staff-only or open.
    fn room(id: i64, staff_only: bool) -> RoomInfo {
        let kind = if staff_only {
            RoomKind::StaffOnly
        } else {
            RoomKind::Open
        };
        room_of(id, kind)
    }

    fn room_of(id: i64, kind: RoomKind) -> RoomInfo {
        RoomInfo {
            id: RoomId(id),
            title: format!("r{id}"),
            kind,
            created_by: None,
        }
    }

    /// A socket of user `id`, settled into `rooms`.
    fn connect(hub: &Hub, id: i64, is_staff: bool, rooms: &[RoomInfo]) -> Registration {
        let registration = hub
            .register(UserId(id), format!("session-{id}"), usize::MAX)
            .unwrap();
        let standing = Standing {
            viewer: viewer(is_staff),
            rooms: rooms.iter().map(|room| (room.id, room.kind)).collect(),
        };
        assert!(hub.settle(UserId(id), &standing, hub.epoch(UserId(id))));
        registration
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
        let reader = connect(&hub, 1, false, &[room(1, false)]);
        for _ in 0..SOCKET_QUEUE {
            hub.apply(&to_room(1));
        }
        assert_eq!(
            *reader.close.borrow(),
            None,
            "a full queue is not yet fatal"
        );
        hub.apply(&to_room(1));
        assert_eq!(*reader.close.borrow(), Some(CloseReason::Overloaded));
        assert_eq!(
            reader.outbound.len(),
            SOCKET_QUEUE,
            "the queue never grew past its bound"
        );
    }

    /// Presence and typing reach those who share a room with the user, once each, never the
    /// user, and are dropped (the socket kept) when a queue is full.
    #[test]
    fn passing_news_reaches_fellows_once_and_is_dropped_when_full() {
        let hub = Hub::default();
        let mut typer = connect(&hub, 1, false, &[room(1, false), room(2, false)]);
        let mut fellow = connect(&hub, 2, false, &[room(1, false), room(2, false)]);
        let mut stranger = connect(&hub, 3, false, &[room(3, false)]);
        let news = |rooms: &[i64]| {
            Envelope::passing(
                Audience::Fellows {
                    rooms: rooms.iter().map(|id| RoomId(*id)).collect(),
                    except: UserId(1),
                },
                &ServerEvent::Presence {
                    user_id: UserId(1),
                    online: true,
                },
            )
        };
        hub.apply(&news(&[1, 2]));
        assert!(fellow.outbound.try_recv().is_ok());
        assert!(
            fellow.outbound.try_recv().is_err(),
            "once, for two shared rooms"
        );
        assert!(typer.outbound.try_recv().is_err(), "never to the user");
        assert!(
            stranger.outbound.try_recv().is_err(),
            "only to those who share a room"
        );
        for _ in 0..SOCKET_QUEUE {
            hub.apply(&to_room(1));
        }
        hub.apply(&news(&[1]));
        assert_eq!(*fellow.close.borrow(), None, "dropped, not closed");
        assert_eq!(fellow.outbound.len(), SOCKET_QUEUE);
    }

    #[test]
    fn staff_only_frames_skip_non_staff_even_if_subscribed() {
        let hub = Hub::default();
        let mut member = connect(&hub, 1, false, &[room(1, false)]);
        let mut staff = connect(&hub, 2, true, &[room(1, false)]);
        hub.apply(&Envelope::control(Control::RoomChanged {
            room: room(1, true),
        }));
        hub.apply(&to_room(1));
        assert!(member.outbound.try_recv().is_err());
        assert!(staff.outbound.try_recv().is_ok());
    }

    /// A room's listing changes reach exactly those who may (or may not) see it listed: a
    /// closed room's members, and everyone else.
    #[test]
    fn listing_audiences_follow_the_policy() {
        let hub = Hub::default();
        let mut member = connect(&hub, 1, false, &[room_of(1, RoomKind::Closed)]);
        let mut outsider = connect(&hub, 2, false, &[]);
        let mut admin = hub.register(UserId(3), "s3".into(), usize::MAX).unwrap();
        let listing = |may_list| {
            Envelope::event(
                Audience::Listing {
                    room: RoomId(1),
                    kind: RoomKind::Closed,
                    may_list,
                },
                &ServerEvent::RoomRemoved { room_id: RoomId(1) },
            )
        };
        hub.apply(&listing(true));
        assert!(member.outbound.try_recv().is_ok());
        assert!(outsider.outbound.try_recv().is_err());
        assert!(admin.outbound.try_recv().is_err());
        hub.apply(&listing(false));
        assert!(member.outbound.try_recv().is_err());
        assert!(outsider.outbound.try_recv().is_ok());
        assert!(admin.outbound.try_recv().is_ok());
    }

    /// A closed room's frames reach its members only, whoever else is connected.
    #[test]
    fn closed_room_frames_reach_members_only() {
        let hub = Hub::default();
        let mut member = connect(&hub, 1, false, &[room_of(1, RoomKind::Closed)]);
        let mut staff = connect(&hub, 2, true, &[room(2, false)]);
        hub.apply(&to_room(1));
        assert!(member.outbound.try_recv().is_ok());
        assert!(staff.outbound.try_recv().is_err());
        hub.apply(&Envelope::control(Control::Leave {
            user: UserId(1),
            room: RoomId(1),
        }));
        hub.apply(&to_room(1));
        assert!(member.outbound.try_recv().is_err(), "removed: nothing more");
    }

    #[test]
    fn membership_follows_controls_and_ends_with_the_last_socket() {
        let hub = Hub::default();
        let first = connect(&hub, 1, false, &[]);
        let second = connect(&hub, 1, false, &[]);
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

    /// Defect 1 of the core issue: a socket read its rooms, then a leave was applied before the
    /// socket gave them to the hub. The stale read must not win.
    #[test]
    fn a_standing_read_before_a_control_is_refused() {
        let hub = Hub::default();
        let _open = connect(&hub, 1, false, &[room(1, false)]);
        let _second = hub.register(UserId(1), "another".into(), usize::MAX);
        let epoch = hub.epoch(UserId(1));
        let stale = Standing {
            viewer: viewer(false),
            rooms: vec![(RoomId(1), RoomKind::Open)],
        };
        hub.apply(&Envelope::control(Control::Leave {
            user: UserId(1),
            room: RoomId(1),
        }));
        assert!(!hub.settle(UserId(1), &stale, epoch), "read again");
        assert!(!hub.is_member(UserId(1), RoomId(1)));
    }

    /// Defect 2 of the core issue: a join carrying the kind its joiner read must not turn a
    /// staff-only room back into an open one for fan-out.
    #[test]
    fn a_join_does_not_overwrite_a_known_room_kind() {
        let hub = Hub::default();
        let mut staff = connect(&hub, 1, true, &[room(1, true)]);
        let mut plain = connect(&hub, 2, false, &[]);
        hub.apply(&Envelope::control(Control::Join {
            user: UserId(2),
            room: room(1, false),
        }));
        hub.apply(&to_room(1));
        assert!(staff.outbound.try_recv().is_ok());
        assert!(
            plain.outbound.try_recv().is_err(),
            "the room is still staff-only for fan-out"
        );
    }

    #[test]
    fn joins_and_kind_changes_ask_for_a_fresh_read() {
        let hub = Hub::default();
        let (requests, mut asked) = mpsc::unbounded_channel();
        hub.on_resettle(requests);
        let _socket = connect(&hub, 1, false, &[]);
        hub.apply(&Envelope::control(Control::Join {
            user: UserId(1),
            room: room(1, false),
        }));
        assert_eq!(asked.try_recv().ok(), Some(UserId(1)));
        hub.apply(&Envelope::control(Control::RoomChanged {
            room: room(1, true),
        }));
        assert_eq!(asked.try_recv().ok(), Some(UserId(1)));
        hub.apply(&Envelope::control(Control::Join {
            user: UserId(9),
            room: room(1, false),
        }));
        assert!(
            asked.try_recv().is_err(),
            "users without a socket here are not read"
        );
    }
}
