//! The socket's commands, dispatched to the domain (`chat::messages`, `chat::membership`),
//! which decides each by the access policy and its limits; a refusal becomes this command's
//! `error` event.

use super::parse::error;
use crate::chat::membership;
use crate::chat::messages;
use crate::chat::refusal::Refusal;
use crate::state::AppState;
use protocol::{ClientCommand, ErrorCode, ServerEvent, UserSummary};

/// Runs one command; returns the reply for this socket alone, if any. Everything others must
/// see goes out through the broker instead.
pub async fn handle(
    state: &AppState,
    user: &UserSummary,
    command: ClientCommand,
) -> Option<ServerEvent> {
    let request_id = command.request_id();
    let kind = command.type_name();
    let outcome = match command {
        ClientCommand::Ping { request_id } => Ok(Some(ServerEvent::Pong { request_id })),
        ClientCommand::Join { room_id, .. } => {
            membership::join_room(state, user, room_id, request_id).await
        }
        ClientCommand::Leave { room_id, .. } => {
            membership::leave_room(state, user, room_id, request_id).await
        }
        ClientCommand::Send {
            room_id,
            body,
            nonce,
            ..
        } => messages::send(state, user, room_id, &body, &nonce).await,
        ClientCommand::Edit {
            message_id, body, ..
        } => messages::edit(state, user, message_id, &body).await,
        ClientCommand::Delete { message_id, .. } => messages::delete(state, user, message_id).await,
        ClientCommand::History {
            room_id,
            before_seq,
            ..
        } => messages::history(state, user, room_id, before_seq, request_id).await,
        ClientCommand::Missed {
            room_id,
            after_seq,
            before_seq,
            ..
        } => messages::missed(state, user, room_id, after_seq, before_seq, request_id).await,
    };
    match outcome {
        Ok(reply) => {
            state.metrics.command(kind, "ok");
            reply
        }
        Err(Refusal(code, message)) => {
            state.metrics.command(kind, code.as_str());
            if code == ErrorCode::RateLimited {
                state.metrics.limited(kind);
            }
            Some(error(Some(request_id), code, message))
        }
    }
}
