//! Test fixtures shared by the chat state's unit tests: rooms, members, messages, the
//! server events that carry them, and a stand-in server answering `missed` requests.

use super::state::ChatState;
use super::timeline::Entry;
use chrono::{TimeZone, Utc};
use protocol::{
    ChatMessage, ClientCommand, Encoded, HISTORY_PAGE, Member, MessageId, ReadState, RoomId,
    RoomInfo, RoomKind, ServerEvent, UserId, UserSummary,
};

pub fn room(id: i64, title: &str) -> RoomInfo {
    RoomInfo {
        id: RoomId(id),
        title: title.into(),
        kind: RoomKind::Open,
        created_by: None,
    }
}

pub fn member(id: i64, name: &str) -> Member {
    Member {
        id: UserId(id),
        username: name.into(),
    }
}

pub fn message(room: i64, seq: i64, body: &str) -> ChatMessage {
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
        mentions: Vec::new(),
    }
}

pub fn messages(room: i64, seqs: std::ops::RangeInclusive<i64>) -> Vec<ChatMessage> {
    seqs.map(|seq| message(room, seq, &format!("m{seq}")))
        .collect()
}

pub fn hello(rooms: Vec<RoomInfo>) -> ServerEvent {
    let memberships = rooms.iter().map(|room| room.id).collect();
    let (private_rooms, public_rooms) = rooms.into_iter().partition(|room| room.kind.is_private());
    ServerEvent::Hello {
        protocol_version: 1,
        user: UserSummary {
            id: UserId(1),
            username: "alice".into(),
            is_admin: false,
            is_staff: false,
        },
        rooms: Encoded::new(public_rooms),
        private_rooms,
        memberships,
        may_create_rooms: true,
        last_room: None,
    }
}

/// A greeting for `rooms`, of which the user is a member of `memberships`.
pub fn hello_member_of(rooms: Vec<RoomInfo>, memberships: &[i64]) -> ServerEvent {
    let ServerEvent::Hello {
        protocol_version,
        user,
        rooms,
        private_rooms,
        ..
    } = hello(rooms)
    else {
        unreachable!("hello() makes a hello");
    };
    ServerEvent::Hello {
        protocol_version,
        user,
        rooms,
        private_rooms,
        memberships: memberships.iter().map(|&id| RoomId(id)).collect(),
        may_create_rooms: true,
        last_room: None,
    }
}

/// Joined with everything in `recent` read.
pub fn joined(id: i64, title: &str, recent: Vec<ChatMessage>) -> ServerEvent {
    let newest = recent.last().map_or(0, |message| message.seq);
    joined_unread(id, title, recent, read_state(id, newest, newest, 0, 0))
}

pub fn joined_unread(
    id: i64,
    title: &str,
    recent: Vec<ChatMessage>,
    read: ReadState,
) -> ServerEvent {
    ServerEvent::Joined {
        request_id: None,
        room: room(id, title),
        members: vec![member(1, "alice")],
        recent,
        read,
        online: Vec::new(),
    }
}

pub fn read_state(room: i64, last_read: i64, as_of: i64, unread: u32, mentions: u32) -> ReadState {
    ReadState {
        room_id: RoomId(room),
        last_read_seq: last_read,
        as_of_seq: as_of,
        unread,
        mentions,
        notify: None,
    }
}

pub fn bodies(state: &ChatState, room: i64) -> Vec<String> {
    state.joined[&RoomId(room)]
        .timeline
        .iter()
        .filter_map(|entry| match entry {
            Entry::Message(m) => Some(m.body.clone()),
            Entry::Notice { .. } => None,
        })
        .collect()
}

/// Answers every `missed` request the state makes from `all`, like the server would.
pub fn fill_holes(state: &mut ChatState, all: &[ChatMessage]) -> usize {
    let mut requests = 0;
    loop {
        let asks = state.follow_ups(0.0);
        if asks.is_empty() {
            return requests;
        }
        for ask in asks {
            if matches!(
                ask,
                ClientCommand::ViewRoom { .. } | ClientCommand::MarkRead { .. }
            ) {
                continue;
            }
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
                .filter(|m| m.room_id == room_id)
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

pub fn mine(seq: i64, body: &str, nonce: &str) -> ChatMessage {
    ChatMessage {
        author: member(1, "alice"),
        nonce: Some(nonce.into()),
        ..message(1, seq, body)
    }
}

/// The (body, nonce) of each `send` among `commands`.
pub fn sent_bodies(commands: Vec<ClientCommand>) -> Vec<(String, String)> {
    commands
        .into_iter()
        .filter_map(|command| match command {
            ClientCommand::Send { body, nonce, .. } => Some((body, nonce)),
            _ => None,
        })
        .collect()
}
