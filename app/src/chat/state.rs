//! Everything the chat page shows, and how each server event changes it.
//!
//! The delivery contract, client side: every room's messages are kept by seq, duplicates
//! dropped; a hole in the seqs held (after a reconnect, or a message that overtook another) is
//! filled with `missed` requests; messages typed without a connection wait in the outbox and go,
//! with their nonce, once it is back. [`ChatState::follow_ups`] says what to send after each
//! event (and on a short timer, for holes waiting out [`HOLE_GRACE_MS`]).

use super::saved_outbox::SavedOutbox;
use protocol::{
    ChatMessage, ClientCommand, ErrorCode, HISTORY_PAGE, LeftReason, Member, MessageId, RequestId,
    RoomId, RoomInfo, ServerEvent, UserSummary,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The socket's state, as the status pill shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Connection {
    #[default]
    Connecting,
    Online,
    /// Lost; the next attempt is scheduled.
    Reconnecting,
}

/// One line in a room's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Message(ChatMessage),
    /// "bob joined", "bob left": local to this tab, not stored on the server.
    Notice {
        key: u64,
        text: String,
    },
}

impl Entry {
    /// A key that stays the same for the same line, for keyed rendering. A message's key
    /// changes when it is edited or deleted, so its line is drawn again.
    pub fn key(&self) -> String {
        match self {
            Entry::Message(message) => format!(
                "m{}-{}-{}",
                message.id,
                message.edited_at.map_or(0, |at| at.timestamp_millis()),
                message.deleted
            ),
            Entry::Notice { key, .. } => format!("n{key}"),
        }
    }
}

/// A room the user is a member of.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JoinedRoom {
    pub members: Vec<Member>,
    pub timeline: Vec<Entry>,
    /// Messages that arrived while another room was open.
    pub unread: u32,
    /// The timeline reaches back to the room's first message.
    pub beginning: bool,
    /// The request for the page of older messages on its way, if any.
    older_request: Option<RequestId>,
    /// The `missed` request filling a hole, if one is on its way.
    fill_request: Option<RequestId>,
    /// A fill failed: no more tries until something new arrives or
    /// [`ChatState::resume_paused`], so a refusing server is not asked in a loop.
    fill_paused: bool,
    /// When the current hole was first seen (see [`HOLE_GRACE_MS`]).
    hole_seen_at: Option<f64>,
    /// Fill the next hole without waiting: it comes from a (re)join or a partial page, not
    /// from a message that overtook another.
    fill_at_once: bool,
}

/// How long (ms) a hole opened by a live message waits for the missing message before it is
/// read from the database: with several nodes, a room's seq 10 and 11 may be published by
/// different nodes and arrive in either order.
pub const HOLE_GRACE_MS: f64 = 300.0;

/// A message on its way with no answer after this long is sent again. The socket does not
/// lose frames, but a send that is never answered would hold up the whole outbox; sent again
/// with the same nonce, it still posts once.
pub const RESEND_AFTER_MS: f64 = 10_000.0;

impl JoinedRoom {
    /// A page of older messages has been asked for and not yet arrived.
    pub fn loading_older(&self) -> bool {
        self.older_request.is_some()
    }

    fn messages(&self) -> impl Iterator<Item = &ChatMessage> {
        self.timeline.iter().filter_map(|entry| match entry {
            Entry::Message(message) => Some(message),
            Entry::Notice { .. } => None,
        })
    }

    /// Seq of the oldest message held.
    fn oldest_seq(&self) -> Option<i64> {
        self.messages().next().map(|message| message.seq)
    }

    /// The first hole in the seqs held: the seq before it and the seq after it.
    pub fn first_gap(&self) -> Option<(i64, i64)> {
        let mut seqs = self.messages().map(|message| message.seq);
        let mut previous = seqs.next()?;
        for seq in seqs {
            if seq > previous + 1 {
                return Some((previous, seq));
            }
            previous = seq;
        }
        None
    }

    /// Adds a message in seq order; `false` if its seq was already held (a message can arrive
    /// both in `joined.recent` and live). Of two copies of one seq the later state wins: a
    /// page read before an edit or deletion must not bring the old text back.
    fn insert(&mut self, message: ChatMessage) -> bool {
        let seq = message.seq;
        for entry in &mut self.timeline {
            if let Entry::Message(held) = entry
                && held.seq == seq
            {
                if newer(&message, held) {
                    *held = message;
                }
                return false;
            }
        }
        // Usually the newest: scan from the end for the first message with a lower seq.
        let position = self
            .timeline
            .iter()
            .rposition(|entry| matches!(entry, Entry::Message(m) if m.seq < seq))
            .map_or(0, |index| index + 1);
        let position = if self.timeline[position..]
            .iter()
            .all(|entry| matches!(entry, Entry::Notice { .. }))
        {
            self.timeline.len()
        } else {
            position
        };
        self.timeline.insert(position, Entry::Message(message));
        true
    }

    /// Takes in an edited or deleted message: replaces the held copy, or fills its place if it
    /// falls inside what is held (a page read before the change may still be on its way; the
    /// later copy wins either way). Outside what is held it is not needed.
    fn change(&mut self, message: ChatMessage) {
        let mut seqs = self.messages().map(|m| m.seq);
        let Some(oldest) = seqs.next() else { return };
        let newest = seqs.last().unwrap_or(oldest);
        if (oldest..=newest).contains(&message.seq) {
            self.insert(message);
        }
    }
}

/// Whether `candidate` is a later state of the same message than `held`: deleted beats not
/// deleted, then the later edit wins.
fn newer(candidate: &ChatMessage, held: &ChatMessage) -> bool {
    (candidate.deleted, candidate.edited_at) > (held.deleted, held.edited_at)
}

/// A message typed but not yet confirmed by the server. Saved across reloads (see
/// [`super::saved_outbox`]) without what belongs to the page's current socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// Sent with every try; the server stores one message per nonce.
    pub nonce: String,
    pub room_id: RoomId,
    pub body: String,
    /// The request that carried it on the current connection; `None` until sent on it.
    #[serde(skip)]
    sent: Option<RequestId>,
    /// When [`ChatState::follow_ups`] first saw it on its way, to send it again if no answer
    /// comes (see [`RESEND_AFTER_MS`]).
    #[serde(skip)]
    sent_seen_at: Option<f64>,
    /// Why the server refused it; it then waits for the user to retry or discard it. A
    /// refusal for sending too fast is not a failure: the message is simply sent again later.
    pub failed: Option<String>,
}

/// A message shown above the open room until dismissed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub text: String,
    pub is_error: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatState {
    pub connection: Connection,
    pub me: Option<UserSummary>,
    /// Every room, sorted by title (case-insensitive).
    pub rooms: Vec<RoomInfo>,
    pub joined: HashMap<RoomId, JoinedRoom>,
    /// The room on screen.
    pub active: Option<RoomId>,
    pub alert: Option<Alert>,
    /// Messages typed and not yet confirmed, oldest first. They are sent one at a time, each
    /// once the one before is confirmed, so they post in the order typed.
    pub outbox: Vec<Pending>,
    /// The server said the user sends too fast: the outbox waits for
    /// [`ChatState::resume_paused`].
    sends_paused: bool,
    /// Messages an earlier load of this tab left unsent, until `hello` says whose they are.
    saved: Option<SavedOutbox>,
    /// A room the user asked to join; it opens when `joined` arrives.
    pending_open: Option<RoomId>,
    /// Makes this page's nonces unlike any other page's.
    nonce_prefix: String,
    next_request: u64,
    next_notice: u64,
    next_nonce: u64,
}

impl ChatState {
    /// A page's state; `nonce_prefix` must be unique to the page (random).
    pub fn new(nonce_prefix: String) -> ChatState {
        ChatState {
            nonce_prefix,
            ..ChatState::default()
        }
    }

    /// Takes in what an earlier load of this tab left unsent; it joins the outbox at `hello`
    /// if it is this user's and for rooms they are still in.
    pub fn restore(&mut self, saved: SavedOutbox) {
        self.saved = Some(saved);
    }

    /// The outbox as it must outlive a reload: `None` when there is nothing to keep. Before
    /// `hello`, that is what was restored, untouched.
    pub fn outbox_to_save(&self) -> Option<SavedOutbox> {
        let Some(me) = &self.me else {
            return self.saved.clone();
        };
        (!self.outbox.is_empty()).then(|| SavedOutbox {
            user: me.id,
            messages: self.outbox.clone(),
        })
    }

    pub fn room(&self, id: RoomId) -> Option<&RoomInfo> {
        self.rooms.iter().find(|room| room.id == id)
    }

    fn title(&self, id: RoomId) -> String {
        self.room(id)
            .map_or_else(|| "the room".to_owned(), |room| room.title.clone())
    }

    fn request_id(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    fn notice(&mut self, room: RoomId, text: String) {
        self.next_notice += 1;
        let key = self.next_notice;
        if let Some(joined) = self.joined.get_mut(&room) {
            joined.timeline.push(Entry::Notice { key, text });
        }
    }

    fn alert(&mut self, text: impl Into<String>, is_error: bool) {
        self.alert = Some(Alert {
            text: text.into(),
            is_error,
        });
    }

    fn upsert_room(&mut self, room: RoomInfo) {
        match self.rooms.iter_mut().find(|known| known.id == room.id) {
            Some(known) => *known = room,
            None => self.rooms.push(room),
        }
        self.rooms
            .sort_by_key(|room| (room.title.to_lowercase(), room.id));
    }

    fn forget_room(&mut self, room: RoomId) {
        self.joined.remove(&room);
        self.outbox.retain(|pending| pending.room_id != room);
        if self.active == Some(room) {
            self.active = None;
        }
        if self.pending_open == Some(room) {
            self.pending_open = None;
        }
    }

    /// Takes messages the server confirms out of the outbox: this tab's (or another tab's)
    /// sends, matched by nonce, however the message came back.
    fn confirm<'a>(&mut self, messages: impl IntoIterator<Item = &'a ChatMessage>) {
        let Some(me) = self.me.as_ref().map(|me| me.id) else {
            return;
        };
        for message in messages {
            if message.author.id == me
                && let Some(nonce) = &message.nonce
            {
                self.outbox.retain(|pending| &pending.nonce != nonce);
            }
        }
    }

    /// The user may delete this message: their own, or anyone's if they are an admin.
    pub fn may_delete(&self, message: &ChatMessage) -> bool {
        self.me
            .as_ref()
            .is_some_and(|me| me.is_admin || me.id == message.author.id)
    }

    /// The user clicked a room: open it if joined, otherwise ask to join (it opens on `joined`).
    pub fn open(&mut self, room: RoomId) -> Option<ClientCommand> {
        self.alert = None;
        if let Some(joined) = self.joined.get_mut(&room) {
            joined.unread = 0;
            self.active = Some(room);
            return None;
        }
        self.pending_open = Some(room);
        Some(ClientCommand::Join {
            request_id: self.request_id(),
            room_id: room,
        })
    }

    /// Asks for the page before the oldest message held, unless one is on its way or the
    /// beginning is reached.
    pub fn load_older(&mut self, room: RoomId) -> Option<ClientCommand> {
        if self.connection != Connection::Online {
            return None;
        }
        let request_id = RequestId(self.next_request + 1);
        let joined = self.joined.get_mut(&room)?;
        if joined.beginning || joined.loading_older() {
            return None;
        }
        joined.older_request = Some(request_id);
        let before_seq = joined.oldest_seq().unwrap_or(i64::MAX);
        self.next_request += 1;
        Some(ClientCommand::History {
            request_id,
            room_id: room,
            before_seq,
        })
    }

    pub fn leave(&mut self, room: RoomId) -> ClientCommand {
        ClientCommand::Leave {
            request_id: self.request_id(),
            room_id: room,
        }
    }

    /// Puts a message for the open room in the outbox; returns what to send now if the socket
    /// is up (otherwise it goes with [`ChatState::follow_ups`] after the reconnect). Nothing
    /// for blank input.
    pub fn compose(&mut self, body: &str) -> Vec<ClientCommand> {
        let body = body.trim();
        let Some(room) = self.active.filter(|_| !body.is_empty()) else {
            return Vec::new();
        };
        self.next_nonce += 1;
        self.outbox.push(Pending {
            nonce: format!("{}-{}", self.nonce_prefix, self.next_nonce),
            room_id: room,
            body: body.to_owned(),
            sent: None,
            sent_seen_at: None,
            failed: None,
        });
        self.outbox_sends()
    }

    /// Sends a refused message again.
    pub fn retry(&mut self, nonce: &str) -> Vec<ClientCommand> {
        if let Some(pending) = self.outbox.iter_mut().find(|p| p.nonce == nonce) {
            pending.failed = None;
            pending.sent = None;
        }
        self.outbox_sends()
    }

    /// Drops a refused message from the outbox.
    pub fn discard(&mut self, nonce: &str) {
        self.outbox.retain(|pending| pending.nonce != nonce);
    }

    pub fn edit(&mut self, message: MessageId, body: &str) -> Option<ClientCommand> {
        let body = body.trim();
        (!body.is_empty()).then(|| ClientCommand::Edit {
            request_id: self.request_id(),
            message_id: message,
            body: body.to_owned(),
        })
    }

    pub fn delete(&mut self, message: MessageId) -> ClientCommand {
        ClientCommand::Delete {
            request_id: self.request_id(),
            message_id: message,
        }
    }

    /// What the client must send now (`now`: milliseconds on any steady clock): the next outbox
    /// message not yet sent on this connection (or unanswered for [`RESEND_AFTER_MS`]), and a
    /// `missed` request for the first hole of each room that has one — at once after a
    /// (re)join or a page that left more to fetch, and after [`HOLE_GRACE_MS`] for a hole a
    /// live message opened, which the missing message usually fills by itself.
    pub fn follow_ups(&mut self, now: f64) -> Vec<ClientCommand> {
        for pending in &mut self.outbox {
            if pending.sent.is_some()
                && now - *pending.sent_seen_at.get_or_insert(now) >= RESEND_AFTER_MS
            {
                pending.sent = None;
            }
        }
        let mut commands = self.outbox_sends();
        commands.extend(self.hole_fills(now));
        commands
    }

    /// The `send` for the oldest outbox message, unless one is already on its way. One at a
    /// time keeps the order typed even when the server refuses some for sending too fast (a
    /// long outbox after a reconnect), and it costs one round trip per queued message.
    /// Failed messages, and those for rooms not joined (yet), are passed over.
    fn outbox_sends(&mut self) -> Vec<ClientCommand> {
        if self.connection != Connection::Online
            || self.sends_paused
            || self.outbox.iter().any(|pending| pending.sent.is_some())
        {
            return Vec::new();
        }
        let joined = &self.joined;
        let Some(pending) = self
            .outbox
            .iter_mut()
            .find(|pending| pending.failed.is_none() && joined.contains_key(&pending.room_id))
        else {
            return Vec::new();
        };
        self.next_request += 1;
        pending.sent = Some(RequestId(self.next_request));
        pending.sent_seen_at = None;
        vec![ClientCommand::Send {
            request_id: RequestId(self.next_request),
            room_id: pending.room_id,
            body: pending.body.clone(),
            nonce: pending.nonce.clone(),
        }]
    }

    fn hole_fills(&mut self, now: f64) -> Vec<ClientCommand> {
        if self.connection != Connection::Online {
            return Vec::new();
        }
        let mut commands = Vec::new();
        for (room_id, joined) in &mut self.joined {
            if joined.fill_request.is_some() || joined.fill_paused {
                continue;
            }
            let Some((after_seq, before_seq)) = joined.first_gap() else {
                joined.hole_seen_at = None;
                joined.fill_at_once = false;
                continue;
            };
            let seen_at = *joined.hole_seen_at.get_or_insert(now);
            if !joined.fill_at_once && now - seen_at < HOLE_GRACE_MS {
                continue;
            }
            self.next_request += 1;
            joined.fill_request = Some(RequestId(self.next_request));
            joined.hole_seen_at = None;
            joined.fill_at_once = false;
            commands.push(ClientCommand::Missed {
                request_id: RequestId(self.next_request),
                room_id: *room_id,
                after_seq,
                before_seq: Some(before_seq),
            });
        }
        commands
    }

    /// A hole waits out its grace period, or a sent message for its answer:
    /// [`ChatState::follow_ups`] must be asked again soon.
    pub fn waiting(&self) -> bool {
        self.outbox.iter().any(|pending| pending.sent.is_some())
            || self
                .joined
                .values()
                .any(|joined| joined.hole_seen_at.is_some() && joined.fill_request.is_none())
    }

    pub fn dismiss_alert(&mut self) {
        self.alert = None;
    }

    /// The socket is gone: whatever was on its way is asked again on the next one.
    pub fn disconnected(&mut self) {
        self.connection = Connection::Reconnecting;
        for pending in &mut self.outbox {
            pending.sent = None;
        }
        for joined in self.joined.values_mut() {
            joined.older_request = None;
            joined.fill_request = None;
            joined.fill_paused = false;
            joined.hole_seen_at = None;
        }
    }

    /// Lets the outbox and the rooms whose hole fill was refused (rate limited, say) go on;
    /// the connection calls this every few seconds.
    pub fn resume_paused(&mut self) {
        self.sends_paused = false;
        for joined in self.joined.values_mut() {
            joined.fill_paused = false;
        }
    }

    /// The outbox or some room's hole fill waits for [`ChatState::resume_paused`].
    pub fn paused(&self) -> bool {
        self.sends_paused || self.joined.values().any(|joined| joined.fill_paused)
    }

    /// A command failed: the outbox message it carried waits for a retry (by itself when it was
    /// only too fast); a page request may be made again.
    fn refused(&mut self, request_id: RequestId, code: ErrorCode, message: String) {
        if let Some(pending) = self
            .outbox
            .iter_mut()
            .find(|pending| pending.sent == Some(request_id))
        {
            pending.sent = None;
            // Too fast, or the server failed (it says to retry): sent again later, before
            // anything typed after it.
            if matches!(code, ErrorCode::RateLimited | ErrorCode::Internal) {
                self.sends_paused = true;
            } else {
                pending.failed = Some(message);
            }
            return;
        }
        for joined in self.joined.values_mut() {
            if joined.older_request == Some(request_id) {
                joined.older_request = None;
                self.alert = Some(Alert {
                    text: message,
                    is_error: true,
                });
                return;
            }
            if joined.fill_request == Some(request_id) {
                joined.fill_request = None;
                joined.fill_paused = true;
                return;
            }
        }
        if matches!(code, ErrorCode::StaffOnly | ErrorCode::UnknownRoom) {
            self.pending_open = None;
        }
        self.alert(message, true);
    }

    /// Folds one server event into the state.
    pub fn apply(&mut self, event: ServerEvent) {
        match event {
            ServerEvent::Hello {
                user,
                rooms,
                memberships,
                ..
            } => {
                self.connection = Connection::Online;
                if let Some(saved) = self.saved.take()
                    && saved.user == user.id
                {
                    for pending in saved.messages {
                        if memberships.contains(&pending.room_id)
                            && !self.outbox.iter().any(|p| p.nonce == pending.nonce)
                        {
                            self.outbox.push(pending);
                        }
                    }
                }
                self.me = Some(user);
                self.rooms.clear();
                for room in rooms {
                    self.upsert_room(room);
                }
                // The `joined` events that follow bring back every membership with its latest
                // messages, merged with what is held; rooms left meanwhile (from another
                // device) are forgotten.
                let gone: Vec<RoomId> = self
                    .joined
                    .keys()
                    .filter(|room| !memberships.contains(room))
                    .copied()
                    .collect();
                for room in gone {
                    self.forget_room(room);
                }
            }
            ServerEvent::Joined {
                room,
                members,
                recent,
                ..
            } => {
                let id = room.id;
                self.upsert_room(room);
                self.confirm(&recent);
                let joined = self.joined.entry(id).or_default();
                joined.members = members;
                // Fewer than a page, or seq 1 itself: nothing older exists.
                joined.beginning |=
                    recent.len() < HISTORY_PAGE || recent.first().is_some_and(|m| m.seq == 1);
                joined.fill_paused = false;
                joined.fill_at_once = true;
                for message in recent {
                    joined.insert(message);
                }
                if self.pending_open == Some(id) || self.active.is_none() {
                    self.pending_open = None;
                    self.active = Some(id);
                }
            }
            ServerEvent::Left {
                room_id, reason, ..
            } => {
                let title = self.title(room_id);
                self.forget_room(room_id);
                match reason {
                    LeftReason::Left => {}
                    LeftReason::StaffOnly => self.alert(
                        format!("You were removed from {title}: it is for staff only now."),
                        true,
                    ),
                    LeftReason::RoomDeleted => self.alert(format!("{title} was deleted."), true),
                }
            }
            ServerEvent::History {
                room_id,
                messages,
                complete,
                ..
            } => {
                self.confirm(&messages);
                if let Some(joined) = self.joined.get_mut(&room_id) {
                    for message in messages {
                        joined.insert(message);
                    }
                    joined.beginning = complete;
                    joined.older_request = None;
                }
            }
            ServerEvent::Missed {
                room_id, messages, ..
            } => {
                self.confirm(&messages);
                if let Some(joined) = self.joined.get_mut(&room_id) {
                    // Nothing where a hole was: never ask for it again in a loop.
                    joined.fill_paused = messages.is_empty();
                    joined.fill_request = None;
                    joined.fill_at_once = true;
                    for message in messages {
                        joined.insert(message);
                    }
                }
            }
            ServerEvent::Message { message } => {
                let room = message.room_id;
                let mine = self
                    .me
                    .as_ref()
                    .is_some_and(|me| me.id == message.author.id);
                self.confirm([&message]);
                let active = self.active;
                if let Some(joined) = self.joined.get_mut(&room) {
                    joined.fill_paused = false;
                    if joined.insert(message) && active != Some(room) && !mine {
                        joined.unread += 1;
                    }
                }
            }
            ServerEvent::MessageChanged { message } => {
                if let Some(joined) = self.joined.get_mut(&message.room_id) {
                    joined.change(message);
                }
            }
            ServerEvent::MemberJoined { room_id, member } => {
                let text = format!("{} joined", member.username);
                if let Some(joined) = self.joined.get_mut(&room_id) {
                    if !joined.members.contains(&member) {
                        joined.members.push(member);
                        joined.members.sort_by_key(|m| m.username.to_lowercase());
                    }
                    self.notice(room_id, text);
                }
            }
            ServerEvent::MemberLeft { room_id, member } => {
                let text = format!("{} left", member.username);
                if let Some(joined) = self.joined.get_mut(&room_id) {
                    joined.members.retain(|m| m.id != member.id);
                    self.notice(room_id, text);
                }
            }
            ServerEvent::RoomAdded { room } | ServerEvent::RoomUpdated { room } => {
                self.upsert_room(room)
            }
            ServerEvent::RoomRemoved { room_id } => {
                let title = self.title(room_id);
                let was_open = self.active == Some(room_id);
                self.forget_room(room_id);
                self.rooms.retain(|room| room.id != room_id);
                if was_open {
                    self.alert(format!("{title} was deleted."), true);
                }
            }
            ServerEvent::Error {
                request_id,
                code,
                message,
            } => match request_id {
                Some(request_id) => self.refused(request_id, code, message),
                None => self.alert(message, true),
            },
            ServerEvent::Pong { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use protocol::{MessageId, UserId};

    fn room(id: i64, title: &str) -> RoomInfo {
        RoomInfo {
            id: RoomId(id),
            title: title.into(),
            staff_only: false,
        }
    }

    fn member(id: i64, name: &str) -> Member {
        Member {
            id: UserId(id),
            username: name.into(),
        }
    }

    fn message(room: i64, seq: i64, body: &str) -> ChatMessage {
        ChatMessage {
            id: MessageId(room * 1000 + seq),
            room_id: RoomId(room),
            seq,
            author: member(2, "bob"),
            body: body.into(),
            created_at: Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap(),
            edited_at: None,
            deleted: false,
            nonce: None,
        }
    }

    fn messages(room: i64, seqs: std::ops::RangeInclusive<i64>) -> Vec<ChatMessage> {
        seqs.map(|seq| message(room, seq, &format!("m{seq}")))
            .collect()
    }

    fn hello(rooms: Vec<RoomInfo>) -> ServerEvent {
        let memberships = rooms.iter().map(|room| room.id).collect();
        ServerEvent::Hello {
            protocol_version: 1,
            user: UserSummary {
                id: UserId(1),
                username: "alice".into(),
                is_admin: false,
                is_staff: false,
            },
            rooms,
            memberships,
        }
    }

    fn joined(id: i64, title: &str, recent: Vec<ChatMessage>) -> ServerEvent {
        ServerEvent::Joined {
            request_id: None,
            room: room(id, title),
            members: vec![member(1, "alice")],
            recent,
        }
    }

    fn bodies(state: &ChatState, room: i64) -> Vec<String> {
        state.joined[&RoomId(room)]
            .timeline
            .iter()
            .filter_map(|entry| match entry {
                Entry::Message(m) => Some(m.body.clone()),
                Entry::Notice { .. } => None,
            })
            .collect()
    }

    #[test]
    fn rooms_are_sorted_by_title_ignoring_case_and_stay_live() {
        let mut state = ChatState::default();
        state.apply(hello(vec![
            room(1, "zoo"),
            room(2, "Apple"),
            room(3, "banana"),
        ]));
        let titles = |s: &ChatState| s.rooms.iter().map(|r| r.title.clone()).collect::<Vec<_>>();
        assert_eq!(titles(&state), ["Apple", "banana", "zoo"]);
        state.apply(ServerEvent::RoomAdded {
            room: room(4, "Cherry"),
        });
        state.apply(ServerEvent::RoomUpdated {
            room: room(1, "aardvark"),
        });
        state.apply(ServerEvent::RoomRemoved { room_id: RoomId(2) });
        assert_eq!(titles(&state), ["aardvark", "banana", "Cherry"]);
        assert_eq!(state.connection, Connection::Online);
    }

    #[test]
    fn messages_keep_seq_order_without_duplicates() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(
            1,
            "a",
            vec![message(1, 1, "one"), message(1, 2, "two")],
        ));
        state.apply(ServerEvent::Message {
            message: message(1, 2, "two"),
        });
        state.apply(ServerEvent::Message {
            message: message(1, 4, "four"),
        });
        state.apply(ServerEvent::Message {
            message: message(1, 3, "three"),
        });
        assert_eq!(bodies(&state, 1), ["one", "two", "three", "four"]);
    }

    #[test]
    fn unread_counts_only_rooms_not_on_screen() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a"), room(2, "b")]));
        state.apply(joined(1, "a", vec![]));
        state.apply(joined(2, "b", vec![]));
        assert_eq!(state.active, Some(RoomId(1)), "the first joined room opens");
        state.apply(ServerEvent::Message {
            message: message(1, 1, "seen"),
        });
        state.apply(ServerEvent::Message {
            message: message(2, 1, "unseen"),
        });
        assert_eq!(state.joined[&RoomId(1)].unread, 0);
        assert_eq!(state.joined[&RoomId(2)].unread, 1);
        assert_eq!(state.open(RoomId(2)), None, "already joined: just opens");
        assert_eq!(state.joined[&RoomId(2)].unread, 0);
    }

    #[test]
    fn clicking_a_room_joins_it_then_opens_it() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a"), room(2, "b")]));
        state.apply(joined(1, "a", vec![]));
        let command = state.open(RoomId(2));
        assert!(matches!(
            command,
            Some(ClientCommand::Join {
                room_id: RoomId(2),
                ..
            })
        ));
        assert_eq!(
            state.active,
            Some(RoomId(1)),
            "stays until the server says joined"
        );
        state.apply(joined(2, "b", vec![]));
        assert_eq!(state.active, Some(RoomId(2)));
    }

    #[test]
    fn refusals_show_as_alerts_and_removal_closes_the_room() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a"), room(2, "secret")]));
        state.apply(joined(1, "a", vec![]));
        state.open(RoomId(2));
        state.apply(ServerEvent::Error {
            request_id: Some(RequestId(1)),
            code: ErrorCode::StaffOnly,
            message: "This room is for staff only.".into(),
        });
        assert_eq!(
            state.alert.as_ref().map(|a| a.text.as_str()),
            Some("This room is for staff only.")
        );
        state.apply(ServerEvent::Left {
            request_id: None,
            room_id: RoomId(1),
            reason: LeftReason::StaffOnly,
        });
        assert_eq!(state.active, None);
        assert!(
            state
                .alert
                .as_ref()
                .is_some_and(|a| a.text.contains("staff only now"))
        );
    }

    #[test]
    fn member_notices_join_the_timeline() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", vec![]));
        state.apply(ServerEvent::MemberJoined {
            room_id: RoomId(1),
            member: member(2, "bob"),
        });
        state.apply(ServerEvent::Message {
            message: message(1, 1, "hi"),
        });
        state.apply(ServerEvent::MemberLeft {
            room_id: RoomId(1),
            member: member(2, "bob"),
        });
        let room = &state.joined[&RoomId(1)];
        assert_eq!(room.members, vec![member(1, "alice")]);
        let lines: Vec<String> = room
            .timeline
            .iter()
            .map(|entry| match entry {
                Entry::Message(m) => m.body.clone(),
                Entry::Notice { text, .. } => text.clone(),
            })
            .collect();
        assert_eq!(lines, ["bob joined", "hi", "bob left"]);
    }

    #[test]
    fn older_pages_are_asked_once_and_prepended_until_the_beginning() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        let page: Vec<ChatMessage> = (51..=100)
            .map(|seq| message(1, seq, &format!("m{seq}")))
            .collect();
        state.apply(joined(1, "a", page));
        assert!(!state.joined[&RoomId(1)].beginning);
        let ask = state.load_older(RoomId(1));
        assert!(matches!(
            ask,
            Some(ClientCommand::History { before_seq: 51, .. })
        ));
        assert_eq!(state.load_older(RoomId(1)), None, "one request in flight");
        state.apply(ServerEvent::History {
            request_id: RequestId(1),
            room_id: RoomId(1),
            messages: (1..=50)
                .map(|seq| message(1, seq, &format!("m{seq}")))
                .collect(),
            complete: true,
        });
        let all = bodies(&state, 1);
        assert_eq!(all.len(), 100);
        assert_eq!((all[0].as_str(), all[99].as_str()), ("m1", "m100"));
        assert!(state.joined[&RoomId(1)].beginning);
        assert_eq!(
            state.load_older(RoomId(1)),
            None,
            "nothing before the beginning"
        );
    }

    #[test]
    fn blank_input_sends_nothing() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", vec![]));
        assert_eq!(state.compose("   "), vec![]);
        assert!(matches!(
            state.compose("hi").as_slice(),
            [ClientCommand::Send { .. }]
        ));
    }

    /// Answers every `missed` request the state makes from `all`, like the server would.
    fn fill_holes(state: &mut ChatState, all: &[ChatMessage]) -> usize {
        let mut requests = 0;
        loop {
            let asks = state.follow_ups(0.0);
            if asks.is_empty() {
                return requests;
            }
            for ask in asks {
                let ClientCommand::Missed {
                    request_id,
                    room_id,
                    after_seq,
                    before_seq,
                } = ask
                else {
                    panic!("only holes to fill: {ask:?}");
                };
                requests += 1;
                let page = all
                    .iter()
                    .filter(|m| m.seq > after_seq && m.seq < before_seq.unwrap_or(i64::MAX))
                    .take(HISTORY_PAGE)
                    .cloned()
                    .collect();
                state.apply(ServerEvent::Missed {
                    request_id,
                    room_id,
                    messages: page,
                });
            }
        }
    }

    #[test]
    fn a_reconnect_keeps_what_is_held_and_fills_the_hole() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", messages(1, 1..=20)));
        assert_eq!(state.follow_ups(0.0), vec![], "no hole, nothing to ask");
        state.disconnected();
        assert_eq!(state.connection, Connection::Reconnecting);
        // 500 messages went by; the reconnect brings the latest 50 with the room.
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", messages(1, 471..=520)));
        assert_eq!(state.joined[&RoomId(1)].first_gap(), Some((20, 471)));
        let requests = fill_holes(&mut state, &messages(1, 1..=520));
        assert_eq!(requests, 9, "450 missing messages, 50 a page");
        let want: Vec<String> = (1..=520).map(|seq| format!("m{seq}")).collect();
        assert_eq!(bodies(&state, 1), want);
    }

    #[test]
    fn a_message_ahead_of_a_missing_one_asks_for_the_hole_once() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", messages(1, 1..=3)));
        assert_eq!(state.follow_ups(0.0), vec![], "no hole yet");
        state.apply(ServerEvent::Message {
            message: message(1, 6, "m6"),
        });
        assert_eq!(
            state.follow_ups(0.0),
            vec![],
            "the missing message may still come by itself"
        );
        assert!(state.waiting());
        assert_eq!(state.follow_ups(HOLE_GRACE_MS - 1.0), vec![]);
        let asks = state.follow_ups(HOLE_GRACE_MS);
        assert!(matches!(
            asks.as_slice(),
            [ClientCommand::Missed {
                after_seq: 3,
                before_seq: Some(6),
                ..
            }]
        ));
        assert_eq!(state.follow_ups(1e6), vec![], "one request in flight");
        // The live messages arrive meanwhile; the answer overlaps them; nothing doubles.
        state.apply(ServerEvent::Message {
            message: message(1, 4, "m4"),
        });
        state.apply(ServerEvent::Missed {
            request_id: asks[0].request_id(),
            room_id: RoomId(1),
            messages: messages(1, 4..=5),
        });
        assert_eq!(bodies(&state, 1), ["m1", "m2", "m3", "m4", "m5", "m6"]);
        assert_eq!(state.follow_ups(2e6), vec![]);
        assert!(!state.waiting());
    }

    #[test]
    fn rooms_left_elsewhere_are_forgotten_on_reconnect() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a"), room(2, "b")]));
        state.apply(joined(1, "a", vec![]));
        state.apply(joined(2, "b", vec![]));
        state.disconnected();
        state.apply(ServerEvent::Hello {
            protocol_version: 3,
            user: state.me.clone().unwrap(),
            rooms: vec![room(1, "a"), room(2, "b")],
            memberships: vec![RoomId(2)],
        });
        assert!(!state.joined.contains_key(&RoomId(1)));
        assert!(state.joined.contains_key(&RoomId(2)));
        assert_eq!(state.active, None, "the open room was left");
    }

    fn mine(seq: i64, body: &str, nonce: &str) -> ChatMessage {
        ChatMessage {
            author: member(1, "alice"),
            nonce: Some(nonce.into()),
            ..message(1, seq, body)
        }
    }

    #[test]
    fn offline_messages_wait_in_the_outbox_and_go_with_their_nonce() {
        let mut state = ChatState::new("page".into());
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", vec![]));
        let sent = state.compose("first");
        let [ClientCommand::Send { nonce, .. }] = sent.as_slice() else {
            panic!("sent at once: {sent:?}");
        };
        let first_nonce = nonce.clone();
        // The socket drops before the server answers; a second message is typed offline.
        state.disconnected();
        assert_eq!(state.compose("second"), vec![], "offline: nothing sent");
        let waiting: Vec<&str> = state.outbox.iter().map(|p| p.body.as_str()).collect();
        assert_eq!(waiting, ["first", "second"], "both shown as pending");
        state.apply(hello(vec![room(1, "a")]));
        assert_eq!(
            sent_bodies(state.follow_ups(0.0)),
            [("first".to_owned(), first_nonce.clone())],
            "the first again, with the same nonce; the second waits its turn"
        );
        assert_eq!(state.follow_ups(0.0), vec![], "one on its way at a time");
        state.apply(joined(1, "a", vec![mine(1, "first", &first_nonce)]));
        state.apply(ServerEvent::Message {
            message: mine(1, "first", &first_nonce),
        });
        let second = sent_bodies(state.follow_ups(0.0));
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].0, "second");
        assert_ne!(second[0].1, first_nonce);
        state.apply(ServerEvent::Message {
            message: mine(2, "second", &second[0].1),
        });
        assert!(
            state.outbox.is_empty(),
            "confirmed messages leave the outbox"
        );
        assert_eq!(bodies(&state, 1), ["first", "second"]);
        assert_eq!(state.joined[&RoomId(1)].unread, 0);
    }

    /// The (body, nonce) of each `send` among `commands`.
    fn sent_bodies(commands: Vec<ClientCommand>) -> Vec<(String, String)> {
        commands
            .into_iter()
            .filter_map(|command| match command {
                ClientCommand::Send { body, nonce, .. } => Some((body, nonce)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_reloaded_tab_sends_what_it_left_unsent_with_the_same_nonces() {
        let mut before = ChatState::new("before".into());
        before.apply(hello(vec![room(1, "a"), room(2, "b")]));
        before.apply(joined(1, "a", vec![]));
        before.disconnected();
        before.compose("kept across the reload");
        let saved = before.outbox_to_save().expect("something to keep");
        assert_eq!(saved.user, UserId(1));

        let mut after = ChatState::new("after".into());
        after.restore(saved.clone());
        assert_eq!(
            after.outbox_to_save(),
            Some(saved.clone()),
            "kept until hello"
        );
        after.apply(hello(vec![room(1, "a"), room(2, "b")]));
        after.apply(joined(1, "a", vec![]));
        assert_eq!(
            sent_bodies(after.follow_ups(0.0)),
            [(
                "kept across the reload".to_owned(),
                saved.messages[0].nonce.clone()
            )]
        );
        after.apply(ServerEvent::Message {
            message: mine(1, "kept across the reload", &saved.messages[0].nonce),
        });
        assert_eq!(
            after.outbox_to_save(),
            None,
            "confirmed: nothing left to keep"
        );

        // Someone else signed in in that tab, or a room left meanwhile: not sent.
        let mut stranger = ChatState::new("stranger".into());
        stranger.restore(SavedOutbox {
            user: UserId(99),
            ..saved.clone()
        });
        stranger.apply(hello(vec![room(1, "a")]));
        assert!(stranger.outbox.is_empty());
        let mut moved_on = ChatState::new("moved-on".into());
        moved_on.restore(saved);
        moved_on.apply(hello(vec![room(2, "b")]));
        assert!(moved_on.outbox.is_empty());
    }

    #[test]
    fn too_fast_or_a_server_failure_pauses_the_outbox_and_keeps_its_order() {
        for code in [ErrorCode::RateLimited, ErrorCode::Internal] {
            let mut state = ChatState::new("page".into());
            state.apply(hello(vec![room(1, "a")]));
            state.apply(joined(1, "a", vec![]));
            let sent = state.compose("one");
            state.compose("two");
            state.apply(ServerEvent::Error {
                request_id: Some(sent[0].request_id()),
                code,
                message: "Try again later.".into(),
            });
            assert_eq!(state.outbox[0].failed, None, "{code:?} is not a failure");
            assert_eq!(state.alert, None);
            assert!(state.paused());
            assert_eq!(
                state.follow_ups(0.0),
                vec![],
                "nothing until resumed, \"two\" not ahead"
            );
            state.resume_paused();
            assert_eq!(
                sent_bodies(state.follow_ups(0.0)),
                [("one".to_owned(), state.outbox[0].nonce.clone())],
                "the refused one goes first, with its nonce"
            );
            assert!(!state.paused());
        }
    }

    #[test]
    fn an_unanswered_send_goes_again_with_its_nonce() {
        let mut state = ChatState::new("page".into());
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", vec![]));
        let first = sent_bodies(state.compose("hello?"));
        state.compose("queued behind it");
        assert!(state.waiting(), "the connection must keep asking");
        assert_eq!(state.follow_ups(1_000.0), vec![]);
        assert_eq!(state.follow_ups(1_000.0 + RESEND_AFTER_MS - 1.0), vec![]);
        assert_eq!(
            sent_bodies(state.follow_ups(1_000.0 + RESEND_AFTER_MS)),
            first,
            "the same message, the same nonce"
        );
    }

    #[test]
    fn a_refused_message_waits_for_retry_or_discard() {
        let mut state = ChatState::new("page".into());
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", vec![]));
        let sent = state.compose("to a closed door");
        state.apply(ServerEvent::Error {
            request_id: Some(sent[0].request_id()),
            code: ErrorCode::NotJoined,
            message: "Join the room first.".into(),
        });
        assert_eq!(
            state.outbox[0].failed.as_deref(),
            Some("Join the room first.")
        );
        assert_eq!(state.alert, None, "shown on the message, not as an alert");
        assert_eq!(state.follow_ups(0.0), vec![], "not retried by itself");
        let nonce = state.outbox[0].nonce.clone();
        assert_eq!(
            sent_bodies(state.compose("another")),
            [("another".to_owned(), state.outbox[1].nonce.clone())],
            "a failed message does not hold up the next"
        );
        assert_eq!(state.retry(&nonce), vec![], "after the one on its way");
        state.discard(&nonce);
        assert_eq!(state.outbox.len(), 1);
        assert_eq!(state.outbox[0].body, "another");
    }

    #[test]
    fn edits_and_deletions_replace_the_message_in_place() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", messages(1, 1..=3)));
        let edited = ChatMessage {
            body: "m2, fixed".into(),
            edited_at: Some(Utc.with_ymd_and_hms(2026, 11, 22, 3, 1, 0).unwrap()),
            ..message(1, 2, "")
        };
        state.apply(ServerEvent::MessageChanged { message: edited });
        let deleted = ChatMessage {
            body: String::new(),
            deleted: true,
            ..message(1, 3, "")
        };
        state.apply(ServerEvent::MessageChanged { message: deleted });
        assert_eq!(bodies(&state, 1), ["m1", "m2, fixed", ""]);
        // A page read before the changes arrives afterwards: the old text does not come back.
        state.apply(ServerEvent::Missed {
            request_id: RequestId(99),
            room_id: RoomId(1),
            messages: messages(1, 1..=3),
        });
        assert_eq!(bodies(&state, 1), ["m1", "m2, fixed", ""]);
        let alice_admin = UserSummary {
            is_admin: true,
            ..state.me.clone().unwrap()
        };
        let theirs = message(1, 1, "m1");
        assert!(!state.may_delete(&theirs));
        state.me = Some(alice_admin);
        assert!(state.may_delete(&theirs));
    }
}
