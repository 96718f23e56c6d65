//! What a user has read and wants to hear of: moving their read position, choosing a room's
//! notification level, and remembering the room they have open. Each change is pushed to every
//! tab and device of theirs, so all show the same counts.

use crate::chat::access::Action;
use crate::chat::events;
use crate::chat::refusal::{Refusal, check, denied};
use crate::db::{read_state, users};
use crate::state::AppState;
use protocol::{ErrorCode, NotifyLevel, RoomId, ServerEvent, UserSummary};

/// Read marks, notification levels and room views share one per-user limit.
fn reading_limit(state: &AppState, user: &UserSummary) -> Result<(), Refusal> {
    if state.command_limits.reading(user.id) {
        Ok(())
    } else {
        Err(Refusal(
            ErrorCode::RateLimited,
            "Marking rooms read too fast; wait a moment.",
        ))
    }
}

/// The refusal for a room the user is not a member of: the policy's, so a private room stays
/// unknown to outsiders.
async fn not_member(state: &AppState, user: &UserSummary, room: RoomId) -> Refusal {
    match check(state, user.id, room, Action::Read).await {
        Ok(()) => denied(crate::chat::access::Denied::NotMember),
        Err(refusal) => refusal,
    }
}

/// Pushes the user's standing in `room` to all their tabs.
async fn tell_tabs(state: &AppState, user: &UserSummary, room: RoomId) -> Result<(), Refusal> {
    if let Some(read) = read_state::of(&state.db, user.id, room).await? {
        events::read_changed(state, user.id, read).await;
    }
    Ok(())
}

pub async fn mark_read(
    state: &AppState,
    user: &UserSummary,
    room: RoomId,
    seq: i64,
) -> Result<Option<ServerEvent>, Refusal> {
    reading_limit(state, user)?;
    if !read_state::mark_read(&state.db, user.id, room, seq).await? {
        return Err(not_member(state, user, room).await);
    }
    tell_tabs(state, user, room).await?;
    Ok(None)
}

pub async fn set_notify(
    state: &AppState,
    user: &UserSummary,
    room: RoomId,
    level: Option<NotifyLevel>,
) -> Result<Option<ServerEvent>, Refusal> {
    reading_limit(state, user)?;
    if !read_state::set_notify(&state.db, user.id, room, level).await? {
        return Err(not_member(state, user, room).await);
    }
    tell_tabs(state, user, room).await?;
    Ok(None)
}

pub async fn view_room(
    state: &AppState,
    user: &UserSummary,
    room: RoomId,
) -> Result<Option<ServerEvent>, Refusal> {
    reading_limit(state, user)?;
    if state.hub.decide(user.id, room, Action::Read) != Some(Ok(())) {
        check(state, user.id, room, Action::Read).await?;
    }
    users::set_last_room(&state.db, user.id, room).await?;
    Ok(None)
}
