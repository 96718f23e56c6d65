//! Conversations people make: rooms users create, direct conversations opened on demand, and
//! what a room's managers change (title, kind, members, the room itself). The socket's
//! commands and the admin area both come here, so a room changed from either reaches every
//! tab the same way.
//!
//! Every function takes the acting user's id and reads them fresh (a disabled account or lost
//! admin right counts at once), asks [`access::decide`] (or [`access::may_create`]), checks
//! its input, and only then stores anything: a refused command stores nothing. Memberships
//! are added under the room's and the added users' locks, as joins are (`membership`), so the
//! database only ever holds memberships the policy allows.

use crate::chat::access::{self, Action};
use crate::chat::events::{self, Joining};
use crate::chat::facts::{created, kind_of, viewer_of};
use crate::chat::membership::{self, room_snapshot};
use crate::chat::refusal::{Refusal, UNKNOWN_ROOM, denied};
use crate::config::RoomCreation;
use crate::db::rooms::{self, Room};
use crate::db::users::{self, User};
use crate::pause::Point;
use crate::state::AppState;
use protocol::{
    ErrorCode, LeftReason, MAX_ADDED_MEMBERS, MAX_DIRECT_MEMBERS, MAX_TITLE_CHARS, Member,
    RequestId, RoomId, RoomKind, ServerEvent, USER_SEARCH_RESULTS, UserId,
};
use sea_orm::{DatabaseTransaction, TransactionTrait};

const UNKNOWN_USER: Refusal = Refusal(ErrorCode::UnknownUser, "No such user.");
const USER_DISABLED: Refusal = Refusal(
    ErrorCode::UserDisabled,
    "That account is disabled; it cannot be added to a conversation.",
);
const DUPLICATE_USER: Refusal =
    Refusal(ErrorCode::DuplicateUser, "The same person is named twice.");
const INVALID_KIND: Refusal = Refusal(
    ErrorCode::InvalidKind,
    "A room can be open or closed (staff-only rooms are made in the admin area).",
);

/// The acting user as stored now; refused when gone or disabled.
async fn actor(state: &AppState, user: UserId) -> Result<User, Refusal> {
    users::find_by_id(&state.db, user)
        .await?
        .filter(|fresh| !fresh.disabled)
        .ok_or(Refusal(ErrorCode::Forbidden, "Your account is disabled."))
}

/// A trimmed title with something visible in it, of at most [`MAX_TITLE_CHARS`] characters.
pub fn valid_title(title: &str) -> Result<&str, Refusal> {
    let title = title.trim();
    if protocol::text::is_blank(title) {
        return Err(Refusal(ErrorCode::EmptyTitle, "A room needs a title."));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(Refusal(
            ErrorCode::TitleTooLong,
            "Room titles are at most 80 characters.",
        ));
    }
    Ok(title)
}

/// `people` with no one named twice and at most `most` of them.
fn distinct(people: &[UserId], most: usize) -> Result<Vec<UserId>, Refusal> {
    let mut seen = Vec::with_capacity(people.len());
    for &person in people {
        if seen.contains(&person) {
            return Err(DUPLICATE_USER);
        }
        seen.push(person);
        if seen.len() > most {
            return Err(Refusal(
                ErrorCode::TooManyMembers,
                "Too many people for one conversation.",
            ));
        }
    }
    Ok(seen)
}

/// Locks these users' rows and returns them in the order named; refused unless each exists
/// and is active.
async fn lock_active(txn: &DatabaseTransaction, people: &[UserId]) -> Result<Vec<User>, Refusal> {
    let found = users::lock_many(txn, people).await?;
    let mut ordered = Vec::with_capacity(people.len());
    for person in people {
        let user = found
            .iter()
            .find(|user| user.id == person.0)
            .ok_or(UNKNOWN_USER)?;
        if user.disabled {
            return Err(USER_DISABLED);
        }
        ordered.push(user.clone());
    }
    Ok(ordered)
}

/// [`lock_active`], and each admitted by the policy to a room of `kind`.
async fn lock_addable(
    txn: &DatabaseTransaction,
    people: &[UserId],
    kind: RoomKind,
) -> Result<Vec<User>, Refusal> {
    let users = lock_active(txn, people).await?;
    for user in &users {
        access::decide(viewer_of(user), kind, false, Action::BeAdded).map_err(denied)?;
    }
    Ok(users)
}

/// Tells each newly added member (every tab, every node) they are in `room`, and — unless
/// the room is `new`, made with all of them in it — its members that they arrived.
/// `requester`'s `joined` carries `request_id`.
async fn announce_added(
    state: &AppState,
    room: &Room,
    added: &[Member],
    requester: Option<(UserId, RequestId)>,
    new: bool,
) -> Result<(), Refusal> {
    if added.is_empty() {
        return Ok(());
    }
    // Stored already: a failure here must not read as a refusal (a retry would store the
    // room twice). The members' next connection brings the room.
    let (members, recent) = match room_snapshot(state, room.id()).await {
        Ok(snapshot) => snapshot,
        Err(err) => {
            tracing::error!(%err, room = %room.id(), "could not announce new members");
            return Ok(());
        }
    };
    // Every `joined` is made before any goes out, and the requester's goes out last: when
    // theirs arrives, the others have been applied on every node (publishes keep their order),
    // so a client may take them as sent.
    let mut joinings = Vec::with_capacity(added.len());
    for member in added {
        let request_id = requester
            .filter(|(user, _)| *user == member.id)
            .map(|(_, request_id)| request_id);
        let read = match membership::read_of(state, member.id, room.id(), &recent).await {
            Ok(read) => read,
            Err(err) => {
                tracing::error!(%err, room = %room.id(), "could not count a new member's unread");
                membership::caught_up(room.id(), &recent)
            }
        };
        let joining = Joining {
            request_id,
            room: room.info(),
            online: state.presence.online_members(&members),
            members: members.clone(),
            recent: recent.clone(),
            read,
        };
        joinings.push((member, joining));
    }
    joinings.sort_by_key(|(member, _)| requester.is_some_and(|(user, _)| user == member.id));
    for (member, joining) in joinings {
        if new {
            events::member_let_in(state, member.id, joining).await;
        } else {
            events::member_joined(state, member.clone(), joining).await;
        }
    }
    Ok(())
}

/// Who creates a room and how it begins.
pub struct NewRoom<'a> {
    pub creator: UserId,
    pub title: &'a str,
    pub kind: RoomKind,
    /// Its first members besides the creator.
    pub members: &'a [UserId],
    /// Whether the creator becomes a member (from the chat page) or not (the admin area).
    pub creator_joins: bool,
    /// The `create_room` command, whose `joined` the creator's tab opens.
    pub request_id: Option<RequestId>,
}

/// Creates a room: checked, stored with its first members in one transaction, then announced.
pub async fn create_room(state: &AppState, new: NewRoom<'_>) -> Result<Room, Refusal> {
    let title = valid_title(new.title)?;
    let creator = actor(state, new.creator).await?;
    let admins_only = state.config.room_creation == RoomCreation::Admins;
    if let Err(refused) = access::may_create(viewer_of(&creator), new.kind, admins_only) {
        let allowed_to_some = matches!(new.kind, RoomKind::Open | RoomKind::Closed);
        return Err(if allowed_to_some && admins_only {
            denied(refused)
        } else {
            INVALID_KIND
        });
    }
    let mut people: Vec<UserId> = new.members.to_vec();
    people.retain(|person| *person != new.creator);
    let people = distinct(&people, MAX_ADDED_MEMBERS)?;
    let txn = state.db.begin().await?;
    let room = rooms::create(&txn, title, new.kind, Some(new.creator)).await?;
    let mut added = lock_addable(&txn, &people, new.kind).await?;
    if new.creator_joins {
        // Locked and read again: a staff flag revoked meanwhile is seen here, or sees this
        // membership when it removes the user's staff-only ones.
        let locked = lock_addable(&txn, &[new.creator], new.kind).await?;
        added.splice(0..0, locked);
    }
    for user in &added {
        rooms::add_member(&txn, &room, UserId(user.id)).await?;
    }
    txn.commit().await?;
    events::room_added(state, room.info()).await;
    let added: Vec<Member> = added.iter().map(User::member).collect();
    let requester = new.request_id.map(|request_id| (new.creator, request_id));
    announce_added(state, &room, &added, requester, true).await?;
    Ok(room)
}

/// Opens the direct conversation between `user` and `with`, creating it if these people have
/// none. Every participant's tabs get `joined` when it is new; otherwise only the asking
/// socket does (the reply).
pub async fn open_direct(
    state: &AppState,
    user: UserId,
    with: &[UserId],
    request_id: RequestId,
) -> Result<Option<ServerEvent>, Refusal> {
    actor(state, user).await?;
    let mut people = distinct(with, MAX_DIRECT_MEMBERS)?;
    if !people.contains(&user) {
        people.push(user);
    }
    if people.len() > MAX_DIRECT_MEMBERS {
        return Err(Refusal(
            ErrorCode::TooManyMembers,
            "A direct conversation holds at most 8 people.",
        ));
    }
    let key = rooms::direct_key(&people);
    let existing = match rooms::find_direct(&state.db, &key).await? {
        Some(room) => Some(room),
        None => {
            state.pauses.at(Point::DirectLookedUp).await;
            create_direct(state, &people, &key, user, request_id).await?
        }
    };
    let Some(room) = existing else {
        // Created just now: every participant's `joined` is on its way.
        return Ok(None);
    };
    let (members, recent) = room_snapshot(state, room.id()).await?;
    let read = membership::read_of(state, user, room.id(), &recent).await?;
    state.broker.listen(user, &[room.id()]).await;
    Ok(Some(ServerEvent::Joined {
        request_id: Some(request_id),
        room: room.info(),
        online: state.presence.online_members(&members),
        members,
        recent,
        read,
    }))
}

/// Stores a direct conversation with its participants and announces it; the one someone else
/// stored first (between the look-up and the insert) when the key is taken, or `None` when
/// this call created it.
async fn create_direct(
    state: &AppState,
    people: &[UserId],
    key: &str,
    user: UserId,
    request_id: RequestId,
) -> Result<Option<Room>, Refusal> {
    let txn = state.db.begin().await?;
    let Some(room) = rooms::create_direct(&txn, key).await? else {
        drop(txn);
        return rooms::find_direct(&state.db, key)
            .await?
            .map(Some)
            .ok_or(UNKNOWN_ROOM);
    };
    let participants = lock_active(&txn, people).await?;
    for person in &participants {
        rooms::add_member(&txn, &room, UserId(person.id)).await?;
    }
    txn.commit().await?;
    let added: Vec<Member> = participants.iter().map(User::member).collect();
    announce_added(state, &room, &added, Some((user, request_id)), true).await?;
    Ok(None)
}

/// The room, if `actor` may manage it, and the actor, both read fresh.
async fn managed(
    state: &AppState,
    actor_id: UserId,
    room: RoomId,
) -> Result<(Room, User), Refusal> {
    let actor = actor(state, actor_id).await?;
    let (room, member) = rooms::membership(&state.db, room, actor_id)
        .await?
        .ok_or(UNKNOWN_ROOM)?;
    let creator = created(&room, actor_id);
    access::decide(
        viewer_of(&actor),
        kind_of(&room),
        member,
        Action::Manage { creator },
    )
    .map_err(denied)?;
    Ok((room, actor))
}

/// Renames a room `actor` manages.
pub async fn rename(
    state: &AppState,
    actor: UserId,
    room: RoomId,
    title: &str,
) -> Result<Room, Refusal> {
    let title = valid_title(title)?;
    managed(state, actor, room).await?;
    // Under the room's lock, so the kind published with the new title is the one committed
    // with it (a kind change cannot slip in between).
    let txn = state.db.begin().await?;
    rooms::lock(&txn, room).await?.ok_or(UNKNOWN_ROOM)?;
    let renamed = rooms::rename(&txn, room, title)
        .await?
        .ok_or(UNKNOWN_ROOM)?;
    txn.commit().await?;
    events::room_updated(state, renamed.info(), kind_of(&renamed)).await;
    Ok(renamed)
}

/// Changes the kind of a room `actor` manages: users switch between open and closed, admins
/// also to and from staff-only; nobody makes a room direct.
pub async fn set_kind(
    state: &AppState,
    actor_id: UserId,
    room: RoomId,
    kind: RoomKind,
) -> Result<Room, Refusal> {
    let (_, actor) = managed(state, actor_id, room).await?;
    match kind {
        RoomKind::Open | RoomKind::Closed => {}
        RoomKind::StaffOnly if actor.is_admin => {}
        RoomKind::StaffOnly | RoomKind::Direct => return Err(INVALID_KIND),
    }
    membership::set_kind(state, room, kind)
        .await?
        .ok_or(UNKNOWN_ROOM)
}

/// Adds people to a room `actor` manages; those already in it are left as they are.
pub async fn add_members(
    state: &AppState,
    actor: UserId,
    room: RoomId,
    people: &[UserId],
) -> Result<(), Refusal> {
    let people = distinct(people, MAX_ADDED_MEMBERS)?;
    managed(state, actor, room).await?;
    let txn = state.db.begin().await?;
    let locked = rooms::lock(&txn, room).await?.ok_or(UNKNOWN_ROOM)?;
    let users = lock_addable(&txn, &people, kind_of(&locked)).await?;
    let mut added = Vec::new();
    for user in &users {
        if rooms::add_member(&txn, &locked, UserId(user.id)).await? {
            added.push(user.member());
        }
    }
    txn.commit().await?;
    announce_added(state, &locked, &added, None, false).await
}

/// Removes someone from a room `actor` manages; their sockets on every node stop receiving it
/// at once, and they are told why.
pub async fn remove_member(
    state: &AppState,
    actor: UserId,
    room: RoomId,
    person: UserId,
) -> Result<(), Refusal> {
    managed(state, actor, room).await?;
    let removed = users::find_by_id(&state.db, person)
        .await?
        .ok_or(UNKNOWN_USER)?;
    if !rooms::remove_member(&state.db, room, person).await? {
        return Err(Refusal(ErrorCode::NotJoined, "They are not in this room."));
    }
    let reason = if person == actor {
        LeftReason::Left
    } else {
        LeftReason::Removed
    };
    events::member_left(state, removed.member(), room, None, reason).await;
    Ok(())
}

/// Deletes a room `actor` manages, with its messages; it disappears from every list at once.
pub async fn delete(state: &AppState, actor: UserId, room: RoomId) -> Result<Room, Refusal> {
    let (found, _) = managed(state, actor, room).await?;
    if !rooms::delete(&state.db, room).await? {
        return Err(UNKNOWN_ROOM);
    }
    events::room_removed(state, room, kind_of(&found)).await;
    Ok(found)
}

/// Active users whose name contains `query`, for pickers.
/// The active users whose name contains `query`, and which of them are online — told only of
/// those who share a room with `searcher`, as presence always is.
pub async fn find_users(
    state: &AppState,
    searcher: UserId,
    query: &str,
) -> Result<(Vec<Member>, Vec<UserId>), Refusal> {
    let query: String = query
        .trim()
        .chars()
        .take(protocol::MAX_USER_QUERY_CHARS)
        .collect();
    let found = users::search(&state.db, &query, USER_SEARCH_RESULTS as u64).await?;
    let found: Vec<Member> = found.iter().map(User::member).collect();
    let ids: Vec<UserId> = found.iter().map(|member| member.id).collect();
    let fellows = rooms::fellows_among(&state.db, searcher, &ids).await?;
    Ok((found, state.presence.online_among(fellows)))
}
