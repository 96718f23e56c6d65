//! What each command does. Every command is authorized by [`access::decide`]: with facts read
//! fresh from the database (join, history, catch-up, edit, delete), or with the hub's on the hot
//! path (send), which the message writer confirms in the transaction that stores the post.

use super::parse::error;
use crate::chat::access::{self, Action, Denied};
use crate::chat::connection::room_snapshot;
use crate::chat::events;
use crate::chat::membership::{self, JoinError, kind_of, viewer_of};
use crate::db::messages::Posted;
use crate::db::{messages, rooms, users};
use crate::state::AppState;
use protocol::{
    ClientCommand, ErrorCode, LeftReason, MAX_MESSAGE_CHARS, MAX_NONCE_CHARS, MessageId, RequestId,
    RoomId, ServerEvent, UserId, UserSummary,
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
const UNKNOWN_MESSAGE: Refusal = Refusal(ErrorCode::UnknownMessage, "No such message.");
const DELETED: Refusal = Refusal(ErrorCode::Forbidden, "This message was deleted.");

/// The policy's refusal, as the client is told it.
fn denied(denied: Denied) -> Refusal {
    match denied {
        Denied::StaffOnly => STAFF_ONLY,
        Denied::NotMember => Refusal(ErrorCode::NotJoined, "Join the room first."),
        Denied::NotAuthor => Refusal(ErrorCode::Forbidden, "You can only edit your own messages."),
        Denied::NotAuthorOrAdmin => Refusal(
            ErrorCode::Forbidden,
            "Only admins can delete other people's messages.",
        ),
    }
}

/// Asks the policy with facts read fresh from the database: the user's flags, the room's kind,
/// and the membership, all as committed now.
async fn check(
    state: &AppState,
    user: UserId,
    room: RoomId,
    action: Action,
) -> Result<(), Refusal> {
    let (room, member) = rooms::membership(&state.db, room, user)
        .await?
        .ok_or(UNKNOWN_ROOM)?;
    let fresh = users::find_by_id(&state.db, user)
        .await?
        .filter(|fresh| !fresh.disabled)
        .ok_or(Refusal(ErrorCode::Forbidden, "Your account is disabled."))?;
    access::decide(viewer_of(&fresh), kind_of(&room), member, action).map_err(denied)
}

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
    let joined = match membership::join(state, user.id, room_id).await {
        Ok(joined) => joined,
        Err(JoinError::UnknownRoom) => return Err(UNKNOWN_ROOM),
        Err(JoinError::Denied(refused)) => return Err(denied(refused)),
        Err(JoinError::Db(err)) => return Err(err.into()),
    };
    state.broker.listen(user.id, &[room_id]).await;
    let (members, recent) = room_snapshot(state, room_id).await?;
    let room = joined.room.info();
    if joined.added {
        let me = user.member();
        events::member_joined(state, me, room, Some(request_id), members, recent).await;
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
    events::member_left(state, me, room_id, Some(request_id), LeftReason::Left).await;
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

/// The text to store: trimmed, neither empty (nothing visible) nor too long.
fn message_body(body: &str) -> Result<&str, Refusal> {
    let body = body.trim();
    if protocol::text::is_blank(body) {
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
    // The hub's answer is the fast path; when it says no, the database may know better (a join
    // still on its way to this node). The writer checks membership again as it commits.
    if state.hub.decide(user.id, room_id, Action::Send) != Some(Ok(())) {
        check(state, user.id, room_id, Action::Send).await?;
    }
    let author = user.member();
    let Some(posted) = state.messages.post(room_id, &author, body, nonce).await? else {
        // The membership ended before the post committed.
        check(state, user.id, room_id, Action::Send).await?;
        return Err(denied(Denied::NotMember));
    };
    match posted {
        Posted::New(message) => {
            events::message_posted(state, message).await;
            Ok(None)
        }
        // A retry: everyone saw the original; only the retrying client needs it (again).
        Posted::Duplicate(message) => Ok(Some(ServerEvent::Message { message })),
    }
}

/// The author of a standing message the user may `action` on, or the refusal to give.
async fn message_author(
    state: &AppState,
    user: &UserSummary,
    message_id: MessageId,
    action: impl FnOnce(bool) -> Action,
) -> Result<protocol::Member, Refusal> {
    let (message, author) = messages::find(&state.db, message_id)
        .await?
        .ok_or(UNKNOWN_MESSAGE)?;
    let action = action(author.id == user.id);
    match check(state, user.id, RoomId(message.room_id), action).await {
        Ok(()) => {}
        // Someone outside the room learns nothing about its messages, not even that they exist.
        Err(Refusal(ErrorCode::NotJoined | ErrorCode::StaffOnly | ErrorCode::UnknownRoom, _)) => {
            return Err(UNKNOWN_MESSAGE);
        }
        Err(refusal) => return Err(refusal),
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
    let author = message_author(state, user, message_id, |own| Action::Edit { own }).await?;
    let changed = messages::edit(&state.db, message_id, author, body)
        .await?
        .ok_or(DELETED)?;
    events::message_changed(state, changed).await;
    Ok(None)
}

async fn delete(
    state: &AppState,
    user: &UserSummary,
    message_id: MessageId,
) -> Result<Option<ServerEvent>, Refusal> {
    writing_limit(state, user)?;
    let author = message_author(state, user, message_id, |own| Action::Delete { own }).await?;
    let changed = messages::delete(&state.db, message_id, author)
        .await?
        .ok_or(DELETED)?;
    events::message_changed(state, changed).await;
    Ok(None)
}

/// History and catch-up pages share one per-user limit, and the policy's `Read`.
async fn may_read_pages(
    state: &AppState,
    user: &UserSummary,
    room_id: RoomId,
    too_fast: &'static str,
) -> Result<(), Refusal> {
    if !state.command_limits.history(user.id) {
        return Err(Refusal(ErrorCode::RateLimited, too_fast));
    }
    check(state, user.id, room_id, Action::Read).await
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
