//! The socket's commands, dispatched to the domain (`chat::messages`, `chat::membership`,
//! `chat::conversations`, `chat::reading`, `chat::typing`, `chat::search`),
//! which decides each by the access policy and its limits; a refusal becomes this command's
//! `error` event.

use super::parse::error;
use crate::chat::conversations::{self, NewRoom};
use crate::chat::membership;
use crate::chat::messages;
use crate::chat::reading;
use crate::chat::refusal::Refusal;
use crate::chat::search;
use crate::chat::typing;
use crate::state::AppState;
use protocol::{ClientCommand, ErrorCode, RequestId, ServerEvent, UserSummary};
use std::future::Future;

fn done(request_id: RequestId) -> Option<ServerEvent> {
    Some(ServerEvent::Done { request_id })
}

/// Runs a command that creates or changes a conversation, if the user's membership budget
/// (shared with joins and leaves) allows.
async fn managing(
    state: &AppState,
    user: &UserSummary,
    command: impl Future<Output = Result<Option<ServerEvent>, Refusal>>,
) -> Result<Option<ServerEvent>, Refusal> {
    if !state.command_limits.membership(user.id) {
        return Err(Refusal(
            ErrorCode::RateLimited,
            "Changing rooms too fast; wait a moment.",
        ));
    }
    command.await
}

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
        ClientCommand::CreateRoom {
            title,
            kind,
            members,
            ..
        } => {
            managing(state, user, async {
                let new = NewRoom {
                    creator: user.id,
                    title: &title,
                    kind,
                    members: &members,
                    creator_joins: true,
                    request_id: Some(request_id),
                };
                conversations::create_room(state, new).await.map(|_| None)
            })
            .await
        }
        ClientCommand::OpenDirect { with, .. } => {
            managing(state, user, async {
                conversations::open_direct(state, user.id, &with, request_id).await
            })
            .await
        }
        ClientCommand::RenameRoom { room_id, title, .. } => {
            managing(state, user, async {
                conversations::rename(state, user.id, room_id, &title).await?;
                Ok(done(request_id))
            })
            .await
        }
        ClientCommand::SetRoomKind { room_id, kind, .. } => {
            managing(state, user, async {
                conversations::set_kind(state, user.id, room_id, kind).await?;
                Ok(done(request_id))
            })
            .await
        }
        ClientCommand::AddMembers { room_id, users, .. } => {
            managing(state, user, async {
                conversations::add_members(state, user.id, room_id, &users).await?;
                Ok(done(request_id))
            })
            .await
        }
        ClientCommand::RemoveMember {
            room_id, user_id, ..
        } => {
            managing(state, user, async {
                conversations::remove_member(state, user.id, room_id, user_id).await?;
                Ok(done(request_id))
            })
            .await
        }
        ClientCommand::DeleteRoom { room_id, .. } => {
            managing(state, user, async {
                conversations::delete(state, user.id, room_id).await?;
                Ok(done(request_id))
            })
            .await
        }
        ClientCommand::FindUsers { query, .. } => {
            if state.command_limits.lookup(user.id) {
                conversations::find_users(state, user.id, &query)
                    .await
                    .map(|(users, online)| {
                        Some(ServerEvent::UsersFound {
                            request_id,
                            users,
                            online,
                        })
                    })
            } else {
                Err(Refusal(
                    ErrorCode::RateLimited,
                    "Searching too fast; wait a moment.",
                ))
            }
        }
        ClientCommand::MarkRead { room_id, seq, .. } => {
            reading::mark_read(state, user, room_id, seq).await
        }
        ClientCommand::SetNotify { room_id, level, .. } => {
            reading::set_notify(state, user, room_id, level).await
        }
        ClientCommand::ViewRoom { room_id, .. } => reading::view_room(state, user, room_id).await,
        ClientCommand::Typing { room_id, .. } => typing::typing(state, user, room_id).await,
        ClientCommand::Search {
            query,
            room_id,
            before,
            ..
        } => search::search(state, user, &query, room_id, before, request_id).await,
        ClientCommand::Around { room_id, seq, .. } => {
            messages::around(state, user, room_id, seq, request_id).await
        }
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
