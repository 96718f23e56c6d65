//! Posting, editing, deleting and reading messages: each command's rules (rate limits, text,
//! the access policy) and what it tells whom. The socket transport (`ws::commands`) only
//! dispatches to these.

use crate::chat::access::{Action, Denied};
use crate::chat::events;
use crate::chat::refusal::{DELETED, Refusal, UNKNOWN_MESSAGE, check, denied};
use crate::db::message_writer::Posted;
use crate::db::messages;
use crate::state::AppState;
use protocol::{
    ErrorCode, MAX_MESSAGE_CHARS, MAX_NONCE_CHARS, MessageId, RequestId, RoomId, ServerEvent,
    UserSummary,
};

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

pub async fn send(
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

/// The room and author of a standing message the user may `action` on, or the refusal to
/// give.
async fn message_author(
    state: &AppState,
    user: &UserSummary,
    message_id: MessageId,
    action: impl FnOnce(bool) -> Action,
) -> Result<(RoomId, protocol::Member), Refusal> {
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
    Ok((RoomId(message.room_id), author))
}

pub async fn edit(
    state: &AppState,
    user: &UserSummary,
    message_id: MessageId,
    body: &str,
) -> Result<Option<ServerEvent>, Refusal> {
    writing_limit(state, user)?;
    let body = message_body(body)?;
    let (room, author) =
        message_author(state, user, message_id, |own| Action::Edit { own }).await?;
    let mentions = messages::resolve_mentions(&state.db, room, body).await?;
    let changed = messages::edit(&state.db, message_id, author, body, &mentions)
        .await?
        .ok_or(DELETED)?;
    events::message_changed(state, changed).await;
    Ok(None)
}

pub async fn delete(
    state: &AppState,
    user: &UserSummary,
    message_id: MessageId,
) -> Result<Option<ServerEvent>, Refusal> {
    writing_limit(state, user)?;
    let (_, author) = message_author(state, user, message_id, |own| Action::Delete { own }).await?;
    let changed = messages::delete(&state.db, message_id, author)
        .await?
        .ok_or(DELETED)?;
    events::message_changed(state, changed).await;
    Ok(None)
}

/// What a user paging through history too fast is told (a page opened around a message is
/// such a page too).
const HISTORY_TOO_FAST: &str = "Loading history too fast; wait a moment.";

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
pub async fn history(
    state: &AppState,
    user: &UserSummary,
    room_id: RoomId,
    before_seq: i64,
    request_id: RequestId,
) -> Result<Option<ServerEvent>, Refusal> {
    may_read_pages(state, user, room_id, HISTORY_TOO_FAST).await?;
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

pub async fn missed(
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

/// The page around `seq`: up to half a page before it, then it and what follows.
pub async fn around(
    state: &AppState,
    user: &UserSummary,
    room_id: RoomId,
    seq: i64,
    request_id: RequestId,
) -> Result<Option<ServerEvent>, Refusal> {
    may_read_pages(state, user, room_id, HISTORY_TOO_FAST).await?;
    let page = protocol::HISTORY_PAGE as u64;
    let (mut messages, beginning) = messages::before(&state.db, room_id, seq, page / 2).await?;
    let from = messages
        .last()
        .map_or(seq.saturating_sub(1), |message| message.seq);
    let rest = page - messages.len() as u64;
    messages.extend(messages::after(&state.db, room_id, from, None, rest).await?);
    Ok(Some(ServerEvent::Around {
        request_id,
        room_id,
        seq,
        messages,
        beginning,
    }))
}
