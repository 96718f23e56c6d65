//! "Someone is typing": passed on to the room's other members, never stored, never queued for a
//! socket that is behind, and limited per user. A typing notice over the limit is dropped
//! silently: it is news, and the next one a moment later says the same.

use crate::chat::access::Action;
use crate::chat::events;
use crate::chat::refusal::{Refusal, check};
use crate::state::AppState;
use protocol::{RoomId, ServerEvent, UserSummary};

pub async fn typing(
    state: &AppState,
    user: &UserSummary,
    room: RoomId,
) -> Result<Option<ServerEvent>, Refusal> {
    if !state.command_limits.typing(user.id) {
        state.metrics.limited("typing");
        return Ok(None);
    }
    // Only someone who may post here is typing here.
    if state.hub.decide(user.id, room, Action::Send) != Some(Ok(())) {
        check(state, user.id, room, Action::Send).await?;
    }
    events::typing(state, room, user.member()).await;
    Ok(None)
}
