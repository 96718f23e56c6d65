//! Everything the chat page shows, and how each server event changes it: [`ChatState`] and its
//! reducer, [`ChatState::apply`], the one entry point. The concerns it combines live beside it:
//! each room's timeline ([`super::timeline`]), the outbox ([`super::outbox`]) and keeping the
//! timelines complete ([`super::sync`]).
//!
//! The delivery contract, client side: every room's messages are kept by seq, duplicates
//! dropped; a hole in the seqs held (after a reconnect, or a message that overtook another) is
//! filled with `missed` requests; messages typed without a connection wait in the outbox and go,
//! with their nonce, once it is back. [`ChatState::follow_ups`] says what to send after each
//! event (and on a short timer, for holes waiting out [`super::sync::HOLE_GRACE_MS`]).

use super::jump::{Jump, JumpStatus};
use super::outbox::Outbox;
use super::reading::Counts;
use super::saved_outbox::SavedOutbox;
use super::search::Search;
use super::sync::{Refused, RequestIds};
use super::timeline::{Entry, JoinedRoom, gaps};
use super::typing::Typists;
use protocol::{
    ChatMessage, ClientCommand, ErrorCode, HISTORY_PAGE, LeftReason, Member, MessageId,
    NotifyLevel, RequestId, RoomId, RoomInfo, RoomKind, ServerEvent, UserId, UserSummary,
};
use std::collections::{HashMap, HashSet, VecDeque};

/// How many of the page's own background requests are remembered (a refusal comes back within
/// moments, long before this many more were sent).
const BACKGROUND_KEPT: usize = 64;

/// The socket's state, as the status pill shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Connection {
    #[default]
    Connecting,
    Online,
    /// Lost; the next attempt is scheduled.
    Reconnecting,
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
    /// Whether this user may create rooms (the server's setting).
    pub may_create_rooms: bool,
    /// The answer to the latest user search (the pickers'), once it arrives.
    pub found_users: Option<Vec<Member>>,
    /// The newest message that arrived live in the open room, as the page's polite live region
    /// reads it out (never loaded history).
    pub announcement: Option<String>,
    pub outbox: Outbox,
    /// Who is online among the people the user shares a room with.
    pub online: HashSet<UserId>,
    /// Of the latest user search's answer, those online.
    pub found_online: Vec<UserId>,
    /// Who is typing where.
    pub typing: Typists,
    /// The clock (ms) as of the latest follow-ups, for when typing notices arrived.
    now: f64,
    /// When this tab last said the user is typing, per room (ms).
    typing_sent: HashMap<RoomId, f64>,
    /// The latest commands the page sends by itself (read marks, room views, typing): a
    /// refusal of one (the room was just left, say) is nobody's business on screen.
    background: VecDeque<RequestId>,
    /// Messages an earlier load of this tab left unsent, until `hello` says whose they are.
    saved: Option<SavedOutbox>,
    /// The room to open when its `joined` arrives: one the user asked to join or open, or the
    /// first of their rooms on the page's first greeting. No other `joined` opens a room.
    pending_open: Option<RoomId>,
    /// `pending_open` is the page's own first choice (the last room, or the first), not the
    /// user's: the server already knows it, or need not.
    opening_by_itself: bool,
    /// The `create_room` or `open_direct` whose `joined` opens its room.
    pending_created: Option<RequestId>,
    /// The room opened and not yet reported to the server (to reopen on the next load).
    view_unsent: Option<RoomId>,
    /// The user search whose answer is awaited; older answers are stale.
    pending_search: Option<RequestId>,
    /// The message search the results panel shows, while it is open.
    pub search: Option<Search>,
    /// The message being opened in its room (a search result, a permalink), until another
    /// room is opened.
    pub jump: Option<Jump>,
    jumps: u64,
    requests: RequestIds,
    next_notice: u64,
}

impl ChatState {
    /// A page's state; `nonce_prefix` must be unique to the page (random).
    pub fn new(nonce_prefix: String) -> ChatState {
        ChatState {
            outbox: Outbox::new(nonce_prefix),
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
            messages: self.outbox.messages().to_vec(),
        })
    }

    pub fn room(&self, id: RoomId) -> Option<&RoomInfo> {
        self.rooms.iter().find(|room| room.id == id)
    }

    fn title(&self, id: RoomId) -> String {
        if self.room(id).is_none() {
            return "the room".to_owned();
        }
        self.display_title(id)
    }

    /// How a room is named on screen: its title, or for a direct conversation the other
    /// participants' names ("Notes to self" when there are none).
    pub fn display_title(&self, id: RoomId) -> String {
        let Some(room) = self.room(id) else {
            return String::new();
        };
        if room.kind != RoomKind::Direct {
            return room.title.clone();
        }
        let me = self.me.as_ref().map(|me| me.id);
        let others: Vec<&str> = self
            .joined
            .get(&id)
            .map(|joined| {
                joined
                    .members
                    .iter()
                    .filter(|member| Some(member.id) != me)
                    .map(|member| member.username.as_str())
                    .collect()
            })
            .unwrap_or_default();
        if others.is_empty() {
            "Notes to self".to_owned()
        } else {
            others.join(", ")
        }
    }

    /// The rooms the user is in, direct conversations aside, by title.
    pub fn my_rooms(&self) -> Vec<RoomInfo> {
        self.rooms
            .iter()
            .filter(|room| room.kind != RoomKind::Direct && self.joined.contains_key(&room.id))
            .cloned()
            .collect()
    }

    /// Listed rooms the user is not in: open ones, then staff-only ones (listed to everyone,
    /// marked, entered by staff alone), each by title.
    pub fn joinable_rooms(&self) -> Vec<RoomInfo> {
        let mut rooms: Vec<RoomInfo> = self
            .rooms
            .iter()
            .filter(|room| !self.joined.contains_key(&room.id))
            .filter(|room| matches!(room.kind, RoomKind::Open | RoomKind::StaffOnly))
            .cloned()
            .collect();
        // Stable: titles stay in order within each kind.
        rooms.sort_by_key(|room| room.kind == RoomKind::StaffOnly);
        rooms
    }

    /// The user's direct conversations, the most recently active first (a new one, with no
    /// messages yet, on top).
    pub fn direct_rooms(&self) -> Vec<RoomId> {
        let mut direct: Vec<(Option<chrono::DateTime<chrono::Utc>>, RoomId)> = self
            .rooms
            .iter()
            .filter(|room| room.kind == RoomKind::Direct)
            .filter_map(|room| {
                let joined = self.joined.get(&room.id)?;
                Some((joined.newest_message().map(|m| m.created_at), room.id))
            })
            .collect();
        direct.sort_by(|a, b| match (a.0, b.0) {
            (None, None) => b.1.cmp(&a.1),
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => y.cmp(&x),
        });
        direct.into_iter().map(|(_, id)| id).collect()
    }

    /// Whether the user manages `room`: its creator or an admin, never of a direct
    /// conversation. (The server decides; this only chooses what to offer.)
    pub fn manages(&self, room: RoomId) -> bool {
        let (Some(me), Some(room)) = (self.me.as_ref(), self.room(room)) else {
            return false;
        };
        room.kind != RoomKind::Direct && (me.is_admin || room.created_by == Some(me.id))
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
        // A message on its way to being opened there cannot be; one shown there is gone
        // with its room.
        if let Some(jump) = &mut self.jump
            && jump.room == room
        {
            if jump.status == JumpStatus::Shown {
                self.jump = None;
            } else {
                jump.status = JumpStatus::Unavailable;
            }
        }
        self.joined.remove(&room);
        self.outbox.forget_room(room);
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
                self.outbox.confirm(nonce);
            }
        }
    }

    /// Unread messages and mentions in a joined room (none in any other).
    pub fn counts(&self, room: RoomId) -> Counts {
        let (Some(me), Some(joined)) = (self.me.as_ref(), self.joined.get(&room)) else {
            return Counts::default();
        };
        let kind = self.room(room).map_or(RoomKind::Open, |room| room.kind);
        joined.counts(me.id, kind)
    }

    /// Unread messages and mentions over all joined rooms (the tab title's count).
    pub fn total_counts(&self) -> Counts {
        let mut total = Counts::default();
        for room in self.joined.keys() {
            total += self.counts(*room);
        }
        total
    }

    /// The room's notification level as the user chose it, or its default.
    pub fn notify_level(&self, room: RoomId) -> NotifyLevel {
        let joined = self.joined.get(&room);
        let chosen = joined.and_then(|joined| joined.read.notify);
        let members = joined.map_or(0, |joined| joined.members.len());
        let kind = self.room(room).map_or(RoomKind::Open, |room| room.kind);
        chosen.unwrap_or_else(|| NotifyLevel::default_for(kind, members))
    }

    /// Whether a live message should notify the user (if they are not looking at its room):
    /// someone else's, unread, in a joined room whose level asks for it.
    pub fn notifies(&self, message: &ChatMessage) -> bool {
        let Some(me) = self.me.as_ref() else {
            return false;
        };
        let kind = self
            .room(message.room_id)
            .map_or(RoomKind::Open, |room| room.kind);
        let unread = self
            .joined
            .get(&message.room_id)
            .is_some_and(|joined| message.seq > joined.read.last_read_seq);
        unread
            && match self.notify_level(message.room_id) {
                NotifyLevel::All => message.counts_for(me.id),
                NotifyLevel::Mentions => message.mentions_for(me.id, kind),
                NotifyLevel::Nothing => false,
            }
    }

    /// How far the user has seen a room with its messages up to `up_to` on screen (`None`: the
    /// newest), if that is past its read position.
    fn unseen_up_to(&self, room: RoomId, up_to: Option<i64>) -> Option<i64> {
        let joined = self.joined.get(&room)?;
        let seq = joined.seen_up_to()?.min(up_to.unwrap_or(i64::MAX));
        (seq > joined.read.last_read_seq).then_some(seq)
    }

    /// Whether showing the room's messages up to `up_to` (`None`: the newest) shows some the
    /// user has not read.
    pub fn has_unseen(&self, room: RoomId, up_to: Option<i64>) -> bool {
        self.unseen_up_to(room, up_to).is_some()
    }

    /// The user has the open room on screen (in a visible, focused tab) down to the message
    /// `up_to` (`None`: the newest): what is above it is read. Counts drop at once (those the
    /// server counted past it, with its answer); the mark goes out with the next follow-ups.
    pub fn seen(&mut self, room: RoomId, up_to: Option<i64>) {
        if let Some(seq) = self.unseen_up_to(room, up_to)
            && let Some(joined) = self.joined.get_mut(&room)
        {
            joined.read.seen(seq);
        }
    }

    /// A request id for a command the page sends by itself (see `background`).
    fn background_request(&mut self) -> RequestId {
        let request_id = self.requests.issue();
        if self.background.len() == BACKGROUND_KEPT {
            self.background.pop_front();
        }
        self.background.push_back(request_id);
        request_id
    }

    /// The user is typing in `room` (at `now`, ms): say so, at most every
    /// [`protocol::TYPING_EVERY_MS`].
    pub fn typing(&mut self, room: RoomId, now: f64) -> Option<ClientCommand> {
        let last = self.typing_sent.get(&room).copied();
        if last.is_some_and(|last| now - last < f64::from(protocol::TYPING_EVERY_MS) && now >= last)
            || !self.joined.contains_key(&room)
        {
            return None;
        }
        self.typing_sent.insert(room, now);
        Some(ClientCommand::Typing {
            request_id: self.background_request(),
            room_id: room,
        })
    }

    /// Chooses which messages of a room notify the user (`None`: the room's default).
    pub fn set_notify(&mut self, room: RoomId, level: Option<NotifyLevel>) -> ClientCommand {
        ClientCommand::SetNotify {
            request_id: self.requests.issue(),
            room_id: room,
            level,
        }
    }

    /// Puts a joined room on screen, with the "new messages" line after what was read. When
    /// the user chose it, the server is told (with the next follow-ups) it is the room to
    /// reopen next time.
    fn show_room(&mut self, room: RoomId, by_user: bool) {
        // The user moving elsewhere ends a message's opening (a room opening by itself, on
        // the page's first greeting, leaves the "not available" page up).
        if by_user && self.jump.is_some_and(|jump| jump.room != room) {
            self.jump = None;
        }
        let has_unread = self.counts(room).unread > 0;
        if self.active != Some(room)
            && let Some(previous) = self.active.and_then(|id| self.joined.get_mut(&id))
        {
            previous.new_since = None;
        }
        if let Some(joined) = self.joined.get_mut(&room) {
            joined.new_since = has_unread.then_some(joined.read.last_read_seq);
            self.active = Some(room);
            if by_user {
                self.view_unsent = Some(room);
            }
        }
    }

    /// The user may delete this message: their own, or anyone's if they are an admin.
    pub fn may_delete(&self, message: &ChatMessage) -> bool {
        self.me
            .as_ref()
            .is_some_and(|me| me.is_admin || me.id == message.author.id)
    }

    /// Searches messages (closing what was searched before); the request, unless the query is
    /// refused at once.
    pub fn search_messages(&mut self, query: &str, room: Option<RoomId>) -> Option<ClientCommand> {
        self.close_overlays();
        let (search, command) = Search::start(query, room, &mut self.requests);
        self.search = Some(search);
        command
    }

    /// The next page of the open search's results.
    pub fn more_results(&mut self) -> Option<ClientCommand> {
        self.search.as_mut()?.next_page(&mut self.requests)
    }

    /// Closes the results panel: the open room is back on screen.
    pub fn close_search(&mut self) {
        self.search = None;
    }

    /// Closes what covers the room pane (the results panel, the "not available" page): the
    /// user chose something else to look at.
    pub fn close_overlays(&mut self) {
        self.search = None;
        if self
            .jump
            .is_some_and(|jump| jump.status == JumpStatus::Unavailable)
        {
            self.jump = None;
        }
    }

    /// Opens `room` around the message `seq` and highlights it (a search result, a
    /// permalink). The room opens at once if joined; before the greeting, when it arrives.
    pub fn open_message(&mut self, room: RoomId, seq: i64) -> Option<ClientCommand> {
        self.search = None;
        self.alert = None;
        self.jumps += 1;
        self.jump = Some(Jump {
            room,
            seq,
            status: JumpStatus::Waiting,
            serial: self.jumps,
        });
        self.jump_request()
    }

    /// Leaves the "not available" page of a message that could not be opened.
    pub fn dismiss_jump(&mut self) {
        self.jump = None;
    }

    /// The message waiting to be opened, opened: shown if held, else its page asked for; or
    /// found unavailable once the greeting says the user is not in its room.
    fn jump_request(&mut self) -> Option<ClientCommand> {
        let jump = self.jump.as_mut()?;
        if jump.status != JumpStatus::Waiting
            || self.connection != Connection::Online
            || self.me.is_none()
        {
            return None;
        }
        let (room, seq) = (jump.room, jump.seq);
        let Some(joined) = self.joined.get(&room) else {
            // Its `joined` may still be on its way.
            if self.pending_open != Some(room) {
                jump.status = JumpStatus::Unavailable;
            }
            return None;
        };
        if joined.holds(seq) {
            jump.status = JumpStatus::Shown;
        } else {
            let request_id = self.requests.issue();
            jump.status = JumpStatus::Loading(request_id);
        }
        let status = jump.status;
        self.pending_open = None;
        if self.active != Some(room) {
            self.show_room(room, true);
        }
        match status {
            JumpStatus::Loading(request_id) => Some(ClientCommand::Around {
                request_id,
                room_id: room,
                seq,
            }),
            _ => None,
        }
    }

    /// The message to open in `room` is still on its way (the view waits before it scrolls or
    /// counts anything as seen).
    pub fn opening_message(&self, room: RoomId) -> bool {
        self.jump.is_some_and(|jump| {
            jump.room == room && matches!(jump.status, JumpStatus::Waiting | JumpStatus::Loading(_))
        })
    }

    /// The seq of the message highlighted in `room`, if one is.
    pub fn highlighted(&self, room: RoomId) -> Option<i64> {
        self.jump
            .filter(|jump| jump.room == room && jump.status == JumpStatus::Shown)
            .map(|jump| jump.seq)
    }

    /// The reader scrolled down to the hole after a page opened around a message: its next
    /// page, at the next follow-ups.
    pub fn load_newer(&mut self, room: RoomId, now: f64) -> Vec<ClientCommand> {
        if let Some(joined) = self.joined.get_mut(&room) {
            joined.sync.want_newer();
        }
        self.hole_fills(now)
    }

    /// The user clicked a room: open it if joined, otherwise ask to join (it opens on `joined`).
    pub fn open(&mut self, room: RoomId) -> Option<ClientCommand> {
        self.alert = None;
        if self.joined.contains_key(&room) {
            // The user's choice wins over a room still due to open by itself.
            self.pending_open = None;
            if self.active != Some(room) {
                self.show_room(room, true);
            }
            return None;
        }
        self.pending_open = Some(room);
        self.opening_by_itself = false;
        Some(ClientCommand::Join {
            request_id: self.requests.issue(),
            room_id: room,
        })
    }

    /// Asks for the page before the oldest message held, unless one is on its way or the
    /// beginning is reached.
    pub fn load_older(&mut self, room: RoomId) -> Option<ClientCommand> {
        if self.connection != Connection::Online {
            return None;
        }
        let joined = self.joined.get_mut(&room)?;
        if joined.beginning {
            return None;
        }
        let before_seq = joined.oldest_seq().unwrap_or(i64::MAX);
        joined.sync.ask_older(room, before_seq, &mut self.requests)
    }

    /// Creates a room; it opens when its `joined` arrives.
    pub fn create_room(
        &mut self,
        title: &str,
        kind: RoomKind,
        members: Vec<UserId>,
    ) -> ClientCommand {
        self.alert = None;
        let request_id = self.requests.issue();
        self.pending_created = Some(request_id);
        ClientCommand::CreateRoom {
            request_id,
            title: title.trim().to_owned(),
            kind,
            members,
        }
    }

    /// Opens the direct conversation with `with`: at once when this tab holds it, else by
    /// asking the server (which finds or creates it; it opens on `joined`).
    pub fn open_direct(&mut self, mut with: Vec<UserId>) -> Option<ClientCommand> {
        self.alert = None;
        let me = self.me.as_ref()?.id;
        with.retain(|user| *user != me);
        with.sort();
        with.dedup();
        let known = self.rooms.iter().find(|room| {
            room.kind == RoomKind::Direct
                && self.joined.get(&room.id).is_some_and(|joined| {
                    let mut others: Vec<UserId> = joined
                        .members
                        .iter()
                        .map(|member| member.id)
                        .filter(|id| *id != me)
                        .collect();
                    others.sort();
                    others == with
                })
        });
        if let Some(room) = known.map(|room| room.id) {
            return self.open(room);
        }
        let request_id = self.requests.issue();
        self.pending_created = Some(request_id);
        Some(ClientCommand::OpenDirect { request_id, with })
    }

    pub fn rename_room(&mut self, room: RoomId, title: &str) -> ClientCommand {
        ClientCommand::RenameRoom {
            request_id: self.requests.issue(),
            room_id: room,
            title: title.trim().to_owned(),
        }
    }

    pub fn set_room_kind(&mut self, room: RoomId, kind: RoomKind) -> ClientCommand {
        ClientCommand::SetRoomKind {
            request_id: self.requests.issue(),
            room_id: room,
            kind,
        }
    }

    pub fn add_members(&mut self, room: RoomId, users: Vec<UserId>) -> ClientCommand {
        ClientCommand::AddMembers {
            request_id: self.requests.issue(),
            room_id: room,
            users,
        }
    }

    pub fn remove_member(&mut self, room: RoomId, user: UserId) -> ClientCommand {
        ClientCommand::RemoveMember {
            request_id: self.requests.issue(),
            room_id: room,
            user_id: user,
        }
    }

    pub fn delete_room(&mut self, room: RoomId) -> ClientCommand {
        ClientCommand::DeleteRoom {
            request_id: self.requests.issue(),
            room_id: room,
        }
    }

    /// Asks for the users whose name contains `query`; the answer replaces
    /// [`ChatState::found_users`].
    pub fn find_users(&mut self, query: &str) -> ClientCommand {
        let request_id = self.requests.issue();
        self.pending_search = Some(request_id);
        ClientCommand::FindUsers {
            request_id,
            query: query.trim().to_owned(),
        }
    }

    pub fn leave(&mut self, room: RoomId) -> ClientCommand {
        ClientCommand::Leave {
            request_id: self.requests.issue(),
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
        self.outbox.push(room, body);
        // The message ends this bout of typing; the next starts a new notice at once.
        self.typing_sent.remove(&room);
        self.outbox_sends()
    }

    /// Sends a refused message again.
    pub fn retry(&mut self, nonce: &str) -> Vec<ClientCommand> {
        self.outbox.retry(nonce);
        self.outbox_sends()
    }

    /// Drops a refused message from the outbox.
    pub fn discard(&mut self, nonce: &str) {
        self.outbox.discard(nonce);
    }

    pub fn edit(&mut self, message: MessageId, body: &str) -> Option<ClientCommand> {
        let body = body.trim();
        (!body.is_empty()).then(|| ClientCommand::Edit {
            request_id: self.requests.issue(),
            message_id: message,
            body: body.to_owned(),
        })
    }

    pub fn delete(&mut self, message: MessageId) -> ClientCommand {
        ClientCommand::Delete {
            request_id: self.requests.issue(),
            message_id: message,
        }
    }

    /// What the client must send now (`now`: milliseconds on any steady clock): the next outbox
    /// message not yet sent on this connection (or unanswered for
    /// [`super::outbox::RESEND_AFTER_MS`]), and a `missed` request for the first hole of each
    /// room that has one — at once after a (re)join or a page that left more to fetch, and
    /// after [`super::sync::HOLE_GRACE_MS`] for a hole a live message opened, which the missing
    /// message usually fills by itself.
    pub fn follow_ups(&mut self, now: f64) -> Vec<ClientCommand> {
        self.now = now;
        self.typing.expire(now);
        self.outbox.resend_unanswered(now);
        let mut commands = self.outbox_sends();
        commands.extend(self.jump_request());
        commands.extend(self.hole_fills(now));
        commands.extend(self.read_marks(now));
        commands
    }

    /// The read marks (and recounts) due, if the socket is up.
    fn read_marks(&mut self, now: f64) -> Vec<ClientCommand> {
        if self.connection != Connection::Online {
            return Vec::new();
        }
        let mut commands = Vec::new();
        if let Some(room_id) = self.view_unsent.take() {
            let request_id = self.background_request();
            commands.push(ClientCommand::ViewRoom {
                request_id,
                room_id,
            });
        }
        let due: Vec<(RoomId, i64)> = self
            .joined
            .iter_mut()
            .filter_map(|(room_id, joined)| Some((*room_id, joined.read.due(now)?)))
            .collect();
        for (room_id, seq) in due {
            let request_id = self.background_request();
            commands.push(ClientCommand::MarkRead {
                request_id,
                room_id,
                seq,
            });
        }
        commands
    }

    /// The next outbox message to send, if the socket is up (see [`Outbox::next_send`]).
    fn outbox_sends(&mut self) -> Vec<ClientCommand> {
        if self.connection != Connection::Online {
            return Vec::new();
        }
        let joined = &self.joined;
        self.outbox
            .next_send(|room| joined.contains_key(&room), &mut self.requests)
            .into_iter()
            .collect()
    }

    fn hole_fills(&mut self, now: f64) -> Vec<ClientCommand> {
        if self.connection != Connection::Online {
            return Vec::new();
        }
        let mut commands = Vec::new();
        for (room_id, joined) in &mut self.joined {
            let timeline = &joined.timeline;
            let holes = || gaps(timeline);
            if let Some(fill) = joined
                .sync
                .hole_fill(*room_id, holes, now, &mut self.requests)
            {
                commands.push(fill);
            }
        }
        commands
    }

    /// A hole waits out its grace period, or a sent message for its answer:
    /// [`ChatState::follow_ups`] must be asked again soon.
    pub fn waiting(&self) -> bool {
        self.outbox.waiting()
            || self.view_unsent.is_some()
            || self.typing.any()
            || self
                .joined
                .values()
                .any(|joined| joined.sync.waiting() || joined.read.waiting())
    }

    pub fn dismiss_alert(&mut self) {
        self.alert = None;
    }

    /// The socket is gone: whatever was on its way is asked again on the next one.
    pub fn disconnected(&mut self) {
        self.connection = Connection::Reconnecting;
        self.outbox.disconnected();
        if let Some(search) = &mut self.search {
            search.disconnected();
        }
        if let Some(jump) = &mut self.jump
            && matches!(jump.status, JumpStatus::Loading(_))
        {
            jump.status = JumpStatus::Waiting;
        }
        for joined in self.joined.values_mut() {
            joined.sync.disconnected();
            joined.read.resend();
        }
    }

    /// Lets the outbox and the rooms whose hole fill was refused (rate limited, say) go on;
    /// the connection calls this every few seconds.
    pub fn resume_paused(&mut self) {
        self.outbox.resume();
        for joined in self.joined.values_mut() {
            joined.sync.resume();
        }
    }

    /// The outbox or some room's hole fill waits for [`ChatState::resume_paused`].
    pub fn paused(&self) -> bool {
        self.outbox.paused() || self.joined.values().any(|joined| joined.sync.paused())
    }

    /// A command failed: the outbox message it carried waits for a retry (by itself when it was
    /// only too fast); a page request may be made again.
    fn refused(&mut self, request_id: RequestId, code: ErrorCode, message: String) {
        if self.outbox.refused(request_id, code, &message) {
            return;
        }
        if self.background.contains(&request_id) {
            // A read mark among them goes again (a refusal for a room just left is moot: the
            // room is gone from here).
            for joined in self.joined.values_mut() {
                joined.read.resend();
            }
            return;
        }
        if self.pending_created == Some(request_id) {
            self.pending_created = None;
        }
        if let Some(search) = &mut self.search
            && search.refused(request_id, message.clone())
        {
            return;
        }
        if let Some(jump) = &mut self.jump
            && jump.status == JumpStatus::Loading(request_id)
        {
            // Outside the room (or it is gone): the page says the message is not available.
            // Anything else (too fast, a server failure) is said as it is.
            if matches!(
                code,
                ErrorCode::NotJoined | ErrorCode::UnknownRoom | ErrorCode::StaffOnly
            ) {
                jump.status = JumpStatus::Unavailable;
            } else {
                self.jump = None;
                self.alert(message, true);
            }
            return;
        }
        let refused = self
            .joined
            .values_mut()
            .find_map(|joined| joined.sync.refused(request_id));
        match refused {
            Some(Refused::OlderPage) => self.alert(message, true),
            Some(Refused::HoleFill) => {}
            None => {
                if matches!(code, ErrorCode::StaffOnly | ErrorCode::UnknownRoom) {
                    self.pending_open = None;
                }
                self.alert(message, true);
            }
        }
    }

    /// Folds one server event into the state.
    pub fn apply(&mut self, event: ServerEvent) {
        match event {
            ServerEvent::Hello {
                user,
                rooms: public_rooms,
                private_rooms,
                memberships,
                may_create_rooms,
                last_room,
                ..
            } => {
                self.connection = Connection::Online;
                // Each `joined` that follows says who of its members is online.
                self.online.clear();
                self.may_create_rooms = may_create_rooms;
                // Only the page's first greeting comes before anyone is known.
                let first_greeting = self.me.is_none();
                if let Some(saved) = self.saved.take()
                    && saved.user == user.id
                {
                    for pending in saved.messages {
                        if memberships.contains(&pending.room_id) {
                            self.outbox.adopt(pending);
                        }
                    }
                }
                self.me = Some(user);
                self.rooms.clear();
                // Decoded with the frame: only a list the server encoded could fail here.
                let public_rooms = public_rooms.decode().unwrap_or_default();
                for room in public_rooms.into_iter().chain(private_rooms) {
                    self.upsert_room(room);
                }
                // A page just loaded shows the room the user had open last (on any device),
                // else the first of their rooms in the sidebar's order, as soon as it arrives.
                // A reconnect leaves what is open (or that nothing is) as the user left it.
                // A permalink opens its room, if the user is in it.
                if first_greeting && let Some(jump) = &mut self.jump {
                    if memberships.contains(&jump.room) {
                        self.pending_open = Some(jump.room);
                        self.opening_by_itself = false;
                    } else {
                        jump.status = JumpStatus::Unavailable;
                    }
                }
                if first_greeting && self.active.is_none() && self.pending_open.is_none() {
                    self.opening_by_itself = true;
                    self.pending_open = last_room
                        .filter(|room| memberships.contains(room))
                        .or_else(|| {
                            self.rooms
                                .iter()
                                .map(|room| room.id)
                                .find(|room| memberships.contains(room))
                        });
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
                request_id,
                room,
                members,
                recent,
                read,
                online,
            } => {
                let id = room.id;
                for member in &members {
                    if online.contains(&member.id) {
                        self.online.insert(member.id);
                    } else {
                        self.online.remove(&member.id);
                    }
                }
                if request_id.is_some() && request_id == self.pending_created {
                    self.pending_created = None;
                    self.pending_open = Some(id);
                    self.opening_by_itself = false;
                }
                self.upsert_room(room);
                self.confirm(&recent);
                let joined = self.joined.entry(id).or_default();
                joined.read.take(read);
                joined.members = members;
                // Fewer than a page, or seq 1 itself: nothing older exists.
                joined.beginning |=
                    recent.len() < HISTORY_PAGE || recent.first().is_some_and(|m| m.seq == 1);
                joined.sync.rejoined();
                for message in recent {
                    joined.insert(message);
                }
                // A reconnect's `joined` and a join made in another tab leave the open room
                // as it is.
                if self.pending_open == Some(id) {
                    self.pending_open = None;
                    let by_user = !std::mem::take(&mut self.opening_by_itself);
                    self.show_room(id, by_user);
                }
            }
            ServerEvent::Left {
                room_id, reason, ..
            } => {
                let title = self.title(room_id);
                self.forget_room(room_id);
                // A private room is not even listed to those outside it.
                if self
                    .room(room_id)
                    .is_some_and(|room| room.kind.is_private())
                {
                    self.rooms.retain(|room| room.id != room_id);
                }
                match reason {
                    LeftReason::Left => {}
                    LeftReason::Removed => {
                        self.alert(format!("You were removed from {title}."), true)
                    }
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
                    joined.sync.older_arrived();
                }
            }
            ServerEvent::Missed {
                room_id, messages, ..
            } => {
                self.confirm(&messages);
                if let Some(joined) = self.joined.get_mut(&room_id) {
                    joined.sync.filled(messages.is_empty());
                    for message in messages {
                        joined.insert(message);
                    }
                }
            }
            ServerEvent::Message { message } => {
                self.confirm([&message]);
                // Others' messages only: the user knows what they just sent.
                let mine = self
                    .me
                    .as_ref()
                    .is_some_and(|me| me.id == message.author.id);
                if self.active == Some(message.room_id) && !mine {
                    self.announcement =
                        Some(format!("{}: {}", message.author.username, message.body));
                }
                self.typing.stopped(message.room_id, message.author.id);
                if let Some(joined) = self.joined.get_mut(&message.room_id) {
                    joined.sync.live_message();
                    joined.insert(message);
                }
            }
            ServerEvent::MessageChanged { message } => {
                let me = self.me.as_ref().map(|me| me.id);
                let kind = self.room(message.room_id).map(|room| room.kind);
                if let (Some(me), Some(kind), Some(joined)) =
                    (me, kind, self.joined.get_mut(&message.room_id))
                {
                    // What counts is whether it is unread and a mention; a change to neither
                    // (an edit of the text, anything of one's own) leaves the counts alone.
                    let weighs = |m: &ChatMessage| (m.counts_for(me), m.mentions_for(me, kind));
                    if joined.held(message.seq).map(weighs) != Some(weighs(&message)) {
                        joined.read.message_changed(message.seq);
                    }
                    joined.change(message);
                }
            }
            ServerEvent::ReadChanged { read } => {
                if let Some(joined) = self.joined.get_mut(&read.room_id) {
                    joined.read.changed(read);
                }
            }
            ServerEvent::MemberJoined {
                room_id,
                member,
                online,
            } => {
                if online {
                    self.online.insert(member.id);
                }
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
            ServerEvent::UsersFound {
                request_id,
                users,
                online,
            } => {
                if self.pending_search == Some(request_id) {
                    self.pending_search = None;
                    self.found_users = Some(users);
                    self.found_online = online;
                }
            }
            ServerEvent::Presence { user_id, online } => {
                if online {
                    self.online.insert(user_id);
                } else {
                    self.online.remove(&user_id);
                }
            }
            ServerEvent::Typing { room_id, user } => {
                let me = self.me.as_ref().map(|me| me.id);
                if me != Some(user.id) && self.joined.contains_key(&room_id) {
                    self.typing.arrived(room_id, user, self.now);
                }
            }
            ServerEvent::SearchResults {
                request_id,
                hits,
                next,
            } => {
                if let Some(search) = &mut self.search {
                    search.arrived(request_id, hits, next);
                }
            }
            ServerEvent::Around {
                request_id,
                room_id,
                seq,
                messages,
                beginning,
            } => {
                self.confirm(&messages);
                let Some(jump) = &mut self.jump else { return };
                if jump.status != JumpStatus::Loading(request_id) {
                    return;
                }
                let Some(joined) = self.joined.get_mut(&room_id) else {
                    jump.status = JumpStatus::Unavailable;
                    return;
                };
                let last = messages.last().map(|message| message.seq);
                for message in messages {
                    joined.insert(message);
                }
                joined.beginning |= beginning;
                if let Some(last) = last
                    && gaps(&joined.timeline)
                        .iter()
                        .any(|(before, _)| *before == last)
                {
                    joined.sync.opened_around(last);
                }
                jump.status = if joined.holds(seq) {
                    JumpStatus::Shown
                } else {
                    JumpStatus::Unavailable
                };
            }
            ServerEvent::Pong { .. } | ServerEvent::Done { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::fixtures::*;
    use protocol::{Encoded, ReadState};

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
    fn counts_follow_live_messages_until_the_room_is_seen() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a"), room(2, "b")]));
        state.apply(joined(1, "a", vec![]));
        state.apply(joined(2, "b", vec![]));
        assert_eq!(state.active, Some(RoomId(1)), "the first joined room opens");
        state.apply(ServerEvent::Message {
            message: message(1, 1, "on screen"),
        });
        state.apply(ServerEvent::Message {
            message: message(2, 1, "elsewhere"),
        });
        let one = Counts {
            unread: 1,
            mentions: 0,
        };
        // Open is not read: the page says when the user has seen it.
        assert_eq!(state.counts(RoomId(1)), one);
        assert_eq!(state.counts(RoomId(2)), one);
        assert_eq!(state.total_counts().unread, 2);
        state.seen(RoomId(1), None);
        assert_eq!(state.counts(RoomId(1)), Counts::default());
        let sent = state.follow_ups(0.0);
        assert_eq!(
            sent,
            [ClientCommand::MarkRead {
                request_id: sent[0].request_id(),
                room_id: RoomId(1),
                seq: 1,
            }],
            "the room opened by itself is not reported as chosen"
        );
        assert_eq!(state.open(RoomId(2)), None, "already joined: just opens");
        assert_eq!(
            state.joined[&RoomId(2)].new_since,
            Some(0),
            "the new-messages line"
        );
        assert_eq!(state.joined[&RoomId(1)].new_since, None);
        let sent = state.follow_ups(2000.0);
        assert!(
            matches!(
                sent[..],
                [ClientCommand::ViewRoom {
                    room_id: RoomId(2),
                    ..
                }]
            ),
            "the user's choice is remembered: {sent:?}"
        );
    }

    #[test]
    fn scrolled_up_only_what_was_on_screen_is_read() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", vec![]));
        for seq in 1..=3 {
            state.apply(ServerEvent::Message {
                message: message(1, seq, "m"),
            });
        }
        assert!(state.has_unseen(RoomId(1), Some(2)));
        state.seen(RoomId(1), Some(2));
        assert_eq!(
            state.counts(RoomId(1)).unread,
            1,
            "the third is below the fold"
        );
        assert!(
            !state.has_unseen(RoomId(1), Some(1)),
            "scrolling up reads nothing new"
        );
        state.seen(RoomId(1), None);
        assert_eq!(state.counts(RoomId(1)).unread, 0);
    }

    #[test]
    fn a_refused_read_mark_shows_nothing() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", vec![]));
        state.apply(ServerEvent::Message {
            message: message(1, 1, "hi"),
        });
        state.seen(RoomId(1), None);
        let sent = state.follow_ups(0.0);
        state.apply(ServerEvent::Error {
            request_id: Some(sent[0].request_id()),
            code: ErrorCode::UnknownRoom,
            message: "No such room".into(),
        });
        assert_eq!(
            state.alert, None,
            "the room was just left: the removal says so"
        );
    }

    #[test]
    fn the_last_room_reopens_on_a_new_page() {
        let mut state = ChatState::default();
        let ServerEvent::Hello {
            protocol_version,
            user,
            rooms,
            private_rooms,
            memberships,
            may_create_rooms,
            ..
        } = hello(vec![room(1, "a"), room(2, "b")])
        else {
            unreachable!()
        };
        state.apply(ServerEvent::Hello {
            protocol_version,
            user,
            rooms,
            private_rooms,
            memberships,
            may_create_rooms,
            last_room: Some(RoomId(2)),
        });
        state.apply(joined(1, "a", vec![]));
        assert_eq!(state.active, None);
        state.apply(joined(2, "b", vec![]));
        assert_eq!(state.active, Some(RoomId(2)));
    }

    #[test]
    fn mentions_and_levels_decide_notifications() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", vec![]));
        let mut mention = message(1, 1, "@alice look");
        mention.mentions = vec![member(1, "alice")];
        let plain = message(1, 2, "hello");
        assert_eq!(
            state.notify_level(RoomId(1)),
            NotifyLevel::All,
            "a small room"
        );
        assert!(state.notifies(&plain));
        state.apply(ServerEvent::ReadChanged {
            read: ReadState {
                notify: Some(NotifyLevel::Mentions),
                ..read_state(1, 0, 0, 0, 0)
            },
        });
        assert!(state.notifies(&mention));
        assert!(!state.notifies(&plain));
        state.apply(ServerEvent::Message { message: mention });
        assert_eq!(
            state.counts(RoomId(1)),
            Counts {
                unread: 1,
                mentions: 1
            }
        );
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
    fn rooms_left_elsewhere_are_forgotten_on_reconnect() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a"), room(2, "b")]));
        state.apply(joined(1, "a", vec![]));
        state.apply(joined(2, "b", vec![]));
        state.disconnected();
        state.apply(ServerEvent::Hello {
            protocol_version: 3,
            user: state.me.clone().unwrap(),
            rooms: Encoded::new(vec![room(1, "a"), room(2, "b")]),
            private_rooms: Vec::new(),
            memberships: vec![RoomId(2)],
            may_create_rooms: true,
            last_room: None,
        });
        assert!(!state.joined.contains_key(&RoomId(1)));
        assert!(state.joined.contains_key(&RoomId(2)));
        assert_eq!(state.active, None, "the open room was left");
    }

    #[test]
    fn the_first_greeting_opens_the_first_room_in_the_sidebar() {
        let mut state = ChatState::default();
        let rooms = vec![room(1, "zeta"), room(2, "Alpha"), room(3, "beta")];
        state.apply(hello_member_of(rooms, &[1, 3]));
        state.apply(joined(1, "zeta", vec![]));
        assert_eq!(state.active, None, "zeta is not first by title");
        state.apply(joined(3, "beta", vec![]));
        assert_eq!(
            state.active,
            Some(RoomId(3)),
            "beta: first of the user's rooms by title (Alpha is not theirs)"
        );
    }

    #[test]
    fn a_reconnect_opens_nothing_once_the_open_room_was_left() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a"), room(2, "b")]));
        state.apply(joined(1, "a", vec![]));
        state.apply(joined(2, "b", vec![]));
        assert_eq!(state.active, Some(RoomId(1)));
        state.apply(ServerEvent::Left {
            request_id: None,
            room_id: RoomId(1),
            reason: LeftReason::Left,
        });
        assert_eq!(state.active, None);
        state.disconnected();
        state.apply(hello_member_of(vec![room(1, "a"), room(2, "b")], &[2]));
        state.apply(joined(2, "b", vec![]));
        assert_eq!(state.active, None, "the reconnect leaves nothing open");
    }

    #[test]
    fn a_reconnect_keeps_the_open_room() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a"), room(2, "b")]));
        state.apply(joined(1, "a", vec![]));
        state.apply(joined(2, "b", vec![]));
        state.open(RoomId(2));
        state.disconnected();
        state.apply(hello(vec![room(1, "a"), room(2, "b")]));
        state.apply(joined(1, "a", vec![]));
        state.apply(joined(2, "b", vec![]));
        assert_eq!(state.active, Some(RoomId(2)));
    }

    #[test]
    fn a_join_from_another_tab_does_not_switch_rooms() {
        let mut state = ChatState::default();
        let rooms = vec![room(1, "a"), room(2, "b"), room(3, "c")];
        state.apply(hello_member_of(rooms, &[1]));
        state.apply(joined(1, "a", vec![]));
        assert_eq!(state.active, Some(RoomId(1)));
        // Another tab of the same user joins b: this tab is told, and stays in a.
        state.apply(joined(2, "b", vec![]));
        assert_eq!(state.active, Some(RoomId(1)));
        assert!(state.joined.contains_key(&RoomId(2)));
        // With nothing open, a join elsewhere opens nothing here either.
        state.apply(ServerEvent::Left {
            request_id: None,
            room_id: RoomId(1),
            reason: LeftReason::Left,
        });
        state.apply(joined(3, "c", vec![]));
        assert_eq!(state.active, None);
    }

    #[test]
    fn messages_filling_a_hole_count_as_unread() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a"), room(2, "b")]));
        state.apply(joined(1, "a", messages(1, 1..=3)));
        state.apply(joined(2, "b", messages(2, 1..=3)));
        assert_eq!(state.active, Some(RoomId(1)));
        assert_eq!(state.counts(RoomId(2)).unread, 0, "read before: not new");
        for room in [1, 2] {
            state.apply(ServerEvent::Message {
                message: message(room, 6, "m6"),
            });
        }
        // The fill brings 4 and 5, and 3 again, and one of the user's own.
        let page = |room| {
            let mut page = messages(room, 3..=5);
            page[2].author = member(1, "alice");
            ServerEvent::Missed {
                request_id: RequestId(99),
                room_id: RoomId(room),
                messages: page,
            }
        };
        state.apply(page(1));
        state.apply(page(2));
        for room in [1, 2] {
            assert_eq!(
                state.counts(RoomId(room)).unread,
                2,
                "6 live, 4 filled; not 3 (held) nor 5 (own)"
            );
        }
    }

    #[test]
    fn a_reconnect_takes_the_servers_count_and_adds_nothing_twice() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a"), room(2, "b")]));
        state.apply(joined(1, "a", messages(1, 101..=103)));
        state.apply(joined(2, "b", messages(2, 101..=103)));
        state.disconnected();
        state.apply(hello(vec![room(1, "a"), room(2, "b")]));
        // 150 more went by in each room; the rejoin brings the last 50 and the server's
        // count of all 150, the hole the rest.
        state.apply(joined(1, "a", messages(1, 204..=253)));
        let read = read_state(2, 103, 253, 150, 0);
        state.apply(joined_unread(2, "b", messages(2, 204..=253), read));
        assert_eq!(state.counts(RoomId(2)).unread, 150);
        fill_holes(
            &mut state,
            &[messages(1, 1..=253), messages(2, 1..=253)].concat(),
        );
        assert_eq!(state.counts(RoomId(2)).unread, 150, "nothing counted twice");
        assert_eq!(state.counts(RoomId(1)).unread, 0, "read up to 253");
        // Scrolling back is reading the past: older pages never count.
        let ask = state.load_older(RoomId(2));
        state.apply(ServerEvent::History {
            request_id: ask.map_or(RequestId(0), |ask| ask.request_id()),
            room_id: RoomId(2),
            messages: messages(2, 51..=100),
            complete: false,
        });
        assert_eq!(bodies(&state, 2).len(), 203);
        assert_eq!(state.counts(RoomId(2)).unread, 150);
    }

    /// A direct conversation with `others` (ids 2, 3, …) as the server sends it.
    fn direct(id: i64, others: &[(i64, &str)], request_id: Option<RequestId>) -> ServerEvent {
        let mut members = vec![member(1, "alice")];
        members.extend(others.iter().map(|&(id, name)| member(id, name)));
        ServerEvent::Joined {
            request_id,
            room: RoomInfo {
                kind: RoomKind::Direct,
                title: String::new(),
                ..room(id, "")
            },
            members,
            recent: vec![],
            read: read_state(id, 0, 0, 0, 0),
            online: vec![],
        }
    }

    #[test]
    fn direct_conversations_are_named_after_the_others_and_found_again_here() {
        let mut state = ChatState::new("p".into());
        state.apply(hello(vec![room(1, "a")]));
        state.apply(direct(7, &[(2, "bob"), (3, "cy")], None));
        state.apply(direct(8, &[], None));
        assert_eq!(state.display_title(RoomId(7)), "bob, cy");
        assert_eq!(state.display_title(RoomId(8)), "Notes to self");
        assert!(
            state
                .my_rooms()
                .iter()
                .all(|room| room.kind != RoomKind::Direct)
        );
        // Newest first; a conversation with no messages yet counts as newest.
        state.apply(ServerEvent::Message {
            message: message(7, 1, "hi"),
        });
        assert_eq!(state.direct_rooms(), vec![RoomId(8), RoomId(7)]);
        // Asking for one this tab holds opens it without asking the server.
        assert_eq!(state.open_direct(vec![UserId(3), UserId(2)]), None);
        assert_eq!(state.active, Some(RoomId(7)));
        // A new set of people asks the server, and the answer opens it.
        let Some(ClientCommand::OpenDirect { request_id, with }) =
            state.open_direct(vec![UserId(4)])
        else {
            panic!("asks the server");
        };
        assert_eq!(with, vec![UserId(4)]);
        state.apply(direct(9, &[(4, "dan")], Some(request_id)));
        assert_eq!(state.active, Some(RoomId(9)));
    }

    #[test]
    fn removal_from_a_private_room_drops_it_from_the_list() {
        let mut state = ChatState::new("p".into());
        let closed = RoomInfo {
            kind: RoomKind::Closed,
            ..room(5, "Plans")
        };
        state.apply(hello(vec![closed.clone()]));
        state.apply(ServerEvent::Joined {
            request_id: None,
            room: closed,
            members: vec![member(1, "alice")],
            recent: vec![],
            read: read_state(5, 0, 0, 0, 0),
            online: vec![],
        });
        state.apply(ServerEvent::Left {
            request_id: None,
            room_id: RoomId(5),
            reason: LeftReason::Removed,
        });
        assert!(state.rooms.is_empty());
        assert!(
            state
                .alert
                .as_ref()
                .unwrap()
                .text
                .contains("removed from Plans")
        );
    }

    #[test]
    fn only_live_messages_in_the_open_room_are_announced() {
        let mut state = ChatState::new("p".into());
        state.apply(hello(vec![room(1, "a"), room(2, "b")]));
        state.apply(joined(1, "a", messages(1, 1..=3)));
        state.apply(joined(2, "b", vec![]));
        assert_eq!(state.active, Some(RoomId(1)));
        assert_eq!(state.announcement, None, "loaded history is not read out");
        state.apply(ServerEvent::Message {
            message: message(2, 1, "elsewhere"),
        });
        assert_eq!(state.announcement, None);
        state.apply(ServerEvent::Message {
            message: message(1, 4, "here"),
        });
        assert_eq!(state.announcement.as_deref(), Some("bob: here"));
    }
}
