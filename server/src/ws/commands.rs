//! What each command does. Every command is authorized here, against the database where it
//! matters (joining) and against the hub's membership view on the hot path (sending), which the
//! same transactions keep current.

use super::parse::error;
use super::room_snapshot;
use crate::db::messages::Posted;
use crate::db::{messages, rooms, users};
use crate::publish;
use crate::state::AppState;
use protocol::{
    ClientCommand, ErrorCode, LeftReason, MAX_MESSAGE_CHARS, MAX_NONCE_CHARS, MessageId, RequestId,
    RoomId, ServerEvent, UserSummary,
};
use sea_orm::DbErr;

/// A command refused, with the code and text the client gets.
struct Refusal(ErrorCode, &'static str);

impl From<DbErr> for Refusal {
    fn from(err: DbErr) -> Self {
        tracing::error!(%err, "command failed");
        Refusal(ErrorCode::Internal, "Server error; try again.")
    }
}

/// Runs one command; returns the reply for this socket alone, if any. Everything others must
/// see goes out through the broker instead.
pub async fn handle(
    state: &AppState,
    user: &UserSummary,
    command: ClientCommand,
) -> Option<ServerEvent> {
    let request_id = command.request_id();
    let outcome = match command {
        ClientCommand::Ping { request_id } => Ok(Some(ServerEvent::Pong { request_id })),
        ClientCommand::Join { room_id, .. } => join(state, user, room_id, request_id).await,
        ClientCommand::Leave { room_id, .. } => leave(state, user, room_id, request_id).await,
        ClientCommand::Send {
            room_id,
            body,
            nonce,
            ..
        } => send(state, user, room_id, &body, &nonce).await,
        ClientCommand::Edit {
            message_id, body, ..
        } => edit(state, user, message_id, &body).await,
        ClientCommand::Delete { message_id, .. } => delete(state, user, message_id).await,
        ClientCommand::History {
            room_id,
            before_seq,
            ..
        } => history(state, user, room_id, before_seq, request_id).await,
        ClientCommand::Missed {
            room_id,
            after_seq,
            before_seq,
            ..
        } => missed(state, user, room_id, after_seq, before_seq, request_id).await,
    };
    match outcome {
        Ok(reply) => reply,
        Err(Refusal(code, message)) => Some(error(Some(request_id), code, message)),
    }
}

const STAFF_ONLY: Refusal = Refusal(ErrorCode::StaffOnly, "This room is for staff only.");
const UNKNOWN_ROOM: Refusal = Refusal(
    ErrorCode::UnknownRoom,
    "No such room; it may have been deleted.",
);

async fn join(
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
    let room = rooms::find(&state.db, room_id).await?.ok_or(UNKNOWN_ROOM)?;
    // The staff flag is read fresh: it may have been revoked since this socket connected.
    let is_staff = users::find_by_id(&state.db, user.id.0)
        .await?
        .is_some_and(|fresh| fresh.is_staff);
    if room.staff_only && !is_staff {
        return Err(STAFF_ONLY);
    }
    let added = rooms::add_member(&state.db, room_id, user.id).await?;
    state.broker.listen(user.id, &[room_id]).await;
    let (members, recent) = room_snapshot(state, room_id).await?;
    let room = room.info();
    if added {
        let me = user.member();
        publish::member_joined(state, me, room, Some(request_id), members, recent).await;
        Ok(None)
    } else {
        // Already a member (say, from another tab): just this socket needs the room.
        Ok(Some(ServerEvent::Joined {
            request_id: Some(request_id),
            room,
            members,
            recent,
        }))
    }
}

async fn leave(
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
    if !rooms::remove_member(&state.db, room_id, user.id).await? {
        return Err(match rooms::find(&state.db, room_id).await? {
            None => UNKNOWN_ROOM,
            Some(_) => Refusal(ErrorCode::NotJoined, "You are not in this room."),
        });
    }
    let me = user.member();
    publish::member_left(state, me, room_id, Some(request_id), LeftReason::Left).await;
    Ok(None)
}

/// Sends, edits and deletes share one rate limit: each writes to the database and reaches
/// every member.
fn writing_limit(state: &AppState, user: &UserSummary) -> Result<(), Refusal> {
    if state.command_limits.send(user.id) {
        Ok(())
    } else {
        Err(Refusal(
            ErrorCode::RateLimited,
            "Sending too fast; wait a moment.",
        ))
    }
}

/// The text to store: trimmed, neither empty nor too long.
fn message_body(body: &str) -> Result<&str, Refusal> {
    let body = body.trim();
    if body.is_empty() {
        return Err(Refusal(
            ErrorCode::EmptyMessage,
            "Empty messages are not sent.",
        ));
    }
    if body.chars().count() > MAX_MESSAGE_CHARS {
        return Err(Refusal(
            ErrorCode::MessageTooLong,
            "Messages are limited to 4000 characters.",
        ));
    }
    Ok(body)
}

async fn send(
    state: &AppState,
    user: &UserSummary,
    room_id: RoomId,
    body: &str,
    nonce: &str,
) -> Result<Option<ServerEvent>, Refusal> {
    writing_limit(state, user)?;
    let body = message_body(body)?;
    if nonce.is_empty() || nonce.chars().count() > MAX_NONCE_CHARS {
        return Err(Refusal(
            ErrorCode::InvalidCommand,
            "A send needs a nonce of 1 to 64 characters.",
        ));
    }
    require_member(state, user, room_id).await?;
    let author = user.member();
    let posted = state
        .messages
        .post(room_id, &author, body, nonce)
        .await?
        .ok_or(UNKNOWN_ROOM)?;
    match posted {
        Posted::New(message) => {
            publish::message_posted(state, message).await;
            Ok(None)
        }
        // A retry: everyone saw the original; only the retrying client needs it (again).
        Posted::Duplicate(message) => Ok(Some(ServerEvent::Message { message })),
    }
}

const DELETED: Refusal = Refusal(ErrorCode::Forbidden, "This message was deleted.");

/// The author of a standing message in a room the user is a member of, or the refusal to give.
async fn member_message(
    state: &AppState,
    user: &UserSummary,
    message_id: MessageId,
) -> Result<protocol::Member, Refusal> {
    const UNKNOWN_MESSAGE: Refusal = Refusal(ErrorCode::UnknownMessage, "No such message.");
    let (message, author) = messages::find(&state.db, message_id)
        .await?
        .ok_or(UNKNOWN_MESSAGE)?;
    // Someone outside the room learns nothing about its messages, not even that they exist.
    if !state.hub.is_member(user.id, RoomId(message.room_id)) {
        return Err(UNKNOWN_MESSAGE);
    }
    if message.deleted_at.is_some() {
        return Err(DELETED);
    }
    Ok(author)
}

async fn edit(
    state: &AppState,
    user: &UserSummary,
    message_id: MessageId,
    body: &str,
) -> Result<Option<ServerEvent>, Refusal> {
    writing_limit(state, user)?;
    let body = message_body(body)?;
    let author = member_message(state, user, message_id).await?;
    if author.id != user.id {
        return Err(Refusal(
            ErrorCode::Forbidden,
            "You can only edit your own messages.",
        ));
    }
    let changed = messages::edit(&state.db, message_id, author, body)
        .await?
        .ok_or(DELETED)?;
    publish::message_changed(state, changed).await;
    Ok(None)
}

async fn delete(
    state: &AppState,
    user: &UserSummary,
    message_id: MessageId,
) -> Result<Option<ServerEvent>, Refusal> {
    writing_limit(state, user)?;
    let author = member_message(state, user, message_id).await?;
    if author.id != user.id {
        // Read fresh: admin rights may have been revoked since this socket connected.
        let is_admin = users::find_by_id(&state.db, user.id.0)
            .await?
            .is_some_and(|fresh| fresh.is_admin && !fresh.disabled);
        if !is_admin {
            return Err(Refusal(
                ErrorCode::Forbidden,
                "Only admins can delete other people's messages.",
            ));
        }
    }
    let changed = messages::delete(&state.db, message_id, author)
        .await?
        .ok_or(DELETED)?;
    publish::message_changed(state, changed).await;
    Ok(None)
}

/// Refuses unless the user is a member of the room, with the most precise reason.
async fn require_member(
    state: &AppState,
    user: &UserSummary,
    room_id: RoomId,
) -> Result<(), Refusal> {
    if state.hub.is_member(user.id, room_id) {
        return Ok(());
    }
    Err(match rooms::find(&state.db, room_id).await? {
        None => UNKNOWN_ROOM,
        Some(room) if room.staff_only && !user.is_staff => STAFF_ONLY,
        Some(_) => Refusal(ErrorCode::NotJoined, "Join the room first."),
    })
}

/// History and catch-up pages share one per-user limit and need membership.
async fn may_read_pages(
    state: &AppState,
    user: &UserSummary,
    room_id: RoomId,
    too_fast: &'static str,
) -> Result<(), Refusal> {
    if !state.command_limits.history(user.id) {
        return Err(Refusal(ErrorCode::RateLimited, too_fast));
    }
    require_member(state, user, room_id).await
}

async fn history(
    state: &AppState,
    user: &UserSummary,
    room_id: RoomId,
    before_seq: i64,
    request_id: RequestId,
) -> Result<Option<ServerEvent>, Refusal> {
    may_read_pages(
        state,
        user,
        room_id,
        "Loading history too fast; wait a moment.",
    )
    .await?;
    let (messages, complete) = messages::before(
        &state.db,
        room_id,
        before_seq,
        protocol::HISTORY_PAGE as u64,
    )
    .await?;
    Ok(Some(ServerEvent::History {
        request_id,
        room_id,
        messages,
        complete,
    }))
}

async fn missed(
    state: &AppState,
    user: &UserSummary,
    room_id: RoomId,
    after_seq: i64,
    before_seq: Option<i64>,
    request_id: RequestId,
) -> Result<Option<ServerEvent>, Refusal> {
    may_read_pages(state, user, room_id, "Catching up too fast; wait a moment.").await?;
    let page = protocol::HISTORY_PAGE as u64;
    let messages = messages::after(&state.db, room_id, after_seq, before_seq, page).await?;
    Ok(Some(ServerEvent::Missed {
        request_id,
        room_id,
        messages,
    }))
}
