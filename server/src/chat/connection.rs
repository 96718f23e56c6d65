//! A socket's life as the domain sees it: the hook run when one opens (register with the hub,
//! read the user's standing, build the greeting) and the one run when it closes. Whatever must
//! happen per connection (presence) belongs here, not in the transport.

use crate::chat::access::{self, Action};
use crate::chat::events;
use crate::chat::facts::viewer_of;
use crate::chat::membership::{self, SettleError, room_snapshot};
use crate::config::RoomCreation;
use crate::db::rooms::Room;
use crate::db::users::User;
use crate::fanout::envelope::{CloseReason, SessionKey};
use crate::fanout::hub::Registration;
use crate::pause::Point;
use crate::state::AppState;
use protocol::{PROTOCOL_VERSION, RoomId, ServerEvent, UserId};
use sea_orm::DbErr;

/// An open socket: its hub registration, and the events it must send first, in order.
pub struct Opened {
    pub registration: Registration,
    pub greeting: Vec<ServerEvent>,
}

/// Opens a socket of `user`: registers it, makes sure this node hears the user's events, reads
/// their standing (every room they may read) into the hub, and builds `hello` plus one `joined`
/// per membership. Ending `session` closes the socket. Refused with the reason to close the
/// socket with.
pub async fn open(
    state: &AppState,
    user: UserId,
    session: SessionKey,
) -> Result<Opened, CloseReason> {
    // Registered and listening before the standing is read: a change committed after the read
    // is then heard and applied on top of it (see `membership::settle`), and a message posted
    // meanwhile is queued (maybe also in `recent`; clients drop the duplicate by seq).
    state.pauses.at(Point::SocketAccepted).await;
    let cap = state.config.max_sockets_per_user;
    let registration = state.hub.register(user, session.clone(), cap)?;
    state.broker.listen(user, &[]).await;
    match greet(state, user, &session).await {
        Ok((greeting, rooms)) => {
            if registration.first_here {
                state.presence.first_socket_opened(user).await;
                events::presence(state, user, rooms, true).await;
            }
            Ok(Opened {
                registration,
                greeting,
            })
        }
        Err(reason) => {
            close(state, user, registration.id).await;
            Err(reason)
        }
    }
}

/// The socket with this registration id closed: the last of the user's here may take them
/// offline.
pub async fn close(state: &AppState, user: UserId, socket: u64) {
    if let Some(rooms) = state.hub.unregister(user, socket)
        && state.presence.last_socket_closed(user).await
    {
        events::presence(state, user, rooms, false).await;
    }
}

/// The greeting, and the rooms the user is in.
async fn greet(
    state: &AppState,
    user: UserId,
    session: &str,
) -> Result<(Vec<ServerEvent>, Vec<RoomId>), CloseReason> {
    let settled =
        match membership::settle(state, user, Some(session), Some(Point::SocketRead)).await {
            Ok(settled) => settled,
            Err(SettleError::Gone) => return Err(CloseReason::SessionEnded),
            Err(SettleError::Busy) => return Err(CloseReason::Overloaded),
            Err(SettleError::Db(err)) => {
                tracing::error!(%err, "could not open socket");
                return Err(CloseReason::ServerError);
            }
        };
    let room_ids: Vec<RoomId> = settled.rooms.iter().map(Room::id).collect();
    state.broker.listen(user, &room_ids).await;
    let events = greeting(state, &settled.user, &settled.rooms)
        .await
        .map_err(|err| {
            tracing::error!(%err, "could not open socket");
            CloseReason::ServerError
        })?;
    Ok((events, room_ids))
}

/// `hello` plus one `joined` per membership, in the order the client must see them.
async fn greeting(state: &AppState, user: &User, mine: &[Room]) -> Result<Vec<ServerEvent>, DbErr> {
    let viewer = viewer_of(user);
    // The rooms everyone sees, already encoded, and the user's own others (they are in them).
    let public_rooms = state.reads.public_rooms(&state.db).await?;
    let private_rooms = mine
        .iter()
        .filter(|room| !access::listed_to_everyone(room.kind()))
        .filter(|room| access::decide(viewer, room.kind(), true, Action::List).is_ok())
        .map(Room::info)
        .collect();
    // Reopened only while still readable: a room left or lost meanwhile is not.
    let last_room = user
        .last_room_id
        .map(RoomId)
        .filter(|last| mine.iter().any(|room| room.id() == *last));
    let mut joined = Vec::with_capacity(mine.len());
    let mut reads = state.reads.read_states(&state.db, UserId(user.id)).await?;
    for room in mine {
        let (members, recent) = room_snapshot(state, room.id()).await?;
        let read = match reads.iter().position(|read| read.room_id == room.id()) {
            Some(at) => reads.swap_remove(at),
            None => membership::caught_up(room.id(), &recent),
        };
        joined.push(ServerEvent::Joined {
            request_id: None,
            room: room.info(),
            online: state.presence.online_members(&members),
            members,
            recent,
            read,
        });
    }
    let mut events = vec![ServerEvent::Hello {
        protocol_version: PROTOCOL_VERSION,
        user: user.summary(),
        rooms: public_rooms,
        private_rooms,
        memberships: mine.iter().map(Room::id).collect(),
        may_create_rooms: user.is_admin || state.config.room_creation == RoomCreation::Everyone,
        last_room,
    }];
    events.extend(joined);
    Ok(events)
}
