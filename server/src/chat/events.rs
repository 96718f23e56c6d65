//! What happened, told to whom: one function per kind of happening, each building the
//! envelopes for it (membership changes before the frames that depend on them) and handing
//! them to the broker. WebSocket commands and admin handlers both call these, so a room renamed
//! from the admin page and a message sent from a socket reach clients the same way.

use crate::chat::presence;
use crate::fanout::envelope::{Audience, CloseReason, Control, Envelope, SessionKey};
use crate::state::AppState;
use protocol::{
    ChatMessage, LeftReason, Member, ReadState, RequestId, RoomId, RoomInfo, RoomKind, ServerEvent,
    UserId,
};

/// Who may see a room of `kind` listed (`may_list`), or who may not.
fn listing(room: RoomId, kind: RoomKind, may_list: bool) -> Audience {
    Audience::Listing {
        room,
        kind,
        may_list,
    }
}

/// A room was created: it appears in the lists of those who may see it (for a private room,
/// its members, who hear of it by their `joined` too).
pub async fn room_added(state: &AppState, room: RoomInfo) {
    let audience = listing(room.id, room.kind, true);
    let envelope = Envelope::event(audience, &ServerEvent::RoomAdded { room });
    state.broker.publish(envelope).await;
}

/// A room was renamed or changed kind (from `was`): those who may see it get the room as it
/// is now, and a room turning private leaves the lists of everyone outside it. Members a kind
/// change shuts out must have been told (`member_left`) before: every hub applies envelopes in
/// the order published here.
pub async fn room_updated(state: &AppState, room: RoomInfo, was: RoomKind) {
    let control = Control::RoomChanged { room: room.clone() };
    let (id, kind) = (room.id, room.kind);
    let updated = Envelope::event(listing(id, kind, true), &ServerEvent::RoomUpdated { room });
    state.broker.publish(updated.with_control(control)).await;
    if kind.is_private() && !was.is_private() {
        let removed = ServerEvent::RoomRemoved { room_id: id };
        let envelope = Envelope::event(listing(id, kind, false), &removed);
        state.broker.publish(envelope).await;
    }
}

/// A room of `kind` was deleted: it leaves the lists of those who could see it, then every
/// hub forgets it (told first, while its members are still known for a private room's
/// audience).
pub async fn room_removed(state: &AppState, room_id: RoomId, kind: RoomKind) {
    let removed = ServerEvent::RoomRemoved { room_id };
    let envelope = Envelope::event(listing(room_id, kind, true), &removed);
    state.broker.publish(envelope).await;
    let forget = Control::RoomDeleted { room: room_id };
    state.broker.publish(Envelope::control(forget)).await;
}

/// What a user's `joined` for a room carries.
pub struct Joining {
    /// The command that caused it, for the one socket that sent it.
    pub request_id: Option<RequestId>,
    pub room: RoomInfo,
    pub members: Vec<Member>,
    pub recent: Vec<ChatMessage>,
    pub read: ReadState,
    /// Which of the members are online.
    pub online: Vec<UserId>,
}

impl Joining {
    pub fn event(self) -> ServerEvent {
        ServerEvent::Joined {
            request_id: self.request_id,
            room: self.room,
            members: self.members,
            recent: self.recent,
            read: self.read,
            online: self.online,
        }
    }
}

/// `member` joined a room: all their sockets subscribe and get `joined`; the room's members
/// get a notice.
pub async fn member_joined(state: &AppState, member: Member, joining: Joining) {
    let room_id = joining.room.id;
    member_let_in(state, member.id, joining).await;
    let online = state.presence.is_online(member.id);
    let notice = ServerEvent::MemberJoined {
        room_id,
        member,
        online,
    };
    state
        .broker
        .publish(Envelope::event(Audience::Room(room_id), &notice))
        .await;
}

/// `user` is in a room from now on: all their sockets subscribe and get `joined`, and nobody
/// else is told (the room was just made with them in it).
pub async fn member_let_in(state: &AppState, user: UserId, joining: Joining) {
    let control = Control::Join {
        user,
        room: joining.room.clone(),
    };
    let joined = joining.event();
    state
        .broker
        .publish(Envelope::event(Audience::User(user), &joined).with_control(control))
        .await;
}

/// `member` is no longer in `room`: all their sockets unsubscribe and get `left`; the remaining
/// members get a notice.
pub async fn member_left(
    state: &AppState,
    member: Member,
    room_id: RoomId,
    request_id: Option<RequestId>,
    reason: LeftReason,
) {
    let control = Control::Leave {
        user: member.id,
        room: room_id,
    };
    let left = ServerEvent::Left {
        request_id,
        room_id,
        reason,
    };
    state
        .broker
        .publish(Envelope::event(Audience::User(member.id), &left).with_control(control))
        .await;
    let notice = ServerEvent::MemberLeft { room_id, member };
    state
        .broker
        .publish(Envelope::event(Audience::Room(room_id), &notice))
        .await;
}

pub async fn message_posted(state: &AppState, message: ChatMessage) {
    let audience = Audience::Room(message.room_id);
    let envelope = Envelope::event(audience, &ServerEvent::Message { message });
    state.broker.publish(envelope).await;
}

/// `user`'s read position, counts or notification level in a room changed: every tab of
/// theirs, on every node, hears it.
pub async fn read_changed(state: &AppState, user: UserId, read: ReadState) {
    let envelope = Envelope::event(Audience::User(user), &ServerEvent::ReadChanged { read });
    state.broker.publish(envelope).await;
}

/// `user` is typing in `room`: the room's other members hear it, if they have room for it.
pub async fn typing(state: &AppState, room: RoomId, user: Member) {
    let audience = Audience::Fellows {
        rooms: vec![room],
        except: user.id,
    };
    let event = ServerEvent::Typing {
        room_id: room,
        user,
    };
    state
        .broker
        .publish(Envelope::passing(audience, &event))
        .await;
}

/// `user` came online or went offline: those who share a room with them hear it, and every
/// node notes it (even when the user is in no room).
pub async fn presence(state: &AppState, user: UserId, rooms: Vec<RoomId>, online: bool) {
    let note = Control::Presence { user, online };
    let envelope = presence::news(user, rooms, online).with_control(note);
    state.broker.publish(envelope).await;
}

/// A message was edited or deleted.
pub async fn message_changed(state: &AppState, message: ChatMessage) {
    let audience = Audience::Room(message.room_id);
    let envelope = Envelope::event(audience, &ServerEvent::MessageChanged { message });
    state.broker.publish(envelope).await;
}

pub async fn user_staff_changed(state: &AppState, user: UserId, is_staff: bool) {
    state
        .broker
        .publish(Envelope::control(Control::UserStaff { user, is_staff }))
        .await;
}

/// Closes the user's live sockets opened with `session` (all of them when `None`), on every
/// node, for `reason`: that session, or all of the user's, ended.
pub async fn sessions_ended(
    state: &AppState,
    user: UserId,
    session: Option<SessionKey>,
    reason: CloseReason,
) {
    let control = Control::SessionsEnded {
        user,
        session,
        reason,
    };
    state.broker.publish(Envelope::control(control)).await;
}
