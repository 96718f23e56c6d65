//! Who is in which room, and keeping every node's hub in step with the database.
//!
//! Membership changes are decided and stored under locks (the room's row, then the user's), so
//! a join cannot slip past a room turning staff-only, nor a room's kind change past a user
//! losing staff: the database always holds only memberships [`access::decide`] allows. Each
//! change is then published (`events`), and every hub applies it.
//!
//! Publication order across nodes and tasks is not commit order, so a hub may apply a join after
//! the removal that undid it. The hub therefore asks, after every join or kind change it
//! applies, for that user's standing to be read again ([`spawn_resettler`]), and a socket's
//! opening reads its standing the same way ([`settle`]): read, then hand to the hub unless a
//! control arrived meanwhile, else read again.

use crate::chat::access::{self, Action, Denied, RoomKind, Viewer};
use crate::chat::events::{self, Joining};
use crate::chat::facts::{kind_of, viewer_of};
use crate::chat::refusal::{Refusal, UNKNOWN_ROOM, denied};
use crate::db::read_state;
use crate::db::rooms::{self, Room};
use crate::db::users::{self, User};
use crate::fanout::envelope::CloseReason;
use crate::fanout::hub::Standing;
use crate::pause::Point;
use crate::state::AppState;
use protocol::{
    ChatMessage, ErrorCode, LeftReason, Member, ReadState, RequestId, RoomId, ServerEvent, UserId,
    UserSummary,
};
use sea_orm::{DbErr, TransactionTrait};

/// How often a socket's opening reads its standing again when controls keep arriving during
/// the read; past this it gives up (and the socket is closed, to reconnect).
const SETTLE_TRIES: usize = 20;

/// What a socket's opening learned: the user as stored now, and the rooms they are in and may
/// read.
pub struct Settled {
    pub user: User,
    pub rooms: Vec<Room>,
}

/// Why [`settle`] has no answer.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    /// The account is gone or disabled.
    #[error("account gone or disabled")]
    Gone,
    /// Controls kept arriving while the standing was read.
    #[error("membership kept changing while it was read")]
    Busy,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Reads `user`'s standing from the database and makes it this node's hub's view, reading again
/// if a control was applied meanwhile. For a socket opening, `session` is the one it rides on:
/// ended meanwhile (its `SessionsEnded` came before the socket registered, and missed it), the
/// socket must not open. `pause` is a test's hold point between read and hand-over.
pub async fn settle(
    state: &AppState,
    user: UserId,
    session: Option<&str>,
    pause: Option<Point>,
) -> Result<Settled, SettleError> {
    for _ in 0..SETTLE_TRIES {
        let epoch = state.hub.epoch(user);
        // With a session, one query reads the user through it: gone if it ended meanwhile.
        let fresh = match session {
            Some(session) => state
                .reads
                .user_of_session(&state.db, session)
                .await?
                .filter(|fresh| fresh.id == user.0),
            None => users::find_by_id(&state.db, user)
                .await?
                .filter(|fresh| !fresh.disabled),
        }
        .ok_or(SettleError::Gone)?;
        let viewer = viewer_of(&fresh);
        let readable: Vec<Room> = state
            .reads
            .rooms_of(&state.db, user)
            .await?
            .into_iter()
            .filter(|room| access::decide(viewer, kind_of(room), true, Action::Read).is_ok())
            .collect();
        if let Some(point) = pause {
            state.pauses.at(point).await;
        }
        let standing = Standing {
            viewer,
            rooms: readable
                .iter()
                .map(|room| (room.id(), kind_of(room)))
                .collect(),
        };
        if state.hub.settle(user, &standing, epoch) {
            return Ok(Settled {
                user: fresh,
                rooms: readable,
            });
        }
    }
    Err(SettleError::Busy)
}

/// Reads again the standing of every user the hub asks about (after joins and kind changes it
/// applied), for as long as the server runs.
pub fn spawn_resettler(state: AppState) {
    let (requests, mut asked) = tokio::sync::mpsc::unbounded_channel();
    state.hub.on_resettle(requests);
    tokio::spawn(async move {
        while let Some(first) = asked.recv().await {
            // A burst of joins asks for the same users many times: read each once.
            let mut users = vec![first];
            while let Ok(more) = asked.try_recv() {
                if !users.contains(&more) {
                    users.push(more);
                }
            }
            for user in users {
                match settle(&state, user, None, None).await {
                    Ok(_) | Err(SettleError::Gone) => {}
                    Err(err) => {
                        // The hub may hold a membership the database no longer grants: rather
                        // than risk it, this node's sockets of the user reconnect and settle.
                        tracing::warn!(%err, %user, "could not re-read a user's rooms");
                        state.hub.close_user(user, CloseReason::Resync);
                    }
                }
            }
        }
    });
}

/// Why a join was refused.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("no such room")]
    UnknownRoom,
    #[error("refused: {0:?}")]
    Denied(Denied),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A join that went through: the room, and whether the user was newly added (`false`: they
/// were a member already, say from another tab).
pub struct Joined {
    pub room: Room,
    pub added: bool,
}

/// Decides and stores `user` joining `room`, under the room's and the user's locks.
pub async fn join(state: &AppState, user: UserId, room: RoomId) -> Result<Joined, JoinError> {
    // A cheap look first, so a join of a room that does not exist takes no lock.
    if rooms::find(&state.db, room).await?.is_none() {
        return Err(JoinError::UnknownRoom);
    }
    state.pauses.at(Point::JoinLookedUp).await;
    let txn = state.db.begin().await?;
    let Some(locked) = rooms::lock(&txn, room).await? else {
        return Err(JoinError::UnknownRoom);
    };
    let Some(fresh) = users::lock(&txn, user).await? else {
        return Err(JoinError::Denied(Denied::NotMember));
    };
    // A member asking again (another tab) is already in: for a private room, that is the
    // only join there is.
    let member = rooms::is_member(&txn, room, user).await?;
    access::decide(viewer_of(&fresh), kind_of(&locked), member, Action::Join)
        .map_err(JoinError::Denied)?;
    let added = rooms::add_member(&txn, &locked, user).await?;
    txn.commit().await?;
    Ok(Joined {
        room: locked,
        added,
    })
}

/// Changes a room's kind (the caller has decided the change is allowed). Members the new kind
/// no longer admits are removed in the same transaction; they are told (and every hub drops
/// them) before anyone hears of the new kind. The room as changed; `None` when it does not
/// exist.
pub async fn set_kind(
    state: &AppState,
    room: RoomId,
    kind: RoomKind,
) -> Result<Option<Room>, DbErr> {
    let txn = state.db.begin().await?;
    let Some(before) = rooms::lock(&txn, room).await? else {
        return Ok(None);
    };
    let Some(changed) = rooms::set_kind(&txn, room, kind).await? else {
        return Ok(None);
    };
    // Locked too: a staff flag changing at the same moment is then either seen here, or sees
    // this room's new kind when it removes its own memberships.
    let members = rooms::lock_members(&txn, room).await?;
    let shut_out: Vec<User> = members
        .into_iter()
        .filter(|member| {
            access::decide(viewer_of(member), kind_of(&changed), true, Action::Read).is_err()
        })
        .collect();
    let ids: Vec<UserId> = shut_out.iter().map(|user| UserId(user.id)).collect();
    rooms::remove_members(&txn, room, &ids).await?;
    txn.commit().await?;
    state.pauses.at(Point::KindChangeCommitted).await;
    for member in &shut_out {
        events::member_left(state, member.member(), room, None, LeftReason::StaffOnly).await;
    }
    events::room_updated(state, changed.info(), kind_of(&before)).await;
    Ok(Some(changed))
}

/// Grants or revokes staff. Revoking removes the user from every staff-only room in the same
/// transaction; every hub stops delivering those rooms to them at once, and they are told.
/// `false` when no such user exists.
pub async fn set_staff(state: &AppState, user: UserId, is_staff: bool) -> Result<bool, DbErr> {
    let txn = state.db.begin().await?;
    if !users::set_flag(&txn, user, users::Flag::Staff, is_staff).await? {
        return Ok(false);
    }
    let left = if is_staff {
        Vec::new()
    } else {
        rooms::remove_from_staff_rooms(&txn, user).await?
    };
    let stored = users::find_by_id(&txn, user).await?;
    txn.commit().await?;
    events::user_staff_changed(state, user, is_staff).await;
    if let Some(stored) = stored {
        for room in left {
            events::member_left(state, stored.member(), room, None, LeftReason::StaffOnly).await;
        }
    }
    Ok(true)
}

/// The `join` command: rate-limited, decided by [`join`], told to every tab of the user (or,
/// for a member already, to this socket alone).
pub async fn join_room(
    state: &AppState,
    user: &UserSummary,
    room_id: RoomId,
    request_id: RequestId,
) -> Result<Option<ServerEvent>, Refusal> {
    if !state.command_limits.membership(user.id) {
        return Err(Refusal(
            ErrorCode::RateLimited,
            "Joining too fast; wait a moment.",
        ));
    }
    let joined = match join(state, user.id, room_id).await {
        Ok(joined) => joined,
        Err(JoinError::UnknownRoom) => return Err(UNKNOWN_ROOM),
        Err(JoinError::Denied(refused)) => return Err(denied(refused)),
        Err(JoinError::Db(err)) => return Err(err.into()),
    };
    state.broker.listen(user.id, &[room_id]).await;
    let (members, recent) = room_snapshot(state, room_id).await?;
    let read = read_of(state, user.id, room_id, &recent).await?;
    let room = joined.room.info();
    let joining = Joining {
        request_id: Some(request_id),
        room,
        online: state.presence.online_members(&members),
        members,
        recent,
        read,
    };
    if joined.added {
        events::member_joined(state, user.member(), joining).await;
        Ok(None)
    } else {
        // Already a member (say, from another tab): just this socket needs the room.
        Ok(Some(joining.event()))
    }
}

pub async fn leave_room(
    state: &AppState,
    user: &UserSummary,
    room_id: RoomId,
    request_id: RequestId,
) -> Result<Option<ServerEvent>, Refusal> {
    if !state.command_limits.membership(user.id) {
        return Err(Refusal(
            ErrorCode::RateLimited,
            "Leaving too fast; wait a moment.",
        ));
    }
    let (room, member) = rooms::membership(&state.db, room_id, user.id)
        .await?
        .ok_or(UNKNOWN_ROOM)?;
    // Leaving depends on no flag of the user's, so the socket's own copy of them will do.
    let viewer = Viewer {
        is_staff: user.is_staff,
        is_admin: user.is_admin,
    };
    match access::decide(viewer, kind_of(&room), member, Action::Leave) {
        Ok(()) => {}
        Err(Denied::NotMember) => {
            return Err(Refusal(ErrorCode::NotJoined, "You are not in this room."));
        }
        Err(refused) => return Err(denied(refused)),
    }
    if !rooms::remove_member(&state.db, room_id, user.id).await? {
        return Err(Refusal(ErrorCode::NotJoined, "You are not in this room."));
    }
    let me = user.member();
    events::member_left(state, me, room_id, Some(request_id), LeftReason::Left).await;
    Ok(None)
}

/// Where `user` stands in `room` (as `joined` carries it). Should the membership have ended a
/// moment ago, everything in `recent` counts as read: a `left` is on its way.
pub async fn read_of(
    state: &AppState,
    user: UserId,
    room: RoomId,
    recent: &[ChatMessage],
) -> Result<ReadState, DbErr> {
    let stored = read_state::of(&state.db, user, room).await?;
    Ok(stored.unwrap_or_else(|| caught_up(room, recent)))
}

/// A read state with every message of `recent` read and nothing waiting.
pub fn caught_up(room: RoomId, recent: &[ChatMessage]) -> ReadState {
    let newest = recent.last().map_or(0, |message| message.seq);
    ReadState {
        room_id: room,
        last_read_seq: newest,
        as_of_seq: newest,
        unread: 0,
        mentions: 0,
        notify: None,
    }
}

/// A room's members and latest messages, as `joined` carries them: read after this call, in a
/// read shared with whoever asked for a room meanwhile (see `chat::shared_reads`).
pub async fn room_snapshot(
    state: &AppState,
    room: RoomId,
) -> Result<(Vec<Member>, Vec<ChatMessage>), DbErr> {
    state.reads.snapshot(&state.db, room).await
}
